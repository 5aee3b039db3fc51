// WeightSource.swift — how weights enter the inference path: by name, as shape + fp32 values.
// The host side (SAM2RHost) makes a checkpoint conform; tests may use a dictionary.

public protocol WeightSource {
    /// Shape of tensor `name`, nil if there is none.
    func shape(of name: String) -> [Int]?
    /// Copies tensor `name` as fp32, row-major, into `into` (exactly its element count).
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws
}

extension WeightSource {
    /// The values of `name`, which must have exactly `shape`.
    func load(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let actual = self.shape(of: name) else { throw ModelError.missingWeight(name) }
        guard actual == shape else { throw ModelError.weightShape(name: name, expected: shape, actual: actual) }
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        try out.withUnsafeMutableBufferPointer { try readFloats(name, into: $0) }
        return out
    }
}
