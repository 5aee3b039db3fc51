// ExecDecoder.swift — the mask decoder's ops that the shared row ops do not split over the pool: a
// softmax over many short rows (image → token attention: 4096 · heads rows of ~8 scores) and the
// upscaling tail fused with the mask logits (Kernels/decoder_tail.c). Why: at 2 threads these ran on one
// core while the other idled, and the tail's unfused passes streamed megabytes each. Every split here is by
// whole rows, so which thread computes a row never changes how: results are bit-identical for any thread count.

import SAM2REngine
import SAM2RKernels

extension Exec {
    /// Calls body(context, lo, hi) on disjoint ranges covering [0, count): on the pool when it has more than
    /// one thread and each task gets at least `minChunk` items (a pool round trip costs a few microseconds),
    /// else once on the caller. About 4 tasks per thread, so a late worker does not hold up the rest.
    /// `body` is a C function pointer and `context` a value it reads through the raw pointer (bound to `C`):
    /// a Swift closure here would need a heap-allocated context (`withoutActuallyEscaping`), one allocation
    /// per call — inference must allocate nothing (make test-alloc, `sam2r bench`).
    func forEachRange<C>(_ count: Int, minChunk: Int, _ context: C, _ body: RangeBody) {
        guard count > 0 else { return }
        let tasks = min(4 * threads, count / max(minChunk, 1))
        withUnsafePointer(to: context) { cp in
            let ctx = UnsafeRawPointer(cp)
            guard let pool, tasks > 1 else { return body(ctx, 0, count) }
            let chunk = (count + tasks - 1) / tasks
            var job = RangeJob(body: body, context: ctx, count: count, chunk: chunk)
            withUnsafeMutablePointer(to: &job) { jp in
                sam2r_pool_run(pool.handle, { raw, task, _ in
                    let j = raw!.assumingMemoryBound(to: RangeJob.self)
                    let lo = Int(task) * j.pointee.chunk
                    let hi = min(lo + j.pointee.chunk, j.pointee.count)
                    if lo < hi { j.pointee.body(j.pointee.context, lo, hi) }
                }, jp, Int32((count + chunk - 1) / chunk))
            }
        }
    }

    /// x = softmax(x) in place per contiguous row of `cols`, rows split over the pool. Rows of at most 16
    /// run one row per vector lane (sam2r_softmax_short.h) where the ISA has that variant, else through
    /// the row kernel: the same bits either way.
    func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        guard !planning, rows > 0, cols > 0 else { return }
        // ~32 K scores per task at least (the elementwise row ops' threshold, sam2r_rowops_par.h).
        let minChunk = max(1, 32768 / cols)
        if cols <= Int(SAM2R_SOFTMAX_SHORT_MAX_COLS), let short = sam2r_softmax_short_for(ISA.active.cValue) {
            forEachRange(rows, minChunk: minChunk, (short, x, cols)) { raw, lo, hi in
                let (short, x, cols) = raw!.load(as: (sam2r_softmax_short_fn, UnsafeMutablePointer<Float>, Int).self)
                short(x + lo * cols, x + lo * cols, Int32(hi - lo), Int32(cols))
            }
            return
        }
        forEachRange(rows, minChunk: minChunk, (rowops.table.pointee.softmax!, x, cols)) { raw, lo, hi in
            typealias Row = @convention(c) (UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?, Int32, Int32, Int32) -> Void
            let (sm, x, cols) = raw!.load(as: (Row, UnsafeMutablePointer<Float>, Int).self)
            sm(x + lo * cols, Int32(cols), x + lo * cols, Int32(cols), Int32(hi - lo), Int32(cols))
        }
    }
}

extension Exec {
    /// y[r] = x[r] + row for each of `rows` rows of `cols` (the add of a broadcast per-channel vector, as
    /// the reference adds the no-mask dense embedding: the same IEEE add per element).
    func addRow(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, rows: Int, cols: Int,
                _ y: UnsafeMutablePointer<Float>) {
        guard !planning, rows > 0, cols > 0 else { return }
        let add = rowops.table.pointee.add!
        for r in 0..<rows { add(x + r * cols, row, y + r * cols, cols) }
    }

    /// y = LayerNorm(x (+ row) + b) and, with `pe`, yPE = y + pe, in one pass (RowOps.residualLayerNorm):
    /// the decoder's "keys = norm(keys + attn_out)" followed by the next attention's "keys + key_pe".
    func residualLayerNorm(_ x: UnsafePointer<Float>, row: UnsafePointer<Float>? = nil, _ b: UnsafePointer<Float>,
                           rows: Int, _ n: Norm, _ y: UnsafeMutablePointer<Float>, pe: UnsafePointer<Float>? = nil,
                           yPE: UnsafeMutablePointer<Float>? = nil) throws {
        guard !planning, rows > 0 else { return }
        let c = n.gamma.count, count = rows * c
        try n.gamma.withUnsafeBufferPointer { g in
            try n.beta.withUnsafeBufferPointer { be in
                try rowops.residualLayerNorm(x: UnsafeBufferPointer(start: x, count: count),
                                             row: row.map { UnsafeBufferPointer(start: $0, count: c) },
                                             b: UnsafeBufferPointer(start: b, count: count),
                                             y: UnsafeMutableBufferPointer(start: y, count: count), rows: rows, cols: c,
                                             gamma: g, beta: be, eps: n.eps,
                                             pe: pe.map { UnsafeBufferPointer(start: $0, count: count) },
                                             yPE: yPE.map { UnsafeMutableBufferPointer(start: $0, count: count) },
                                             pool: pool)
            }
        }
    }
}

extension Exec {
    /// Upscaling stage 1 (sam2r_par_upscale_norm_gelu): v = gelu(LayerNorm(col2im(g) + skip)), g the
    /// ConvTranspose (kernel = stride = 2) GEMM output [side²][ldg], skip and v [2·side][2·side][channels].
    /// v goes to `y`, or, with `quantized` (Exec.fusedInput of the next GEMM), only its int8 quantization to
    /// `quantized.a`: the bits of writing v and quantizing it, as `linear` would. Throws on a NaN quantize
    /// input like that quantize. With `gemm` (withTailGemm) instead of g, g is computed row by row inside.
    func upscaleNormGelu(_ g: UnsafePointer<Float>?, gemm: UnsafePointer<sam2r_tail_gemm>? = nil, ldg: Int, side: Int,
                         channels: Int, skip: AddedRows, _ n: Norm, into y: UnsafeMutablePointer<Float>?,
                         quantized: (q: Int8Linear, a: UnsafeMutableBufferPointer<Int8>)?) throws {
        guard !planning, side > 0 else { return }
        try Exec.checkTail(channels: channels, ldg: ldg, g: g, gemm: gemm)
        precondition((y == nil) != (quantized == nil), "upscaleNormGelu writes exactly one of y, quantized")
        guard n.gamma.count == channels, n.beta.count == channels else {
            throw EngineError.invalidParameter(name: "LayerNorm width", value: "\(n.gamma.count)", allowed: "\(channels)")
        }
        let nan = n.gamma.withUnsafeBufferPointer { gamma in
            n.beta.withUnsafeBufferPointer { beta in
                sam2r_par_upscale_norm_gelu(rowops.table, pool?.handle, g, gemm, Int32(ldg), Int32(side), Int32(side),
                                            Int32(channels), 2, skip.f32, skip.f16, gamma.baseAddress, beta.baseAddress,
                                            n.eps, y,
                                            quantized?.a.baseAddress, quantized?.q.inverseScale ?? 1,
                                            quantized?.q.zeroPoint ?? 0)
            }
        }
        if nan >= 0 {
            throw EngineError.valueOutOfRange(operand: "quantize input", index: Int(nan), value: "nan", allowed: "not NaN")
        }
    }

    /// Upscaling stage 2 + mask logits (sam2r_par_upscale_gelu_logits): u = gelu(col2im(g) + skip), written to
    /// `y` when given; logits[m][p] = Σ_c hyper[m][c]·u[p][c] in the header's order (docs/numerics.md "Mask
    /// logits"), mask m at logits + m·(2·side)². With `gemm` instead of g, as in upscaleNormGelu.
    func upscaleGeluLogits(_ g: UnsafePointer<Float>?, gemm: UnsafePointer<sam2r_tail_gemm>? = nil, ldg: Int, side: Int,
                           channels: Int, skip: AddedRows, into y: UnsafeMutablePointer<Float>?,
                           hyper: UnsafePointer<Float>, masks: Int, logits: UnsafeMutablePointer<Float>) throws {
        guard !planning, side > 0 else { return }
        try Exec.checkTail(channels: channels, ldg: ldg, g: g, gemm: gemm)
        sam2r_par_upscale_gelu_logits(rowops.table, pool?.handle, g, gemm, Int32(ldg), Int32(side), Int32(side),
                                      Int32(channels), 2, skip.f32, skip.f16, y, hyper, Int32(masks), logits,
                                      Int64(4 * side * side))
    }

    /// Runs `body` with the fused tail's GEMM source (sam2r_tail_gemm): `q`'s GEMM on `a` (`rows` x in, from
    /// `quantizeInput`), one input row of `rowPixels` GEMM rows at a time into `scratch`, which holds
    /// `tailGemmScratchFloats(rowPixels:ldg:)`. The GEMM's output never goes to memory (4-8 MB at SAM2's shape).
    func withTailGemm<R>(_ q: Int8Linear, _ a: UnsafeMutableBufferPointer<Int8>, rows: Int,
                         scratch: UnsafeMutablePointer<Float>,
                         _ body: (UnsafePointer<sam2r_tail_gemm>) throws -> R) throws -> R {
        let k = q.packed.k
        return try q.bias.withUnsafeBufferPointer { b in
            try q.scale.withUnsafeBufferPointer { s in
                var args = try gemmS8F32Arguments(m: rows, n: q.packed.n, k: k,
                                                  a: UnsafeBufferPointer(rebasing: a[0..<(rows * k)]),
                                                  aZeroPoint: q.zeroPoint, weights: q.packed, bias: b, scale: s)
                return try withUnsafePointer(to: &args) { ap in
                    var src = sam2r_tail_gemm(uk: q.packed.kernel.ukernel, args: ap, scratch: scratch)
                    return try withUnsafePointer(to: &src) { try body($0) }
                }
            }
        }
    }

    /// Floats of a sam2r_tail_gemm scratch: one input row (`rowPixels` GEMM rows of `ldg`) per thread.
    func tailGemmScratchFloats(rowPixels: Int, ldg: Int) -> Int { threads * rowPixels * ldg }

    /// The fused tail's shape limits: one input pixel's 2 × channels outputs fit its scratch; g holds them
    /// (or the GEMM computes rows of n <= ldg).
    private static func checkTail(channels: Int, ldg: Int, g: UnsafePointer<Float>?,
                                  gemm: UnsafePointer<sam2r_tail_gemm>?) throws {
        precondition((g == nil) != (gemm == nil), "the tail reads exactly one of g, gemm")
        if let gemm, Int(gemm.pointee.args.pointee.n) > ldg {
            throw EngineError.invalidParameter(name: "ldg", value: "\(ldg)", allowed: ">= \(gemm.pointee.args.pointee.n)")
        }
        guard channels > 0, 2 * channels <= Int(SAM2R_TAIL_SCRATCH_FLOATS) else {
            throw EngineError.invalidParameter(name: "channels", value: "\(channels)",
                                               allowed: "1...\(Int(SAM2R_TAIL_SCRATCH_FLOATS) / 2)")
        }
        guard ldg >= 4 * channels else {
            throw EngineError.invalidParameter(name: "ldg", value: "\(ldg)", allowed: ">= \(4 * channels)")
        }
    }
}

/// A range task: reads its arguments from `context` (a value the caller keeps alive during the call).
typealias RangeBody = @convention(c) (_ context: UnsafeRawPointer?, _ lo: Int, _ hi: Int) -> Void

private struct RangeJob {
    let body: RangeBody
    let context: UnsafeRawPointer
    let count: Int
    let chunk: Int
}
