// EvalMetrics.swift — the accuracy metrics of `sam2r eval` (docs/eval.md): mask IoU, boundary IoU
// (Cheng et al. 2021), SQNR in dB with a fixed rule for zero error / zero signal.

#if canImport(Glibc)
import Glibc
#endif

public enum EvalMetrics {
    /// SQNR values are clamped to ±`sqnrCapDB`: an exact match (zero error) reports +200 dB, a zero
    /// reference with a non-zero error −200 dB. Finite numbers keep JSON valid and means meaningful.
    public static let sqnrCapDB = 200.0

    /// 10·log10(signal / noise) with signal = Σref², noise = Σ(ref − cand)², clamped to ±200 dB;
    /// noise == 0 (including both zero) → +200.
    public static func sqnrDB(signal: Double, noise: Double) -> Double {
        if !(noise > 0) { return sqnrCapDB }
        if !(signal > 0) { return -sqnrCapDB }
        return min(sqnrCapDB, max(-sqnrCapDB, 10 * log10(signal / noise)))
    }

    /// SQNR of two equally long float arrays (non-finite pairs skipped).
    public static func sqnrDB(reference: [Float], candidate: [Float]) -> Double {
        precondition(reference.count == candidate.count, "sqnr of arrays of different lengths")
        var e = SQNREnergy()
        for i in reference.indices { e.add(reference[i], candidate[i]) }
        return e.db
    }

    /// |A ∩ B| / |A ∪ B| of two binary masks (non-zero = in the mask); 1 when both are empty.
    public static func maskIoU(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count, "IoU of masks of different sizes")
        var inter = 0, union = 0
        for i in a.indices {
            let x = a[i] != 0, y = b[i] != 0
            if x && y { inter += 1 }
            if x || y { union += 1 }
        }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    /// Boundary band width d (pixels) for an image: 2 % of the diagonal, rounded, at least 1
    /// (Cheng et al.'s default dilation ratio 0.02).
    public static func boundaryWidth(width: Int, height: Int) -> Int {
        let diag = (Double(width) * Double(width) + Double(height) * Double(height)).squareRoot()
        return max(1, Int((0.02 * diag).rounded()))
    }

    /// Boundary IoU (Cheng et al. 2021, "Boundary IoU: Improving Object-Centric Image Segmentation
    /// Evaluation"): IoU of the inner boundary bands B(M) = M \ erode(M, d) of the two masks, erosion by a
    /// (2d+1)² square (Chebyshev distance ≤ d, as the reference code's d iterations of a 3×3 erosion),
    /// pixels outside the image counting as background (so a mask touching the border has a band
    /// there). Both bands empty → 1.
    public static func boundaryIoU(_ a: [UInt8], _ b: [UInt8], width: Int, height: Int, d: Int? = nil) -> Double {
        precondition(a.count == width * height && b.count == width * height, "boundary IoU: mask size")
        let dd = d ?? boundaryWidth(width: width, height: height)
        let ba = boundaryBand(a, width: width, height: height, d: dd)
        let bb = boundaryBand(b, width: width, height: height, d: dd)
        return maskIoU(ba, bb)
    }

    /// M \ erode(M, d): 1 on mask pixels within Chebyshev distance d of a background pixel or the outside.
    public static func boundaryBand(_ m: [UInt8], width w: Int, height h: Int, d: Int) -> [UInt8] {
        let eroded = erode(m, width: w, height: h, d: d)
        var band = [UInt8](repeating: 0, count: m.count)
        for i in m.indices where m[i] != 0 && eroded[i] == 0 { band[i] = 1 }
        return band
    }

    /// Binary erosion by a (2d+1)×(2d+1) square, outside = background: separable (rows, then columns),
    /// each pass a sliding count of background pixels, O(w·h) whatever d.
    static func erode(_ m: [UInt8], width w: Int, height h: Int, d: Int) -> [UInt8] {
        var rowsPass = [UInt8](repeating: 0, count: m.count)
        var line = [UInt8](repeating: 0, count: max(w, h))
        var out = [UInt8](repeating: 0, count: max(w, h))
        for y in 0..<h {
            for x in 0..<w { line[x] = m[y * w + x] != 0 ? 1 : 0 }
            erodeLine(line, out: &out, n: w, d: d)
            for x in 0..<w { rowsPass[y * w + x] = out[x] }
        }
        var result = [UInt8](repeating: 0, count: m.count)
        for x in 0..<w {
            for y in 0..<h { line[y] = rowsPass[y * w + x] }
            erodeLine(line, out: &out, n: h, d: d)
            for y in 0..<h { result[y * w + x] = out[y] }
        }
        return result
    }

    /// out[i] = 1 iff line[j] == 1 for every j in i-d...i+d, with line[j] = 0 outside 0..<n.
    private static func erodeLine(_ line: [UInt8], out: inout [UInt8], n: Int, d: Int) {
        // zeros[j] = number of background pixels in line[0..<j].
        var zeros = [Int](repeating: 0, count: n + 1)
        for j in 0..<n { zeros[j + 1] = zeros[j] + (line[j] == 0 ? 1 : 0) }
        for i in 0..<n {
            let lo = i - d, hi = i + d
            out[i] = (lo >= 0 && hi < n && zeros[hi + 1] - zeros[lo] == 0) ? 1 : 0
        }
    }
}

/// Running Σref² and Σ(ref − cand)² in double; non-finite pairs are skipped.
public struct SQNREnergy: Sendable, Equatable {
    public var signal = 0.0
    public var noise = 0.0
    public init() {}

    @inline(__always)
    public mutating func add(_ ref: Float, _ cand: Float) {
        guard ref.isFinite, cand.isFinite else { return }
        let r = Double(ref), e = Double(ref) - Double(cand)
        signal += r * r
        noise += e * e
    }

    public mutating func add(_ other: SQNREnergy) { signal += other.signal; noise += other.noise }

    public var db: Double { EvalMetrics.sqnrDB(signal: signal, noise: noise) }
}
