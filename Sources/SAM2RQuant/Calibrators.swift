// Calibrators.swift — clip thresholds from a magnitude histogram (minmax, percentile, TensorRT
// entropy, MSE) and the int8 parameters (scale, zero point) of a GEMM input.

#if canImport(Glibc)
import Glibc
#endif

public enum CalibrationMethod: String, CaseIterable, Sendable {
    case minmax, percentile, entropy, mse
}

public struct CalibratorOptions: Equatable, Sendable {
    public var method: CalibrationMethod
    /// Percent of values kept inside the clip range by `percentile`.
    public var percentile: Double
    public init(method: CalibrationMethod = .percentile, percentile: Double = 99.99) {
        self.method = method
        self.percentile = percentile
    }
    /// `percentile 99.99`, `entropy`, ... (as written in the table header).
    public var label: String { method == .percentile ? "percentile \(percentile)" : method.rawValue }
}

public enum Calibrator {
    /// Clip threshold t (>= 0) for magnitudes described by `h`, with `levels` quantization steps over
    /// [0, t] (127 for the symmetric s8 scheme, 255 for one side of the asymmetric one).
    /// `offset`, `otherSide`: extent and count of the other side's values, kept whole by the asymmetric
    /// scheme (they widen the step and carry rounding noise; used by `mse`).
    public static func threshold(_ h: MagnitudeHistogram, _ o: CalibratorOptions, levels: Int, offset: Double = 0,
                                 otherSide: Double = 0) -> Double {
        guard h.total > 0, h.maxValue > 0 else { return 0 }
        let t: Double
        switch o.method {
        case .minmax: t = h.maxValue
        case .percentile: t = percentile(h, o.percentile)
        case .entropy: t = entropy(h, quantizedBins: levels >= 255 ? 256 : 128)
        case .mse: t = mse(h, levels: levels, offset: offset, otherSide: otherSide)
        }
        return min(max(t, 0), h.maxValue)
    }

    /// Upper edge of the first bin at which the cumulative count reaches p % of the total.
    public static func percentile(_ h: MagnitudeHistogram, _ p: Double) -> Double {
        let target = Double(h.total) * min(max(p, 0), 100) / 100
        var acc = 0.0
        for (i, c) in h.bins.enumerated() {
            acc += Double(c)
            if acc >= target { return Double(i + 1) * h.binWidth }
        }
        return h.range
    }

    /// TensorRT's entropy calibration on |x|: for i in q…N (q = `quantizedBins`, N bins), P = bins[0..<i]
    /// with everything above folded into bin i-1; Q = bins[0..<i] merged into q levels (i/q bins per level,
    /// the last level takes the remainder), each level's count spread evenly over its non-empty bins;
    /// P and Q normalized and smoothed (zeros get ε = 1e-4, taken from the non-zero entries); pick the i
    /// minimizing KL(P‖Q); threshold = i · bin width (the upper edge of the kept bins).
    public static func entropy(_ h: MagnitudeHistogram, quantizedBins q: Int = 128) -> Double {
        let n = h.binCount
        guard n > q else { return h.maxValue }
        let bins = h.bins.map(Double.init)
        // Suffix sums for the outlier fold.
        var suffix = [Double](repeating: 0, count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + bins[i] }
        // Never clip below the last non-empty bin of the bulk: start where there is something to keep.
        var bestI = n, bestKL = Double.infinity
        var p = [Double](repeating: 0, count: n), qd = [Double](repeating: 0, count: n)
        for i in q...n {
            for j in 0..<i { p[j] = bins[j] }
            p[i - 1] += suffix[i]
            let merged = i / q
            for level in 0..<q {
                let s = level * merged, e = level == q - 1 ? i : s + merged
                var total = 0.0, nonzero = 0
                for j in s..<e { total += bins[j]; if bins[j] != 0 { nonzero += 1 } }
                let v = nonzero > 0 ? total / Double(nonzero) : 0
                for j in s..<e { qd[j] = bins[j] != 0 ? v : 0 }
            }
            let kl = klDivergence(p, qd, i)
            if kl < bestKL { bestKL = kl; bestI = i }
        }
        return Double(bestI) * h.binWidth
    }

    /// KL(P‖Q) over [0, n) after normalizing and smoothing both (MXNet's `_smooth_distribution`, ε 1e-4).
    static func klDivergence(_ p: [Double], _ q: [Double], _ n: Int) -> Double {
        func smoothed(_ x: [Double]) -> [Double]? {
            var sum = 0.0, zeros = 0
            for j in 0..<n { sum += x[j]; if x[j] == 0 { zeros += 1 } }
            guard sum > 0 else { return nil }
            let nonzeros = n - zeros
            let eps = 1e-4
            let eps1 = nonzeros > 0 ? eps * Double(zeros) / Double(nonzeros) : 0
            var out = [Double](repeating: 0, count: n)
            for j in 0..<n { out[j] = x[j] == 0 ? eps : x[j] / sum - eps1 }
            return out
        }
        guard let ps = smoothed(p), let qs = smoothed(q) else { return .infinity }
        var kl = 0.0
        for j in 0..<n where ps[j] > 0 {
            guard qs[j] > 0 else { return .infinity }
            kl += ps[j] * log(ps[j] / qs[j])
        }
        return kl
    }

    /// Expected squared error per value of quantizing to `levels` steps over [−offset, t] (step
    /// Δ = (t + offset)/levels), values summarized by their bins: a value at bin centre c > t costs (c − t)²
    /// (clipped), one inside costs Δ²/12 (uniform rounding noise); the exact zeros of bin 0 (padding,
    /// ReLU) cost nothing when zero is representable, so bin 0 is charged at most its centre's exact
    /// rounding error. Direct O(bins) form (the reference for `mse`).
    public static func expectedError(_ h: MagnitudeHistogram, threshold t: Double, levels: Int, offset: Double = 0,
                                     otherSide: Double = 0) -> Double {
        let w = h.binWidth
        let delta = (t + offset) / Double(levels)
        var err = otherSide * delta * delta / 12
        for (i, c) in h.bins.enumerated() where c != 0 {
            let centre = (Double(i) + 0.5) * w
            if centre > t {
                err += Double(c) * (centre - t) * (centre - t)
            } else if i == 0 {
                err += Double(c) * bin0Error(centre, delta)
            } else {
                err += Double(c) * delta * delta / 12
            }
        }
        return err / (Double(h.total) + otherSide)
    }

    static func bin0Error(_ centre: Double, _ delta: Double) -> Double {
        guard delta > 0 else { return 0 }
        let r = centre - delta * (centre / delta).rounded()
        return min(r * r, delta * delta / 12)
    }

    /// The threshold among the bin edges up to the maximum (and the maximum itself) minimizing
    /// `expectedError`, in O(bins) with suffix sums of n, n·c, n·c².
    public static func mse(_ h: MagnitudeHistogram, levels: Int, offset: Double = 0, otherSide: Double = 0) -> Double {
        let n = h.binCount, w = h.binWidth
        var s0 = [Double](repeating: 0, count: n + 1), s1 = s0, s2 = s0
        for i in stride(from: n - 1, through: 0, by: -1) {
            let c = Double(h.bins[i]), centre = (Double(i) + 0.5) * w
            s0[i] = s0[i + 1] + c; s1[i] = s1[i + 1] + c * centre; s2[i] = s2[i + 1] + c * centre * centre
        }
        let total = Double(h.total), zeros = Double(h.bins[0])
        func err(_ t: Double) -> Double {
            // Bins with centre > t are clipped: first such bin k.
            let k = min(n, max(0, Int((t / w - 0.5).rounded(.down)) + 1))
            let delta = (t + offset) / Double(levels)
            var e = s2[k] - 2 * t * s1[k] + t * t * s0[k] + otherSide * delta * delta / 12
            if k > 0 {
                e += (s0[1] - s0[k]) * delta * delta / 12
                e += zeros * bin0Error(0.5 * w, delta)
            }
            return e / (total + otherSide)
        }
        var best = h.maxValue, bestErr = err(h.maxValue)
        let last = min(n, Int((h.maxValue / w).rounded(.up)))
        for i in 1...max(1, last) {
            let t = Double(i) * w
            let e = err(t)
            if e < bestErr { bestErr = e; best = t }
        }
        return best
    }
}

/// Per-tensor int8 quantization of a GEMM input: q = clamp(round(x / scale) + zeroPoint, −128, 127).
public enum QuantScheme: String, Sendable {
    /// Symmetric, zero point 0, codes −127…127 (−128 unused so that −q is representable).
    case s8Sym = "s8-sym"
    /// Asymmetric, codes −128…127 over [clipLow, clipHigh] with an integer zero point (0.0 exact).
    case s8Asym = "s8-asym"
}

public struct QuantParams: Equatable, Sendable {
    public var scheme: QuantScheme
    public var scale: Float
    public var zeroPoint: Int
    public var clipLow: Float
    public var clipHigh: Float

    public init(scheme: QuantScheme, scale: Float, zeroPoint: Int, clipLow: Float, clipHigh: Float) {
        self.scheme = scheme; self.scale = scale; self.zeroPoint = zeroPoint
        self.clipLow = clipLow; self.clipHigh = clipHigh
    }

    /// The quantize → dequantize image of x.
    @inline(__always)
    public func fakeQuantize(_ x: Float) -> Float {
        let lo: Float = scheme == .s8Sym ? -127 : -128
        let q = min(max((x / scale).rounded(.toNearestOrEven) + Float(zeroPoint), lo), 127)
        return (q - Float(zeroPoint)) * scale
    }

    /// One-sided rule: asymmetric when the negative extent is at most 1/8 of the positive one
    /// (post-GELU ≥ −0.17, post-ReLU / im2col of non-negative inputs ≥ 0); symmetric would waste
    /// ≥ 7/16 of the codes there. Symmetric otherwise (zero-centred LayerNorm outputs, attention
    /// outputs), which keeps the int8 GEMM free of zero-point corrections.
    public static let asymmetricRatio: Float = 0.125

    /// Parameters for statistics `s` with calibrator `o`.
    public static func calibrate(_ s: TensorStatistics, _ o: CalibratorOptions) -> QuantParams {
        let tiny: Float = 1e-12
        guard s.count > 0 else { return QuantParams(scheme: .s8Sym, scale: 1, zeroPoint: 0, clipLow: 0, clipHigh: 0) }
        let hi = max(s.maxValue, 0), lo = min(s.minValue, 0)
        if -lo <= asymmetricRatio * hi {
            // Positive side calibrated with 255 steps; the small negative side kept whole.
            let t = Float(Calibrator.threshold(s.positive, o, levels: 255, offset: Double(-lo),
                                                    otherSide: Double(s.negative.total)))
            let top = max(t, tiny)
            var scale = (top - lo) / 255
            if scale < tiny { scale = 1 }
            // Ceiling: the representable low end is at or below the minimum seen (GELU piles values at −0.17).
            let zp = Int(min(max((-128 - lo / scale).rounded(.up), -128), 127))
            return QuantParams(scheme: .s8Asym, scale: scale, zeroPoint: zp,
                               clipLow: Float(-128 - zp) * scale, clipHigh: Float(127 - zp) * scale)
        }
        let t = Float(Calibrator.threshold(s.magnitude, o, levels: 127))
        let scale = t > tiny ? t / 127 : 1
        return QuantParams(scheme: .s8Sym, scale: scale, zeroPoint: 0, clipLow: -127 * scale, clipHigh: 127 * scale)
    }

    /// Fraction of the values in `s` outside [clipLow, clipHigh] (from the histograms: bins whose lower
    /// edge is at or above the clip count as clipped).
    public func clippedFraction(_ s: TensorStatistics) -> Double {
        guard s.count > 0 else { return 0 }
        func above(_ h: MagnitudeHistogram, _ t: Double) -> UInt64 {
            guard h.range > 0 else { return 0 }
            let w = h.binWidth
            var n: UInt64 = 0
            for (i, c) in h.bins.enumerated() where Double(i) * w >= t && c != 0 { n += c }
            return n
        }
        let n = above(s.positive, Double(clipHigh)) + above(s.negative, Double(-clipLow))
        return Double(n) / Double(s.count)
    }
}
