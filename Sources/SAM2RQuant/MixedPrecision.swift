// MixedPrecision.swift — the fewest GEMMs to keep in float so that the int8 model reaches a target mean
// mask IoU against fp32 on the calibration images (`sam2r quantize --target-iou`, docs/eval.md).
//
// 1. One instrumented EvalSession (fp32 reference + the full int8 table) measures every quantized GEMM's
//    output SQNR and the mean mask IoU; the reference masks are kept.
// 2. GEMMs are ranked by sensitivity = the error each adds itself (local SQNR, EvalLayer.localSQNRDB:
//    output SQNR corrected for the error inherited at its input), worst first. The plain output SQNR
//    would rank every op downstream of a noisy one as sensitive, though floating it fixes nothing upstream.
// 3. Keeping the first k of the ranking in float is evaluated by re-running only the candidate against
//    the kept reference masks; a binary search over k finds the smallest k whose mean IoU reaches the
//    target, assuming that floating more of the ranked prefix does not lower the IoU. Both sides of the
//    answer are measured: k reaches the target, k − 1 does not. k = all is the fp32 model (IoU 1 exactly:
//    GEMMs without an entry run the fp32 code path), so a target ≤ 1 is always reachable.

import SAM2RModel

public struct KeptFloatOp: Sendable {
    public var name: String
    /// Local SQNR (the error the op adds itself) in the all-int8 run (dB) and its rank (1 = worst).
    public var localSQNRDB: Double
    /// Output SQNR in the all-int8 run (dB).
    public var sqnrDB: Double
    public var rank: Int
    public var macShare: Double
    /// One line: why this op is in float.
    public var reason: String
}

public struct MixedPrecisionResult: Sendable {
    /// The input table without the entries of `kept` (those GEMMs run in fp32).
    public var table: QuantTable
    public var kept: [KeptFloatOp]
    /// Mean mask IoU vs fp32 on the calibration cases: all int8, and with `kept` in float.
    public var fullInt8IoU: Double
    public var achievedIoU: Double
    /// Every evaluated prefix length and its mean IoU, in evaluation order.
    public var trials: [(floatOps: Int, meanIoU: Double)]
    /// Sum of the MAC shares of `kept`.
    public var floatMACShare: Double { kept.reduce(0) { $0 + $1.macShare } }
}

public enum MixedPrecisionSearch {
    /// - images: calibration images with their prompts (CalibrationPrompts.defaults or a prompts file).
    /// - targetIoU: mean mask IoU vs fp32 to reach, in (0, 1].
    /// - progress: called with one line per step (instrumented run, each trial).
    public static func run(config: ModelConfig, weights: WeightSource, table: QuantTable, images: [EvalImage],
                           targetIoU: Double, threads: Int, samples: Int = 65_536,
                           progress: ((String) -> Void)? = nil) throws -> MixedPrecisionResult {
        guard targetIoU > 0, targetIoU <= 1 else { throw EvalError("target IoU \(targetIoU) outside (0, 1]") }
        guard !images.isEmpty else { throw EvalError("no calibration images") }
        let quantized = try config.gemmLayers().filter { table.entry($0.name) != nil }

        // 1. Instrumented all-int8 run.
        let ranked: [EvalLayer]
        let referenceCases: [[EvalSession.ReferenceCase]]
        let full: Double
        do {
            let reference = try SAM2ImagePredictor(config: config, weights: weights, threads: threads)
            let candidate = try SAM2ImagePredictor(config: config, weights: weights, threads: threads,
                                                   quantization: table.int8Plan)
            let session = EvalSession(reference: reference, candidate: candidate, layers: quantized, samples: samples,
                                      keepReference: true)
            for (i, image) in images.enumerated() {
                try session.evaluate(image)
                progress?("instrumented run: image \(i + 1)/\(images.count)")
            }
            ranked = session.layers.sorted { $0.localSQNRDB < $1.localSQNRDB }
            referenceCases = session.referenceCases
            full = session.summary.maskIoUMean
        }
        var trials: [(floatOps: Int, meanIoU: Double)] = [(0, full)]
        progress?("all int8: mean mask IoU \(full)")

        func plan(floating k: Int) -> QuantTable {
            let float = Set(ranked.prefix(k).map(\.name))
            var t = table
            t.entries.removeAll { float.contains($0.name) }
            return t
        }
        // 3. Prefix trials.
        var cache: [Int: Double] = [0: full, ranked.count: 1]
        func meanIoU(floating k: Int) throws -> Double {
            if let v = cache[k] { return v }
            let candidate = try SAM2ImagePredictor(config: config, weights: weights, threads: threads,
                                                   quantization: plan(floating: k).int8Plan)
            var sum = 0.0, n = 0
            for (i, image) in images.enumerated() {
                do {
                    try candidate.setImage(rgb: image.pixels, width: image.width, height: image.height)
                } catch let e as ModelError {
                    throw EvalError("\(image.name): \(e)")
                }
                for (j, p) in image.prompts.enumerated() {
                    let ref = referenceCases[i][j]
                    let c = try predictPrompt(candidate, p, previous: ref.previousLogits, image: image.name, index: j)
                    sum += EvalMetrics.maskIoU(ref.mask, Array(c.masks[0..<(image.width * image.height)]))
                    n += 1
                }
            }
            let v = n > 0 ? sum / Double(n) : 1
            cache[k] = v
            trials.append((k, v))
            progress?("\(k) op(s) in float: mean mask IoU \(v)")
            return v
        }
        var lo = 0, hi = ranked.count
        if full >= targetIoU { hi = 0 }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try meanIoU(floating: mid) >= targetIoU { hi = mid } else { lo = mid }
        }
        let achieved = cache[hi]!
        let below = hi > 0 ? cache[hi - 1] : nil
        let kept = ranked.prefix(hi).enumerated().map { i, l in
            KeptFloatOp(name: l.name, localSQNRDB: l.localSQNRDB, sqnrDB: l.sqnrDB, rank: i + 1, macShare: l.macShare,
                        reason: "adds error at local SQNR \(fmtDB(l.localSQNRDB)) dB (output \(fmtDB(l.sqnrDB)) dB), "
                            + "rank \(i + 1) of \(ranked.count) (worst first), "
                            + "\(fmtPercent(l.macShare)) % of the int8 MACs; the \(hi) worst in float reach mean IoU "
                            + "\(fmtIoU(achieved)) >= \(fmtIoU(targetIoU))"
                            + (below.map { ", \(hi - 1) reach \(fmtIoU($0))" } ?? ""))
        }
        return MixedPrecisionResult(table: plan(floating: hi), kept: kept, fullInt8IoU: full, achievedIoU: achieved,
                                    trials: trials)
    }

    static func fmtDB(_ x: Double) -> String { EvalReport.num(x, 2) }
    static func fmtPercent(_ x: Double) -> String { EvalReport.num(100 * x, 3) }
    static func fmtIoU(_ x: Double) -> String { EvalReport.num(x, 5) }
}
