// MicroModelFileTests.swift — the committed micro model (Tests/Goldens/micro: checkpoint + int8-table.txt)
// through a .sam2q file: results bit-identical to the in-memory int8 path, both when the file's packing
// is the active kernel's (zero copy) and when it is another variant's (unpacked and repacked at load).

import Foundation
import SAM2RCheckpoint
import SAM2REngine
import SAM2RHost
import SAM2RImageIO
import SAM2RKernels
@testable import SAM2RModel
import SAM2RModelFile
import SAM2RQuant
import XCTest

final class MicroModelFileTests: XCTestCase {
    static let dir: String = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.deletingLastPathComponent().appendingPathComponent("Goldens/micro").path
    }()

    static func plan() throws -> Int8Plan {
        let t = try QuantTable.read(path: dir + "/int8-table.txt")
        var p = Int8Plan()
        for e in t.entries { p[e.name] = (e.params.scale, Int32(e.params.zeroPoint)) }
        return p
    }

    /// The micro model file packed for `packing`, in memory.
    static func file(packing: ISA, weightBits: Int = 8, halfLinearWeights: Bool = false, plan: Int8Plan? = nil) throws -> [UInt8] {
        let cfg = try ModelConfigJSON.load(path: dir + "/config.json")
        let ckpt = try Checkpoint(path: dir + "/checkpoint.safetensors")
        let arena = try SAM2ImagePredictor.arenaPlan(config: cfg, height: cfg.imageSize, width: cfg.imageSize, int8: true)
        return try ModelFileWriter.encode(ModelFileContents.quantizing(
            config: cfg, configJSON: try ModelConfigJSON.encode(cfg), weights: ckpt, plan: try plan ?? Self.plan(), packing: packing,
            arena: ModelFileArena(arena, imageSize: cfg.imageSize, threads: 1, promptCapacity: 16), tableText: nil,
            weightBits: weightBits, halfLinearWeights: halfLinearWeights))
    }

    struct Output: Equatable { var logits: [Float]; var masks: [UInt8]; var iou: [Float]; var logits2: [Float] }

    static func run(_ p: SAM2ImagePredictor) throws -> Output {
        let img = try decodeImage(path: dir + "/images/coffee.png")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let a = try p.predict(points: [[Float(img.width) * 0.5, Float(img.height) * 0.45]], labels: [1], multimask: true)
        let b = try p.predict(points: [[10, 12]], labels: [1], box: [4, 5, Float(img.width) - 9, Float(img.height) - 3],
                              maskInput: Array(a.lowResLogits[0..<(a.lowResSize * a.lowResSize)]), multimask: false)
        return Output(logits: a.lowResLogits, masks: a.masks + b.masks, iou: a.iou + b.iou, logits2: b.lowResLogits)
    }

    func check(packing: ISA, zeroCopy: Bool, threads: Int) throws {
        let cfg = try ModelConfigJSON.load(path: Self.dir + "/config.json")
        let ckpt = try Checkpoint(path: Self.dir + "/checkpoint.safetensors")
        let reference = try Self.run(SAM2ImagePredictor(config: cfg, weights: ckpt, threads: threads,
                                                        quantization: try Self.plan()))
        let path = NSTemporaryDirectory() + "/micro-\(getpid())-\(packing.name).sam2q"
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(try Self.file(packing: packing))))
        let f = try ModelFile(path: path)
        XCTAssertEqual(try ModelConfigJSON.decode(Data(f.configJSON.utf8)), cfg)
        let w = try ModelFileWeights(f)
        XCTAssertEqual(w.isZeroCopy, zeroCopy)
        let got = try Self.run(SAM2ImagePredictor(config: cfg, weights: w, threads: threads))
        let gemms = try cfg.gemmLayers().count
        XCTAssertEqual(w.zeroCopyGemms, zeroCopy ? gemms : 0)
        XCTAssertEqual(w.repackedGemms, zeroCopy ? 0 : gemms)
        XCTAssertEqual(got.logits.count, reference.logits.count)
        XCTAssertTrue(got.logits.elementsEqual(reference.logits) { $0.bitPattern == $1.bitPattern }, "logits differ")
        XCTAssertTrue(got.logits2.elementsEqual(reference.logits2) { $0.bitPattern == $1.bitPattern }, "refined logits differ")
        XCTAssertEqual(got.masks, reference.masks)
        XCTAssertEqual(got.iou, reference.iou)
    }

    func testZeroCopyMatchesInMemoryInt8() throws {
        try check(packing: ISA.active, zeroCopy: true, threads: 1)
        try check(packing: ISA.active, zeroCopy: true, threads: 2)
    }

    /// Packed for a variant with another layout (e.g. a Raspberry Pi's, made on x86): repacked at load.
    func testRepackedMatchesInMemoryInt8() throws {
        let active = GemmS8Kernel.packingLayout(ISA.active)
        let other = try XCTUnwrap(ISA.allCases.first { GemmS8Kernel.packingLayout($0) != active })
        try check(packing: other, zeroCopy: false, threads: 2)
    }

    /// 7-bit weights (`sam2r quantize --weight-bits 7`): the file records the narrow AVX2 layout, every
    /// weight is within ±63, and where AVX2 runs, its narrow-weight kernel takes the file as mapped and gives
    /// the bits of the exact 8-bit-capable kernels (scalar, repacked) on the same file. An 8-bit file is
    /// refused by a narrow-weight kernel.
    func testSevenBitWeightsRunTheNarrowKernel() throws {
        let cfg = try ModelConfigJSON.load(path: Self.dir + "/config.json")
        let path = NSTemporaryDirectory() + "/micro-\(getpid())-w7.sam2q"
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(try Self.file(packing: .avx2, weightBits: 7))))
        let f = try ModelFile(path: path)
        XCTAssertEqual(f.packingName, "avx2-w7")
        XCTAssertTrue(f.packing == (16, 4))
        XCTAssertLessThanOrEqual(f.maxWeightMagnitude, 63)
        XCTAssertGreaterThan(f.maxWeightMagnitude, 0)
        let scalar = try ModelFileWeights(f, kernel: GemmS8Kernel(isa: .scalar))
        let reference = try Self.run(SAM2ImagePredictor(config: cfg, weights: scalar, threads: 2))
        XCTAssertEqual(scalar.repackedGemms, try cfg.gemmLayers().count)
        guard ISA.avx2.isSupported, GemmS8Kernel.hasNarrowVariant(.avx2) else {
            throw XCTSkip("no AVX2 narrow-weight kernel on this machine")
        }
        let before = ISA.active
        try ISA.force(.avx2)
        defer { try? ISA.force(before) }
        let w = try ModelFileWeights(f)
        XCTAssertTrue(w.isZeroCopy)
        let got = try Self.run(SAM2ImagePredictor(config: cfg, weights: w, threads: 2))
        XCTAssertEqual(w.zeroCopyGemms, try cfg.gemmLayers().count)
        XCTAssertTrue(got.logits.elementsEqual(reference.logits) { $0.bitPattern == $1.bitPattern }, "logits differ")
        XCTAssertTrue(got.logits2.elementsEqual(reference.logits2) { $0.bitPattern == $1.bitPattern }, "refined logits differ")
        XCTAssertEqual(got.masks, reference.masks)
        XCTAssertEqual(got.iou, reference.iou)

        // an 8-bit file: the default is the 8-bit kernel; forcing the narrow one is refused
        let path8 = NSTemporaryDirectory() + "/micro-\(getpid())-w8.sam2q"
        defer { unlink(path8) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path8, contents: Data(try Self.file(packing: .avx2))))
        let f8 = try ModelFile(path: path8)
        XCTAssertEqual(f8.packingName, "avx2")
        XCTAssertGreaterThan(f8.maxWeightMagnitude, 64)
        XCTAssertFalse(try ModelFileWeights(f8).kernelIsNarrow)
        XCTAssertThrowsError(try ModelFileWeights(f8, kernel: GemmS8Kernel(isa: .avx2, narrowWeights: true)))
    }

    /// `quantize --float-weights f16`: the float nn.Linear weights are stored as binary16 and run through
    /// gemmF16W; the results are bit-identical to the in-memory int8 path over the same weights rounded to
    /// binary16 and widened (the widening is exact and the GEMM's fma chain the fp32 one's), at 1 and 2 threads.
    func testHalfLinearWeightsMatchRoundedFloat() throws {
        let cfg = try ModelConfigJSON.load(path: Self.dir + "/config.json")
        let ckpt = try Checkpoint(path: Self.dir + "/checkpoint.safetensors")
        // calibrate's default scope: the image side in int8, the decoder's prompt side in float
        let plan = try Self.plan().filter { !$0.key.hasPrefix("sam_mask_decoder.") || $0.key.contains("output_upscaling") }
        let path = NSTemporaryDirectory() + "/micro-\(getpid())-f16.sam2q"
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(
            atPath: path, contents: Data(try Self.file(packing: ISA.active, halfLinearWeights: true, plan: plan))))
        let f = try ModelFile(path: path)
        let half = Set(f.tensors.filter { $0.kind == .float16 }.map(\.name))
        let expected = Set(try cfg.gemmLayers().filter { $0.kind == .linear && plan[$0.name] == nil }.map { $0.name + ".weight" })
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(half, expected)
        let w = try ModelFileWeights(f)
        let name = "sam_mask_decoder.transformer.layers.0.mlp.layers.0"
        let l = try Linear(w, name, out: try XCTUnwrap(w.shape(of: name + ".weight"))[0],
                           in: try XCTUnwrap(w.shape(of: name + ".weight"))[1])
        XCTAssertNotNil(l.half)
        XCTAssertNil(l.packed)
        for threads in [1, 2] {
            let reference = try Self.run(SAM2ImagePredictor(config: cfg, weights: HalfRounded(ckpt, names: expected),
                                                            threads: threads, quantization: plan))
            let got = try Self.run(SAM2ImagePredictor(config: cfg, weights: ModelFileWeights(f), threads: threads))
            XCTAssertTrue(got.logits.elementsEqual(reference.logits) { $0.bitPattern == $1.bitPattern }, "logits differ")
            XCTAssertTrue(got.logits2.elementsEqual(reference.logits2) { $0.bitPattern == $1.bitPattern }, "refined logits differ")
            XCTAssertEqual(got.masks, reference.masks)
            XCTAssertEqual(got.iou, reference.iou)
        }
    }

    /// An int8 model without a refiner keeps the decoder's dense PE as binary16 too (the folded attentions add
    /// it to the keys as they read them): the fp32 copy the other readers use holds the same numbers. An fp32
    /// model keeps the exact PE.
    func testInt8DensePEIsBinary16() throws {
        let cfg = try ModelConfigJSON.load(path: Self.dir + "/config.json")
        let ckpt = try Checkpoint(path: Self.dir + "/checkpoint.safetensors")
        let q = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: 1, quantization: try Self.plan())
        let half = try XCTUnwrap(q.promptEncoder.densePE.f16)
        XCTAssertEqual(half.count, q.promptEncoder.densePE.f32.count)
        XCTAssertTrue(zip(half, q.promptEncoder.densePE.f32).allSatisfy { sam2r_f16_to_f32($0) == $1 })
        let f = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: 1)
        XCTAssertNil(f.promptEncoder.densePE.f16)
        XCTAssertFalse(f.promptEncoder.densePE.f32.allSatisfy { sam2r_f16_to_f32(sam2r_f32_to_f16($0)) == $0 })
        XCTAssertTrue(zip(half, f.promptEncoder.densePE.f32).allSatisfy { sam2r_f16_to_f32($0) == sam2r_f16_to_f32(sam2r_f32_to_f16($1)) })
    }

    /// An int8 layer holds no fp32 form of its weights (the RSS goal), an fp32 one no int8 form.
    func testInt8LayerHasNoFloatWeights() throws {
        let cfg = try ModelConfigJSON.load(path: Self.dir + "/config.json")
        let ckpt = try Checkpoint(path: Self.dir + "/checkpoint.safetensors")
        let name = "image_encoder.trunk.blocks.0.attn.qkv"
        let src = QuantizedWeightSource(ckpt, plan: [name: (0.02, 0)])
        let q = try Linear(src, name, out: 3 * cfg.embedDim, in: cfg.embedDim)
        XCTAssertNil(q.packed)
        XCTAssertNotNil(q.int8)
        let f = try Linear(src, "image_encoder.trunk.blocks.0.attn.proj", out: cfg.embedDim, in: cfg.embedDim)
        XCTAssertNotNil(f.packed)
        XCTAssertNil(f.int8)
    }

    /// The config JSON a model file stores reads back as the same config.
    func testConfigJSONRoundTrip() throws {
        for c in ModelConfig.presets + [.micro] {
            XCTAssertEqual(try ModelConfigJSON.decode(Data(try ModelConfigJSON.encode(c).utf8)), c, c.name)
        }
    }
}

/// A weight source with the tensors `names` rounded to binary16 and widened back: the values an f16 model
/// file holds for them, as fp32.
private final class HalfRounded: WeightSource {
    let base: WeightSource
    let names: Set<String>
    init(_ base: WeightSource, names: Set<String>) { self.base = base; self.names = names }
    func shape(of name: String) -> [Int]? { base.shape(of: name) }
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
        try base.readFloats(name, into: into)
        guard names.contains(name) else { return }
        for i in into.indices { into[i] = sam2r_f16_to_f32(sam2r_f32_to_f16(into[i])) }
    }
}
