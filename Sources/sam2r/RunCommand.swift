// `sam2r run`: image + clicks/box → mask, overlay, logits and scores.
import ArgumentParser
import SAM2RCheckpoint
import SAM2REngine
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import SAM2RModelFile
import SAM2RProfiles
import SAM2RQuant
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Segment an image from clicks and/or a box.",
        discussion: """
            Coordinates are original-image pixels. Without --multimask one mask is returned, chosen as Meta's \
            SAM2ImagePredictor chooses it (stability rule); with --multimask three, and --mask-out writes the one \
            with the highest predicted IoU. Every output is written to a temporary file and renamed.
            """
    )

    @Option(help: "Model: SAM2.1 checkpoint (.pt as published by Meta, or .safetensors), or an int8 model file (.sam2q, sam2r quantize).")
    var checkpoint: String

    @Option(help: "tiny|small|base-plus|large or a JSON config (docs/model-config.md); default tiny. Not with a .sam2q.")
    var config: String?

    @Option(help: "Input image (.png or .jpg).")
    var image: String

    @Option(name: .customLong("point"), help: "A click X,Y[,LABEL] (LABEL 1 positive, the default, or 0 negative). Repeatable.")
    var points: [String] = []

    @Option(help: "A box X0,Y0,X1,Y1.")
    var box: String?

    @Flag(help: "Return three masks instead of one.")
    var multimask = false

    @Option(help: "Best mask at image size, 8-bit PNG 0/255.")
    var maskOut: String?

    @Option(help: "The image with the mask tinted and the prompts drawn (PNG).")
    var overlayOut: String?

    @Option(help: "Low-res logits, float32 .npy [M,256,256].")
    var logitsOut: String?

    @Option(help: "Predicted IoU scores, float32 .npy [M].")
    var scoresOut: String?

    @Option(help: "Worker threads (default: the profile's, else every online CPU).")
    var threads: Int?

    @Option(help: "Device profile NAME|PATH|auto: threads, arena budget and input size (sam2r profiles).")
    var profile: String?

    @Option(help: "Int8 table (sam2r calibrate): GEMMs with an entry run in int8, the others in fp32. Not with a .sam2q.")
    var table: String?

    @Flag(help: "Skip the SAM2Refiner modules of a config that has them (plain SAM2.1 masks).")
    var noRefine = false

    @Flag(help: "Print timings per stage, scores and arena bytes as JSON.")
    var json = false

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256") }
        if points.isEmpty && box == nil { throw ValidationError("give at least one --point or a --box") }
        if isModelFile(checkpoint) {
            if config != nil { throw ValidationError("--config: a .sam2q model file carries its own config") }
            if table != nil { throw ValidationError("--table: a .sam2q model file is already quantized") }
        }
    }

    func run() throws {
        let t0 = monotonicSeconds()
        // 1. Everything cheap first: prompts, output locations, profile, config.
        let clicks = try points.map(parsePoint)
        let boxPrompt = try box.map(parseBox)
        for path in [maskOut, overlayOut, logitsOut, scoresOut].compactMap({ $0 }) { try checkWritableLocation(path) }
        let prof = try profile.map { try ProfileCatalog.resolve($0, on: MachineFacts.current()) }
        // A model file is validated whole (header, tables, checksums) here, before any tensor is used.
        let modelFile = isModelFile(checkpoint) ? try ModelFile(path: checkpoint) : nil
        let fileCfg = try modelFile.map(modelFileConfig) ?? loadModelConfig(config ?? "tiny")
        var cfg = fileCfg
        if let p = prof { cfg.imageSize = p.inputSize }
        let nThreads = threads ?? prof?.threads ?? onlineCPUs()
        // --no-refine runs the config without its refiner: no refiner buffers in the arena, no quadrant passes.
        var runCfg = cfg
        if noRefine { runCfg.refiner = nil }

        // 2. The image (header checked against the size limit before decoding), prompts inside it.
        let img = try decodeImage(path: image)
        try checkInside(points: clicks, box: boxPrompt, width: img.width, height: img.height)

        // 3. The arena plan, refused before anything is allocated if the profile's budget is smaller.
        //    (Recomputed for this image and thread count: the file's stored plan is for a square input.)
        let int8 = try table != nil || (modelFile.map { try ModelFileWeights($0).hasInt8Layers } ?? false)
        let plan: ArenaPlan
        do {
            plan = try SAM2ImagePredictor.arenaPlan(config: runCfg, height: img.height, width: img.width,
                                                    threads: nThreads, int8: int8)
        } catch let e as ModelError {
            // The config was valid at its own size: a profile's input size made it invalid.
            guard let p = prof else { throw e }
            throw CLIError("\(config ?? checkpoint): \(e) (input size \(cfg.imageSize) of profile '\(p.name)')")
        }
        if let p = prof { try checkArenaBudget(needed: plan.totalBytes, profile: p) }

        // 4. Weights: every expected key present with its shape, nothing unexpected. Weight and GEMM shapes do
        //    not depend on the input size: checked against the config as written, so that a profile size only
        //    the refiner cannot run (la_window) still runs with --no-refine.
        let predictor: SAM2ImagePredictor
        if let modelFile {
            predictor = try SAM2ImagePredictor(config: runCfg, weights: try ModelFileWeights(modelFile), threads: nThreads)
            modelFile.releaseResidentPages()
        } else {
            let ckpt = try openCheckpoint(checkpoint, config: fileCfg)
            // The profile's float_ops stay float, as `sam2r quantize --profile` keeps them.
            let quantization = try table.map { try int8Plan(table: $0, config: fileCfg) { prof?.keepsInFloat($0) ?? false } }
            predictor = try SAM2ImagePredictor(config: runCfg, weights: ckpt, threads: nThreads, quantization: quantization)
        }
        let tLoad = monotonicSeconds()

        // 5. Encoder once, then the decoder for the prompt.
        try predictor.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let tEncode = monotonicSeconds()
        let result = try predictor.predict(points: clicks.map { SIMD2($0.x, $0.y) }, labels: clicks.map(\.label),
                                           box: boxPrompt, multimask: multimask)
        let tDecode = monotonicSeconds()

        // 6. Outputs, each atomically.
        let best = result.iou.indices.max { result.iou[$0] < result.iou[$1] } ?? 0
        let plane = result.height * result.width
        let bestMask = result.masks[(best * plane)..<((best + 1) * plane)]
        if let path = maskOut {
            try writePNG(path: path, width: result.width, height: result.height, channels: 1,
                         pixels: bestMask.map { $0 != 0 ? 255 : 0 })
        }
        if let path = overlayOut {
            let pixels = renderOverlay(rgb: img.pixels, width: img.width, height: img.height, mask: bestMask,
                                       points: clicks, box: boxPrompt)
            try writePNG(path: path, width: img.width, height: img.height, channels: 3, pixels: pixels)
        }
        if let path = logitsOut {
            try NPY.write(path: path, shape: [result.count, result.lowResSize, result.lowResSize], data: result.lowResLogits)
        }
        if let path = scoresOut { try NPY.write(path: path, shape: [result.count], data: result.iou) }
        let tWrite = monotonicSeconds()

        let ms = { (a: Double, b: Double) in fmt((b - a) * 1000, 1) }
        if json {
            let scores = result.iou.map { fmt(Double($0), 6) }.joined(separator: ",")
            print("{\"image\":\(jsonString(image)),\"width\":\(img.width),\"height\":\(img.height),"
                  + "\"config\":\(jsonString(cfg.name)),\"input_size\":\(cfg.imageSize),\"threads\":\(nThreads),"
                  + "\"profile\":\(prof.map { jsonString($0.name) } ?? "null"),\"arena_bytes\":\(predictor.arenaBytes),"
                  + "\"masks\":\(result.count),\"best_index\":\(best),\"scores\":[\(scores)],\"refiner\":\(result.refined),"
                  + "\"timings_ms\":{\"load\":\(ms(t0, tLoad)),\"set_image\":\(ms(tLoad, tEncode)),"
                  + "\"predict\":\(ms(tEncode, tDecode)),\"write\":\(ms(tDecode, tWrite)),\"total\":\(ms(t0, tWrite))}}")
        } else {
            print("image \(img.width)x\(img.height), model \(cfg.name) at \(cfg.imageSize)², \(nThreads) thread(s), "
                  + "arena \(fmt(Double(predictor.arenaBytes) / 1048576, 1)) MiB")
            print("load \(ms(t0, tLoad)) ms, set_image (preprocess + encoder) \(ms(tLoad, tEncode)) ms, "
                  + "predict (decoder + postprocess) \(ms(tEncode, tDecode)) ms")
            print("scores: \(result.iou.map { fmt(Double($0), 4) }.joined(separator: " ")) (best \(best))"
                  + (result.refined ? ", masks refined (SAM2Refiner)" : ""))
            for (flag, path) in [("mask file", maskOut), ("overlay file", overlayOut), ("logits file", logitsOut), ("scores file", scoresOut)] {
                if let path { print("\(flag): \(path)") }
            }
        }
    }
}

/// `tiny|small|base-plus|large` or a path to a JSON config.
func loadModelConfig(_ spec: String) throws -> ModelConfig {
    if let preset = ModelConfig.preset(named: spec) { return preset }
    if spec.hasSuffix(".json") || spec.contains("/") { return try ModelConfigJSON.load(path: spec) }
    throw CLIError("--config '\(spec)': not a preset (tiny, small, base-plus, large) or a .json file")
}

/// Fails before any heavy work if an output could not be created: its directory must exist and be writable.
func checkWritableLocation(_ path: String) throws {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    var st = stat()
    guard stat(dir.isEmpty ? "/" : dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
        throw CLIError("\(path): directory '\(dir)' does not exist")
    }
    guard access(dir.isEmpty ? "/" : dir, W_OK) == 0 else { throw CLIError("\(path): directory '\(dir)' is not writable") }
    if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw CLIError("\(path): is a directory") }
}
