// ImageEncoder.swift — Hiera trunk + FPN neck + the decoder's conv_s0/conv_s1 (SAM2Base.forward_image
// followed by the predictor's no_mem_embed), channels-last throughout.
//
// Memory: the patch-embed im2col is tiled by output rows; windowed attention runs a group of windows
// at a time (gather + LayerNorm + zero padding, qkv, optional q max-pool, flash attention, proj,
// scatter-add); global attention goes through the flash kernel; MLPs and the shortcut projection are
// tiled by rows. Blocks that keep their shape update x in place.

import SAM2REngine
import SAM2RKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct HieraBlockWeights {
    let geo: ModelConfig.Block
    let norm1: Norm
    let norm2: Norm
    let qkv: Linear
    let proj: Linear
    let shortcut: Linear?
    let fc1: Linear
    let fc2: Linear

    init(_ src: WeightSource, _ p: String, _ b: ModelConfig.Block) throws {
        geo = b
        norm1 = try Norm(src, p + ".norm1", dim: b.dim, eps: 1e-6)
        norm2 = try Norm(src, p + ".norm2", dim: b.dimOut, eps: 1e-6)
        qkv = try Linear(src, p + ".attn.qkv", out: 3 * b.dimOut, in: b.dim)
        proj = try Linear(src, p + ".attn.proj", out: b.dimOut, in: b.dimOut)
        shortcut = b.dim != b.dimOut ? try Linear(src, p + ".proj", out: b.dimOut, in: b.dim) : nil
        fc1 = try Linear(src, p + ".mlp.layers.0", out: 4 * b.dimOut, in: b.dimOut)
        fc2 = try Linear(src, p + ".mlp.layers.1", out: b.dimOut, in: 4 * b.dimOut)
    }
}

struct ImageEncoderWeights {
    let config: ModelConfig
    let patch: Linear
    /// pos_embed [bk0][bk1][C] and pos_embed_window [w0][w0][C], channels-last. The [G][G][C] sum
    /// bicubic(pos_embed -> G) + tiled window is built in the arena at each patch embed instead of being
    /// kept: 25 MB of resident memory for tiny at 1024² against a few ms per setImage.
    let posEmbedBkg: [Float]
    let posEmbedWindow: [Float]
    let blocks: [HieraBlockWeights]
    /// Lateral 1x1 convs by level (0 = highest resolution): neck.convs.{3 - level}.
    let lateral: [Linear]
    let convS0: Linear
    let convS1: Linear
    let noMemEmbed: [Float]

    init(_ src: WeightSource, _ cfg: ModelConfig) throws {
        config = cfg
        let t = "image_encoder.trunk."
        let c = cfg.embedDim
        patch = try Linear(conv: src, t + "patch_embed.proj", out: c, in: 3, kernel: 7)
        // Position embedding: NCHW -> channels-last, bicubic to G x G, + tiled window embedding.
        let bk = cfg.windowPosEmbedBkgSpatialSize
        let pe = try src.load(t + "pos_embed", [1, c, bk[0], bk[1]])
        let w0 = cfg.windowSpec[0]
        let pw = try src.load(t + "pos_embed_window", [1, c, w0, w0])
        var peHWC = [Float](repeating: 0, count: pe.count)
        for ch in 0..<c { for i in 0..<(bk[0] * bk[1]) { peHWC[i * c + ch] = pe[ch * bk[0] * bk[1] + i] } }
        var pwHWC = [Float](repeating: 0, count: pw.count)
        for ch in 0..<c { for i in 0..<(w0 * w0) { pwHWC[i * c + ch] = pw[ch * w0 * w0 + i] } }
        posEmbedBkg = peHWC
        posEmbedWindow = pwHWC
        blocks = try cfg.blocks.map { try HieraBlockWeights(src, t + "blocks.\($0.index)", $0) }
        let d = cfg.dModel
        lateral = try (0..<4).map { level in
            try Linear(conv: src, "image_encoder.neck.convs.\(3 - level).conv", out: d,
                       in: cfg.backboneChannelList[3 - level], kernel: 1)
        }
        convS0 = try Linear(conv: src, "sam_mask_decoder.conv_s0", out: d / 8, in: d, kernel: 1)
        convS1 = try Linear(conv: src, "sam_mask_decoder.conv_s1", out: d / 4, in: d, kernel: 1)
        noMemEmbed = try src.load("no_mem_embed", [1, 1, d])
    }
}

/// The cached per-image features (persistent arena buffers), channels-last.
struct ImageFeatures {
    /// [e][e][d]: neck level 2 + no_mem_embed.
    let imageEmbed: Buf
    /// [2e][2e][d/4]: conv_s1(level 1).
    let featS1: Buf
    /// [4e][4e][d/8]: conv_s0(level 0).
    let featS0: Buf
    /// [2e][2e][d]: where FPN level 1 (before conv_s1) is kept when the refiner needs it (Lloc2); nil: not kept.
    var fpn1: Buf? = nil
    /// false: the image embedding is FPN level 2 alone (the refiner's quadrant views).
    var addNoMemEmbed = true
    /// featS1 and featS0 hold IEEE binary16 (rounded to nearest even once, at setImage; the buffers' floats
    /// hold two values each): the decoder tail reads them once per prompt as a 12 MB fp32 stream at SAM2's
    /// shape, which this halves. Set by the predictor for int8 models without a refiner (the refiner's mask
    /// refinement reads feat_s0 as fp32), as is the binary16 dense PE (DensePE).
    var skipHalf = false

    /// feat_s1 / feat_s0 as the decoder tail reads them.
    var skipS1: AddedRows { AddedRows(featS1, half: skipHalf) }
    var skipS0: AddedRows { AddedRows(featS0, half: skipHalf) }

    /// Floats a skip-feature buffer of `values` values takes.
    static func skipFloats(_ values: Int, half: Bool) -> Int { half ? (values + 1) / 2 : values }
}

enum ImageEncoder {
    /// Rows per tile of row-tiled ops (MLP, shortcut, lateral convs).
    static let rowTile = 1024
    /// Target query+key rows per window group.
    static let windowGroupRows = 1024
    /// The global-attention blocks of an int8 trunk (qkv in int8) run int8 Q·Kᵀ and P·V
    /// (Kernels/include/sam2r_attention_s8.h: per-token Q/K, per-channel V, 7-bit P; docs/numerics.md):
    /// 1.8× the fp32 kernel on AVX-512 VNNI, image-embedding SQNR 30.463 vs 30.466 dB with fp32 there (docs/eval.md).
    /// Windowed blocks keep fp32 attention (3 of the trunk's 42 attention GMAC).
    /// SAM2R_ATTENTION_FP32 set: fp32 there too (A/B of speed and accuracy).
    static let fp32GlobalAttention = getenv("SAM2R_ATTENTION_FP32") != nil

    /// Patch embed + pos embed: `img` [S][S][3] -> x [G][G][C].
    static func patchEmbed(_ ex: Exec, _ w: ImageEncoderWeights, img: Buf) throws -> Buf {
        let cfg = w.config, s = cfg.imageSize, g = cfg.patchGrid, c = cfg.embedDim
        var shape = sam2r_conv2d_shape(h: Int32(s), w: Int32(s), c: 3, kh: 7, kw: 7, stride_h: 4, stride_w: 4,
                                       pad_h: 3, pad_w: 3, out_h: 0, out_w: 0)
        guard sam2r_conv2d_shape_init(&shape) == 0, Int(shape.out_h) == g else {
            throw ModelError.invalidConfig(field: "image_size", reason: "patch embed output is not S/4")
        }
        // x starts as the position embedding; each row tile of the patch conv is added to it (conv + pos,
        // the same sum as before: addition commutes exactly), so no second G x G x C buffer is live.
        let x = try ex.ws.alloc(g * g * c, "trunk.x0")
        try posEmbed(ex, w, into: x)
        let tileRows = max(1, min(g, 4096 / g))
        let col = try ex.ws.alloc(tileRows * g * 147, "patch.im2col")
        let tile = try ex.ws.alloc(tileRows * g * c, "patch.tile")
        if !ex.planning {
            var oy0 = 0
            while oy0 < g {
                let oy1 = min(g, oy0 + tileRows), n = (oy1 - oy0) * g * c
                sam2r_im2col_f32(&shape, img.p, Int32(oy0), Int32(oy1), col.p, 147)
                try ex.linear(col.p, rows: (oy1 - oy0) * g, w.patch, tile.p)
                ex.tap("trunk.patch_embed", tile.p, n, offset: oy0 * g * c)
                try ex.add(x.p + oy0 * g * c, tile.p, x.p + oy0 * g * c, n)
                oy0 = oy1
            }
            ex.tap("trunk.pos_added", x.p, x.count)
        }
        try ex.ws.release(tile)
        try ex.ws.release(col)
        return x
    }

    /// pos [G][G][C] = bicubic(pos_embed -> G) + pos_embed_window tiled (w0 x w0 period).
    static func posEmbed(_ ex: Exec, _ w: ImageEncoderWeights, into pos: Buf) throws {
        let cfg = w.config, g = cfg.patchGrid, c = cfg.embedDim
        let bk = cfg.windowPosEmbedBkgSpatialSize, w0 = cfg.windowSpec[0]
        let scratch = try ex.ws.alloc(Exec.resizeScratchFloats(SAM2R_RESIZE_BICUBIC, inH: bk[0], inW: bk[1], outH: g,
                                                               outW: g, c: c), "trunk.pos_embed.scratch")
        if !ex.planning {
            w.posEmbedBkg.withUnsafeBufferPointer {
                ex.resize(SAM2R_RESIZE_BICUBIC, $0.baseAddress!, inH: bk[0], inW: bk[1], c: c, pos.p, outH: g, outW: g,
                          scratch: scratch)
            }
            // Row y, columns x0 ..< x0 + w0 read window row y % w0: w0 * c contiguous floats on both sides.
            try w.posEmbedWindow.withUnsafeBufferPointer { pw in
                for y in 0..<g {
                    let wr = pw.baseAddress! + (y % w0) * w0 * c
                    for x0 in stride(from: 0, to: g, by: w0) {
                        let n = min(w0, g - x0) * c, dst = pos.p + (y * g + x0) * c
                        try ex.add(dst, wr, dst, n)
                    }
                }
            }
        }
        try ex.ws.release(scratch)
    }

    /// One Hiera block. Returns x itself (updated in place) unless the block pools.
    static func block(_ ex: Exec, _ bw: HieraBlockWeights, x: Buf) throws -> Buf {
        let b = bw.geo
        let h = b.inSide, c = b.dim, d = b.dimOut, ho = b.outSide
        let pooled = b.qPool
        // Shortcut.
        let y: Buf
        if let sp = bw.shortcut {
            y = try ex.ws.alloc(ho * ho * d, "block\(b.index).y")
            let t = try ex.ws.alloc(2 * h * c, "block\(b.index).sc.norm")
            let u = try ex.ws.alloc(2 * h * d, "block\(b.index).sc.proj")
            if !ex.planning {
                for r in 0..<ho {
                    try ex.layerNormLinear(x.p + 2 * r * h * c, rows: 2 * h, bw.norm1, sp, u.p, via: t.p)
                    try ex.rowops.maxPool2x2(x: u.r, y: UnsafeMutableBufferPointer(start: y.p + r * ho * d, count: ho * d),
                                             height: 2, width: h, channels: d)
                }
            }
            try ex.ws.release(u)
            try ex.ws.release(t)
        } else {
            y = x
        }
        // Attention, a group of windows at a time.
        let win = b.window > 0 ? b.window : h
        let nwx = (h + win - 1) / win, nwin = nwx * nwx
        let n = win * win
        let winOut = pooled ? win / 2 : win
        let nq = winOut * winOut
        let group = max(1, min(nwin, windowGroupRows / n))
        let heads = b.heads, hd = b.headDim
        let gather = try ex.ws.alloc(group * n * c, "block\(b.index).windows")
        let qkv = try ex.ws.alloc(group * n * 3 * d, "block\(b.index).qkv")
        let qp = pooled ? try ex.ws.alloc(group * nq * d, "block\(b.index).qpool") : nil
        let o = try ex.ws.alloc(group * nq * d, "block\(b.index).attn")
        let pr = try ex.ws.alloc(group * nq * d, "block\(b.index).proj")
        let int8Attention = b.window == 0 && bw.qkv.int8 != nil && !ImageEncoder.fp32GlobalAttention
        let scratch = try ex.ws.alloc(ex.attentionScratchFloats(dk: hd, dv: hd, int8Keys: int8Attention ? n : nil),
                                      "block\(b.index).attn.scratch")
        if !ex.planning {
            var g0 = 0
            while g0 < nwin {
                let gc = min(group, nwin - g0)
                try windowNormQKV(ex, bw, x: x, side: h, window: win, firstWindow: g0, windows: gc, gather: gather,
                                  into: qkv)
                if let qp {
                    // q max-pooled 2x2 inside each window (columns 0..<d of qkv).
                    try ex.rowops.windowMaxPool2x2(x: UnsafeBufferPointer(start: qkv.p, count: (gc * n - 1) * 3 * d + d),
                                                   ldx: 3 * d, window: win, windows: gc, cols: d,
                                                   y: UnsafeMutableBufferPointer(start: qp.p, count: gc * nq * d),
                                                   pool: ex.pool)
                }
                let qBase = qp?.p ?? qkv.p
                ex.attention(batch: gc, heads: heads, nq: nq, nk: n, dk: hd, dv: hd,
                             q: qBase, ldq: pooled ? d : 3 * d, qStride: pooled ? nq * d : n * 3 * d,
                             k: qkv.p + d, ldk: 3 * d, kStride: n * 3 * d,
                             v: qkv.p + 2 * d, ldv: 3 * d, vStride: n * 3 * d,
                             o: o.p, ldo: d, oStride: nq * d, int8: int8Attention, scratch: scratch)
                try ex.linear(o.p, rows: gc * nq, bw.proj, pr.p)
                // Un-partition (crop the padding) and add to the shortcut.
                try ex.rowops.windowAdd(y: UnsafeMutableBufferPointer(start: y.p, count: ho * ho * d), side: ho, cols: d,
                                        window: winOut, windowsPerRow: nwx, firstWindow: g0, windows: gc,
                                        x: UnsafeBufferPointer(start: pr.p, count: gc * nq * d), pool: ex.pool)
                g0 += gc
            }
        }
        try ex.ws.release(scratch)
        try ex.ws.release(pr)
        try ex.ws.release(o)
        if let qp { try ex.ws.release(qp) }
        try ex.ws.release(qkv)
        try ex.ws.release(gather)
        // MLP, tiled by rows.
        let rows = ho * ho, tile = min(rows, rowTile)
        let t = try ex.ws.alloc(tile * d, "block\(b.index).mlp.in")
        let hid = try ex.ws.alloc(tile * 4 * d, "block\(b.index).mlp.hidden")
        if !ex.planning {
            var r0 = 0
            while r0 < rows {
                let rc = min(tile, rows - r0)
                let yr = y.p + r0 * d
                try ex.layerNormLinear(yr, rows: rc, bw.norm2, bw.fc1, hid.p, via: t.p)
                try ex.geluLinear(hid.p, rows: rc, bw.fc2, t.p)
                try ex.add(yr, t.p, yr, rc * d)
                r0 += rc
            }
            ex.tap("trunk.block.\(b.index)", y.p, y.count)
        }
        try ex.ws.release(hid)
        try ex.ws.release(t)
        return y
    }

    /// qkv of windows [firstWindow, firstWindow + windows): window partition + LayerNorm (norm1), padding
    /// tokens (past the image edge, after the norm) zero. An int8 qkv gets the partitioned, normalized
    /// tokens quantized in one pass over x (no fp32 gather); otherwise they are gathered into `gather`.
    static func windowNormQKV(_ ex: Exec, _ bw: HieraBlockWeights, x: Buf, side h: Int, window win: Int,
                              firstWindow g0: Int, windows gc: Int, gather: Buf, into qkv: Buf) throws {
        let c = bw.geo.dim, n = win * win, nwx = (h + win - 1) / win
        if c <= RowOps.fusedMaxCols, case let (q, a)? = try ex.fusedInput(bw.qkv, rows: gc * n) {
            try bw.norm1.gamma.withUnsafeBufferPointer { g in
                try bw.norm1.beta.withUnsafeBufferPointer { b in
                    try ex.rowops.windowLayerNormQuantize(x: UnsafeBufferPointer(start: x.p, count: h * h * c), side: h,
                                                          cols: c, window: win, firstWindow: g0, windows: gc, gamma: g,
                                                          beta: b, eps: bw.norm1.eps, y: a,
                                                          inverseScale: q.inverseScale, zeroPoint: q.zeroPoint,
                                                          pool: ex.pool)
                }
            }
            return try ex.linear(quantized: a, rows: gc * n, bw.qkv, q, qkv.p)
        }
        for i in 0..<gc {
            let wy = (g0 + i) / nwx, wx = (g0 + i) % nwx
            let gx0 = wx * win, valid = max(0, min(win, h - gx0))
            for ty in 0..<win {
                let dst = gather.p + (i * n + ty * win) * c
                let gy = wy * win + ty
                if gy < h && valid > 0 {
                    try ex.layerNorm(x.p + (gy * h + gx0) * c, rows: valid, bw.norm1, dst)
                    if valid < win { (dst + valid * c).update(repeating: 0, count: (win - valid) * c) }
                } else {
                    dst.update(repeating: 0, count: win * c)
                }
            }
        }
        try ex.linear(gather.p, rows: gc * n, bw.qkv, qkv.p)
    }

    /// Trunk, neck, conv_s0/s1 and no_mem_embed: from the preprocessed `img` [S][S][3] into `out`.
    /// Levels 0 and 1 of the FPN are lateral-only, so they (and conv_s0/conv_s1) run as soon as their
    /// stage ends and the stage output is released early: the 4x-stride activations never coexist
    /// with the deep stages.
    static func forward(_ ex: Exec, _ w: ImageEncoderWeights, img: Buf, into out: ImageFeatures) throws {
        var x = try patchEmbed(ex, w, img: img)
        try ex.ws.release(img)
        var stageOut = StageOutputs()
        var pendingRelease: Buf? = nil
        for bw in w.blocks {
            let y = try block(ex, bw, x: x)
            if let r = pendingRelease, r.id == x.id, y.id != x.id {
                try ex.ws.release(r)
                pendingRelease = nil
            }
            if y.id != x.id && !(stageOut.last.map { $0.id == x.id } ?? false) { try ex.ws.release(x) }
            x = y
            if bw.geo.stageEnd {
                stageOut.append(x)
                let level = stageOut.count - 1
                if level < 2 {
                    try lateralOnlyLevel(ex, w, level: level, stage: x, into: level == 1 ? out.featS1 : out.featS0,
                                         half: out.skipHalf, keepLateral: level == 1 ? out.fpn1 : nil)
                    // The next (pooling) block still reads this stage output; release it after that block.
                    pendingRelease = x
                }
            }
        }
        try neck(ex, w, stages: stageOut, into: out)
    }

    static func neck(_ ex: Exec, _ w: ImageEncoderWeights, stages s: StageOutputs, into out: ImageFeatures) throws {
        let cfg = w.config, d = cfg.dModel, g = cfg.patchGrid
        let side2 = g / 4, side3 = g / 8
        // Level 3 (top-down only, dropped by scalp).
        let lat3 = try ex.ws.alloc(side3 * side3 * d, "neck.lateral.3")
        try ex.linear(s[3].p, rows: side3 * side3, w.lateral[3], lat3.p)
        ex.tap("neck.fpn.3", lat3.p, lat3.count)
        try ex.ws.release(s[3])
        // Level 2 = lateral + nearest x2 (level 3) -> image embedding (+ no_mem_embed).
        let e = side2, emb = out.imageEmbed
        try ex.linear(s[2].p, rows: e * e, w.lateral[2], emb.p)
        if !ex.planning {
            ex.tap("neck.lateral.2", emb.p, emb.count)
            for yy in 0..<e {
                for xx in 0..<e {
                    let dst = emb.p + (yy * e + xx) * d
                    try ex.add(dst, lat3.p + ((yy / 2) * side3 + xx / 2) * d, dst, d)
                }
            }
            ex.tap("neck.fpn.2", emb.p, emb.count)
            if out.addNoMemEmbed {
                try w.noMemEmbed.withUnsafeBufferPointer { nm in
                    for r in 0..<(e * e) { try ex.add(emb.p + r * d, nm.baseAddress!, emb.p + r * d, d) }
                }
                ex.tap("image_embed", emb.p, emb.count)
            }
        }
        try ex.ws.release(lat3)
        try ex.ws.release(s[2])
    }

    /// FPN level 0 or 1 (lateral 1x1 conv only), then conv_s0 / conv_s1, tiled by rows.
    static func lateralOnlyLevel(_ ex: Exec, _ w: ImageEncoderWeights, level: Int, stage: Buf, into dst: Buf,
                                 half: Bool = false, keepLateral: Buf? = nil) throws {
        let d = w.config.dModel, side = w.config.patchGrid >> level
        let conv = level == 1 ? w.convS1 : w.convS0
        let rows = side * side, tile = min(rows, rowTile), cin = stage.count / rows
        let t = try ex.ws.alloc(tile * d, "neck.lateral.\(level)")
        let co = conv.outFeatures, name = level == 1 ? "feat_s1" : "feat_s0"
        // binary16 storage (ImageFeatures.skipHalf): each tile through fp32, rounded into dst
        let wide = half ? try ex.ws.alloc(tile * co, "neck.conv_s.\(level)") : nil
        if !ex.planning {
            var r0 = 0
            while r0 < rows {
                let rc = min(tile, rows - r0)
                let lat = keepLateral.map { $0.p + r0 * d } ?? t.p
                try ex.linear(stage.p + r0 * cin, rows: rc, w.lateral[level], lat)
                ex.tap("neck.fpn.\(level)", lat, rc * d, offset: r0 * d)
                if let wide {
                    try ex.linear(lat, rows: rc, conv, wide.p)
                    let bits = UnsafeMutableRawPointer(dst.p).assumingMemoryBound(to: UInt16.self) + r0 * co
                    sam2r_f32_to_f16_n(ex.rowops.table.pointee.isa, wide.p, bits, rc * co)
                    if ex.observer != nil {
                        sam2r_f16_to_f32_n(ex.rowops.table.pointee.isa, bits, wide.p, rc * co)
                        ex.tap(name, wide.p, rc * co, offset: r0 * co)
                    }
                } else {
                    try ex.linear(lat, rows: rc, conv, dst.p + r0 * co)
                }
                r0 += rc
            }
            if wide == nil { ex.tap(name, dst.p, dst.count) }
        }
        if let wide { try ex.ws.release(wide) }
        try ex.ws.release(t)
    }
}

/// The outputs of the trunk's four stages, in a fixed-size value (a forward allocates nothing on the heap).
struct StageOutputs {
    private var bufs: (Buf?, Buf?, Buf?, Buf?) = (nil, nil, nil, nil)
    private(set) var count = 0

    var last: Buf? { count == 0 ? nil : self[count - 1] }

    subscript(i: Int) -> Buf {
        switch i {
        case 0: return bufs.0!
        case 1: return bufs.1!
        case 2: return bufs.2!
        default: return bufs.3!
        }
    }

    mutating func append(_ b: Buf) {
        switch count {
        case 0: bufs.0 = b
        case 1: bufs.1 = b
        case 2: bufs.2 = b
        case 3: bufs.3 = b
        default: preconditionFailure("Hiera has four stages")
        }
        count += 1
    }
}
