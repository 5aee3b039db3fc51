// SizeGoldenTests.swift — the model at input sizes other than the config's own, against Meta's SAM2.1 run with
// `image_size` changed (tools/reference/make_size_goldens.py):
//   - micro at 192/256/320 (Tests/Goldens/micro-sizes, committed): Hiera's pos-embed interpolation, image
//     embedding, low-res logits, IoU and masks of 3 cases per size;
//   - tiny at 512 (out/reference/tiny-512, `make check-tiny-512`): opt-in with SAM2R_TINY512=1.

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import XCTest

enum SizeGoldens {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dir = root.appendingPathComponent("Tests/Goldens/micro-sizes").path

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// NCHW [1,C,H,W] -> [H][W][C] (the model's layout).
    static func channelsLast(_ v: [Float], _ shape: [Int]) -> [Float] {
        guard shape.count == 4 else { return v }
        let c = shape[1], hw = shape[2] * shape[3]
        var out = [Float](repeating: 0, count: v.count)
        for ch in 0..<c { for i in 0..<hw { out[i * c + ch] = v[ch * hw + i] } }
        return out
    }
}

final class Recorder: @unchecked Sendable {
    var tensors: [String: [Float]] = [:]
    var observer: TensorObserver {
        { [unowned self] name, values, offset in
            var t = self.tensors[name] ?? []
            if t.count < offset + values.count { t += [Float](repeating: .nan, count: offset + values.count - t.count) }
            for i in 0..<values.count { t[offset + i] = values[i] }
            self.tensors[name] = t
        }
    }
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

func maxAbsDelta(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count {
        let d = abs(a[i] - b[i])
        if !(d <= m) { m = d.isNaN ? .infinity : d }
    }
    return m
}

struct SizeCase {
    let name: String, image: String, file: String
    let points: [SIMD2<Float>], labels: [Int32], box: SIMD4<Float>?, multimask: Bool

    init(_ c: [String: Any]) {
        name = c["name"] as! String
        image = c["image"] as! String
        file = c["file"] as! String
        points = ((c["point_coords"] as? [[Double]]) ?? []).map { SIMD2<Float>(Float($0[0]), Float($0[1])) }
        labels = ((c["point_labels"] as? [Int]) ?? []).map(Int32.init)
        box = (c["box"] as? [Double]).map { SIMD4<Float>(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
        multimask = c["multimask_output"] as! Bool
    }
}

/// Worst max |Δ| per tensor name, absolute and relative to max(1, max |golden|).
struct Worst {
    var abs: [String: Float] = [:], rel: [String: Float] = [:]
    mutating func add(_ name: String, _ d: Float, scale: Float) {
        abs[name] = max(abs[name] ?? 0, d)
        rel[name] = max(rel[name] ?? 0, d / scale)
    }
    var report: String {
        abs.keys.sorted().map { "\($0) \(abs[$0]!) (rel \(rel[$0]!))" }.joined(separator: "\n  ")
    }
}

/// Compares `got` with `golden`; asserts max |Δ| <= tol * max(1, max |golden|).
@discardableResult
func check(_ name: String, _ got: [Float]?, _ golden: [Float], tol: Float, into w: inout Worst,
           file: StaticString = #filePath, line: UInt = #line) -> Float {
    guard let got else { XCTFail("no value for \(name)", file: file, line: line); return .infinity }
    XCTAssertEqual(got.count, golden.count, "\(name) element count", file: file, line: line)
    guard got.count == golden.count else { return .infinity }
    let d = maxAbsDelta(got, golden)
    let scale = max(1, maxAbs(golden))
    XCTAssertLessThanOrEqual(d, tol * scale, "\(name): max |Δ| \(d) > \(tol) x \(scale)", file: file, line: line)
    w.add(name, d, scale: scale)
    return d
}

/// Mask pixels that differ from the golden mask, ignoring pixels whose (own) full-resolution logit is within `band`
/// of the threshold 0.
func maskFlips(_ out: SAM2Prediction, golden: [Float], logits: [Float]?, band: Float) -> Int {
    var flips = 0
    for i in 0..<golden.count where Float(out.masks[i]) != golden[i] {
        if let l = logits, abs(l[i]) <= band { continue }
        flips += 1
    }
    return flips
}

final class SizeGoldenTests: XCTestCase {
    /// Relative to max(1, max |golden|). Observed (fp32, micro): ~1e-6 relative on logits.
    static let tol: Float = 1e-4

    func testMicroAtOtherSizes() throws {
        let m = try SizeGoldens.json(SizeGoldens.dir + "/manifest.json")
        let ck = m["checkpoint"] as! [String: Any]
        let weights = try Checkpoint(path: SizeGoldens.dir + "/" + (ck["safetensors"] as! String))
        var images: [String: Image] = [:]
        for im in m["images"] as! [[String: Any]] {
            images[im["name"] as! String] = try decodeImage(path: SizeGoldens.dir + "/" + (im["file"] as! String))
        }
        let sizes = m["sizes"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(sizes.count, 2)
        var worst = Worst()
        var checked = 0
        for s in sizes {
            let S = s["image_size"] as! Int
            let cfg = try ModelConfigJSON.load(path: SizeGoldens.dir + "/" + (s["config"] as! String))
            XCTAssertEqual(cfg.imageSize, S)
            let p = try SAM2ImagePredictor(config: cfg, weights: weights, threads: 1)
            let rec = Recorder()
            p.observer = rec.observer
            let cases = (s["cases"] as! [[String: Any]]).map(SizeCase.init)
            let encoders = s["encoders"] as! [String: String]
            for name in encoders.keys.sorted() {
                let img = images[name]!
                rec.tensors = [:]
                try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
                // pos-embed (bicubic interpolation of the background + tiled window embedding) = pos_added - patch_embed
                if let cf = s["constants"] as? String, name == encoders.keys.sorted().first {
                    let g = try Checkpoint(path: SizeGoldens.dir + "/" + cf)
                    let pos = try g.floats("trunk.pos_embed")
                    let a = rec.tensors["trunk.pos_added"] ?? [], b = rec.tensors["trunk.patch_embed"] ?? []
                    XCTAssertEqual(a.count, pos.count, "pos_embed size at \(S)")
                    if a.count == pos.count, b.count == a.count {
                        check("trunk.pos_embed@\(S)", zip(a, b).map { $0 - $1 }, pos, tol: 1e-5, into: &worst)
                    }
                }
                let e = try Checkpoint(path: SizeGoldens.dir + "/" + encoders[name]!)
                let emb = SizeGoldens.channelsLast(try e.floats("image_embed"), e["image_embed"]!.shape)
                check("image_embed@\(S)", rec.tensors["image_embed"], emb, tol: SizeGoldenTests.tol, into: &worst)
                for c in cases where c.image == name {
                    let g = try Checkpoint(path: SizeGoldens.dir + "/" + c.file)
                    rec.tensors = [:]
                    let out = try p.predict(points: c.points, labels: c.labels, box: c.box, multimask: c.multimask)
                    XCTAssertEqual(out.count, c.multimask ? 3 : 1, c.name)
                    XCTAssertEqual(out.lowResSize, S / 4)
                    check("low_res_logits@\(S)", out.lowResLogits, try g.floats("output.low_res_logits"),
                          tol: SizeGoldenTests.tol, into: &worst)
                    check("iou@\(S)", out.iou, try g.floats("output.iou"), tol: SizeGoldenTests.tol, into: &worst)
                    if g["output.masks"] != nil {
                        let gm = try g.floats("output.masks")
                        XCTAssertEqual(gm.count, out.masks.count, "\(c.name)@\(S) mask size")
                        if gm.count == out.masks.count {
                            let own = (0..<out.count).flatMap { rec.tensors["output.mask_logits.\($0)"] ?? [] }
                            let band = SizeGoldenTests.tol * max(1, maxAbs(out.lowResLogits))
                            let flips = maskFlips(out, golden: gm, logits: own.count == gm.count ? own : nil, band: band)
                            XCTAssertLessThanOrEqual(flips, own.count == gm.count ? 0 : gm.count / 10_000,
                                                     "\(c.name)@\(S): \(flips) mask pixels differ")
                        }
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
        print("micro-sizes: \(checked) cases, max |Δ|:\n  " + worst.report)
    }

    /// Full-size tiny at 512 (seeded weights of `make check-tiny`) vs Meta's predictor built with image_size=512.
    /// Opt-in: SAM2R_TINY512=1 (after `make check-tiny-512`); SAM2R_TINY512_DIR overrides out/reference/tiny-512.
    func testTinyAt512() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["SAM2R_TINY512"] == "1" else { throw XCTSkip("opt-in: SAM2R_TINY512=1 (make check-tiny-512)") }
        let dir = env["SAM2R_TINY512_DIR"] ?? SizeGoldens.root.appendingPathComponent("out/reference/tiny-512").path
        let ckPath = env["SAM2R_TINY512_CHECKPOINT"]
            ?? SizeGoldens.root.appendingPathComponent("out/reference/tiny/checkpoint.safetensors").path
        guard FileManager.default.fileExists(atPath: dir + "/manifest.json") else {
            XCTFail("\(dir)/manifest.json missing: run make check-tiny-512"); return
        }
        let tol: Float = 1e-3
        let m = try SizeGoldens.json(dir + "/manifest.json")
        let cfg = try ModelConfigJSON.load(path: dir + "/config.json")
        XCTAssertEqual(cfg.imageSize, 512)
        let p = try SAM2ImagePredictor(config: cfg, weights: try Checkpoint(path: ckPath), threads: 2)
        let rec = Recorder()
        p.observer = rec.observer
        var worst = Worst()
        let cases = (m["cases"] as! [[String: Any]]).map(SizeCase.init)
        var current = "", checked = 0
        for c in cases {
            if c.image != current {
                let img = try decodeImage(path: dir + "/images/\(c.image).png")
                rec.tensors = [:]
                try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
                current = c.image
                let e = try Checkpoint(path: dir + "/\(c.image)/encoder.safetensors")
                for t in ["input", "feat_s0", "feat_s1", "image_embed"] where e[t] != nil {
                    check("\(t)", rec.tensors[t], SizeGoldens.channelsLast(try e.floats(t), e[t]!.shape), tol: tol,
                          into: &worst)
                }
            }
            let g = try Checkpoint(path: dir + "/" + c.file)
            let maskInput: [Float]? = g["prompt.mask_input"] != nil ? try g.floats("prompt.mask_input") : nil
            rec.tensors = [:]
            let out = try p.predict(points: c.points, labels: c.labels, box: c.box, maskInput: maskInput,
                                    multimask: c.multimask)
            check("output.low_res_logits", out.lowResLogits, try g.floats("output.low_res_logits"), tol: tol, into: &worst)
            check("output.iou", out.iou, try g.floats("output.iou"), tol: tol, into: &worst)
            if g["decoder.masks_raw"] != nil {
                check("decoder.masks_raw", rec.tensors["decoder.masks_raw"], try g.floats("decoder.masks_raw"), tol: tol,
                      into: &worst)
            }
            let gm = try g.floats("output.masks")
            if gm.count == out.masks.count {
                let own = (0..<out.count).flatMap { rec.tensors["output.mask_logits.\($0)"] ?? [] }
                let band = tol * max(1, maxAbs(out.lowResLogits))
                let flips = maskFlips(out, golden: gm, logits: own.count == gm.count ? own : nil, band: band)
                XCTAssertLessThanOrEqual(flips, own.count == gm.count ? 0 : gm.count / 10_000, "\(c.name): \(flips) mask pixels differ")
            } else {
                XCTFail("\(c.name): mask size \(out.masks.count) vs \(gm.count)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 3)
        print("tiny-512: \(checked) cases, max |Δ|:\n  " + worst.report)
    }
}
