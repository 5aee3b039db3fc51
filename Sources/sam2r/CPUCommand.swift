// `sam2r cpu`: what the dispatcher sees and which kernel each family runs.
import ArgumentParser
import SAM2RKernels

struct CPUCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Show detected ISA features and the kernel variant each kernel family dispatches to."
    )

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    func run() throws {
        if let err = sam2r_isa_env_error() {
            throw CLIError(String(cString: err))
        }
        let report = CPUReport.current()
        print(json ? report.json() : report.text())
    }
}

/// The dispatcher's view of this machine, shared by `cpu` and `bench`.
struct CPUReport {
    let arch: String
    let features: String
    let active: sam2r_isa
    let supported: [sam2r_isa]

    static func current() -> CPUReport {
        let all = (0..<Int(SAM2R_ISA_COUNT.rawValue)).map { sam2r_isa(rawValue: UInt32($0)) }
        return CPUReport(
            arch: String(cString: sam2r_arch_name()),
            features: String(cString: sam2r_cpu_features()),
            active: sam2r_isa_active(),
            supported: all.filter { sam2r_isa_supported($0) != 0 })
    }

    static func name(_ isa: sam2r_isa) -> String { String(cString: sam2r_isa_name(isa)) }

    static func kernelNames(_ isa: sam2r_isa) -> (s8: String, f32: String, rowops: String) {
        let s8 = sam2r_gemm_s8_ukernel_for(isa).map { String(cString: $0.pointee.name) } ?? "none"
        let f32 = sam2r_gemm_f32_ukernel_for(isa).map { String(cString: $0.pointee.name) } ?? "none"
        let rows = sam2r_rowops_for(isa).map { String(cString: $0.pointee.name) } ?? "none"
        return (s8, f32, rows)
    }

    func text() -> String {
        let k = CPUReport.kernelNames(active)
        var lines = [
            "arch:       \(arch)",
            "features:   \(features)",
            "variants:   \(supported.map(CPUReport.name).joined(separator: " "))",
            "active:     \(CPUReport.name(active))\(activeSource)",
            "gemm_s8:    \(k.s8)",
            "gemm_f32:   \(k.f32)",
            "rowops:     \(k.rowops)",
        ]
        lines.append("(force a variant with SAM2R_ISA=\(supported.map(CPUReport.name).joined(separator: "|")))")
        return lines.joined(separator: "\n")
    }

    private var activeSource: String {
        if let env = getenvString("SAM2R_ISA"), !env.isEmpty { return " (forced by SAM2R_ISA)" }
        return " (best supported)"
    }

    func json() -> String {
        let k = CPUReport.kernelNames(active)
        let variants = supported.map { "\"\(CPUReport.name($0))\"" }.joined(separator: ",")
        return "{\"arch\":\"\(arch)\",\"features\":\"\(features)\",\"variants\":[\(variants)],"
            + "\"active\":\"\(CPUReport.name(active))\",\"gemm_s8\":\"\(k.s8)\",\"gemm_f32\":\"\(k.f32)\","
            + "\"rowops\":\"\(k.rowops)\"}"
    }
}
