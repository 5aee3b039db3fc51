// RefinerImage.swift — the per-image part of the refiner (docs/refiner.md, "Local context maps" and
// LA): Lloc2 / Lloc0 from the full image's features (local_views 0) or from four quadrant encoder
// passes (local_views 4), then G' = LA(G, Lloc2). Everything lands in persistent arena buffers that
// every `predict` of the image reads.

import SAM2REngine
import SAM2RKernels

/// The refiner's cached per-image buffers (persistent arena buffers, channels-last). `image` and `lloc2`
/// are written during the encoder pass and allocated before it; `lloc0` and `refined` after it, so that
/// they do not add to the encoder's peak. With local_views 0, Lloc0 = up2(feat_s0) is not stored: MR
/// computes the rows it reads (RefinerBands.Up2Rows, bit-identical), which saves (2L)² x C/8 floats.
struct RefinerFeatures {
    /// [S][S][3] the normalized model input (MR's RGB stem).
    let image: Buf
    /// [2H][2H][C].
    let lloc2: Buf
    /// [8H][8H][C/8] (local_views 4); nil: up2(feat_s0), computed when read (local_views 0).
    let lloc0: Buf?
    /// [H][H][C] G' (the decoder's image embedding with the refiner).
    let refined: Buf

    /// (image, lloc2): before the encoder pass.
    static func allocEarly(_ ex: Exec, _ cfg: ModelConfig) throws -> (image: Buf, lloc2: Buf) {
        let s = cfg.imageSize, h = cfg.embedSize, c = cfg.dModel
        return (try ex.ws.alloc(s * s * 3, "refiner.image"), try ex.ws.alloc(4 * h * h * c, "refiner.lloc2"))
    }

    /// The rest, after the encoder pass.
    init(_ ex: Exec, _ cfg: ModelConfig, early: (image: Buf, lloc2: Buf)) throws {
        let h = cfg.embedSize, c = cfg.dModel
        image = early.image
        lloc2 = early.lloc2
        lloc0 = cfg.refiner?.localViews == 4 ? try ex.ws.alloc(64 * h * h * (c / 8), "refiner.lloc0") : nil
        refined = try ex.ws.alloc(h * h * c, "refiner.image_embed")
    }
}

enum RefinerImage {
    /// Runs the encoder on an image region: (rgb of the region's first pixel or nil while planning,
    /// row stride in pixels, height, width, destination features).
    typealias Encode = (UnsafePointer<UInt8>?, Int, Int, Int, ImageFeatures) throws -> Void

    /// Quadrant `i` of an h x w image: (row0, col0, height, width) in the 2x2 order TL, TR, BL, BR
    /// (computed, not listed: setImage allocates nothing on the heap).
    static func quadrant(_ i: Int, height h: Int, width w: Int) -> (y: Int, x: Int, h: Int, w: Int) {
        let h0 = h / 2, w0 = w / 2, bottom = i >= 2, right = i % 2 == 1
        return (bottom ? h0 : 0, right ? w0 : 0, bottom ? h - h0 : h0, right ? w - w0 : w0)
    }

    /// Local maps and G'. With local_views 0, `features.fpn1` must have been filled with Lloc2 by the
    /// encoder pass (the predictor points it at `r.lloc2`).
    static func run(_ ex: Exec, _ w: RefinerWeights, _ cfg: ModelConfig, features f: ImageFeatures,
                    refiner r: RefinerFeatures, rgb: UnsafeBufferPointer<UInt8>?, height h: Int, width wd: Int,
                    encode: Encode) throws {
        let e = cfg.embedSize, c = cfg.dModel, c8 = c / 8
        if w.config.localViews == 4, let lloc0 = r.lloc0 {
            // Quadrant passes: their taps would overwrite the full image's under the same names.
            let (observer, stageObserver) = (ex.observer, ex.stageObserver)
            (ex.observer, ex.stageObserver) = (nil, nil)
            defer { (ex.observer, ex.stageObserver) = (observer, stageObserver) }
            for qi in 0..<4 {
                let q = quadrant(qi, height: h, width: wd)
                let qf = ImageFeatures(imageEmbed: try ex.ws.alloc(e * e * c, "refiner.quadrant.embed"),
                                       featS1: try ex.ws.alloc(4 * e * e * (c / 4), "refiner.quadrant.feat_s1"),
                                       featS0: try ex.ws.alloc(16 * e * e * c8, "refiner.quadrant.feat_s0"),
                                       fpn1: nil, addNoMemEmbed: false)
                try encode(rgb.map { $0.baseAddress! + (q.y * wd + q.x) * 3 }, wd, q.h, q.w, qf)
                if !ex.planning {
                    let oy = qi / 2, ox = qi % 2
                    stitch(qf.imageEmbed.p, side: e, c: c, into: r.lloc2.p, at: (oy, ox))
                    stitch(qf.featS0.p, side: 4 * e, c: c8, into: lloc0.p, at: (oy, ox))
                }
                try ex.ws.release(qf.featS0)
                try ex.ws.release(qf.featS1)
                try ex.ws.release(qf.imageEmbed)
            }
        }
        // local_views 0: Lloc2 = F1 was written by the encoder pass; Lloc0 is computed when MR reads it.
        ex.tap("refiner.lloc2", r.lloc2.p, r.lloc2.count)
        try RefinerLA.forward(ex, w, g: f.imageEmbed, lloc2: r.lloc2, into: r.refined)
    }

    /// Copies a [n][n][c] map into quadrant (oy, ox) of a [2n][2n][c] map.
    static func stitch(_ src: UnsafePointer<Float>, side n: Int, c: Int, into dst: UnsafeMutablePointer<Float>,
                       at q: (Int, Int)) {
        for y in 0..<n {
            (dst + ((q.0 * n + y) * 2 * n + q.1 * n) * c).update(from: src + y * n * c, count: n * c)
        }
    }
}
