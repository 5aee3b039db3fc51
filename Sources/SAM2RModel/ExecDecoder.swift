// ExecDecoder.swift — the mask decoder's ops that the shared row ops do not split over the pool: a
// softmax over many short rows (image → token attention: 4096 · heads rows of ~8 scores) and any
// per-row loop the decoder runs in Swift (mask logits, the upscaling's col2im + skip add). Why: at 2 threads these ran on one core while
// the other idled. Every split here is by whole rows, so which thread computes a row never changes
// how: results are bit-identical for any thread count.

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
                _ y: UnsafeMutablePointer<Float>) throws {
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
    /// y = col2im(g) + a: sam2r_col2im_stride_eq_kernel_f32 (ConvTranspose with stride = kernel `k`: every
    /// output pixel is one GEMM output, copied) followed by the skip connection's add, in one pass over y
    /// instead of a copy and then an add; input rows split over the pool. Each output is the same single
    /// IEEE add as `add` computes, so the bits are those of the two-step order.
    /// g: [h·w][ldg] (column ky·k·out + kx·out + c), a and y: [h·k][w·k][out].
    func col2imAdd(_ g: UnsafePointer<Float>, ldg: Int, height h: Int, width w: Int, channels out: Int, kernel k: Int,
                   add a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        guard !planning, h > 0, w > 0 else { return }
        let seg = k * out, yrow = w * seg
        let job = Col2imAdd(g: g, ldg: ldg, w: w, k: k, seg: seg, yrow: yrow, a: a, y: y)
        forEachRange(h, minChunk: max(1, 32768 / (k * yrow)), job) { raw, lo, hi in
            let j = raw!.load(as: Col2imAdd.self)
            let (g, ldg, w, k, seg, yrow, a, y) = (j.g, j.ldg, j.w, j.k, j.seg, j.yrow, j.a, j.y)
            for iy in lo..<hi {
                for ix in 0..<w {
                    let gr = g + (iy * w + ix) * ldg
                    for ky in 0..<k {
                        let o = (iy * k + ky) * yrow + ix * seg
                        addRun(gr + ky * seg, a + o, y + o, seg)
                    }
                }
            }
        }
    }
}

/// y[i] = x[i] + b[i] for i < n, 8 lanes at a time (plain IEEE adds: the same bits on every ISA).
@inline(__always)
private func addRun(_ x: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            + UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] = x[i] + b[i]; i += 1 }
}

/// A range task: reads its arguments from `context` (a value the caller keeps alive during the call).
typealias RangeBody = @convention(c) (_ context: UnsafeRawPointer?, _ lo: Int, _ hi: Int) -> Void

private struct RangeJob {
    let body: RangeBody
    let context: UnsafeRawPointer
    let count: Int
    let chunk: Int
}

private struct Col2imAdd {
    let g: UnsafePointer<Float>, ldg: Int, w: Int, k: Int, seg: Int, yrow: Int
    let a: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
}
