// GemmF32.swift — fp32 GEMM with bias (Kernels/include/sam2r_gemm_f32.h): packing at load and the
// validated call. The call allocates nothing.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SAM2RKernels

/// One fp32 GEMM variant (micro-kernel) and its packed-weight layout.
public struct GemmF32Kernel: @unchecked Sendable {
    public let ukernel: UnsafePointer<sam2r_gemm_f32_ukernel>

    /// The variant of `isa` (default: the active ISA).
    public init(isa: ISA = .active) throws {
        guard isa.isSupported else { throw EngineError.unsupportedISA(isa.name) }
        guard let uk = sam2r_gemm_f32_ukernel_for(isa.cValue) else {
            throw EngineError.kernelUnavailable(family: "gemm_f32", isa: isa.name)
        }
        ukernel = uk
    }

    /// The variant of `isa` with 64-column panels (sam2r_gemm_f32_n64_ukernel_for: products with N = 64 or a
    /// multiple, a few rows per call), or nil where the ISA has none.
    public init?(n64For isa: ISA = .active) {
        guard isa.isSupported, let uk = sam2r_gemm_f32_n64_ukernel_for(isa.cValue) else { return nil }
        ukernel = uk
    }

    public var name: String { String(cString: ukernel.pointee.name) }
    public var isa: ISA { ISA(ukernel.pointee.isa) ?? .scalar }
    public var mr: Int { Int(ukernel.pointee.mr) }
    public var nr: Int { Int(ukernel.pointee.nr) }
}

/// fp32 weights [N, K] packed once for one `GemmF32Kernel`; GEMMs with them run that kernel.
public final class PackedWeightsF32: @unchecked Sendable {
    public let kernel: GemmF32Kernel
    public let n: Int
    public let k: Int
    public let descriptor: UnsafeMutablePointer<sam2r_packed_f32>
    private let ownsMemory: Bool

    public static let dataAlignment = 64

    public static func dataByteCount(n: Int, k: Int, kernel: GemmF32Kernel) -> Int {
        Int(sam2r_pack_f32_size(Int32(clamping: n), Int32(clamping: k), Int32(kernel.nr)))
    }

    /// Packs into memory this object allocates (64-byte aligned) and frees.
    public convenience init(weights: UnsafeBufferPointer<Float>, n: Int, k: Int, ldw: Int? = nil,
                            isa: ISA = .active) throws {
        let kernel = try GemmF32Kernel(isa: isa)
        try PackedWeightsF32.validate(weights: weights, n: n, k: k, ldw: ldw ?? k)
        let bytes = PackedWeightsF32.dataByteCount(n: n, k: k, kernel: kernel)
        var data: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&data, PackedWeightsF32.dataAlignment, bytes) == 0, let d = data else {
            throw EngineError.resourceUnavailable("posix_memalign(64, \(bytes)) for packed fp32 weights")
        }
        self.init(kernel: kernel, weights: weights, n: n, k: k, ldw: ldw ?? k, data: d, owns: true)
    }

    /// Packs into caller memory of at least `dataByteCount` bytes, 64-byte aligned, which must
    /// outlive this object.
    public convenience init(weights: UnsafeBufferPointer<Float>, n: Int, k: Int, ldw: Int? = nil,
                            isa: ISA = .active, data: UnsafeMutableRawBufferPointer) throws {
        let kernel = try GemmF32Kernel(isa: isa)
        try PackedWeightsF32.validate(weights: weights, n: n, k: k, ldw: ldw ?? k)
        let bytes = PackedWeightsF32.dataByteCount(n: n, k: k, kernel: kernel)
        guard let d = data.baseAddress, data.count >= bytes else {
            throw EngineError.bufferTooSmall(operand: "packed fp32 weight data (bytes)", needed: bytes,
                                             available: data.count)
        }
        try Check.aligned(d, PackedWeightsF32.dataAlignment, "packed fp32 weight data")
        self.init(kernel: kernel, weights: weights, n: n, k: k, ldw: ldw ?? k, data: d, owns: false)
    }

    private init(kernel: GemmF32Kernel, weights: UnsafeBufferPointer<Float>, n: Int, k: Int, ldw: Int,
                 data: UnsafeMutableRawPointer, owns: Bool) {
        self.kernel = kernel
        self.n = n
        self.k = k
        self.ownsMemory = owns
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: sam2r_packed_f32())
        descriptor.pointee.data = data.bindMemory(
            to: Float.self, capacity: PackedWeightsF32.dataByteCount(n: n, k: k, kernel: kernel) / 4)
        sam2r_pack_f32(weights.baseAddress, Int32(ldw), Int32(n), Int32(k), Int32(kernel.nr), descriptor)
    }

    deinit {
        if ownsMemory { free(descriptor.pointee.data) }
        descriptor.deallocate()
    }

    /// The row-major [n][k] weights.
    public func unpacked() -> [Float] { Check.unpackPanels(descriptor.pointee.data!, n: n, k: k, nr: kernel.nr) { $0 } }

    static func validate(weights: UnsafeBufferPointer<Float>, n: Int, k: Int, ldw: Int) throws {
        try Check.positive(n, "weights N")
        try Check.positive(k, "weights K")
        try Check.int32(n, "weights N")
        try Check.int32(k, "weights K")
        try Check.matrix(rows: n, cols: k, ld: ldw, count: weights.count, "weights")
    }
}

/// C[m, n] = bias[n] + sum_k A[m, k] W[n, k], fp32, with `weights`' kernel.
/// A is M x K (row stride lda, default K); C is M x N (row stride ldc, default N).
public func gemmF32(m: Int, n: Int, k: Int,
                    a: UnsafeBufferPointer<Float>, lda: Int? = nil,
                    weights: PackedWeightsF32, bias: UnsafeBufferPointer<Float>? = nil,
                    c: UnsafeMutableBufferPointer<Float>, ldc: Int? = nil,
                    pool: ThreadPool? = nil) throws {
    let lda = lda ?? k, ldc = ldc ?? n
    try Check.positive(m, "M")
    try Check.positive(n, "N")
    try Check.positive(k, "K")
    try Check.int32(m, "M")
    guard weights.n == n, weights.k == k else {
        throw EngineError.shapeMismatch(operand: "packed weights [N, K]", expected: [n, k],
                                        actual: [weights.n, weights.k])
    }
    let d = weights.descriptor.pointee
    guard Int(d.nr) == weights.kernel.nr else {
        throw EngineError.layoutMismatch(operand: "packed weights", expected: "nr=\(weights.kernel.nr)",
                                         actual: "nr=\(d.nr)")
    }
    guard let data = d.data else { throw EngineError.zeroSize(operand: "packed weight data") }
    try Check.aligned(data, PackedWeightsF32.dataAlignment, "packed fp32 weight data")
    try Check.gemmBuffers(m: m, n: n, k: k, aCount: a.count, lda: lda, cCount: c.count, ldc: ldc, biasCount: bias?.count)
    var args = sam2r_gemm_f32_args(
        m: Int32(m), n: Int32(n), k: Int32(k), a: a.baseAddress, lda: Int32(lda),
        w: UnsafePointer(weights.descriptor), bias: bias?.baseAddress,
        c: c.baseAddress, ldc: Int32(ldc))
    sam2r_gemm_f32(weights.kernel.ukernel, &args, pool?.handle)
}
