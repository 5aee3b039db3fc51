// APITests.swift — configs, weight-key validation, arena plans, input validation, feature reuse.

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RModel
import XCTest

final class APITests: XCTestCase {
    func testPresetsEqualReferenceJSON() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/reference/configs")
        for (file, preset) in [("tiny", ModelConfig.tiny), ("small", .small), ("base-plus", .basePlus),
                               ("large", .large), ("micro", .micro)] {
            let c = try ModelConfigJSON.load(path: dir.appendingPathComponent(file + ".json").path)
            XCTAssertEqual(c, preset, file)
        }
    }

    func testTinyGeometryMatchesDesignNote() throws {
        let b = ModelConfig.tiny.blocks
        XCTAssertEqual(b.map(\.window), [8, 8, 4, 4, 14, 0, 14, 0, 14, 0, 14, 7])
        XCTAssertEqual(b.map(\.dimOut), [96, 192, 192, 384, 384, 384, 384, 384, 384, 384, 768, 768])
        XCTAssertEqual(b.filter(\.qPool).map(\.index), [1, 3, 10])
        XCTAssertEqual(b.filter(\.stageEnd).map(\.index), [0, 2, 9, 11])
        XCTAssertEqual(b.map(\.headDim), [Int](repeating: 96, count: 12))
    }

    func testTinyImagePathParameterCount() throws {
        let w = try ModelConfig.tiny.expectedWeights()
        let params = w.reduce(0) { $0 + $1.shape.reduce(1, *) }
        print("tiny image path: \(w.count) tensors, \(params) parameters")
        XCTAssertEqual(Double(params) / 1e6, 31.4, accuracy: 0.05)  // design note: 31.4 M of 39.0 M
    }

    func testInvalidConfigRejected() throws {
        var c = ModelConfig.micro
        c.backboneChannelList = [64, 32, 16, 9]
        XCTAssertThrowsError(try c.validate())
        c = .micro
        c.imageSize = 100
        XCTAssertThrowsError(try c.validate())
    }

    func testExpectedWeightsMatchMicroCheckpoint() throws {
        let ckpt = try Goldens.store("checkpoint.safetensors")
        try WeightValidation.validate(ckpt, names: ckpt.names, config: .micro)
        // Wrong config: the first mismatch names the key and both shapes.
        var c = ModelConfig.micro
        c.embedDim = 16
        c.backboneChannelList = [128, 64, 32, 16]
        XCTAssertThrowsError(try WeightValidation.validate(ckpt, names: ckpt.names, config: c)) { e in
            guard let k = e as? WeightKeyError, case let .misshaped(name, expected, actual) = k.first else {
                return XCTFail("\(e)")
            }
            XCTAssertEqual(name, "image_encoder.trunk.patch_embed.proj.weight")
            XCTAssertEqual(expected, [16, 3, 7, 7])
            XCTAssertEqual(actual, [8, 3, 7, 7])
            XCTAssertTrue(k.description.contains("patch_embed"))
        }
        // Without the video-module allowance the memory modules are unexpected.
        XCTAssertThrowsError(try WeightValidation.validate(ckpt, names: ckpt.names, config: .micro,
                                                           allowVideoModules: false))
        // Missing key through the loader: typed error.
        struct Drop: WeightSource {
            let base: Checkpoint
            func shape(of name: String) -> [Int]? { name.hasSuffix("norm2.bias") ? nil : base.shape(of: name) }
            func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
                try base.readFloats(name, into: into)
            }
        }
        XCTAssertThrowsError(try SAM2ImagePredictor(config: .micro, weights: Drop(base: ckpt))) { e in
            XCTAssertEqual(e as? ModelError, .missingWeight("image_encoder.trunk.blocks.0.norm2.bias"))
        }
    }

    func testArenaPlans() throws {
        let micro = try SAM2ImagePredictor.arenaPlan(config: .micro, height: 160, width: 160)
        let tiny = try SAM2ImagePredictor.arenaPlan(config: .tiny, height: 1024, width: 1024)
        print("arena micro 160x160: \(micro.totalBytes) bytes (lower bound \(micro.lowerBound))")
        print("arena tiny 1024x1024: \(tiny.totalBytes) bytes (lower bound \(tiny.lowerBound)), \(tiny.tensors.count) buffers")
        let photo = try SAM2ImagePredictor.arenaPlan(config: .tiny, height: 3024, width: 4032)
        print("arena tiny, 4032x3024 photo: \(photo.totalBytes) bytes (input-size buffers: " +
              photo.tensors.filter { $0.name.hasPrefix("input") || $0.name.hasPrefix("postprocess") }
              .map { "\($0.name) \($0.size)" }.joined(separator: ", ") + ")")
        let top = tiny.tensors.sorted { $0.size > $1.size }.prefix(6).map { "\($0.name) \($0.size)" }
        print("tiny largest buffers: " + top.joined(separator: ", "))
        XCTAssertGreaterThanOrEqual(tiny.totalBytes, tiny.lowerBound)
        // No buffer is a global-attention score matrix (4 heads x 4096^2 floats).
        XCTAssertLessThan(tiny.tensors.map(\.size).max()!, 4 * 4096 * 4096 * 4)
    }

    func testInputValidation() throws {
        let p = try Goldens.predictor()
        XCTAssertThrowsError(try p.predict(points: [[1, 1]], labels: [1])) { XCTAssertEqual($0 as? ModelError, .noImage) }
        let img = try Goldens.image("coffee")
        XCTAssertThrowsError(try p.setImage(rgb: [UInt8](repeating: 0, count: 5), width: 2, height: 2))
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        func invalid(_ f: () throws -> SAM2Prediction, _ arg: String, line: UInt = #line) {
            XCTAssertThrowsError(try f(), line: line) { e in
                guard case let .invalidInput(a, _) = e as? ModelError else { return XCTFail("\(e)", line: line) }
                XCTAssertTrue(a.hasPrefix(arg), "\(a)", line: line)
            }
        }
        XCTAssertThrowsError(try SAM2ImagePredictor(config: .micro, weights: Goldens.store("checkpoint.safetensors"),
                                                    threads: 0))
        invalid({ try p.predict() }, "prompt")
        invalid({ try p.predict(points: [[.nan, 3]], labels: [1]) }, "points[0]")
        invalid({ try p.predict(points: [[10, 3], [-1, 3]], labels: [1, 1]) }, "points[1]")
        invalid({ try p.predict(points: [[10, Float(img.height) + 1]], labels: [1]) }, "points[0]")
        invalid({ try p.predict(points: [[10, 3]], labels: [2]) }, "labels[0]")
        invalid({ try p.predict(points: [[10, 3]], labels: []) }, "labels")
        invalid({ try p.predict(box: [50, 10, 20, 40]) }, "box")
        invalid({ try p.predict(box: [0, 0, .infinity, 40]) }, "box")
        invalid({ try p.predict(points: [[10, 3]], labels: [1], maskInput: [0, 1]) }, "maskInput")
        XCTAssertThrowsError(try p.predict(points: [SIMD2<Float>](repeating: [1, 1], count: 16),
                                           labels: [Int32](repeating: 1, count: 16)))
    }

    func testRepeatedClicksReuseFeaturesAndThreadsAgree() throws {
        let p = try Goldens.predictor()
        let img = try Goldens.image("chelsea")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        var encoderRuns = 0
        p.observer = { name, _, _ in if name == "trunk.patch_embed" { encoderRuns += 1 } }
        let a = try p.predict(points: [[64, 48]], labels: [1], multimask: false)
        let b = try p.predict(points: [[64, 48], [112, 64]], labels: [1, 0], multimask: true)
        let a2 = try p.predict(points: [[64, 48]], labels: [1], multimask: false)
        XCTAssertEqual(encoderRuns, 0)
        XCTAssertEqual(a.lowResLogits, a2.lowResLogits)
        XCTAssertEqual(a.masks, a2.masks)
        XCTAssertEqual(b.count, 3)
        // Feeding the low-res logits back as a mask prompt works.
        let best = b.iou.indices.max { b.iou[$0] < b.iou[$1] }!
        let n = b.lowResSize * b.lowResSize
        let r = try p.predict(points: [[64, 48]], labels: [1], maskInput: Array(b.lowResLogits[best * n..<(best + 1) * n]),
                              multimask: false)
        XCTAssertEqual(r.count, 1)
        // Threaded run agrees with the single-threaded one.
        let pt = try Goldens.predictor(threads: 2)
        try pt.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let at = try pt.predict(points: [[64, 48]], labels: [1], multimask: false)
        XCTAssertLessThanOrEqual(maxAbsDiff(at.lowResLogits, a.lowResLogits), 1e-4)
    }

    /// An observer sees more (every prompt token's row of the final attention, the no-mask dense embedding, the
    /// decoder input sum) but must not change a bit of the result: the goldens run with one, users without.
    func testObserverDoesNotChangeResults() throws {
        let img = try Goldens.image("chelsea")
        for threads in [1, 2] {
            let p = try Goldens.predictor(threads: threads)
            try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
            let prompts: [([SIMD2<Float>], [Int32], SIMD4<Float>?)] = [([[64, 48]], [1], nil),
                                                                       ([[64, 48], [112, 64]], [1, 0], nil),
                                                                       ([], [], SIMD4(20, 10, 120, 90))]
            for (pts, labels, box) in prompts {
                p.observer = nil
                let plain = try p.predict(points: pts, labels: labels, box: box, multimask: true)
                var taps = 0
                p.observer = { _, _, _ in taps += 1 }
                let observed = try p.predict(points: pts, labels: labels, box: box, multimask: true)
                p.observer = nil
                XCTAssertGreaterThan(taps, 0)
                XCTAssertTrue(plain.lowResLogits.elementsEqual(observed.lowResLogits) { $0.bitPattern == $1.bitPattern },
                              "threads \(threads), \(pts.count) points, box \(box != nil)")
                XCTAssertEqual(plain.iou, observed.iou)
            }
        }
    }

    func testOddImageSizesReplanAndRun() throws {
        let p = try Goldens.predictor()
        var rng = SystemRandomNumberGenerator()
        for (w, h) in [(1, 1), (300, 7), (5, 333), (1100, 900)] {
            let px = (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try p.setImage(rgb: px, width: w, height: h)
            let r = try p.predict(points: [[Float(w) / 2, Float(h) / 2]], labels: [1], box: [0, 0, Float(w), Float(h)],
                                  multimask: false)
            XCTAssertEqual(r.masks.count, w * h)
            XCTAssertTrue(r.lowResLogits.allSatisfy { $0.isFinite && abs($0) <= 32 })
            XCTAssertTrue(r.iou.allSatisfy(\.isFinite))
        }
    }

    func testTorchCheckpointGivesSameResult() throws {
        let pt = try Goldens.store("checkpoint.pt")
        try WeightValidation.validate(pt, names: pt.names, config: .micro)
        let a = try SAM2ImagePredictor(config: .micro, weights: pt)
        let b = try Goldens.predictor()
        let img = try Goldens.image("rocket")
        try a.setImage(rgb: img.pixels, width: img.width, height: img.height)
        try b.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let ra = try a.predict(points: [[83, 48]], labels: [1]), rb = try b.predict(points: [[83, 48]], labels: [1])
        XCTAssertEqual(ra.lowResLogits, rb.lowResLogits)
        XCTAssertEqual(ra.iou, rb.iou)
    }
}
