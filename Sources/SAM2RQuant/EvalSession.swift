// EvalSession.swift — "two predictors, same inputs": runs a reference (fp32) and a candidate (int8)
// SAM2ImagePredictor in lockstep over images and prompts and collects per-case metrics, per-image
// embedding SQNR and per-layer output SQNR (docs/eval.md). One image at a time: memory does not grow
// with the number of images beyond the per-case numbers.

#if canImport(Glibc)
import Glibc
#endif
import SAM2RModel

/// One image to evaluate: decoded RGB8 pixels, its prompts, optionally a ground-truth mask.
public struct EvalImage {
    public var name: String
    public var width: Int
    public var height: Int
    /// width·height·3 bytes.
    public var pixels: [UInt8]
    public var prompts: [CalibrationPrompt]
    /// width·height, non-zero = object.
    public var groundTruth: [UInt8]?

    public init(name: String, width: Int, height: Int, pixels: [UInt8], prompts: [CalibrationPrompt],
                groundTruth: [UInt8]? = nil) {
        self.name = name; self.width = width; self.height = height; self.pixels = pixels
        self.prompts = prompts; self.groundTruth = groundTruth
    }
}

/// The metrics of one (image, prompt) case; masks are the single mask each predictor returns with
/// multimask off (chosen by the stability rule, as Meta's predictor does).
public struct EvalCase: Sendable {
    public var image: String
    public var prompt: Int
    /// "click", "clicks", "box", "box+clicks", with "+refine" when the previous mask was fed back.
    public var kind: String
    public var maskIoU: Double
    public var boundaryIoU: Double
    /// SQNR of the returned mask's low-res logits (clamped to ±32 as returned).
    public var logitsSQNR: Double
    public var scoreReference: Float
    public var scoreCandidate: Float
    /// Decoder mask token returned (0: single-mask token, 1-3: the stability rule fell back to the best multimask token).
    public var tokenReference: Int
    public var tokenCandidate: Int
    public var stabilityReference: Float?
    public var stabilityCandidate: Float?
    /// IoU with the ground-truth mask, when given.
    public var gtIoUReference: Double?
    public var gtIoUCandidate: Double?
    /// Boundary IoU of each model's mask against the ground truth (same band width rule).
    public var gtBoundaryIoUReference: Double?
    public var gtBoundaryIoUCandidate: Double?
    public var chosenMaskAgrees: Bool { tokenReference == tokenCandidate }
    public var scoreDifference: Double { Double(scoreCandidate) - Double(scoreReference) }
}

public struct EvalImageResult: Sendable {
    public var name: String
    public var width: Int
    public var height: Int
    public var embeddingSQNR: Double
    /// The boundary-IoU band width used for this image (pixels).
    public var boundaryWidth: Int
}

public struct EvalLayer: Sendable {
    public var name: String
    /// Output SQNR (candidate vs reference): the error accumulated up to and including this op.
    public var sqnrDB: Double
    /// SQNR of the op's (fp32, before quantization) input: the error it inherits.
    public var inputSQNRDB: Double
    /// The error this op adds itself, estimated as relative noise out − relative noise in
    /// (10^(−out/10) − 10^(−in/10), i.e. assuming the op scales inherited noise like signal), in dB;
    /// the cap (200) when the difference is not positive. The sensitivity the mixed-precision search ranks by.
    public var localSQNRDB: Double
    /// Output elements compared (sum over forwards of min(stream length, samples per forward)).
    public var sampled: Int
    /// Share of the measured GEMM MACs (all quantized GEMMs, all forwards) spent in this layer.
    public var macShare: Double
}

/// Runs one prompt (multimask off, as calibrate does); a refine prompt gets `previous` (low-res logits) as mask input.
func predictPrompt(_ p: SAM2ImagePredictor, _ prompt: CalibrationPrompt, previous: [Float]?, image: String,
                   index: Int) throws -> SAM2Prediction {
    do {
        return try p.predict(points: prompt.points.map { SIMD2($0.x, $0.y) }, labels: prompt.points.map(\.label),
                             box: prompt.box, maskInput: prompt.refine ? previous : nil, multimask: false)
    } catch let e as ModelError {
        throw EvalError("\(image): prompt \(index): \(e)")
    }
}

func promptKind(_ p: CalibrationPrompt) -> String {
    var k = p.box != nil ? (p.points.isEmpty ? "box" : "box+clicks") : (p.points.count == 1 ? "click" : "clicks")
    if p.refine { k = p.points.isEmpty && p.box == nil ? "refine" : k + "+refine" }
    return k
}

/// Compares two predictions of one case.
func compareCase(image: EvalImage, prompt i: Int, reference r: SAM2Prediction, candidate c: SAM2Prediction) -> EvalCase {
    let plane = image.width * image.height
    let rm = Array(r.masks[0..<plane]), cm = Array(c.masks[0..<plane])
    let lr = r.lowResSize * r.lowResSize
    var e = EvalCase(image: image.name, prompt: i, kind: promptKind(image.prompts[i]),
                     maskIoU: EvalMetrics.maskIoU(rm, cm),
                     boundaryIoU: EvalMetrics.boundaryIoU(rm, cm, width: image.width, height: image.height),
                     logitsSQNR: EvalMetrics.sqnrDB(reference: Array(r.lowResLogits[0..<lr]),
                                                    candidate: Array(c.lowResLogits[0..<lr])),
                     scoreReference: r.iou[0], scoreCandidate: c.iou[0],
                     tokenReference: r.maskTokens[0], tokenCandidate: c.maskTokens[0],
                     stabilityReference: r.stability, stabilityCandidate: c.stability)
    if let gt = image.groundTruth {
        e.gtIoUReference = EvalMetrics.maskIoU(rm, gt)
        e.gtIoUCandidate = EvalMetrics.maskIoU(cm, gt)
        e.gtBoundaryIoUReference = EvalMetrics.boundaryIoU(rm, gt, width: image.width, height: image.height)
        e.gtBoundaryIoUCandidate = EvalMetrics.boundaryIoU(cm, gt, width: image.width, height: image.height)
    }
    return e
}

public final class EvalSession {
    public let reference: SAM2ImagePredictor
    public let candidate: SAM2ImagePredictor
    public private(set) var cases: [EvalCase] = []
    public private(set) var images: [EvalImageResult] = []
    let meter: LayerSQNRMeter?
    let inputMeter: LayerSQNRMeter?
    let gemmK: [String: Int]
    /// What a candidate-only re-run of one case needs from the reference.
    public struct ReferenceCase: Sendable {
        /// The reference's mask (image size).
        public var mask: [UInt8]
        /// The mask input the case ran with (the reference's previous low-res logits, refine prompts only).
        public var previousLogits: [Float]?
    }
    /// Per image, per prompt, kept when `keepReference` is set (the mixed-precision search re-evaluates
    /// candidates against them without re-running fp32).
    public private(set) var referenceCases: [[ReferenceCase]] = []
    let keepReference: Bool

    /// - layers: GEMMs whose output SQNR is measured (the candidate's quantized ones), with their K
    ///   (for MAC shares); empty: no per-layer measurement.
    /// - samples: output elements sampled per layer per forward.
    /// The session owns both predictors' observers (`observer`, `gemmInputObserver`, `gemmOutputObserver`).
    public init(reference: SAM2ImagePredictor, candidate: SAM2ImagePredictor, layers: [GemmLayer],
                samples: Int = 65_536, keepReference: Bool = false) {
        self.reference = reference
        self.candidate = candidate
        self.keepReference = keepReference
        gemmK = Dictionary(layers.map { ($0.name, $0.inFeatures) }, uniquingKeysWith: { a, _ in a })
        meter = layers.isEmpty ? nil : LayerSQNRMeter(samples: samples, names: Set(layers.map(\.name)))
        inputMeter = layers.isEmpty ? nil : LayerSQNRMeter(samples: samples, names: Set(layers.map(\.name)))
        reference.gemmOutputObserver = meter?.referenceObserver
        candidate.gemmOutputObserver = meter?.candidateObserver
        reference.gemmInputObserver = inputMeter?.referenceObserver
        candidate.gemmInputObserver = inputMeter?.candidateObserver
    }

    /// Encodes `image` with both predictors, then runs every prompt on both.
    public func evaluate(_ image: EvalImage) throws {
        guard image.pixels.count == image.width * image.height * 3 else {
            throw EvalError("\(image.name): \(image.pixels.count) bytes for \(image.width)x\(image.height) RGB")
        }
        if let gt = image.groundTruth, gt.count != image.width * image.height {
            throw EvalError("\(image.name): ground-truth mask has \(gt.count) pixels, the image \(image.width * image.height)")
        }
        guard !image.prompts.isEmpty else { throw EvalError("\(image.name): no prompts") }
        // Image embedding: the reference's copy (embedSize²·dModel floats, the size of one output), then
        // the candidate's pieces compared against it as they arrive.
        var refEmbed = [Float]()
        var embed = SQNREnergy()
        reference.observer = { name, v, off in
            guard name == "image_embed" else { return }
            if refEmbed.count < off + v.count { refEmbed += [Float](repeating: 0, count: off + v.count - refEmbed.count) }
            for i in 0..<v.count { refEmbed[off + i] = v[i] }
        }
        candidate.observer = { name, v, off in
            guard name == "image_embed" else { return }
            for i in 0..<v.count where off + i < refEmbed.count { embed.add(refEmbed[off + i], v[i]) }
        }
        defer { reference.observer = nil; candidate.observer = nil }
        do {
            try reference.setImage(rgb: image.pixels, width: image.width, height: image.height)
            try candidate.setImage(rgb: image.pixels, width: image.width, height: image.height)
        } catch let e as ModelError {
            throw EvalError("\(image.name): \(e)")
        }
        try meter?.compare()
        try inputMeter?.compare()
        images.append(EvalImageResult(name: image.name, width: image.width, height: image.height,
                                      embeddingSQNR: embed.db,
                                      boundaryWidth: EvalMetrics.boundaryWidth(width: image.width, height: image.height)))
        // Same inputs: a refine prompt feeds BOTH models the reference's previous low-res logits, so each case
        // measures the quantization error of one decoder call, not of a chain that diverged earlier.
        var previous: [Float]? = nil
        var kept = [ReferenceCase]()
        for (i, p) in image.prompts.enumerated() {
            let r = try predictPrompt(reference, p, previous: previous, image: image.name, index: i)
            let c = try predictPrompt(candidate, p, previous: previous, image: image.name, index: i)
            try meter?.compare()
            try inputMeter?.compare()
            cases.append(compareCase(image: image, prompt: i, reference: r, candidate: c))
            if keepReference {
                kept.append(ReferenceCase(mask: Array(r.masks[0..<(image.width * image.height)]),
                                          previousLogits: p.refine ? previous : nil))
            }
            previous = r.lowResLogits
        }
        if keepReference { referenceCases.append(kept) }
    }

    /// Quantized layers, worst output SQNR first (ties: model order).
    public var layers: [EvalLayer] {
        guard let meter else { return [] }
        var macs: [String: Double] = [:]
        for n in meter.order { macs[n] = Double(meter.outputCount(n)) * Double(gemmK[n] ?? 0) }
        let total = max(1, macs.values.reduce(0, +))
        let rank = Dictionary(meter.order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return meter.order.compactMap { n -> EvalLayer? in
            guard let e = meter.energy[n] else { return nil }
            let input = inputMeter?.energy[n]?.db ?? EvalMetrics.sqnrCapDB
            return EvalLayer(name: n, sqnrDB: e.db, inputSQNRDB: input, localSQNRDB: Self.localSQNR(output: e.db, input: input),
                             sampled: meter.sampled[n] ?? 0, macShare: macs[n]! / total)
        }.sorted { $0.sqnrDB != $1.sqnrDB ? $0.sqnrDB < $1.sqnrDB : rank[$0.name]! < rank[$1.name]! }
    }

    static func localSQNR(output: Double, input: Double) -> Double {
        let added = pow(10, -output / 10) - pow(10, -input / 10)
        return added > 0 ? min(EvalMetrics.sqnrCapDB, -10 * log10(added)) : EvalMetrics.sqnrCapDB
    }

    public var summary: EvalSummary { EvalSummary(cases: cases, images: images) }
}
