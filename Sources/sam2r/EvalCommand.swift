// `sam2r eval`: accuracy of an int8 candidate against the fp32 reference — two predictors, same images,
// same prompts (docs/eval.md). Per case mask IoU, boundary IoU, logits SQNR, IoU-score difference and
// chosen-mask agreement; per quantized layer the output SQNR, worst first; with ground truth, mIoU of both.
import ArgumentParser
import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import SAM2RModelFile
import SAM2RQuant

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure the accuracy loss of an int8 model against the fp32 reference.",
        discussion: """
            Every .png/.jpg/.jpeg in --images (sorted by name) is encoded by both models and decoded with its \
            prompts (--prompts, same JSON as calibrate; default: 3 clicks, 1 box, 1 refinement seeded by the file \
            name), one mask per prompt chosen by the stability rule. --ground-truth DIR: for each image a PNG mask \
            with the same base name (<name>.png; 0 = background, >= 128 = object). See docs/eval.md.
            """
    )

    @Option(help: "Reference model: SAM2.1 checkpoint (.pt or .safetensors), run in fp32.")
    var reference: String

    @Option(help: "tiny|small|base-plus|large or a JSON config (docs/model-config.md); default: the .sam2q candidate's, else tiny.")
    var config: String?

    @Option(help: "Candidate: a quantized model (.sam2q).")
    var candidate: String?

    @Option(help: "Candidate: the reference checkpoint run with this int8 table (sam2r calibrate).")
    var candidateTable: String?

    @Option(help: "Folder of evaluation images (.png, .jpg).")
    var images: String

    @Option(help: "Prompts per image file name (JSON); images not listed get the default prompts.")
    var prompts: String?

    @Option(help: "Folder of ground-truth masks <image base name>.png (0/255).")
    var groundTruth: String?

    @Option(help: "Markdown report (written atomically).")
    var report: String?

    @Flag(help: "Print the results as one JSON object on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Output elements sampled per layer per forward for the layer SQNR; 0: no layer SQNR.",
                               discussion: "The layer meters read every GEMM's output, so with them both models run the "
                                   + "decoder's reference path; with 0 they run the fast path `sam2r run` uses (cached "
                                   + "layer 0, folded and fused attentions), and the masks are those users get."))
    var layerSamples: Int = 65_536

    @Option(help: "Worker threads per model (default: every online CPU).")
    var threads: Int?

    @Flag(help: "No progress bar on stderr.")
    var quiet = false

    @Flag(help: "Run both models without their SAM2Refiner modules (plain SAM2.1 masks).")
    var noRefine = false

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256") }
        if (candidate == nil) == (candidateTable == nil) {
            throw ValidationError("give exactly one of --candidate MODEL.sam2q and --candidate-table TABLE")
        }
        if !(0...(1 << 24)).contains(layerSamples) { throw ValidationError("--layer-samples must be in 0...16777216") }
    }

    func run() throws {
        // Everything cheap first: outputs, config, inputs, prompts, ground truth.
        if let r = report { try checkWritableLocation(r) }
        // A model file is validated whole before anything else uses it; its config is the default.
        let modelFile = try candidate.map { try ModelFile(path: $0) }
        let cfg = try config.map(loadModelConfig) ?? modelFile.map(modelFileConfig) ?? loadModelConfig("tiny")
        let files = try imageFiles(images)
        let given = try loadPrompts(prompts, images: files, folder: images)
        let masks = try groundTruth.map { try groundTruthFiles($0, images: files) }
        let nThreads = threads ?? onlineCPUs()

        let ckpt = try openCheckpoint(reference, config: cfg)
        let gemms = try cfg.gemmLayers()
        let ref = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: nThreads)
        let cand = try makeCandidate(config: cfg, checkpoint: ckpt, modelFile: modelFile, threads: nThreads)
        if noRefine { ref.refine = false; cand.predictor.refine = false }
        let session = EvalSession(reference: ref, candidate: cand.predictor,
                                  layers: layerSamples == 0 ? [] : gemms.filter { cand.quantized.contains($0.name) },
                                  samples: max(layerSamples, 1))

        var progress = CalibrationProgress(total: files.count, quiet: quiet)
        for (i, f) in files.enumerated() {
            let img = try decodeImage(path: f)
            let name = (f as NSString).lastPathComponent
            let ps = given[name] ?? CalibrationPrompts.defaults(fileName: name, width: img.width, height: img.height)
            let gt = try masks.map { try readMask($0[i], width: img.width, height: img.height) }
            try session.evaluate(EvalImage(name: name, width: img.width, height: img.height, pixels: img.pixels,
                                           prompts: ps, groundTruth: gt))
            progress.step()
        }
        progress.finish()

        let result = EvalReport(reference: reference, candidate: cand.label, model: cfg.name,
                                samplesPerLayer: layerSamples, session: session)
        if let r = report {
            let bytes = Array(result.markdown().utf8)
            try writeFileAtomically(path: r) { write in try bytes.withUnsafeBytes { try write($0) } }
        }
        if json { print(result.json()) } else { printSummary(result) }
    }

    /// The model compared against the reference, and the GEMMs it runs in int8.
    struct Candidate {
        let predictor: SAM2ImagePredictor
        let quantized: Set<String>
        let label: String
    }

    /// Builds the candidate predictor: the int8 model file, or the reference checkpoint with an int8 table.
    func makeCandidate(config cfg: ModelConfig, checkpoint: Checkpoint, modelFile: ModelFile?, threads: Int) throws -> Candidate {
        if let file = modelFile {
            // Same tensors (names and shapes) as the reference's config, else the comparison means nothing.
            let fileCfg = try modelFileConfig(file)
            guard try QuantTable.fingerprint(config: fileCfg) == QuantTable.fingerprint(config: cfg) else {
                throw CLIError("\(file.path): made for model '\(fileCfg.name)', whose tensors differ from config '\(cfg.name)'")
            }
            let p = try SAM2ImagePredictor(config: cfg, weights: try ModelFileWeights(file), threads: threads)
            let int8 = Set(file.tensors.filter { $0.kind == .int8Gemm }.map(\.name))
            return Candidate(predictor: p, quantized: int8, label: file.path)
        }
        let path = candidateTable!
        let t = try checkedTable(path, config: cfg)
        let p = try SAM2ImagePredictor(config: cfg, weights: checkpoint, threads: threads, quantization: t.int8Plan)
        return Candidate(predictor: p, quantized: Set(t.entries.map(\.name)), label: "\(reference) + table \(path)")
    }

    func printSummary(_ r: EvalReport) {
        let s = r.summary
        print("\(s.images) image(s), \(s.cases) case(s), model \(r.model)")
        print("mask IoU mean \(fmt(s.maskIoUMean, 4)) min \(fmt(s.maskIoUMin, 4)); boundary IoU mean "
              + "\(fmt(s.boundaryIoUMean, 4)) min \(fmt(s.boundaryIoUMin, 4))")
        print("low-res logits SQNR mean \(fmt(s.logitsSQNRMean, 2)) dB min \(fmt(s.logitsSQNRMin, 2)) dB; "
              + "image-embedding SQNR mean \(fmt(s.embeddingSQNRMean, 2)) dB min \(fmt(s.embeddingSQNRMin, 2)) dB")
        print("|IoU-score difference| mean \(fmt(s.scoreAbsDiffMean, 4)) max \(fmt(s.scoreAbsDiffMax, 4)); "
              + "chosen mask agrees on \(s.cases - s.chosenMaskFlips)/\(s.cases)")
        for c in r.cases where !c.chosenMaskAgrees {
            print("  FLIP \(c.image) prompt \(c.prompt) (\(c.kind)): token \(c.tokenReference) -> \(c.tokenCandidate), "
                  + "mask IoU \(fmt(c.maskIoU, 4))")
        }
        if let a = s.gtMIoUReference, let b = s.gtMIoUCandidate, let d = s.gtMIoUDrop {
            print("ground truth mIoU: reference \(fmt(a, 4)), candidate \(fmt(b, 4)), drop \(fmt(d, 4))")
        }
        guard !r.layers.isEmpty else { return print("no layer SQNR (--layer-samples 0: the decoder's fast path)") }
        print("worst layers (output SQNR, dB):")
        for l in r.layers.prefix(10) { print("  \(fmt(l.sqnrDB, 2))\t\(l.name)") }
    }
}

/// Prompts from a JSON file (calibrate's format); every listed file must be one of `images`.
func loadPrompts(_ path: String?, images files: [String], folder: String) throws -> [String: [CalibrationPrompt]] {
    guard let p = path else { return [:] }
    guard let data = FileManager.default.contents(atPath: p) else { throw CLIError("\(p): cannot read") }
    let given = try CalibrationPrompts.parse(data, path: p)
    let names = Set(files.map { ($0 as NSString).lastPathComponent })
    if let unknown = given.keys.sorted().first(where: { !names.contains($0) }) {
        throw CLIError("\(p): prompts for '\(unknown)', which is not an image in \(folder)")
    }
    return given
}

/// The mask of every image: `dir/<base name>.png`; a missing one is an error (before any model runs).
func groundTruthFiles(_ dir: String, images: [String]) throws -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw CLIError("\(dir): not a directory")
    }
    return try images.map { f in
        let base = ((f as NSString).lastPathComponent as NSString).deletingPathExtension
        let m = (dir as NSString).appendingPathComponent(base + ".png")
        guard FileManager.default.fileExists(atPath: m) else {
            throw CLIError("\(m): no ground-truth mask for image \((f as NSString).lastPathComponent)")
        }
        return m
    }
}

/// A ground-truth mask PNG: 1 where the (first channel's) value is >= 128; it must match the image size.
func readMask(_ path: String, width: Int, height: Int) throws -> [UInt8] {
    let m = try decodeImage(path: path)
    guard m.width == width, m.height == height else {
        throw CLIError("\(path): mask is \(m.width)x\(m.height), the image \(width)x\(height)")
    }
    var out = [UInt8](repeating: 0, count: width * height)
    for i in 0..<(width * height) where m.pixels[i * 3] >= 128 { out[i] = 1 }
    return out
}
