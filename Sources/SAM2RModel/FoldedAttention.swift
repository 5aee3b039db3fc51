// FoldedAttention.swift — the mask decoder's cross attentions with the image side's per-head projections
// folded into the few-token side. Why: in the two-way transformer one side has e² = 4096 image rows and
// the other t ≈ 8 tokens, and a per-head projection of 4096 rows (d → d/2, then back) is where the
// decoder's MACs went. Per head h (hd = di / heads, s = 1 / sqrt(hd)):
//
//   token → image  s·q_h·(Wk_h x + bk_h) = x · (s·Wk_hᵀ q_h) + const(query)   (the constant cancels in softmax)
//                  Σ_j p_j (Wv_h y_j + bv_h) = Wv_h (Σ_j p_j y_j) + bv_h     (Σ_j p_j = 1)
//                  → one attention of heads·t folded queries over the raw image rows (dk = dv = dim).
//   image → token  s·(Wq_h x + bq_h)·k_h = x · (s·Wq_hᵀ k_h) + s·bq_h·k_h
//                  Wo (concat_h Σ_i p_hi v_hi) = Σ_(h,i) p_hi (Wo_h v_hi)
//                  → two GEMMs over the image rows with N = K = heads·t instead of d/2.
//
// For t ≤ 8 tokens (one or two clicks) that halves the transformer's MACs; exact in real arithmetic, the
// fp32 rounding differs from the reference order. The reference path (MaskDecoder) still runs whenever a
// GEMM observer is set (calibration and layer SQNR need every named GEMM's input and output) or a
// projection is int8 (the fold needs the fp32 matrices).

import SAM2REngine
import SAM2RKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-head matrices derived at load from an attention's fp32 weights, for one of the two folds.
struct FoldedAttentionWeights {
    enum Kind { case tokenToImage, imageToToken }
    let heads: Int
    let headDim: Int
    let dim: Int
    /// Token → image: per head, Wk_h as GEMM weights [N = dim, K = hd] (q̃_h = q_h Wk_h).
    private(set) var keyT: [PackedWeightsF32] = []
    /// Token → image: per head, Wv_h [N = hd, K = dim] and bv_h (applied after the weighted row sum).
    private(set) var value: [PackedWeightsF32] = []
    private(set) var valueBias: [[Float]] = []
    /// Image → token: per head, s·Wq_h [N = dim, K = hd] (k̃_h = k_h · s·Wq_h) and s·bq.
    private(set) var queryT: [PackedWeightsF32] = []
    private(set) var queryBias: [Float] = []
    /// Image → token: per head, the columns of Wo that read head h [N = dim, K = hd] (ṽ_h = v_h Wo_hᵀ).
    private(set) var outT: [PackedWeightsF32] = []
    /// The fp32 GEMM kernel the per-call packed matrices are packed for.
    let kernel: GemmF32Kernel
    /// The image → token pass's kernel (its two GEMMs have N = heads·t = 64 and N = dim = 256): the
    /// 64-column-panel variant where the ISA has one, else `kernel`. Same bits either way.
    let i2tKernel: GemmF32Kernel

    /// nil when a projection the fold reads is not a float GEMM (int8, or a shape-only pass). The derived
    /// matrices are fp32 whatever the projections' storage (binary16 widens exactly).
    init?(_ a: AttentionWeights, _ kind: Kind) throws {
        guard [a.q, a.k, a.v, a.out].allSatisfy({ $0.int8 == nil }),
              let qKernel = a.q.packed?.kernel ?? a.q.half?.kernel else { return nil }
        let (first, second) = kind == .tokenToImage ? (a.k, a.v) : (a.q, a.out)
        guard let w1 = first.floatWeights(), let w2 = second.floatWeights() else { return nil }
        let di = a.internalDim, h = a.heads, hd = di / h, d = a.q.inFeatures
        heads = h
        headDim = hd
        dim = d
        kernel = qKernel
        i2tKernel = GemmF32Kernel(n64For: qKernel.isa) ?? qKernel
        let s = 1 / Float(hd).squareRoot()
        // [c][r] = s·W[r0 + r][c]: a head's rows of Wk / Wq, transposed, as GEMM weights [dim, hd].
        func headT(_ w: [Float], _ r0: Int, _ s: Float) throws -> PackedWeightsF32 {
            var t = [Float](repeating: 0, count: d * hd)
            for c in 0..<d { for r in 0..<hd { t[c * hd + r] = s * w[(r0 + r) * d + c] } }
            return try t.withUnsafeBufferPointer { try PackedWeightsF32(weights: $0, n: d, k: hd) }
        }
        switch kind {
        case .tokenToImage:
            let wk = w1, wv = w2
            for r0 in stride(from: 0, to: di, by: hd) {
                keyT.append(try headT(wk, r0, 1))
                value.append(try wv.withUnsafeBufferPointer {
                    try PackedWeightsF32(weights: UnsafeBufferPointer(rebasing: $0[(r0 * d)...]), n: hd, k: d)
                })
                valueBias.append(Array(a.v.bias[r0..<(r0 + hd)]))
            }
        case .imageToToken:
            let wq = w1, wo = w2
            for r0 in stride(from: 0, to: di, by: hd) {
                queryT.append(try headT(wq, r0, s))
                outT.append(try wo.withUnsafeBufferPointer {
                    try PackedWeightsF32(weights: UnsafeBufferPointer(rebasing: $0[r0...]), n: d, k: hd, ldw: di)
                })
            }
            queryBias = a.q.bias.map { $0 * s }
        }
    }
}

/// Where an image → token attention's output goes: y = norm(x (+ row) + out), yPE = y + pe, all [rows][dim]
/// (the two-way block's "keys = norm4(keys + attn_out)" and the next attention's keys + PE; yPE nil when the
/// readers add the PE themselves).
struct ResidualNorm {
    let x: UnsafePointer<Float>
    /// [dim] added to every row of x first (layer 0 from the cache: the no-mask embedding), or nil.
    let row: UnsafePointer<Float>?
    let norm: Norm
    let pe: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let yPE: UnsafeMutablePointer<Float>?
}

/// Arena buffers of the folded attentions, planned whether or not the fold runs (one plan for both paths).
struct FoldedAttentionBuffers {
    /// [heads·t][dim]: q̃ (token → image) or k̃ (image → token).
    let folded: Buf
    /// [heads·t][dim]: the weighted image-row sums Z (token → image) or ṽ (image → token).
    let rows: Buf
    /// [heads·t][rows]: the cached layer 0's token → image scores, then probabilities (DecoderImageCache;
    /// `spare` when it is large enough).
    let scores: Buf
    private let ownsScores: Bool
    /// [heads·t]: image → token score bias s·bq_h·k_hi.
    let bias: Buf
    /// [heads·t][dim]: token → image, the second key half's output; [2][heads·t][2]: each half's (max, sum).
    let halfRows: Buf
    let stats: Buf
    /// k̃ packed as GEMM weights [N = heads·t, K = dim], ṽ packed as [N = dim, K = heads·t], for the image →
    /// token kernel (`nr`: FoldedAttentionWeights.i2tKernel's).
    let packedKeys: Buf
    let packedValues: Buf

    /// `spare`: a buffer the folded attentions do not otherwise use while they hold scores (the decoder's
    /// image-side attention output), which holds them when it is large enough: 3 MB less arena for tiny.
    init(_ ex: Exec, rows imageRows: Int, tokens: Int, dim: Int, heads: Int, nr: Int, spare: Buf) throws {
        let ht = heads * tokens
        folded = try ex.ws.alloc(ht * dim, "decoder.fold.folded")
        rows = try ex.ws.alloc(ht * dim, "decoder.fold.rows")
        ownsScores = imageRows * ht > spare.count
        scores = ownsScores ? try ex.ws.alloc(imageRows * ht, "decoder.fold.scores") : spare
        bias = try ex.ws.alloc(ht, "decoder.fold.bias")
        halfRows = try ex.ws.alloc(ht * dim, "decoder.fold.half_rows")
        stats = try ex.ws.alloc(4 * ht, "decoder.fold.stats")
        packedKeys = try ex.ws.alloc(Int(sam2r_pack_f32_size(Int32(ht), Int32(dim), Int32(nr))) / 4, "decoder.fold.packed_k")
        packedValues = try ex.ws.alloc(Int(sam2r_pack_f32_size(Int32(dim), Int32(ht), Int32(nr))) / 4, "decoder.fold.packed_v")
    }

    func release(_ ex: Exec) throws {
        try ex.ws.release(packedValues)
        try ex.ws.release(packedKeys)
        try ex.ws.release(stats)
        try ex.ws.release(halfRows)
        try ex.ws.release(bias)
        if ownsScores { try ex.ws.release(scores) }
        try ex.ws.release(rows)
        try ex.ws.release(folded)
    }
}

/// The image → token pass's score weights: one packed matrix, or groups of heads' diagonal blocks
/// (sam2r_decoder_i2t_args.w_s_groups, `heads` per group).
enum ScoreWeights {
    case dense(sam2r_packed_f32)
    case groups(UnsafePointer<sam2r_packed_f32>, heads: Int)
}

enum FoldedAttention {
    /// Token → image attention `a` (folded `f`): out[t][dim] for the token rows `q` (t rows) against the
    /// image rows `x` (keys, with PE, or x + xAdd when xAdd is given) and `y` (values), `n` rows each. `proj`
    /// holds ≥ t·di floats, `headOut` ≥ t·di; `scratch` is attention scratch for dk = dv = dim.
    static func tokenToImage(_ ex: Exec, _ a: AttentionWeights, _ f: FoldedAttentionWeights,
                             q: UnsafePointer<Float>, t: Int, x: UnsafePointer<Float>, xAdd: AddedRows = .none,
                             y: UnsafePointer<Float>, n: Int,
                             b: FoldedAttentionBuffers, proj: Buf, headOut: Buf, scratch: Buf,
                             out: UnsafeMutablePointer<Float>) throws {
        let d = f.dim, hd = f.headDim, di = hd * f.heads, ht = f.heads * t
        try ex.linear(q, rows: t, a.q, proj.p)
        for h in 0..<f.heads {
            try gemmF32(m: t, n: d, k: hd, a: UnsafeBufferPointer(start: proj.p + h * hd, count: (t - 1) * di + hd),
                        lda: di, weights: f.keyT[h], c: UnsafeMutableBufferPointer(start: b.folded.p + h * t * d, count: t * d),
                        pool: ex.pool)
        }
        // Every folded query reads the same key/value rows: one "head" of heads·t queries, dk = dv = dim. The
        // keys are cut into two halves, one batch each (the queries shared, batch stride 0), and the two
        // partial attentions merged from their (max, sum) (`mergeHalves`): the kernel's tasks are (batch, head,
        // query block), so at 2 threads each core streams half of the 8 MB of keys and values (splitting
        // the queries instead made each core stream all of them: memory-bound). The split is the same at any
        // thread count, so the bits are too (Int8Tests, bit-identical across threads).
        precondition(scratch.count >= ex.attentionScratchFloats(dk: d, dv: d))
        let halves = n % 2 == 0 && n >= 2 ? 2 : 1, nh = n / halves
        var args = sam2r_attention_f32_args(
            batch: Int32(halves), heads: 1, nq: Int32(ht), nk: Int32(nh), dk: Int32(d), dv: Int32(d),
            q: b.folded.p, ldq: Int32(d), q_batch_stride: 0, k: x, ldk: Int32(d), k_batch_stride: Int64(nh * d),
            v: y, ldv: Int32(d), v_batch_stride: Int64(nh * d), o: b.rows.p, ldo: Int32(d),
            o_batch_stride: Int64(b.halfRows.p - b.rows.p), scale: 1 / Float(hd).squareRoot(),
            ml: halves == 2 ? b.stats.p : nil, k_add: xAdd.f32, k_add_f16: xAdd.f16)
        sam2r_attention_f32(ex.attentionKernel, &args, ex.pool?.handle, scratch.p)
        if halves == 2 { mergeHalves(b.rows.p, b.halfRows.p, stats: b.stats.p, rows: ht, cols: d) }
        for h in 0..<f.heads {
            try f.valueBias[h].withUnsafeBufferPointer { vb in
                try gemmF32(m: t, n: hd, k: d, a: UnsafeBufferPointer(start: b.rows.p + h * t * d, count: t * d),
                            weights: f.value[h], bias: vb,
                            c: UnsafeMutableBufferPointer(start: headOut.p + h * hd, count: (t - 1) * di + hd), ldc: di,
                            pool: ex.pool)
            }
        }
        try ex.linear(headOut.p, rows: t, a.out, out)
    }

    /// o1 = the attention over both key halves, from each half's normalized output o1, o2 [rows][cols] and
    /// per row (m, l) at stats[(half·rows + i)·2] (sam2r_attention_f32_args.ml): with M = max(m1, m2),
    /// w_h = l_h · 2^(m_h − M), o = o1 · (w1 / (w1 + w2)) + o2 · (w2 / (w1 + w2)).
    private static func mergeHalves(_ o1: UnsafeMutablePointer<Float>, _ o2: UnsafePointer<Float>,
                                    stats: UnsafePointer<Float>, rows: Int, cols: Int) {
        for i in 0..<rows {
            let m1 = stats[2 * i], l1 = stats[2 * i + 1], m2 = stats[2 * (rows + i)], l2 = stats[2 * (rows + i) + 1]
            let mx = max(m1, m2)
            let w1 = l1 * exp2f(m1 - mx), w2 = l2 * exp2f(m2 - mx)
            let s1 = w1 / (w1 + w2), s2 = w2 / (w1 + w2)
            let r1 = o1 + i * cols, r2 = o2 + i * cols
            for c in 0..<cols { r1[c] = r1[c] * s1 + r2[c] * s2 }
        }
    }

    /// Image → token attention `a` (folded `f`) of the image rows `x` (queries, with PE, or x + xAdd when xAdd
    /// is given) against the t token rows `k` (keys, with PE) and `v` (values), its output [n][dim] going
    /// straight into `residual`. `kProj`, `vProj` hold ≥ t·di floats.
    static func imageToToken(_ ex: Exec, _ a: AttentionWeights, _ f: FoldedAttentionWeights,
                             x: UnsafePointer<Float>, xAdd: AddedRows = .none, n: Int, k: UnsafePointer<Float>,
                             v: UnsafePointer<Float>, t: Int,
                             b: FoldedAttentionBuffers, kProj: Buf, vProj: Buf, residual: ResidualNorm) throws {
        let d = f.dim, hd = f.headDim, di = hd * f.heads, ht = f.heads * t
        try projectTokens(ex, a, f, k: k, v: v, t: t, b: b, kProj: kProj, vProj: vProj)
        for h in 0..<f.heads {
            let kh = kProj.p + h * hd
            try gemmF32(m: t, n: d, k: hd, a: UnsafeBufferPointer(start: kh, count: (t - 1) * di + hd), lda: di,
                        weights: f.queryT[h], c: UnsafeMutableBufferPointer(start: b.folded.p + h * t * d, count: t * d),
                        pool: ex.pool)
            for i in 0..<t {
                var acc: Float = 0
                for r in 0..<hd { acc += f.queryBias[h * hd + r] * kh[i * di + r] }
                b.bias.p[h * t + i] = acc
            }
        }
        // scores[j][(h,i)] = x_j · k̃_hi + s·bq_h·k_hi
        let nr = f.i2tKernel.nr
        var pk = sam2r_packed_f32(n: Int32(ht), k: Int32(d), nr: Int32(nr), data: b.packedKeys.p)
        try checkFits(pk, b.packedKeys)
        sam2r_pack_f32(b.folded.p, Int32(d), Int32(ht), Int32(d), Int32(nr), &pk)
        try attendTokens(ex, a, f, queries: x, queriesAdd: xAdd, lda: d, scores: .dense(pk), scoreBias: b.bias.p, n: n,
                         t: t, b: b, residual: residual)
    }

    /// The same attention when the image rows' query projection is already known (DecoderImageCache):
    /// `q` [n][di] = q_proj(x), so scores[j][(h,i)] = s·q_jh · k_hi: a block-diagonal [heads·t][di] weight
    /// matrix (zeros outside head h's columns: di-deep instead of dim-deep). Its diagonal blocks go to the
    /// kernel in groups of heads (sam2r_decoder_i2t_args.w_s_groups) when that saves padded MACs: the same
    /// bits at a fraction of the work (t = 8 at NR 16: groups of 2 heads, 32-deep instead of 128).
    static func imageToToken(_ ex: Exec, _ a: AttentionWeights, _ f: FoldedAttentionWeights,
                             projectedQueries q: UnsafePointer<Float>, n: Int, k: UnsafePointer<Float>,
                             v: UnsafePointer<Float>, t: Int, b: FoldedAttentionBuffers, kProj: Buf, vProj: Buf,
                             residual: ResidualNorm) throws {
        let hd = f.headDim, di = hd * f.heads, ht = f.heads * t
        try projectTokens(ex, a, f, k: k, v: v, t: t, b: b, kProj: kProj, vProj: vProj)
        let s = 1 / Float(hd).squareRoot()
        let w = b.folded.p
        precondition(b.folded.count >= ht * di)
        w.update(repeating: 0, count: ht * di)
        for h in 0..<f.heads {
            for i in 0..<t {
                let dst = w + (h * t + i) * di + h * hd, src = kProj.p + i * di + h * hd
                for r in 0..<hd { dst[r] = s * src[r] }
            }
        }
        let nr = f.i2tKernel.nr
        let g = scoreGroupHeads(heads: f.heads, tokens: t, headDim: hd, nr: nr)
        guard g > 0 else {
            var pk = sam2r_packed_f32(n: Int32(ht), k: Int32(di), nr: Int32(nr), data: b.packedKeys.p)
            try checkFits(pk, b.packedKeys)
            sam2r_pack_f32(w, Int32(di), Int32(ht), Int32(di), Int32(nr), &pk)
            return try attendTokens(ex, a, f, queries: q, queriesAdd: .none, lda: di, scores: .dense(pk), scoreBias: nil,
                                    n: n, t: t, b: b, residual: residual)
        }
        // Group j: rows j·g·t ..< (j+1)·g·t, columns j·g·hd ..< (j+1)·g·hd of w, packed back to back.
        let groups = f.heads / g, gt = g * t, gk = g * hd
        let groupFloats = Int(sam2r_pack_f32_size(Int32(gt), Int32(gk), Int32(nr))) / 4
        guard groups * groupFloats <= b.packedKeys.count else {
            throw EngineError.bufferTooSmall(operand: "folded attention packed weights (bytes)",
                                             needed: 4 * groups * groupFloats, available: 4 * b.packedKeys.count)
        }
        try withUnsafeTemporaryAllocation(of: sam2r_packed_f32.self, capacity: groups) { packs in
            for j in 0..<groups {
                packs[j] = sam2r_packed_f32(n: Int32(gt), k: Int32(gk), nr: Int32(nr), data: b.packedKeys.p + j * groupFloats)
                sam2r_pack_f32(w + j * gt * di + j * gk, Int32(di), Int32(gt), Int32(gk), Int32(nr), &packs[j])
            }
            try attendTokens(ex, a, f, queries: q, queriesAdd: .none, lda: di,
                             scores: .groups(UnsafePointer(packs.baseAddress!), heads: g), scoreBias: nil, n: n, t: t, b: b,
                             residual: residual)
        }
    }

    /// Heads per group of the block-diagonal scores: the most (dividing `heads`) whose tokens fit one panel
    /// of `nr`, when groups cost fewer padded MACs per row than the whole matrix; else 0 (the whole matrix).
    static func scoreGroupHeads(heads: Int, tokens t: Int, headDim hd: Int, nr: Int) -> Int {
        let g = (1...heads).last { heads % $0 == 0 && $0 * t <= nr } ?? 1
        func panels(_ cols: Int) -> Int { (cols + nr - 1) / nr }
        let grouped = heads / g * panels(g * t) * g * hd, whole = panels(heads * t) * heads * hd
        return grouped < whole ? g : 0
    }

    /// k_hi, v_hi of the t tokens and ṽ_hi = Wo_h v_hi (into b.rows, [heads·t][dim]).
    private static func projectTokens(_ ex: Exec, _ a: AttentionWeights, _ f: FoldedAttentionWeights,
                                      k: UnsafePointer<Float>, v: UnsafePointer<Float>, t: Int,
                                      b: FoldedAttentionBuffers, kProj: Buf, vProj: Buf) throws {
        let d = f.dim, hd = f.headDim, di = hd * f.heads
        try ex.linear(k, rows: t, a.k, kProj.p)
        try ex.linear(v, rows: t, a.v, vProj.p)
        for h in 0..<f.heads {
            try gemmF32(m: t, n: d, k: hd, a: UnsafeBufferPointer(start: vProj.p + h * hd, count: (t - 1) * di + hd),
                        lda: di, weights: f.outT[h],
                        c: UnsafeMutableBufferPointer(start: b.rows.p + h * t * d, count: t * d), pool: ex.pool)
        }
    }

    /// scores = queries · score weightsᵀ (+ scoreBias), softmax per head, out = P · ṽ + bo, and the residual
    /// LayerNorm, per block of image rows in one pooled pass (sam2r_decoder_i2t.h: the scores and the attention
    /// output never reach memory).
    private static func attendTokens(_ ex: Exec, _ a: AttentionWeights, _ f: FoldedAttentionWeights,
                                     queries: UnsafePointer<Float>, queriesAdd: AddedRows, lda: Int,
                                     scores: ScoreWeights,
                                     scoreBias: UnsafePointer<Float>?, n: Int, t: Int, b: FoldedAttentionBuffers,
                                     residual r: ResidualNorm) throws {
        let d = f.dim, ht = f.heads * t, nr = f.i2tKernel.nr
        // ṽ as GEMM weights [N = dim, K = heads·t].
        let pv = sam2r_packed_f32(n: Int32(d), k: Int32(ht), nr: Int32(nr), data: b.packedValues.p)
        try checkFits(pv, b.packedValues)
        packTransposed(b.rows.p, rows: ht, cols: d, nr: nr, into: b.packedValues)
        var dense = sam2r_packed_f32()
        var groups: UnsafePointer<sam2r_packed_f32>? = nil, groupHeads = 0
        switch scores {
        case .dense(let p): dense = p
        case .groups(let p, let g): (groups, groupHeads) = (p, g)
        }
        let status = withUnsafePointer(to: dense) { pk in
            withUnsafePointer(to: pv) { pvp in
                a.out.bias.withUnsafeBufferPointer { bo in
                    r.norm.gamma.withUnsafeBufferPointer { g in
                        r.norm.beta.withUnsafeBufferPointer { be in
                            var args = sam2r_decoder_i2t_args(
                                rows: Int32(n), heads: Int32(f.heads), tokens: Int32(t), dim: Int32(d), a: queries,
                                lda: Int32(lda), a_add: queriesAdd.f32, w_s: groups == nil ? pk : nil, bias_s: scoreBias,
                                w_o: pvp, bias_o: bo.baseAddress, x: r.x,
                                row: r.row, gamma: g.baseAddress, beta: be.baseAddress, eps: r.norm.eps, pe: r.pe,
                                y: r.y, y_pe: r.yPE, a_add_f16: queriesAdd.f16, w_s_groups: groups,
                                group_heads: Int32(groupHeads))
                            return sam2r_decoder_i2t(f.i2tKernel.ukernel, ex.rowops.table,
                                                     sam2r_softmax_short_for(ISA.active.cValue), &args, ex.pool?.handle)
                        }
                    }
                }
            }
        }
        guard status == 0 else {
            throw EngineError.invalidParameter(name: "decoder image → token", value: "\(ht) scores, dim \(d)",
                                               allowed: "<= \(SAM2R_DECODER_I2T_MAX_SCORES) scores, dim <= \(SAM2R_DECODER_I2T_MAX_DIM)")
        }
    }

    /// C[m][w.n] = bias + A W^T with weights packed per call (shapes checked by the caller's plan).
    static func gemm(_ ex: Exec, _ uk: GemmF32Kernel, m: Int, _ w: sam2r_packed_f32, a: UnsafePointer<Float>,
                             lda: Int, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int) {
        withUnsafePointer(to: w) { wp in
            var args = sam2r_gemm_f32_args(m: Int32(m), n: w.n, k: w.k, a: a, lda: Int32(lda), w: wp, bias: bias,
                                           c: c, ldc: Int32(ldc))
            sam2r_gemm_f32(uk.ukernel, &args, ex.pool?.handle)
        }
    }

    /// The planned buffer can hold the packed matrix (the plan sized it for the token capacity).
    static func checkFits(_ p: sam2r_packed_f32, _ buf: Buf) throws {
        let need = Int(sam2r_pack_f32_size(p.n, p.k, p.nr))
        guard need <= buf.count * 4 else {
            throw EngineError.bufferTooSmall(operand: "folded attention packed weights (bytes)", needed: need,
                                             available: buf.count * 4)
        }
    }

    /// Packs m[rows][cols] as GEMM weights W[n = cols][k = rows] (W = mᵀ) in sam2r_pack_f32's layout
    /// data[n / nr][k][n % nr]: each (panel, k) is a contiguous run of row k.
    static func packTransposed(_ m: UnsafePointer<Float>, rows: Int, cols: Int, nr: Int, into buf: Buf) {
        var d = buf.p
        for nb in stride(from: 0, to: cols, by: nr) {
            let nv = min(nr, cols - nb)
            for k in 0..<rows {
                d.update(from: m + k * cols + nb, count: nv)
                if nv < nr { (d + nv).update(repeating: 0, count: nr - nv) }
                d += nr
            }
        }
    }
}
