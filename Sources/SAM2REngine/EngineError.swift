// EngineError.swift — every way the engine layer refuses to run, with a one-line description.
//
// Errors are only built on the failure path: the payloads (strings, shape arrays) allocate, the
// checks that lead to them do not.

/// An error raised by the engine before any kernel runs (validation) or after it (canaries).
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An operand's shape does not match what the operation needs. Both shapes are reported.
    case shapeMismatch(operand: String, expected: [Int], actual: [Int])
    /// A dimension or buffer that must be non-empty is empty.
    case zeroSize(operand: String)
    /// A buffer is smaller than its shape and stride need.
    case bufferTooSmall(operand: String, needed: Int, available: Int)
    /// A row stride is smaller than the row length.
    case invalidStride(operand: String, stride: Int, minimum: Int)
    /// A count (scales, biases, gamma, ...) differs from the one the operation needs.
    case countMismatch(operand: String, expected: Int, actual: Int)
    /// A buffer's address is not aligned as the kernel contract requires.
    case misalignedBuffer(operand: String, address: UInt, alignment: Int)
    /// A value outside the kernel contract (e.g. an int8 weight of -128, a NaN input).
    case valueOutOfRange(operand: String, index: Int, value: String, allowed: String)
    /// A parameter outside its allowed range (zero points, qmin/qmax, eps, scales, K limit, ...).
    case invalidParameter(name: String, value: String, allowed: String)
    /// The plan needs more bytes than the arena has.
    case arenaOverflow(needed: Int, available: Int)
    /// A tensor of the plan is used in a way the plan does not allow (id, type, size).
    case planMismatch(String)
    /// Canary bytes after a tensor were overwritten: something wrote past its end.
    case canaryCorrupted(tensor: String, byteOffset: Int)
    /// This CPU (or build) cannot run the requested instruction-set variant.
    case unsupportedISA(String)
    /// SAM2R_ISA is set to something unusable.
    case isaEnvironment(String)
    /// Packed weights were made for another kernel variant layout.
    case layoutMismatch(operand: String, expected: String, actual: String)
    /// The build has no kernel of this family for the variant.
    case kernelUnavailable(family: String, isa: String)
    /// Thread count outside 1...256.
    case invalidThreadCount(Int)
    /// A system resource (memory, threads) could not be obtained.
    case resourceUnavailable(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operand, expected, actual):
            return "shape mismatch for \(operand): expected \(expected), got \(actual)"
        case let .zeroSize(operand):
            return "zero size: \(operand) must be non-empty"
        case let .bufferTooSmall(operand, needed, available):
            return "buffer too small for \(operand): needs \(needed) elements, has \(available)"
        case let .invalidStride(operand, stride, minimum):
            return "invalid stride for \(operand): \(stride) < \(minimum)"
        case let .countMismatch(operand, expected, actual):
            return "count mismatch for \(operand): expected \(expected), got \(actual)"
        case let .misalignedBuffer(operand, address, alignment):
            return "misaligned buffer \(operand): address 0x\(String(address, radix: 16)) is not \(alignment)-byte aligned"
        case let .valueOutOfRange(operand, index, value, allowed):
            return "value out of range in \(operand) at element \(index): \(value) (allowed: \(allowed))"
        case let .invalidParameter(name, value, allowed):
            return "invalid parameter \(name) = \(value) (allowed: \(allowed))"
        case let .arenaOverflow(needed, available):
            return "arena overflow: plan needs \(needed) bytes, arena has \(available)"
        case let .planMismatch(message):
            return "plan mismatch: \(message)"
        case let .canaryCorrupted(tensor, byteOffset):
            return "canary corrupted after tensor \(tensor) (first bad byte \(byteOffset) bytes past its end)"
        case let .unsupportedISA(name):
            return "unsupported ISA: \(name) cannot run on this CPU/build (supported: \(ISA.supported.map(\.name).joined(separator: ", ")))"
        case let .isaEnvironment(message):
            return "SAM2R_ISA: \(message)"
        case let .layoutMismatch(operand, expected, actual):
            return "layout mismatch for \(operand): expected \(expected), got \(actual)"
        case let .kernelUnavailable(family, isa):
            return "no \(family) kernel for ISA \(isa) in this build"
        case let .invalidThreadCount(n):
            return "invalid thread count \(n): must be in 1...256"
        case let .resourceUnavailable(message):
            return "resource unavailable: \(message)"
        }
    }
}
