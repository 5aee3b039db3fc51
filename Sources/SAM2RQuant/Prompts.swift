// Prompts.swift — calibration prompts: a JSON file, or deterministic defaults seeded by the file name.

import Foundation

/// One decoder run on an image.
public struct CalibrationPrompt: Equatable, Sendable {
    /// Clicks (x, y, label 1 positive / 0 negative), original-image pixels.
    public var points: [(x: Float, y: Float, label: Int32)]
    /// (x0, y0, x1, y1).
    public var box: SIMD4<Float>?
    /// Feed the previous prompt's best low-res logits as mask input (exercises the mask-downscaling convs).
    public var refine: Bool

    public init(points: [(x: Float, y: Float, label: Int32)] = [], box: SIMD4<Float>? = nil, refine: Bool = false) {
        self.points = points; self.box = box; self.refine = refine
    }

    public static func == (a: CalibrationPrompt, b: CalibrationPrompt) -> Bool {
        a.box == b.box && a.refine == b.refine && a.points.count == b.points.count
            && zip(a.points, b.points).allSatisfy { $0.x == $1.x && $0.y == $1.y && $0.label == $1.label }
    }
}

public enum CalibrationPrompts {
    /// Default prompts for an image: 3 single positive clicks, 1 box, then the first click again with the
    /// previous (box) prediction's logits as mask input. Positions come from splitmix64 seeded with the
    /// FNV-1a 64 hash of the file name (no directory): clicks uniform in the central 80 % of the image,
    /// the box with corners in the image and sides >= 10 % of it.
    public static func defaults(fileName: String, width: Int, height: Int) -> [CalibrationPrompt] {
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in fileName.utf8 { seed ^= UInt64(b); seed = seed &* 0x100_0000_01b3 }
        var rng = SplitMix(seed)
        let w = Float(width), h = Float(height)
        func click() -> (x: Float, y: Float, label: Int32) {
            (x: (0.1 + 0.8 * rng.unit()) * w, y: (0.1 + 0.8 * rng.unit()) * h, label: 1)
        }
        var out = (0..<3).map { _ in CalibrationPrompt(points: [click()]) }
        let bw = (0.1 + 0.8 * rng.unit()) * w, bh = (0.1 + 0.8 * rng.unit()) * h
        let x0 = rng.unit() * (w - bw), y0 = rng.unit() * (h - bh)
        out.append(CalibrationPrompt(box: SIMD4(x0, y0, min(w, x0 + bw), min(h, y0 + bh))))
        out.append(CalibrationPrompt(points: out[0].points, refine: true))
        return out
    }

    /// Parses the prompts file: `{"<file name>": [{"points": [[x, y, label], ...], "box": [x0, y0, x1, y1],
    /// "refine": false}, ...], ...}`. Every prompt needs points or a box (or refine after a prompt).
    public static func parse(_ data: Data, path: String) throws -> [String: [CalibrationPrompt]] {
        func fail(_ s: String) -> QuantTableError { QuantTableError("\(path): \(s)") }
        // A JSON number as a finite Float: 1e39 (or 1e400, if the JSON reader lets it through) would
        // become infinity, and the decoder's coordinate normalization NaN.
        func coordinate(_ n: NSNumber, _ at: String) throws -> Float {
            let x = n.doubleValue
            guard x.isFinite, Float(x).isFinite else { throw fail("\(at): \(n) is not a finite coordinate") }
            return Float(x)
        }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw fail("not valid JSON")
        }
        guard let obj = root as? [String: Any] else { throw fail("top level must be an object {file name: [prompts]}") }
        var out: [String: [CalibrationPrompt]] = [:]
        // Sorted: with several bad entries the error names the same one in every run (hash order is per process).
        for (file, v) in obj.sorted(by: { $0.key < $1.key }) {
            guard let list = v as? [Any], !list.isEmpty else { throw fail("'\(file)': expected a non-empty list of prompts") }
            var ps: [CalibrationPrompt] = []
            for (i, item) in list.enumerated() {
                let at = "'\(file)'[\(i)]"
                guard let d = item as? [String: Any] else { throw fail("\(at): a prompt is an object") }
                if let extra = d.keys.sorted().first(where: { !["points", "box", "refine"].contains($0) }) {
                    throw fail("\(at): unknown key '\(extra)'")
                }
                var p = CalibrationPrompt()
                if let pts = d["points"] {
                    guard let arr = pts as? [Any] else { throw fail("\(at).points: expected [[x, y, label], ...]") }
                    for (j, pt) in arr.enumerated() {
                        guard let a = pt as? [NSNumber], a.count == 3 || a.count == 2 else {
                            throw fail("\(at).points[\(j)]: expected [x, y, label]")
                        }
                        // The label's exact value: int32Value would truncate 1.5 or 4294967297 to 1.
                        let label = a.count == 3 ? a[2].doubleValue : 1
                        guard label == 0 || label == 1 else {
                            throw fail("\(at).points[\(j)]: label must be 0 or 1, got \(a[2])")
                        }
                        p.points.append((x: try coordinate(a[0], "\(at).points[\(j)]"),
                                         y: try coordinate(a[1], "\(at).points[\(j)]"), label: Int32(label)))
                    }
                }
                if let b = d["box"] {
                    guard let a = b as? [NSNumber], a.count == 4 else { throw fail("\(at).box: expected [x0, y0, x1, y1]") }
                    let c = try a.map { try coordinate($0, "\(at).box") }
                    guard c[0] <= c[2], c[1] <= c[3] else {
                        throw fail("\(at).box: [\(c[0]), \(c[1]), \(c[2]), \(c[3])] is inverted (needs x0 <= x1, y0 <= y1)")
                    }
                    p.box = SIMD4(c[0], c[1], c[2], c[3])
                }
                if let r = d["refine"] {
                    guard let b = r as? Bool else { throw fail("\(at).refine: expected true or false") }
                    guard !b || i > 0 else { throw fail("\(at).refine: the first prompt has no previous mask") }
                    p.refine = b
                }
                guard !p.points.isEmpty || p.box != nil || p.refine else { throw fail("\(at): no points, box or refine") }
                ps.append(p)
            }
            out[file] = ps
        }
        return out
    }
}

/// splitmix64.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
