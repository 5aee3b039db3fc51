// `sam2r quantize`: checkpoint + quantization table (+ device profile) → one int8 model file (.sam2q,
// docs/model-file.md), written atomically. Everything that can refuse (table vs model, profile budget)
// is checked before anything is written.
import ArgumentParser
import Foundation
import SAM2RCheckpoint
import SAM2REngine
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import SAM2RModelFile
import SAM2RProfiles
import SAM2RQuant

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write the int8 model file (.sam2q) of a checkpoint and a quantization table.",
        discussion: """
            GEMMs with a table entry are stored in int8 (weights symmetric per output channel, packed for the \
            int8 kernel of the profile's preferred variant, else of this machine); the other nn.Linear weights \
            in binary16 (--float-weights), every other tensor in fp32. A profile sets the input size, keeps its float_ops patterns in float and \
            bounds the arena. The file is checked by loading it and running one inference before the summary.
            """
    )

    @Option(help: "Model: SAM2.1 checkpoint (.pt or .safetensors).")
    var checkpoint: String

    @Option(help: "tiny|small|base-plus|large or a JSON config (docs/model-config.md).")
    var config: String = "tiny"

    @Option(help: "Int8 quantization table (sam2r calibrate).")
    var table: String

    @Option(help: "Device profile NAME|PATH|auto: input size, float_ops, packing layout, arena budget.")
    var profile: String?

    @Option(help: "Threads the stored arena plan is made for (default: the profile's, else every online CPU).")
    var threads: Int?

    @Option(help: "Output model file (.sam2q), written atomically.")
    var out: String

    @Option(help: "Mixed precision: keep the fewest GEMMs in float that reach this mean mask IoU vs fp32 on --images (greedy by measured sensitivity, docs/eval.md).")
    var targetIou: Double?

    @Option(help: "Calibration images for --target-iou (.png, .jpg).")
    var images: String?

    @Option(help: "Prompts for the --target-iou images (JSON, as calibrate); default: calibrate's default prompts.")
    var prompts: String?

    @Option(help: "Weight width: 8, or 7 (levels ±63): on AVX2 without VNNI the int8 GEMMs then run the vpmaddubsw kernel (tiny's encoder ~18% faster on Zen 3) at a measurable accuracy cost: check it with `sam2r eval` (BENCHMARKS.md).")
    var weightBits: Int = 8

    @Option(help: "Storage of the float nn.Linear weights (the prompt side, streamed once per prompt): f16 (binary16, half the bytes; the GEMM widens them exactly and accumulates in fp32) or f32 (bit-identical to `run --table`). A profile of precision fp32 always stores f32.")
    var floatWeights: String = "f16"

    func validate() throws {
        if floatWeights != "f16" && floatWeights != "f32" { throw ValidationError("--float-weights must be f16 or f32") }
        if let t = targetIou, !(t > 0 && t <= 1) { throw ValidationError("--target-iou must be in (0, 1]") }
        if (targetIou == nil) != (images == nil) { throw ValidationError("--target-iou and --images go together") }
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256") }
        if weightBits != 8 && weightBits != 7 { throw ValidationError("--weight-bits must be 8 or 7") }
        if weightBits != 8 && targetIou != nil {
            throw ValidationError("--target-iou measures 8-bit weights: use it without --weight-bits 7")
        }
    }

    func run() throws {
        // 1. Cheap checks: output location, profile, config, table against the model.
        try checkWritableLocation(out)
        let prof = try profile.map { try ProfileCatalog.resolve($0, on: MachineFacts.current()) }
        var cfg = try loadModelConfig(config)
        if let p = prof { cfg.imageSize = p.inputSize }
        let gemms = try cfg.gemmLayers()
        // A profile keeps its float_ops in float, and everything with precision fp32.
        let keepInFloat = { (name: String) in prof.map { $0.precision == "fp32" || $0.keepsInFloat(name) } ?? false }
        let quant = try checkedTable(table, config: cfg, keepInFloat: keepInFloat)
        var plan = quant.int8Plan
        var tableText = try String(contentsOfFile: table, encoding: .utf8)
        let calibration = try images.map { dir -> [EvalImage] in
            let files = try imageFiles(dir)
            let given = try loadPrompts(prompts, images: files, folder: dir)
            return try files.map { f in
                let img = try decodeImage(path: f)
                let name = (f as NSString).lastPathComponent
                return EvalImage(name: name, width: img.width, height: img.height, pixels: img.pixels,
                                 prompts: given[name] ?? CalibrationPrompts.defaults(fileName: name, width: img.width,
                                                                                    height: img.height))
            }
        }
        let packing = try packingVariant(prof)
        let nThreads = threads ?? prof?.threads ?? onlineCPUs()

        // 2. The arena plan, refused against the profile's budget before any weight is read.
        let arenaPlan = try SAM2ImagePredictor.arenaPlan(config: cfg, height: cfg.imageSize, width: cfg.imageSize,
                                                         threads: nThreads, int8: !plan.isEmpty)
        if let p = prof { try checkArenaBudget(needed: arenaPlan.totalBytes, profile: p) }

        // 3. Weights: quantized by the model's own scheme (Int8QuantizedGemm), fp32 tensors copied.
        let ckpt = try openCheckpoint(checkpoint, config: cfg)
        if let target = targetIou, let calibration {
            let r = try MixedPrecisionSearch.run(config: cfg, weights: ckpt, table: quant, images: calibration,
                                                 targetIoU: target, threads: nThreads) { printErr("quantize: \($0)") }
            plan = r.table.int8Plan
            tableText = r.table.text()
            print("mixed precision: all-int8 mean mask IoU \(fmt(r.fullInt8IoU, 4)), target \(fmt(target, 4)), "
                  + "achieved \(fmt(r.achievedIoU, 4)) with \(r.kept.count) GEMM(s) in float "
                  + "(\(fmt(100 * r.floatMACShare, 2))% of the MACs):")
            for k in r.kept { print("  float \(k.name): \(k.reason)") }
        }
        let contents = try ModelFileContents.quantizing(
            config: cfg, configJSON: try ModelConfigJSON.encode(cfg), weights: ckpt, plan: plan, packing: packing,
            arena: ModelFileArena(arenaPlan, imageSize: cfg.imageSize, threads: nThreads, promptCapacity: 16),
            tableText: tableText, weightBits: weightBits, halfLinearWeights: floatWeights == "f16" && prof?.precision != "fp32")
        let bytes = try ModelFileWriter.encode(contents)
        try bytes.withUnsafeBytes { raw in try writeFileAtomically(path: out) { write in try write(raw) } }

        // 4. Read back through the run-time reader and run once: the summary's MACs come from that run.
        let macs = try gemmMACs(path: out, config: cfg)
        let int8MACs = macs.filter { plan[$0.key] != nil }.values.reduce(0, +)
        let allMACs = macs.values.reduce(0, +)
        print("\(out): \(cfg.name) at \(cfg.imageSize)², \(contents.gemms.count) int8 GEMMs, "
              + "\(gemms.count - contents.gemms.count) float GEMMs, "
              + "\(contents.floatTensors.count - contents.halfTensors.count) fp32 and \(contents.halfTensors.count) f16 tensors")
        print("int8 share of GEMM MACs: \(fmt(allMACs > 0 ? 100 * int8MACs / allMACs : 0, 1))% "
              + "(\(fmt(int8MACs / 1e9, 3)) of \(fmt(allMACs / 1e9, 3)) GMAC, one image + one click)")
        print("\(weightBits)-bit weights, packed for \(contents.packingName) "
              + "(NR=\(contents.packingLayout.nr) KR=\(contents.packingLayout.kr)), "
              + "file \(bytes.count) bytes, arena \(arenaPlan.totalBytes) bytes (\(nThreads) thread(s))"
              + (prof.map { ", profile \($0.name) budget \($0.arenaBudgetBytes) bytes" } ?? ""))
    }

    /// The profile's preferred int8 variant (its layout may differ from this machine's), else the active one.
    func packingVariant(_ p: DeviceProfile?) throws -> ISA {
        guard let p else { return ISA.active }
        guard let name = p.preferredISA.first, let isa = ISA(name: name) else {
            throw CLIError("profile '\(p.name)': preferred_isa names no known variant")
        }
        return isa
    }
}

/// Refuses a plan larger than the profile's arena budget (before anything is allocated).
func checkArenaBudget(needed: Int, profile p: DeviceProfile) throws {
    if needed > p.arenaBudgetBytes {
        throw CLIError("model needs an arena of \(needed) bytes; profile '\(p.name)' allows \(p.arenaBudgetBytes)")
    }
}

/// MACs of each GEMM (rows × n × k) over one inference of the model file on a mid-gray image with a
/// centre click.
func gemmMACs(path: String, config cfg: ModelConfig) throws -> [String: Double] {
    let file = try ModelFile(path: path)
    let predictor = try SAM2ImagePredictor(config: cfg, weights: try ModelFileWeights(file), threads: 1)
    var widths: [String: Int] = [:]
    for g in try cfg.gemmLayers() { widths[g.name] = g.outFeatures }
    var macs: [String: Double] = [:]
    predictor.gemmInputObserver = { name, _, rows, cols, _ in
        macs[name, default: 0] += Double(rows) * Double(cols) * Double(widths[name] ?? 0)
    }
    let s = cfg.imageSize
    try predictor.setImage(rgb: [UInt8](repeating: 128, count: s * s * 3), width: s, height: s)
    _ = try predictor.predict(points: [SIMD2(Float(s) / 2, Float(s) / 2)], labels: [1], multimask: false)
    return macs
}
