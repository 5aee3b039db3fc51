// EvalSummary.swift — aggregation of `sam2r eval`'s per-case and per-image numbers (docs/eval.md):
// means and minima over cases (SQNR means are means of the per-case dB values), chosen-mask agreement,
// and with ground truth the mIoU of both models and the drop.

public struct EvalSummary: Sendable {
    public var cases: Int
    public var images: Int
    public var maskIoUMean: Double
    public var maskIoUMin: Double
    public var boundaryIoUMean: Double
    public var boundaryIoUMin: Double
    public var logitsSQNRMean: Double
    public var logitsSQNRMin: Double
    public var scoreAbsDiffMean: Double
    public var scoreAbsDiffMax: Double
    /// Cases where both returned the same decoder mask token, as a fraction of all cases.
    public var chosenMaskAgreement: Double
    public var chosenMaskFlips: Int
    public var embeddingSQNRMean: Double
    public var embeddingSQNRMin: Double
    /// With ground truth: mean IoU with it over the cases, reference and candidate; drop = reference − candidate.
    public var gtMIoUReference: Double?
    public var gtMIoUCandidate: Double?
    public var gtBoundaryIoUReference: Double?
    public var gtBoundaryIoUCandidate: Double?
    public var gtMIoUDrop: Double? {
        guard let r = gtMIoUReference, let c = gtMIoUCandidate else { return nil }
        return r - c
    }

    public init(cases cs: [EvalCase], images im: [EvalImageResult]) {
        func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        cases = cs.count
        images = im.count
        maskIoUMean = mean(cs.map(\.maskIoU))
        maskIoUMin = cs.map(\.maskIoU).min() ?? 0
        boundaryIoUMean = mean(cs.map(\.boundaryIoU))
        boundaryIoUMin = cs.map(\.boundaryIoU).min() ?? 0
        logitsSQNRMean = mean(cs.map(\.logitsSQNR))
        logitsSQNRMin = cs.map(\.logitsSQNR).min() ?? 0
        scoreAbsDiffMean = mean(cs.map { abs($0.scoreDifference) })
        scoreAbsDiffMax = cs.map { abs($0.scoreDifference) }.max() ?? 0
        chosenMaskFlips = cs.filter { !$0.chosenMaskAgrees }.count
        chosenMaskAgreement = cs.isEmpty ? 0 : Double(cs.count - chosenMaskFlips) / Double(cs.count)
        embeddingSQNRMean = mean(im.map(\.embeddingSQNR))
        embeddingSQNRMin = im.map(\.embeddingSQNR).min() ?? 0
        let gr = cs.compactMap(\.gtIoUReference), gc = cs.compactMap(\.gtIoUCandidate)
        gtMIoUReference = gr.isEmpty ? nil : mean(gr)
        gtMIoUCandidate = gc.isEmpty ? nil : mean(gc)
        let br = cs.compactMap(\.gtBoundaryIoUReference), bc = cs.compactMap(\.gtBoundaryIoUCandidate)
        gtBoundaryIoUReference = br.isEmpty ? nil : mean(br)
        gtBoundaryIoUCandidate = bc.isEmpty ? nil : mean(bc)
    }
}
