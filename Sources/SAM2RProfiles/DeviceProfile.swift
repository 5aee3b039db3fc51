// A device profile: the board's ISA, threads, arena budget, input size and precision (Profiles/README.md).
import Foundation

public struct DeviceProfile: Codable, Equatable, Sendable {
    public var schema: Int
    public var name: String
    public var description: String
    public var arch: String
    public var core: String
    public var requiredISA: [String]
    public var preferredISA: [String]
    public var threads: Int
    public var arenaBudgetBytes: Int
    public var inputSize: Int
    public var precision: String
    public var floatOps: [String]

    enum CodingKeys: String, CodingKey {
        case schema, name, description, arch, core, threads, precision
        case requiredISA = "required_isa", preferredISA = "preferred_isa"
        case arenaBudgetBytes = "arena_budget_bytes", inputSize = "input_size", floatOps = "float_ops"
    }

    public static let variantNames = ["scalar", "avx2", "avxvnni", "avx512vnni", "neon", "dotprod", "i8mm"]
    public static let architectures = ["aarch64", "x86_64"]
    public static let precisions = ["int8", "fp32"]
    public static let inputSizes = stride(from: 128, through: 2048, by: 32)

    /// The first field that breaks the schema, as "field: problem"; nil when valid.
    public func firstProblem() -> String? {
        if schema != 1 { return "schema: \(schema) is not a supported version (1)" }
        if name.isEmpty || name.contains("/") { return "name: must be a non-empty file-name-like identifier" }
        if !Self.architectures.contains(arch) { return "arch: '\(arch)' is not one of \(Self.architectures.joined(separator: ", "))" }
        for v in requiredISA + preferredISA where !Self.variantNames.contains(v) {
            return "required_isa/preferred_isa: unknown variant '\(v)'"
        }
        if preferredISA.isEmpty { return "preferred_isa: must name at least one variant" }
        if !(1...256).contains(threads) { return "threads: \(threads) is outside 1...256" }
        if arenaBudgetBytes <= 0 { return "arena_budget_bytes: must be positive" }
        if !Self.inputSizes.contains(inputSize) { return "input_size: \(inputSize) is not a multiple of 32 in 128...2048" }
        if !Self.precisions.contains(precision) { return "precision: '\(precision)' is not int8 or fp32" }
        if let bad = floatOps.first(where: { $0.isEmpty }) { return "float_ops: empty pattern '\(bad)'" }
        if floatOps.count > 4096 { return "float_ops: \(floatOps.count) patterns (at most 4096)" }
        if let long = floatOps.first(where: { $0.utf8.count > 512 }) {
            return "float_ops: pattern of \(long.utf8.count) bytes (at most 512)"
        }
        return nil
    }

    /// Whether an op name is kept in float on this profile (`*` matches any run of characters).
    public func keepsInFloat(_ op: String) -> Bool {
        floatOps.contains { globMatch(pattern: Substring($0), text: Substring(op)) }
    }
}

/// `*` matches any run of characters. Iterative, with backtracking only to the most recent `*`, so the
/// cost is O(pattern × text) at worst — a recursive matcher is exponential on patterns like "*a*a*a*…b".
func globMatch(pattern: Substring, text: Substring) -> Bool {
    let p = Array(pattern.utf8), t = Array(text.utf8)
    var i = 0, j = 0
    var star = -1, resume = 0
    while j < t.count {
        if i < p.count && p[i] != UInt8(ascii: "*") && p[i] == t[j] {
            i += 1; j += 1
        } else if i < p.count && p[i] == UInt8(ascii: "*") {
            star = i; resume = j; i += 1
        } else if star >= 0 {
            i = star + 1; resume += 1; j = resume
        } else {
            return false
        }
    }
    while i < p.count && p[i] == UInt8(ascii: "*") { i += 1 }
    return i == p.count
}
