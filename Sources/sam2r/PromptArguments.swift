// Parsing and checking of --point / --box before any heavy work.
import ArgumentParser

struct ClickPrompt: Equatable {
    var x: Float
    var y: Float
    var label: Int32
}

/// "X,Y" or "X,Y,LABEL" in original-image pixels; LABEL 1 (positive, default) or 0 (negative).
func parsePoint(_ text: String) throws -> ClickPrompt {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
    guard parts.count == 2 || parts.count == 3 else {
        throw CLIError("--point '\(text)': expected X,Y or X,Y,LABEL")
    }
    guard let x = Float(parts[0]), let y = Float(parts[1]) else {
        throw CLIError("--point '\(text)': coordinates are not numbers")
    }
    guard x.isFinite, y.isFinite else { throw CLIError("--point '\(text)': coordinates must be finite") }
    var label: Int32 = 1
    if parts.count == 3 {
        guard let l = Int32(parts[2]), l == 0 || l == 1 else {
            throw CLIError("--point '\(text)': label must be 1 (positive) or 0 (negative)")
        }
        label = l
    }
    return ClickPrompt(x: x, y: y, label: label)
}

/// "X0,Y0,X1,Y1" in original-image pixels, X0 <= X1 and Y0 <= Y1.
func parseBox(_ text: String) throws -> SIMD4<Float> {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { Float(String($0)) }
    guard parts.count == 4, text.split(separator: ",", omittingEmptySubsequences: false).count == 4 else {
        throw CLIError("--box '\(text)': expected X0,Y0,X1,Y1")
    }
    guard parts.allSatisfy(\.isFinite) else { throw CLIError("--box '\(text)': coordinates must be finite") }
    guard parts[0] <= parts[2], parts[1] <= parts[3] else {
        throw CLIError("--box '\(text)': inverted box (need X0 <= X1 and Y0 <= Y1)")
    }
    return SIMD4(parts[0], parts[1], parts[2], parts[3])
}

/// Prompts must lie inside the image (0...W, 0...H, as pixel coordinates).
func checkInside(points: [ClickPrompt], box: SIMD4<Float>?, width: Int, height: Int) throws {
    let w = Float(width), h = Float(height)
    for p in points where !(0...w).contains(p.x) || !(0...h).contains(p.y) {
        throw CLIError("--point \(p.x),\(p.y): outside the \(width)x\(height) image")
    }
    if let b = box, b.x < 0 || b.y < 0 || b.z > w || b.w > h {
        throw CLIError("--box \(b.x),\(b.y),\(b.z),\(b.w): outside the \(width)x\(height) image")
    }
}
