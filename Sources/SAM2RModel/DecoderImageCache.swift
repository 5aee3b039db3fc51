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

import SAM2REngine

struct DecoderImageCache {
    let k: Buf
    let v: Buf
    let q: Buf
    /// [d] no_mask_embed (the prompt encoder's weights): x0's per-channel constant.
    let noMask: [Float]

    /// Plans the three buffers (live from here to the end of the plan: persistent across predicts).
    static func alloc(_ ex: Exec, _ w: MaskDecoderWeights, noMask: [Float]) throws -> DecoderImageCache {
        let rows = w.embedSize * w.embedSize, l = w.layers[0]
        return DecoderImageCache(k: try ex.ws.alloc(rows * l.t2i.internalDim, "decoder.cache.t2i_k"),
                                 v: try ex.ws.alloc(rows * l.t2i.internalDim, "decoder.cache.t2i_v"),
                                 q: try ex.ws.alloc(rows * l.i2t.internalDim, "decoder.cache.i2t_q"), noMask: noMask)
    }

    /// Whether a prompt's decoder can read the cache: the fold's conditions (no GEMM observer, fp32
    /// cross-attention weights, not forced unfolded), which the cached layer 0 shares.
    static func usable(_ ex: Exec, _ w: MaskDecoderWeights) -> Bool {
        ex.gemmInputObserver == nil && ex.gemmOutputObserver == nil && !MaskDecoder.unfolded
            && w.layers.first?.i2tFolded != nil
    }

    /// Plans (and with `run` fills) the cache for image embedding `embed` ([e²][d]) at setImage, through two
    /// temporaries of its own; `densePE` [e²][d].
    func compute(_ ex: Exec, _ w: MaskDecoderWeights, embed: UnsafePointer<Float>, densePE: [Float], run: Bool) throws {
        let rows = w.embedSize * w.embedSize
        let x0 = try ex.ws.alloc(rows * w.dim, "decoder.cache.x0")
        let xpe = try ex.ws.alloc(rows * w.dim, "decoder.cache.x0_pe")
        if run { try fill(ex, w, embed: embed, densePE: densePE, x0: x0.p, x0PE: xpe.p) }
        try ex.ws.release(xpe)
        try ex.ws.release(x0)
    }

    /// Fills the cache for `embed`; x0 and x0PE: [e²][d] scratch each (the decoder's image-side buffers when
    /// a predict refills it for another embedding).
    func fill(_ ex: Exec, _ w: MaskDecoderWeights, embed: UnsafePointer<Float>, densePE: [Float],
              x0: UnsafeMutablePointer<Float>, x0PE: UnsafeMutablePointer<Float>) throws {
        guard !ex.planning else { return }
        let d = w.dim, rows = w.embedSize * w.embedSize, l = w.layers[0]
        try noMask.withUnsafeBufferPointer { try ex.addRow(embed, $0.baseAddress!, rows: rows, cols: d, x0) }
        try densePE.withUnsafeBufferPointer { try ex.add(x0, $0.baseAddress!, x0PE, rows * d) }
        try ex.linear(x0PE, rows: rows, l.t2i.k, k.p)
        try ex.linear(x0, rows: rows, l.t2i.v, v.p)
        try ex.linear(x0PE, rows: rows, l.i2t.q, q.p)
    }
}
