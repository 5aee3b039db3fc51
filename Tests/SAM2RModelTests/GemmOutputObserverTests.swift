// GemmOutputObserverTests.swift — SAM2ImagePredictor.gemmOutputObserver: the fp32 and the int8 path
// report the same GEMMs, in the same order, with the same row tiling as the input observer, and what it
// reports is the GEMM's output (patch embedding: the first GEMM, whose output the encoder taps).

import SAM2RHost
import SAM2RModel
import XCTest

final class GemmOutputObserverTests: XCTestCase {
    struct Call: Equatable { var name: String; var rows: Int; var cols: Int }

    static func calls(_ plan: Int8Plan?) throws -> (inputs: [Call], outputs: [Call], firstOutput: [Float], patch: [Float]) {
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        let p = try SAM2ImagePredictor(config: cfg, weights: try Goldens.store("checkpoint.safetensors"), quantization: plan)
        var inputs = [Call](), outputs = [Call](), first = [Float]()
        p.gemmInputObserver = { name, _, rows, cols, _ in inputs.append(Call(name: name, rows: rows, cols: cols)) }
        p.gemmOutputObserver = { name, y, rows, cols, ld in
            if name == "image_encoder.trunk.patch_embed.proj" {
                for r in 0..<rows { first += UnsafeBufferPointer(start: y + r * ld, count: cols) }
            }
            outputs.append(Call(name: name, rows: rows, cols: cols))
        }
        let rec = TapRecorder()
        p.observer = rec.observer
        let img = try Goldens.image("coffee")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        _ = try p.predict(points: [[Float(img.width) * 0.5, Float(img.height) * 0.45]], labels: [1], multimask: false)
        return (inputs, outputs, first, rec.tensors["trunk.patch_embed"] ?? [])
    }

    func testSameCallsFP32AndInt8() throws {
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        let f = try Self.calls(nil), q = try Self.calls(try Int8Tests.plan())
        XCTAssertFalse(f.outputs.isEmpty)
        XCTAssertEqual(f.outputs, q.outputs)
        // Same order and tiling as the inputs; cols = the GEMM N.
        XCTAssertEqual(f.outputs.map(\.name), f.inputs.map(\.name))
        XCTAssertEqual(f.outputs.map(\.rows), f.inputs.map(\.rows))
        let n = Dictionary(try cfg.gemmLayers().map { ($0.name, $0.outFeatures) }, uniquingKeysWith: { a, _ in a })
        XCTAssertTrue(f.outputs.allSatisfy { n[$0.name] == $0.cols })
        // Every GEMM runs except the prompt encoder's mask-downscaling convs (no mask input here).
        XCTAssertEqual(Set(f.outputs.map(\.name)), Set(n.keys.filter { !$0.hasPrefix("sam_prompt_encoder.mask_downscaling") }))
        // The patch conv's output is what the encoder taps as trunk.patch_embed (before the position add).
        XCTAssertFalse(f.firstOutput.isEmpty)
        XCTAssertEqual(f.firstOutput, f.patch)
        XCTAssertNotEqual(q.firstOutput, f.firstOutput)
    }
}
