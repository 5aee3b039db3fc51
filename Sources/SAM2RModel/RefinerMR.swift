// RefinerMR.swift — multi-scale cascaded mask refinement (docs/refiner.md, "MR"): from one mask's
// low-res logits M0 (side L) to refined logits M3 at the model input side S = 4L, fusing the decoder's
// upscaled embedding U, feat_s0, Lloc0 and the normalized input image. Channels-last throughout.
//
// Memory: every ResBlock runs a band of output rows at a time (RefinerBands.swift), so of the stage
// activations only X1' (side L) and R (side 2L, mr_width_full channels) ever exist whole: stage 2's X2 and
// stage 3's X3 are generated band by band (with a 2-row halo) from their inputs and their block outputs
// go straight into M2 / R / M3. s3.reduce runs before up2 instead of after: a 1x1 conv and a bilinear up2
// (weights summing to 1 at every pixel) commute, so up2(reduce(X2)) equals reduce(up2(X2)) up to fp32
// rounding and the S x S x mr_width tensor never exists.

import SAM2REngine
import SAM2RKernels

/// The per-image and per-prompt inputs MR reads (arena buffers, channels-last).
struct RefinerMRInputs {
    /// [L][L][C/8] decoder upscaled embedding.
    let upscaled: Buf
    /// [L][L][C/8].
    let featS0: Buf
    /// [2L][2L][C/8] stored Lloc0; nil: up2(featS0), computed a band of rows at a time.
    let lloc0: Buf?
    /// [S][S][3] normalized model input.
    let image: Buf
}

enum RefinerMR {
    /// M3 [S][S] from M0 [L][L] (`m0` points into the decoder's masks; read only). `index`: which returned
    /// mask this is (the taps of mask j land at offset j x their size).
    static func forward(_ ex: Exec, _ w: RefinerWeights, lowRes l: Int, m0: UnsafePointer<Float>, index: Int = 0,
                        inputs a: RefinerMRInputs, into m3: Buf) throws {
        let wd = w.config.mrWidth, wf = w.config.mrWidthFull, c8 = w.dim / 8
        let l2 = 2 * l, s = 4 * l
        let band2 = RefinerBands.bandRows(l2)
        let lloc0 = try Lloc0Rows(ex, a, side: l2, c: c8, maxRows: max(2 * RefinerBands.tileRows(l), band2 + 4))
        // Stage 1 (L): X1' = block(s1.inp(concat)), M1 = M0 + s1.out(X1').
        let x1 = try ex.ws.alloc(l * l * wd, "refiner.mr.x1")
        try stage1Input(ex, w, l: l, m0: m0, inputs: a, lloc0: lloc0, into: x1)
        let x1b = try ex.ws.alloc(l * l * wd, "refiner.mr.x1.block")
        let m1 = try ex.ws.alloc(l * l, "refiner.mr.m1")
        let o1 = try ex.ws.alloc(RefinerBands.bandRows(l) * l, "refiner.mr.s1.out")
        try RefinerBands.resBlock(ex, w.s1Block, side: l, width: wd, input: { r0, r1, dst in
            dst.update(from: x1.p + r0 * l * wd, count: (r1 - r0) * l * wd)
        }, sink: { r0, rows, y in
            (x1b.p + r0 * l * wd).update(from: y, count: rows * l * wd)
            try ex.linear(y, rows: rows * l, w.s1Out, o1.p)
            try ex.add(m0 + r0 * l, o1.p, m1.p + r0 * l, rows * l)
        })
        try ex.ws.release(o1)
        try ex.ws.release(x1)
        ex.tap("refiner.mr.m1", m1.p, m1.count, offset: index * m1.count)
        // Stage 2 (2L): X2 = up2(X1') + s2.loc(Lloc0) band by band; M2 = up2(M1) + s2.out(X2'), R = s3.reduce(X2').
        let m2 = try ex.ws.alloc(l2 * l2, "refiner.mr.m2")
        try RefinerBands.up2(ex, m1, side: l, c: 1, into: m2)
        try ex.ws.release(m1)
        let r = try ex.ws.alloc(l2 * l2 * wf, "refiner.mr.reduced")
        let up1 = try RefinerBands.Up2Rows(ex, side: l, c: wd, maxRows: band2 + 4, name: "refiner.mr.x2.up")
        let loc = try ex.ws.alloc(min(l2, band2 + 4) * l2 * wd, "refiner.mr.s2.loc")
        let o2 = try ex.ws.alloc(band2 * l2, "refiner.mr.s2.out")
        try RefinerBands.resBlock(ex, w.s2Block, side: l2, width: wd, input: { r0, r1, dst in
            try up1.rows(ex, x1b.p, r0, r1, into: dst)
            let l0 = try lloc0.rows(ex, r0, r1)
            ex.tap("refiner.lloc0", l0, (r1 - r0) * l2 * c8, offset: r0 * l2 * c8)
            try ex.linear(l0, rows: (r1 - r0) * l2, w.s2Loc, loc.p)
            try ex.add(dst, loc.p, dst, (r1 - r0) * l2 * wd)
        }, sink: { r0, rows, y in
            try ex.linear(y, rows: rows * l2, w.s2Out, o2.p)
            try ex.add(m2.p + r0 * l2, o2.p, m2.p + r0 * l2, rows * l2)
            try ex.linear(y, rows: rows * l2, w.s3Reduce, r.p + r0 * l2 * wf)
        })
        try ex.ws.release(o2)
        try ex.ws.release(loc)
        try up1.release(ex)
        try ex.ws.release(x1b)
        try lloc0.release(ex)
        ex.tap("refiner.mr.m2", m2.p, m2.count, offset: index * m2.count)
        // Stage 3 (S): X3 = up2(R) + GELU(s3.stem(I)) band by band; M3 = up2(M2) + s3.out(X3').
        try RefinerBands.up2(ex, m2, side: l2, c: 1, into: m3)
        try ex.ws.release(m2)
        let band3 = RefinerBands.bandRows(s)
        let upR = try RefinerBands.Up2Rows(ex, side: l2, c: wf, maxRows: band3 + 4, name: "refiner.mr.x3.up")
        let stem = try ex.ws.alloc(min(s, band3 + 4) * s * wf, "refiner.mr.stem")
        let stemCol = try ex.ws.alloc(RefinerBands.tileRows(s) * s * 27, "refiner.mr.stem.im2col")
        let o3 = try ex.ws.alloc(band3 * s, "refiner.mr.s3.out")
        try RefinerBands.resBlock(ex, w.s3Block, side: s, width: wf, input: { r0, r1, dst in
            try upR.rows(ex, r.p, r0, r1, into: dst)
            try RefinerBands.conv3x3(ex, w.s3Stem, a.image.p, height: s, width: s, channels: 3, outRows: r0..<r1,
                                     col: stemCol, into: stem.p)
            try ex.gelu(stem.p, (r1 - r0) * s * wf)
            try ex.add(dst, stem.p, dst, (r1 - r0) * s * wf)
        }, sink: { r0, rows, y in
            try ex.linear(y, rows: rows * s, w.s3Out, o3.p)
            try ex.add(m3.p + r0 * s, o3.p, m3.p + r0 * s, rows * s)
        })
        try ex.ws.release(o3)
        try ex.ws.release(stemCol)
        try ex.ws.release(stem)
        try upR.release(ex)
        try ex.ws.release(r)
        ex.tap("refiner.mr.m3", m3.p, m3.count, offset: index * m3.count)
    }

    /// X1 = s1.inp(concat(U, feat_s0, pool2(Lloc0), M0)), a tile of pixels at a time.
    /// X1 = s1.inp(concat(U, feat_s0, pool2(Lloc0), M0)), a tile of rows at a time.
    private static func stage1Input(_ ex: Exec, _ w: RefinerWeights, l: Int, m0: UnsafePointer<Float>,
                                    inputs a: RefinerMRInputs, lloc0: Lloc0Rows, into x1: Buf) throws {
        let c8 = w.dim / 8, k = 3 * c8 + 1, l2 = 2 * l
        let tileRows = RefinerBands.tileRows(l)
        let cat = try ex.ws.alloc(tileRows * l * k, "refiner.mr.s1.cat")
        if !ex.planning {
            var y0 = 0
            while y0 < l {
                let y1 = min(l, y0 + tileRows)
                let l0 = try lloc0.rows(ex, 2 * y0, 2 * y1)
                for y in y0..<y1 {
                    for x in 0..<l {
                        let px = y * l + x
                        let row = cat.p + (px - y0 * l) * k
                        row.update(from: a.upscaled.p + px * c8, count: c8)
                        (row + c8).update(from: a.featS0.p + px * c8, count: c8)
                        // avg_pool2d 2x2: the window summed row by row, then / 4 (PyTorch's order).
                        let q00 = l0 + ((2 * (y - y0)) * l2 + 2 * x) * c8, q01 = q00 + c8
                        let q10 = q00 + l2 * c8, q11 = q10 + c8
                        for ch in 0..<c8 { row[2 * c8 + ch] = (((q00[ch] + q01[ch]) + q10[ch]) + q11[ch]) / 4 }
                        row[3 * c8] = m0[px]
                    }
                }
                try ex.linear(cat.p, rows: (y1 - y0) * l, w.s1Inp, x1.p + y0 * l * w.s1Inp.outFeatures)
                y0 = y1
            }
        }
        try ex.ws.release(cat)
    }

    /// Rows of Lloc0: a pointer into the stored map, or (local_views 0) up2(feat_s0) rows computed into a
    /// planned buffer of `maxRows` rows.
    struct Lloc0Rows {
        let stored: Buf?
        let featS0: Buf
        let side: Int, c: Int
        let up: RefinerBands.Up2Rows?
        let buf: Buf?

        init(_ ex: Exec, _ a: RefinerMRInputs, side n: Int, c: Int, maxRows: Int) throws {
            stored = a.lloc0
            featS0 = a.featS0
            side = n
            self.c = c
            if stored == nil {
                up = try RefinerBands.Up2Rows(ex, side: n / 2, c: c, maxRows: maxRows, name: "refiner.mr.lloc0.up")
                buf = try ex.ws.alloc(min(n, maxRows) * n * c, "refiner.mr.lloc0.rows")
            } else {
                up = nil
                buf = nil
            }
        }

        /// Rows [r0, r1) of Lloc0 (valid until the next call).
        func rows(_ ex: Exec, _ r0: Int, _ r1: Int) throws -> UnsafePointer<Float> {
            if let stored { return UnsafePointer(stored.p + r0 * side * c) }
            precondition((r1 - r0) * side * c <= buf!.count, "Lloc0 band larger than planned")
            try up!.rows(ex, featS0.p, r0, r1, into: buf!.p)
            return UnsafePointer(buf!.p)
        }

        func release(_ ex: Exec) throws {
            if let buf { try ex.ws.release(buf) }
            try up?.release(ex)
        }
    }
}
