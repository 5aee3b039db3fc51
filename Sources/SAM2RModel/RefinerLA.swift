// RefinerLA.swift — localization augment (docs/refiner.md, "LA"): pre-norm windowed cross-attention of
// the image embedding G (query windows w x w) to the aligned 2w x 2w windows of Lloc2, sine PE on
// queries and keys, then a GELU FFN; residuals. Runs once per image (setImage).
//
// Memory: a group of windows at a time (gather + LayerNorm + PE, q/k/v projections, flash attention,
// out_proj, scatter-add into x); the FFN is tiled by rows. x (= G') is updated in place: windows do
// not overlap, so a window's update never feeds another window of the same layer.

import SAM2REngine

enum RefinerLA {
    /// Target key rows per window group.
    static let groupKeyRows = 1024

    /// G' = LA(G, Lloc2) into `x` ([H][H][C]); `g` [H][H][C], `lloc2` [2H][2H][C], channels-last.
    static func forward(_ ex: Exec, _ w: RefinerWeights, g: Buf, lloc2: Buf, into x: Buf) throws {
        let c = w.dim, h = w.side, win = w.config.laWindow, h2 = 2 * h, win2 = 2 * win
        let nwx = h / win, nwin = nwx * nwx
        let nq = win * win, nk = win2 * win2
        let group = max(1, min(nwin, groupKeyRows / nk))
        let heads = w.config.laHeads, hd = c / heads
        let xq = try ex.ws.alloc(group * nq * c, "refiner.la.q_in")
        let q = try ex.ws.alloc(group * nq * c, "refiner.la.q")
        let ln = try ex.ws.alloc(group * nk * c, "refiner.la.kv_in")
        let k = try ex.ws.alloc(group * nk * c, "refiner.la.k")
        let v = try ex.ws.alloc(group * nk * c, "refiner.la.v")
        let o = try ex.ws.alloc(group * nq * c, "refiner.la.attn")
        let scratch = try ex.ws.alloc(ex.attentionScratchFloats(dk: hd, dv: hd), "refiner.la.attn.scratch")
        if !ex.planning {
            x.p.update(from: g.p, count: h * h * c)
        }
        for (li, layer) in w.la.enumerated() where !ex.planning {
            var g0 = 0
            while g0 < nwin {
                let gc = min(group, nwin - g0)
                // Gather: queries norm_q(x) + PE_G, keys/values norm_kv(Lloc2) (+ PE_L for keys).
                for i in 0..<gc {
                    let wy = (g0 + i) / nwx, wx = (g0 + i) % nwx
                    for ty in 0..<win {
                        let src = (wy * win + ty) * h + wx * win
                        let dst = xq.p + (i * nq + ty * win) * c
                        try ex.layerNorm(x.p + src * c, rows: win, layer.normQ, dst)
                        try w.peG.withUnsafeBufferPointer { try ex.add(dst, $0.baseAddress! + src * c, dst, win * c) }
                    }
                    for ty in 0..<win2 {
                        let src = (wy * win2 + ty) * h2 + wx * win2
                        try ex.layerNorm(lloc2.p + src * c, rows: win2, layer.normKV, ln.p + (i * nk + ty * win2) * c)
                    }
                }
                try ex.linear(xq.p, rows: gc * nq, layer.q, q.p)
                try ex.linear(ln.p, rows: gc * nk, layer.v, v.p)
                for i in 0..<gc {
                    let wy = (g0 + i) / nwx, wx = (g0 + i) % nwx
                    for ty in 0..<win2 {
                        let src = (wy * win2 + ty) * h2 + wx * win2
                        let dst = ln.p + (i * nk + ty * win2) * c
                        try w.peL.withUnsafeBufferPointer { try ex.add(dst, $0.baseAddress! + src * c, dst, win2 * c) }
                    }
                }
                try ex.linear(ln.p, rows: gc * nk, layer.k, k.p)
                ex.attention(batch: gc, heads: heads, nq: nq, nk: nk, dk: hd, dv: hd,
                             q: q.p, ldq: c, qStride: nq * c, k: k.p, ldk: c, kStride: nk * c,
                             v: v.p, ldv: c, vStride: nk * c, o: o.p, ldo: c, oStride: nq * c, scratch: scratch)
                try ex.linear(o.p, rows: gc * nq, layer.out, xq.p)
                for i in 0..<gc {
                    let wy = (g0 + i) / nwx, wx = (g0 + i) % nwx
                    for ty in 0..<win {
                        let dst = x.p + ((wy * win + ty) * h + wx * win) * c
                        try ex.add(dst, xq.p + (i * nq + ty * win) * c, dst, win * c)
                    }
                }
                g0 += gc
            }
            // FFN, tiled by rows: the key buffers are free here and serve as tiles (ln: rows x C, k: rows x 4C).
            let rows = h * h, tile = max(1, min(rows, group * nk / 4))
            var r0 = 0
            while r0 < rows {
                let rc = min(tile, rows - r0)
                try ffn(ex, layer, x.p + r0 * c, rows: rc, scratch: ln.p, hidden: k.p, c: c)
                r0 += rc
            }
            ex.tap("refiner.la.layer.\(li)", x.p, x.count)
        }
        ex.tap("refiner.la", x.p, x.count)
        try ex.ws.release(scratch)
        try ex.ws.release(o)
        try ex.ws.release(v)
        try ex.ws.release(k)
        try ex.ws.release(ln)
        try ex.ws.release(q)
        try ex.ws.release(xq)
    }

    /// x += fc2(GELU(fc1(norm_ffn(x)))) on `rows` rows; `t` holds rows x C, `hidden` rows x 4C.
    private static func ffn(_ ex: Exec, _ l: RefinerLALayer, _ x: UnsafeMutablePointer<Float>, rows: Int,
                            scratch t: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>, c: Int) throws {
        try ex.layerNorm(x, rows: rows, l.normFFN, t)
        try ex.linear(t, rows: rows, l.fc1, hidden)
        try ex.gelu(hidden, rows * 4 * c)
        try ex.linear(hidden, rows: rows, l.fc2, t)
        try ex.add(x, t, x, rows * c)
    }
}
