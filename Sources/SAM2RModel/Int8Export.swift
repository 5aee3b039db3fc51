// Int8Export.swift — what an int8 model file (`.sam2q`, docs/model-file.md) must hold for a config,
// checkpoint and int8 plan: the GEMMs in their quantized form (computed by the same code the in-memory
// int8 path runs, Int8QuantizedGemm) and the names of every fp32 tensor the loaders read besides them.

/// The content of an int8 model, in load order.
public struct Int8ModelExport: Sendable {
    /// GEMMs that run in int8.
    public var gemms: [Int8QuantizedGemm]
    /// Every other tensor the image path reads (norms, embeddings, fp32 GEMMs' weights and biases),
    /// with its checkpoint shape: stored as is.
    public var floatTensors: [(name: String, shape: [Int])]
}

extension ModelConfig {
    /// Runs the loaders over `weights` with `plan`, collecting the quantized GEMMs and the fp32 tensors
    /// a model file needs. A GEMM's own fp32 weight and bias are not listed when it is int8. `weightBits`:
    /// 8, or 7 (weights within ±63: the narrow-weight kernels, see `Int8QuantizedGemm`).
    public func int8Export(weights: WeightSource, plan: Int8Plan, weightBits: Int = 8) throws -> Int8ModelExport {
        try validate()
        let src = QuantizedWeightSource(weights, plan: plan)
        src.weightBits = weightBits
        var gemms: [Int8QuantizedGemm] = []
        src.onQuantized = { gemms.append($0) }
        src.recordReads = true
        _ = try ImageEncoderWeights(src, self)
        _ = try PromptEncoderWeights(src, self)
        _ = try MaskDecoderWeights(src, self)
        if let r = refiner { _ = try RefinerWeights(src, self, r) }
        let int8Names = Set(gemms.flatMap { [$0.name + ".weight", $0.name + ".bias"] })
        var seen = Set<String>()
        var floats: [(name: String, shape: [Int])] = []
        for name in src.reads where !int8Names.contains(name) && seen.insert(name).inserted {
            guard let shape = weights.shape(of: name) else { throw ModelError.missingWeight(name) }
            floats.append((name, shape))
        }
        return Int8ModelExport(gemms: gemms, floatTensors: floats)
    }
}
