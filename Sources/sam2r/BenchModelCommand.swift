// `sam2r bench --model PATH`: end-to-end latency of the image path, per stage, with the work done (MACs from the
// config's shapes, see ModelMACs.swift), the arena, peak RSS and the heap allocations made by inference.
//
// Timing: one warm-up setImage + predict, then --runs timed iterations; stage boundaries come from the predictor's
// stage observer (tap names only: no tensor work is done for it). Allocations: libsam2r-alloccount.so
// (Sources/SAM2RAllocCount) preloaded; when its counters are not in the process, sam2r re-executes itself once
// with LD_PRELOAD set, before loading anything. The counted iteration runs without the observer (a tap builds
// its name string only when an observer is set).
import ArgumentParser
import SAM2RCheckpoint
import SAM2REngine
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import SAM2RModelFile
import SAM2RProfiles
#if canImport(Glibc)
import Glibc
#endif

struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Latency per stage of setImage + predict, GMAC/s, arena, peak RSS, heap allocations (default of `bench`).",
        discussion: """
            Median and min over --runs iterations after one warm-up. The default image is a deterministic synthetic \
            one of the model's input size; the prompt is one click at the image centre. Stages: preprocess (uint8 -> \
            normalized input), patch_embed, Hiera stages 1-4, neck (FPN + conv_s0/conv_s1 + no_mem_embed); encoder = \
            all but preprocess (and the refiner). predict = prompt encoder + mask decoder + postprocess (upsample to \
            the image, > 0); mask_decoder = decoder_layer0 (with the token setup) + decoder_layer1 + \
            decoder_final_attn (final token->image attention + norm) + decoder_upscale_heads (hypernetwork MLPs, \
            ConvTranspose upscaling, mask logits, IoU and object-score heads). With a SAM2Refiner config also \
            refiner_set_image (local maps, quadrant passes, LA) and refiner_predict (PR + MR): time only, the GMAC \
            columns ignore the refiner. \
            heap_allocations_during_inference counts allocations from the start of setImage to the end of predict \
            of one iteration after warm-up (LD_PRELOAD counter; null when unavailable).
            """
    )

    @Option(help: "Model: SAM2.1 checkpoint (.pt or .safetensors), or an int8 model file (.sam2q).")
    var model: String

    @Option(help: "tiny|small|base-plus|large or a JSON config (default tiny; not with a .sam2q).")
    var config: String?

    @Option(help: "Input image (.png or .jpg); default: synthetic, the model's input size.")
    var image: String?

    @Option(help: "Worker threads (default: the profile's, else every online CPU).")
    var threads: Int?

    @Option(help: "Timed iterations (after one warm-up).")
    var runs: Int = 3

    @Option(help: """
        Prompts per image: each timed iteration runs setImage once, then predict this many times (the \
        interactive case); the predict rows are over every predict.
        """)
    var predicts: Int = 1

    @Option(help: "Device profile NAME|PATH|auto: threads and input size.")
    var profile: String?

    @Flag(help: "Three masks per prompt instead of one.")
    var multimask = false

    @Flag(help: "Do not count heap allocations (no LD_PRELOAD re-exec).")
    var noAllocCount = false

    @Flag(help: "Print the size and a backtrace of every allocation of the counted iteration to stderr.")
    var traceAllocs = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256") }
        if !(1...1000).contains(runs) { throw ValidationError("--runs must be in 1...1000") }
        if !(1...10000).contains(predicts) { throw ValidationError("--predicts must be in 1...10000") }
        if config != nil && isModelFile(model) { throw ValidationError("--config: a .sam2q model file carries its own config") }
    }

    func run() throws {
        if !noAllocCount { AllocCounter.preloadIfNeeded() }
        let counter = noAllocCount ? nil : AllocCounter.load()

        let prof = try profile.map { try ProfileCatalog.resolve($0, on: MachineFacts.current()) }
        let tf = monotonicSeconds()
        let modelFile = isModelFile(model) ? try ModelFile(path: model) : nil
        let fileOpenSeconds = monotonicSeconds() - tf
        var cfg = try modelFile.map(modelFileConfig) ?? loadModelConfig(config ?? "tiny")
        if let p = prof { cfg.imageSize = p.inputSize }
        let nThreads = threads ?? prof?.threads ?? onlineCPUs()

        let img: (pixels: [UInt8], width: Int, height: Int)
        if let path = image {
            let d = try decodeImage(path: path)
            img = (d.pixels, d.width, d.height)
        } else {
            img = (syntheticImage(side: cfg.imageSize), cfg.imageSize, cfg.imageSize)
        }
        let click: [SIMD2<Float>] = [SIMD2(Float(img.width) / 2, Float(img.height) / 2)]

        let t0 = monotonicSeconds()
        let predictor: SAM2ImagePredictor
        if let modelFile {
            predictor = try SAM2ImagePredictor(config: cfg, weights: try ModelFileWeights(modelFile), threads: nThreads)
            modelFile.releaseResidentPages()
        } else {
            predictor = try SAM2ImagePredictor(config: cfg, weights: openCheckpoint(model, config: cfg), threads: nThreads)
        }
        let loadMs = (monotonicSeconds() - t0 + fileOpenSeconds) * 1000

        // Warm-up (first inference; its allocations are reported separately: one-time lazy work shows there).
        let first = counter?.snapshot()
        try predictor.setImage(rgb: img.pixels, width: img.width, height: img.height)
        _ = try predictor.predict(points: click, labels: [1], multimask: multimask)
        let firstAllocs = first.map { counter!.snapshot().allocations - $0.allocations }

        // Timed iterations, stage boundaries from the observer.
        var marks = [(name: String, t: Double)]()
        marks.reserveCapacity(256)
        var samples = [[Double]](repeating: [], count: BenchRow.allCases.count)
        predictor.stageObserver = { name in marks.append((name, monotonicSeconds())) }
        for _ in 0..<runs {
            marks.removeAll(keepingCapacity: true)
            let s0 = monotonicSeconds()
            try predictor.setImage(rgb: img.pixels, width: img.width, height: img.height)
            let s1 = monotonicSeconds()
            var row = [Double](repeating: 0, count: BenchRow.allCases.count)
            attribute(marks, start: s0, end: s1, tail: .neck, refiner: .refinerSetImage, cfg: cfg, into: &row)
            row[BenchRow.encoder.rawValue] = (s1 - s0) - row[BenchRow.preprocess.rawValue]
                - row[BenchRow.refinerSetImage.rawValue]
            row[BenchRow.setImage.rawValue] = s1 - s0
            for r in BenchRow.allCases where r.isSetImage { samples[r.rawValue].append(row[r.rawValue] * 1000) }
            for _ in 0..<predicts {
                marks.removeAll(keepingCapacity: true)
                let p0 = monotonicSeconds()
                _ = try predictor.predict(points: click, labels: [1], multimask: multimask)
                let p1 = monotonicSeconds()
                for i in row.indices { row[i] = 0 }
                attribute(marks, start: p0, end: p1, tail: .postprocess, refiner: .refinerPredict, cfg: cfg, into: &row)
                row[BenchRow.maskDecoder.rawValue] = BenchRow.maskDecoderParts.reduce(0) { $0 + row[$1.rawValue] }
                row[BenchRow.decoder.rawValue] = row[BenchRow.promptEncoder.rawValue] + row[BenchRow.maskDecoder.rawValue]
                row[BenchRow.predict.rawValue] = p1 - p0
                for r in BenchRow.allCases where !r.isSetImage { samples[r.rawValue].append(row[r.rawValue] * 1000) }
            }
        }
        predictor.stageObserver = nil

        // One more iteration without the observer: the allocation count.
        var allocs: (total: UInt64, setImage: UInt64, predict: UInt64, bytes: UInt64)?
        if let counter {
            let clickLabel: [Int32] = [1]  // built outside the counted window: the count is the runtime's alone
            if traceAllocs { counter.trace?(1) }
            let a = counter.snapshot()
            try predictor.setImage(rgb: img.pixels, width: img.width, height: img.height)
            let b = counter.snapshot()
            _ = try predictor.predict(points: click, labels: clickLabel, multimask: multimask)
            let c = counter.snapshot()
            if traceAllocs { counter.trace?(0) }
            allocs = (c.allocations - a.allocations, b.allocations - a.allocations, c.allocations - b.allocations,
                      c.bytes - a.bytes)
        }

        var ru = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &ru)
        let peakRSS = Int(ru.ru_maxrss) * 1024

        let macs = ModelMACs(config: cfg, promptPoints: 2, multimask: multimask)
        let stats = samples.map { Stat($0) }
        func st(_ r: BenchRow) -> Stat { stats[r.rawValue] }
        let rows = BenchRow.allCases.filter { cfg.refiner != nil || !$0.isRefiner }
        let encMedian = st(.encoder).median
        let gmacsEncoder = encMedian > 0 ? macs.encoderTotal / 1e9 / (encMedian / 1000) : 0
        let gmacsDecoder = st(.decoder).median > 0 ? macs.decoder / 1e9 / (st(.decoder).median / 1000) : 0

        if json {
            var o = "{\"model\":\(jsonString(model)),\"config\":\(jsonString(cfg.name)),\"input_size\":\(cfg.imageSize),"
            o += "\"image\":\(image.map(jsonString) ?? "\"synthetic\""),\"width\":\(img.width),\"height\":\(img.height),"
            o += "\"threads\":\(nThreads),\"runs\":\(runs),\"predicts\":\(predicts),\"isa\":\(jsonString(ISA.active.name)),"
            o += "\"profile\":\(prof.map { jsonString($0.name) } ?? "null"),\"multimask\":\(multimask),"
            o += "\"load_ms\":\(fmt(loadMs, 1)),"
            for r in rows {
                o += "\"\(r.key)_ms_median\":\(fmt(st(r).median, 3)),\"\(r.key)_ms_min\":\(fmt(st(r).min, 3)),"
            }
            o += "\"stages\":[" + rows.map { r in
                "{\"name\":\(jsonString(r.key)),\"ms_median\":\(fmt(st(r).median, 3)),\"ms_min\":\(fmt(st(r).min, 3)),"
                    + "\"gmac\":\(r.macs(macs).map { fmt($0 / 1e9, 3) } ?? "null")}"
            }.joined(separator: ",") + "],"
            o += "\"encoder_gmac\":\(fmt(macs.encoderTotal / 1e9, 3)),\"decoder_gmac\":\(fmt(macs.decoder / 1e9, 3)),"
            o += "\"encoder_gmacs\":\(fmt(gmacsEncoder, 2)),\"decoder_gmacs\":\(fmt(gmacsDecoder, 2)),"
            o += "\"arena_bytes\":\(predictor.arenaBytes),\"peak_rss_bytes\":\(peakRSS),"
            o += "\"alloc_counter\":\(counter == nil ? "\"unavailable\"" : "\"ld_preload\""),"
            o += "\"heap_allocations_during_inference\":\(allocs.map { String($0.total) } ?? "null"),"
            o += "\"heap_allocations_set_image\":\(allocs.map { String($0.setImage) } ?? "null"),"
            o += "\"heap_allocations_predict\":\(allocs.map { String($0.predict) } ?? "null"),"
            o += "\"heap_bytes_during_inference\":\(allocs.map { String($0.bytes) } ?? "null"),"
            o += "\"heap_allocations_first_inference\":\(firstAllocs.map { String($0) } ?? "null")}"
            print(o)
        } else {
            print("model \(model) (\(cfg.name), \(cfg.imageSize)²), image \(image ?? "synthetic") \(img.width)x\(img.height), "
                  + "\(nThreads) thread(s), ISA \(ISA.active.name), \(runs) run(s) after 1 warm-up"
                  + (predicts > 1 ? " (\(predicts) predicts each)" : "") + ", load \(fmt(loadMs, 0)) ms")
            print("")
            print("| stage | median ms | min ms | GMAC | GMAC/s |")
            print("|---|---:|---:|---:|---:|")
            for r in rows {
                let m = r.macs(macs)
                let rate = m.map { st(r).median > 0 ? fmt($0 / 1e9 / (st(r).median / 1000), 1) : "-" } ?? ""
                let name = r.isTotal ? "**\(r.key)**" : r.key
                print("| \(name) | \(fmt(st(r).median, 2)) | \(fmt(st(r).min, 2)) | \(m.map { fmt($0 / 1e9, 2) } ?? "") | \(rate) |")
            }
            print("")
            print("arena \(predictor.arenaBytes) B (\(fmt(Double(predictor.arenaBytes) / 1048576, 1)) MiB), "
                  + "peak RSS \(peakRSS) B (\(fmt(Double(peakRSS) / 1048576, 1)) MiB)")
            if let a = allocs {
                print("heap allocations during inference: \(a.total) (setImage \(a.setImage), predict \(a.predict); "
                      + "\(a.bytes) B); first inference \(firstAllocs ?? 0)")
            } else {
                print("heap allocations during inference: not counted (\(noAllocCount ? "--no-alloc-count" : AllocCounter.unavailableReason))")
            }
        }
    }

    /// Each interval between consecutive marks goes to the stage of the mark that ends it; the last one to `tail`.
    private func attribute(_ marks: [(name: String, t: Double)], start: Double, end: Double, tail: BenchRow,
                           refiner: BenchRow, cfg: ModelConfig, into row: inout [Double]) {
        var prev = start
        for m in marks {
            let r = m.name.hasPrefix("refiner.") ? refiner : BenchRow.of(tap: m.name, stageEnds: cfg.stageEnds)
            if let r { row[r.rawValue] += m.t - prev }
            prev = m.t
        }
        row[tail.rawValue] += end - prev
    }
}

/// The rows of the report, in order.
enum BenchRow: Int, CaseIterable {
    case preprocess, patchEmbed, stage1, stage2, stage3, stage4, neck, refinerSetImage, encoder, setImage
    case promptEncoder, decoderLayer0, decoderLayer1, decoderFinalAttn, decoderUpscaleHeads, maskDecoder, decoder
    case refinerPredict, postprocess, predict

    var key: String {
        switch self {
        case .preprocess: "preprocess"
        case .patchEmbed: "patch_embed"
        case .stage1: "hiera_stage1"
        case .stage2: "hiera_stage2"
        case .stage3: "hiera_stage3"
        case .stage4: "hiera_stage4"
        case .neck: "neck"
        case .refinerSetImage: "refiner_set_image"
        case .encoder: "encoder"
        case .setImage: "set_image"
        case .promptEncoder: "prompt_encoder"
        case .decoderLayer0: "decoder_layer0"
        case .decoderLayer1: "decoder_layer1"
        case .decoderFinalAttn: "decoder_final_attn"
        case .decoderUpscaleHeads: "decoder_upscale_heads"
        case .maskDecoder: "mask_decoder"
        case .decoder: "decoder"
        case .refinerPredict: "refiner_predict"
        case .postprocess: "postprocess"
        case .predict: "predict"
        }
    }

    /// setImage's rows come first (through `setImage`); the rest are predict's.
    var isSetImage: Bool { rawValue <= BenchRow.setImage.rawValue }
    static let maskDecoderParts: [BenchRow] = [.decoderLayer0, .decoderLayer1, .decoderFinalAttn, .decoderUpscaleHeads]

    var isTotal: Bool { [.encoder, .setImage, .decoder, .predict].contains(self) }
    var isRefiner: Bool { self == .refinerSetImage || self == .refinerPredict }

    func macs(_ m: ModelMACs) -> Double? {
        switch self {
        case .patchEmbed: m.patchEmbed
        case .stage1, .stage2, .stage3, .stage4: m.stages[rawValue - BenchRow.stage1.rawValue]
        case .neck: m.neck
        case .encoder: m.encoderTotal
        case .maskDecoder, .decoder: m.decoder
        default: nil
        }
    }

    /// The stage an observer tap ends (nil: not a boundary we attribute).
    static func of(tap name: String, stageEnds: [Int]) -> BenchRow? {
        if name == "input" { return .preprocess }
        if name.hasPrefix("trunk.block.") {
            guard let i = Int(name.dropFirst("trunk.block.".count)) else { return nil }
            let s = stageEnds.firstIndex { i <= $0 } ?? 3
            return BenchRow(rawValue: BenchRow.stage1.rawValue + s)
        }
        if name.hasPrefix("trunk.") { return .patchEmbed }
        if name.hasPrefix("neck.") || name == "image_embed" || name.hasPrefix("feat_s") { return .neck }
        if name.hasPrefix("prompt_encoder.") { return .promptEncoder }
        // The mask decoder's parts: layer 0 includes the token setup before it; SAM2's two-way transformer has
        // depth 2, so every later layer is layer 1's row.
        if name.hasPrefix("transformer.layer.") { return name.hasPrefix("transformer.layer.0.") ? .decoderLayer0 : .decoderLayer1 }
        if name.hasPrefix("transformer.") { return .decoderFinalAttn }
        if name == "decoder.tokens" || name == "decoder.src" { return .decoderLayer0 }
        if name.hasPrefix("decoder.") { return .decoderUpscaleHeads }
        if name.hasPrefix("output.") { return .postprocess }
        return nil
    }
}

struct Stat {
    let median: Double
    let min: Double
    init(_ xs: [Double]) {
        let s = xs.sorted()
        if s.isEmpty { median = 0; min = 0; return }
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        min = s[0]
    }
}

/// Smooth gradients plus seeded noise, side x side RGB (deterministic).
func syntheticImage(side: Int) -> [UInt8] {
    var rng = SplitMix64(seed: 0x5A3_2B)
    var px = [UInt8](repeating: 0, count: side * side * 3)
    for y in 0..<side {
        for x in 0..<side {
            let i = (y * side + x) * 3
            let n = Int(rng.next() & 31)
            px[i] = UInt8(truncatingIfNeeded: min(255, (x * 255) / max(1, side - 1) / 2 + n + 40))
            px[i + 1] = UInt8(truncatingIfNeeded: min(255, (y * 255) / max(1, side - 1) / 2 + n + 60))
            let dx = x - side / 2, dy = y - side / 2
            px[i + 2] = dx * dx + dy * dy < side * side / 16 ? UInt8(200 + n) : UInt8(30 + n)
        }
    }
    return px
}
