// ModelFileContents.swift — what a `.sam2q` file holds, as the writer takes it and the reader returns
// it (docs/model-file.md): tensor table entries, the int8 GEMM parameters, the arena plan.

import SAM2REngine
import SAM2RModel

/// Where one int8 GEMM's arrays are, as byte ranges relative to the data section.
public struct ModelFileGemm: Sendable, Equatable {
    /// Packing layout of `packed`: data[n/NR][k/KR][n%NR][k%KR], zero padded.
    public var nr: Int
    public var kr: Int
    public var actScale: Float
    public var actZeroPoint: Int32
    public var packed: Range<Int>
    /// int32[n]: Σ_k q[n, k].
    public var wsum: Range<Int>
    /// int32[n]: bias in accumulator units.
    public var bias: Range<Int>
    /// float[n]: s_a · s_w[n].
    public var scale: Range<Int>
    /// float[n]: s_w[n].
    public var weightScale: Range<Int>

    var arrays: [(String, Range<Int>)] {
        [("packed", packed), ("wsum", wsum), ("bias", bias), ("scale", scale), ("weight_scale", weightScale)]
    }
}

/// One tensor table entry.
public struct ModelFileTensor: Sendable, Equatable {
    public var name: String
    public var kind: ModelFileTensorKind
    /// fp32: the checkpoint shape; int8 GEMM: [n, k].
    public var shape: [Int]
    /// fp32: the values' bytes, relative to the data section; int8 GEMM: the packed weights.
    public var data: Range<Int>
    /// The int8 parameters (kind == .int8Gemm).
    public var gemm: ModelFileGemm?

    /// Bytes this tensor occupies in the data section.
    public var byteCount: Int { gemm.map { $0.arrays.reduce(0) { $0 + $1.1.count } } ?? data.count }
}

/// One planned arena buffer.
public struct ModelFileArenaBuffer: Sendable, Equatable {
    public var name: String
    public var offset: Int
    public var size: Int
    public var firstUse: Int
    public var lastUse: Int
}

/// The arena plan stored in the file: made for a square image of the config's input size with
/// `promptCapacity` prompt points and `threads` workers (the plan depends on both).
public struct ModelFileArena: Sendable, Equatable {
    public var totalBytes: Int
    public var imageSize: Int
    public var threads: Int
    public var promptCapacity: Int
    public var buffers: [ModelFileArenaBuffer]

    public init(totalBytes: Int, imageSize: Int, threads: Int, promptCapacity: Int, buffers: [ModelFileArenaBuffer]) {
        self.totalBytes = totalBytes; self.imageSize = imageSize; self.threads = threads
        self.promptCapacity = promptCapacity; self.buffers = buffers
    }

    public init(_ plan: ArenaPlan, imageSize: Int, threads: Int, promptCapacity: Int) {
        self.init(totalBytes: plan.totalBytes, imageSize: imageSize, threads: threads, promptCapacity: promptCapacity,
                  buffers: plan.tensors.indices.map { i in
                      let t = plan.tensors[i]
                      return ModelFileArenaBuffer(name: t.name.isEmpty ? "#\(i)" : t.name, offset: plan.offsets[i],
                                                  size: t.size, firstUse: t.firstUse, lastUse: max(t.lastUse, t.firstUse))
                  })
    }
}

/// Everything the writer needs.
public struct ModelFileContents {
    /// The model config as JSON (docs/model-config.md schema).
    public var configJSON: String
    /// The quantization table text (provenance), if any.
    public var tableText: String?
    /// The int8 kernel variant whose layout the GEMMs are packed in.
    public var packing: ISA
    public var gemms: [Int8QuantizedGemm]
    /// fp32 tensors: name, shape, values (row-major).
    public var floatTensors: [(name: String, shape: [Int], values: [Float])]
    /// Names among `floatTensors` stored as binary16 (rounded to nearest even; docs/model-file.md).
    public var halfTensors: Set<String> = []
    public var arena: ModelFileArena

    public init(configJSON: String, tableText: String?, packing: ISA, gemms: [Int8QuantizedGemm],
                floatTensors: [(name: String, shape: [Int], values: [Float])], arena: ModelFileArena) {
        self.configJSON = configJSON; self.tableText = tableText; self.packing = packing; self.gemms = gemms
        self.floatTensors = floatTensors; self.arena = arena
    }

    /// Whether the GEMMs are packed for `packing`'s narrow-weight kernel: they are all 7-bit (|q| <= 63) and
    /// `packing` has such a kernel (AVX2), so the file loads there without repacking.
    public var narrowPacking: Bool {
        GemmS8Kernel.narrowPackingLayout(packing) != nil && !gemms.isEmpty && gemms.allSatisfy { $0.weightBits == 7 }
    }

    /// The (NR, KR) the GEMMs are packed in.
    public var packingLayout: (nr: Int, kr: Int) { GemmS8Kernel.packingLayout(packing, narrowWeights: narrowPacking) }

    /// The variant name the file records for its packing ("avx2-w7" for the narrow-weight AVX2 layout).
    public var packingName: String { narrowPacking ? packing.name + "-w7" : packing.name }
}

extension ModelFileContents {
    /// The contents of the int8 model of `config` with `weights` (a checkpoint) and `plan`: GEMMs
    /// quantized by the model's scheme (`ModelConfig.int8Export`), every other tensor the image path
    /// reads copied as fp32.
    /// `halfLinearWeights`: the weights of the float nn.Linear GEMMs (the prompt side: token rows, whose
    /// weights stream from memory once per prompt) are stored as binary16.
    public static func quantizing(config: ModelConfig, configJSON: String, weights: WeightSource, plan: Int8Plan,
                                  packing: ISA, arena: ModelFileArena, tableText: String?,
                                  weightBits: Int = 8, halfLinearWeights: Bool = false) throws -> ModelFileContents {
        let export = try config.int8Export(weights: weights, plan: plan, weightBits: weightBits)
        let floats = try export.floatTensors.map { f -> (name: String, shape: [Int], values: [Float]) in
            var v = [Float](repeating: 0, count: f.shape.reduce(1, *))
            try v.withUnsafeMutableBufferPointer { try weights.readFloats(f.name, into: $0) }
            return (f.name, f.shape, v)
        }
        var c = ModelFileContents(configJSON: configJSON, tableText: tableText, packing: packing, gemms: export.gemms,
                                  floatTensors: floats, arena: arena)
        if halfLinearWeights {
            c.halfTensors = Set(try config.gemmLayers().filter { $0.kind == .linear && plan[$0.name] == nil }
                .map { $0.name + ".weight" })
        }
        return c
    }
}
