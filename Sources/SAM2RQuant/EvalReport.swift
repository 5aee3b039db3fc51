// EvalReport.swift — renders an evaluation as JSON (`sam2r eval --json`) and as a markdown report
// (`--report`); the key set is documented in docs/eval.md.

import Foundation

public struct EvalReport {
    public var reference: String
    public var candidate: String
    public var model: String
    public var samplesPerLayer: Int
    public var summary: EvalSummary
    public var cases: [EvalCase]
    public var images: [EvalImageResult]
    /// Worst first.
    public var layers: [EvalLayer]

    public init(reference: String, candidate: String, model: String, samplesPerLayer: Int, session: EvalSession) {
        self.reference = reference; self.candidate = candidate; self.model = model
        self.samplesPerLayer = samplesPerLayer
        summary = session.summary
        cases = session.cases
        images = session.images
        layers = session.layers
    }

    static func num(_ x: Double, _ digits: Int = 6) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "null" }
    static func str(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }

    // MARK: - JSON

    public func json() -> String {
        let n = { (x: Double) in Self.num(x) }
        let opt = { (x: Double?) in x.map { Self.num($0) } ?? "null" }
        let s = summary
        var summaryFields = [
            "\"cases\":\(s.cases)", "\"images\":\(s.images)",
            "\"mask_iou_mean\":\(n(s.maskIoUMean))", "\"mask_iou_min\":\(n(s.maskIoUMin))",
            "\"boundary_iou_mean\":\(n(s.boundaryIoUMean))", "\"boundary_iou_min\":\(n(s.boundaryIoUMin))",
            "\"logits_sqnr_db_mean\":\(n(s.logitsSQNRMean))", "\"logits_sqnr_db_min\":\(n(s.logitsSQNRMin))",
            "\"image_embedding_sqnr_db_mean\":\(n(s.embeddingSQNRMean))",
            "\"image_embedding_sqnr_db_min\":\(n(s.embeddingSQNRMin))",
            "\"iou_score_abs_diff_mean\":\(n(s.scoreAbsDiffMean))", "\"iou_score_abs_diff_max\":\(n(s.scoreAbsDiffMax))",
            "\"chosen_mask_agreement\":\(n(s.chosenMaskAgreement))", "\"chosen_mask_flips\":\(s.chosenMaskFlips)",
        ]
        if s.gtMIoUReference != nil {
            summaryFields += ["\"gt_miou_reference\":\(opt(s.gtMIoUReference))",
                              "\"gt_miou_candidate\":\(opt(s.gtMIoUCandidate))", "\"gt_miou_drop\":\(opt(s.gtMIoUDrop))",
                              "\"gt_boundary_iou_reference\":\(opt(s.gtBoundaryIoUReference))",
                              "\"gt_boundary_iou_candidate\":\(opt(s.gtBoundaryIoUCandidate))"]
        }
        let caseObjects = cases.map { c -> String in
            var f = ["\"image\":\(Self.str(c.image))", "\"prompt\":\(c.prompt)", "\"kind\":\(Self.str(c.kind))",
                     "\"mask_iou\":\(n(c.maskIoU))", "\"boundary_iou\":\(n(c.boundaryIoU))",
                     "\"logits_sqnr_db\":\(n(c.logitsSQNR))",
                     "\"iou_score_reference\":\(n(Double(c.scoreReference)))",
                     "\"iou_score_candidate\":\(n(Double(c.scoreCandidate)))",
                     "\"mask_token_reference\":\(c.tokenReference)", "\"mask_token_candidate\":\(c.tokenCandidate)",
                     "\"chosen_mask_agrees\":\(c.chosenMaskAgrees)",
                     "\"stability_reference\":\(opt(c.stabilityReference.map(Double.init)))",
                     "\"stability_candidate\":\(opt(c.stabilityCandidate.map(Double.init)))"]
            if c.gtIoUReference != nil {
                f += ["\"gt_iou_reference\":\(opt(c.gtIoUReference))", "\"gt_iou_candidate\":\(opt(c.gtIoUCandidate))"]
            }
            return "{" + f.joined(separator: ",") + "}"
        }
        let imageObjects = images.map {
            "{\"image\":\(Self.str($0.name)),\"width\":\($0.width),\"height\":\($0.height),"
                + "\"image_embedding_sqnr_db\":\(n($0.embeddingSQNR)),\"boundary_width_px\":\($0.boundaryWidth)}"
        }
        let layerObjects = layers.map {
            "{\"name\":\(Self.str($0.name)),\"sqnr_db\":\(n($0.sqnrDB)),\"input_sqnr_db\":\(n($0.inputSQNRDB)),"
                + "\"local_sqnr_db\":\(n($0.localSQNRDB)),\"sampled\":\($0.sampled),"
                + "\"mac_share\":\(n($0.macShare))}"
        }
        return "{\"reference\":\(Self.str(reference)),\"candidate\":\(Self.str(candidate)),\"model\":\(Self.str(model)),"
            + "\"samples_per_layer\":\(samplesPerLayer),"
            + "\"summary\":{" + summaryFields.joined(separator: ",") + "},"
            + "\"images\":[" + imageObjects.joined(separator: ",") + "],"
            + "\"cases\":[" + caseObjects.joined(separator: ",") + "],"
            + "\"layers\":[" + layerObjects.joined(separator: ",") + "]}"
    }

    // MARK: - Markdown

    /// Table cells: `|` would end the cell.
    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    public func markdown() -> String {
        let s = summary
        let f = { (x: Double, d: Int) in Self.num(x, d) }
        var md = "# sam2r eval\n\n"
        md += "- reference: `\(reference)`\n- candidate: `\(candidate)`\n- model: `\(model)`\n"
        md += "- \(s.images) image(s), \(s.cases) case(s); masks: one per prompt (multimask off, stability rule)\n\n"
        md += "## Summary\n\n| metric | mean | min / max |\n|---|---|---|\n"
        md += "| mask IoU (candidate vs reference) | \(f(s.maskIoUMean, 4)) | min \(f(s.maskIoUMin, 4)) |\n"
        md += "| boundary IoU (d = 2 % of the diagonal) | \(f(s.boundaryIoUMean, 4)) | min \(f(s.boundaryIoUMin, 4)) |\n"
        md += "| low-res logits SQNR (dB) | \(f(s.logitsSQNRMean, 2)) | min \(f(s.logitsSQNRMin, 2)) |\n"
        md += "| image-embedding SQNR (dB) | \(f(s.embeddingSQNRMean, 2)) | min \(f(s.embeddingSQNRMin, 2)) |\n"
        md += "| \\|IoU-score difference\\| | \(f(s.scoreAbsDiffMean, 4)) | max \(f(s.scoreAbsDiffMax, 4)) |\n"
        md += "| chosen mask agreement | \(f(s.chosenMaskAgreement, 4)) | \(s.chosenMaskFlips) flip(s) |\n"
        if let r = s.gtMIoUReference, let c = s.gtMIoUCandidate, let d = s.gtMIoUDrop {
            md += "| ground-truth mIoU reference / candidate | \(f(r, 4)) / \(f(c, 4)) | drop \(f(d, 4)) |\n"
        }
        if let r = s.gtBoundaryIoUReference, let c = s.gtBoundaryIoUCandidate {
            md += "| ground-truth boundary IoU reference / candidate | \(f(r, 4)) / \(f(c, 4)) | drop \(f(r - c, 4)) |\n"
        }
        if s.chosenMaskFlips > 0 {
            md += "\n**\(s.chosenMaskFlips) case(s) where the candidate returns a different mask than the reference** "
                + "(marked **FLIP** below).\n"
        }
        md += "\n## Images\n\n| image | size | embedding SQNR (dB) | boundary band (px) |\n|---|---|---|---|\n"
        for i in images {
            md += "| \(Self.cell(i.name)) | \(i.width)x\(i.height) | \(f(i.embeddingSQNR, 2)) | \(i.boundaryWidth) |\n"
        }
        let gt = cases.contains { $0.gtIoUReference != nil }
        md += "\n## Cases\n\n| image | prompt | kind | mask IoU | boundary IoU | logits SQNR (dB) | score ref / cand | token ref / cand | stability ref / cand |"
        md += gt ? " GT IoU ref / cand |\n" : "\n"
        md += "|---|---|---|---|---|---|---|---|---|" + (gt ? "---|\n" : "\n")
        for c in cases {
            let tok = c.chosenMaskAgrees ? "\(c.tokenReference) / \(c.tokenCandidate)"
                : "**\(c.tokenReference) / \(c.tokenCandidate) FLIP**"
            let st = [c.stabilityReference, c.stabilityCandidate].map { $0.map { f(Double($0), 4) } ?? "–" }
            md += "| \(Self.cell(c.image)) | \(c.prompt) | \(c.kind) | \(f(c.maskIoU, 4)) | \(f(c.boundaryIoU, 4)) | "
                + "\(f(c.logitsSQNR, 2)) | \(f(Double(c.scoreReference), 4)) / \(f(Double(c.scoreCandidate), 4)) | \(tok) | "
                + "\(st[0]) / \(st[1]) |"
            if gt { md += " \(c.gtIoUReference.map { f($0, 4) } ?? "–") / \(c.gtIoUCandidate.map { f($0, 4) } ?? "–") |" }
            md += "\n"
        }
        guard samplesPerLayer > 0 else {
            md += "\nNo layer SQNR (`--layer-samples 0`): both models ran the decoder's fast path (docs/eval.md).\n"
            return md
        }
        md += "\n## Layers (quantized GEMM outputs, worst SQNR first)\n\n"
        md += "Up to \(samplesPerLayer) output elements sampled per layer per forward (docs/eval.md).\n\n"
        md += "Input SQNR: the error the op inherits; local: the error it adds itself (docs/eval.md).\n\n"
        md += "| # | layer | output SQNR (dB) | input SQNR (dB) | local SQNR (dB) | sampled | MAC share |\n"
        md += "|---|---|---|---|---|---|---|\n"
        for (i, l) in layers.enumerated() {
            md += "| \(i + 1) | `\(l.name)` | \(f(l.sqnrDB, 2)) | \(f(l.inputSQNRDB, 2)) | \(f(l.localSQNRDB, 2)) | "
                + "\(l.sampled) | \(f(100 * l.macShare, 3)) % |\n"
        }
        return md
    }
}
