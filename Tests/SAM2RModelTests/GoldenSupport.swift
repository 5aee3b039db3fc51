// GoldenSupport.swift — reading Tests/Goldens/micro and comparing the model's taps with it.

import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import XCTest

enum Goldens {
    static let dir: String = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.deletingLastPathComponent().appendingPathComponent("Goldens/micro").path
    }()

    /// Goldens of the tiny preset at 1024² (tools/reference/make_goldens.py --config tiny), opt-in
    /// (~2 min in a debug build): $SAM2R_TINY_GOLDENS=<dir>, or SAM2R_TINY=1 for out/reference/tiny.
    static let tinyDir: String? = {
        let env = ProcessInfo.processInfo.environment
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        guard env["SAM2R_TINY_GOLDENS"] != nil || env["SAM2R_TINY"] == "1" else { return nil }
        let d = env["SAM2R_TINY_GOLDENS"] ?? here.appendingPathComponent("out/reference/tiny").path
        return FileManager.default.fileExists(atPath: d + "/manifest.json")
            && FileManager.default.fileExists(atPath: d + "/checkpoint.safetensors") ? d : nil
    }()

    static func store(_ rel: String, in dir: String = dir) throws -> Checkpoint { try Checkpoint(path: dir + "/" + rel) }

    /// Tensor `name` of `file` as channels-last floats: NCHW [1,C,H,W] goldens are transposed to [H][W][C].
    static func tensor(_ s: Checkpoint, _ name: String, nchw: Bool) throws -> (shape: [Int], values: [Float]) {
        guard let info = s[name] else { throw ModelError.missingWeight("golden \(name)") }
        let v = try s.floats(name)
        guard nchw, info.shape.count == 4 else { return (info.shape, v) }
        let c = info.shape[1], h = info.shape[2], w = info.shape[3]
        var out = [Float](repeating: 0, count: v.count)
        for ch in 0..<c { for i in 0..<(h * w) { out[i * c + ch] = v[ch * h * w + i] } }
        return ([1, h, w, c], out)
    }

    static func image(_ name: String, in dir: String = dir) throws -> Image {
        try decodeImage(path: dir + "/images/\(name).png")
    }

    static func predictor(threads: Int = 1, in dir: String = dir) throws -> SAM2ImagePredictor {
        let ckpt = try store("checkpoint.safetensors", in: dir)
        let cfg = try ModelConfigJSON.load(path: dir + "/config.json")
        return try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: threads)
    }

    /// Which golden tensors are NCHW (from the manifest's layouts).
    static func isNCHW(_ name: String) -> Bool {
        ["input", "neck.", "feat_s", "image_embed", "prompt_encoder.dense", "decoder.src", "decoder.upscale", "decoder.upscaled"]
            .contains { name == $0 || name.hasPrefix($0) }
    }
}

/// Collects observer taps into whole tensors.
final class TapRecorder: @unchecked Sendable {
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

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in 0..<a.count {
        let d = abs(a[i] - b[i])
        if !(d <= m) { m = d.isNaN ? .infinity : d }
    }
    return m
}

/// Compares `got` with golden `name` in `store`; returns max |Δ| after asserting
/// max |Δ| <= tol * max(1, max |golden|) (logits of the micro model reach ~10).
@discardableResult
func compare(_ name: String, got: [Float]?, store: Checkpoint, goldenName: String? = nil, tol: Float,
             file: StaticString = #filePath, line: UInt = #line) throws -> Float {
    let gname = goldenName ?? name
    let g = try Goldens.tensor(store, gname, nchw: Goldens.isNCHW(gname))
    guard let got else {
        XCTFail("no tap for \(name)", file: file, line: line)
        return .infinity
    }
    XCTAssertEqual(got.count, g.values.count, "\(name) element count", file: file, line: line)
    guard got.count == g.values.count else { return .infinity }
    let d = maxAbsDiff(got, g.values)
    let scale = max(1, g.values.reduce(0) { max($0, abs($1)) })
    XCTAssertLessThanOrEqual(d, tol * scale, "\(name): max |Δ| \(d) > \(tol) x \(scale)", file: file, line: line)
    return d
}
