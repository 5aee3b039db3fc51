// TinyGoldenTests.swift — the tiny preset at 1024² against goldens from
// `make_goldens.py --config tiny` (seeded weights). Opt-in: SAM2R_TINY=1 (out/reference/tiny) or
// SAM2R_TINY_GOLDENS=<dir>; skipped otherwise.

import SAM2RModel
import XCTest

final class TinyGoldenTests: XCTestCase {
    /// Relative to max(1, max |golden|): 12 blocks of 96..768 channels and K up to 3072 in fp32.
    static let tol: Float = 1e-3

    func testTinyEncoderAndCases() throws {
        guard let dir = Goldens.tinyDir else { throw XCTSkip("tiny goldens are opt-in: SAM2R_TINY=1 or SAM2R_TINY_GOLDENS=<dir>") }
        let p = try Goldens.predictor(threads: 2, in: dir)
        let rec = TapRecorder()
        p.observer = rec.observer
        let img = try Goldens.image("astronaut", in: dir)
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        // Timing: an observer that only timestamps (the recorder copies every tap).
        let clock = ContinuousClock()
        var marks = [(String, ContinuousClock.Instant)]()
        p.observer = { name, _, offset in if offset == 0 { marks.append((name, clock.now)) } }
        let start = clock.now
        let tEnc = try clock.measure { try p.setImage(rgb: img.pixels, width: img.width, height: img.height) }
        var prev = start
        print("tiny encoder stages: " + marks.map { m in defer { prev = m.1 }; return "\(m.0) \(prev.duration(to: m.1))" }
            .joined(separator: ", "))
        p.observer = nil
        let tDec = try clock.measure { _ = try p.predict(points: [[100, 100]], labels: [1], multimask: true) }
        print("tiny timing (2 threads): setImage \(tEnc), predict \(tDec)")
        p.observer = rec.observer
        rec.tensors = [:]
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let g = try Goldens.store("astronaut/encoder.safetensors", in: dir)
        var report = [String]()
        for t in g.names.sorted() where g[t]!.dtype == .float32 {
            report.append("\(t) \(try compare(t, got: rec.tensors[t], store: g, tol: TinyGoldenTests.tol))")
        }
        print("[tiny astronaut] encoder max |Δ|:\n  " + report.joined(separator: "\n  "))
        print("arena bytes (tiny, \(img.width)x\(img.height)): \(p.arenaBytes)")
        try PredictorTests.runCases(dir: dir, tol: TinyGoldenTests.tol, threads: 2, images: ["astronaut"])
    }
}
