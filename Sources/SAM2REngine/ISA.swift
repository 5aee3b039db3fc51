// ISA.swift — Swift view of the kernels' run-time dispatch (Kernels/include/sam2r_isa.h).
//
// dispatch.c is the only place that reads CPU features; this file only asks it.

import SAM2RKernels

/// An instruction-set variant of the kernels.
public enum ISA: Int, CaseIterable, Sendable, CustomStringConvertible {
    case scalar = 0
    case avx2 = 1
    case avxvnni = 2
    case avx512vnni = 3
    case neon = 4
    case dotprod = 5
    case i8mm = 6

    /// The C enum value.
    @inlinable
    public var cValue: sam2r_isa { sam2r_isa(rawValue: numericCast(rawValue)) }

    /// From the C enum; nil for values outside the enum.
    public init?(_ c: sam2r_isa) {
        guard let v = ISA(rawValue: Int(c.rawValue)) else { return nil }
        self = v
    }

    /// Parses a name as accepted by SAM2R_ISA ("scalar", "avx2", ...).
    public init?(name: String) {
        let r = sam2r_isa_parse(name)
        guard r >= 0, let v = ISA(rawValue: Int(r)) else { return nil }
        self = v
    }

    /// Lower-case name, as accepted by SAM2R_ISA.
    public var name: String { String(cString: sam2r_isa_name(cValue)) }
    public var description: String { name }

    /// Whether this build contains the variant and this CPU can run it.
    public var isSupported: Bool { sam2r_isa_supported(cValue) != 0 }

    /// Every variant this machine can run, in enum order.
    public static var supported: [ISA] { allCases.filter(\.isSupported) }

    /// The best variant this CPU supports, ignoring SAM2R_ISA.
    public static var best: ISA { ISA(sam2r_isa_best()) ?? .scalar }

    /// The variant kernels use now (SAM2R_ISA if valid, a forced one, else the best).
    public static var active: ISA { ISA(sam2r_isa_active()) ?? .scalar }

    /// The message explaining why SAM2R_ISA was ignored, or nil when it is unset or valid.
    public static var environmentError: String? {
        _ = sam2r_isa_active()  // the environment is read on first use
        guard let p = sam2r_isa_env_error() else { return nil }
        return String(cString: p)
    }

    /// Throws `EngineError.isaEnvironment` when SAM2R_ISA names an unknown or unsupported variant.
    public static func validateEnvironment() throws {
        if let message = environmentError { throw EngineError.isaEnvironment(message) }
    }

    /// Makes `isa` the active variant (for kernels and weight packing done from now on).
    /// Throws `EngineError.unsupportedISA` if this machine cannot run it; nothing changes then.
    public static func force(_ isa: ISA) throws {
        guard isa.isSupported, sam2r_isa_force(isa.cValue) == 0 else {
            throw EngineError.unsupportedISA(isa.name)
        }
    }

    /// Detected CPU features relevant to the kernels, e.g. "avx2 fma avx512f ...".
    public static var cpuFeatures: String { String(cString: sam2r_cpu_features()) }

    /// Architecture this library was compiled for: "x86_64", "aarch64" or "other".
    public static var architecture: String { String(cString: sam2r_arch_name()) }

    /// Names of the kernel variants each family dispatches to under this ISA (nil: none in this build).
    public var kernelNames: KernelNames {
        KernelNames(
            gemmS8: sam2r_gemm_s8_ukernel_for(cValue).map { String(cString: $0.pointee.name) },
            gemmF32: sam2r_gemm_f32_ukernel_for(cValue).map { String(cString: $0.pointee.name) },
            rowOps: sam2r_rowops_for(cValue).map { String(cString: $0.pointee.name) },
            attention: sam2r_attention_f32_ukernel_for(cValue).map { String(cString: $0.pointee.name) })
    }

    /// The kernel variant names of one ISA.
    public struct KernelNames: Sendable, Equatable, CustomStringConvertible {
        public var gemmS8: String?
        public var gemmF32: String?
        public var rowOps: String?
        public var attention: String?
        public var description: String {
            "gemm_s8=\(gemmS8 ?? "-") gemm_f32=\(gemmF32 ?? "-") rowops=\(rowOps ?? "-") attention=\(attention ?? "-")"
        }
    }
}
