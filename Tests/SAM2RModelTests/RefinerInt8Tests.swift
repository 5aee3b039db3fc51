// RefinerInt8Tests.swift — the refiner's GEMMs through the int8 plan (scheme: Sources/SAM2RModel/Int8.swift):
// a plan covering every GEMM of the micro-refiner model, refiner included (max-abs calibration on one image),
// runs on every supported ISA with bit-identical outputs across ISAs and thread counts.

import Foundation
import SAM2REngine
import SAM2RModel
import XCTest

final class RefinerInt8Tests: XCTestCase {
    let originalISA = ISA.active
    override func tearDown() { try? ISA.force(originalISA) }

    /// Symmetric per-tensor parameters from the fp32 GEMM inputs of one prediction: scale = max |x| / 127, zp 0.
    static func calibrate(localViews: Int) throws -> Int8Plan {
        let p = try RefinerGoldens.predictor(localViews: localViews)
        var maxAbs: [String: Float] = [:]
        p.gemmInputObserver = { name, x, rows, cols, ld in
            var m = maxAbs[name] ?? 0
            for r in 0..<rows { for c in 0..<cols { m = max(m, abs(x[r * ld + c])) } }
            maxAbs[name] = m
        }
        _ = try run(p)
        return maxAbs.mapValues { (scale: max($0, 1e-6) / 127, zeroPoint: 0) }
    }

    struct Run { var embed: [Float]; var lloc2: [Float]; var refined: [Float]; var m3: [Float]; var logits: [Float]; var iou: [Float]; var masks: [UInt8] }

    static func run(_ p: SAM2ImagePredictor) throws -> Run {
        let rec = TapRecorder()
        p.observer = rec.observer
        let img = try Goldens.image("astronaut", in: RefinerGoldens.dir)
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let r = try p.predict(points: [[72, 40]], labels: [1], multimask: true)
        XCTAssertTrue(r.refined)
        return Run(embed: rec.tensors["image_embed"] ?? [], lloc2: rec.tensors["refiner.lloc2"] ?? [], refined: rec.tensors["refiner.la"] ?? [],
                   m3: rec.tensors["refiner.mr.m3"] ?? [], logits: r.lowResLogits, iou: r.iou, masks: r.masks)
    }

    /// Every supported ISA (forced before the predictor is made: int8 weights packed for that variant) x
    /// threads 1 and 2, against the first (scalar, 1 thread) run: image embedding, Lloc2, G', M3, low-res
    /// logits, IoU scores and masks bit-identical. (Before the fp32 kernels followed one canonical sequence,
    /// docs/numerics.md, an ulp of LayerNorm between ISAs flipped an int8 rounding in the lv4 bottom-right
    /// quadrant pass and changed that quadrant of Lloc2.)
    func testInt8CoversRefinerAndIsDeterministic() throws {
        for lv in [0, 4] {
            let plan = try Self.calibrate(localViews: lv)
            let cfg = try RefinerGoldens.config(localViews: lv)
            let gemms = try cfg.gemmLayers().map(\.name)
            let refinerGemms = gemms.filter { $0.hasPrefix("refiner.") }
            XCTAssertEqual(refinerGemms.count, 2 * 6 + 2 + 13)
            XCTAssertTrue(Set(refinerGemms).isSubset(of: plan.keys), "lv\(lv): the plan covers every refiner GEMM")
            XCTAssertTrue(Set(plan.keys).isSubset(of: gemms))
            let f = try Self.run(RefinerGoldens.predictor(localViews: lv))
            var first: Run?
            for isa in ISA.supported {
                try ISA.force(isa)
                for threads in [1, 2] {
                    let q = try Self.run(RefinerGoldens.predictor(localViews: lv, threads: threads, quantization: plan))
                    XCTAssertEqual(q.m3.count, f.m3.count)
                    XCTAssertNotEqual(q.m3, f.m3, "lv\(lv): int8 path did not run")
                    guard let first else {
                        first = q
                        let iou = Int8Tests.iou(f.masks, q.masks)
                        print("refiner int8 vs fp32 (lv\(lv), \(isa.name)): G' SQNR \(Int8Tests.sqnr(f.refined, q.refined)) dB, "
                              + "M3 SQNR \(Int8Tests.sqnr(f.m3, q.m3)) dB, mask IoU \(iou)")
                        XCTAssertGreaterThanOrEqual(iou, 0.8)
                        continue
                    }
                    let outputs = [("image embedding", q.embed, first.embed), ("Lloc2", q.lloc2, first.lloc2),
                                   ("G'", q.refined, first.refined), ("M3", q.m3, first.m3), ("low-res logits", q.logits, first.logits),
                                   ("IoU scores", q.iou, first.iou)]
                    print("refiner int8 lv\(lv) \(isa.name) threads \(threads) vs first: "
                          + outputs.map { "\($0.0) \(Int8Tests.diff($0.1, $0.2))" }.joined(separator: ", "))
                    for (what, a, b) in outputs {
                        XCTAssertFalse(a.isEmpty, "lv\(lv): \(what) not recorded")
                        XCTAssertEqual(Int8Tests.diff(a, b).count, 0, "lv\(lv) \(isa.name) threads \(threads): \(what)")
                    }
                    XCTAssertTrue(q.masks == first.masks, "lv\(lv) \(isa.name) threads \(threads): masks")
                }
            }
        }
    }
}
