// ImageCodec.swift — PNG/JPEG decoding to RGB8 and atomic PNG writes over CImageIO.

import CImageIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func kind(_ code: Int32) -> ImageIOError.Kind {
    switch UInt32(bitPattern: code) {
    case CIMAGEIO_ERR_FORMAT.rawValue: return .unsupportedFormat
    case CIMAGEIO_ERR_CORRUPT.rawValue: return .corrupt
    case CIMAGEIO_ERR_TOO_LARGE.rawValue: return .tooLarge
    case CIMAGEIO_ERR_NO_MEMORY.rawValue: return .outOfMemory
    case CIMAGEIO_ERR_ARGUMENT.rawValue: return .invalidArgument
    default: return .io
    }
}

/// Runs a CImageIO call with a message buffer; throws its error.
private func call(_ path: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
    var message = [CChar](repeating: 0, count: 512)
    let code = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    if code != 0 {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        throw ImageIOError(path: path, kind: kind(code), message: text.isEmpty ? "image I/O error \(code)" : text)
    }
}

/// Reads only the header of a PNG or JPEG file.
public func imageHeader(path: String) throws -> (format: ImageFormat, width: Int, height: Int) {
    var format = CIMAGEIO_FORMAT_UNKNOWN
    var w: UInt32 = 0, h: UInt32 = 0
    try call(path) { cimageio_probe(path, &format, &w, &h, $0, $1) }
    return (format == CIMAGEIO_FORMAT_PNG ? .png : .jpeg, Int(w), Int(h))
}

/// Decodes a PNG or JPEG file (chosen by its signature, not its extension) into RGB8.
/// Images with a side larger than `maxSide` are refused before any pixel is decoded.
/// Conversions: see Sources/CImageIO/include/cimageio.h.
public func decodeImage(path: String, maxSide: Int = maxImageSide) throws -> Image {
    precondition(maxSide > 0 && maxSide <= Int(UInt32.max))
    var raw: UnsafeMutablePointer<UInt8>? = nil
    var w: UInt32 = 0, h: UInt32 = 0
    try call(path) { cimageio_decode_rgb8(path, UInt32(maxSide), &raw, &w, &h, $0, $1) }
    defer { cimageio_free(raw) }
    let n = Int(w) * Int(h) * 3
    let pixels = [UInt8](UnsafeBufferPointer(start: raw, count: n))
    return Image(width: Int(w), height: Int(h), pixels: pixels)
}

/// Writes an 8-bit PNG (`channels` 1 = gray, 3 = RGB; row-major, no padding). The file is written
/// to a temporary name in the same directory, fsync'ed, then renamed over `path`: on any failure
/// nothing is left at `path` (a previous file there is untouched) and the temporary is removed.
public func writePNG(path: String, width: Int, height: Int, channels: Int, pixels: UnsafeBufferPointer<UInt8>) throws {
    guard width > 0, height > 0, channels == 1 || channels == 3,
          width <= Int(Int32.max), height <= Int(Int32.max),
          pixels.count == width * height * channels
    else {
        throw ImageIOError(path: path, kind: .invalidArgument,
                           message: "cannot write \(pixels.count) bytes as a \(width)x\(height) PNG with \(channels) channels")
    }
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[...$0]) } ?? ""
    let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard !base.isEmpty else { throw ImageIOError(path: path, kind: .invalidArgument, message: "not a file name") }

    var tmp = ""
    var attempt = 0
    while true {
        tmp = "\(dir).\(base).tmp-\(getpid())-\(attempt)"
        do {
            try call(path) { cimageio_write_png(tmp, pixels.baseAddress, UInt32(width), UInt32(height), UInt32(channels), $0, $1) }
            break
        } catch let e as ImageIOError {
            // "cannot create" means the temporary was never opened by us: never unlink it then.
            if e.kind == .io && e.message.hasPrefix("cannot create: ") {
                if e.message == "cannot create: " + String(cString: strerror(EEXIST)) && attempt < 100 {
                    attempt += 1
                    continue
                }
                throw e
            }
            unlink(tmp)  // remove what the failed write left
            throw e
        }
    }
    if rename(tmp, path) != 0 {
        let text = String(cString: strerror(errno))
        unlink(tmp)
        throw ImageIOError(path: path, kind: .io, message: "cannot rename into place: \(text)")
    }
}

public func writePNG(path: String, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
    try pixels.withUnsafeBufferPointer { try writePNG(path: path, width: width, height: height, channels: channels, pixels: $0) }
}

/// Writes an RGB image as an 8-bit RGB PNG (atomically, see above).
public func writePNG(_ image: Image, to path: String) throws {
    try writePNG(path: path, width: image.width, height: image.height, channels: 3, pixels: image.pixels)
}
