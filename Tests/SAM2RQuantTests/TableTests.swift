import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import XCTest
@testable import SAM2RQuant

enum Micro {
    static let dir: String = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.deletingLastPathComponent().appendingPathComponent("Goldens/micro").path
    }()
    static func config() throws -> ModelConfig { try ModelConfigJSON.load(path: dir + "/config.json") }
}

final class TableTests: XCTestCase {
    func sampleTable() -> QuantTable {
        let g = Synthetic.gaussian(10_000), o = Synthetic.oneSided(10_000)
        var entries: [QuantEntry] = []
        for (name, v, k) in [("a.qkv", g, 8), ("a.mlp.layers.1", o, 32)] {
            var s = TensorStatistics(); s.add(v)
            let p = QuantParams.calibrate(s, CalibratorOptions())
            entries.append(QuantEntry(name: name, inFeatures: k, params: p, calibrator: "percentile 99.99",
                                      minValue: s.minValue, maxValue: s.maxValue, clippedFraction: p.clippedFraction(s),
                                      count: s.count))
        }
        return QuantTable(modelName: "micro", fingerprint: "fnv1a64:0123456789abcdef", calibrator: "percentile 99.99",
                          images: 5, prompts: 25, entries: entries)
    }

    func testRoundTripExact() throws {
        let t = sampleTable()
        let back = try QuantTable.parse(t.text())
        XCTAssertEqual(back.text(), t.text())
        XCTAssertEqual(back.entries.map(\.params), t.entries.map(\.params))
        let path = NSTemporaryDirectory() + "/sam2r-table-\(getpid()).txt"
        try t.write(path: path)
        XCTAssertEqual(try QuantTable.read(path: path).text(), t.text())
        try? FileManager.default.removeItem(atPath: path)
    }

    func testDeletedEntryStaysFloat() throws {
        let text = sampleTable().text().split(separator: "\n").filter { !$0.hasPrefix("a.qkv ") }.joined(separator: "\n")
        let t = try QuantTable.parse(text)
        XCTAssertNil(t.entry("a.qkv"))
        XCTAssertNotNil(t.entry("a.mlp.layers.1"))
    }

    func testMalformedLinesNameTheLine() {
        let good = sampleTable().text()
        var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let entryLine = lines.firstIndex { $0.hasPrefix("a.qkv ") }!
        let cases: [(String, String)] = [
            (lines[entryLine].replacingOccurrences(of: "s8-sym", with: "u4"), "unknown scheme"),
            (lines[entryLine].replacingOccurrences(of: "scale=", with: "scale=x"), "scale="),
            (lines[entryLine].replacingOccurrences(of: " n=", with: " "), "not key=value"),
            (lines[entryLine].replacingOccurrences(of: "zp=0", with: "zp=3"), "s8-sym needs zp=0"),
            (lines[entryLine] + " extra=1", "fields"),
        ]
        for (bad, why) in cases {
            lines[entryLine] = bad
            XCTAssertThrowsError(try QuantTable.parse(lines.joined(separator: "\n"), path: "t.txt")) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.txt:\(entryLine + 1): "), "\(e)")
                XCTAssertTrue("\(e)".contains(why), "\(e)")
            }
        }
        XCTAssertThrowsError(try QuantTable.parse(good.replacingOccurrences(of: "format 1", with: "format 9"))) { e in
            XCTAssertTrue("\(e)".contains("format 9 not supported"), "\(e)")
        }
        XCTAssertThrowsError(try QuantTable.parse(good.replacingOccurrences(of: "images 5\n", with: ""))) { e in
            XCTAssertTrue("\(e)".contains("missing header line 'images'"), "\(e)")
        }
        XCTAssertThrowsError(try QuantTable.parse(good + good.split(separator: "\n").last! + "\n")) { e in
            XCTAssertTrue("\(e)".contains("duplicate entry"), "\(e)")
        }
    }

    func testModelMismatchListsTensors() throws {
        let cfg = try Micro.config()
        let gemms = try cfg.gemmLayers()
        let fp = try QuantTable.fingerprint(config: cfg)
        var t = sampleTable()
        XCTAssertThrowsError(try t.validate(gemms: gemms, fingerprint: fp, modelName: "micro")) { e in
            XCTAssertTrue("\(e)".contains("2 mismatched tensor(s): a.qkv (not a GEMM of the model), a.mlp.layers.1"), "\(e)")
        }
        let g = gemms[3]
        t.entries = [t.entries[0]]
        t.entries[0].name = g.name
        t.entries[0].inFeatures = g.inFeatures + 1
        XCTAssertThrowsError(try t.validate(gemms: gemms, fingerprint: fp, modelName: "micro")) { e in
            XCTAssertTrue("\(e)".contains("\(g.name) (in=\(g.inFeatures + 1), model has \(g.inFeatures))"), "\(e)")
        }
        t.entries[0].inFeatures = g.inFeatures
        XCTAssertThrowsError(try t.validate(gemms: gemms, fingerprint: fp, modelName: "micro"))  // fingerprint differs
        t.fingerprint = fp
        XCTAssertNoThrow(try t.validate(gemms: gemms, fingerprint: fp, modelName: "micro"))
        // Another architecture has another fingerprint.
        XCTAssertNotEqual(fp, try QuantTable.fingerprint(config: .tiny))
    }

    func testDefaultPromptsDeterministic() {
        let a = CalibrationPrompts.defaults(fileName: "x.png", width: 100, height: 50)
        XCTAssertEqual(a, CalibrationPrompts.defaults(fileName: "x.png", width: 100, height: 50))
        XCTAssertNotEqual(a, CalibrationPrompts.defaults(fileName: "y.png", width: 100, height: 50))
        XCTAssertEqual(a.count, 5)
        for p in a {
            for q in p.points { XCTAssertTrue(q.x >= 0 && q.x <= 100 && q.y >= 0 && q.y <= 50) }
            if let b = p.box { XCTAssertTrue(b.x >= 0 && b.x <= b.z && b.z <= 100 && b.y <= b.w && b.w <= 50, "\(b)") }
        }
        XCTAssertTrue(a[4].refine)
    }

    func testPromptsJSON() throws {
        let ok = #"{"a.png": [{"points": [[1, 2, 1], [3, 4, 0]]}, {"box": [0, 0, 5, 5]}, {"refine": true, "points": [[1,1,1]]}]}"#
        let p = try CalibrationPrompts.parse(Data(ok.utf8), path: "p.json")
        XCTAssertEqual(p["a.png"]?.count, 3)
        XCTAssertEqual(p["a.png"]?[0].points[1].label, 0)
        for bad in [#"[]"#, #"{"a.png": []}"#, #"{"a.png": [{}]}"#, #"{"a.png": [{"points": [[1, 2, 5]]}]}"#,
                    #"{"a.png": [{"box": [1, 2]}]}"#, #"{"a.png": [{"refine": true}]}"#, #"{"a.png": [{"pts": []}]}"#] {
            XCTAssertThrowsError(try CalibrationPrompts.parse(Data(bad.utf8), path: "p.json"), bad)
        }
    }
}

/// The micro model end to end: every GEMM of the model reports its input under its weight prefix.
final class MicroCalibrationTests: XCTestCase {
    func testEveryGemmObservedAndTable() throws {
        let cfg = try Micro.config()
        let ckpt = try Checkpoint(path: Micro.dir + "/checkpoint.safetensors")
        let p = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: 1)
        let gemms = try cfg.gemmLayers()
        XCTAssertTrue(gemms.contains { $0.name == "image_encoder.trunk.blocks.3.attn.qkv" && $0.kind == .linear })
        XCTAssertTrue(gemms.contains { $0.name == "sam_mask_decoder.output_upscaling.0" && $0.kind == .convTranspose })
        XCTAssertTrue(gemms.contains { $0.name == "image_encoder.trunk.patch_embed.proj" && $0.inFeatures == 7 * 7 * 3 })
        let c = CalibrationCollector()
        var widths: [String: Set<Int>] = [:]
        p.gemmInputObserver = { name, x, rows, cols, ld in
            widths[name, default: []].insert(cols)
            c.add(name, x, rows: rows, cols: cols, ld: ld)
        }
        let img = try decodeImage(path: Micro.dir + "/images/chelsea.png")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        var prev: [Float]? = nil
        for pr in CalibrationPrompts.defaults(fileName: "chelsea.png", width: img.width, height: img.height) {
            let r = try p.predict(points: pr.points.map { SIMD2($0.x, $0.y) }, labels: pr.points.map(\.label), box: pr.box,
                                  maskInput: pr.refine ? prev : nil, multimask: false)
            prev = r.lowResLogits
        }
        let names = Set(gemms.map(\.name))
        XCTAssertEqual(Set(c.order), names, "observed vs model GEMMs")
        for g in gemms { XCTAssertEqual(widths[g.name], [g.inFeatures], g.name) }
        let fp = try QuantTable.fingerprint(config: cfg)
        let t = c.table(gemms: gemms, options: CalibratorOptions(method: .mse), modelName: cfg.name, fingerprint: fp,
                        images: 1, prompts: 5)
        XCTAssertEqual(t.entries.map(\.name), gemms.map(\.name))
        XCTAssertNoThrow(try t.validate(gemms: gemms, fingerprint: fp, modelName: cfg.name))
        // Post-GELU MLP inputs are one-sided -> asymmetric; LayerNorm-fed qkv symmetric.
        XCTAssertEqual(t.entry("image_encoder.trunk.blocks.3.mlp.layers.1")?.params.scheme, .s8Asym)
        XCTAssertEqual(t.entry("image_encoder.trunk.blocks.3.attn.qkv")?.params.scheme, .s8Sym)
        XCTAssertEqual(try QuantTable.parse(t.text()).text(), t.text())
    }
}
