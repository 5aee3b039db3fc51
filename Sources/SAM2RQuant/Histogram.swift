// Histogram.swift — streaming statistics of one tensor: fixed-size magnitude histograms whose range
// doubles (pairs of bins merge) when a larger value arrives, plus running min / max / count.
// Memory is independent of the number of values seen.

/// A histogram of magnitudes |x| over [0, range) with `binCount` equal bins. `range` is a power of
/// two (or 0 while only zeros were seen), so the bin width is a power of two, `|x| * (binCount/range)`
/// is exact, and doubling the range maps old bins 2i, 2i+1 exactly onto new bin i: the streamed
/// histogram equals the histogram of all values binned at once with the final range.
public struct MagnitudeHistogram: Equatable, Sendable {
    public static let defaultBinCount = 2048
    public private(set) var bins: [UInt64]
    /// Upper edge of the last bin; 0 until a non-zero value arrives.
    public private(set) var range: Double = 0
    /// Values counted (all in `bins`).
    public private(set) var total: UInt64 = 0
    /// Largest magnitude counted.
    public private(set) var maxValue: Double = 0

    public init(binCount: Int = MagnitudeHistogram.defaultBinCount) {
        precondition(binCount >= 2 && binCount & (binCount - 1) == 0, "binCount must be a power of two")
        bins = [UInt64](repeating: 0, count: binCount)
    }

    public var binCount: Int { bins.count }
    public var binWidth: Double { range / Double(bins.count) }

    /// Smallest power of two strictly greater than m (m > 0, finite).
    static func powerOfTwoAbove(_ m: Double) -> Double {
        var r = Double(sign: .plus, exponent: m.exponent, significand: 1)
        while r <= m { r *= 2 }
        return r
    }

    /// Grows the range (power-of-two steps) so that `m` falls inside [0, range).
    public mutating func ensureRange(_ m: Double) {
        guard m > 0, m >= range else { return }
        if range == 0 {
            range = MagnitudeHistogram.powerOfTwoAbove(m)
            return
        }
        let n = bins.count
        while range <= m {
            for i in 0..<(n / 2) { bins[i] = bins[2 * i] + bins[2 * i + 1] }
            for i in (n / 2)..<n { bins[i] = 0 }
            range *= 2
        }
    }

    /// Adds magnitudes (all finite, >= 0). The range is grown once, for the largest, first.
    public mutating func add(_ values: UnsafeBufferPointer<Float>) {
        var m: Float = 0
        for v in values where v > m { m = v }
        add(values, maxMagnitude: Double(m))
    }

    mutating func add(_ values: UnsafeBufferPointer<Float>, maxMagnitude m: Double) {
        ensureRange(m)
        if m > maxValue { maxValue = m }
        let n = bins.count
        if range == 0 {
            bins[0] += UInt64(values.count)
        } else {
            let inv = Double(n) / range
            bins.withUnsafeMutableBufferPointer { b in
                for v in values { b[min(n - 1, Int(Double(v) * inv))] += 1 }
            }
        }
        total += UInt64(values.count)
    }

    /// Adds one magnitude.
    public mutating func add(_ v: Float) {
        withUnsafePointer(to: v) { add(UnsafeBufferPointer(start: $0, count: 1)) }
    }

    /// Histogram of `values` (magnitudes) at once over a given power-of-two `range` (for tests).
    public static func batch(_ values: [Float], range: Double, binCount: Int = defaultBinCount) -> [UInt64] {
        var b = [UInt64](repeating: 0, count: binCount)
        for v in values { b[min(binCount - 1, Int(Double(v) * Double(binCount) / range))] += 1 }
        return b
    }
}

/// Everything calibration keeps about one GEMM input: a histogram of the positive values and one of
/// the magnitudes of the negative values (zeros count as positive), running min / max / count / sum
/// of squares, and the number of non-finite values (skipped). Fixed size whatever the data.
public struct TensorStatistics: Equatable, Sendable {
    public var positive: MagnitudeHistogram
    public var negative: MagnitudeHistogram
    public private(set) var minValue: Float = .infinity
    public private(set) var maxValue: Float = -.infinity
    public private(set) var count: UInt64 = 0
    public private(set) var sumSquares: Double = 0
    public private(set) var nonFinite: UInt64 = 0
    /// Input row length (the GEMM K) as observed.
    public var columns: Int = 0

    public init(binCount: Int = MagnitudeHistogram.defaultBinCount) {
        positive = MagnitudeHistogram(binCount: binCount)
        negative = MagnitudeHistogram(binCount: binCount)
    }

    /// Histogram of |x| over all values (positive and negative parts on a common range).
    public var magnitude: MagnitudeHistogram {
        var p = positive, n = negative
        let r = max(p.range, n.range)
        p.ensureRange(r * 0.75); n.ensureRange(r * 0.75)  // both to range r (r is a power of two or 0)
        var m = p
        m.merge(n)
        return m
    }

    /// Adds `rows` rows of `cols` values with row stride `ld`.
    public mutating func add(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        columns = cols
        // Split each row into positive values and negative magnitudes in a small reusable buffer.
        let chunk = 4096
        var pos = [Float](repeating: 0, count: chunk), neg = [Float](repeating: 0, count: chunk)
        var np = 0, nn = 0
        var pmax: Float = 0, nmax: Float = 0
        var lo = minValue, hi = maxValue, ss = 0.0, bad: UInt64 = 0
        func flush() {
            pos.withUnsafeBufferPointer { positive.add(UnsafeBufferPointer(rebasing: $0[0..<np]), maxMagnitude: Double(pmax)) }
            neg.withUnsafeBufferPointer { negative.add(UnsafeBufferPointer(rebasing: $0[0..<nn]), maxMagnitude: Double(nmax)) }
            np = 0; nn = 0; pmax = 0; nmax = 0
        }
        for r in 0..<rows {
            let row = x + r * ld
            for c in 0..<cols {
                let v = row[c]
                guard v.isFinite else { bad += 1; continue }
                if v < lo { lo = v }
                if v > hi { hi = v }
                ss += Double(v) * Double(v)
                if v >= 0 {
                    pos[np] = v; np += 1
                    if v > pmax { pmax = v }
                    if np == chunk { flush() }
                } else {
                    neg[nn] = -v; nn += 1
                    if -v > nmax { nmax = -v }
                    if nn == chunk { flush() }
                }
            }
        }
        flush()
        minValue = lo; maxValue = hi
        sumSquares += ss
        nonFinite += bad
        count += UInt64(rows * cols) - bad
    }

    public mutating func add(_ values: [Float]) {
        values.withUnsafeBufferPointer { add($0.baseAddress!, rows: 1, cols: $0.count, ld: $0.count) }
    }
}

extension MagnitudeHistogram {
    /// Adds the counts of `other` (same bin count); the result has the larger range.
    public mutating func merge(_ other: MagnitudeHistogram) {
        precondition(other.bins.count == bins.count)
        var o = other
        ensureRange(o.range * 0.75)
        o.ensureRange(range * 0.75)
        for i in 0..<bins.count { bins[i] += o.bins[i] }
        total += o.total
        maxValue = max(maxValue, o.maxValue)
    }
}
