// Int8.swift — the optional int8 execution plan of SAM2ImagePredictor: which GEMMs run in int8
// and how. THE SCHEME (defined here; docs/quantization-table.md describes the table it comes from):
//
//   For every Linear / Conv-as-GEMM / ConvTranspose-as-GEMM whose name (state_dict prefix) has an
//   entry (s_a, zp) in the plan:
//   - Weights W[n, k] (the fp32 GEMM matrix, conv weights already in im2col (ky, kx, c) order):
//     symmetric per output channel, s_w[n] = max_k |W[n, k]| / L (fp32; a zero row uses s_w = 1),
//     q[n, k] = clamp(rint(W[n, k] / s_w[n]), -L, L), rint = round half to even, L = 127. With 7-bit
//     weights (`sam2r quantize --weight-bits 7`) L = 63: AVX2 then runs the narrow-weight kernel
//     (vpmaddubsw, exact for |q| <= 64), 1.2-1.3x the 8-bit AVX2 GEMM, at 6 dB less weight SQNR.
//     Packed once, at load, for the active ISA's int8 kernel (PackedWeightsS8).
//   - Bias: b_i32[n] = rint(b[n] / (s_a * s_w[n])) (half to even, in double, clamped to int32), i.e.
//     in accumulator units.
//   - Input: the fp32 rows are quantized per tensor with the rowops quantize kernel
//     (q = clamp(rint(x * (1 / s_a)), -128 - zp, 127 - zp) + zp, sam2r_requant.h) into an int8 arena
//     buffer planned like every other tensor.
//   - GEMM: gemmS8 with the F32 epilogue, scale[n] = s_a * s_w[n] (one fp32 multiply):
//     y[m, n] = (float)(Σ_k qa·qw − zp·wsum[n] + b_i32[n]) * scale[n], the fp32 output the rest of the
//     graph expects. Every step is integer or a correctly rounded IEEE op, so results are
//     bit-identical across ISAs and thread counts.
//   Layers without an entry stay fp32 (same code path as without a plan). Attention, softmax,
//   LayerNorm, GELU, residual adds stay fp32.

import SAM2REngine

/// Activation quantization of one GEMM input: real = (q - zeroPoint) * scale, per tensor.
public typealias Int8ActivationParams = (scale: Float, zeroPoint: Int32)

/// The int8 plan: GEMM name (state_dict prefix, see `ModelConfig.gemmLayers()`) -> input parameters.
/// The host converts a quantization table to it (QuantEntry.params.scale / .zeroPoint).
public typealias Int8Plan = [String: Int8ActivationParams]

/// The quantized form of one GEMM before packing (the scheme above): what `Int8Linear` runs and what
/// a `.sam2q` model file stores (docs/model-file.md), computed in one place.
public struct Int8QuantizedGemm: Sendable {
    public let name: String
    public let n: Int
    public let k: Int
    public let act: Int8ActivationParams
    /// q[n, k] row-major, values in -127...127.
    public let weights: [Int8]
    /// s_w[n] (per output channel).
    public let weightScale: [Float]
    /// b_i32[n] = rint(b / (s_a * s_w)), accumulator units.
    public let bias: [Int32]
    /// s_a * s_w[n], the F32 epilogue scale.
    public let scale: [Float]
    /// 8, or 7 (|q| <= 63).
    public let weightBits: Int

    /// Quantizes the fp32 GEMM matrix `w` [n, k] and bias `b` [n] for input parameters `act`, with weights of
    /// `weightBits` (8: levels ±127; 7: ±63, which the narrow-weight kernels run, see the scheme above).
    public init(weights w: [Float], bias b: [Float], n: Int, k: Int, act: Int8ActivationParams, name: String,
                weightBits: Int = 8) throws {
        try Int8QuantizedGemm.check(act, name: name)
        guard weightBits == 8 || weightBits == 7 else {
            throw ModelError.invalidInput(argument: "\(name).weight", reason: "weight bits \(weightBits): 7 or 8")
        }
        let levels = Float((1 << (weightBits - 1)) - 1)
        var q = [Int8](repeating: 0, count: n * k)
        var bi = [Int32](repeating: 0, count: n)
        var sc = [Float](repeating: 0, count: n)
        var sws = [Float](repeating: 0, count: n)
        for r in 0..<n {
            var mx: Float = 0
            for c in 0..<k { mx = max(mx, abs(w[r * k + c])) }
            guard mx.isFinite else {
                throw ModelError.invalidInput(argument: "\(name).weight", reason: "row \(r) is not finite")
            }
            let sw: Float = mx > 0 ? mx / levels : 1
            for c in 0..<k {
                let v = (w[r * k + c] / sw).rounded(.toNearestOrEven)
                q[r * k + c] = Int8(min(max(v, -levels), levels))
            }
            sws[r] = sw
            sc[r] = act.scale * sw
            let bq = (Double(b[r]) / (Double(act.scale) * Double(sw))).rounded(.toNearestOrEven)
            bi[r] = Int32(min(max(bq, Double(Int32.min)), Double(Int32.max)))
        }
        self.name = name; self.n = n; self.k = k; self.act = act
        weights = q; weightScale = sws; bias = bi; scale = sc; self.weightBits = weightBits
    }

    /// The activation parameters the scheme accepts (also checked when a model file is read).
    public static func check(_ act: Int8ActivationParams, name: String) throws {
        guard act.scale.isFinite, act.scale > 0, (1 / act.scale).isFinite else {
            throw ModelError.invalidInput(argument: "quantization[\(name)].scale", reason: "\(act.scale) is not finite and > 0")
        }
        guard (-128...127).contains(act.zeroPoint) else {
            throw ModelError.invalidInput(argument: "quantization[\(name)].zeroPoint", reason: "\(act.zeroPoint) outside -128...127")
        }
    }
}

/// The int8 form of one Linear (see the scheme above), ready to run.
public final class Int8Linear {
    let packed: PackedWeightsS8
    let bias: [Int32]
    let scale: [Float]
    let inverseScale: Float
    let zeroPoint: Int32

    /// Packs a quantized GEMM for the active ISA's int8 kernel.
    convenience init(_ g: Int8QuantizedGemm) throws {
        let packed = try g.weights.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: g.n, k: g.k) }
        try self.init(packed: packed, bias: g.bias, scale: g.scale, act: g.act, name: g.name)
    }

    /// From weights already packed (e.g. mapped from a model file) and the per-channel parameters
    /// `Int8QuantizedGemm` computed.
    public init(packed: PackedWeightsS8, bias: [Int32], scale: [Float], act: Int8ActivationParams, name: String) throws {
        try Int8QuantizedGemm.check(act, name: name)
        guard bias.count == packed.n, scale.count == packed.n else {
            throw ModelError.invalidInput(argument: "\(name)", reason: "\(bias.count) biases, \(scale.count) scales for n=\(packed.n)")
        }
        self.packed = packed
        self.bias = bias
        self.scale = scale
        inverseScale = 1 / act.scale
        zeroPoint = act.zeroPoint
    }
}

/// A weight source that may hand out GEMMs already in int8 (a `.sam2q` model file): the loaders ask
/// it before reading any fp32 weight of a GEMM, and an int8 layer then holds no fp32 form at all.
public protocol Int8LayerSource: WeightSource {
    /// Whether any GEMM of the model comes in int8 (the predictor then plans the int8 input buffer).
    var hasInt8Layers: Bool { get }
    /// The int8 form of GEMM `name` with shape [n, k], or nil when it runs in fp32.
    func int8Layer(_ name: String, n: Int, k: Int) throws -> Int8Linear?
}

/// A source (a model file) that may hold an nn.Linear weight [n, k] as binary16: the layer then runs
/// gemmF16W on it (half the weight bytes; Exec.linear).
public protocol HalfWeightSource: WeightSource {
    /// The packed binary16 weight `name` ([n, k]), or nil when it is not stored as binary16.
    func halfWeights(_ name: String, n: Int, k: Int) throws -> PackedWeightsF16?
}

/// Wraps a WeightSource with the int8 plan the loaders consult (Linear inits): planned GEMMs are
/// quantized from their fp32 weights at load.
final class QuantizedWeightSource: WeightSource {
    let base: WeightSource
    let plan: Int8Plan
    /// Sees every GEMM as it is quantized (model export); nil when only running.
    var onQuantized: ((Int8QuantizedGemm) -> Void)?
    /// Names of the fp32 tensors read, in order, when `recordReads` (model export).
    var recordReads = false
    /// Weight width of the quantized GEMMs (8, or 7 for the narrow-weight kernels).
    var weightBits = 8
    private(set) var reads: [String] = []
    init(_ base: WeightSource, plan: Int8Plan) { self.base = base; self.plan = plan }
    func shape(of name: String) -> [Int]? { base.shape(of: name) }
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
        if recordReads { reads.append(name) }
        try base.readFloats(name, into: into)
    }
}
