// EvalSessionTests.swift — eval and the mixed-precision search on the micro model
// (Tests/Goldens/micro: checkpoint, int8-table.txt, images).

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import XCTest
@testable import SAM2RQuant

final class EvalSessionTests: XCTestCase {
    static func image(_ name: String) throws -> EvalImage {
        let img = try decodeImage(path: Micro.dir + "/images/\(name).png")
        return EvalImage(name: name + ".png", width: img.width, height: img.height, pixels: img.pixels,
                         prompts: CalibrationPrompts.defaults(fileName: name + ".png", width: img.width, height: img.height))
    }

    static func setup() throws -> (ModelConfig, Checkpoint, QuantTable) {
        let cfg = try Micro.config()
        return (cfg, try Checkpoint(path: Micro.dir + "/checkpoint.safetensors"),
                try QuantTable.read(path: Micro.dir + "/int8-table.txt"))
    }

    /// The same model on both sides: every metric at its "identical" value, every layer exact.
    func testIdenticalModelsAreExact() throws {
        let (cfg, ckpt, table) = try Self.setup()
        let a = try SAM2ImagePredictor(config: cfg, weights: ckpt, quantization: table.int8Plan)
        let b = try SAM2ImagePredictor(config: cfg, weights: ckpt, quantization: table.int8Plan)
        let gemms = try cfg.gemmLayers()
        let s = EvalSession(reference: a, candidate: b, layers: gemms, samples: 512)
        var img = try Self.image("coffee")
        img.groundTruth = [UInt8](repeating: 1, count: img.width * img.height)
        try s.evaluate(img)
        let sum = s.summary
        XCTAssertEqual(sum.cases, 5)
        XCTAssertEqual(sum.maskIoUMin, 1)
        XCTAssertEqual(sum.boundaryIoUMin, 1)
        XCTAssertEqual(sum.logitsSQNRMin, EvalMetrics.sqnrCapDB)
        XCTAssertEqual(sum.embeddingSQNRMin, EvalMetrics.sqnrCapDB)
        XCTAssertEqual(sum.chosenMaskFlips, 0)
        XCTAssertEqual(sum.gtMIoUDrop, 0)
        XCTAssertEqual(Set(s.layers.map(\.name)), Set(table.entries.map(\.name)))
        XCTAssertTrue(s.layers.allSatisfy { $0.sqnrDB == EvalMetrics.sqnrCapDB && $0.sampled > 0 })
        XCTAssertTrue(s.layers.allSatisfy { $0.inputSQNRDB == EvalMetrics.sqnrCapDB && $0.localSQNRDB == EvalMetrics.sqnrCapDB })
        XCTAssertEqual(s.layers.reduce(0) { $0 + $1.macShare }, 1, accuracy: 1e-9)
    }

    /// fp32 vs int8: finite, plausible numbers; the JSON carries the contract's keys.
    func testInt8AgainstFP32() throws {
        let (cfg, ckpt, table) = try Self.setup()
        let ref = try SAM2ImagePredictor(config: cfg, weights: ckpt)
        let cand = try SAM2ImagePredictor(config: cfg, weights: ckpt, quantization: table.int8Plan)
        let s = EvalSession(reference: ref, candidate: cand, layers: try cfg.gemmLayers(), samples: 4096)
        try s.evaluate(try Self.image("coffee"))
        let sum = s.summary
        // Int8Tests measures 27.40 dB for this image's embedding (same table).
        XCTAssertEqual(sum.embeddingSQNRMean, 27.4, accuracy: 0.5)
        XCTAssertGreaterThan(sum.maskIoUMean, 0)
        XCTAssertLessThan(s.layers.first!.sqnrDB, s.layers.last!.sqnrDB)
        XCTAssertTrue(s.layers.allSatisfy { $0.sqnrDB < 100 })  // every quantized op has some error
        // The first GEMM's input is the same image on both sides: its output error is all its own.
        let patch = s.layers.first { $0.name == "image_encoder.trunk.patch_embed.proj" }!
        XCTAssertEqual(patch.inputSQNRDB, EvalMetrics.sqnrCapDB)
        XCTAssertEqual(patch.localSQNRDB, patch.sqnrDB, accuracy: 1e-9)
        XCTAssertTrue(s.layers.allSatisfy { $0.localSQNRDB >= $0.sqnrDB - 1e-9 })  // adds at most the output's error
        let json = EvalReport(reference: "r", candidate: "c", model: "micro", samplesPerLayer: 4096, session: s).json()
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let summary = obj["summary"] as! [String: Any]
        for k in ["mask_iou_mean", "mask_iou_min", "boundary_iou_mean", "logits_sqnr_db_mean", "image_embedding_sqnr_db_mean"] {
            XCTAssertNotNil(summary[k] as? Double, k)
        }
        let layers = obj["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.count, table.entries.count)
        XCTAssertNotNil(layers[0]["name"] as? String)
        XCTAssertNotNil(layers[0]["sqnr_db"] as? Double)
    }

    func testMixedPrecisionReachesTargetWithFewestOfTheRanking() throws {
        let (cfg, ckpt, table) = try Self.setup()
        let images = [try Self.image("astronaut"), try Self.image("chelsea")]
        let target = 0.9
        let r = try MixedPrecisionSearch.run(config: cfg, weights: ckpt, table: table, images: images,
                                             targetIoU: target, threads: 1, samples: 4096, pruneTrials: 12)
        print("mixed precision (micro, target \(target)): all int8 \(r.fullInt8IoU), achieved \(r.achievedIoU), "
              + "trials \(r.trials), kept \(r.kept.map(\.name))")
        XCTAssertLessThan(r.fullInt8IoU, target)  // the micro model needs float ops for 0.9
        XCTAssertGreaterThanOrEqual(r.achievedIoU, target)
        let k = r.kept.count
        XCTAssertGreaterThan(k, 0)
        XCTAssertLessThan(k, table.entries.count)
        // Binary search, then at most 12 pruning trials (+ the prefix's own run).
        XCTAssertLessThanOrEqual(r.trials.count, 1 + 7 + 1 + 12)
        // Kept ops in rank order; the table lost exactly those entries.
        XCTAssertEqual(r.kept.map(\.rank), r.kept.map(\.rank).sorted())
        XCTAssertEqual(r.kept.map(\.localSQNRDB), r.kept.map(\.localSQNRDB).sorted())
        XCTAssertEqual(r.table.entries.count, table.entries.count - k)
        XCTAssertTrue(r.kept.allSatisfy { r.table.entry($0.name) == nil && table.entry($0.name) != nil })
        XCTAssertTrue(r.kept.allSatisfy { $0.reason.contains("local SQNR") })
        // The answer is a measured trial.
        XCTAssertTrue(r.trials.contains { $0.floatOps == k && $0.meanIoU == r.achievedIoU })
        // The reduced table really reaches the target when evaluated from scratch.
        let ref = try SAM2ImagePredictor(config: cfg, weights: ckpt)
        let cand = try SAM2ImagePredictor(config: cfg, weights: ckpt, quantization: r.table.int8Plan)
        let s = EvalSession(reference: ref, candidate: cand, layers: [])
        for i in images { try s.evaluate(i) }
        XCTAssertEqual(s.summary.maskIoUMean, r.achievedIoU, accuracy: 1e-12)

        // A target the all-int8 model already meets keeps nothing in float.
        let easy = try MixedPrecisionSearch.run(config: cfg, weights: ckpt, table: table, images: [images[0]],
                                                targetIoU: 0.01, threads: 1, samples: 256)
        XCTAssertTrue(easy.kept.isEmpty)
        XCTAssertEqual(easy.table, table)
        XCTAssertThrowsError(try MixedPrecisionSearch.run(config: cfg, weights: ckpt, table: table, images: images,
                                                          targetIoU: 1.5, threads: 1))
    }
}
