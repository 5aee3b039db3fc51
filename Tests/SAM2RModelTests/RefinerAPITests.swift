// RefinerAPITests.swift — the refiner's config (JSON, defaults, validation), checkpoint keys, the `refine`
// switch (off = plain SAM2.1 bit for bit), zero-initialised modules acting as the identity, arena plans.

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RModel
import XCTest

/// A checkpoint with some tensors replaced by zeros (the training-time zero init of docs/refiner.md).
final class ZeroedWeights: WeightSource {
    let base: Checkpoint
    let zeroed: Set<String>
    init(_ base: Checkpoint, zeroed: Set<String>) { self.base = base; self.zeroed = zeroed }
    func shape(of name: String) -> [Int]? { base.shape(of: name) }
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
        if zeroed.contains(name) { into.update(repeating: 0) } else { try base.readFloats(name, into: into) }
    }
}

final class RefinerAPITests: XCTestCase {
    static let micro = """
        {"image_size": 128, "trunk": {"embed_dim": 8, "num_heads": 2, "stages": [1, 2, 5, 2], "global_att_blocks": [5, 7],
         "window_pos_embed_bkg_spatial_size": [7, 7], "window_spec": [8, 4, 6, 3]},
         "neck": {"d_model": 32, "backbone_channel_list": [64, 32, 16, 8]}
        """

    static func decode(refiner: String?) throws -> ModelConfig {
        try ModelConfigJSON.decode(Data((micro + (refiner.map { ", \"refiner\": \($0)" } ?? "") + "}").utf8))
    }

    func testJSONDefaultsAndValidation() throws {
        XCTAssertNil(try Self.decode(refiner: nil).refiner)
        let d = try XCTUnwrap(try Self.decode(refiner: "{\"la_window\": 4}").refiner)
        XCTAssertEqual(d, RefinerConfig(dModel: 32, localViews: 0, laLayers: 2, laHeads: 1, laWindow: 4, mrWidth: 32,
                                        mrWidthFull: 16))
        let full = try XCTUnwrap(try Self.decode(refiner: """
            {"local_views": 4, "la_layers": 1, "la_heads": 4, "la_window": 2, "mr_width": 8, "mr_width_full": 4}
            """).refiner)
        XCTAssertEqual(full, RefinerConfig(dModel: 32, localViews: 4, laLayers: 1, laHeads: 4, laWindow: 2, mrWidth: 8,
                                           mrWidthFull: 4))
        for (json, field) in [("{\"local_views\": 2, \"la_window\": 4}", "refiner.local_views"),
                              ("{\"la_window\": 3}", "refiner.la_window"),
                              ("{\"la_window\": 4, \"la_heads\": 3}", "refiner.la_heads"),
                              ("{\"la_window\": 4, \"la_layers\": 0}", "refiner.la_layers"),
                              ("{\"la_window\": 4, \"mr_width\": 0}", "refiner.mr_width"),
                              ("{\"la_window\": 4, \"mr_width_full\": 0}", "refiner.mr_width_full")] {
            XCTAssertThrowsError(try Self.decode(refiner: json), json) { e in
                guard case let .invalidConfig(f, _) = e as? ModelError else { return XCTFail("\(e)") }
                XCTAssertEqual(f, field, json)
            }
        }
        // The default window (8) divides the micro embedding side (8): one LA window.
        XCTAssertEqual(try Self.decode(refiner: "{}").refiner?.laWindow, 8)
    }

    func testExpectedWeightsAreTheCheckpointsRefinerKeys() throws {
        let ckpt = try RefinerGoldens.checkpoint()
        let cfg = try RefinerGoldens.config(localViews: 0)
        try WeightValidation.validate(ckpt, names: ckpt.names, config: cfg)
        let expected = try cfg.expectedWeights().filter { $0.name.hasPrefix("refiner.") }
        let inCkpt = ckpt.names.filter { $0.hasPrefix("refiner.") }
        XCTAssertEqual(Set(expected.map(\.name)), Set(inCkpt))
        for (name, shape) in expected { XCTAssertEqual(ckpt.shape(of: name), shape, name) }
        XCTAssertEqual(try cfg.gemmLayers().filter { $0.name.hasPrefix("refiner.") }.count,
                       cfg.refiner!.laLayers * 6 + 2 + 13)
        // Without the config's refiner object the refiner keys are unexpected; with it, a plain checkpoint misses them.
        XCTAssertThrowsError(try WeightValidation.validate(ckpt, names: ckpt.names, config: RefinerGoldens.config(localViews: nil))) { e in
            guard let k = e as? WeightKeyError, case let .unexpected(name, _) = k.first else { return XCTFail("\(e)") }
            XCTAssertTrue(name.hasPrefix("refiner."))
        }
        let plain = try Goldens.store("checkpoint.safetensors")
        XCTAssertThrowsError(try WeightValidation.validate(plain, names: plain.names, config: cfg)) { e in
            guard let k = e as? WeightKeyError, case let .missing(name, _) = k.first else { return XCTFail("\(e)") }
            XCTAssertTrue(name.hasPrefix("refiner."))
            XCTAssertEqual(k.missing, inCkpt.count)
        }
    }

    struct Out: Equatable { var masks: [UInt8]; var logits: [Float]; var iou: [Float]; var refined: Bool }

    static func predict(_ p: SAM2ImagePredictor, setImage: Bool = true) throws -> Out {
        let img = try Goldens.image("chelsea", in: RefinerGoldens.dir)
        if setImage { try p.setImage(rgb: img.pixels, width: img.width, height: img.height) }
        let r = try p.predict(points: [[60, 40], [120, 20]], labels: [1, 0], box: [20, 10, 110, 90], multimask: true)
        return Out(masks: r.masks, logits: r.lowResLogits, iou: r.iou, refined: r.refined)
    }

    /// refine = false gives plain SAM2.1 exactly, whether it was off at setImage or turned off after it.
    func testRefineOffIsPlainSAM2() throws {
        let plain = try Self.predict(RefinerGoldens.predictor(localViews: nil))
        XCTAssertFalse(plain.refined)
        for lv in [0, 4] {
            let p = try RefinerGoldens.predictor(localViews: lv)
            let on = try Self.predict(p)
            XCTAssertTrue(on.refined)
            XCTAssertNotEqual(on.masks, plain.masks, "seeded refiner weights change the masks")
            p.refine = false
            XCTAssertEqual(try Self.predict(p, setImage: false), plain, "lv\(lv): turned off after setImage")
            XCTAssertEqual(try Self.predict(p), plain, "lv\(lv): off at setImage")
            p.refine = true
            XCTAssertThrowsError(try Self.predict(p, setImage: false)) { e in
                guard case let .invalidInput(arg, _) = e as? ModelError else { return XCTFail("\(e)") }
                XCTAssertEqual(arg, "refine")
            }
            XCTAssertEqual(try Self.predict(p), on, "lv\(lv): on again after a new setImage")
        }
    }

    /// Two threads give the masks of one (the pool splits GEMMs, attention and resizes by rows).
    func testThreadsAgree() throws {
        for lv in [0, 4] {
            let one = try Self.predict(RefinerGoldens.predictor(localViews: lv))
            let two = try Self.predict(RefinerGoldens.predictor(localViews: lv, threads: 2))
            XCTAssertEqual(one.masks, two.masks, "lv\(lv)")
            XCTAssertLessThanOrEqual(maxAbsDiff(one.logits, two.logits), 1e-4, "lv\(lv)")
            XCTAssertTrue(two.refined)
        }
    }

    /// Training's zero init (LA out_proj + ffn.fc2, PR fc2) makes LA and PR the identity: G' = G and
    /// the sparse tokens pass unchanged, bit for bit.
    func testZeroInitIsIdentity() throws {
        let cfg = try RefinerGoldens.config(localViews: 0)
        var zero = Set(["refiner.pr.mlp.fc2.weight", "refiner.pr.mlp.fc2.bias"])
        for i in 0..<cfg.refiner!.laLayers {
            for n in ["attn.out_proj", "ffn.fc2"] {
                zero.insert("refiner.la.layers.\(i).\(n).weight")
                zero.insert("refiner.la.layers.\(i).\(n).bias")
            }
        }
        let p = try SAM2ImagePredictor(config: cfg, weights: ZeroedWeights(RefinerGoldens.checkpoint(), zeroed: zero))
        let rec = TapRecorder()
        p.observer = rec.observer
        _ = try Self.predict(p)
        let g = try XCTUnwrap(rec.tensors["image_embed"]), gp = try XCTUnwrap(rec.tensors["refiner.la"])
        XCTAssertEqual(g, gp)
        XCTAssertEqual(try XCTUnwrap(rec.tensors["prompt_encoder.sparse"]), try XCTUnwrap(rec.tensors["refiner.pr"]))
    }

    func testQuadrantViewsNeedTwoByTwo() throws {
        let p = try RefinerGoldens.predictor(localViews: 4)
        XCTAssertThrowsError(try p.setImage(rgb: [UInt8](repeating: 0, count: 9), width: 3, height: 1)) { e in
            guard case let .invalidInput(arg, _) = e as? ModelError else { return XCTFail("\(e)") }
            XCTAssertEqual(arg, "image size")
        }
        p.refine = false
        XCTAssertNoThrow(try p.setImage(rgb: [UInt8](repeating: 0, count: 9), width: 3, height: 1))
    }

    /// Arena plans of tiny at 1024² with the doc's default refiner (plan only, no weights).
    func testTinyArenaPlans() throws {
        var sizes: [String: Int] = [:]
        for lv in [nil, 0, 4] as [Int?] {
            var cfg = ModelConfig.tiny
            cfg.refiner = lv.map { RefinerConfig(dModel: cfg.dModel, localViews: $0) }
            let plan = try SAM2ImagePredictor.arenaPlan(config: cfg, height: 1024, width: 1024)
            sizes[lv.map { "lv\($0)" } ?? "plain"] = plan.totalBytes
        }
        print("tiny 1024² arena bytes: \(sizes.keys.sorted().map { "\($0) \(sizes[$0]!)" }.joined(separator: ", "))")
        XCTAssertGreaterThan(sizes["lv0"]!, sizes["plain"]!)
        XCTAssertGreaterThanOrEqual(sizes["lv4"]!, sizes["lv0"]!)
    }
}
