// Layers.swift — weights of the layer kinds SAM2 uses, loaded (and GEMM weights packed) once.

import SAM2REngine
import SAM2RKernels

/// y = x W^T + b with W [out, in]: packed for the active fp32 GEMM kernel, or (when the int8 plan or
/// the model file has this GEMM in int8) only its int8 form — never both, so an int8 model holds no
/// fp32 copy of its GEMM weights.
struct Linear {
    /// The fp32 form; nil for an int8 layer or one whose weights are stored in binary16.
    let packed: PackedWeightsF32?
    /// The binary16-stored form (a model file's `float16` tensor, widened exactly in the GEMM), or nil.
    let half: PackedWeightsF16?
    /// fp32 bias (fp32 layers; empty for an int8 layer, whose bias is in `int8`).
    let bias: [Float]
    /// The weight's state_dict prefix (e.g. `image_encoder.trunk.blocks.3.attn.qkv`); the name under
    /// which `Exec.gemmInputObserver` reports this GEMM's input. Empty for unnamed test layers.
    var name: String = ""
    /// The int8 form (Int8.swift); nil: fp32.
    let int8: Int8Linear?
    let outFeatures: Int
    let inFeatures: Int

    /// From a row-major [n, k] matrix (fp32).
    init(weights w: [Float], bias: [Float], n: Int, k: Int) throws {
        packed = try w.withUnsafeBufferPointer { try PackedWeightsF32(weights: $0, n: n, k: k) }
        half = nil
        self.bias = bias
        int8 = nil
        outFeatures = n
        inFeatures = k
    }

    /// GEMM `name` [n, k] of kind `kind`: int8 from an `Int8LayerSource` if it has it, else the fp32
    /// matrix and bias `matrix` produces (GEMM layout), quantized if `src` carries an int8 plan for it.
    private init(_ src: WeightSource, name: String, kind: GemmLayer.Kind, n: Int, k: Int,
                 matrix: () throws -> (w: [Float], b: [Float])) throws {
        self.name = name
        outFeatures = n
        inFeatures = k
        (src as? ShapeRecorder)?.gemms.append(GemmLayer(name: name, kind: kind, inFeatures: k, outFeatures: n))
        if let file = src as? Int8LayerSource, let q = try file.int8Layer(name, n: n, k: k) {
            packed = nil
            half = nil
            bias = []
            int8 = q
            return
        }
        if kind == .linear, let file = src as? HalfWeightSource, let h = try file.halfWeights(name + ".weight", n: n, k: k) {
            packed = nil
            half = h
            bias = try src.load(name + ".bias", [n])
            int8 = nil
            return
        }
        half = nil
        let (w, b) = try matrix()
        if src is ShapeRecorder {
            // Shape-only pass (expectedWeights, gemmLayers, arenaPlan): the requests are recorded, and
            // packing the placeholder zeros would only cost memory (4 bytes per weight until the pass ends).
            packed = nil
            bias = b
            int8 = nil
        } else if let qs = src as? QuantizedWeightSource, let act = qs.plan[name] {
            let g = try Int8QuantizedGemm(weights: w, bias: b, n: n, k: k, act: act, name: name,
                                          weightBits: qs.weightBits)
            qs.onQuantized?(g)
            packed = nil
            bias = []
            int8 = try Int8Linear(g)
        } else {
            packed = try w.withUnsafeBufferPointer { try PackedWeightsF32(weights: $0, n: n, k: k) }
            bias = b
            int8 = nil
        }
    }

    /// The row-major [n, k] fp32 weights of an fp32 or binary16 layer (the stored values, widened); nil
    /// for an int8 or shape-only layer.
    func floatWeights() -> [Float]? { half?.widened() ?? packed?.unpacked() }

    /// PyTorch nn.Linear `prefix`.weight [out, in] + `prefix`.bias.
    init(_ src: WeightSource, _ prefix: String, out: Int, in k: Int) throws {
        try self.init(src, name: prefix, kind: .linear, n: out, k: k) {
            (try src.load(prefix + ".weight", [out, k]), try src.load(prefix + ".bias", [out]))
        }
    }

    /// PyTorch Conv2d [out, in, kh, kw] as a GEMM over channels-last im2col rows (ky, kx, c).
    init(conv src: WeightSource, _ prefix: String, out: Int, in c: Int, kernel kk: Int) throws {
        try self.init(src, name: prefix, kind: .conv, n: out, k: kk * kk * c) {
            let w = try src.load(prefix + ".weight", [out, c, kk, kk])
            var hwc = [Float](repeating: 0, count: w.count)
            w.withUnsafeBufferPointer { s in
                hwc.withUnsafeMutableBufferPointer { d in
                    sam2r_conv_weight_to_hwc(s.baseAddress, Int32(out), Int32(c), Int32(kk), Int32(kk), d.baseAddress)
                }
            }
            return (hwc, try src.load(prefix + ".bias", [out]))
        }
    }

    /// PyTorch ConvTranspose2d [in, out, k, k] with stride == k as a GEMM to (ky, kx, out) columns;
    /// the bias is repeated per (ky, kx).
    init(convTranspose src: WeightSource, _ prefix: String, in c: Int, out: Int, kernel kk: Int) throws {
        try self.init(src, name: prefix, kind: .convTranspose, n: kk * kk * out, k: c) {
            let w = try src.load(prefix + ".weight", [c, out, kk, kk])
            var g = [Float](repeating: 0, count: w.count)
            w.withUnsafeBufferPointer { s in
                g.withUnsafeMutableBufferPointer { d in
                    sam2r_convtranspose_weight_to_gemm(s.baseAddress, Int32(c), Int32(out), Int32(kk), d.baseAddress)
                }
            }
            let b = try src.load(prefix + ".bias", [out])
            var bias = [Float]()
            for _ in 0..<(kk * kk) { bias += b }
            return (g, bias)
        }
    }
}

/// One GEMM of the model (Linear, Conv2d as im2col GEMM, ConvTranspose2d with stride == kernel as GEMM),
/// named by its weight's state_dict prefix. `inFeatures` is the GEMM K (the row length of the input the
/// gemm-input observer reports): in for Linear, kh*kw*in for Conv (im2col rows, channels-last), in for
/// ConvTranspose. `outFeatures` is the GEMM N (kh*kw*out for ConvTranspose).
public struct GemmLayer: Sendable, Equatable {
    public enum Kind: String, Sendable { case linear, conv, convTranspose = "conv_transpose" }
    public let name: String
    public let kind: Kind
    public let inFeatures: Int
    public let outFeatures: Int
    public init(name: String, kind: Kind, inFeatures: Int, outFeatures: Int) {
        self.name = name; self.kind = kind; self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }
}

/// LayerNorm / LayerNorm2d affine parameters (normalized over channels; channels-last rows).
struct Norm {
    let gamma: [Float]
    let beta: [Float]
    let eps: Float
    init(_ src: WeightSource, _ prefix: String, dim: Int, eps: Float) throws {
        gamma = try src.load(prefix + ".weight", [dim])
        beta = try src.load(prefix + ".bias", [dim])
        self.eps = eps
    }
}

/// SAM's MLP: Linear layers with ReLU between them (optionally sigmoid at the end).
struct MLP {
    let layers: [Linear]
    init(_ src: WeightSource, _ prefix: String, input: Int, hidden: Int, output: Int, layers n: Int) throws {
        var ls = [Linear]()
        for i in 0..<n {
            let k = i == 0 ? input : hidden
            let o = i == n - 1 ? output : hidden
            ls.append(try Linear(src, "\(prefix).layers.\(i)", out: o, in: k))
        }
        layers = ls
    }
}
