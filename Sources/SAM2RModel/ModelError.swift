// ModelError.swift — typed errors of the SAM2 image path: configuration, weights, inputs, plan.

public enum ModelError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(field: String, reason: String)
    case missingWeight(String)
    case weightShape(name: String, expected: [Int], actual: [Int])
    /// A prompt or image argument violates the predictor's contract (checked before any heavy work).
    case invalidInput(argument: String, reason: String)
    /// `predict` before `setImage`.
    case noImage
    case tooManyPoints(given: Int, capacity: Int)

    public var description: String {
        switch self {
        case let .invalidConfig(field, reason): return "invalid model config: \(field): \(reason)"
        case let .missingWeight(name): return "missing weight '\(name)'"
        case let .weightShape(name, expected, actual):
            return "weight '\(name)' has shape \(actual), expected \(expected)"
        case let .invalidInput(argument, reason): return "invalid \(argument): \(reason)"
        case .noImage: return "predict called before setImage"
        case let .tooManyPoints(given, capacity):
            return "\(given) prompt points (box corners and padding point included) exceed the planned capacity \(capacity)"
        }
    }
}
