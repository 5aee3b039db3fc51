// RefinerPR.swift — prompt retargeting (docs/refiner.md, "PR"): every sparse token with label >= 0
// gets s' = s + fc2(GELU(fc1([s, f, f_loc]))), f / f_loc the bilinear samples (grid_sample,
// align_corners False, zero padding) of G' and Lloc2 at the token's model-frame point. Per predict.

import SAM2REngine

enum RefinerPR {
    /// Updates `sparse` ([labels.count][C]) in place. `coords` are the model-frame (x, y) of each token
    /// (before the prompt encoder's +0.5 shift); `capacity` bounds labels.count (planned rows). Not `active`:
    /// only the allocations (the plan is the same with the refiner switched off).
    static func forward(_ ex: Exec, _ w: RefinerWeights, sparse: inout [Float], coords: [Float], labels: [Int32],
                        capacity: Int, imageSize s: Int, refined: Buf, lloc2: Buf, active: Bool = true) throws {
        let c = w.dim, n = labels.count
        let cat = try ex.ws.alloc(capacity * 3 * c, "refiner.pr.cat")
        let hid = try ex.ws.alloc(capacity * c, "refiner.pr.hidden")
        let out = try ex.ws.alloc(capacity * c, "refiner.pr.out")
        if !ex.planning && active {
            precondition(n <= capacity && sparse.count == n * c)
            // Only tokens with label >= 0 are retargeted: packed as rows in token order.
            var rows = 0
            for i in 0..<n where labels[i] >= 0 {
                let row = cat.p + rows * 3 * c
                rows += 1
                sparse.withUnsafeBufferPointer { row.update(from: $0.baseAddress! + i * c, count: c) }
                let gx = ((coords[2 * i] + 0.5) / Float(s)) * 2 - 1
                let gy = ((coords[2 * i + 1] + 0.5) / Float(s)) * 2 - 1
                sample(refined.p, side: w.side, c: c, gx: gx, gy: gy, into: row + c)
                sample(lloc2.p, side: 2 * w.side, c: c, gx: gx, gy: gy, into: row + 2 * c)
            }
            if rows > 0 {
                try ex.linear(cat.p, rows: rows, w.prFC1, hid.p)
                try ex.gelu(hid.p, rows * c)
                try ex.linear(hid.p, rows: rows, w.prFC2, out.p)
                sparse.withUnsafeMutableBufferPointer { sp in
                    var r = 0
                    for i in 0..<n where labels[i] >= 0 {
                        for ch in 0..<c { sp[i * c + ch] += out.p[r * c + ch] }
                        r += 1
                    }
                }
            }
            sparse.withUnsafeBufferPointer { ex.tap("refiner.pr", $0.baseAddress!, $0.count) }
        }
        try ex.ws.release(out)
        try ex.ws.release(hid)
        try ex.ws.release(cat)
    }

    /// grid_sample(bilinear, zeros, align_corners False) of a [side][side][c] map at normalized (gx, gy).
    static func sample(_ map: UnsafePointer<Float>, side n: Int, c: Int, gx: Float, gy: Float,
                       into dst: UnsafeMutablePointer<Float>) {
        let ix = ((gx + 1) * Float(n) - 1) / 2, iy = ((gy + 1) * Float(n) - 1) / 2
        let fx = ix.rounded(.down), fy = iy.rounded(.down)
        let tx = ix - fx, ty = iy - fy
        let x0 = Int(fx), y0 = Int(fy)
        dst.update(repeating: 0, count: c)
        func corner(_ x: Int, _ y: Int, _ wt: Float) {
            guard x >= 0 && x < n && y >= 0 && y < n else { return }
            let src = map + (y * n + x) * c
            for ch in 0..<c { dst[ch] += src[ch] * wt }
        }
        // Corner order nw, ne, sw, se (PyTorch's accumulation order).
        corner(x0, y0, (1 - tx) * (1 - ty))
        corner(x0 + 1, y0, tx * (1 - ty))
        corner(x0, y0 + 1, (1 - tx) * ty)
        corner(x0 + 1, y0 + 1, tx * ty)
    }
}
