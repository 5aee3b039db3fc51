// Calibration.swift — collects GEMM-input statistics through SAM2ImagePredictor.gemmInputObserver,
// turns them into a QuantTable, and measures fake-quantization SQNR of given parameters.

#if canImport(Glibc)
import Glibc
#endif
import SAM2RModel

/// Streams every GEMM input into fixed-size per-tensor statistics.
public final class CalibrationCollector {
    public private(set) var stats: [String: TensorStatistics] = [:]
    /// Names in first-seen order.
    public private(set) var order: [String] = []
    let binCount: Int

    public init(binCount: Int = MagnitudeHistogram.defaultBinCount) { self.binCount = binCount }

    public var observer: GemmInputObserver {
        { [unowned self] name, x, rows, cols, ld in self.add(name, x, rows: rows, cols: cols, ld: ld) }
    }

    public func add(_ name: String, _ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        if stats[name] == nil {
            stats[name] = TensorStatistics(binCount: binCount)
            order.append(name)
        }
        stats[name]!.add(x, rows: rows, cols: cols, ld: ld)
    }

    /// The table: one entry per GEMM of `gemms` that was observed, in model order.
    public func table(gemms: [GemmLayer], options: CalibratorOptions, modelName: String, fingerprint: String,
                      images: Int, prompts: Int) -> QuantTable {
        var entries: [QuantEntry] = []
        for g in gemms {
            guard let s = stats[g.name], s.count > 0 else { continue }
            let p = QuantParams.calibrate(s, options)
            entries.append(QuantEntry(name: g.name, inFeatures: g.inFeatures, params: p, calibrator: options.label,
                                      minValue: s.minValue, maxValue: s.maxValue,
                                      clippedFraction: p.clippedFraction(s), count: s.count))
        }
        return QuantTable(modelName: modelName, fingerprint: fingerprint, calibrator: options.label,
                          images: images, prompts: prompts, entries: entries)
    }
}

/// Signal and error energies of fake-quantizing GEMM inputs with several parameter sets at once
/// (one per calibrator), for the SQNR comparison.
public final class SQNRMeter {
    public let methods: [String]
    let params: [String: [QuantParams]]
    public private(set) var signal: [String: Double] = [:]
    public private(set) var noise: [String: [Double]] = [:]

    /// `params[name][m]` are the parameters of method `methods[m]` for tensor `name`.
    public init(methods: [String], params: [String: [QuantParams]]) {
        self.methods = methods
        self.params = params
    }

    public var observer: GemmInputObserver {
        { [unowned self] name, x, rows, cols, ld in self.add(name, x, rows: rows, cols: cols, ld: ld) }
    }

    public func add(_ name: String, _ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        guard let ps = params[name] else { return }
        var s = 0.0
        var n = [Double](repeating: 0, count: ps.count)
        for r in 0..<rows {
            let row = x + r * ld
            for c in 0..<cols {
                let v = row[c]
                guard v.isFinite else { continue }
                s += Double(v) * Double(v)
                for (m, p) in ps.enumerated() {
                    let e = Double(v - p.fakeQuantize(v))
                    n[m] += e * e
                }
            }
        }
        signal[name, default: 0] += s
        var acc = noise[name] ?? [Double](repeating: 0, count: ps.count)
        for m in 0..<ps.count { acc[m] += n[m] }
        noise[name] = acc
    }

    /// SQNR in dB of method m on tensor `name` (nil if not observed; capped at 200 dB for exact tensors).
    public func sqnr(_ name: String, _ m: Int) -> Double? {
        guard let s = signal[name], let n = noise[name] else { return nil }
        if n[m] <= 0 { return 200 }
        if s <= 0 { return 0 }
        return min(200, 10 * log10(s / n[m]))
    }
}
