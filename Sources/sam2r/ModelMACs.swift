// ModelMACs.swift — multiply-accumulates of the SAM2.1 image path, computed from the config's shapes as Meta's
// PyTorch code performs them (so GMAC/s compares with the peers; for hiera-tiny at 1024²: encoder 146.2 GMAC =
// linear 98.8 + attention 42.7 + patch-embed conv 0.9 + neck 1x1 convs 3.8, as torch's FlopCounter reports them).
//
// Encoder (G = S/4 token grid, C0 = embed dim, d = neck d_model):
//   patch embed   G² · C0 · (3·7·7)
//   per block (dim -> dim', side n -> n', window w; q = 2 when the block pools q, else 1):
//     windowed: P = ceil(n/w)·w (Meta pads to whole windows), windows W = (P/w)², queries/window (w/q)², keys w²
//     global:   P = n, W = 1, queries n'², keys n²
//     qkv         P² · dim · 3dim'            (on padded tokens, as Meta's window partition does)
//     shortcut    n² · dim · dim'             (only when dim' != dim)
//     attention   W · q_w · k_w · dim' · 2     (Q·Kᵀ and P·V)
//     out proj    W · q_w · dim'²
//     MLP         n'² · dim' · 4dim' · 2
//   neck          Σ_levels tokens_l · C_l · d (all 4 laterals) + G²·d·d/8 (conv_s0) + (G/2)²·d·d/4 (conv_s1)
// Decoder, per prompt (T = 6 output tokens + prompt tokens, Ne = e² image tokens, di = d/2, mlp 2048):
//   per two-way layer: self-attn 4·T·d² + 2·T²·d; token->image and image->token cross attention each
//   2·Ne·d·di + 2·T·d·di + 2·T·Ne·di; MLP 2·T·d·mlp; final token->image attention once more;
//   upscaling e²·d·(d/4)·4 + (2e)²·(d/4)·(d/8)·4; hypernetworks 4·(2d² + d²/8); masks 4·(4e)²·(d/8); heads ~3d².
import SAM2RModel

struct ModelMACs {
    var patchEmbed = 0.0
    var stages = [Double](repeating: 0, count: 4)
    var neck = 0.0
    var decoder = 0.0
    var encoderTotal: Double { patchEmbed + stages.reduce(0, +) + neck }

    init(config c: ModelConfig, promptPoints: Int, multimask: Bool) {
        let g = Double(c.patchGrid), d = Double(c.dModel)
        patchEmbed = g * g * Double(c.embedDim) * 147
        let ends = c.stageEnds
        for b in c.blocks {
            let n = b.inSide, no = b.outSide, dim = Double(b.dim), dout = Double(b.dimOut)
            let q = b.qPool ? 2 : 1
            let padded: Double, windows: Double, qw: Double, kw: Double
            if b.window > 0 {
                let p = (n + b.window - 1) / b.window * b.window
                padded = Double(p * p)
                windows = Double((p / b.window) * (p / b.window))
                qw = Double((b.window / q) * (b.window / q))
                kw = Double(b.window * b.window)
            } else {
                padded = Double(n * n); windows = 1; qw = Double(no * no); kw = Double(n * n)
            }
            var m = padded * dim * 3 * dout
            if b.dim != b.dimOut { m += Double(n * n) * dim * dout }
            m += windows * qw * kw * dout * 2
            m += windows * qw * dout * dout
            m += Double(no * no) * dout * 4 * dout * 2
            stages[ends.firstIndex { b.index <= $0 } ?? 3] += m
        }
        let chans = c.blocks.filter(\.stageEnd).map { Double($0.dimOut) }
        for (l, ch) in chans.enumerated() {
            let side = g / Double(1 << l)
            neck += side * side * ch * d
        }
        neck += g * g * d * d / 8 + (g / 2) * (g / 2) * d * d / 4

        let e = Double(c.embedSize), ne = e * e, di = d / Double(c.attentionDownsampleRate)
        let t = Double(c.numMultimaskOutputs + 3 + promptPoints), mlp = Double(c.decoderMLPDim)
        let cross = 2 * ne * d * di + 2 * t * d * di + 2 * t * ne * di
        let layer = 4 * t * d * d + 2 * t * t * d + 2 * cross + 2 * t * d * mlp
        let masks = Double(c.numMultimaskOutputs + 1)
        decoder = Double(c.decoderDepth) * layer + cross
        decoder += ne * d * (d / 4) * 4 + 4 * ne * (d / 4) * (d / 8) * 4
        decoder += masks * (2 * d * d + d * d / 8) + masks * 16 * ne * (d / 8)
        decoder += d * Double(c.iouHeadHiddenDim) + Double(c.iouHeadHiddenDim * c.iouHeadHiddenDim) + 3 * d * d
        _ = multimask  // Meta's decoder computes every mask token either way
    }
}
