// ModelConfigJSON.swift — ModelConfig from the JSON schema of docs/model-config.md (host side).

import Foundation
import SAM2RModel

public enum ModelConfigJSON {
    struct File: Codable {
        struct Trunk: Codable {
            var embed_dim: Int
            var num_heads: Int
            var stages: [Int]
            var global_att_blocks: [Int]
            var window_pos_embed_bkg_spatial_size: [Int]?
            var window_spec: [Int]
            var q_pool: Int?
            var q_stride: [Int]?
            var dim_mul: Double?
            var head_mul: Double?
        }
        struct Neck: Codable {
            var d_model: Int
            var backbone_channel_list: [Int]
            var fpn_top_down_levels: [Int]?
            var fpn_interp_model: String?
            var scalp: Int?
        }
        struct Post: Codable {
            var dynamic_multimask_via_stability: Bool?
            var dynamic_multimask_stability_delta: Float?
            var dynamic_multimask_stability_thresh: Float?
        }
        /// docs/refiner.md "Config": every key optional, defaults from RefinerConfig.
        struct Refiner: Codable {
            var local_views: Int?
            var la_layers: Int?
            var la_heads: Int?
            var la_window: Int?
            var mr_width: Int?
            var mr_width_full: Int?
        }
        var name: String?
        var image_size: Int
        var trunk: Trunk
        var neck: Neck
        var postprocessing: Post?
        var refiner: Refiner?
    }

    /// Decodes and validates a config. Missing trunk keys take Hiera's defaults.
    public static func decode(_ data: Data, defaultName: String = "custom") throws -> ModelConfig {
        let f = try JSONDecoder().decode(File.self, from: data)
        if let interp = f.neck.fpn_interp_model, interp != "nearest" {
            throw ModelError.invalidConfig(field: "neck.fpn_interp_model", reason: "only \"nearest\" is supported")
        }
        var c = ModelConfig(
            name: f.name ?? defaultName, imageSize: f.image_size, embedDim: f.trunk.embed_dim,
            numHeads: f.trunk.num_heads, stages: f.trunk.stages, globalAttBlocks: f.trunk.global_att_blocks,
            windowPosEmbedBkgSpatialSize: f.trunk.window_pos_embed_bkg_spatial_size ?? [14, 14],
            windowSpec: f.trunk.window_spec, qPool: f.trunk.q_pool ?? 3, qStride: f.trunk.q_stride ?? [2, 2],
            dimMul: f.trunk.dim_mul ?? 2, headMul: f.trunk.head_mul ?? 2, dModel: f.neck.d_model,
            backboneChannelList: f.neck.backbone_channel_list, fpnTopDownLevels: f.neck.fpn_top_down_levels ?? [2, 3],
            scalp: f.neck.scalp ?? 1)
        if let p = f.postprocessing {
            c.dynamicMultimaskViaStability = p.dynamic_multimask_via_stability ?? true
            c.stabilityDelta = p.dynamic_multimask_stability_delta ?? 0.05
            c.stabilityThresh = p.dynamic_multimask_stability_thresh ?? 0.98
        }
        if let r = f.refiner {
            let d = RefinerConfig(dModel: c.dModel)
            c.refiner = RefinerConfig(dModel: c.dModel, localViews: r.local_views ?? d.localViews,
                                      laLayers: r.la_layers ?? d.laLayers, laHeads: r.la_heads ?? d.laHeads,
                                      laWindow: r.la_window ?? d.laWindow, mrWidth: r.mr_width ?? d.mrWidth,
                                      mrWidthFull: r.mr_width_full ?? d.mrWidthFull)
        }
        try c.validate()
        return c
    }

    /// The JSON text of `c` in the same schema (every field explicit), e.g. for a model file's config
    /// section; `decode(encode(c)) == c`.
    public static func encode(_ c: ModelConfig) throws -> String {
        let f = File(
            name: c.name, image_size: c.imageSize,
            trunk: .init(embed_dim: c.embedDim, num_heads: c.numHeads, stages: c.stages,
                         global_att_blocks: c.globalAttBlocks,
                         window_pos_embed_bkg_spatial_size: c.windowPosEmbedBkgSpatialSize, window_spec: c.windowSpec,
                         q_pool: c.qPool, q_stride: c.qStride, dim_mul: c.dimMul, head_mul: c.headMul),
            neck: .init(d_model: c.dModel, backbone_channel_list: c.backboneChannelList,
                        fpn_top_down_levels: c.fpnTopDownLevels, fpn_interp_model: "nearest", scalp: c.scalp),
            postprocessing: .init(dynamic_multimask_via_stability: c.dynamicMultimaskViaStability,
                                  dynamic_multimask_stability_delta: c.stabilityDelta,
                                  dynamic_multimask_stability_thresh: c.stabilityThresh),
            refiner: c.refiner.map {
                .init(local_views: $0.localViews, la_layers: $0.laLayers, la_heads: $0.laHeads, la_window: $0.laWindow,
                      mr_width: $0.mrWidth, mr_width_full: $0.mrWidthFull)
            })
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(f), as: UTF8.self) + "\n"
    }

    public static func load(path: String) throws -> ModelConfig {
        let url = URL(fileURLWithPath: path)
        return try decode(Data(contentsOf: url), defaultName: url.deletingPathExtension().lastPathComponent)
    }
}
