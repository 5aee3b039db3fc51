// Int8Tests.swift — int8 execution (SAM2ImagePredictor(quantization:), scheme in
// Sources/SAM2RModel/Int8.swift) on the micro model with Tests/Goldens/micro/int8-table.txt, made by
//   sam2r calibrate --checkpoint Tests/Goldens/micro/checkpoint.pt --config Tests/Goldens/micro/config.json \
//     --images <astronaut, chelsea, chelsea_crop, rocket> --quiet --out Tests/Goldens/micro/int8-table.txt
// (mse calibrator); evaluated on the held-out image coffee.

import Foundation
import SAM2REngine
import SAM2RKernels
import SAM2RHost
import SAM2RModel
import XCTest

final class Int8Tests: XCTestCase {
    let originalISA = ISA.active
    override func tearDown() { try? ISA.force(originalISA) }

    /// The table's entries as an Int8Plan (the line format of docs/quantization-table.md).
    static func plan() throws -> Int8Plan {
        let text = try String(contentsOfFile: Goldens.dir + "/int8-table.txt", encoding: .utf8)
        var plan = Int8Plan()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ")
            guard f.count > 3, f[2].hasPrefix("scale="), f[3].hasPrefix("zp=") else { continue }
            plan[String(f[0])] = (Float(f[2].dropFirst(6))!, Int32(f[3].dropFirst(3))!)
        }
        return plan
    }

    struct Run { var embed: [Float]; var patch: [Float]; var logits: [Float]; var iou: [Float]; var masks: [UInt8]; var lowRes: Int }

    /// observed: with the tap recorder (embed and patch filled), which also keeps the decoder's fused
    /// paths off (fused int8 inputs, the tail's GEMMs inside it); without, the path users run.
    static func run(_ plan: Int8Plan?, threads: Int = 1, observed: Bool = true) throws -> Run {
        let ckpt = try Goldens.store("checkpoint.safetensors")
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        let p = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: threads, quantization: plan)
        let rec = TapRecorder()
        if observed { p.observer = rec.observer }
        let img = try Goldens.image("coffee")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let r = try p.predict(points: [[Float(img.width) * 0.5, Float(img.height) * 0.45]], labels: [1], multimask: true)
        return Run(embed: rec.tensors["image_embed"] ?? [], patch: rec.tensors["trunk.patch_embed"] ?? [],
                   logits: r.lowResLogits, iou: r.iou, masks: r.masks, lowRes: r.lowResSize)
    }

    static func sqnr(_ ref: [Float], _ x: [Float]) -> Double {
        var s = 0.0, n = 0.0
        for i in ref.indices { s += Double(ref[i]) * Double(ref[i]); n += Double(ref[i] - x[i]) * Double(ref[i] - x[i]) }
        return n == 0 ? .infinity : 10 * log10(s / n)
    }

    static func iou(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var i = 0, u = 0
        for j in a.indices { let x = a[j] != 0, y = b[j] != 0; if x && y { i += 1 }; if x || y { u += 1 } }
        return u == 0 ? 1 : Double(i) / Double(u)
    }

    func testPlanCoversEveryGemm() throws {
        let plan = try Self.plan()
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        XCTAssertEqual(Set(plan.keys), Set(try cfg.gemmLayers().map(\.name)))
    }

    /// (b) int8 vs fp32 on the held-out image, every GEMM int8. Measured (x86, debug and any ISA):
    /// image-embedding SQNR 27.40 dB, low-res-logit SQNR 26.61 dB, mask IoU 0.969 / 0.929 / 0.917
    /// (multimask tokens 1-3). Floors: 25 / 24 dB, IoU >= 0.85.
    func testAccuracyVsFP32() throws {
        let plan = try Self.plan()
        let f = try Self.run(nil), q = try Self.run(plan)
        XCTAssertFalse(f.embed.isEmpty)
        XCTAssertEqual(f.embed.count, q.embed.count)
        let se = Self.sqnr(f.embed, q.embed), sl = Self.sqnr(f.logits, q.logits)
        let n = f.lowRes * f.lowRes
        var ious = [Double]()
        let per = f.masks.count / max(1, f.logits.count / n)
        for m in 0..<(f.logits.count / n) {
            ious.append(Self.iou(Array(f.masks[m * per..<(m + 1) * per]), Array(q.masks[m * per..<(m + 1) * per])))
        }
        print("int8 vs fp32 (micro, coffee): image-embedding SQNR \(se) dB, low-res logits SQNR \(sl) dB, mask IoU \(ious)")
        XCTAssertGreaterThanOrEqual(se, Self.embedFloor)
        XCTAssertGreaterThanOrEqual(sl, Self.logitFloor)
        for v in ious { XCTAssertGreaterThanOrEqual(v, 0.85) }
        XCTAssertNotEqual(f.embed, q.embed, "int8 path did not run")
    }
    static let embedFloor = 25.0
    static let logitFloor = 24.0

    /// Elements that differ (bitwise) and the largest difference.
    static func diff(_ a: [Float], _ b: [Float]) -> (count: Int, max: Float) {
        guard a.count == b.count else { return (max(a.count, b.count), .infinity) }
        var n = 0, m: Float = 0
        for i in a.indices where a[i].bitPattern != b[i].bitPattern { n += 1; m = max(m, abs(a[i] - b[i])) }
        return (n, m)
    }

    /// (a) Every supported ISA (forced before the predictor is made, so the int8 weights are packed
    /// for that variant) x threads 1 and 2, against scalar with 1 thread: image embedding, low-res
    /// logits, IoU scores and masks all bit-identical. The int8 GEMMs are exact by construction and the
    /// fp32 kernels between them (LayerNorm, GELU, softmax, flash attention, fp32 GEMM) follow one
    /// canonical operation sequence on every ISA (docs/numerics.md), so no ulp differs anywhere.
    func testBitIdenticalAcrossISAsAndThreads() throws {
        let plan = try Self.plan()
        var first: Run?
        for isa in ISA.supported {
            try ISA.force(isa)
            for threads in [1, 2] {
                let r = try Self.run(plan, threads: threads)
                XCTAssertFalse(r.embed.isEmpty)
                XCTAssertFalse(r.iou.isEmpty)
                guard let first else { first = r; continue }
                let de = Self.diff(r.embed, first.embed), dl = Self.diff(r.logits, first.logits), di = Self.diff(r.iou, first.iou)
                print("int8 \(isa.name) threads \(threads) vs scalar/1: embedding \(de), logits \(dl), IoU \(di)")
                XCTAssertEqual(de.count, 0, "\(isa.name) threads \(threads): image embedding not bit-identical")
                XCTAssertEqual(dl.count, 0, "\(isa.name) threads \(threads): low-res logits not bit-identical")
                XCTAssertEqual(di.count, 0, "\(isa.name) threads \(threads): IoU scores not bit-identical")
                XCTAssertTrue(r.masks == first.masks, "\(isa.name) threads \(threads): masks")
            }
        }
    }

    /// The path without an observer (int8 inputs quantized by their producers, the upscaling GEMMs run inside
    /// the tail ops row by row, the decoder's keys + PE added as its readers read the keys instead of written)
    /// gives the observed path's bits, on every ISA at 1 and 2 threads.
    func testUnobservedFusedPathBitIdentical() throws {
        // The micro plan quantizes the decoder's attentions, so its decoder runs unfolded; the fp32 run (no plan)
        // folds them all, which is where the keys + PE are added on read.
        let plans: [(String, Int8Plan?)] = [("int8", try Self.plan()), ("fp32", nil)]
        for isa in ISA.supported {
            try ISA.force(isa)
            for threads in [1, 2] {
                for (name, plan) in plans {
                    let o = try Self.run(plan, threads: threads), u = try Self.run(plan, threads: threads, observed: false)
                    let dl = Self.diff(u.logits, o.logits), di = Self.diff(u.iou, o.iou)
                    let what = "\(name) \(isa.name) threads \(threads)"
                    XCTAssertFalse(u.logits.isEmpty)
                    XCTAssertEqual(dl.count, 0, "\(what): low-res logits \(dl)")
                    XCTAssertEqual(di.count, 0, "\(what): IoU scores \(di)")
                    XCTAssertTrue(u.masks == o.masks, "\(what): masks")
                }
            }
        }
    }

    /// The fp32 path (no plan) is bit-identical across ISAs too: the same canonical fp32 kernels.
    func testFP32BitIdenticalAcrossISAs() throws {
        var first: Run?
        for isa in ISA.supported {
            try ISA.force(isa)
            let r = try Self.run(nil)
            XCTAssertFalse(r.embed.isEmpty)
            guard let first else { first = r; continue }
            let outputs = [("image embedding", r.embed, first.embed), ("low-res logits", r.logits, first.logits),
                           ("IoU scores", r.iou, first.iou)]
            for (what, a, b) in outputs {
                XCTAssertEqual(Self.diff(a, b).count, 0, "fp32 \(isa.name): \(what) not bit-identical to scalar")
            }
            XCTAssertTrue(r.masks == first.masks, "fp32 \(isa.name): masks")
        }
    }

    /// (c) a deleted entry keeps its layer fp32: the patch embedding (first GEMM, same input in both
    /// runs) equals the fp32 one exactly without its entry and differs with it.
    func testDeletedEntryStaysFP32() throws {
        var plan = try Self.plan()
        let f = try Self.run(nil), q = try Self.run(plan)
        XCTAssertNotEqual(f.patch, q.patch)
        plan["image_encoder.trunk.patch_embed.proj"] = nil
        let d = try Self.run(plan)
        XCTAssertFalse(f.patch.isEmpty)
        XCTAssertEqual(d.patch, f.patch)
        XCTAssertNotEqual(d.embed, f.embed, "other layers still int8")
    }

    /// An int8 model keeps feat_s0 / feat_s1 as binary16 (ImageFeatures.skipHalf): every value the decoder
    /// reads is a binary16 value, and their arena buffers take half the bytes; an fp32 model keeps them fp32
    /// (its values are not all binary16). The tail's bits over binary16 skip features are the harness's
    /// (test_decoder_tail.c: the fp32 path over the widened values).
    func testInt8SkipFeaturesAreBinary16() throws {
        let ckpt = try Goldens.store("checkpoint.safetensors")
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        let img = try Goldens.image("coffee")
        for plan in [try Self.plan(), nil] {
            let p = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: 2, quantization: plan)
            let rec = TapRecorder()
            p.observer = rec.observer
            try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
            for name in ["feat_s0", "feat_s1"] {
                let v = try XCTUnwrap(rec.tensors[name])
                XCTAssertFalse(v.isEmpty)
                let binary16 = v.allSatisfy { sam2r_f16_to_f32(sam2r_f32_to_f16($0)) == $0 }
                XCTAssertEqual(binary16, plan != nil, "\(name): binary16 values iff int8")
            }
        }
        let e = cfg.embedSize, d = cfg.dModel
        for (name, values) in [("feat_s0", 16 * e * e * (d / 8)), ("feat_s1", 4 * e * e * (d / 4))] {
            for int8 in [false, true] {
                let plan = try SAM2ImagePredictor.arenaPlan(config: cfg, height: cfg.imageSize, width: cfg.imageSize, int8: int8)
                XCTAssertEqual(plan.tensors.first { $0.name == name }?.size, int8 ? 2 * values : 4 * values, name)
            }
        }
    }

    func testEmptyPlanIsFP32() throws {
        let f = try Self.run(nil), e = try Self.run([:])
        XCTAssertEqual(f.embed, e.embed)
        XCTAssertEqual(f.logits, e.logits)
    }
}

