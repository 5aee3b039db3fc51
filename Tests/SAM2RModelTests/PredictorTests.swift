// PredictorTests.swift — prompt encoder, mask decoder, selection and postprocessing vs every micro
// golden case (points, box, box + point, negative click, multimask on/off, mask refinement, edge
// points, non-square images), cached-feature reuse and input validation.

import Foundation
import SAM2RCheckpoint
import SAM2RModel
import XCTest

final class PredictorTests: XCTestCase {
    /// Decoder-side tolerance (fp32, micro): observed max |Δ| is ~1e-5 on logits.
    static let tol: Float = 1e-4

    struct Case {
        let name: String, image: String, file: String
        let points: [SIMD2<Float>], labels: [Int32], box: SIMD4<Float>?, multimask: Bool
    }

    static func cases(in dir: String = Goldens.dir) throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        let m = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (m["cases"] as! [[String: Any]]).map { c in
            let pts = (c["point_coords"] as? [[Double]]) ?? []
            let box = (c["box"] as? [Double]).map { SIMD4<Float>(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
            return Case(name: c["name"] as! String, image: c["image"] as! String, file: c["file"] as! String,
                        points: pts.map { SIMD2<Float>(Float($0[0]), Float($0[1])) },
                        labels: ((c["point_labels"] as? [Int]) ?? []).map(Int32.init), box: box,
                        multimask: c["multimask_output"] as! Bool)
        }
    }

    func testAllCasesMatchGoldens() throws {
        try PredictorTests.runCases(dir: Goldens.dir, tol: PredictorTests.tol, threads: 1, images: nil)
    }

    /// Every case of the golden set in `dir` (only `images` if given); returns max |Δ| per tensor.
    static func runCases(dir: String, tol: Float, threads: Int, images: Set<String>?) throws {
        let p = try Goldens.predictor(threads: threads, in: dir)
        let rec = TapRecorder()
        p.observer = rec.observer
        var current = ""
        var worst: [String: Float] = [:]
        var checked = 0
        let d = p.config.dModel
        for c in try PredictorTests.cases(in: dir) {
            guard FileManager.default.fileExists(atPath: dir + "/" + c.file) else { continue }
            if let images, !images.contains(c.image) { continue }
            if c.image != current {
                let img = try Goldens.image(c.image, in: dir)
                try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
                current = c.image
            }
            let g = try Goldens.store(c.file, in: dir)
            let maskInput: [Float]? = g["prompt.mask_input"] != nil ? try g.floats("prompt.mask_input") : nil
            rec.tensors = [:]
            let out = try p.predict(points: c.points, labels: c.labels, box: c.box, maskInput: maskInput,
                                    multimask: c.multimask)
            checked += 1
            var got = rec.tensors
            got["decoder.hyper_in"] = (0..<4).flatMap { got["decoder.hyper.\($0)"] ?? [] }
            got["output.low_res_logits"] = out.lowResLogits
            got["output.iou"] = out.iou
            got["output.mask_logits"] = (0..<out.count).flatMap { got["output.mask_logits.\($0)"] ?? [] }
            got["decoder.mask_tokens_out"] = got["transformer.queries"].map { Array($0[(2 * d)..<(6 * d)]) }
            for t in g.names.sorted() where !t.hasPrefix("prompt.") && g[t]!.dtype == .float32 {
                guard ["decoder.low_res_selected", "decoder.iou_selected", "decoder.stability_score"].contains(t) == false
                else { continue }
                let delta = try compare(t, got: got[t], store: g, tol: tol)
                worst[t] = max(worst[t] ?? 0, delta)
            }
            // Masks: exact, except pixels whose golden logit is within the logit tolerance of 0
            // (without logit goldens: at most 0.01% of the pixels).
            let gm = try g.floats("output.masks")
            XCTAssertEqual(gm.count, out.masks.count, "\(c.name) mask size")
            if gm.count == out.masks.count {
                let logits = g["output.mask_logits"] != nil ? try g.floats("output.mask_logits") : nil
                var flips = 0
                let band = tol * max(1, logits?.reduce(0) { max($0, abs($1)) } ?? 1)
                for i in 0..<gm.count where Float(out.masks[i]) != gm[i] {
                    if let l = logits, abs(l[i]) <= band { continue }
                    flips += 1
                }
                XCTAssertLessThanOrEqual(flips, logits == nil ? gm.count / 10_000 : 0, "\(c.name): \(flips) mask pixels differ")
            }
            XCTAssertEqual(out.count, c.multimask ? 3 : 1, c.name)
        }
        XCTAssertGreaterThanOrEqual(checked, images == nil ? 10 : 1)
        print("decoder max |Δ| over \(checked) cases:\n  " + worst.keys.sorted().map { "\($0) \(worst[$0]!)" }.joined(separator: "\n  "))
        print("arena bytes (\(p.config.name), last image): \(p.arenaBytes)")
    }
}
