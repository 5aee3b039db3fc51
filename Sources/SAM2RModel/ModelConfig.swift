// ModelConfig.swift — the hyper-parameters of a SAM2.1 image path (Hiera trunk, FPN neck, prompt
// encoder, mask decoder). Presets equal Meta's configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml; custom
// configs come from JSON on the host side (SAM2RHost). Fields Meta hard-codes in sam2_base.py
// (decoder depth 2, 8 heads, MLP 2048, IoU head 256, 3 multimask outputs, mask_in_chans 16) are
// kept as fields with those defaults.

public struct ModelConfig: Sendable, Equatable {
    public var name: String
    /// Model input side S (square): images are squash-resized to S x S.
    public var imageSize: Int

    // Hiera trunk
    public var embedDim: Int
    public var numHeads: Int
    public var stages: [Int]
    public var globalAttBlocks: [Int]
    public var windowPosEmbedBkgSpatialSize: [Int]
    public var windowSpec: [Int]
    public var qPool: Int
    public var qStride: [Int]
    public var dimMul: Double
    public var headMul: Double

    // FPN neck
    public var dModel: Int
    public var backboneChannelList: [Int]
    public var fpnTopDownLevels: [Int]
    public var scalp: Int

    // Prompt encoder / mask decoder (Meta's fixed values)
    public var decoderDepth: Int = 2
    public var decoderHeads: Int = 8
    public var decoderMLPDim: Int = 2048
    public var attentionDownsampleRate: Int = 2
    public var iouHeadHiddenDim: Int = 256
    public var numMultimaskOutputs: Int = 3
    public var maskInChans: Int = 16

    // Postprocessing
    public var dynamicMultimaskViaStability: Bool = true
    public var stabilityDelta: Float = 0.05
    public var stabilityThresh: Float = 0.98

    /// SAM2Refiner modules (docs/refiner.md); nil: plain SAM2.1.
    public var refiner: RefinerConfig? = nil

    public init(name: String, imageSize: Int, embedDim: Int, numHeads: Int, stages: [Int], globalAttBlocks: [Int],
                windowPosEmbedBkgSpatialSize: [Int], windowSpec: [Int], qPool: Int = 3, qStride: [Int] = [2, 2],
                dimMul: Double = 2, headMul: Double = 2, dModel: Int = 256, backboneChannelList: [Int],
                fpnTopDownLevels: [Int] = [2, 3], scalp: Int = 1) {
        self.name = name
        self.imageSize = imageSize
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.stages = stages
        self.globalAttBlocks = globalAttBlocks
        self.windowPosEmbedBkgSpatialSize = windowPosEmbedBkgSpatialSize
        self.windowSpec = windowSpec
        self.qPool = qPool
        self.qStride = qStride
        self.dimMul = dimMul
        self.headMul = headMul
        self.dModel = dModel
        self.backboneChannelList = backboneChannelList
        self.fpnTopDownLevels = fpnTopDownLevels
        self.scalp = scalp
    }

    public static let tiny = ModelConfig(
        name: "tiny", imageSize: 1024, embedDim: 96, numHeads: 1, stages: [1, 2, 7, 2], globalAttBlocks: [5, 7, 9],
        windowPosEmbedBkgSpatialSize: [7, 7], windowSpec: [8, 4, 14, 7], backboneChannelList: [768, 384, 192, 96])
    public static let small = ModelConfig(
        name: "small", imageSize: 1024, embedDim: 96, numHeads: 1, stages: [1, 2, 11, 2], globalAttBlocks: [7, 10, 13],
        windowPosEmbedBkgSpatialSize: [7, 7], windowSpec: [8, 4, 14, 7], backboneChannelList: [768, 384, 192, 96])
    public static let basePlus = ModelConfig(
        name: "base-plus", imageSize: 1024, embedDim: 112, numHeads: 2, stages: [2, 3, 16, 3],
        globalAttBlocks: [12, 16, 20], windowPosEmbedBkgSpatialSize: [14, 14], windowSpec: [8, 4, 14, 7],
        backboneChannelList: [896, 448, 224, 112])
    public static let large = ModelConfig(
        name: "large", imageSize: 1024, embedDim: 144, numHeads: 2, stages: [2, 6, 36, 4],
        globalAttBlocks: [23, 33, 43], windowPosEmbedBkgSpatialSize: [7, 7], windowSpec: [8, 4, 16, 8],
        backboneChannelList: [1152, 576, 288, 144])
    /// The test config of Tests/Goldens/micro (tools/reference/configs/micro.json).
    public static let micro = ModelConfig(
        name: "micro", imageSize: 128, embedDim: 8, numHeads: 2, stages: [1, 2, 5, 2], globalAttBlocks: [5, 7],
        windowPosEmbedBkgSpatialSize: [7, 7], windowSpec: [8, 4, 6, 3], dModel: 32,
        backboneChannelList: [64, 32, 16, 8])

    public static let presets: [ModelConfig] = [.tiny, .small, .basePlus, .large]

    public static func preset(named name: String) -> ModelConfig? {
        ([.micro] + presets).first { $0.name == name }
    }

    // MARK: - Derived geometry

    /// Hiera token grid side (S / 4).
    public var patchGrid: Int { imageSize / 4 }
    /// Image-embedding side e (S / 16).
    public var embedSize: Int { imageSize / 16 }
    /// Low-res mask side (4e = S / 4).
    public var lowResSize: Int { 4 * embedSize }

    /// One Hiera block's shape, as hieradet.Hiera.__init__ derives it.
    public struct Block: Sendable, Equatable {
        public var index: Int
        public var dim: Int
        public var dimOut: Int
        public var heads: Int
        /// 0: global attention.
        public var window: Int
        public var qPool: Bool
        public var inSide: Int
        public var outSide: Int
        public var stageEnd: Bool
        public var headDim: Int { dimOut / heads }
    }

    /// Block indices ending each stage.
    public var stageEnds: [Int] {
        var ends = [Int](), acc = 0
        for s in stages { acc += s; ends.append(acc - 1) }
        return ends
    }

    public var blocks: [Block] {
        let ends = stageEnds
        let qPoolBlocks = Set(ends.prefix(qPool).map { $0 + 1 })
        var out = [Block]()
        var dim = embedDim, heads = numHeads, stage = 1, side = patchGrid
        let depth = stages.reduce(0, +)
        for i in 0..<depth {
            var dimOut = dim
            var window = windowSpec[stage - 1]
            if globalAttBlocks.contains(i) { window = 0 }
            if ends.contains(i - 1) {
                dimOut = Int(Double(dim) * dimMul)
                heads = Int(Double(heads) * headMul)
                stage += 1
            }
            let pool = qPoolBlocks.contains(i)
            let outSide = pool ? side / qStride[0] : side
            out.append(Block(index: i, dim: dim, dimOut: dimOut, heads: heads, window: window, qPool: pool,
                             inSide: side, outSide: outSide, stageEnd: ends.contains(i)))
            dim = dimOut
            side = outSide
        }
        return out
    }

    /// Throws `ModelError.invalidConfig` for shapes this runtime cannot run.
    public func validate() throws {
        func bad(_ field: String, _ why: String) -> ModelError { .invalidConfig(field: field, reason: why) }
        guard imageSize >= 32, imageSize % 32 == 0 else { throw bad("image_size", "must be a positive multiple of 32 (four 2x stages after the 4x patch embed)") }
        guard stages.count == 4, stages.allSatisfy({ $0 >= 1 }) else { throw bad("trunk.stages", "4 stages of >= 1 block") }
        guard windowSpec.count == 4, windowSpec.allSatisfy({ $0 >= 1 }) else { throw bad("trunk.window_spec", "4 sizes >= 1") }
        guard qStride == [2, 2] else { throw bad("trunk.q_stride", "only [2, 2] is supported") }
        guard (0...3).contains(qPool) else { throw bad("trunk.q_pool", "0...3") }
        guard qPool == 3 else { throw bad("trunk.q_pool", "the FPN needs strides 4/8/16/32: q_pool must be 3") }
        guard embedDim >= 1, numHeads >= 1 else { throw bad("trunk.embed_dim/num_heads", ">= 1") }
        guard windowPosEmbedBkgSpatialSize.count == 2, windowPosEmbedBkgSpatialSize.allSatisfy({ $0 >= 1 }) else {
            throw bad("trunk.window_pos_embed_bkg_spatial_size", "two sizes >= 1")
        }
        guard patchGrid % windowSpec[0] == 0 else {
            throw bad("trunk.window_spec[0]", "must divide image_size/4 (pos_embed_window is tiled)")
        }
        for b in blocks {
            guard b.dimOut % b.heads == 0 else { throw bad("trunk", "block \(b.index): dim \(b.dimOut) not divisible by \(b.heads) heads") }
            guard b.headDim <= 256 else { throw bad("trunk", "block \(b.index): head dim \(b.headDim) > 256") }
            guard b.qPool == (b.dim != b.dimOut) else {
                throw bad("trunk", "block \(b.index): q-pooling and a channel change must coincide (Hiera's shortcut)")
            }
            if b.qPool && b.window > 0 && b.window % 2 != 0 {
                throw bad("trunk.window_spec", "block \(b.index) pools q inside windows of odd size \(b.window)")
            }
        }
        let dims = blocks.filter { $0.stageEnd }.map { $0.dimOut }
        guard backboneChannelList == dims.reversed() else {
            throw bad("neck.backbone_channel_list", "must be \(Array(dims.reversed())) (trunk stage dims, deepest first)")
        }
        guard fpnTopDownLevels == [2, 3], scalp == 1 else {
            throw bad("neck", "only fpn_top_down_levels [2, 3] with scalp 1 (SAM2.1) is supported")
        }
        guard dModel >= 8, dModel % 8 == 0, dModel % decoderHeads == 0,
              (dModel / attentionDownsampleRate) % decoderHeads == 0 else {
            throw bad("neck.d_model", "must be a multiple of 8 and of the decoder heads (after downsampling)")
        }
        try refiner?.validate(dModel: dModel, embedSize: embedSize)
    }
}
