// DecoderImageCache.swift — the prompt-independent part of the two-way transformer's first layer,
// computed once per image. Why: without a mask prompt the decoder's image side enters layer 0 as
// x0 = image embedding + no_mask_embed (a per-channel constant), the same for every prompt, so the
// layer's image-side projections are per-image work:
//   token → image  K = k_proj(x0 + pe), V = v_proj(x0)     [e²][di] each
//   image → token  Q = q_proj(x0 + pe)                     [e²][di]
// With them a prompt's layer-0 attentions run at head width (di / heads = 16) instead of over the
// 256-wide image rows (FoldedAttention): ~190 M of the decoder's ~670 M transformer MACs and four
// passes over 4 MB image-side tensors per prompt are gone. The projections are the reference's own
// GEMMs, so the values equal the reference up to fp32 rounding order in the attention products.
// A mask prompt (dense ≠ no_mask_embed) or a different image embedding (the refiner turned off after
// setImage) takes the uncached path.
//
// K and V are kept packed as GEMM weights, because a prompt's token → image attention has only t ≈ 8
// queries per head: as GEMMs (scores per head [t][e²] = q_h · K_hᵀ, one row softmax, then
// [heads·t][di] = P · V) it streams the keys once with the keys across the vector lanes, where the
// flash kernel (queries across the lanes) would leave most lanes idle and broadcast every K and V
// element. V is packed once for all heads. Where the kernel's panels hold whole heads (NR divides the
// head width: AVX2's 16, NEON's and the scalar kernel's 8), P_h · V_h runs per head on head h's panels (4 M MACs).
// Otherwise (AVX-512's 48-column panels would pad a 16-wide head 3x) P · V computes every head's P against
// every head's V columns (8x the useful MACs, 33 M) and keeps the diagonal blocks. Each output is the
// same fma chain either way (sam2r_gemm_f32.h): the same bits.

import SAM2REngine
import SAM2RKernels

struct DecoderImageCache {
    /// Per head h, K_h = K[:, h·hd ..< (h+1)·hd] packed as GEMM weights [N = e²][K = hd], back to back.
    let kPacked: Buf
    /// Vᵀ packed as GEMM weights [N = di][K = e²].
    let vPacked: Buf
    /// Q [e²][di] (image → token queries, unscaled).
    let q: Buf
    /// [d] no_mask_embed (the prompt encoder's weights): x0's per-channel constant.
    let noMask: [Float]
    let heads: Int, headDim: Int, rows: Int, nr: Int

    var headFloats: Int { Int(sam2r_pack_f32_size(Int32(rows), Int32(headDim), Int32(nr))) / 4 }

    /// Plans the buffers (live from here to the end of the plan: persistent across predicts).
    static func alloc(_ ex: Exec, _ w: MaskDecoderWeights, noMask: [Float]) throws -> DecoderImageCache {
        let rows = w.embedSize * w.embedSize, a = w.layers[0].t2i, di = a.internalDim, nr = w.gemmNR
        let hd = di / a.heads
        let kFloats = a.heads * Int(sam2r_pack_f32_size(Int32(rows), Int32(hd), Int32(nr))) / 4
        let vFloats = Int(sam2r_pack_f32_size(Int32(di), Int32(rows), Int32(nr))) / 4
        return DecoderImageCache(kPacked: try ex.ws.alloc(kFloats, "decoder.cache.t2i_k_packed"),
                                 vPacked: try ex.ws.alloc(vFloats, "decoder.cache.t2i_v_packed"),
                                 q: try ex.ws.alloc(rows * w.layers[0].i2t.internalDim, "decoder.cache.i2t_q"),
                                 noMask: noMask, heads: a.heads, headDim: hd, rows: rows, nr: nr)
    }

    /// Whether a prompt's decoder can read the cache: the fold's conditions (no GEMM observer, fp32
    /// cross-attention weights, not forced unfolded), which the cached layer 0 shares.
    static func usable(_ ex: Exec, _ w: MaskDecoderWeights) -> Bool {
        ex.gemmInputObserver == nil && ex.gemmOutputObserver == nil && !MaskDecoder.unfolded
            && w.layers.first?.i2tFolded != nil
    }

    /// Plans (and with `run` fills) the cache for image embedding `embed` ([e²][d]) at setImage, through
    /// temporaries of its own; `densePE` [e²][d].
    func compute(_ ex: Exec, _ w: MaskDecoderWeights, embed: UnsafePointer<Float>, densePE: [Float], run: Bool) throws {
        let di = headDim * heads
        let x0 = try ex.ws.alloc(rows * w.dim, "decoder.cache.x0")
        let xpe = try ex.ws.alloc(rows * w.dim, "decoder.cache.x0_pe")
        let kv = try ex.ws.alloc(rows * di, "decoder.cache.kv")
        if run { try fill(ex, w, embed: embed, densePE: densePE, x0: x0.p, x0PE: xpe.p, kv: kv.p) }
        try ex.ws.release(kv)
        try ex.ws.release(xpe)
        try ex.ws.release(x0)
    }

    /// Fills the cache for `embed`; x0 and x0PE: [e²][d] scratch each, kv: [e²][di] (the decoder's own
    /// buffers when a predict refills it for another embedding).
    func fill(_ ex: Exec, _ w: MaskDecoderWeights, embed: UnsafePointer<Float>, densePE: [Float],
              x0: UnsafeMutablePointer<Float>, x0PE: UnsafeMutablePointer<Float>, kv: UnsafeMutablePointer<Float>) throws {
        guard !ex.planning else { return }
        let d = w.dim, l = w.layers[0], di = headDim * heads
        noMask.withUnsafeBufferPointer { ex.addRow(embed, $0.baseAddress!, rows: rows, cols: d, x0) }
        try densePE.withUnsafeBufferPointer { try ex.add(x0, $0.baseAddress!, x0PE, rows * d) }
        try ex.linear(x0PE, rows: rows, l.i2t.q, q.p)
        try ex.linear(x0PE, rows: rows, l.t2i.k, kv)
        for h in 0..<heads {
            var pk = sam2r_packed_f32(n: Int32(rows), k: Int32(headDim), nr: Int32(nr), data: kPacked.p + h * headFloats)
            sam2r_pack_f32(kv + h * headDim, Int32(di), Int32(rows), Int32(headDim), Int32(nr), &pk)
        }
        try ex.linear(x0, rows: rows, l.t2i.v, kv)
        FoldedAttention.packTransposed(kv, rows: rows, cols: di, nr: nr, into: vPacked)
    }

    /// Layer 0's token → image attention of the t token rows `q` ([t][dim], with PE) against the cached image
    /// side: out [t][dim]. `proj` ≥ t·di floats, `scores` ≥ heads·t·e², `rowsOut` ≥ heads·t·di, `headOut` ≥ t·di.
    func tokenToImage(_ ex: Exec, _ a: AttentionWeights, q: UnsafePointer<Float>, t: Int, kernel uk: GemmF32Kernel,
                      proj: Buf, scores: Buf, rowsOut: Buf, headOut: Buf, out: UnsafeMutablePointer<Float>) throws {
        let di = headDim * heads, ht = heads * t
        precondition(proj.count >= t * di && scores.count >= ht * rows && rowsOut.count >= ht * di && headOut.count >= t * di)
        try ex.linear(q, rows: t, a.q, proj.p)
        // Softmax(q·kᵀ / sqrt(hd)): the scale on q (a power of two for hd = 16, 64, ...).
        let s = 1 / Float(headDim).squareRoot()
        for i in 0..<(t * di) { proj.p[i] *= s }
        for h in 0..<heads {
            let pk = sam2r_packed_f32(n: Int32(rows), k: Int32(headDim), nr: Int32(nr), data: kPacked.p + h * headFloats)
            FoldedAttention.gemm(ex, uk, m: t, pk, a: proj.p + h * headDim, lda: di, bias: nil,
                                 c: scores.p + h * t * rows, ldc: rows)
        }
        ex.softmaxRows(scores.p, rows: ht, cols: rows)
        if headDim % nr == 0 {
            // Head h's columns of V are whole panels of vPacked: P_h · V_h per head, straight into headOut.
            let panelFloats = rows * nr
            for h in 0..<heads {
                let vh = sam2r_packed_f32(n: Int32(headDim), k: Int32(rows), nr: Int32(nr),
                                          data: vPacked.p + h * (headDim / nr) * panelFloats)
                FoldedAttention.gemm(ex, uk, m: t, vh, a: scores.p + h * t * rows, lda: rows, bias: nil,
                                     c: headOut.p + h * headDim, ldc: di)
            }
        } else {
            let pv = sam2r_packed_f32(n: Int32(di), k: Int32(rows), nr: Int32(nr), data: vPacked.p)
            FoldedAttention.gemm(ex, uk, m: ht, pv, a: scores.p, lda: rows, bias: nil, c: rowsOut.p, ldc: di)
            // Row (h, i) of P·V against head h's columns is token i's head-h output.
            for h in 0..<heads {
                for i in 0..<t {
                    (headOut.p + i * di + h * headDim).update(from: rowsOut.p + (h * t + i) * di + h * headDim, count: headDim)
                }
            }
        }
        try ex.linear(headOut.p, rows: t, a.out, out)
    }
}
