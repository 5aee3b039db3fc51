// Exec.swift — the execution context a forward runs against: workspace (plan or replay), thread
// pool, kernel tables, and an optional observer that sees named intermediates (tests compare them
// with the goldens). Every op is a no-op in the planning pass.

import SAM2REngine
import SAM2RKernels

/// Sees intermediate `name`: `values` are elements [offset, offset + values.count) of the tensor
/// (tiled producers report a tensor in several pieces). Layouts are channels-last.
public typealias TensorObserver = (_ name: String, _ values: UnsafeBufferPointer<Float>, _ offset: Int) -> Void

/// Sees the name of each intermediate as it is produced (tap points, in order), without its values: the
/// producers skip work a `TensorObserver` would need (timing: `sam2r bench`'s stage boundaries).
public typealias StageObserver = (_ name: String) -> Void

/// Sees the input of GEMM `name` (a Linear / Conv / ConvTranspose, named by its weight's state_dict
/// prefix, see `GemmLayer`) just before it runs: `rows` rows of `cols` floats, row stride `ld`.
/// A layer may report several row tiles per forward (tiled producers).
public typealias GemmInputObserver = (_ name: String, _ x: UnsafePointer<Float>, _ rows: Int, _ cols: Int, _ ld: Int) -> Void

/// Sees the fp32 output of GEMM `name` right after it ran (bias added; int8 GEMMs: dequantized), in the
/// same call order and row tiling as `GemmInputObserver`, for the fp32 and the int8 path alike, so that
/// an fp32 and an int8 forward can be compared call by call (SAM2RQuant's layer SQNR).
/// `rows` rows of `cols` (the GEMM N) floats, row stride `ld`.
public typealias GemmOutputObserver = (_ name: String, _ y: UnsafePointer<Float>, _ rows: Int, _ cols: Int, _ ld: Int) -> Void

final class Exec {
    let ws: Workspace
    let pool: ThreadPool?
    let rowops: RowOps
    let attentionKernel: UnsafePointer<sam2r_attention_f32_ukernel>
    /// The int8-product attention (sam2r_attention_s8.h) of the same ISA: Hiera's global blocks in an int8 trunk.
    let attentionS8Kernel: UnsafePointer<sam2r_attention_s8_ukernel>
    var observer: TensorObserver?
    /// Sees only the names of the taps (offset 0), never their values: no work is done to produce them.
    var stageObserver: StageObserver?
    var gemmInputObserver: GemmInputObserver?
    var gemmOutputObserver: GemmOutputObserver?
    /// Arena buffer the int8 GEMMs quantize their input rows into (int8 view of the floats), planned
    /// by the predictor when it has an int8 plan (SAM2ImagePredictor.replan).
    var int8Input: Buf?
    /// Where the binary16-weight GEMMs widen their panels: the predictor's, shared by every Exec it makes.
    let f16Scratch: F16WScratch

    init(ws: Workspace, pool: ThreadPool?, f16Scratch: F16WScratch) throws {
        self.ws = ws
        self.pool = pool
        self.f16Scratch = f16Scratch
        rowops = try RowOps()
        guard let uk = sam2r_attention_f32_ukernel_for(ISA.active.cValue) else {
            throw EngineError.kernelUnavailable(family: "attention_f32", isa: ISA.active.name)
        }
        attentionKernel = uk
        guard let uk8 = sam2r_attention_s8_ukernel_for(ISA.active.cValue) else {
            throw EngineError.kernelUnavailable(family: "attention_s8", isa: ISA.active.name)
        }
        attentionS8Kernel = uk8
    }

    var planning: Bool { ws.planning }
    var threads: Int { pool?.threadCount ?? 1 }

    @inline(__always)
    func tap(_ name: @autoclosure () -> String, _ p: UnsafePointer<Float>, _ count: Int, offset: Int = 0) {
        guard !planning else { return }
        if let observer {
            observer(name(), UnsafeBufferPointer(start: p, count: count), offset)
        } else if offset == 0, let stageObserver {
            stageObserver(name())
        }
    }

    // MARK: - Ops

    /// y[rows, out] (stride ldy) = x[rows, in] (stride ldx) W^T + b.
    func linear(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, _ l: Linear,
                _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil) throws {
        if let q = l.int8 { return try linearS8(x, rows: rows, ldx: ldx, l, q, y, ldy: ldy) }
        guard !planning, rows > 0, l.packed != nil || l.half != nil else { return }
        let k = l.inFeatures, n = l.outFeatures
        let lda = ldx ?? k, ldc = ldy ?? n
        if let o = gemmInputObserver, !l.name.isEmpty { o(l.name, x, rows, k, lda) }
        let a = UnsafeBufferPointer(start: x, count: (rows - 1) * lda + k)
        let c = UnsafeMutableBufferPointer(start: y, count: (rows - 1) * ldc + n)
        try l.bias.withUnsafeBufferPointer { b in
            if let half = l.half {
                try gemmF16W(m: rows, n: n, k: k, a: a, lda: lda, weights: half, bias: b, c: c, ldc: ldc,
                             scratch: f16Scratch, pool: pool)
            } else if let packed = l.packed {
                try gemmF32(m: rows, n: n, k: k, a: a, lda: lda, weights: packed, bias: b, c: c, ldc: ldc, pool: pool)
            }
        }
        if let o = gemmOutputObserver, !l.name.isEmpty { o(l.name, y, rows, n, ldc) }
    }

    /// The int8 GEMM of an int8 Linear (scheme: Int8.swift): quantize x, then the GEMM.
    private func linearS8(_ x: UnsafePointer<Float>, rows: Int, ldx: Int?, _ l: Linear, _ q: Int8Linear,
                          _ y: UnsafeMutablePointer<Float>, ldy: Int?) throws {
        guard !planning, rows > 0 else { return }
        let k = l.inFeatures
        let lda = ldx ?? k
        let a = try int8Rows(l, rows: rows)
        if let o = gemmInputObserver, !l.name.isEmpty { o(l.name, x, rows, k, lda) }
        try quantizeInput(x, rows: rows, ldx: lda, q, into: a)
        try linear(quantized: a, rows: rows, l, q, y, ldy: ldy)
    }

    /// a = the `rows` rows of x (`q`'s input width, row stride ldx) quantized with `q`'s input scale and zero
    /// point: the first step of every int8 GEMM. Throws on a NaN.
    func quantizeInput(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, _ q: Int8Linear,
                       into a: UnsafeMutableBufferPointer<Int8>) throws {
        let k = q.packed.k, lda = ldx ?? k
        if lda == k {
            try rowops.quantize(x: UnsafeBufferPointer(start: x, count: rows * k), y: a,
                                inverseScale: q.inverseScale, zeroPoint: q.zeroPoint, pool: pool)
        } else {
            for r in 0..<rows {
                try rowops.quantize(x: UnsafeBufferPointer(start: x + r * lda, count: k),
                                    y: UnsafeMutableBufferPointer(rebasing: a[(r * k)..<((r + 1) * k)]),
                                    inverseScale: q.inverseScale, zeroPoint: q.zeroPoint)
            }
        }
    }

    /// The `rows` x in int8 input rows of `l`, in the planned `int8Input` buffer.
    private func int8Rows(_ l: Linear, rows: Int) throws -> UnsafeMutableBufferPointer<Int8> {
        let k = l.inFeatures
        guard let qa = int8Input, rows * k <= qa.count * 4 else {
            throw EngineError.planMismatch("int8 input of '\(l.name)' (\(rows * k) bytes) does not fit the planned buffer")
        }
        let a = UnsafeMutableRawPointer(qa.p).bindMemory(to: Int8.self, capacity: rows * k)
        return UnsafeMutableBufferPointer(start: a, count: rows * k)
    }

    /// Where the producer of `l`'s input (a LayerNorm, a GELU) can quantize it itself, so the fp32 input is
    /// never written: an int8 `l` whose fp32 input no observer wants. nil: produce fp32 and call `linear`.
    /// The int8 rows (`rows` x in) are what `linear(quantized:)` then takes.
    func fusedInput(_ l: Linear, rows: Int) throws -> (q: Int8Linear, a: UnsafeMutableBufferPointer<Int8>)? {
        guard !planning, rows > 0, let q = l.int8, gemmInputObserver == nil else { return nil }
        return (q, try int8Rows(l, rows: rows))
    }

    /// y[rows, out] (stride ldy) = the int8 GEMM of `l` on `a`, its input already quantized with `q`'s scale.
    func linear(quantized a: UnsafeMutableBufferPointer<Int8>, rows: Int, _ l: Linear, _ q: Int8Linear,
                _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil) throws {
        guard !planning, rows > 0 else { return }
        let k = l.inFeatures, n = l.outFeatures
        let ldc = ldy ?? n
        try q.bias.withUnsafeBufferPointer { b in
            try q.scale.withUnsafeBufferPointer { s in
                try gemmS8(m: rows, n: n, k: k, a: UnsafeBufferPointer(rebasing: a[0..<(rows * k)]),
                           aZeroPoint: q.zeroPoint, weights: q.packed, bias: b, scale: s,
                           c: UnsafeMutableBufferPointer(start: y, count: (rows - 1) * ldc + n), ldc: ldc, pool: pool)
            }
        }
        if let o = gemmOutputObserver, !l.name.isEmpty { o(l.name, y, rows, n, ldc) }
    }

    /// y = l(LayerNorm(x)), x `rows` packed rows. Fused into int8 when `fusedInput` allows (and the row
    /// fits the fused scratch); otherwise the normalized rows go through `t` (rows x in floats).
    func layerNormLinear(_ x: UnsafePointer<Float>, rows: Int, _ n: Norm, _ l: Linear,
                         _ y: UnsafeMutablePointer<Float>, via t: UnsafeMutablePointer<Float>) throws {
        guard !planning, rows > 0 else { return }
        let c = n.gamma.count
        if c <= RowOps.fusedMaxCols, case let (q, a)? = try fusedInput(l, rows: rows) {
            try n.gamma.withUnsafeBufferPointer { g in
                try n.beta.withUnsafeBufferPointer { b in
                    try rowops.layerNormQuantize(x: UnsafeBufferPointer(start: x, count: rows * c), rows: rows, cols: c,
                                                 gamma: g, beta: b, eps: n.eps, y: a, inverseScale: q.inverseScale,
                                                 zeroPoint: q.zeroPoint, pool: pool)
                }
            }
            return try linear(quantized: a, rows: rows, l, q, y)
        }
        try layerNorm(x, rows: rows, n, t)
        try linear(t, rows: rows, l, y)
    }

    /// y = l(gelu(h)), h `rows` packed rows of l's input; unfused, gelu runs in place on h.
    func geluLinear(_ h: UnsafeMutablePointer<Float>, rows: Int, _ l: Linear, _ y: UnsafeMutablePointer<Float>) throws {
        guard !planning, rows > 0 else { return }
        let count = rows * l.inFeatures
        if case let (q, a)? = try fusedInput(l, rows: rows) {
            try rowops.geluQuantize(x: UnsafeBufferPointer(start: h, count: count), y: a, inverseScale: q.inverseScale,
                                    zeroPoint: q.zeroPoint, pool: pool)
            return try linear(quantized: a, rows: rows, l, q, y)
        }
        try gelu(h, count)
        try linear(h, rows: rows, l, y)
    }

    func layerNorm(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, _ n: Norm,
                   _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil) throws {
        guard !planning, rows > 0 else { return }
        let c = n.gamma.count, lx = ldx ?? c, ly = ldy ?? c
        try n.gamma.withUnsafeBufferPointer { g in
            try n.beta.withUnsafeBufferPointer { b in
                try rowops.layerNorm(x: UnsafeBufferPointer(start: x, count: (rows - 1) * lx + c), ldx: lx,
                                     y: UnsafeMutableBufferPointer(start: y, count: (rows - 1) * ly + c), ldy: ly,
                                     rows: rows, cols: c, gamma: g, beta: b, eps: n.eps, pool: pool)
            }
        }
    }

    func gelu(_ p: UnsafeMutablePointer<Float>, _ count: Int) throws {
        guard !planning, count > 0 else { return }
        try rowops.gelu(x: UnsafeBufferPointer(start: p, count: count), y: UnsafeMutableBufferPointer(start: p, count: count),
                        pool: pool)
    }

    func relu(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        guard !planning else { return }
        for i in 0..<count where !(p[i] > 0) { p[i] = 0 }
    }

    /// y = a + b (y may be a or b).
    func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) throws {
        guard !planning, count > 0 else { return }
        if y == UnsafeMutablePointer(mutating: b), y != UnsafeMutablePointer(mutating: a) {
            try add(b, a, y, count)
            return
        }
        try rowops.add(a: UnsafeBufferPointer(start: a, count: count), b: UnsafeBufferPointer(start: b, count: count),
                       y: UnsafeMutableBufferPointer(start: y, count: count), pool: pool)
    }

    /// Floats of attention scratch (all workers) for head dims dk, dv; `int8Keys`: the int8 kernel's, which
    /// also depends on the key count (each task quantizes its head's K and V into it).
    func attentionScratchFloats(dk: Int, dv: Int, int8Keys nk: Int? = nil) -> Int {
        let perWorker = nk.map { Int(sam2r_attention_s8_scratch_floats(attentionS8Kernel, Int32($0), Int32(dk), Int32(dv))) }
            ?? Int(sam2r_attention_f32_scratch_floats(attentionKernel, Int32(dk), Int32(dv)))
        return perWorker * threads + 16
    }

    /// Multi-head SDPA, heads side by side in the columns; scale 1/sqrt(dk). `int8`: Q·Kᵀ and P·V in int8
    /// (per-token Q/K, per-channel V, 7-bit P; docs/numerics.md "int8 attention"), fp32 in and out.
    func attention(batch: Int, heads: Int, nq: Int, nk: Int, dk: Int, dv: Int,
                   q: UnsafePointer<Float>, ldq: Int, qStride: Int,
                   k: UnsafePointer<Float>, ldk: Int, kStride: Int,
                   v: UnsafePointer<Float>, ldv: Int, vStride: Int,
                   o: UnsafeMutablePointer<Float>, ldo: Int, oStride: Int, int8: Bool = false, scratch: Buf) {
        guard !planning else { return }
        precondition(scratch.count >= attentionScratchFloats(dk: dk, dv: dv, int8Keys: int8 ? nk : nil))
        var args = sam2r_attention_f32_args(
            batch: Int32(batch), heads: Int32(heads), nq: Int32(nq), nk: Int32(nk), dk: Int32(dk), dv: Int32(dv),
            q: q, ldq: Int32(ldq), q_batch_stride: Int64(qStride),
            k: k, ldk: Int32(ldk), k_batch_stride: Int64(kStride),
            v: v, ldv: Int32(ldv), v_batch_stride: Int64(vStride),
            o: o, ldo: Int32(ldo), o_batch_stride: Int64(oStride),
            scale: 1 / Float(dk).squareRoot(), ml: nil, k_add: nil, k_add_f16: nil)
        if int8 {
            precondition(UInt(bitPattern: scratch.p) % 64 == 0, "attention_s8 scratch must be 64-byte aligned")
            sam2r_attention_s8(attentionS8Kernel, &args, pool?.handle, scratch.p)
        } else {
            sam2r_attention_f32(attentionKernel, &args, pool?.handle, scratch.p)
        }
    }

    static func resizeScratchFloats(_ mode: sam2r_resize_mode, inH: Int, inW: Int, outH: Int, outW: Int, c: Int) -> Int {
        Int(sam2r_resize_scratch_floats(mode, Int32(inH), Int32(inW), Int32(outH), Int32(outW), Int32(c)))
    }

    func resize(_ mode: sam2r_resize_mode, _ x: UnsafePointer<Float>, inH: Int, inW: Int, c: Int,
                _ y: UnsafeMutablePointer<Float>, outH: Int, outW: Int, scratch: Buf) {
        guard !planning else { return }
        precondition(scratch.count >= Exec.resizeScratchFloats(mode, inH: inH, inW: inW, outH: outH, outW: outW, c: c))
        sam2r_resize_f32(mode, x, Int32(inH), Int32(inW), Int32(c), y, Int32(outH), Int32(outW), scratch.p, pool?.handle)
    }
}
