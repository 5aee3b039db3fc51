// `sam2r calibrate`: runs the fp32 model over a folder of images with prompts, streams every GEMM
// input into fixed-size histograms and writes the int8 quantization table (docs/quantization-table.md).
import ArgumentParser
import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import SAM2RQuant

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Collect activation statistics over images and write the int8 quantization table.",
        discussion: """
            Every .png/.jpg/.jpeg in --images (sorted by name) is encoded once and decoded with its prompts: \
            those of --prompts (JSON: {"<file>": [{"points": [[x, y, label], ...], "box": [x0, y0, x1, y1], \
            "refine": false}, ...]}), else 3 clicks, 1 box and 1 refinement placed by a generator seeded with \
            the file name. The input of every Linear / Conv / ConvTranspose goes into a 2048-bin streaming \
            histogram (memory independent of the number of images). --compare also runs a second pass and \
            prints the fake-quantization SQNR of every calibrator per tensor. See docs/quantization-table.md.
            """
    )

    @Option(help: "Model: SAM2.1 checkpoint (.pt or .safetensors).")
    var checkpoint: String

    @Option(help: "tiny|small|base-plus|large or a JSON config (docs/model-config.md).")
    var config: String = "tiny"

    @Option(help: "Folder of calibration images (.png, .jpg).")
    var images: String

    @Option(help: "Prompts per image file name (JSON); images not listed get the default prompts.")
    var prompts: String?

    @Option(help: "minmax|percentile|entropy|mse (mse: best mean SQNR on the micro model, docs/quantization-table.md).")
    var method: String = "mse"

    @Option(help: "Percent of values kept by --method percentile.")
    var percentile: Double = 99.99

    @Option(help: "Worker threads (default: every online CPU).")
    var threads: Int?

    @Flag(help: "No progress bar on stderr.")
    var quiet = false

    @Flag(help: "Second pass: print the SQNR (dB) of each calibrator's fake-quantized GEMM inputs, per tensor and mean.")
    var compare = false

    @Option(help: "Output table (written atomically).")
    var out: String

    @Option(help: "GEMMs given int8 entries: image (the image encoder and the refiner's LA; the prompt/mask side stays float, written as '# float:' lines — measured default, docs/eval.md) or all.")
    var scope: String = "image"

    func validate() throws {
        if !["image", "all"].contains(scope) { throw ValidationError("--scope must be image or all") }
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256") }
        if CalibrationMethod(rawValue: method) == nil {
            throw ValidationError("--method must be minmax, percentile, entropy or mse")
        }
        if !(percentile > 0 && percentile <= 100) { throw ValidationError("--percentile must be in (0, 100]") }
    }

    func run() throws {
        let options = CalibratorOptions(method: CalibrationMethod(rawValue: method)!, percentile: percentile)
        try checkWritableLocation(out)
        let cfg = try loadModelConfig(config)
        let files = try imageFiles(images)
        let given = try loadPrompts(prompts, images: files, folder: images)
        let nThreads = threads ?? onlineCPUs()
        let ckpt = try openCheckpoint(checkpoint, config: cfg)
        let gemms = try cfg.gemmLayers()
        let fingerprint = try QuantTable.fingerprint(config: cfg)
        let predictor = try SAM2ImagePredictor(config: cfg, weights: ckpt, threads: nThreads)

        let collector = CalibrationCollector()
        predictor.gemmInputObserver = collector.observer
        var progress = CalibrationProgress(total: files.count * (compare ? 2 : 1), quiet: quiet)
        var promptCount = 0
        func runAll() throws {
            for f in files {
                let img = try decodeImage(path: f)
                let name = (f as NSString).lastPathComponent
                let ps = given[name] ?? CalibrationPrompts.defaults(fileName: name, width: img.width, height: img.height)
                try predictor.setImage(rgb: img.pixels, width: img.width, height: img.height)
                var previous: [Float]? = nil
                for (i, p) in ps.enumerated() {
                    do {
                        let r = try predictor.predict(points: p.points.map { SIMD2($0.x, $0.y) }, labels: p.points.map(\.label),
                                                      box: p.box, maskInput: p.refine ? previous : nil, multimask: false)
                        previous = r.lowResLogits
                    } catch let e as ModelError {
                        throw CLIError("\(name): prompt \(i): \(e)")
                    }
                }
                promptCount += ps.count
                progress.step()
            }
        }
        try runAll()
        var table = collector.table(gemms: gemms, options: options, modelName: cfg.name, fingerprint: fingerprint,
                                    images: files.count, prompts: promptCount)
        if scope == "image" {
            table.floatEntries = table.entries.filter { !QuantTable.isImageSide($0.name) }
            table.entries.removeAll { !QuantTable.isImageSide($0.name) }
        }
        try table.write(path: out)

        if compare {
            let methods: [CalibratorOptions] = [.init(method: .minmax), .init(method: .percentile, percentile: 99.9),
                                                .init(method: .percentile, percentile: 99.99), .init(method: .entropy),
                                                .init(method: .mse)]
            var params: [String: [QuantParams]] = [:]
            for e in table.entries { params[e.name] = methods.map { QuantParams.calibrate(collector.stats[e.name]!, $0) } }
            let meter = SQNRMeter(methods: methods.map(\.label), params: params)
            predictor.gemmInputObserver = meter.observer
            promptCount = 0
            try runAll()
            progress.finish()
            printComparison(meter, table: table, methods: methods)
        } else {
            progress.finish()
        }
        let floatNames = Set(table.floatEntries.map(\.name))
        let missing = gemms.filter { table.entry($0.name) == nil && !floatNames.contains($0.name) }.map(\.name)
        if !quiet {
            printErr("calibrate: \(table.entries.count) of \(gemms.count) GEMM inputs, \(files.count) image(s), "
                     + "\(promptCount) prompt(s), \(options.label) -> \(out)"
                     + (floatNames.isEmpty ? "" : "; \(floatNames.count) prompt/mask-side GEMMs kept float (--scope image)")
                     + (missing.isEmpty ? "" : "; never observed (stay float): " + missing.joined(separator: ", ")))
        }
    }

    func printComparison(_ m: SQNRMeter, table: QuantTable, methods: [CalibratorOptions]) {
        let labels = methods.map { $0.label.replacingOccurrences(of: "percentile ", with: "p") }
        print("# fake-quant SQNR (dB) of each GEMM input, per calibrator (higher is better)")
        print(["tensor", "scheme"].joined(separator: "\t") + "\t" + labels.joined(separator: "\t"))
        var sums = [Double](repeating: 0, count: methods.count), wins = [Int](repeating: 0, count: methods.count)
        var n = 0
        for e in table.entries {
            let v = methods.indices.map { m.sqnr(e.name, $0) ?? 0 }
            for i in v.indices { sums[i] += v[i] }
            if let best = v.indices.max(by: { v[$0] < v[$1] }) { wins[best] += 1 }
            n += 1
            print("\(e.name)\t\(e.params.scheme.rawValue)\t" + v.map { fmt($0, 2) }.joined(separator: "\t"))
        }
        print("mean\t\t" + sums.map { fmt($0 / Double(max(1, n)), 2) }.joined(separator: "\t"))
        print("best-count\t\t" + wins.map(String.init).joined(separator: "\t"))
    }
}

/// Sorted .png / .jpg / .jpeg files of `dir` (calibrate, eval); an error if there are none.
func imageFiles(_ dir: String) throws -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw CLIError("\(dir): not a directory")
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    let images = names.filter { n in
        let l = n.lowercased()
        return !n.hasPrefix(".") && (l.hasSuffix(".png") || l.hasSuffix(".jpg") || l.hasSuffix(".jpeg"))
    }.sorted()
    guard !images.isEmpty else { throw CLIError("\(dir): no .png/.jpg images") }
    return images.map { (dir.hasSuffix("/") ? dir : dir + "/") + $0 }
}

/// "[#####.....] 3/5 images, ETA 2s" on stderr, redrawn in place.
struct CalibrationProgress {
    let total: Int
    let quiet: Bool
    var done = 0
    let start = monotonicSeconds()
    init(total: Int, quiet: Bool) { self.total = total; self.quiet = quiet; draw() }

    mutating func step() { done += 1; draw() }

    func draw() {
        guard !quiet else { return }
        let width = 30, filled = total > 0 ? width * done / total : width
        let elapsed = monotonicSeconds() - start
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r[\(bar)] \(done)/\(total) images, \(done > 0 ? "ETA \(fmt(eta, 0))s" : "ETA ?")   "
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    func finish() {
        guard !quiet else { return }
        _ = write(2, "\n", 1)
    }
}
