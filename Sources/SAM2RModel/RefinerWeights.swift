// RefinerWeights.swift — the `refiner.{la,pr,mr}.*` weights of docs/refiner.md, loaded (GEMMs packed)
// once, and the input-independent sine position encodings of LA, computed once at load.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct RefinerLALayer {
    let normQ: Norm, normKV: Norm, normFFN: Norm
    let q: Linear, k: Linear, v: Linear, out: Linear
    let fc1: Linear, fc2: Linear

    init(_ src: WeightSource, _ p: String, dim c: Int) throws {
        normQ = try Norm(src, p + ".norm_q", dim: c, eps: 1e-6)
        normKV = try Norm(src, p + ".norm_kv", dim: c, eps: 1e-6)
        normFFN = try Norm(src, p + ".norm_ffn", dim: c, eps: 1e-6)
        q = try Linear(src, p + ".attn.q_proj", out: c, in: c)
        k = try Linear(src, p + ".attn.k_proj", out: c, in: c)
        v = try Linear(src, p + ".attn.v_proj", out: c, in: c)
        out = try Linear(src, p + ".attn.out_proj", out: c, in: c)
        fc1 = try Linear(src, p + ".ffn.fc1", out: 4 * c, in: c)
        fc2 = try Linear(src, p + ".ffn.fc2", out: c, in: 4 * c)
    }
}

/// ResBlock(x) = x + conv2(GELU(norm(conv1(x)))), 3x3 convs with padding 1.
struct RefinerResBlock {
    let conv1: Linear, norm: Norm, conv2: Linear
    init(_ src: WeightSource, _ p: String, width w: Int) throws {
        conv1 = try Linear(conv: src, p + ".conv1", out: w, in: w, kernel: 3)
        norm = try Norm(src, p + ".norm", dim: w, eps: 1e-6)
        conv2 = try Linear(conv: src, p + ".conv2", out: w, in: w, kernel: 3)
    }
}

struct RefinerWeights {
    let config: RefinerConfig
    let dim: Int
    /// Image-embedding side H.
    let side: Int
    let la: [RefinerLALayer]
    /// [H][H][C] sinePE(H) and [2H][2H][C] sinePE(2H), channels-last.
    let peG: [Float]
    let peL: [Float]
    let prFC1: Linear, prFC2: Linear
    let s1Inp: Linear, s1Block: RefinerResBlock, s1Out: Linear
    let s2Loc: Linear, s2Block: RefinerResBlock, s2Out: Linear
    let s3Reduce: Linear, s3Stem: Linear, s3Block: RefinerResBlock, s3Out: Linear

    init(_ src: WeightSource, _ cfg: ModelConfig, _ rc: RefinerConfig) throws {
        config = rc
        let c = cfg.dModel, c8 = c / 8, w = rc.mrWidth, wf = rc.mrWidthFull
        dim = c
        side = cfg.embedSize
        la = try (0..<rc.laLayers).map { try RefinerLALayer(src, "refiner.la.layers.\($0)", dim: c) }
        // A shape-only load (expectedWeights, arena plans) never runs LA: skip the tables.
        let shapesOnly = src is ShapeRecorder
        peG = shapesOnly ? [] : RefinerWeights.sinePE(side, channels: c)
        peL = shapesOnly ? [] : RefinerWeights.sinePE(2 * side, channels: c)
        prFC1 = try Linear(src, "refiner.pr.mlp.fc1", out: c, in: 3 * c)
        prFC2 = try Linear(src, "refiner.pr.mlp.fc2", out: c, in: c)
        let m = "refiner.mr."
        s1Inp = try Linear(conv: src, m + "s1.inp", out: w, in: 3 * c8 + 1, kernel: 1)
        s1Block = try RefinerResBlock(src, m + "s1.block", width: w)
        s1Out = try Linear(conv: src, m + "s1.out", out: 1, in: w, kernel: 1)
        s2Loc = try Linear(conv: src, m + "s2.loc", out: w, in: c8, kernel: 1)
        s2Block = try RefinerResBlock(src, m + "s2.block", width: w)
        s2Out = try Linear(conv: src, m + "s2.out", out: 1, in: w, kernel: 1)
        s3Reduce = try Linear(conv: src, m + "s3.reduce", out: wf, in: w, kernel: 1)
        s3Stem = try Linear(conv: src, m + "s3.stem", out: wf, in: 3, kernel: 3)
        s3Block = try RefinerResBlock(src, m + "s3.block", width: wf)
        s3Out = try Linear(conv: src, m + "s3.out", out: 1, in: wf, kernel: 1)
    }

    /// PositionEmbeddingSine(num_pos_feats: C) of SAM2 (temperature 10000, normalize, scale 2π) on an
    /// n x n map, channels-last: channels [0, C/2) encode y, [C/2, C) encode x; inside a half, channel j
    /// is sin (j even) or cos (j odd) of pos / 10000^(2 floor(j/2) / (C/2)). Computed in fp32 like the
    /// reference (arange / (n + 1e-6) * 2π, then the division by dim_t).
    static func sinePE(_ n: Int, channels c: Int) -> [Float] {
        let half = c / 2
        let scale = Float(2 * Double.pi)
        var dimT = [Float](repeating: 0, count: half)
        for j in 0..<half { dimT[j] = powf(10000, Float(2 * (j / 2)) / Float(half)) }
        var coord = [Float](repeating: 0, count: n)
        for i in 0..<n { coord[i] = Float(i + 1) / (Float(n) + 1e-6) * scale }
        var out = [Float](repeating: 0, count: n * n * c)
        for y in 0..<n {
            for x in 0..<n {
                let o = (y * n + x) * c
                for j in 0..<half {
                    let py = coord[y] / dimT[j], px = coord[x] / dimT[j]
                    out[o + j] = j % 2 == 0 ? sinf(py) : cosf(py)
                    out[o + half + j] = j % 2 == 0 ? sinf(px) : cosf(px)
                }
            }
        }
        return out
    }
}
