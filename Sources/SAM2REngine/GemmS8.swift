// GemmS8.swift — int8 GEMM (Kernels/include/sam2r_gemm_s8.h): weight packing at load, and the
// validated call. Every precondition of the C contract is checked here and thrown as EngineError;
// the call itself allocates nothing.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SAM2RKernels

/// One int8 GEMM variant (micro-kernel) and its packed-weight layout.
public struct GemmS8Kernel: @unchecked Sendable {
    public let ukernel: UnsafePointer<sam2r_gemm_s8_ukernel>

    /// The variant of `isa` (default: the active ISA). Throws `unsupportedISA` if this CPU cannot
    /// run it, `kernelUnavailable` if the build has no such variant. `narrowWeights`: the variant for
    /// weights within ±`narrowWeightMax` (7-bit quantized), which only some ISAs have (`hasNarrowVariant`).
    public init(isa: ISA = .active, narrowWeights: Bool = false) throws {
        guard isa.isSupported else { throw EngineError.unsupportedISA(isa.name) }
        let found = narrowWeights ? sam2r_gemm_s8_narrow_ukernel_for(isa.cValue) : sam2r_gemm_s8_ukernel_for(isa.cValue)
        guard let uk = found else {
            throw EngineError.kernelUnavailable(family: narrowWeights ? "gemm_s8 (narrow weights)" : "gemm_s8",
                                                isa: isa.name)
        }
        ukernel = uk
        self.narrowWeights = narrowWeights
    }

    /// Whether this is a narrow-weight variant: its weights must all be within ±`narrowWeightMax`.
    public let narrowWeights: Bool

    /// Largest weight magnitude the narrow-weight variants accept (a 7-bit quantization stays within it).
    public static let narrowWeightMax = Int(SAM2R_S8_NARROW_WEIGHT_MAX)

    /// Whether `isa` has a narrow-weight variant in this build (AVX2: vpmaddubsw instead of the exact
    /// int16 pair, 1.2-1.3x the GEMM rate on Zen 3).
    public static func hasNarrowVariant(_ isa: ISA) -> Bool { sam2r_gemm_s8_narrow_ukernel_for(isa.cValue) != nil }

    /// The variant that runs the GEMMs of weights whose largest magnitude is `maxAbsWeight` on `isa`: the
    /// narrow-weight one where the weights allow it and `isa` has one, else the 8-bit one (also for 0: a
    /// model without int8 weights keeps the default kernel and layout).
    public static func forWeights(maxAbsWeight: Int, isa: ISA = .active) throws -> GemmS8Kernel {
        let narrow = (1...narrowWeightMax).contains(maxAbsWeight) && hasNarrowVariant(isa)
        return try GemmS8Kernel(isa: isa, narrowWeights: narrow)
    }

    /// The packed layout of `isa`'s narrow-weight kernel, nil where it has none (also for builds or CPUs that
    /// cannot run it). AVX2's shares the avxvnni kernel's body (`x86/gemm_s8_c4_ymm_impl.h`), so its layout.
    public static func narrowPackingLayout(_ isa: ISA) -> (nr: Int, kr: Int)? {
        isa == .avx2 ? packingLayout(.avxvnni) : nil
    }

    public var name: String { String(cString: ukernel.pointee.name) }
    public var isa: ISA { ISA(ukernel.pointee.isa) ?? .scalar }
    public var mr: Int { Int(ukernel.pointee.mr) }
    public var nr: Int { Int(ukernel.pointee.nr) }
    public var kr: Int { Int(ukernel.pointee.kr) }

    /// The packed-weight layout (NR, KR) of each variant's int8 kernel, also for variants this build or
    /// CPU cannot run (a model file for a Raspberry Pi is packed on x86). Equal to the kernels' own
    /// `nr`/`kr` (checked by a test for every variant the machine runs); `narrowWeights`: of the variant
    /// for 7-bit weights where the ISA has one (else the 8-bit variant's).
    public static func packingLayout(_ isa: ISA, narrowWeights: Bool = false) -> (nr: Int, kr: Int) {
        if narrowWeights, let layout = narrowPackingLayout(isa) { return layout }
        switch isa {
        case .scalar: return (8, 4)
        case .avx2: return (16, 2)
        case .avxvnni: return (16, 4)
        case .avx512vnni: return (48, 4)
        case .neon: return (8, 16)
        case .dotprod: return (8, 4)
        case .i8mm: return (8, 8)
        }
    }
}

/// Int8 weights [N, K] (PyTorch Linear layout) packed once for one `GemmS8Kernel`.
/// GEMMs with these weights run that kernel (the variant chosen when they were packed).
public final class PackedWeightsS8: @unchecked Sendable {
    public let kernel: GemmS8Kernel
    public let n: Int
    public let k: Int
    /// The C descriptor (stable address, passed to the kernel).
    public let descriptor: UnsafeMutablePointer<sam2r_packed_s8>
    private let ownsMemory: Bool
    /// Keeps the memory of wrapped packed data alive (e.g. a model file's mapping).
    private var owner: AnyObject? = nil

    /// Largest K the int32 accumulator allows.
    public static let maxK = 65536
    public static let dataAlignment = 64

    /// Bytes of packed data for an [n, k] weight in `kernel`'s layout.
    public static func dataByteCount(n: Int, k: Int, kernel: GemmS8Kernel) -> Int {
        Int(sam2r_pack_s8_size(Int32(clamping: n), Int32(clamping: k), Int32(kernel.nr), Int32(kernel.kr)))
    }

    /// Packs into memory this object allocates (64-byte aligned) and frees.
    public convenience init(weights: UnsafeBufferPointer<Int8>, n: Int, k: Int, ldw: Int? = nil,
                            isa: ISA = .active) throws {
        try self.init(weights: weights, n: n, k: k, ldw: ldw, kernel: GemmS8Kernel(isa: isa))
    }

    /// Packs for `kernel` into memory this object allocates (64-byte aligned) and frees. A narrow-weight
    /// kernel refuses weights beyond ±`GemmS8Kernel.narrowWeightMax`.
    public convenience init(weights: UnsafeBufferPointer<Int8>, n: Int, k: Int, ldw: Int? = nil,
                            kernel: GemmS8Kernel) throws {
        try PackedWeightsS8.validate(weights: weights, n: n, k: k, ldw: ldw ?? k, narrow: kernel.narrowWeights)
        let bytes = PackedWeightsS8.dataByteCount(n: n, k: k, kernel: kernel)
        var data: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&data, PackedWeightsS8.dataAlignment, bytes) == 0, let d = data else {
            throw EngineError.resourceUnavailable("posix_memalign(64, \(bytes)) for packed int8 weights")
        }
        let wsum = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        self.init(kernel: kernel, weights: weights, n: n, k: k, ldw: ldw ?? k,
                  data: d, wsum: wsum, owns: true)
    }

    /// Packs into caller memory: `data` of at least `dataByteCount` bytes, 64-byte aligned; `wsum`
    /// of n entries. The memory must outlive this object.
    public convenience init(weights: UnsafeBufferPointer<Int8>, n: Int, k: Int, ldw: Int? = nil,
                            isa: ISA = .active, data: UnsafeMutableRawBufferPointer,
                            wsum: UnsafeMutableBufferPointer<Int32>) throws {
        let kernel = try GemmS8Kernel(isa: isa)
        try PackedWeightsS8.validate(weights: weights, n: n, k: k, ldw: ldw ?? k, narrow: false)
        let (d, w) = try PackedWeightsS8.checkMemory(UnsafeRawBufferPointer(data), UnsafeBufferPointer(wsum),
                                                     n: n, k: k, kernel: kernel)
        self.init(kernel: kernel, weights: weights, n: n, k: k, ldw: ldw ?? k, data: UnsafeMutableRawPointer(mutating: d),
                  wsum: UnsafeMutablePointer(mutating: w), owns: false)
    }

    /// The base addresses of packed-weight memory, checked: `data` at least `dataByteCount` bytes and
    /// 64-byte aligned, `wsum` at least n entries.
    private static func checkMemory(_ data: UnsafeRawBufferPointer, _ wsum: UnsafeBufferPointer<Int32>, n: Int, k: Int,
                                    kernel: GemmS8Kernel) throws -> (UnsafeRawPointer, UnsafePointer<Int32>) {
        let bytes = PackedWeightsS8.dataByteCount(n: n, k: k, kernel: kernel)
        guard let d = data.baseAddress, data.count >= bytes else {
            throw EngineError.bufferTooSmall(operand: "packed int8 weight data (bytes)", needed: bytes,
                                             available: data.count)
        }
        try Check.aligned(d, PackedWeightsS8.dataAlignment, "packed int8 weight data")
        guard let w = wsum.baseAddress, wsum.count >= n else {
            throw EngineError.bufferTooSmall(operand: "wsum", needed: n, available: wsum.count)
        }
        return (d, w)
    }

    /// n and k within what the kernels accept.
    private static func checkShape(n: Int, k: Int) throws {
        try Check.positive(n, "weights N")
        try Check.positive(k, "weights K")
        try Check.int32(n, "weights N")
        guard k <= maxK else {
            throw EngineError.invalidParameter(name: "K", value: "\(k)", allowed: "1...\(maxK)")
        }
    }

    /// Wraps weights already packed in `kernel`'s layout (e.g. memory-mapped from a model file):
    /// nothing is copied. `data` holds `dataByteCount` bytes, 64-byte aligned; `wsum` n entries. Both
    /// must stay valid and unchanged while this object lives; the caller has checked their values
    /// (no -128, wsum consistent with data: see `sam2r_packed_s8`). `owner`, if given, is retained
    /// for as long as this object lives (the holder of the memory).
    public init(packedData data: UnsafeRawBufferPointer, wsum: UnsafeBufferPointer<Int32>, n: Int, k: Int,
                kernel: GemmS8Kernel, owner: AnyObject? = nil) throws {
        try PackedWeightsS8.checkShape(n: n, k: k)
        let (d, w) = try PackedWeightsS8.checkMemory(data, wsum, n: n, k: k, kernel: kernel)
        self.kernel = kernel
        self.n = n
        self.k = k
        ownsMemory = false
        self.owner = owner
        descriptor = .allocate(capacity: 1)
        // The kernels only read through data and wsum; the C struct has no const members.
        descriptor.initialize(to: sam2r_packed_s8(
            n: Int32(n), k: Int32(k), nr: Int32(kernel.nr), kr: Int32(kernel.kr),
            data: UnsafeMutablePointer(mutating: d.assumingMemoryBound(to: Int8.self)),
            wsum: UnsafeMutablePointer(mutating: w)))
    }

    private init(kernel: GemmS8Kernel, weights: UnsafeBufferPointer<Int8>, n: Int, k: Int, ldw: Int,
                 data: UnsafeMutableRawPointer, wsum: UnsafeMutablePointer<Int32>, owns: Bool) {
        self.kernel = kernel
        self.n = n
        self.k = k
        self.ownsMemory = owns
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: sam2r_packed_s8())
        // sam2r_pack_s8 writes through out->data / out->wsum: set them before packing.
        descriptor.pointee.data = data.bindMemory(to: Int8.self, capacity: PackedWeightsS8.dataByteCount(n: n, k: k, kernel: kernel))
        descriptor.pointee.wsum = wsum
        sam2r_pack_s8(weights.baseAddress, Int32(ldw), Int32(n), Int32(k), Int32(kernel.nr), Int32(kernel.kr),
                      descriptor)
    }

    deinit {
        if ownsMemory {
            free(descriptor.pointee.data)
            descriptor.pointee.wsum?.deallocate()
        }
        descriptor.deallocate()
    }

    /// Shape, stride, count and value checks (no -128; with `narrow`, nothing beyond ±narrowWeightMax),
    /// before anything is allocated.
    static func validate(weights: UnsafeBufferPointer<Int8>, n: Int, k: Int, ldw: Int, narrow: Bool) throws {
        try checkShape(n: n, k: k)
        try Check.matrix(rows: n, cols: k, ld: ldw, count: weights.count, "weights")
        let limit = narrow ? GemmS8Kernel.narrowWeightMax : 127
        for row in 0..<n {
            let base = row * ldw
            for col in 0..<k where abs(Int(weights[base + col])) > limit {
                throw EngineError.valueOutOfRange(operand: "int8 weights [\(row), \(col)]", index: base + col,
                                                  value: "\(weights[base + col])", allowed: "-\(limit)...\(limit)")
            }
        }
    }
}

// MARK: - GEMM

/// Shared checks of both int8 GEMM entry points; returns the resolved strides.
private func validateGemmS8(m: Int, n: Int, k: Int, a: UnsafeBufferPointer<Int8>, lda: Int, aZeroPoint: Int32,
                            weights: PackedWeightsS8, bias: UnsafeBufferPointer<Int32>?,
                            scale: UnsafeBufferPointer<Float>, cCount: Int, ldc: Int) throws {
    try Check.positive(m, "M")
    try Check.positive(n, "N")
    try Check.positive(k, "K")
    try Check.int32(m, "M")
    guard k <= PackedWeightsS8.maxK else {
        throw EngineError.invalidParameter(name: "K", value: "\(k)", allowed: "1...\(PackedWeightsS8.maxK)")
    }
    guard weights.n == n, weights.k == k else {
        throw EngineError.shapeMismatch(operand: "packed weights [N, K]", expected: [n, k],
                                        actual: [weights.n, weights.k])
    }
    let d = weights.descriptor.pointee
    guard Int(d.nr) == weights.kernel.nr, Int(d.kr) == weights.kernel.kr else {
        throw EngineError.layoutMismatch(operand: "packed weights", expected: "nr=\(weights.kernel.nr) kr=\(weights.kernel.kr)",
                                         actual: "nr=\(d.nr) kr=\(d.kr)")
    }
    guard let data = d.data else { throw EngineError.zeroSize(operand: "packed weight data") }
    try Check.aligned(data, PackedWeightsS8.dataAlignment, "packed int8 weight data")
    try Check.matrix(rows: m, cols: k, ld: lda, count: a.count, "A")
    try Check.matrix(rows: m, cols: n, ld: ldc, count: cCount, "C")
    try Check.int8ZeroPoint(aZeroPoint, "aZeroPoint")
    try Check.count(scale.count, n, "scale")
    try Check.finite(scale, positive: false, "scale")
    if let bias { try Check.count(bias.count, n, "bias") }
}

/// C[m, n] = requant(sum_k A[m, k] W[n, k] - aZeroPoint * wsum[n] + bias[n]) with `weights`' kernel.
/// A is M x K (row stride lda, default K); C is M x N int8 (row stride ldc, default N).
public func gemmS8(m: Int, n: Int, k: Int,
                   a: UnsafeBufferPointer<Int8>, lda: Int? = nil, aZeroPoint: Int32,
                   weights: PackedWeightsS8, bias: UnsafeBufferPointer<Int32>? = nil,
                   scale: UnsafeBufferPointer<Float>,
                   c: UnsafeMutableBufferPointer<Int8>, ldc: Int? = nil,
                   outZeroPoint: Int32, qmin: Int32 = -128, qmax: Int32 = 127,
                   pool: ThreadPool? = nil) throws {
    let lda = lda ?? k, ldc = ldc ?? n
    try validateGemmS8(m: m, n: n, k: k, a: a, lda: lda, aZeroPoint: aZeroPoint, weights: weights, bias: bias,
                       scale: scale, cCount: c.count, ldc: ldc)
    try Check.int8ZeroPoint(outZeroPoint, "outZeroPoint")
    guard qmin >= -128, qmax <= 127, qmin <= qmax else {
        throw EngineError.invalidParameter(name: "qmin...qmax", value: "\(qmin)...\(qmax)",
                                           allowed: "qmin <= qmax within -128...127")
    }
    var args = sam2r_gemm_s8_args(
        m: Int32(m), n: Int32(n), k: Int32(k), a: a.baseAddress, lda: Int32(lda), a_zero_point: aZeroPoint,
        w: UnsafePointer(weights.descriptor), bias: bias?.baseAddress, scale: scale.baseAddress,
        epilogue: SAM2R_EPI_S8, out_zero_point: outZeroPoint, qmin: qmin, qmax: qmax,
        c: UnsafeMutableRawPointer(c.baseAddress), ldc: Int32(ldc))
    sam2r_gemm_s8(weights.kernel.ukernel, &args, pool?.handle)
}

/// C[m, n] = (float)(sum_k A[m, k] W[n, k] - aZeroPoint * wsum[n] + bias[n]) * scale[n] (fp32 output).
public func gemmS8(m: Int, n: Int, k: Int,
                   a: UnsafeBufferPointer<Int8>, lda: Int? = nil, aZeroPoint: Int32,
                   weights: PackedWeightsS8, bias: UnsafeBufferPointer<Int32>? = nil,
                   scale: UnsafeBufferPointer<Float>,
                   c: UnsafeMutableBufferPointer<Float>, ldc: Int? = nil,
                   pool: ThreadPool? = nil) throws {
    let lda = lda ?? k, ldc = ldc ?? n
    try validateGemmS8(m: m, n: n, k: k, a: a, lda: lda, aZeroPoint: aZeroPoint, weights: weights, bias: bias,
                       scale: scale, cCount: c.count, ldc: ldc)
    var args = sam2r_gemm_s8_args(
        m: Int32(m), n: Int32(n), k: Int32(k), a: a.baseAddress, lda: Int32(lda), a_zero_point: aZeroPoint,
        w: UnsafePointer(weights.descriptor), bias: bias?.baseAddress, scale: scale.baseAddress,
        epilogue: SAM2R_EPI_F32, out_zero_point: 0, qmin: -128, qmax: 127,
        c: UnsafeMutableRawPointer(c.baseAddress), ldc: Int32(ldc))
    sam2r_gemm_s8(weights.kernel.ukernel, &args, pool?.handle)
}

/// The checked arguments of the fp32-output int8 GEMM (the `gemmS8` above) for a caller that runs it itself,
/// a few rows at a time next to what consumes them (the decoder tail's sam2r_tail_gemm); `c` is left NULL.
/// The pointers in the result are those of `a`, `bias` and `scale`: valid only while those are.
public func gemmS8F32Arguments(m: Int, n: Int, k: Int, a: UnsafeBufferPointer<Int8>, aZeroPoint: Int32,
                               weights: PackedWeightsS8, bias: UnsafeBufferPointer<Int32>?,
                               scale: UnsafeBufferPointer<Float>) throws -> sam2r_gemm_s8_args {
    try validateGemmS8(m: m, n: n, k: k, a: a, lda: k, aZeroPoint: aZeroPoint, weights: weights, bias: bias,
                       scale: scale, cCount: m * n, ldc: n)
    return sam2r_gemm_s8_args(
        m: Int32(m), n: Int32(n), k: Int32(k), a: a.baseAddress, lda: Int32(k), a_zero_point: aZeroPoint,
        w: UnsafePointer(weights.descriptor), bias: bias?.baseAddress, scale: scale.baseAddress,
        epilogue: SAM2R_EPI_F32, out_zero_point: 0, qmin: -128, qmax: 127, c: nil, ldc: Int32(n))
}
