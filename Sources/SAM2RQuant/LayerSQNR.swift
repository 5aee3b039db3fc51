// LayerSQNR.swift — per-layer output SQNR of a quantized model against its fp32 reference, streamed and
// memory-bounded: each forward keeps a fixed-size deterministic sample of every GEMM's output on both
// sides and compares them when both forwards are done (docs/eval.md, "Per-layer SQNR").

#if canImport(Glibc)
import Glibc
#endif
import SAM2RModel

/// A deterministic sample of at most `capacity` elements of each GEMM's output stream in one forward
/// (a layer's row tiles in call order form one stream). Reservoir sampling, Vitter's Algorithm L, with
/// a splitmix64 RNG seeded from the layer name: WHICH positions are kept depends only on the stream
/// length, never on the values, so an fp32 and an int8 forward (same call order and tiling, see
/// `GemmOutputObserver`) keep the same positions in the same slots. Cost: one RNG draw per replaced
/// element (O(k·log(n/k)) per stream), not per element.
final class OutputSampler {
    struct Reservoir {
        var rng: SplitMix
        var values: [Float] = []
        /// Elements seen in this forward.
        var seen = 0
        /// Stream index of the next element to take (Algorithm L's skip).
        var next = 0
        var w = 0.0
        /// Elements seen over all forwards (for MAC accounting).
        var total = 0
    }

    let capacity: Int
    /// Only these layers are sampled (nil: all).
    let names: Set<String>?
    private(set) var layers: [String: Reservoir] = [:]
    private(set) var order: [String] = []

    init(capacity: Int, names: Set<String>?) {
        precondition(capacity >= 1)
        self.capacity = capacity
        self.names = names
    }

    var observer: GemmOutputObserver {
        { [unowned self] name, y, rows, cols, ld in self.add(name, y, rows: rows, cols: cols, ld: ld) }
    }

    private static func seed(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
        return h
    }

    /// Uniform in (0, 1): never 0, so the logarithms below are finite.
    private static func open01(_ rng: inout SplitMix) -> Double { (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// Algorithm L's jump from the last taken index: floor(log(u) / log(1 − w)) skipped, then one taken.
    private func advance(_ r: inout Reservoir) {
        let skip = log(Self.open01(&r.rng)) / log1p(-r.w)
        r.next += (skip.isFinite && skip < 1e15 ? Int(skip) : Int(1e15)) + 1
    }

    func add(_ name: String, _ y: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        if let names, !names.contains(name) { return }
        if layers[name] == nil {
            layers[name] = Reservoir(rng: SplitMix(Self.seed(name)))
            order.append(name)
        }
        var r = layers.removeValue(forKey: name)!
        defer { layers[name] = r }
        let n = rows * cols
        r.total += n
        var i = 0
        // Fill phase: the first `capacity` elements.
        while i < n, r.values.count < capacity {
            r.values.append(y[(i / cols) * ld + i % cols])
            i += 1
            if r.values.count == capacity {
                r.w = exp(log(Self.open01(&r.rng)) / Double(capacity))
                r.next = r.seen + i - 1
                advance(&r)
            }
        }
        // Replacement phase: jump from one kept element to the next.
        while r.values.count == capacity, r.next < r.seen + n {
            let local = r.next - r.seen
            let slot = Int(r.rng.next() % UInt64(capacity))
            r.values[slot] = y[(local / cols) * ld + local % cols]
            r.w *= exp(log(Self.open01(&r.rng)) / Double(capacity))
            advance(&r)
        }
        r.seen += n
    }

    /// Starts a new forward: every reservoir restarts from its seed (so both sides stay in step).
    func startForward() {
        for name in order {
            let total = layers[name]!.total
            var r = Reservoir(rng: SplitMix(Self.seed(name)))
            r.total = total
            r.values.reserveCapacity(capacity)
            layers[name] = r
        }
    }
}

/// Pairs a reference and a candidate sampler: after each pair of forwards (setImage, or predict),
/// `compare()` adds every layer's Σref², Σ(ref − cand)² over the sampled elements.
public final class LayerSQNRMeter {
    let reference: OutputSampler
    let candidate: OutputSampler
    /// Pooled energies over every compared forward, per layer.
    public private(set) var energy: [String: SQNREnergy] = [:]
    public private(set) var sampled: [String: Int] = [:]
    public var order: [String] { reference.order }

    /// `samples`: elements kept per layer per forward (65 536 by default); `names`: layers to measure
    /// (the quantized ones), nil for all.
    public init(samples: Int = 65_536, names: Set<String>?) {
        reference = OutputSampler(capacity: samples, names: names)
        candidate = OutputSampler(capacity: samples, names: names)
    }

    public var referenceObserver: GemmOutputObserver { reference.observer }
    public var candidateObserver: GemmOutputObserver { candidate.observer }

    /// Output elements of `name` over all reference forwards (× the GEMM K = its MACs).
    public func outputCount(_ name: String) -> Int { reference.layers[name]?.total ?? 0 }

    /// Compares the forwards run since the last call; errors if the two sides did not see the same
    /// layers with the same stream lengths (a different call order would compare unrelated elements).
    public func compare() throws {
        for name in reference.order {
            let r = reference.layers[name]!
            guard r.seen > 0 else { continue }
            guard let c = candidate.layers[name], c.seen == r.seen, c.values.count == r.values.count else {
                throw EvalError("layer '\(name)': the candidate's output stream differs from the reference's "
                                + "(\(candidate.layers[name]?.seen ?? 0) vs \(r.seen) elements)")
            }
            var e = SQNREnergy()
            for i in r.values.indices { e.add(r.values[i], c.values[i]) }
            energy[name, default: SQNREnergy()].add(e)
            sampled[name, default: 0] += r.values.count
        }
        reference.startForward()
        candidate.startForward()
    }
}

/// An evaluation failure (bad input, mismatched runs); the description is one line.
public struct EvalError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}
