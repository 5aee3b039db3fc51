// RefinerGoldenTests.swift — the SAM2Refiner runtime (LA, PR, MR; docs/refiner.md) vs the PyTorch reference
// on the micro-refiner goldens, for local_views 0 and 4: local maps, every LA layer, G', PR tokens,
// MR's M1/M2/M3, and the end-to-end masks, IoU and low-res logits.

import Foundation
import SAM2RCheckpoint
import SAM2RModel
import XCTest

final class RefinerGoldenTests: XCTestCase {
    /// Same bound as the micro golden tests (relative to max(1, max |golden|)).
    static let tol: Float = 1e-4

    func testLocalViews0MatchesGoldens() throws { try run(localViews: 0) }
    func testLocalViews4MatchesGoldens() throws { try run(localViews: 4) }

    private func run(localViews lv: Int) throws {
        let p = try RefinerGoldens.predictor(localViews: lv)
        XCTAssertTrue(p.refines)
        let rec = TapRecorder()
        p.observer = rec.observer
        let tol = Self.tol
        var worst: [String: Float] = [:]
        func check(_ name: String, _ got: [Float]?, _ store: Checkpoint, _ golden: String) throws {
            worst[golden] = max(worst[golden] ?? 0, try compare(name, got: got, store: store, goldenName: golden, tol: tol))
        }
        var current = "", checked = 0, modules = 0
        for c in try RefinerGoldens.cases() where c.localViews == lv {
            if c.image != current {
                let img = try Goldens.image(c.image, in: RefinerGoldens.dir)
                rec.tensors = [:]
                try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
                current = c.image
                let im = try Goldens.store("\(c.image)/image.safetensors", in: RefinerGoldens.dir)
                try check("input", rec.tensors["input"], im, "I")
                try check("image_embed", rec.tensors["image_embed"], im, "G")
                let la = try Goldens.store("lv\(lv)/\(c.image)/la.safetensors", in: RefinerGoldens.dir)
                try check("refiner.lloc2", rec.tensors["refiner.lloc2"], la, "Lloc2")
                for name in la.names where name.hasPrefix("la.layer.") {
                    try check("refiner." + name, rec.tensors["refiner." + name], la, name)
                }
                try check("refiner.la", rec.tensors["refiner.la"], la, "G_prime")
            }
            let g = try Goldens.store(c.file, in: RefinerGoldens.dir)
            rec.tensors = [:]
            let out = try p.predict(points: c.points, labels: c.labels, box: c.box, multimask: c.multimask)
            XCTAssertTrue(out.refined, c.name)
            checked += 1
            // MR reads Lloc0 band by band (computed from feat_s0 with local_views 0) and reports the rows it reads.
            let la = try Goldens.store("lv\(lv)/\(c.image)/la.safetensors", in: RefinerGoldens.dir)
            try check("refiner.lloc0", rec.tensors["refiner.lloc0"], la, "Lloc0")
            try check("prompt_encoder.sparse", rec.tensors["prompt_encoder.sparse"], g, "pr.sparse_in")
            try check("refiner.pr", rec.tensors["refiner.pr"], g, "pr.sparse_out")
            if c.moduleTensors {
                modules += 1
                try check("decoder.upscaled", rec.tensors["decoder.upscaled"], g, "mr.U")
                for m in ["m1", "m2", "m3"] {
                    try check("refiner.mr.\(m)", rec.tensors["refiner.mr.\(m)"], g, "mr.\(m.uppercased())")
                }
            }
            try check("output.low_res_logits", out.lowResLogits, g, "output.low_res_logits")
            try check("output.iou", out.iou, g, "output.iou")
            XCTAssertEqual(out.count, c.multimask ? 3 : 1, c.name)
            // Masks: exact, except pixels whose refined logit (resized M3) is within the tolerance of 0.
            let gm = try g.int64s("output.masks")
            XCTAssertEqual(gm.count, out.masks.count, "\(c.name) mask size")
            guard gm.count == out.masks.count else { continue }
            let logits = (0..<out.count).flatMap { rec.tensors["output.mask_logits.\($0)"] ?? [] }
            XCTAssertEqual(logits.count, gm.count)
            let band = tol * max(1, logits.reduce(0) { max($0, abs($1)) })
            var flips = 0, near = 0
            for i in 0..<gm.count where Int64(out.masks[i]) != gm[i] {
                if i < logits.count, abs(logits[i]) <= band { near += 1 } else { flips += 1 }
            }
            XCTAssertEqual(flips, 0, "lv\(lv) \(c.image)/\(c.name): \(flips) mask pixels differ (\(near) within the band)")
        }
        XCTAssertGreaterThanOrEqual(checked, 8, "cases for local_views \(lv)")
        XCTAssertGreaterThanOrEqual(modules, 4, "module-tensor cases for local_views \(lv)")
        print("refiner lv\(lv): \(checked) cases, max |Δ|:\n  "
              + worst.keys.sorted().map { "\($0) \(worst[$0]!)" }.joined(separator: "\n  "))
        print("arena bytes (refiner lv\(lv), last image): \(p.arenaBytes)")
    }
}
