// SAM2ImagePredictor.swift — Meta's SAM2ImagePredictor, single image: `setImage` runs the encoder
// once and keeps image_embed / feat_s1 / feat_s0 in the arena; `predict` runs prompt encoder + mask
// decoder + postprocessing on those cached features (cheap, repeatable). With a SAM2Refiner config
// (docs/refiner.md), `setImage` also caches the refiner's local maps and G' (RefinerImage.swift) and
// `predict` adds PR before the decoder and MR after it (RefinerPR / RefinerMR.swift).
//
// Memory: one Arena, planned for (image height, width, prompt capacity): the cached features live
// for the whole plan; encoder intermediates and decoder intermediates share the rest. Planning
// happens at init (for the config's own square size) and again only when an image of another size
// arrives. Inputs are validated before any heavy work; errors are `ModelError.invalidInput`.

import SAM2REngine
import SAM2RKernels

/// Masks for one prompt.
public struct SAM2Prediction: Sendable {
    /// Number of masks (3 with multimask output, else 1).
    public let count: Int
    public let height: Int
    public let width: Int
    /// [count][height][width], 1 where the upsampled logit is > 0.
    public let masks: [UInt8]
    /// Predicted IoU per mask.
    public let iou: [Float]
    /// [count][lowResSize][lowResSize] logits clamped to [-32, 32] (feed back as `maskInput`).
    public let lowResLogits: [Float]
    public let lowResSize: Int
    /// Object-score logit (informational; the image predictor does not gate on it).
    public let objectScore: Float
    /// The masks are the refiner's (docs/refiner.md); logits and IoU stay the decoder's.
    public internal(set) var refined = false
    /// The decoder mask token of each returned mask (0 = the single-mask token, 1-3 = multimask tokens):
    /// with `multimask` off, which mask the stability rule chose.
    public let maskTokens: [Int]
    /// Stability score of token 0's mask when the stability rule ran (`multimask` off and
    /// `dynamicMultimaskViaStability`), else nil.
    public let stability: Float?
}

public final class SAM2ImagePredictor {
    public let config: ModelConfig
    /// Most prompt points per call, box corners and the padding point included.
    public let promptCapacity: Int
    let encoder: ImageEncoderWeights
    let promptEncoder: PromptEncoderWeights
    let decoder: MaskDecoderWeights
    /// The SAM2Refiner modules when the config has a `refiner` object.
    let refiner: RefinerWeights?
    let pool: ThreadPool?
    /// The binary16-weight GEMMs' widening scratch, sized for `pool` (untouched, hence not resident, without
    /// such layers); allocated once here, not per plan.
    private let f16Scratch: F16WScratch
    /// Some GEMM runs in int8 (an int8 plan was given, Int8.swift).
    let hasInt8: Bool
    /// The decoder's prompt-independent streams (skip features, dense PE) are kept as binary16: an int8 model
    /// without a refiner (the refiner's mask refinement reads feat_s0 as fp32). ImageFeatures.skipHalf.
    private let binary16Streams: Bool
    /// Floats of the planned int8 GEMM input buffer (allocated right after the features).
    private var int8Floats = 0

    private var ws: Workspace
    private var ex: Exec
    private var planned: (height: Int, width: Int)
    private var decoderMark: (id: Int, step: Int) = (0, 0)
    private var features: ImageFeatures?
    private var image: (height: Int, width: Int)?
    private var refinerFeatures: RefinerFeatures?
    /// The refiner's per-image caches hold the current image (it was set with `refine` on).
    private var refinerReady = false
    /// Layer 0's per-image decoder work (DecoderImageCache), and the image embedding it was computed from
    /// (nil: not computed for this image).
    private var decoderCache: DecoderImageCache?
    private var decoderCacheEmbed: UnsafeMutablePointer<Float>?
    /// Where setImage's plan continues after the encoder (+ refiner image phase, planned with the refiner on).
    private var decoderCacheMark: (id: Int, step: Int) = (0, 0)

    // Per-predict storage with capacity reserved at plan time, so that a predict allocates nothing on the
    // heap. The result arrays share these buffers (copy-on-write): a caller that keeps a previous result
    // makes the next predict copy once; one that drops it (the usual loop) costs nothing.
    private var promptCoords: [Float] = []
    private var promptLabels: [Int32] = []
    private var sparseTokens: [Float] = []
    private var outMasks: [UInt8] = []
    private var outLogits: [Float] = []
    private var outIoU: [Float] = []
    private var outTokens: [Int] = []

    /// Use the refiner (when the config has one): read by `setImage` (which then computes the local maps
    /// and G') and by `predict`. Turning it off never needs a new `setImage`; turning it on does.
    public var refine = true
    /// The config has a refiner and `refine` is on.
    public var refines: Bool { refine && refiner != nil }

    /// Sees named intermediates (channels-last) during `setImage` / `predict`.
    public var observer: TensorObserver? {
        didSet { ex.observer = observer }
    }

    /// Sees the names of the same intermediates when there is no `observer`, without their values (so none
    /// of the work an `observer` costs): stage boundaries for timing.
    public var stageObserver: StageObserver? {
        didSet { ex.stageObserver = stageObserver }
    }

    /// Sees the input activation of every GEMM (Linear / Conv / ConvTranspose) during `setImage` /
    /// `predict`, named by the weight's state_dict prefix (`ModelConfig.gemmLayers()` lists them).
    public var gemmInputObserver: GemmInputObserver? {
        didSet { ex.gemmInputObserver = gemmInputObserver }
    }

    /// Sees the output of every GEMM right after it ran, same names and call order as
    /// `gemmInputObserver`, fp32 and int8 paths alike (compare an fp32 and an int8 predictor call by call).
    public var gemmOutputObserver: GemmOutputObserver? {
        didSet { ex.gemmOutputObserver = gemmOutputObserver }
    }

    /// Bytes of the arena for the current plan.
    public var arenaBytes: Int { ws.totalBytes }
    /// The current arena plan.
    public var arenaPlan: ArenaPlan? { ws.plan }

    public convenience init(config: ModelConfig, weights: WeightSource, threads: Int = 1,
                            promptCapacity: Int = 16) throws {
        try self.init(config: config, weights: weights, threads: threads, promptCapacity: promptCapacity,
                      allocate: true)
    }

    /// With an int8 plan (Int8.swift has the scheme): every GEMM named in `quantization` runs in int8
    /// (weights quantized and packed for the active ISA now), the others in fp32. Force the ISA
    /// (`ISA.force`) before creating the predictor to pick the int8 kernel variant.
    public convenience init(config: ModelConfig, weights: WeightSource, threads: Int = 1,
                            promptCapacity: Int = 16, quantization: Int8Plan?) throws {
        try self.init(config: config, weights: quantization.map { QuantizedWeightSource(weights, plan: $0) } ?? weights,
                      threads: threads, promptCapacity: promptCapacity, allocate: true)
    }

    /// The arena plan for images of `height` x `width`, from the config alone (no weights, no arena).
    /// `int8`: some GEMM runs in int8 (the plan then holds the int8 input buffer).
    public static func arenaPlan(config: ModelConfig, height: Int, width: Int, threads: Int = 1,
                                 promptCapacity: Int = 16, int8: Bool = false) throws -> ArenaPlan {
        let p = try SAM2ImagePredictor(config: config, weights: ShapeRecorder(), threads: threads,
                                       promptCapacity: promptCapacity, allocate: false, int8: int8)
        try p.replan(height: height, width: width, allocate: false)
        return p.ws.plan!
    }

    private init(config: ModelConfig, weights: WeightSource, threads: Int, promptCapacity: Int,
                 allocate: Bool, int8: Bool = false) throws {
        try config.validate()
        guard (1...ThreadPool.maxThreads).contains(threads) else {
            throw ModelError.invalidInput(argument: "threads", reason: "\(threads) outside 1...\(ThreadPool.maxThreads)")
        }
        guard promptCapacity >= 2 else {
            throw ModelError.invalidInput(argument: "promptCapacity", reason: "\(promptCapacity) < 2")
        }
        self.config = config
        self.promptCapacity = promptCapacity
        hasInt8 = int8 || !((weights as? QuantizedWeightSource)?.plan.isEmpty ?? true)
            || ((weights as? Int8LayerSource)?.hasInt8Layers ?? false)
        encoder = try ImageEncoderWeights(weights, config)
        binary16Streams = hasInt8 && config.refiner == nil
        promptEncoder = try PromptEncoderWeights(weights, config, halfPE: binary16Streams)
        decoder = try MaskDecoderWeights(weights, config)
        refiner = try config.refiner.map { try RefinerWeights(weights, config, $0) }
        pool = threads > 1 ? try ThreadPool(threads: threads) : nil
        f16Scratch = try F16WScratch(threads: pool?.threadCount ?? 1)
        planned = (config.imageSize, config.imageSize)
        ws = Workspace()
        ex = try Exec(ws: ws, pool: pool, f16Scratch: f16Scratch)
        if allocate { try replan(height: config.imageSize, width: config.imageSize) }
    }

    private func replan(height: Int, width: Int, allocate: Bool = true) throws {
        // With int8 layers: a first plan-only pass finds the largest tensor; the int8 input buffer
        // (one, live throughout, bytes >= any GEMM input's floats, so >= rows * K) is then planned
        // first, like every other tensor.
        int8Floats = 0
        if hasInt8 {
            let w0 = Workspace()
            _ = try planPasses(try Exec(ws: w0, pool: pool, f16Scratch: f16Scratch), height: height, width: width)
            let largestFloats = (w0.lifetimes.map(\.size).max() ?? 4) / 4
            int8Floats = (largestFloats + 3) / 4
        }
        let w = Workspace()
        let e = try Exec(ws: w, pool: pool, f16Scratch: f16Scratch)
        let (cacheMark, mark) = try planPasses(e, height: height, width: width)
        try w.finishPlanning(allocate: allocate)
        ws = w
        e.observer = observer
        e.stageObserver = stageObserver
        e.gemmInputObserver = gemmInputObserver
        e.gemmOutputObserver = gemmOutputObserver
        ex = e
        decoderMark = mark
        decoderCacheMark = cacheMark
        planned = (height, width)
        let masksOut = decoder.numMaskTokens - 1, lr = config.lowResSize
        promptCoords.reserveCapacity(2 * promptCapacity)
        promptLabels.reserveCapacity(promptCapacity)
        sparseTokens.reserveCapacity(promptCapacity * config.dModel)
        outMasks.reserveCapacity(masksOut * height * width)
        outLogits.reserveCapacity(masksOut * lr * lr)
        outIoU.reserveCapacity(masksOut)
        outTokens.reserveCapacity(masksOut)
        features = nil
        image = nil
        decoderCacheEmbed = nil
        refinerFeatures = nil
        refinerReady = false
    }

    /// The planning pass: persistent buffers, encoder (+ refiner image phase), then the decoder phase at
    /// prompt capacity (with the refiner when the config has one). Returns the marks of the decoder cache
    /// (after the encoder) and of the decoder phase.
    private func planPasses(_ e: Exec, height: Int, width: Int) throws -> (cache: (id: Int, step: Int), decoder: (id: Int, step: Int)) {
        let f = try allocFeatures(e)
        let early = try refiner.map { _ in try RefinerFeatures.allocEarly(e, config) }
        let rf = try encodeImage(e, rgb: nil, height: height, width: width, features: f, refiner: early, refinerOn: true)
        let cacheMark = e.ws.mark
        _ = try cacheDecoderImage(e, features: f, refiner: rf, refinerOn: true)
        let mark = e.ws.mark
        _ = try runDecoder(e, features: f, coords: [Float](repeating: 0, count: 2 * promptCapacity),
                           labels: [Int32](repeating: 1, count: promptCapacity), mask: nil, multimask: true,
                           height: height, width: width, refiner: rf, refine: true)
        return (cacheMark, mark)
    }

    /// Encoder pass over the whole image, then (with a refiner that is on) its per-image phase. Returns the
    /// refiner's buffers (allocated whether it is on or not: one plan).
    private func encodeImage(_ e: Exec, rgb: UnsafeBufferPointer<UInt8>?, height h: Int, width w: Int,
                             features f: ImageFeatures, refiner early: (image: Buf, lloc2: Buf)?,
                             refinerOn: Bool) throws -> RefinerFeatures? {
        var full = f
        if let early, refiner?.config.localViews == 0 { full.fpn1 = early.lloc2 }
        try runEncoder(e, rgb: rgb?.baseAddress, rowStride: w, height: h, width: w, features: full, keepInput: early?.image)
        guard let early else { return nil }
        let rf = try RefinerFeatures(e, config, early: early)
        guard let rw = refiner, refinerOn else { return rf }
        try RefinerImage.run(e, rw, config, features: f, refiner: rf, rgb: rgb, height: h, width: w) { p, stride, qh, qw, qf in
            try runEncoder(e, rgb: p, rowStride: stride, height: qh, width: qw, features: qf, keepInput: nil)
        }
        return rf
    }

    /// Plans (every pass) and, when the decoder can use it, computes layer 0's per-image work from the image
    /// embedding the decoder will read (the refiner's G' when it is on). Returns that embedding, or nil when
    /// nothing was computed.
    private func cacheDecoderImage(_ e: Exec, features f: ImageFeatures, refiner rf: RefinerFeatures?,
                                   refinerOn: Bool) throws -> UnsafeMutablePointer<Float>? {
        let cache = try DecoderImageCache.alloc(e, decoder, noMask: promptEncoder.noMask)
        decoderCache = cache
        let embed = decoderEmbedding(f, rf, refine: refinerOn)
        let run = !e.planning && DecoderImageCache.usable(e, decoder)
        try cache.compute(e, decoder, embed: embed, densePE: promptEncoder.densePE.f32, run: run)
        return run ? embed : nil
    }

    /// The image embedding the decoder reads: the refiner's G' when it runs, else the encoder's.
    private func decoderEmbedding(_ f: ImageFeatures, _ rf: RefinerFeatures?, refine: Bool) -> UnsafeMutablePointer<Float> {
        if refine, refiner != nil, let rf { return rf.refined.p }
        return f.imageEmbed.p
    }

    private func allocFeatures(_ e: Exec) throws -> ImageFeatures {
        let d = config.dModel, s = config.embedSize
        let half = binary16Streams
        let f = ImageFeatures(imageEmbed: try e.ws.alloc(s * s * d, "image_embed"),
                              featS1: try e.ws.alloc(ImageFeatures.skipFloats(4 * s * s * (d / 4), half: half), "feat_s1"),
                              featS0: try e.ws.alloc(ImageFeatures.skipFloats(16 * s * s * (d / 8), half: half), "feat_s0"),
                              skipHalf: half)
        if int8Floats > 0 { e.int8Input = try e.ws.alloc(int8Floats, "int8.gemm_input") }
        return f
    }

    // MARK: - setImage

    /// Encodes an RGB image (`height` x `width` x 3, row-major, uint8) and caches its features.
    public func setImage(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int) throws {
        guard width >= 1, height >= 1, width <= 16384, height <= 16384 else {
            throw ModelError.invalidInput(argument: "image size", reason: "\(width)x\(height) outside 1...16384")
        }
        guard rgb.count == width * height * 3 else {
            throw ModelError.invalidInput(argument: "image", reason: "\(rgb.count) bytes for \(width)x\(height)x3")
        }
        if refines, refiner?.config.localViews == 4, width < 2 || height < 2 {
            throw ModelError.invalidInput(argument: "image size", reason: "\(width)x\(height): the refiner's quadrant views need >= 2x2")
        }
        if planned != (height, width) { try replan(height: height, width: width) }
        features = nil
        refinerReady = false
        decoderCacheEmbed = nil
        ws.seek((0, 0))
        let f = try allocFeatures(ex)
        let early = try refiner.map { _ in try RefinerFeatures.allocEarly(ex, config) }
        let rf = try encodeImage(ex, rgb: rgb, height: height, width: width, features: f, refiner: early, refinerOn: refines)
        // Without the refiner's image phase the cursor is short of the planned cache: continue from the plan's mark.
        ws.seek(decoderCacheMark)
        decoderCacheEmbed = try cacheDecoderImage(ex, features: f, refiner: rf, refinerOn: refines)
        try ws.checkLive()
        features = f
        refinerFeatures = rf
        refinerReady = refines
        image = (height, width)
    }

    public func setImage(rgb: [UInt8], width: Int, height: Int) throws {
        try rgb.withUnsafeBufferPointer { try setImage(rgb: $0, width: width, height: height) }
    }

    /// Preprocessing + encoder. The antialiased squash resize runs as the kernel does it (horizontal
    /// pass, then vertical), split so that the image is never held as floats: the horizontal pass
    /// converts and resizes stripes of input rows (a same-height AA resize is the identity, exactly),
    /// then one vertical pass (same-width: identity horizontally) finishes. Bit-identical to a single
    /// sam2r_resize_f32 call on the whole float image.
    /// `rgb` is the first pixel of the region (rows `rowStride` pixels apart); `keepInput` receives a copy
    /// of the normalized input (the refiner's MR reads it at predict time).
    private func runEncoder(_ e: Exec, rgb: UnsafePointer<UInt8>?, rowStride: Int, height h: Int, width w: Int,
                            features: ImageFeatures, keepInput: Buf?) throws {
        let s = config.imageSize
        let aa = SAM2R_RESIZE_BILINEAR_AA
        let img = try e.ws.alloc(s * s * 3, "input")
        let hor = try e.ws.alloc(h * s * 3, "input.horizontal")
        let stripe = max(1, min(h, (1 << 20) / (w * 3)))
        let sf = try e.ws.alloc(stripe * w * 3, "input.stripe")
        let ss = try e.ws.alloc(Exec.resizeScratchFloats(aa, inH: stripe, inW: w, outH: stripe, outW: s, c: 3),
                                "input.stripe.scratch")
        if !e.planning, let rgb {
            var r0 = 0
            while r0 < h {
                let rc = min(stripe, h - r0)
                for r in 0..<rc {
                    let src = rgb + (r0 + r) * rowStride * 3, dst = sf.p + r * w * 3
                    for i in 0..<(w * 3) { dst[i] = Float(src[i]) / 255 }
                }
                e.resize(aa, sf.p, inH: rc, inW: w, c: 3, hor.p + r0 * s * 3, outH: rc, outW: s, scratch: ss)
                r0 += rc
            }
        }
        try e.ws.release(ss)
        try e.ws.release(sf)
        let vs = try e.ws.alloc(Exec.resizeScratchFloats(aa, inH: h, inW: s, outH: s, outW: s, c: 3), "input.vertical.scratch")
        if !e.planning, rgb != nil {
            e.resize(aa, hor.p, inH: h, inW: s, c: 3, img.p, outH: s, outW: s, scratch: vs)
            let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
            for px in 0..<(s * s) {
                for c in 0..<3 { img.p[px * 3 + c] = (img.p[px * 3 + c] - mean[c]) / std[c] }
            }
            e.tap("input", img.p, img.count)
            keepInput?.p.update(from: img.p, count: img.count)
        }
        try e.ws.release(vs)
        try e.ws.release(hor)
        try ImageEncoder.forward(e, encoder, img: img, into: features)
    }

    // MARK: - predict

    /// Masks for a prompt, in original-image pixel coordinates.
    /// - points/labels: clicks, label 1 positive, 0 negative.
    /// - box: (x0, y0, x1, y1), x0 <= x1, y0 <= y1.
    /// - maskInput: low-res logits [lowResSize x lowResSize] (e.g. a previous `lowResLogits` mask).
    /// - multimask: 3 masks (tokens 1-3); otherwise 1 mask chosen by the stability rule.
    public func predict(points: [SIMD2<Float>] = [], labels: [Int32] = [], box: SIMD4<Float>? = nil,
                        maskInput: [Float]? = nil, multimask: Bool = true) throws -> SAM2Prediction {
        guard let features, let image else { throw ModelError.noImage }
        let (h, w) = image
        // Validation, before any heavy work.
        guard points.count == labels.count else {
            throw ModelError.invalidInput(argument: "labels", reason: "\(labels.count) labels for \(points.count) points")
        }
        guard !points.isEmpty || box != nil || maskInput != nil else {
            throw ModelError.invalidInput(argument: "prompt", reason: "no points, box or mask input")
        }
        for (i, p) in points.enumerated() {
            guard p.x.isFinite, p.y.isFinite else {
                throw ModelError.invalidInput(argument: "points[\(i)]", reason: "not finite (\(p.x), \(p.y))")
            }
            guard p.x >= 0, p.y >= 0, p.x <= Float(w), p.y <= Float(h) else {
                throw ModelError.invalidInput(argument: "points[\(i)]", reason: "(\(p.x), \(p.y)) outside the \(w)x\(h) image")
            }
            guard labels[i] == 0 || labels[i] == 1 else {
                throw ModelError.invalidInput(argument: "labels[\(i)]", reason: "\(labels[i]) is not 0 or 1")
            }
        }
        if let b = box {
            guard b.x.isFinite, b.y.isFinite, b.z.isFinite, b.w.isFinite else {
                throw ModelError.invalidInput(argument: "box", reason: "not finite")
            }
            guard b.x <= b.z, b.y <= b.w else {
                throw ModelError.invalidInput(argument: "box", reason: "inverted (x0 \(b.x) > x1 \(b.z) or y0 \(b.y) > y1 \(b.w))")
            }
            guard b.x >= 0, b.y >= 0, b.z <= Float(w), b.w <= Float(h) else {
                throw ModelError.invalidInput(argument: "box", reason: "outside the \(w)x\(h) image")
            }
        }
        let lr = config.lowResSize
        if let m = maskInput {
            guard m.count == lr * lr else {
                throw ModelError.invalidInput(argument: "maskInput", reason: "\(m.count) values, expected \(lr)x\(lr)")
            }
            if let i = m.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidInput(argument: "maskInput", reason: "value \(m[i]) at \(i) is not finite")
            }
        }
        let total = points.count + (box != nil ? 2 : 0) + 1
        guard total <= promptCapacity else { throw ModelError.tooManyPoints(given: total, capacity: promptCapacity) }
        // Coordinates in model-input pixels: box corners (labels 2, 3) first, clicks, then the padding point.
        let sx = Float(config.imageSize) / Float(w), sy = Float(config.imageSize) / Float(h)
        promptCoords.removeAll(keepingCapacity: true)
        promptLabels.removeAll(keepingCapacity: true)
        if let b = box {
            promptCoords.append(b.x * sx)
            promptCoords.append(b.y * sy)
            promptCoords.append(b.z * sx)
            promptCoords.append(b.w * sy)
            promptLabels.append(2)
            promptLabels.append(3)
        }
        for (i, p) in points.enumerated() {
            promptCoords.append(p.x * sx)
            promptCoords.append(p.y * sy)
            promptLabels.append(labels[i])
        }
        promptCoords.append(0)
        promptCoords.append(0)
        promptLabels.append(-1)
        if refines && !refinerReady {
            throw ModelError.invalidInput(argument: "refine", reason: "turned on after setImage: set the image again")
        }
        ws.seek(decoderMark)
        let out = try runDecoder(ex, features: features, coords: promptCoords, labels: promptLabels, mask: maskInput,
                                 multimask: multimask, height: h, width: w, refiner: refinerFeatures, refine: refines)
        try ws.checkLive()
        return out!
    }

    /// With `refine` (and `rf`, the refiner's caches for the current image): PR on the sparse tokens, the
    /// decoder on G', MR on every returned mask (docs/refiner.md, "Order of a prediction"). A model with a
    /// refiner allocates the refiner's buffers either way, so both replay the one plan.
    private func runDecoder(_ e: Exec, features: ImageFeatures, coords: [Float], labels: [Int32], mask: [Float]?,
                            multimask: Bool, height h: Int, width w: Int,
                            refiner rf: RefinerFeatures? = nil, refine: Bool = false) throws -> SAM2Prediction? {
        let lr = config.lowResSize, d = config.dModel, es = config.embedSize
        let maskBuf = try e.ws.alloc(lr * lr, "prompt.mask_input")
        let dense = try e.ws.alloc(es * es * d, "prompt_encoder.dense")
        if !e.planning, let mask { mask.withUnsafeBufferPointer { maskBuf.p.update(from: $0.baseAddress!, count: $0.count) } }
        // Layer 0's cache holds for the embedding the decoder reads and no mask prompt; then the no-mask dense
        // embedding is only written for an observer.
        let decoderEmbed = decoderEmbedding(features, rf, refine: refine)
        let cache = mask == nil && !e.planning && DecoderImageCache.usable(e, decoder) ? decoderCache : nil
        let fillCache = cache != nil && decoderCacheEmbed != decoderEmbed
        try PromptEncoder.dense(e, promptEncoder, mask: maskBuf, hasMask: mask != nil, into: dense,
                                skipNoMask: cache != nil && e.observer == nil)
        try e.ws.release(maskBuf)
        promptEncoder.sparse(coords: coords, labels: labels, into: &sparseTokens, zeros: e.planning)
        sparseTokens.withUnsafeBufferPointer { e.tap("prompt_encoder.sparse", $0.baseAddress!, $0.count) }
        var decoderFeatures = features
        let rw = rf != nil ? refiner : nil
        let active = refine && rw != nil
        if let rf, let rw {
            try RefinerPR.forward(e, rw, sparse: &sparseTokens, coords: coords, labels: labels, capacity: promptCapacity,
                                  imageSize: config.imageSize, refined: rf.refined, lloc2: rf.lloc2, active: active)
            if active {
                decoderFeatures = ImageFeatures(imageEmbed: rf.refined, featS1: features.featS1, featS0: features.featS0,
                                                skipHalf: features.skipHalf)
            }
        }
        let out = try MaskDecoder.forward(e, decoder, features: decoderFeatures, sparse: sparseTokens,
                                          promptCapacity: promptCapacity, dense: dense,
                                          densePE: promptEncoder.densePE, cache: cache, fillCache: fillCache,
                                          keepUpscaled: rw != nil)
        if fillCache { decoderCacheEmbed = decoderEmbed }
        try e.ws.release(dense)
        // Postprocess: bilinear (no antialias) to the image size, > 0.
        let up = try e.ws.alloc(h * w, "postprocess.upsampled")
        // With MR the resize starts from the refined S x S logits instead of the low-res ones.
        let scratchFloats = { (side: Int) in Exec.resizeScratchFloats(SAM2R_RESIZE_BILINEAR, inH: side, inW: side, outH: h, outW: w, c: 1) }
        let scratch = try e.ws.alloc(max(scratchFloats(lr), rw != nil ? scratchFloats(config.imageSize) : 0),
                                     "postprocess.scratch")
        let m3 = try rw.map { _ in try e.ws.alloc(config.imageSize * config.imageSize, "refiner.mr.m3") }
        // MR runs once per returned mask: each run replays the same allocations from this mark.
        let mrMark = e.ws.mark
        func runMR(_ m0: UnsafePointer<Float>, _ index: Int) throws {
            guard let rf, let rw, let m3, let u = out.upscaled else { return }
            if !e.planning { e.ws.seek(mrMark) }
            try RefinerMR.forward(e, rw, lowRes: lr, m0: m0, index: index, inputs: RefinerMRInputs(
                upscaled: u, featS0: features.featS0, lloc0: rf.lloc0, image: rf.image), into: m3)
        }
        if e.planning { try runMR(out.masks.p, 0) }
        var result: SAM2Prediction? = nil
        if !e.planning {
            let n = lr * lr
            let nm = decoder.numMaskTokens
            var stability: Float? = nil
            outTokens.removeAll(keepingCapacity: true)
            if multimask {
                for t in 1..<nm { outTokens.append(t) }
            } else if config.dynamicMultimaskViaStability {
                let st = MaskDecoder.stability(out.masks.p, n, delta: config.stabilityDelta)
                stability = st
                if st >= config.stabilityThresh {
                    outTokens.append(0)
                } else {
                    var best = 1
                    for i in 2..<nm where out.iou[i] > out.iou[best] { best = i }
                    outTokens.append(best)
                }
            } else {
                outTokens.append(0)
            }
            let count = outTokens.count
            // Every mask pixel is written below, so the buffer is only resized, never cleared per prompt.
            if outMasks.count != count * h * w {
                outMasks.removeAll(keepingCapacity: true)
                outMasks.append(contentsOf: repeatElement(0, count: count * h * w))
            }
            outLogits.removeAll(keepingCapacity: true)
            outLogits.append(contentsOf: repeatElement(0, count: count * n))
            outIoU.removeAll(keepingCapacity: true)
            for j in 0..<count {
                let m = outTokens[j]
                outIoU.append(out.iou[m])
                let src = out.masks.p + m * n
                if active, let m3 {
                    try runMR(src, j)
                    let s = config.imageSize
                    e.resize(SAM2R_RESIZE_BILINEAR, m3.p, inH: s, inW: s, c: 1, up.p, outH: h, outW: w, scratch: scratch)
                } else {
                    e.resize(SAM2R_RESIZE_BILINEAR, src, inH: lr, inW: lr, c: 1, up.p, outH: h, outW: w, scratch: scratch)
                }
                e.tap("output.mask_logits.\(j)", up.p, h * w)
                outMasks.withUnsafeMutableBufferPointer { mb in
                    // Branch-free so that it vectorizes: as a branchy loop it took ~3.5 ms of a 1024² image's
                    // postprocess at 1 thread (`sam2r bench --predicts 30`, A/B).
                    let dst = mb.baseAddress! + j * h * w, src = UnsafePointer(up.p)
                    for i in 0..<(h * w) { dst[i] = src[i] > 0 ? 1 : 0 }
                }
                outLogits.withUnsafeMutableBufferPointer { lb in
                    for i in 0..<n { lb[j * n + i] = min(max(src[i], -32), 32) }
                }
            }
            result = SAM2Prediction(count: count, height: h, width: w, masks: outMasks, iou: outIoU,
                                    lowResLogits: outLogits, lowResSize: lr,
                                    objectScore: out.objectScore, refined: active, maskTokens: outTokens, stability: stability)
        }
        if let m3 { try e.ws.release(m3) }
        if let u = out.upscaled { try e.ws.release(u) }
        try e.ws.release(scratch)
        try e.ws.release(up)
        try e.ws.release(out.masks)
        return result
    }
}
