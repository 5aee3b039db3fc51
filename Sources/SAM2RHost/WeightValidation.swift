// WeightValidation.swift — checks a checkpoint against the keys and shapes a config needs, before
// any weight is packed, and names the first mismatch.

import SAM2RModel

public struct WeightKeyError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case missing(name: String, expected: [Int])
        case misshaped(name: String, expected: [Int], actual: [Int])
        case unexpected(name: String, shape: [Int])
    }
    /// The first mismatch (missing and mis-shaped in load order, then unexpected sorted by name).
    public let first: Kind
    public let missing: Int
    public let misshaped: Int
    public let unexpected: Int

    public var description: String {
        let counts = "\(missing) missing, \(misshaped) mis-shaped, \(unexpected) unexpected keys"
        switch first {
        case let .missing(name, expected): return "\(counts); first: missing '\(name)' (expected shape \(expected))"
        case let .misshaped(name, expected, actual):
            return "\(counts); first: '\(name)' has shape \(actual), expected \(expected)"
        case let .unexpected(name, shape): return "\(counts); first: unexpected '\(name)' \(shape)"
        }
    }
}

public enum WeightValidation {
    /// Throws `WeightKeyError` unless `source` has exactly the image-path tensors of `config` (plus,
    /// when `allowVideoModules`, the video-only modules every SAM2 checkpoint carries).
    /// `names` lists every tensor of the source.
    public static func validate(_ source: WeightSource, names: [String], config: ModelConfig,
                                allowVideoModules: Bool = true) throws {
        let expected = try config.expectedWeights()
        var problems = [WeightKeyError.Kind]()
        var missing = 0, misshaped = 0, unexpected = 0
        for (name, shape) in expected {
            guard let actual = source.shape(of: name) else {
                missing += 1
                problems.append(.missing(name: name, expected: shape))
                continue
            }
            if actual != shape {
                misshaped += 1
                problems.append(.misshaped(name: name, expected: shape, actual: actual))
            }
        }
        let known = Set(expected.map { $0.name })
        for name in names.sorted() where !known.contains(name) {
            if allowVideoModules && ModelConfig.videoOnlyPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            unexpected += 1
            problems.append(.unexpected(name: name, shape: source.shape(of: name) ?? []))
        }
        if let first = problems.first {
            throw WeightKeyError(first: first, missing: missing, misshaped: misshaped, unexpected: unexpected)
        }
    }
}
