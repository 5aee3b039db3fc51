// ExecDecoder.swift — the mask decoder's ops that the shared row ops do not split over the pool: a
// softmax over many short rows (image → token attention: 4096 · heads rows of ~8 scores) and any
// per-row loop the decoder runs in Swift (mask logits, the upscaling's col2im + skip add). Why: at 2 threads these ran on one core while
// the other idled. Every split here is by whole rows, so which thread computes a row never changes
// how: results are bit-identical for any thread count.

import SAM2REngine
import SAM2RKernels

extension Exec {
    /// Calls body(lo, hi) on disjoint ranges covering [0, count): on the pool when it has more than one
    /// thread and each task gets at least `minChunk` items (a pool round trip costs a few microseconds),
    /// else once on the caller. About 4 tasks per thread, so a late worker does not hold up the rest.
    func forEachRange(_ count: Int, minChunk: Int, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let tasks = min(4 * threads, count / max(minChunk, 1))
        guard let pool, tasks > 1 else { return body(0, count) }
        let chunk = (count + tasks - 1) / tasks
        withoutActuallyEscaping(body) { f in
            var job = RangeJob(body: f, count: count, chunk: chunk)
            withUnsafeMutablePointer(to: &job) { jp in
                sam2r_pool_run(pool.handle, { ctx, task, _ in
                    let j = ctx!.assumingMemoryBound(to: RangeJob.self)
                    let lo = Int(task) * j.pointee.chunk
                    let hi = min(lo + j.pointee.chunk, j.pointee.count)
                    if lo < hi { j.pointee.body(lo, hi) }
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
            forEachRange(rows, minChunk: minChunk) { lo, hi in
                short(x + lo * cols, x + lo * cols, Int32(hi - lo), Int32(cols))
            }
            return
        }
        let sm = rowops.table.pointee.softmax!
        forEachRange(rows, minChunk: minChunk) { lo, hi in
            sm(x + lo * cols, Int32(cols), x + lo * cols, Int32(cols), Int32(hi - lo), Int32(cols))
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
        forEachRange(h, minChunk: max(1, 32768 / (k * yrow))) { lo, hi in
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

private struct RangeJob {
    let body: (Int, Int) -> Void
    let count: Int
    let chunk: Int
}
