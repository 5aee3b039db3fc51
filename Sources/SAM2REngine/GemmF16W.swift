// GemmF16W.swift — fp32 GEMM over binary16-stored weights (Kernels/include/sam2r_gemm_f16w.h): packing at
// load, the per-context widening scratch, and the validated call. Same bits as gemmF32 over the widened
// weights; half the weight bytes, for products of a few rows that stream their weights from memory.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SAM2RKernels

/// binary16 weights [N, K] packed once for one `GemmF32Kernel` (the fp32 micro-kernel the widened panels run).
public final class PackedWeightsF16: @unchecked Sendable {
    public let kernel: GemmF32Kernel
    public let n: Int
    public let k: Int
    public let descriptor: UnsafeMutablePointer<sam2r_packed_f16>

    /// The deepest K a scratch is sized for (F16WScratch); SAM2's widest token-side product has K = 2048.
    public static let maxK = 8192

    /// Packs `weights` (row-major [n][k] binary16 bits, row stride ldw) into memory this object owns.
    public init(bits weights: UnsafeBufferPointer<UInt16>, n: Int, k: Int, ldw: Int? = nil, isa: ISA = .active) throws {
        let ldw = ldw ?? k
        try Check.positive(n, "weights N")
        try Check.positive(k, "weights K")
        try Check.int32(n, "weights N")
        try Check.matrix(rows: n, cols: k, ld: ldw, count: weights.count, "weights")
        guard k <= PackedWeightsF16.maxK else {
            throw EngineError.invalidParameter(name: "f16 weights K", value: "\(k)", allowed: "1...\(PackedWeightsF16.maxK)")
        }
        kernel = try GemmF32Kernel(isa: isa)
        self.n = n
        self.k = k
        let bytes = Int(sam2r_pack_f16_size(Int32(n), Int32(k), Int32(kernel.nr)))
        var data: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&data, PackedWeightsF32.dataAlignment, bytes) == 0, let d = data else {
            throw EngineError.resourceUnavailable("posix_memalign(64, \(bytes)) for packed f16 weights")
        }
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: sam2r_packed_f16())
        descriptor.pointee.data = d.bindMemory(to: UInt16.self, capacity: bytes / 2)
        sam2r_pack_f16(weights.baseAddress, Int32(ldw), Int32(n), Int32(k), Int32(kernel.nr), descriptor)
    }

    deinit {
        free(descriptor.pointee.data)
        descriptor.deallocate()
    }

    /// The row-major [n][k] weights, widened (exact).
    public func widened() -> [Float] {
        Check.unpackPanels(descriptor.pointee.data!, n: n, k: k, nr: kernel.nr) { sam2r_f16_to_f32($0) }
    }
}

/// Where gemmF16W widens its weight panels: one panel (nr x maxK floats) per pool worker, allocated once
/// (at load); pages a product never reaches are never touched, so they cost no resident memory. Micro-kernels
/// with a binary16 twin (AVX2 + F16C, NEON) widen in registers and never touch it.
public final class F16WScratch: @unchecked Sendable {
    public let floats: Int
    let p: UnsafeMutablePointer<Float>
    let kernel: GemmF32Kernel

    public init(threads: Int, isa: ISA = .active) throws {
        kernel = try GemmF32Kernel(isa: isa)
        floats = Int(sam2r_gemm_f16w_scratch_floats(kernel.ukernel, Int32(PackedWeightsF16.maxK), Int32(max(threads, 1))))
        var data: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&data, PackedWeightsF32.dataAlignment, floats * 4) == 0, let d = data else {
            throw EngineError.resourceUnavailable("posix_memalign(64, \(floats * 4)) for the f16 weight scratch")
        }
        p = d.bindMemory(to: Float.self, capacity: floats)
    }

    deinit { free(p) }
}

/// C[m, n] = bias[n] + sum_k A[m, k] widen(W[n, k]), with `weights`' kernel; `scratch` sized for the pool.
public func gemmF16W(m: Int, n: Int, k: Int,
                     a: UnsafeBufferPointer<Float>, lda: Int? = nil,
                     weights: PackedWeightsF16, bias: UnsafeBufferPointer<Float>? = nil,
                     c: UnsafeMutableBufferPointer<Float>, ldc: Int? = nil,
                     scratch: F16WScratch, pool: ThreadPool? = nil) throws {
    let lda = lda ?? k, ldc = ldc ?? n
    try Check.positive(m, "M")
    try Check.int32(m, "M")
    guard weights.n == n, weights.k == k else {
        throw EngineError.shapeMismatch(operand: "packed f16 weights [N, K]", expected: [n, k],
                                        actual: [weights.n, weights.k])
    }
    guard scratch.kernel.ukernel == weights.kernel.ukernel else {
        throw EngineError.layoutMismatch(operand: "f16 weight scratch", expected: weights.kernel.name,
                                         actual: scratch.kernel.name)
    }
    let needed = Int(sam2r_gemm_f16w_scratch_floats(weights.kernel.ukernel, Int32(k), Int32(pool?.threadCount ?? 1)))
    guard needed <= scratch.floats else {
        throw EngineError.bufferTooSmall(operand: "f16 weight scratch (floats)", needed: needed, available: scratch.floats)
    }
    try Check.gemmBuffers(m: m, n: n, k: k, aCount: a.count, lda: lda, cCount: c.count, ldc: ldc, biasCount: bias?.count)
    var args = sam2r_gemm_f16w_args(
        m: Int32(m), n: Int32(n), k: Int32(k), a: a.baseAddress, lda: Int32(lda),
        w: UnsafePointer(weights.descriptor), bias: bias?.baseAddress,
        c: c.baseAddress, ldc: Int32(ldc))
    sam2r_gemm_f16w(weights.kernel.ukernel, &args, scratch.p, pool?.handle)
}
