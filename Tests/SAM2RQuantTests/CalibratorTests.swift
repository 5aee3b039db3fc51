import XCTest
@testable import SAM2RQuant

/// Deterministic samples for the synthetic distributions.
struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func gaussian() -> Float { Float((-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit())) }
    mutating func laplace() -> Float { let u = unit() - 0.5; return Float(-(u < 0 ? -1.0 : 1.0) * log(1 - 2 * abs(u))) }
}

enum Synthetic {
    static func gaussian(_ n: Int, seed: UInt64 = 1) -> [Float] { var r = Rng(s: seed); return (0..<n).map { _ in r.gaussian() } }
    /// Laplacian (b = 1) with 0.05 % outliers at ±(20...40).
    static func laplaceOutliers(_ n: Int, seed: UInt64 = 2) -> [Float] {
        var r = Rng(s: seed)
        return (0..<n).map { _ in
            if r.unit() < 0.0005 { return Float(20 + 20 * r.unit()) * (r.unit() < 0.5 ? -1 : 1) }
            return r.laplace()
        }
    }
    /// Post-GELU-like: GELU of a N(0, 1.5²) — one-sided, minimum ≈ −0.17.
    static func oneSided(_ n: Int, seed: UInt64 = 3) -> [Float] {
        var r = Rng(s: seed)
        return (0..<n).map { _ in
            let x = Double(r.gaussian()) * 1.5
            return Float(0.5 * x * (1 + erf(x / 2.0.squareRoot())))
        }
    }
}

func stats(_ v: [Float]) -> TensorStatistics { var s = TensorStatistics(); s.add(v); return s }

/// The actual mean squared error of fake-quantizing `v` with `p`.
func actualMSE(_ v: [Float], _ p: QuantParams) -> Double {
    var e = 0.0
    for x in v { let d = Double(x - p.fakeQuantize(x)); e += d * d }
    return e / Double(v.count)
}

func symParams(_ t: Double) -> QuantParams {
    let s = Float(t) / 127
    return QuantParams(scheme: .s8Sym, scale: s, zeroPoint: 0, clipLow: -127 * s, clipHigh: 127 * s)
}

final class HistogramTests: XCTestCase {
    func testStreamingEqualsBatch() {
        // Values arrive in growing magnitude (forces many range doublings) and in random chunks.
        var r = Rng(s: 9)
        var all: [Float] = []
        var h = MagnitudeHistogram()
        for chunk in 0..<40 {
            let scale = Float(1 << (chunk / 4)) * 0.001
            let v = (0..<(1 + Int(r.next() % 500))).map { _ in abs(r.gaussian()) * scale }
            all += v
            v.withUnsafeBufferPointer { h.add($0) }
        }
        XCTAssertEqual(h.bins, MagnitudeHistogram.batch(all, range: h.range))
        XCTAssertEqual(h.total, UInt64(all.count))
        XCTAssertEqual(h.maxValue, Double(all.max()!))
        XCTAssertGreaterThan(h.range, Double(all.max()!))
        XCTAssertLessThanOrEqual(h.range, 2 * Double(all.max()!))
    }

    func testZerosBeforeRangeAndMerge() {
        var h = MagnitudeHistogram(binCount: 8)
        h.add(0); h.add(0)
        XCTAssertEqual(h.range, 0)
        h.add(3)
        XCTAssertEqual(h.range, 4)
        XCTAssertEqual(h.bins, [2, 0, 0, 0, 0, 0, 1, 0])
        var g = MagnitudeHistogram(binCount: 8)
        g.add(7)
        h.merge(g)
        XCTAssertEqual(h.range, 8)
        XCTAssertEqual(h.bins, MagnitudeHistogram.batch([0, 0, 3, 7], range: 8, binCount: 8))
    }

    func testMemoryIndependentOfData() {
        var s = TensorStatistics()
        let before = (s.positive.bins.count, s.negative.bins.count)
        for seed in 0..<20 { s.add(Synthetic.gaussian(5000, seed: UInt64(seed)).map { $0 * Float(seed + 1) }) }
        XCTAssertEqual(s.positive.bins.count, before.0)
        XCTAssertEqual(s.negative.bins.count, before.1)
        XCTAssertEqual(s.count, 100_000)
        XCTAssertEqual(s.positive.total + s.negative.total, 100_000)
    }

    func testSignedSplitAndNonFinite() {
        let s = stats([-2, -0.5, 0, 1, 3, .nan, .infinity])
        XCTAssertEqual(s.count, 5)
        XCTAssertEqual(s.nonFinite, 2)
        XCTAssertEqual(s.minValue, -2)
        XCTAssertEqual(s.maxValue, 3)
        XCTAssertEqual(s.negative.total, 2)
        XCTAssertEqual(s.positive.total, 3)
        XCTAssertEqual(s.magnitude.bins, MagnitudeHistogram.batch([2, 0.5, 0, 1, 3], range: 4))
    }

    func testStridedRows() {
        let x: [Float] = [1, 2, 99, -3, 4, 99]
        var s = TensorStatistics()
        x.withUnsafeBufferPointer { s.add($0.baseAddress!, rows: 2, cols: 2, ld: 3) }
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.maxValue, 4)
        XCTAssertEqual(s.columns, 2)
    }
}

final class CalibratorTests: XCTestCase {
    let cases: [(String, [Float])] = [
        ("gaussian", Synthetic.gaussian(200_000)),
        ("laplace+outliers", Synthetic.laplaceOutliers(200_000)),
    ]

    func testMinMax() {
        for (name, v) in cases {
            let p = QuantParams.calibrate(stats(v), CalibratorOptions(method: .minmax))
            let m = v.map { abs($0) }.max()!
            XCTAssertEqual(p.scheme, .s8Sym, name)
            XCTAssertEqual(p.clipHigh, m, accuracy: m * 1e-6, name)
            XCTAssertEqual(p.clippedFraction(stats(v)), 0, name)
        }
    }

    func testPercentileMatchesSortedQuantile() {
        for (name, v) in cases {
            for pct in [99.0, 99.9, 99.99] {
                let s = stats(v)
                let t = Calibrator.percentile(s.magnitude, pct)
                let sorted = v.map { abs($0) }.sorted()
                let exact = Double(sorted[Int((Double(sorted.count) * pct / 100).rounded(.up)) - 1])
                // Histogram answer: the upper edge of the bin holding the exact quantile.
                let w = s.magnitude.binWidth
                XCTAssertGreaterThanOrEqual(t, exact, "\(name) \(pct)")
                XCTAssertLessThanOrEqual(t, exact + w + 1e-9, "\(name) \(pct)")
            }
        }
    }

    /// The MSE calibrator's clip is (near) the brute-force optimum of the *actual* fake-quant error.
    func testMSEAgainstBruteForce() {
        for (name, v) in cases {
            let s = stats(v)
            let t = Calibrator.threshold(s.magnitude, CalibratorOptions(method: .mse), levels: 127)
            let mx = Double(v.map { abs($0) }.max()!)
            var best = (t: 0.0, e: Double.infinity)
            for i in 1...400 {
                let c = mx * Double(i) / 400
                let e = actualMSE(v, symParams(c))
                if e < best.e { best = (c, e) }
            }
            let got = actualMSE(v, symParams(t))
            XCTAssertLessThanOrEqual(got, best.e * 1.03, "\(name): mse clip \(t) vs brute force \(best.t)")
            XCTAssertEqual(t, best.t, accuracy: 0.1 * best.t, name)
        }
    }

    /// The entropy calibrator equals an independent, direct transcription of TensorRT's loop.
    func testEntropyAgainstReference() {
        for (name, v) in cases {
            let h = stats(v).magnitude
            let t = Calibrator.entropy(h)
            let ref = referenceEntropy(h.bins.map(Double.init), width: h.binWidth)
            XCTAssertEqual(t, ref, accuracy: 1e-12, name)
            // Clips the outliers, keeps the bulk.
            XCTAssertLessThan(t, Double(v.map { abs($0) }.max()!), name)
            XCTAssertGreaterThan(t, Calibrator.percentile(h, 99), name)
        }
    }

    func referenceEntropy(_ hist: [Double], width: Double) -> Double {
        let n = hist.count, q = 128
        var best = (i: n, kl: Double.infinity)
        for i in q...n {
            var p = Array(hist[0..<i])
            p[i - 1] += hist[i...].reduce(0, +)
            let m = i / q
            var qq = [Double](repeating: 0, count: i)
            for l in 0..<q {
                let lo = l * m, hi = l == q - 1 ? i : lo + m
                let slice = hist[lo..<hi]
                let nz = slice.filter { $0 != 0 }.count
                for j in lo..<hi where hist[j] != 0 { qq[j] = slice.reduce(0, +) / Double(nz) }
            }
            func smooth(_ x: [Double]) -> [Double] {
                let s = x.reduce(0, +)
                let z = x.filter { $0 == 0 }.count
                let e1 = 1e-4 * Double(z) / Double(x.count - z)
                return x.map { $0 == 0 ? 1e-4 : $0 / s - e1 }
            }
            let ps = smooth(p), qs = smooth(qq)
            var kl = 0.0
            for j in 0..<i where ps[j] > 0 { kl += ps[j] * log(ps[j] / qs[j]) }
            if kl < best.kl { best = (i, kl) }
        }
        return Double(best.i) * width
    }

    func testOneSidedIsAsymmetric() {
        let v = Synthetic.oneSided(200_000)
        let s = stats(v)
        for m in CalibrationMethod.allCases {
            let p = QuantParams.calibrate(s, CalibratorOptions(method: m))
            XCTAssertEqual(p.scheme, .s8Asym, "\(m)")
            XCTAssertLessThanOrEqual(p.clipLow, s.minValue + p.scale, "\(m)")
            XCTAssertEqual(p.fakeQuantize(0), 0, "\(m): zero exact")
            XCTAssertGreaterThan(p.clipHigh, 0)
        }
        // Asymmetric beats symmetric min-max on one-sided data.
        let asym = QuantParams.calibrate(s, CalibratorOptions(method: .minmax))
        XCTAssertLessThan(actualMSE(v, asym), actualMSE(v, symParams(Double(s.maxValue))))
        // MSE calibrator on the one-sided positive histogram: close to brute force over the high clip.
        let p = QuantParams.calibrate(s, CalibratorOptions(method: .mse))
        var best = Double.infinity
        for i in 1...300 {
            let hi = Float(i) / 300 * s.maxValue
            let sc = (hi - s.minValue) / 255
            let zp = Int((-128 - s.minValue / sc).rounded())
            best = min(best, actualMSE(v, QuantParams(scheme: .s8Asym, scale: sc, zeroPoint: zp, clipLow: 0, clipHigh: 0)))
        }
        XCTAssertLessThanOrEqual(actualMSE(v, p), best * 1.05)
    }

    /// The O(bins) MSE search equals the direct evaluation of the expected error at every edge.
    func testMSEFastEqualsDirect() {
        for (name, v) in cases {
            let h = stats(v).magnitude
            for (offset, other) in [(0.0, 0.0), (0.17, 5000.0)] {
                let t = Calibrator.mse(h, levels: 127, offset: offset, otherSide: other)
                var best = (t: h.maxValue, e: Calibrator.expectedError(h, threshold: h.maxValue, levels: 127, offset: offset,
                                                                       otherSide: other))
                for i in 1...Int((h.maxValue / h.binWidth).rounded(.up)) {
                    let c = Double(i) * h.binWidth
                    let e = Calibrator.expectedError(h, threshold: c, levels: 127, offset: offset, otherSide: other)
                    if e < best.e { best = (c, e) }
                }
                let got = Calibrator.expectedError(h, threshold: t, levels: 127, offset: offset, otherSide: other)
                XCTAssertEqual(got, best.e, accuracy: best.e * 1e-9, "\(name)")
            }
        }
    }

    func testGaussianSymmetricAndOrdering() {
        let s = stats(Synthetic.gaussian(200_000))
        let t = CalibrationMethod.allCases.map { QuantParams.calibrate(s, CalibratorOptions(method: $0)).clipHigh }
        XCTAssertTrue(t.allSatisfy { $0 > 2 }, "\(t)")
        XCTAssertEqual(t[0], max(s.maxValue, -s.minValue))  // minmax is the largest
        XCTAssertTrue(t.allSatisfy { $0 <= t[0] })
    }

    func testDegenerate() {
        let z = QuantParams.calibrate(stats([0, 0, 0]), CalibratorOptions(method: .entropy))
        XCTAssertGreaterThan(z.scale, 0)
        XCTAssertEqual(z.fakeQuantize(0), 0)
        let e = QuantParams.calibrate(TensorStatistics(), CalibratorOptions())
        XCTAssertEqual(e.scale, 1)
    }
}
