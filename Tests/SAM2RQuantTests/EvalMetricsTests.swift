// EvalMetricsTests.swift — the metrics of `sam2r eval` on tiny hand-computed cases, the layer-output
// sampler (deterministic positions, known SQNR) and the summary aggregation.

import XCTest
@testable import SAM2RQuant

final class EvalMetricsTests: XCTestCase {
    func testMaskIoU() {
        XCTAssertEqual(EvalMetrics.maskIoU([1, 1, 0, 0], [1, 0, 1, 0]), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(EvalMetrics.maskIoU([255, 0, 7], [1, 0, 1]), 2.0 / 2.0)  // any non-zero is "in"
        XCTAssertEqual(EvalMetrics.maskIoU([0, 0], [0, 0]), 1)  // both empty
        XCTAssertEqual(EvalMetrics.maskIoU([1, 0], [0, 1]), 0)
    }

    func testSQNR() {
        // Σref² = 1 + 4 + 4 = 9, Σerr² = 1 → 10·log10(9).
        XCTAssertEqual(EvalMetrics.sqnrDB(reference: [1, 2, 2], candidate: [1, 2, 1]), 9.542425094393248, accuracy: 1e-9)
        // err = 0.1·ref everywhere → 20 dB.
        XCTAssertEqual(EvalMetrics.sqnrDB(signal: 4, noise: 0.04), 20, accuracy: 1e-9)
        XCTAssertEqual(EvalMetrics.sqnrDB(reference: [1, -3], candidate: [1, -3]), 200)  // exact: +cap
        XCTAssertEqual(EvalMetrics.sqnrDB(reference: [0, 0], candidate: [0, 0]), 200)
        XCTAssertEqual(EvalMetrics.sqnrDB(reference: [0, 0], candidate: [1, 0]), -200)  // no signal: −cap
        XCTAssertEqual(EvalMetrics.sqnrDB(signal: 1, noise: 1e-30), 200)  // clamped
        var e = SQNREnergy()
        e.add(2, .nan)  // skipped
        e.add(3, 2)
        XCTAssertEqual(e.signal, 9)
        XCTAssertEqual(e.noise, 1)
    }

    func testBoundaryWidth() {
        XCTAssertEqual(EvalMetrics.boundaryWidth(width: 100, height: 100), 3)  // 0.02·141.4 = 2.83
        XCTAssertEqual(EvalMetrics.boundaryWidth(width: 10, height: 10), 1)  // 0.28 → at least 1
        XCTAssertEqual(EvalMetrics.boundaryWidth(width: 1000, height: 872), 27)  // 0.02·1326.8 = 26.5
    }

    func testBoundaryBandOfFullMasks() {
        // A full 5×5 mask, d = 1: the outside counts as background, so the band is the outer ring (16).
        let band5 = EvalMetrics.boundaryBand([UInt8](repeating: 1, count: 25), width: 5, height: 5, d: 1)
        XCTAssertEqual(band5.filter { $0 != 0 }.count, 16)
        XCTAssertEqual(band5[2 * 5 + 2], 0)
        // 7×7, d = 2: only the central 3×3 survives the erosion → band 49 − 9 = 40.
        let band7 = EvalMetrics.boundaryBand([UInt8](repeating: 1, count: 49), width: 7, height: 7, d: 2)
        XCTAssertEqual(band7.filter { $0 != 0 }.count, 40)
        // An empty mask has an empty band.
        XCTAssertEqual(EvalMetrics.boundaryBand([UInt8](repeating: 0, count: 49), width: 7, height: 7, d: 2).max(), 0)
    }

    func testBoundaryIoUByHand() {
        // 6 wide, 4 high. A = columns 0-2, B = columns 0-3, d = 1.
        // erode(A) = {(1,1), (1,2)} → band A = 12 − 2 = 10; erode(B) = {(1..2, 1..2)} → band B = 16 − 4 = 12.
        // band A ∩ band B = A minus the 4 interior pixels of B = 8; union = band B + {(2,1), (2,2)} = 14.
        let w = 6, h = 4
        var a = [UInt8](repeating: 0, count: w * h), b = a
        for y in 0..<h {
            for x in 0..<3 { a[y * w + x] = 1 }
            for x in 0..<4 { b[y * w + x] = 1 }
        }
        XCTAssertEqual(EvalMetrics.boundaryIoU(a, b, width: w, height: h, d: 1), 8.0 / 14.0, accuracy: 1e-12)
        XCTAssertEqual(EvalMetrics.maskIoU(a, b), 0.75)
        XCTAssertEqual(EvalMetrics.boundaryIoU(a, a, width: w, height: h, d: 1), 1)
        // Default d for 6×4 is 1 (0.02·7.2 rounds to 0).
        XCTAssertEqual(EvalMetrics.boundaryIoU(a, b, width: w, height: h), 8.0 / 14.0, accuracy: 1e-12)
    }

    // MARK: - Layer sampler

    /// Feeds `n` elements (value = f(index)) as row tiles of `cols` columns with row stride `ld`.
    func feed(_ s: OutputSampler, _ name: String, n: Int, cols: Int, tileRows: Int, ld: Int, _ f: (Int) -> Float) {
        var i = 0
        while i < n {
            let rows = min(tileRows, (n - i) / cols)
            var buf = [Float](repeating: .nan, count: rows * ld)
            for r in 0..<rows { for c in 0..<cols { buf[r * ld + c] = f(i + r * cols + c) } }
            buf.withUnsafeBufferPointer { s.add(name, $0.baseAddress!, rows: rows, cols: cols, ld: ld) }
            i += rows * cols
        }
    }

    func testSamplerKeepsShortStreamsWhole() {
        let s = OutputSampler(capacity: 100, names: nil)
        feed(s, "a", n: 60, cols: 6, tileRows: 4, ld: 9) { Float($0) }
        XCTAssertEqual(s.layers["a"]!.values, (0..<60).map(Float.init))
    }

    func testSamplerPositionsIndependentOfValuesAndTiling() {
        let n = 200_000, cols = 8
        let a = OutputSampler(capacity: 500, names: nil), b = OutputSampler(capacity: 500, names: nil)
        feed(a, "x", n: n, cols: cols, tileRows: n / cols, ld: cols) { Float($0) }
        feed(b, "x", n: n, cols: cols, tileRows: 333, ld: 11) { Float($0) }
        let va = a.layers["x"]!.values, vb = b.layers["x"]!.values
        XCTAssertEqual(va, vb)
        XCTAssertEqual(va.count, 500)
        XCTAssertEqual(Set(va).count, 500)  // distinct positions
        // Uniform over the stream: mean index ≈ n/2 (σ of the mean ≈ n/√12/√500 ≈ 2600).
        let mean = va.reduce(0.0) { $0 + Double($1) } / 500
        XCTAssertEqual(mean, Double(n) / 2, accuracy: 15_000)
        XCTAssertGreaterThan(va.max()!, Float(n) * 0.95)  // the tail is reached
        // After a restart the same positions come back.
        b.startForward()
        feed(b, "x", n: n, cols: cols, tileRows: 1000, ld: cols) { Float($0) }
        XCTAssertEqual(b.layers["x"]!.values, va)
    }

    func testMeterKnownSQNRAndMismatch() throws {
        let m = LayerSQNRMeter(samples: 1000, names: ["l"])
        // Candidate = 1.1 · reference everywhere → 20 dB whichever elements are sampled.
        for _ in 0..<2 {
            feed(m.reference, "l", n: 50_000, cols: 10, tileRows: 700, ld: 10) { Float(sin(Double($0))) }
            feed(m.candidate, "l", n: 50_000, cols: 10, tileRows: 5000, ld: 12) { Float(1.1 * sin(Double($0))) }
            feed(m.reference, "other", n: 100, cols: 10, tileRows: 10, ld: 10) { _ in 1 }  // not measured
            try m.compare()
        }
        XCTAssertEqual(m.energy["l"]!.db, 20, accuracy: 1e-4)
        XCTAssertEqual(m.sampled["l"], 2000)
        XCTAssertNil(m.energy["other"])
        XCTAssertEqual(m.outputCount("l"), 100_000)
        feed(m.reference, "l", n: 100, cols: 10, tileRows: 10, ld: 10) { _ in 1 }
        feed(m.candidate, "l", n: 90, cols: 10, tileRows: 10, ld: 10) { _ in 1 }
        XCTAssertThrowsError(try m.compare())
    }

    // MARK: - Summary

    func testSummary() {
        func c(_ iou: Double, _ tr: Int, _ tc: Int, _ sr: Float, _ sc: Float, gt: (Double, Double)? = nil) -> EvalCase {
            EvalCase(image: "i", prompt: 0, kind: "click", maskIoU: iou, boundaryIoU: iou / 2, logitsSQNR: iou * 30,
                     scoreReference: sr, scoreCandidate: sc, tokenReference: tr, tokenCandidate: tc,
                     stabilityReference: nil, stabilityCandidate: nil, gtIoUReference: gt?.0, gtIoUCandidate: gt?.1)
        }
        let s = EvalSummary(cases: [c(1.0, 0, 0, 0.9, 0.8, gt: (0.8, 0.7)), c(0.5, 0, 2, 0.5, 0.75, gt: (0.6, 0.3))],
                            images: [EvalImageResult(name: "i", width: 4, height: 4, embeddingSQNR: 30, boundaryWidth: 1),
                                     EvalImageResult(name: "j", width: 4, height: 4, embeddingSQNR: 20, boundaryWidth: 1)])
        XCTAssertEqual(s.maskIoUMean, 0.75)
        XCTAssertEqual(s.maskIoUMin, 0.5)
        XCTAssertEqual(s.boundaryIoUMean, 0.375)
        XCTAssertEqual(s.logitsSQNRMean, 22.5)
        XCTAssertEqual(s.chosenMaskFlips, 1)
        XCTAssertEqual(s.chosenMaskAgreement, 0.5)
        XCTAssertEqual(s.scoreAbsDiffMax, 0.25, accuracy: 1e-7)
        XCTAssertEqual(s.scoreAbsDiffMean, 0.175, accuracy: 1e-7)
        XCTAssertEqual(s.embeddingSQNRMean, 25)
        XCTAssertEqual(s.embeddingSQNRMin, 20)
        XCTAssertEqual(s.gtMIoUReference!, 0.7, accuracy: 1e-12)
        XCTAssertEqual(s.gtMIoUCandidate!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.gtMIoUDrop!, 0.2, accuracy: 1e-12)
        XCTAssertNil(EvalSummary(cases: [c(1, 0, 0, 1, 1)], images: []).gtMIoUReference)
    }
}
