// MixedPrecision.swift — the fewest GEMMs to keep in float so that the int8 model reaches a target mean
// mask IoU against fp32 on the calibration images (`sam2r quantize --target-iou`, docs/eval.md).
//
// 1. One instrumented EvalSession (fp32 reference + the full int8 table) measures every quantized GEMM's
//    output SQNR and the mean mask IoU; the reference masks are kept.
// 2. GEMMs are ranked by sensitivity = the error each adds itself (local SQNR, EvalLayer.localSQNRDB:
//    output SQNR corrected for the error inherited at its input), worst first. The plain output SQNR
//    would rank every op downstream of a noisy one as sensitive, though floating it fixes nothing upstream.
// 3. Keeping the first k of the ranking in float is evaluated by re-running only the candidate against
//    the kept reference masks; a binary search over k finds a k whose mean IoU reaches the target (k − 1
//    measured to miss it). k = all is the fp32 model (IoU 1 exactly: GEMMs without an entry run the fp32
//    code path), so a target ≤ 1 is always reachable.
// 4. The IoU is not monotonic in k, so the prefix is pruned: chunks of it (halving sizes, least
//    sensitive first) go back to int8 while the target holds, within a trial budget. Every answer is
//    measured; minimality is not proven (an exact minimum needs 2^n runs).

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
    /// - pruneTrials: most candidate runs spent putting kept ops back into int8 (step 4).
    /// - progress: called with one line per step (instrumented run, each trial).
    public static func run(config: ModelConfig, weights: WeightSource, table: QuantTable, images: [EvalImage],
                           targetIoU: Double, threads: Int, samples: Int = 65_536, pruneTrials: Int = 16,
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

        func plan(floating float: [EvalLayer]) -> QuantTable {
            let names = Set(float.map(\.name))
            var t = table
            t.entries.removeAll { names.contains($0.name) }
            return t
        }
        // 3. Trials: a candidate-only run with `float` in fp32, against the kept reference cases.
        var cache: [Set<String>: Double] = [[]: full, Set(ranked.map(\.name)): 1]
        func meanIoU(floating float: [EvalLayer]) throws -> Double {
            let key = Set(float.map(\.name))
            if let v = cache[key] { return v }
            let candidate = try SAM2ImagePredictor(config: config, weights: weights, threads: threads,
                                                   quantization: plan(floating: float).int8Plan)
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
            cache[key] = v
            trials.append((float.count, v))
            progress?("\(float.count) op(s) in float: mean mask IoU \(v)")
            return v
        }
        // Binary search over the ranked prefix.
        var lo = 0, hi = ranked.count
        if full >= targetIoU { hi = 0 }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try meanIoU(floating: Array(ranked.prefix(mid))) >= targetIoU { hi = mid } else { lo = mid }
        }
        var kept = Array(ranked.prefix(hi))
        var achieved = try meanIoU(floating: kept)
        // 4. Pruning: the IoU is not monotonic in k (one op can flip a stability-chosen mask, and a mean over
        //    a few cases jumps with it), so the prefix may hold ops that are not needed. Put chunks of the
        //    kept set back into int8, least sensitive first, halving the chunk size, while trials remain;
        //    a chunk stays int8 when the target still holds.
        var singleTrial: [String: Double] = [:]
        var budget = pruneTrials
        var chunk = max(1, kept.count / 2)
        while !kept.isEmpty, budget > 0 {
            var end = kept.count
            while end > 0, budget > 0 {
                let start = max(0, end - chunk)
                let trial = Array(kept[0..<start] + kept[end...])
                budget -= 1
                let v = try meanIoU(floating: trial)
                if chunk == 1 { singleTrial[kept[start].name] = v }
                if v >= targetIoU { kept = trial; achieved = v }
                end = start
            }
            if chunk == 1 { break }
            chunk = max(1, chunk / 2)
        }
        let keptOps = kept.map { l -> KeptFloatOp in
            let rank = ranked.firstIndex { $0.name == l.name }! + 1
            var why = "adds error at local SQNR \(fmtDB(l.localSQNRDB)) dB (output \(fmtDB(l.sqnrDB)) dB), "
                + "rank \(rank) of \(ranked.count) (worst first), \(fmtPercent(l.macShare)) % of the int8 MACs; "
            if let v = singleTrial[l.name] {
                why += "back in int8 the mean IoU drops to \(fmtIoU(v)) < \(fmtIoU(targetIoU))"
            } else {
                why += "in the ranked prefix that reaches \(fmtIoU(targetIoU)) (not re-tested alone)"
            }
            return KeptFloatOp(name: l.name, localSQNRDB: l.localSQNRDB, sqnrDB: l.sqnrDB, rank: rank,
                               macShare: l.macShare, reason: why)
        }
        return MixedPrecisionResult(table: plan(floating: kept), kept: keptOps, fullInt8IoU: full, achievedIoU: achieved,
                                    trials: trials)
    }

    static func fmtDB(_ x: Double) -> String { EvalReport.num(x, 2) }
    static func fmtPercent(_ x: Double) -> String { EvalReport.num(100 * x, 3) }
    static func fmtIoU(_ x: Double) -> String { EvalReport.num(x, 5) }
}
