// Int8.swift — the optional int8 execution plan of SAM2ImagePredictor: which GEMMs run in int8
// and how. THE SCHEME (defined here; docs/quantization-table.md describes the table it comes from):
//
//   For every Linear / Conv-as-GEMM / ConvTranspose-as-GEMM whose name (state_dict prefix) has an
//   entry (s_a, zp) in the plan:
//   - Weights W[n, k] (the fp32 GEMM matrix, conv weights already in im2col (ky, kx, c) order):
//     symmetric per output channel, s_w[n] = max_k |W[n, k]| / 127 (fp32; a zero row uses s_w = 1),
//     q[n, k] = clamp(rint(W[n, k] / s_w[n]), -127, 127), rint = round half to even.
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

/// The int8 form of one Linear (see the scheme above).
final class Int8Linear {
    let packed: PackedWeightsS8
    let bias: [Int32]
    let scale: [Float]
    let inverseScale: Float
    let zeroPoint: Int32

    init(weights w: [Float], bias b: [Float], n: Int, k: Int, act: Int8ActivationParams, name: String) throws {
        guard act.scale.isFinite, act.scale > 0, (1 / act.scale).isFinite else {
            throw ModelError.invalidInput(argument: "quantization[\(name)].scale", reason: "\(act.scale) is not finite and > 0")
        }
        guard (-128...127).contains(act.zeroPoint) else {
            throw ModelError.invalidInput(argument: "quantization[\(name)].zeroPoint", reason: "\(act.zeroPoint) outside -128...127")
        }
        var q = [Int8](repeating: 0, count: n * k)
        var bi = [Int32](repeating: 0, count: n)
        var sc = [Float](repeating: 0, count: n)
        for r in 0..<n {
            var mx: Float = 0
            for c in 0..<k { mx = max(mx, abs(w[r * k + c])) }
            guard mx.isFinite else {
                throw ModelError.invalidInput(argument: "\(name).weight", reason: "row \(r) is not finite")
            }
            let sw: Float = mx > 0 ? mx / 127 : 1
            for c in 0..<k {
                let v = (w[r * k + c] / sw).rounded(.toNearestOrEven)
                q[r * k + c] = Int8(min(max(v, -127), 127))
            }
            sc[r] = act.scale * sw
            let bq = (Double(b[r]) / (Double(act.scale) * Double(sw))).rounded(.toNearestOrEven)
            bi[r] = Int32(min(max(bq, Double(Int32.min)), Double(Int32.max)))
        }
        packed = try q.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: n, k: k) }
        bias = bi
        scale = sc
        inverseScale = 1 / act.scale
        zeroPoint = act.zeroPoint
    }
}

/// Wraps a WeightSource with the int8 plan the loaders consult (Linear inits).
final class QuantizedWeightSource: WeightSource {
    let base: WeightSource
    let plan: Int8Plan
    init(_ base: WeightSource, plan: Int8Plan) { self.base = base; self.plan = plan }
    func shape(of name: String) -> [Int]? { base.shape(of: name) }
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws { try base.readFloats(name, into: into) }
}
