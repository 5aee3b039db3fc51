// MaskDecoder.swift — SAM2's mask decoder: token assembly, two-way transformer (layer 0 self-attn
// without PE and residual), ConvTranspose upscaling with the high-res features, hypernetwork MLPs,
// IoU head (sigmoid) and object-score head (computed, never used to gate in image mode).

import SAM2REngine
import SAM2RKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct AttentionWeights {
    let q: Linear, k: Linear, v: Linear, out: Linear
    let heads: Int
    var internalDim: Int { q.outFeatures }
    init(_ src: WeightSource, _ p: String, dim: Int, internal di: Int, heads: Int) throws {
        q = try Linear(src, p + ".q_proj", out: di, in: dim)
        k = try Linear(src, p + ".k_proj", out: di, in: dim)
        v = try Linear(src, p + ".v_proj", out: di, in: dim)
        out = try Linear(src, p + ".out_proj", out: dim, in: di)
        self.heads = heads
    }
}

struct TwoWayLayerWeights {
    let selfAttn: AttentionWeights, t2i: AttentionWeights, i2t: AttentionWeights
    let norm1: Norm, norm2: Norm, norm3: Norm, norm4: Norm
    let lin1: Linear, lin2: Linear
    /// The cross attentions folded (FoldedAttention.swift); nil when a projection is not fp32.
    let t2iFolded: FoldedAttentionWeights?, i2tFolded: FoldedAttentionWeights?
    init(_ src: WeightSource, _ p: String, _ cfg: ModelConfig) throws {
        let d = cfg.dModel, h = cfg.decoderHeads, di = d / cfg.attentionDownsampleRate
        selfAttn = try AttentionWeights(src, p + ".self_attn", dim: d, internal: d, heads: h)
        t2i = try AttentionWeights(src, p + ".cross_attn_token_to_image", dim: d, internal: di, heads: h)
        i2t = try AttentionWeights(src, p + ".cross_attn_image_to_token", dim: d, internal: di, heads: h)
        norm1 = try Norm(src, p + ".norm1", dim: d, eps: 1e-5)
        norm2 = try Norm(src, p + ".norm2", dim: d, eps: 1e-5)
        norm3 = try Norm(src, p + ".norm3", dim: d, eps: 1e-5)
        norm4 = try Norm(src, p + ".norm4", dim: d, eps: 1e-5)
        lin1 = try Linear(src, p + ".mlp.layers.0", out: cfg.decoderMLPDim, in: d)
        lin2 = try Linear(src, p + ".mlp.layers.1", out: d, in: cfg.decoderMLPDim)
        t2iFolded = try FoldedAttentionWeights(t2i, .tokenToImage)
        i2tFolded = try FoldedAttentionWeights(i2t, .imageToToken)
    }
}

struct MaskDecoderWeights {
    let dim: Int
    let embedSize: Int
    let mlpDim: Int
    /// [obj_score, iou, mask x 4] x dim.
    let outputTokens: [Float]
    let layers: [TwoWayLayerWeights]
    let finalAttn: AttentionWeights
    let finalFolded: FoldedAttentionWeights?
    /// NR of the active fp32 GEMM kernel (sizes the folded attentions' per-call packed matrices).
    let gemmNR: Int
    /// NR of the image → token pass's kernel (FoldedAttentionWeights.i2tKernel: sizes its packed matrices).
    let i2tNR: Int
    /// Every cross attention has its fold (all fp32): then the folded path runs throughout.
    let allFolded: Bool
    let normFinal: Norm
    let dc1: Linear, upNorm: Norm, dc2: Linear
    let hyper: [MLP]
    let iouHead: MLP
    let objHead: MLP
    let numMaskTokens: Int

    init(_ src: WeightSource, _ cfg: ModelConfig) throws {
        let p = "sam_mask_decoder.", d = cfg.dModel
        dim = d
        embedSize = cfg.embedSize
        mlpDim = cfg.decoderMLPDim
        numMaskTokens = cfg.numMultimaskOutputs + 1
        outputTokens = try src.load(p + "obj_score_token.weight", [1, d]) + src.load(p + "iou_token.weight", [1, d])
            + src.load(p + "mask_tokens.weight", [numMaskTokens, d])
        layers = try (0..<cfg.decoderDepth).map { try TwoWayLayerWeights(src, p + "transformer.layers.\($0)", cfg) }
        finalAttn = try AttentionWeights(src, p + "transformer.final_attn_token_to_image", dim: d,
                                         internal: d / cfg.attentionDownsampleRate, heads: cfg.decoderHeads)
        finalFolded = try FoldedAttentionWeights(finalAttn, .tokenToImage)
        gemmNR = try GemmF32Kernel().nr
        i2tNR = layers.first?.i2tFolded?.i2tKernel.nr ?? gemmNR
        allFolded = finalFolded != nil && layers.allSatisfy { $0.t2iFolded != nil && $0.i2tFolded != nil }
        normFinal = try Norm(src, p + "transformer.norm_final_attn", dim: d, eps: 1e-5)
        dc1 = try Linear(convTranspose: src, p + "output_upscaling.0", in: d, out: d / 4, kernel: 2)
        upNorm = try Norm(src, p + "output_upscaling.1", dim: d / 4, eps: 1e-6)
        dc2 = try Linear(convTranspose: src, p + "output_upscaling.3", in: d / 4, out: d / 8, kernel: 2)
        hyper = try (0..<numMaskTokens).map {
            try MLP(src, p + "output_hypernetworks_mlps.\($0)", input: d, hidden: d, output: d / 8, layers: 3)
        }
        iouHead = try MLP(src, p + "iou_prediction_head", input: d, hidden: cfg.iouHeadHiddenDim,
                          output: numMaskTokens, layers: 3)
        objHead = try MLP(src, p + "pred_obj_score_head", input: d, hidden: d, output: 1, layers: 3)
    }
}

/// Decoder outputs for all mask tokens.
struct DecoderOutput {
    /// [numMaskTokens][(4e)^2] low-res logits.
    let masks: Buf
    /// sigmoid IoU per mask token (at most 4 tokens: a fixed-size value, no heap allocation).
    var iou: SIMD4<Float>
    var objectScore: Float
    /// [4e][4e][d/8] upscaled embedding, kept (caller releases) when the refiner's MR needs it.
    var upscaled: Buf? = nil
}

enum MaskDecoder {
    /// SAM2R_DECODER_UNFOLDED set: always the reference attentions (A/B timing and accuracy of the fold).
    static let unfolded = getenv("SAM2R_DECODER_UNFOLDED") != nil

    /// Runs the decoder for `sparse` (`tokens` prompt rows of `dim`, capacity `tokenCapacity`). `cache`: layer 0's
    /// image side, passed only when there is no mask prompt and `DecoderImageCache.usable` (then `dense` is not
    /// read unless an observer wants "decoder.src"); `fillCache`: it holds another embedding, so fill it for
    /// `f.imageEmbed` first.
    static func forward(_ ex: Exec, _ w: MaskDecoderWeights, features f: ImageFeatures, sparse: [Float],
                        promptCapacity: Int, dense: Buf, densePE: DensePE, cache: DecoderImageCache? = nil,
                        fillCache: Bool = false, keepUpscaled: Bool = false) throws -> DecoderOutput {
        let d = w.dim, e = w.embedSize, ne = e * e
        let nOut = w.outputTokens.count / d
        let tCap = nOut + promptCapacity
        let t = nOut + sparse.count / d
        let rowsMax = max(tCap, ne)
        let tokens = try ex.ws.alloc(tCap * d, "decoder.tokens")       // = query PE
        let queries = try ex.ws.alloc(tCap * d, "decoder.queries")
        let keys = try ex.ws.alloc(ne * d, "decoder.keys")
        let qIn = try ex.ws.alloc(tCap * d, "decoder.q_in")
        let kIn = try ex.ws.alloc(ne * d, "decoder.k_in")
        // Per-head projections: t rows of the self-attention's d, or e² image rows of a cross attention's d / 2.
        let projFloats = max(tCap * d, ne * w.finalAttn.internalDim)
        let qq = try ex.ws.alloc(projFloats, "decoder.attn.q")
        let kk = try ex.ws.alloc(projFloats, "decoder.attn.k")
        let vv = try ex.ws.alloc(projFloats, "decoder.attn.v")
        let oo = try ex.ws.alloc(projFloats, "decoder.attn.o")
        let ao = try ex.ws.alloc(rowsMax * d, "decoder.attn.out")
        let hid = try ex.ws.alloc(tCap * w.mlpDim, "decoder.mlp.hidden")
        let hd = w.finalAttn.internalDim / w.finalAttn.heads
        let scratch = try ex.ws.alloc(max(ex.attentionScratchFloats(dk: hd, dv: hd), ex.attentionScratchFloats(dk: d, dv: d)),
                                      "decoder.attn.scratch")
        // ao: the folded paths write their image-side output straight into the residual (sam2r_decoder_i2t.h).
        let fb = try FoldedAttentionBuffers(ex, rows: ne, tokens: tCap, dim: d, heads: w.finalAttn.heads, nr: w.i2tNR,
                                        spare: ao)
        // The folded attentions skip the per-head image-side GEMMs the observers report (FoldedAttention.swift).
        let fold = ex.gemmInputObserver == nil && ex.gemmOutputObserver == nil && !MaskDecoder.unfolded
        // When every attention is folded, keys + PE is never written: each reader adds the PE as it reads the
        // keys (the attention's k_add, the image → token pass's a_add), one fp32 add per element as before, so
        // the same bits. Why: writing and re-reading that 4 MB tensor was ~24 MB of memory traffic per prompt.
        // kIn = keys + PE is then planned but unused. With an observer (calibration, eval, tests) keys + PE is
        // written as before, so Int8Tests.testUnobservedFusedPathBitIdentical checks that both give the same bits.
        let pePerRead = fold && w.allFolded && ex.observer == nil

        /// out[nq][d] = Attention(a)(q, k, v).
        func attend(_ a: AttentionWeights, q: UnsafePointer<Float>, nq: Int, k: UnsafePointer<Float>,
                    v: UnsafePointer<Float>, nk: Int, out: UnsafeMutablePointer<Float>) throws {
            let di = a.internalDim, hd = di / a.heads
            try ex.linear(q, rows: nq, a.q, qq.p)
            try ex.linear(k, rows: nk, a.k, kk.p)
            try ex.linear(v, rows: nk, a.v, vv.p)
            ex.attention(batch: 1, heads: a.heads, nq: nq, nk: nk, dk: hd, dv: hd, q: qq.p, ldq: di, qStride: nq * di,
                         k: kk.p, ldk: di, kStride: nk * di, v: vv.p, ldv: di, vStride: nk * di,
                         o: oo.p, ldo: di, oStride: nq * di, scratch: scratch)
            try ex.linear(oo.p, rows: nq, a.out, out)
        }

        var result = DecoderOutput(masks: Buf(id: -1, count: 0, p: oo.p), iou: .zero, objectScore: 0)
        if !ex.planning {
            w.outputTokens.withUnsafeBufferPointer { tokens.p.update(from: $0.baseAddress!, count: $0.count) }
            sparse.withUnsafeBufferPointer { (tokens.p + nOut * d).update(from: $0.baseAddress!, count: $0.count) }
            ex.tap("decoder.tokens", tokens.p, t * d)
            queries.p.update(from: tokens.p, count: t * d)
            if let c = cache {
                if fillCache {
                    try c.fill(ex, w, embed: f.imageEmbed.p, densePE: densePE.f32, x0: keys.p, x0PE: kIn.p, kv: qq.p)
                }
                // Layer 0 reads the cache; the input sum is formed only for an observer.
                if ex.observer != nil { ex.addRow(f.imageEmbed.p, c.noMask, rows: ne, cols: d, keys.p) }
            } else {
                try ex.add(f.imageEmbed.p, dense.p, keys.p, ne * d)
            }
            ex.tap("decoder.src", keys.p, ne * d)
            try densePE.withRows { kpe, peRows in
                // The folded attentions' keys + PE: keys with the PE added on read (keysAdd), or the written kIn.
                let keysX = UnsafePointer(pePerRead ? keys.p : kIn.p)
                let keysAdd = pePerRead ? peRows : AddedRows.none
                let writtenKeysPE: UnsafeMutablePointer<Float>? = pePerRead ? nil : kIn.p
                for (i, l) in w.layers.enumerated() {
                    if i == 0 {
                        try attend(l.selfAttn, q: queries.p, nq: t, k: queries.p, v: queries.p, nk: t, out: ao.p)
                        queries.p.update(from: ao.p, count: t * d)
                    } else {
                        try ex.add(queries.p, tokens.p, qIn.p, t * d)
                        try attend(l.selfAttn, q: qIn.p, nq: t, k: qIn.p, v: queries.p, nk: t, out: ao.p)
                        try ex.add(queries.p, ao.p, queries.p, t * d)
                    }
                    try ex.layerNorm(queries.p, rows: t, l.norm1, queries.p)
                    try ex.add(queries.p, tokens.p, qIn.p, t * d)
                    let layerCache = i == 0 ? cache : nil
                    // kIn = keys + PE: layers after the first get it from the previous residual LayerNorm.
                    if i == 0 && layerCache == nil && !pePerRead { try ex.add(keys.p, kpe, kIn.p, ne * d) }
                    if let c = layerCache, let f = l.i2tFolded {
                        try c.tokenToImage(ex, l.t2i, q: qIn.p, t: t, kernel: f.kernel, proj: oo, scores: fb.scores,
                                           rowsOut: fb.rows, headOut: kk, out: ao.p)
                    } else if fold, let f = l.t2iFolded {
                        try FoldedAttention.tokenToImage(ex, l.t2i, f, q: qIn.p, t: t, x: keysX, xAdd: keysAdd,
                                                         y: keys.p, n: ne, b: fb, proj: qq, headOut: oo, scratch: scratch,
                                                         out: ao.p)
                    } else {
                        try attend(l.t2i, q: qIn.p, nq: t, k: kIn.p, v: keys.p, nk: ne, out: ao.p)
                    }
                    try ex.add(queries.p, ao.p, queries.p, t * d)
                    try ex.layerNorm(queries.p, rows: t, l.norm2, queries.p)
                    try ex.linear(queries.p, rows: t, l.lin1, hid.p)
                    ex.relu(hid.p, t * w.mlpDim)
                    try ex.linear(hid.p, rows: t, l.lin2, ao.p)
                    try ex.add(queries.p, ao.p, queries.p, t * d)
                    try ex.layerNorm(queries.p, rows: t, l.norm3, queries.p)
                    try ex.add(queries.p, tokens.p, qIn.p, t * d)
                    // Then keys = norm4(keys + out) (layer 0 from the cache: keys = image embedding + no-mask row) and the
                    // next attention's keys + PE, fused into the folded attentions.
                    if let c = layerCache, let fi = l.i2tFolded {
                        try c.noMask.withUnsafeBufferPointer { nm in
                            let r = ResidualNorm(x: f.imageEmbed.p, row: nm.baseAddress!, norm: l.norm4, pe: kpe, y: keys.p,
                                                 yPE: writtenKeysPE)
                            try FoldedAttention.imageToToken(ex, l.i2t, fi, projectedQueries: c.q.p, n: ne, k: qIn.p,
                                                             v: queries.p, t: t, b: fb, kProj: kk, vProj: vv, residual: r)
                        }
                    } else if fold, let fi = l.i2tFolded {
                        let r = ResidualNorm(x: keys.p, row: nil, norm: l.norm4, pe: kpe, y: keys.p, yPE: writtenKeysPE)
                        try FoldedAttention.imageToToken(ex, l.i2t, fi, x: keysX, xAdd: keysAdd, n: ne, k: qIn.p,
                                                         v: queries.p, t: t, b: fb, kProj: kk, vProj: vv, residual: r)
                    } else {
                        try attend(l.i2t, q: kIn.p, nq: ne, k: qIn.p, v: queries.p, nk: t, out: ao.p)
                        try ex.residualLayerNorm(keys.p, ao.p, rows: ne, l.norm4, keys.p, pe: kpe, yPE: kIn.p)
                    }
                    ex.tap("transformer.layer.\(i).queries", queries.p, t * d)
                    ex.tap("transformer.layer.\(i).keys", keys.p, ne * d)
                }
                // Only the output tokens (object score, IoU, masks) are read after the final attention, and each
                // query row is computed on its own: the prompt tokens' rows are skipped unless an observer sees
                // them (the goldens hold all t rows).
                let tf = ex.observer == nil ? nOut : t
                try ex.add(queries.p, tokens.p, qIn.p, tf * d)
                if fold, let f = w.finalFolded {
                    try FoldedAttention.tokenToImage(ex, w.finalAttn, f, q: qIn.p, t: tf, x: keysX, xAdd: keysAdd,
                                                     y: keys.p, n: ne, b: fb, proj: qq, headOut: oo, scratch: scratch,
                                                     out: ao.p)
                } else {
                    try attend(w.finalAttn, q: qIn.p, nq: tf, k: kIn.p, v: keys.p, nk: ne, out: ao.p)
                }
                try ex.add(queries.p, ao.p, queries.p, tf * d)
                try ex.layerNorm(queries.p, rows: tf, w.normFinal, queries.p)
                ex.tap("transformer.queries", queries.p, t * d)
                ex.tap("transformer.keys", keys.p, ne * d)
            }
        }
        try fb.release(ex)
        try ex.ws.release(scratch)
        try ex.ws.release(hid)
        try ex.ws.release(ao)
        try ex.ws.release(vv)
        try ex.ws.release(kk)
        try ex.ws.release(qq)
        try ex.ws.release(kIn)
        try ex.ws.release(qIn)
        try ex.ws.release(oo)

        // Upscaling: ConvT + feat_s1, LN2d, GELU; ConvT + feat_s0, GELU.
        // Each stage is one pass over its rows (Kernels/decoder_tail.c): col2im + skip add, LayerNorm, GELU and
        // the int8 quantize of dc2's input; then col2im + skip add, GELU and the mask logits. The fp32 images are
        // written only for a reader: an observer (the taps), a GEMM-input observer or an fp32 dc2 (u1), the
        // refiner (`keepUpscaled`, u2). The same primitives run either way: the same bits with or without them.
        // With int8 dc1/dc2 and no observer, each ConvTranspose GEMM also runs inside its stage, one input row
        // at a time (sam2r_tail_gemm), so its 4-8 MB output stays in cache: again the same bits.
        let d4 = d / 4, d8 = d / 8, e2 = 2 * e, e4 = 4 * e
        let nm = w.numMaskTokens
        precondition(nm <= 4, "SAM2 has at most 4 mask tokens")
        let hv = try ex.ws.alloc(2 * max(w.iouHead.layers[0].outFeatures, d), "decoder.head.hidden")
        let hidden = hv.count / 2
        /// Runs `mlp` on one row; ReLU between layers; writes the result to `out`.
        func head(_ mlp: MLP, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) throws {
            var src = x
            for (i, l) in mlp.layers.enumerated() {
                let last = i == mlp.layers.count - 1
                let dst = last ? out : hv.p + (i % 2) * hidden
                try ex.linear(src, rows: 1, l, dst)
                if !last { ex.relu(dst, l.outFeatures) }
                src = UnsafePointer(dst)
            }
        }
        // Heads on the output tokens (rows of `queries`: 0 obj score, 1 iou, 2... masks); the hypernetwork
        // outputs first, the fused mask logits need them.
        let hyperIn = try ex.ws.alloc(nm * d8, "decoder.hyper")
        if !ex.planning {
            for m in 0..<nm {
                try head(w.hyper[m], queries.p + (2 + m) * d, hyperIn.p + m * d8)
                ex.tap("decoder.hyper.\(m)", hyperIn.p + m * d8, d8)
            }
        }

        let g1 = try ex.ws.alloc(ne * 4 * d4, "decoder.dc1.gemm")
        let u1 = try ex.ws.alloc(e2 * e2 * d4, "decoder.upscale.stage1")
        let g2Count = e2 * e2 * 4 * d8
        let dc2Input = ex.observer == nil ? try ex.fusedInput(w.dc2, rows: e2 * e2) : nil
        // Both ConvTranspose GEMMs run inside the tail ops (sam2r_tail_gemm) when both are int8 and nothing
        // observes their outputs: g1 and g2 are then never written. Their buffers (planned either way: the plan
        // cannot depend on an observer) serve instead: g1's bytes hold dc1's int8 input (int8Input holds dc2's,
        // which stage 1 writes while dc1's is read), u1 and g2 the per-thread GEMM row scratch of stages 1 and 2.
        let tailGemm: (dc1: Int8Linear, dc2: Int8Linear, dc2Input: UnsafeMutableBufferPointer<Int8>)? =
            if let q1 = w.dc1.int8, let q2 = w.dc2.int8, let (_, a2) = dc2Input, ex.gemmOutputObserver == nil,
               ne * d <= g1.count * 4, ex.tailGemmScratchFloats(rowPixels: e, ldg: 4 * d4) <= u1.count,
               ex.tailGemmScratchFloats(rowPixels: e2, ldg: 4 * d8) <= g2Count { (q1, q2, a2) } else { nil }
        if let (q1, _, _) = tailGemm {
            if !ex.planning {
                let a1 = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(g1.p).bindMemory(to: Int8.self,
                                                                                                   capacity: ne * d),
                                                    count: ne * d)
                try ex.quantizeInput(keys.p, rows: ne, q1, into: a1)
                try ex.withTailGemm(q1, a1, rows: ne, scratch: u1.p) { src in
                    try ex.upscaleNormGelu(nil, gemm: src, ldg: 4 * d4, side: e, channels: d4, skip: f.skipS1,
                                           w.upNorm, into: nil, quantized: dc2Input)
                }
            }
        } else {
            try ex.linear(keys.p, rows: ne, w.dc1, g1.p)
            if !ex.planning {
                MaskDecoder.tapScattered(ex, g1.p, ld: 4 * d4, side: e, channels: d4, "decoder.upscale.dc1")
                try ex.upscaleNormGelu(g1.p, ldg: 4 * d4, side: e, channels: d4, skip: f.skipS1, w.upNorm,
                                       into: dc2Input == nil ? u1.p : nil, quantized: dc2Input)
                if dc2Input == nil { ex.tap("decoder.upscale.stage1", u1.p, u1.count) }
            }
        }
        try ex.ws.release(g1)
        try ex.ws.release(keys)
        let g2 = try ex.ws.alloc(g2Count, "decoder.dc2.gemm")
        let u2 = try ex.ws.alloc(e4 * e4 * d8, "decoder.upscaled")
        if tailGemm == nil {
            if let (q, a) = dc2Input {
                try ex.linear(quantized: a, rows: e2 * e2, w.dc2, q, g2.p)
            } else {
                try ex.linear(u1.p, rows: e2 * e2, w.dc2, g2.p)
            }
        }
        try ex.ws.release(u1)
        let masks = try ex.ws.alloc(nm * e4 * e4, "decoder.masks")
        result = DecoderOutput(masks: masks, iou: .zero, objectScore: 0)
        if !ex.planning {
            let writeU2 = keepUpscaled || ex.observer != nil
            if let (_, q2, a2) = tailGemm {
                try ex.withTailGemm(q2, a2, rows: e2 * e2, scratch: g2.p) { src in
                    try ex.upscaleGeluLogits(nil, gemm: src, ldg: 4 * d8, side: e2, channels: d8, skip: f.skipS0,
                                             into: writeU2 ? u2.p : nil, hyper: hyperIn.p, masks: nm, logits: masks.p)
                }
            } else {
                MaskDecoder.tapScattered(ex, g2.p, ld: 4 * d8, side: e2, channels: d8, "decoder.upscale.dc2")
                try ex.upscaleGeluLogits(g2.p, ldg: 4 * d8, side: e2, channels: d8, skip: f.skipS0,
                                         into: writeU2 ? u2.p : nil, hyper: hyperIn.p, masks: nm, logits: masks.p)
            }
            ex.tap("decoder.upscaled", u2.p, u2.count)
            ex.tap("decoder.masks_raw", masks.p, masks.count)
            var iouOut = SIMD4<Float>.zero
            try withUnsafeMutableBytes(of: &iouOut) { try head(w.iouHead, queries.p + d, $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
            for i in 0..<nm { result.iou[i] = 1 / (1 + expf(-iouOut[i])) }
            withUnsafeBytes(of: result.iou) { ex.tap("decoder.iou_raw", $0.baseAddress!.assumingMemoryBound(to: Float.self), nm) }
            var obj: Float = 0
            try head(w.objHead, queries.p, &obj)
            result.objectScore = obj
            ex.tap("decoder.object_score", &obj, 1)
        }
        try ex.ws.release(g2)
        try ex.ws.release(hyperIn)
        try ex.ws.release(hv)
        if keepUpscaled { result.upscaled = u2 } else { try ex.ws.release(u2) }
        try ex.ws.release(queries)
        try ex.ws.release(tokens)
        return result
    }

    /// Reports the ConvTranspose output g (GEMM rows [side²][ld], kernel = stride = 2) scattered to pixels,
    /// before the skip add, as `tap` (compared with the goldens): piece by piece straight from g, on this thread
    /// (`tap` a String made once: a name built per piece would allocate tens of thousands of times).
    static func tapScattered(_ ex: Exec, _ g: UnsafePointer<Float>, ld: Int, side: Int, channels: Int, _ tap: String) {
        guard ex.observer != nil else { return }
        let seg = 2 * channels, yrow = side * seg
        for iy in 0..<side {
            for ix in 0..<side {
                for ky in 0..<2 {
                    ex.tap(tap, g + (iy * side + ix) * ld + ky * seg, seg, offset: (iy * 2 + ky) * yrow + ix * seg)
                }
            }
        }
    }

    /// Stability of a mask's logits: #(l > δ) / #(l > −δ), 1 when the denominator is 0.
    static func stability(_ logits: UnsafePointer<Float>, _ count: Int, delta: Float) -> Float {
        var inter = 0, union = 0
        for i in 0..<count {
            if logits[i] > delta { inter += 1 }
            if logits[i] > -delta { union += 1 }
        }
        return union > 0 ? Float(inter) / Float(union) : 1
    }
}
