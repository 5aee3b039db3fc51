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
        if let recorder = self as? ShapeRecorder {
            recorder.requests.append((name, shape))
            return [Float](repeating: 0, count: shape.reduce(1, *))
        }
        guard let actual = self.shape(of: name) else { throw ModelError.missingWeight(name) }
        guard actual == shape else { throw ModelError.weightShape(name: name, expected: shape, actual: actual) }
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        try out.withUnsafeMutableBufferPointer { try readFloats(name, into: $0) }
        return out
    }
}

/// A WeightSource that answers every request with zeros of the requested shape and records it:
/// running the loaders against it yields the exact key/shape list a config needs.
final class ShapeRecorder: WeightSource {
    var requests: [(name: String, shape: [Int])] = []
    var gemms: [GemmLayer] = []
    func shape(of name: String) -> [Int]? { nil }
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
        throw ModelError.missingWeight(name)
    }
}

extension ModelConfig {
    /// Every checkpoint tensor the image path reads (the refiner's included when the config has one),
    /// with its shape, in load order.
    public func expectedWeights() throws -> [(name: String, shape: [Int])] {
        try validate()
        let r = ShapeRecorder()
        _ = try ImageEncoderWeights(r, self)
        _ = try PromptEncoderWeights(r, self)
        _ = try MaskDecoderWeights(r, self)
        if let rc = refiner { _ = try RefinerWeights(r, self, rc) }
        return r.requests
    }

    /// Every GEMM of the image path (the layers a quantization table may cover), in load order.
    public func gemmLayers() throws -> [GemmLayer] {
        try validate()
        let r = ShapeRecorder()
        _ = try ImageEncoderWeights(r, self)
        _ = try PromptEncoderWeights(r, self)
        _ = try MaskDecoderWeights(r, self)
        if let rc = refiner { _ = try RefinerWeights(r, self, rc) }
        return r.gemms
    }

    /// Checkpoint prefixes of SAM2's video modules: present in every checkpoint, unused by the image path.
    public static let videoOnlyPrefixes = [
        "memory_attention.", "memory_encoder.", "mask_downsample.", "obj_ptr_proj.", "obj_ptr_tpos_proj.",
        "maskmem_tpos_enc", "no_mem_pos_enc", "no_obj_ptr", "no_obj_embed_spatial",
    ]
}
