// RefinerMR.swift — multi-scale cascaded mask refinement (docs/refiner.md, "MR"): from one mask's
// low-res logits M0 (side L) to refined logits M3 at the model input side S = 4L, fusing the decoder's
// upscaled embedding U, feat_s0, Lloc0 and the normalized input image. Channels-last throughout.
//
// Memory: 1x1 convs run straight on the activations (the s1 input concat is built a tile of pixels at
// a time); 3x3 convs are im2col GEMMs tiled by output rows. s3.reduce runs before up2 instead of after:
// a 1x1 conv and a bilinear up2 (weights summing to 1 at every pixel) commute, so
// up2(reduce(X2)) equals reduce(up2(X2)) up to fp32 rounding, and the S x S x mr_width tensor never exists.

import SAM2REngine
import SAM2RKernels

/// The per-image and per-prompt inputs MR reads (arena buffers, channels-last).
struct RefinerMRInputs {
    /// [L][L][C/8] decoder upscaled embedding.
    let upscaled: Buf
    /// [L][L][C/8].
    let featS0: Buf
    /// [2L][2L][C/8].
    let lloc0: Buf
    /// [S][S][3] normalized model input.
    let image: Buf
}

enum RefinerMR {
    /// Output pixels per tile of the tiled ops.
    static let tilePixels = 4096

    /// M3 [S][S] from M0 [L][L] (`m0` points into the decoder's masks; read only). `index`: which returned
    /// mask this is (the taps of mask j land at offset j x their size).
    static func forward(_ ex: Exec, _ w: RefinerWeights, lowRes l: Int, m0: UnsafePointer<Float>, index: Int = 0,
                        inputs a: RefinerMRInputs, into m3: Buf) throws {
        let wd = w.config.mrWidth, wf = w.config.mrWidthFull
        let l2 = 2 * l, s = 4 * l
        // Stage 1 (L).
        let x1 = try ex.ws.alloc(l * l * wd, "refiner.mr.x1")
        let m1 = try ex.ws.alloc(l * l, "refiner.mr.m1")
        try stage1Input(ex, w, l: l, m0: m0, inputs: a, into: x1)
        try resBlock(ex, w.s1Block, x: x1, side: l, width: wd)
        try ex.linear(x1.p, rows: l * l, w.s1Out, m1.p)
        if !ex.planning {
            try ex.add(m1.p, m0, m1.p, l * l)
            ex.tap("refiner.mr.m1", m1.p, m1.count, offset: index * m1.count)
        }
        // Stage 2 (2L).
        let x2 = try ex.ws.alloc(l2 * l2 * wd, "refiner.mr.x2")
        try up2(ex, x1, side: l, c: wd, into: x2)
        try ex.ws.release(x1)
        try addConv1x1(ex, w.s2Loc, a.lloc0, to: x2, pixels: l2 * l2)
        try resBlock(ex, w.s2Block, x: x2, side: l2, width: wd)
        let m2 = try ex.ws.alloc(l2 * l2, "refiner.mr.m2")
        try up2(ex, m1, side: l, c: 1, into: m2)
        try ex.ws.release(m1)
        try addConv1x1(ex, w.s2Out, x2, to: m2, pixels: l2 * l2)
        ex.tap("refiner.mr.m2", m2.p, m2.count, offset: index * m2.count)
        // Stage 3 (S): X3 = up2(reduce(X2)) + GELU(stem(I)) (see the header for the order).
        let r = try ex.ws.alloc(l2 * l2 * wf, "refiner.mr.reduced")
        try ex.linear(x2.p, rows: l2 * l2, w.s3Reduce, r.p)
        try ex.ws.release(x2)
        let x3 = try ex.ws.alloc(s * s * wf, "refiner.mr.x3")
        try up2(ex, r, side: l2, c: wf, into: x3)
        try ex.ws.release(r)
        try addStem(ex, w, image: a.image, side: s, to: x3)
        try resBlock(ex, w.s3Block, x: x3, side: s, width: wf)
        try up2(ex, m2, side: l2, c: 1, into: m3)
        try ex.ws.release(m2)
        try addConv1x1(ex, w.s3Out, x3, to: m3, pixels: s * s)
        ex.tap("refiner.mr.m3", m3.p, m3.count, offset: index * m3.count)
        try ex.ws.release(x3)
    }

    /// X1 = s1.inp(concat(U, feat_s0, pool2(Lloc0), M0)), a tile of pixels at a time.
    private static func stage1Input(_ ex: Exec, _ w: RefinerWeights, l: Int, m0: UnsafePointer<Float>,
                                    inputs a: RefinerMRInputs, into x1: Buf) throws {
        let c8 = w.dim / 8, k = 3 * c8 + 1, l2 = 2 * l
        let tile = min(l * l, tilePixels)
        let cat = try ex.ws.alloc(tile * k, "refiner.mr.s1.cat")
        if !ex.planning {
            var p0 = 0
            while p0 < l * l {
                let pc = min(tile, l * l - p0)
                for i in 0..<pc {
                    let px = p0 + i, y = px / l, x = px % l
                    let row = cat.p + i * k
                    row.update(from: a.upscaled.p + px * c8, count: c8)
                    (row + c8).update(from: a.featS0.p + px * c8, count: c8)
                    // avg_pool2d 2x2: the window summed row by row, then / 4 (PyTorch's order).
                    let q00 = a.lloc0.p + ((2 * y) * l2 + 2 * x) * c8, q01 = q00 + c8
                    let q10 = q00 + l2 * c8, q11 = q10 + c8
                    for ch in 0..<c8 { row[2 * c8 + ch] = (((q00[ch] + q01[ch]) + q10[ch]) + q11[ch]) / 4 }
                    row[3 * c8] = m0[px]
                }
                try ex.linear(cat.p, rows: pc, w.s1Inp, x1.p + p0 * w.s1Inp.outFeatures)
                p0 += pc
            }
        }
        try ex.ws.release(cat)
    }

    /// x += conv2(GELU(norm(conv1(x)))), 3x3 convs (padding 1) as im2col GEMMs tiled by output rows.
    static func resBlock(_ ex: Exec, _ b: RefinerResBlock, x: Buf, side n: Int, width wd: Int) throws {
        let tileRows = max(1, min(n, tilePixels / n))
        let t = try ex.ws.alloc(n * n * wd, "refiner.mr.block.t")
        let col = try ex.ws.alloc(tileRows * n * 9 * wd, "refiner.mr.block.im2col")
        let y = try ex.ws.alloc(tileRows * n * wd, "refiner.mr.block.y")
        if !ex.planning {
            var shape = conv3x3Shape(side: n, c: wd)
            try conv3x3(ex, &shape, x.p, b.conv1, col: col, out: y, tileRows: tileRows) { oy0, rows, out in
                (t.p + oy0 * n * wd).update(from: out, count: rows * n * wd)
            }
            try ex.layerNorm(t.p, rows: n * n, b.norm, t.p)
            try ex.gelu(t.p, t.count)
            try conv3x3(ex, &shape, t.p, b.conv2, col: col, out: y, tileRows: tileRows) { oy0, rows, out in
                let dst = x.p + oy0 * n * wd
                try ex.add(dst, out, dst, rows * n * wd)
            }
        }
        try ex.ws.release(y)
        try ex.ws.release(col)
        try ex.ws.release(t)
    }

    private static func conv3x3Shape(side n: Int, c: Int) -> sam2r_conv2d_shape {
        var shape = sam2r_conv2d_shape(h: Int32(n), w: Int32(n), c: Int32(c), kh: 3, kw: 3, stride_h: 1, stride_w: 1,
                                       pad_h: 1, pad_w: 1, out_h: 0, out_w: 0)
        _ = sam2r_conv2d_shape_init(&shape)
        return shape
    }

    /// Runs a 3x3 conv over `x` a tile of output rows at a time; `sink(oy0, rows, out)` consumes each
    /// tile's output (rows x side x out channels, in `out`).
    private static func conv3x3(_ ex: Exec, _ shape: inout sam2r_conv2d_shape, _ x: UnsafePointer<Float>, _ conv: Linear,
                                col: Buf, out scratch: Buf, tileRows: Int,
                                _ sink: (Int, Int, UnsafeMutablePointer<Float>) throws -> Void) throws {
        let n = Int(shape.out_h), k = conv.inFeatures
        var oy0 = 0
        while oy0 < n {
            let oy1 = min(n, oy0 + tileRows)
            sam2r_im2col_f32(&shape, x, Int32(oy0), Int32(oy1), col.p, Int32(k))
            try ex.linear(col.p, rows: (oy1 - oy0) * n, conv, scratch.p)
            try sink(oy0, oy1 - oy0, scratch.p)
            oy0 = oy1
        }
    }

    /// X3 += GELU(s3.stem(I)), the 3x3 stem as a tiled im2col GEMM.
    private static func addStem(_ ex: Exec, _ w: RefinerWeights, image: Buf, side s: Int, to x3: Buf) throws {
        let wf = w.s3Stem.outFeatures
        let tileRows = max(1, min(s, tilePixels / s))
        let col = try ex.ws.alloc(tileRows * s * 27, "refiner.mr.stem.im2col")
        let y = try ex.ws.alloc(tileRows * s * wf, "refiner.mr.stem.y")
        if !ex.planning {
            var shape = conv3x3Shape(side: s, c: 3)
            try conv3x3(ex, &shape, image.p, w.s3Stem, col: col, out: y, tileRows: tileRows) { oy0, rows, out in
                let count = rows * s * wf
                try ex.gelu(out, count)
                let dst = x3.p + oy0 * s * wf
                try ex.add(dst, out, dst, count)
            }
        }
        try ex.ws.release(y)
        try ex.ws.release(col)
    }

    /// dst += conv(src) for a 1x1 conv, a tile of pixels at a time.
    private static func addConv1x1(_ ex: Exec, _ conv: Linear, _ src: Buf, to dst: Buf, pixels: Int) throws {
        let n = conv.outFeatures, k = conv.inFeatures
        let tile = min(pixels, tilePixels)
        let y = try ex.ws.alloc(tile * n, "refiner.mr.conv1x1")
        if !ex.planning {
            var p0 = 0
            while p0 < pixels {
                let pc = min(tile, pixels - p0)
                try ex.linear(src.p + p0 * k, rows: pc, conv, y.p)
                try ex.add(dst.p + p0 * n, y.p, dst.p + p0 * n, pc * n)
                p0 += pc
            }
        }
        try ex.ws.release(y)
    }

    /// Bilinear x2 (align_corners False, no antialias) of a [side][side][c] map.
    private static func up2(_ ex: Exec, _ x: Buf, side n: Int, c: Int, into y: Buf) throws {
        let scratch = try ex.ws.alloc(Exec.resizeScratchFloats(SAM2R_RESIZE_BILINEAR, inH: n, inW: n,
                                                               outH: 2 * n, outW: 2 * n, c: c), "refiner.mr.up2.scratch")
        ex.resize(SAM2R_RESIZE_BILINEAR, x.p, inH: n, inW: n, c: c, y.p, outH: 2 * n, outW: 2 * n, scratch: scratch)
        try ex.ws.release(scratch)
    }
}
