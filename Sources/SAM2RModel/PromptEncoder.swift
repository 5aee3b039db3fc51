// PromptEncoder.swift — SAM's prompt encoder: random-Fourier point embeddings (labels -1..3), the
// dense positional encoding of the e x e grid (precomputed at load), the no-mask embedding or the
// mask-input downscaling (conv 2x2/2, LN2d, GELU, conv 2x2/2, LN2d, GELU, conv 1x1).

import SAM2REngine
import SAM2RKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// get_dense_pe(): [e][e][dim], channels-last. With binary16 (int8 models without a refiner,
/// ImageFeatures.skipHalf) also as binary16 bits, which the decoder's folded attentions read: half the bytes
/// of the 4 MB PE they add to the keys three times per prompt at 1024². `f32` then holds the rounded values,
/// so every reader sees the same PE.
struct DensePE {
    let f32: [Float]
    let f16: [UInt16]?

    init(_ pe: [Float], binary16: Bool) {
        guard binary16 else {
            f32 = pe
            f16 = nil
            return
        }
        var bits = [UInt16](repeating: 0, count: pe.count), rounded = pe
        pe.withUnsafeBufferPointer { p in
            bits.withUnsafeMutableBufferPointer { sam2r_f32_to_f16_n(ISA.active.cValue, p.baseAddress, $0.baseAddress, p.count) }
        }
        rounded.withUnsafeMutableBufferPointer { r in
            bits.withUnsafeBufferPointer { sam2r_f16_to_f32_n(ISA.active.cValue, $0.baseAddress, r.baseAddress, r.count) }
        }
        f32 = rounded
        f16 = bits
    }

    /// Runs `body` with the fp32 values and the rows the folded attentions add (binary16 when kept so).
    func withRows<R>(_ body: (UnsafePointer<Float>, AddedRows) throws -> R) rethrows -> R {
        try f32.withUnsafeBufferPointer { p in
            guard let f16 else { return try body(p.baseAddress!, AddedRows(f32: p.baseAddress, f16: nil)) }
            return try f16.withUnsafeBufferPointer { h in try body(p.baseAddress!, AddedRows(f32: nil, f16: h.baseAddress)) }
        }
    }
}

struct PromptEncoderWeights {
    let dim: Int
    let imageSize: Int
    let embedSize: Int
    /// [2][dim/2]
    let gaussian: [Float]
    /// 4 x [dim], labels 0..3.
    let pointEmbeddings: [[Float]]
    let notAPoint: [Float]
    let noMask: [Float]
    let down1: Linear, norm1: Norm
    let down2: Linear, norm2: Norm
    let down3: Linear
    /// The grid's dense PE (get_dense_pe()), binary16 too where the predictor asks (DensePE).
    let densePE: DensePE

    init(_ src: WeightSource, _ cfg: ModelConfig, halfPE: Bool = false) throws {
        let p = "sam_prompt_encoder.", d = cfg.dModel
        dim = d
        imageSize = cfg.imageSize
        embedSize = cfg.embedSize
        gaussian = try src.load(p + "pe_layer.positional_encoding_gaussian_matrix", [2, d / 2])
        pointEmbeddings = try (0..<4).map { try src.load(p + "point_embeddings.\($0).weight", [1, d]) }
        notAPoint = try src.load(p + "not_a_point_embed.weight", [1, d])
        noMask = try src.load(p + "no_mask_embed.weight", [1, d])
        let c2 = cfg.maskInChans, c1 = c2 / 4
        down1 = try Linear(conv: src, p + "mask_downscaling.0", out: c1, in: 1, kernel: 2)
        norm1 = try Norm(src, p + "mask_downscaling.1", dim: c1, eps: 1e-6)
        down2 = try Linear(conv: src, p + "mask_downscaling.3", out: c2, in: c1, kernel: 2)
        norm2 = try Norm(src, p + "mask_downscaling.4", dim: c2, eps: 1e-6)
        down3 = try Linear(conv: src, p + "mask_downscaling.6", out: d, in: c2, kernel: 1)
        let e = cfg.embedSize
        var pe = [Float](repeating: 0, count: e * e * d)
        let gaussian = self.gaussian
        pe.withUnsafeMutableBufferPointer { out in
            for i in 0..<e {
                for j in 0..<e {
                    let x = (Float(j) + 0.5) / Float(e), y = (Float(i) + 0.5) / Float(e)
                    PromptEncoderWeights.fourier(x, y, gaussian, d, into: out, at: (i * e + j) * d)
                }
            }
        }
        densePE = DensePE(pe, binary16: halfPE)
    }

    /// [sin(2π(2c−1)G) | cos(2π(2c−1)G)] for normalized (x, y).
    static func fourier(_ x: Float, _ y: Float, _ g: [Float], _ d: Int, into out: UnsafeMutableBufferPointer<Float>, at o: Int) {
        let half = d / 2
        let cx = 2 * x - 1, cy = 2 * y - 1
        let twoPi = Float(2 * Double.pi)
        for k in 0..<half {
            let v = twoPi * (cx * g[k] + cy * g[half + k])
            out[o + k] = sinf(v)
            out[o + half + k] = cosf(v)
        }
    }

    /// Sparse embeddings of `coords` (model-input pixels, x y interleaved) with `labels` in -1...3.
    /// The sparse tokens of the prompt points into `out` (resized to labels.count x dim, capacity kept:
    /// no heap allocation once it holds that many); all zeros when `zeros` (the planning pass).
    func sparse(coords: [Float], labels: [Int32], into out: inout [Float], zeros: Bool = false) {
        let d = dim
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: labels.count * d))
        if zeros { return }
        out.withUnsafeMutableBufferPointer { o in
            for (i, l) in labels.enumerated() {
                if l == -1 {
                    for c in 0..<d { o[i * d + c] = notAPoint[c] }
                    continue
                }
                let x = (coords[2 * i] + 0.5) / Float(imageSize), y = (coords[2 * i + 1] + 0.5) / Float(imageSize)
                PromptEncoderWeights.fourier(x, y, gaussian, d, into: o, at: i * d)
                let pe = pointEmbeddings[Int(l)]
                for c in 0..<d { o[i * d + c] += pe[c] }
            }
        }
    }
}


enum PromptEncoder {
    /// Dense embedding [e][e][d] into `dense`: no_mask_embed broadcast, or mask_downscaling(`mask`)
    /// with `mask` [4e][4e] (1 channel). Allocations do not depend on whether a mask is given.
    /// `skipNoMask`: without a mask, leave `dense` unwritten (its reader uses no_mask_embed directly).
    static func dense(_ ex: Exec, _ w: PromptEncoderWeights, mask: Buf, hasMask: Bool, into dense: Buf,
                      skipNoMask: Bool = false) throws {
        let e = w.embedSize, d = w.dim, s = 4 * e
        let c1 = w.down1.outFeatures, c2 = w.down2.outFeatures
        let col1 = try ex.ws.alloc((2 * e) * (2 * e) * 4, "prompt.mask.im2col1")
        let a1 = try ex.ws.alloc((2 * e) * (2 * e) * c1, "prompt.mask.act1")
        let col2 = try ex.ws.alloc(e * e * 4 * c1, "prompt.mask.im2col2")
        let a2 = try ex.ws.alloc(e * e * c2, "prompt.mask.act2")
        if !ex.planning {
            if hasMask {
                var s1 = sam2r_conv2d_shape(h: Int32(s), w: Int32(s), c: 1, kh: 2, kw: 2, stride_h: 2, stride_w: 2,
                                            pad_h: 0, pad_w: 0, out_h: 0, out_w: 0)
                _ = sam2r_conv2d_shape_init(&s1)
                sam2r_im2col_f32(&s1, mask.p, 0, Int32(2 * e), col1.p, 4)
                try ex.linear(col1.p, rows: 4 * e * e, w.down1, a1.p)
                try ex.layerNorm(a1.p, rows: 4 * e * e, w.norm1, a1.p)
                try ex.gelu(a1.p, a1.count)
                var s2 = sam2r_conv2d_shape(h: Int32(2 * e), w: Int32(2 * e), c: Int32(c1), kh: 2, kw: 2, stride_h: 2,
                                            stride_w: 2, pad_h: 0, pad_w: 0, out_h: 0, out_w: 0)
                _ = sam2r_conv2d_shape_init(&s2)
                sam2r_im2col_f32(&s2, a1.p, 0, Int32(e), col2.p, Int32(4 * c1))
                try ex.linear(col2.p, rows: e * e, w.down2, a2.p)
                try ex.layerNorm(a2.p, rows: e * e, w.norm2, a2.p)
                try ex.gelu(a2.p, a2.count)
                try ex.linear(a2.p, rows: e * e, w.down3, dense.p)
            } else if !skipNoMask {
                for r in 0..<(e * e) { for c in 0..<d { dense.p[r * d + c] = w.noMask[c] } }
            }
            ex.tap("prompt_encoder.dense", dense.p, dense.count)
        }
        try ex.ws.release(a2)
        try ex.ws.release(col2)
        try ex.ws.release(a1)
        try ex.ws.release(col1)
    }
}
