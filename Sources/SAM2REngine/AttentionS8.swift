// AttentionS8.swift — int8 flash attention (Kernels/include/sam2r_attention_s8.h): fp32 Q, K, V in,
// fp32 O out, Q·Kᵀ and P·V in int8 (per-token Q/K, per-channel V, 7-bit P). The validated call
// allocates nothing; the caller provides the scratch (scratchFloats(...) floats, 64-byte aligned).
// Semantics and numerics are defined in the C header; every ISA variant gives the same bits.

import SAM2RKernels

/// One int8 attention variant.
public struct AttentionS8Kernel: @unchecked Sendable {
    public let ukernel: UnsafePointer<sam2r_attention_s8_ukernel>

    /// The variant of `isa` (default: the active ISA).
    public init(isa: ISA = .active) throws {
        guard isa.isSupported else { throw EngineError.unsupportedISA(isa.name) }
        guard let uk = sam2r_attention_s8_ukernel_for(isa.cValue) else {
            throw EngineError.kernelUnavailable(family: "attention_s8", isa: isa.name)
        }
        ukernel = uk
    }

    public var name: String { String(cString: ukernel.pointee.name) }
    public var isa: ISA { ISA(ukernel.pointee.isa) ?? .scalar }

    /// Largest supported head dimension (dk, dv), as for the fp32 kernel.
    public static let maxHeadDim = 256

    /// Floats of scratch for `threads` workers (each task quantizes its head's K and V into it).
    public func scratchFloats(nk: Int, dk: Int, dv: Int, threads: Int) -> Int {
        Int(sam2r_attention_s8_scratch_floats(ukernel, Int32(clamping: nk), Int32(clamping: dk), Int32(clamping: dv)))
            * max(threads, 1)
    }

    /// O[b][i][h*dv + d] = softmax_j(scale * Q_i·K_j) V_j per (batch, head), heads side by side in the
    /// columns, rows `ld*` apart and batches `*BatchStride` apart (elements). `o` must not overlap q, k, v.
    public func run(batch: Int, heads: Int, nq: Int, nk: Int, dk: Int, dv: Int,
                    q: UnsafeBufferPointer<Float>, ldq: Int, qBatchStride: Int,
                    k: UnsafeBufferPointer<Float>, ldk: Int, kBatchStride: Int,
                    v: UnsafeBufferPointer<Float>, ldv: Int, vBatchStride: Int,
                    o: UnsafeMutableBufferPointer<Float>, ldo: Int, oBatchStride: Int,
                    scale: Float, scratch: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil) throws {
        for (value, name) in [(batch, "batch"), (heads, "heads"), (nq, "nq"), (nk, "nk"), (dk, "dk"), (dv, "dv")]
            as [(Int, StaticString)] {
            try Check.positive(value, name)
            try Check.int32(value, name)
        }
        for (value, name) in [(dk, "dk"), (dv, "dv")] as [(Int, StaticString)] where value > Self.maxHeadDim {
            throw EngineError.invalidParameter(name: "\(name)", value: "\(value)", allowed: "1...\(Self.maxHeadDim)")
        }
        guard scale.isFinite, scale > 0 else {
            throw EngineError.invalidParameter(name: "scale", value: "\(scale)", allowed: "finite, > 0")
        }
        try Self.operand(count: q.count, batch: batch, rows: nq, cols: heads * dk, ld: ldq, batchStride: qBatchStride, "q")
        try Self.operand(count: k.count, batch: batch, rows: nk, cols: heads * dk, ld: ldk, batchStride: kBatchStride, "k")
        try Self.operand(count: v.count, batch: batch, rows: nk, cols: heads * dv, ld: ldv, batchStride: vBatchStride, "v")
        try Self.operand(count: o.count, batch: batch, rows: nq, cols: heads * dv, ld: ldo, batchStride: oBatchStride, "o")
        guard let qp = q.baseAddress, let kp = k.baseAddress, let vp = v.baseAddress, let op = o.baseAddress,
              let sp = scratch.baseAddress else { throw EngineError.zeroSize(operand: "attention buffer") }
        let fb = MemoryLayout<Float>.size
        for (p, n, name) in [(qp, q.count, "q"), (kp, k.count, "k"), (vp, v.count, "v")] as [(UnsafePointer<Float>, Int, StaticString)]
            where Check.overlaps(op, o.count * fb, p, n * fb) {
            throw EngineError.invalidParameter(name: "o", value: "overlaps \(name)", allowed: "disjoint from q, k, v")
        }
        let needed = scratchFloats(nk: nk, dk: dk, dv: dv, threads: pool?.threadCount ?? 1)
        guard scratch.count >= needed else {
            throw EngineError.bufferTooSmall(operand: "attention_s8 scratch (floats)", needed: needed, available: scratch.count)
        }
        try Check.aligned(sp, 64, "attention_s8 scratch")
        var args = sam2r_attention_s8_args(
            batch: Int32(batch), heads: Int32(heads), nq: Int32(nq), nk: Int32(nk), dk: Int32(dk), dv: Int32(dv),
            q: qp, ldq: Int32(ldq), q_batch_stride: Int64(qBatchStride),
            k: kp, ldk: Int32(ldk), k_batch_stride: Int64(kBatchStride),
            v: vp, ldv: Int32(ldv), v_batch_stride: Int64(vBatchStride),
            o: op, ldo: Int32(ldo), o_batch_stride: Int64(oBatchStride), scale: scale, ml: nil, k_add: nil, k_add_f16: nil)
        sam2r_attention_s8(ukernel, &args, pool?.handle, sp)
    }

    /// `batch` row-major blocks of rows x cols (stride ld), batchStride apart, within `count` elements.
    private static func operand(count: Int, batch: Int, rows: Int, cols: Int, ld: Int, batchStride: Int,
                                _ name: StaticString) throws {
        try Check.matrix(rows: rows, cols: cols, ld: ld, count: count, name)
        guard batch == 1 || batchStride >= 1 else {
            throw EngineError.invalidStride(operand: "\(name) batch", stride: batchStride, minimum: 1)
        }
        let (mul, o1) = (batch - 1).multipliedReportingOverflow(by: batchStride)
        let (end, o2) = mul.addingReportingOverflow((rows - 1) * ld + cols)
        guard !o1, !o2, end <= count else {
            throw EngineError.bufferTooSmall(operand: "\(name)", needed: o1 || o2 ? Int.max : end, available: count)
        }
    }
}
