// The overlay image: the photo with the mask tinted and the prompts drawn on top.

/// Mask tint (SAM's demo blue) blended at 45 %, a darker outline on the mask boundary; positive clicks
/// green, negative red, each a filled disc with a white ring; the box in yellow.
func renderOverlay(rgb: [UInt8], width: Int, height: Int, mask: ArraySlice<UInt8>,
                   points: [ClickPrompt], box: SIMD4<Float>?) -> [UInt8] {
    var out = rgb
    let tint: (Float, Float, Float) = (30, 144, 255)
    let alpha: Float = 0.45
    let base = mask.startIndex
    for y in 0..<height {
        for x in 0..<width where mask[base + y * width + x] != 0 {
            let edge = x == 0 || y == 0 || x == width - 1 || y == height - 1
                || mask[base + y * width + x - 1] == 0 || mask[base + y * width + x + 1] == 0
                || mask[base + (y - 1) * width + x] == 0 || mask[base + (y + 1) * width + x] == 0
            let a: Float = edge ? 0.9 : alpha
            let i = (y * width + x) * 3
            out[i] = UInt8((Float(out[i]) * (1 - a) + tint.0 * a).rounded())
            out[i + 1] = UInt8((Float(out[i + 1]) * (1 - a) + tint.1 * a).rounded())
            out[i + 2] = UInt8((Float(out[i + 2]) * (1 - a) + tint.2 * a).rounded())
        }
    }
    func put(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        out[i] = c.0; out[i + 1] = c.1; out[i + 2] = c.2
    }
    let scale = max(1, min(width, height) / 160)
    if let b = box {
        let t = scale
        let (x0, y0, x1, y1) = (Int(b.x), Int(b.y), Int(b.z), Int(b.w))
        for d in 0..<t {
            for x in x0...max(x0, x1) { put(x, y0 + d, (255, 215, 0)); put(x, y1 - d, (255, 215, 0)) }
            for y in y0...max(y0, y1) { put(x0 + d, y, (255, 215, 0)); put(x1 - d, y, (255, 215, 0)) }
        }
    }
    let r = 3 * scale, ring = r + scale
    for p in points {
        let color: (UInt8, UInt8, UInt8) = p.label == 1 ? (0, 200, 0) : (220, 0, 0)
        let cx = Int(p.x), cy = Int(p.y)
        for dy in -ring...ring {
            for dx in -ring...ring {
                let d2 = dx * dx + dy * dy
                if d2 <= r * r { put(cx + dx, cy + dy, color) } else if d2 <= ring * ring { put(cx + dx, cy + dy, (255, 255, 255)) }
            }
        }
    }
    return out
}
