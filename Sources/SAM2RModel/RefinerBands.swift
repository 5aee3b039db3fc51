// RefinerBands.swift — MR's banded building blocks: a ResBlock (3x3 conv, LN2d, GELU, 3x3 conv, skip)
// computed a band of output rows at a time from an input that is itself produced band by band, and a
// bilinear up2 of a band of output rows that is bit-identical to the whole-map resize.
//
// A band of output rows [r0, r1) of conv2 needs rows [r0-1, r1+1) of T = GELU(LN(conv1(X))), which need
// rows [r0-2, r1+2) of X (clipped to the map; outside it is the convs' zero padding). The convs run on
// the band as a sub-image with padding 1 and keep only the output rows whose 3x3 window lies inside the
// band or on the map's true border, so every kept value is the whole-map value.

import SAM2REngine
import SAM2RKernels

enum RefinerBands {
    /// Pixels per GEMM tile (im2col rows).
    static let tilePixels = 4096
    /// Pixels per band (the halo costs 4 extra X rows and 2 extra T rows per band).
    static let bandPixels = 16384

    static func bandRows(_ n: Int) -> Int { max(1, min(n, bandPixels / n)) }
    static func tileRows(_ n: Int) -> Int { max(1, min(n, tilePixels / n)) }

    /// Rows `outRows` of the 3x3 (padding 1) conv of a `height` x `width` x `channels` image, im2col tiled
    /// by rows, into `dst` (row outRows.lowerBound first).
    static func conv3x3(_ ex: Exec, _ conv: Linear, _ src: UnsafePointer<Float>, height h: Int, width w: Int,
                        channels c: Int, outRows: Range<Int>, col: Buf, into dst: UnsafeMutablePointer<Float>) throws {
        var shape = sam2r_conv2d_shape(h: Int32(h), w: Int32(w), c: Int32(c), kh: 3, kw: 3, stride_h: 1, stride_w: 1,
                                       pad_h: 1, pad_w: 1, out_h: 0, out_w: 0)
        _ = sam2r_conv2d_shape_init(&shape)
        let k = conv.inFeatures, n = conv.outFeatures
        let tile = max(1, col.count / (w * k))
        var oy0 = outRows.lowerBound
        while oy0 < outRows.upperBound {
            let oy1 = min(outRows.upperBound, oy0 + tile)
            sam2r_im2col_f32(&shape, src, Int32(oy0), Int32(oy1), col.p, Int32(k))
            try ex.linear(col.p, rows: (oy1 - oy0) * w, conv, dst + (oy0 - outRows.lowerBound) * w * n)
            oy0 = oy1
        }
    }

    /// ResBlock(X) = X + conv2(GELU(norm(conv1(X)))) on an n x n x `wd` map, a band of rows at a time:
    /// `input(a, b, dst)` writes rows [a, b) of X to dst; `sink(r0, rows, y)` receives the block's output
    /// rows [r0, r0 + rows). Neither closure may allocate (they run only when executing).
    static func resBlock(_ ex: Exec, _ blk: RefinerResBlock, side n: Int, width wd: Int,
                         input: (Int, Int, UnsafeMutablePointer<Float>) throws -> Void,
                         sink: (Int, Int, UnsafeMutablePointer<Float>) throws -> Void) throws {
        let band = bandRows(n)
        let xb = try ex.ws.alloc(min(n, band + 4) * n * wd, "refiner.mr.band.x")
        let tb = try ex.ws.alloc(min(n, band + 2) * n * wd, "refiner.mr.band.t")
        let yb = try ex.ws.alloc(band * n * wd, "refiner.mr.band.y")
        let col = try ex.ws.alloc(tileRows(n) * n * 9 * wd, "refiner.mr.band.im2col")
        if !ex.planning {
            var r0 = 0
            while r0 < n {
                let r1 = min(n, r0 + band)
                let a = max(0, r0 - 2), b = min(n, r1 + 2)
                let ta = max(0, r0 - 1), tb1 = min(n, r1 + 1)
                try input(a, b, xb.p)
                try conv3x3(ex, blk.conv1, xb.p, height: b - a, width: n, channels: wd, outRows: (ta - a)..<(tb1 - a),
                            col: col, into: tb.p)
                let tc = (tb1 - ta) * n
                try ex.layerNorm(tb.p, rows: tc, blk.norm, tb.p)
                try ex.gelu(tb.p, tc * wd)
                try conv3x3(ex, blk.conv2, tb.p, height: tb1 - ta, width: n, channels: wd, outRows: (r0 - ta)..<(r1 - ta),
                            col: col, into: yb.p)
                try ex.add(xb.p + (r0 - a) * n * wd, yb.p, yb.p, (r1 - r0) * n * wd)
                try sink(r0, r1 - r0, yb.p)
                r0 = r1
            }
        }
        try ex.ws.release(col)
        try ex.ws.release(yb)
        try ex.ws.release(tb)
        try ex.ws.release(xb)
    }

    /// Bilinear x2 (align_corners False, no antialias) of a whole [side][side][c] map.
    static func up2(_ ex: Exec, _ x: Buf, side n: Int, c: Int, into y: Buf) throws {
        let scratch = try ex.ws.alloc(Exec.resizeScratchFloats(SAM2R_RESIZE_BILINEAR, inH: n, inW: n,
                                                               outH: 2 * n, outW: 2 * n, c: c), "refiner.mr.up2.scratch")
        ex.resize(SAM2R_RESIZE_BILINEAR, x.p, inH: n, inW: n, c: c, y.p, outH: 2 * n, outW: 2 * n, scratch: scratch)
        try ex.ws.release(scratch)
    }

    /// Rows of the bilinear x2 of a [side][side][c] map. Output row 2k+1 reads input rows k, k+1 and row 2k
    /// reads k-1, k (clamped at the border), so resizing input rows [k0, k1) gives the whole-map values on
    /// output rows [2k0+1, 2k1-1) (and on 2k0 / 2k1-1 too where k0 = 0 / k1 = side): the same taps, weights
    /// and summation order as the whole-map resize.
    struct Up2Rows {
        let side: Int, c: Int
        let out: Buf, scratch: Buf

        init(_ ex: Exec, side m: Int, c: Int, maxRows: Int, name: String) throws {
            side = m
            self.c = c
            let inRows = min(m, maxRows / 2 + 3)
            out = try ex.ws.alloc(2 * inRows * 2 * m * c, name)
            scratch = try ex.ws.alloc(Exec.resizeScratchFloats(SAM2R_RESIZE_BILINEAR, inH: inRows, inW: m,
                                                               outH: 2 * inRows, outW: 2 * m, c: c), name + ".scratch")
        }

        /// Rows [y0, y1) of up2(x) into dst.
        func rows(_ ex: Exec, _ x: UnsafePointer<Float>, _ y0: Int, _ y1: Int, into dst: UnsafeMutablePointer<Float>) throws {
            let m = side
            let k0 = y0 == 0 ? 0 : (y0 - 1) / 2
            let k1 = min(m, (y1 + 2) / 2)
            let kr = k1 - k0, row = 2 * m * c
            precondition(2 * kr * row <= out.count, "up2 band larger than planned")
            ex.resize(SAM2R_RESIZE_BILINEAR, x + k0 * m * c, inH: kr, inW: m, c: c, out.p, outH: 2 * kr, outW: 2 * m,
                      scratch: scratch)
            dst.update(from: out.p + (y0 - 2 * k0) * row, count: (y1 - y0) * row)
        }

        func release(_ ex: Exec) throws {
            try ex.ws.release(scratch)
            try ex.ws.release(out)
        }
    }
}
