// RefinerGoldenSupport.swift — reading Tests/Goldens/refiner-micro (tools/reference/make_refiner_goldens.py):
// the micro-refiner config, its seeded checkpoint, and the cases for local_views 0 and 4.

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RModel
import XCTest

enum RefinerGoldens {
    /// $SAM2R_REFINER_GOLDENS overrides the committed directory (e.g. a freshly generated set).
    static let dir: String = {
        if let d = ProcessInfo.processInfo.environment["SAM2R_REFINER_GOLDENS"] { return d }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.deletingLastPathComponent().appendingPathComponent("Goldens/refiner-micro").path
    }()

    struct Case {
        let name: String, image: String, file: String, localViews: Int, moduleTensors: Bool
        let points: [SIMD2<Float>], labels: [Int32], box: SIMD4<Float>?, multimask: Bool
    }

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func cases() throws -> [Case] {
        try (manifest()["cases"] as! [[String: Any]]).map { c in
            let pts = (c["point_coords"] as? [[Double]]) ?? []
            let box = (c["box"] as? [Double]).map { SIMD4<Float>(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
            return Case(name: c["name"] as! String, image: c["image"] as! String, file: c["file"] as! String,
                        localViews: c["local_views"] as! Int, moduleTensors: c["module_tensors"] as? Bool ?? false,
                        points: pts.map { SIMD2<Float>(Float($0[0]), Float($0[1])) },
                        labels: ((c["point_labels"] as? [Int]) ?? []).map(Int32.init), box: box,
                        multimask: c["multimask_output"] as! Bool)
        }
    }

    /// The goldens' config with `refiner.local_views` = `localViews` (nil: no refiner at all).
    static func config(localViews: Int?) throws -> ModelConfig {
        var cfg = try ModelConfigJSON.load(path: dir + "/config.json")
        if let lv = localViews { cfg.refiner!.localViews = lv } else { cfg.refiner = nil }
        return cfg
    }

    static func checkpoint() throws -> Checkpoint { try Goldens.store("checkpoint.safetensors", in: dir) }

    static func predictor(localViews: Int?, threads: Int = 1, quantization: Int8Plan? = nil) throws -> SAM2ImagePredictor {
        try SAM2ImagePredictor(config: config(localViews: localViews), weights: checkpoint(), threads: threads,
                               quantization: quantization)
    }
}
