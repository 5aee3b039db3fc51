// Image.swift — the decoded image type and the errors of image I/O.

/// An 8-bit RGB image, row-major, 3 bytes per pixel, no row padding.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B of pixel (0,0), then (1,0), ...
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3, "RGB8 buffer size mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The (r, g, b) of pixel (x, y).
    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

public enum ImageFormat: String, Sendable { case png = "PNG", jpeg = "JPEG" }

/// Largest accepted width or height; larger images are refused after reading the header only.
public let maxImageSide = 16384

public struct ImageIOError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case io  // open/read/write/rename failed
        case unsupportedFormat  // neither PNG nor JPEG
        case corrupt  // the decoder rejected the data
        case tooLarge  // a side exceeds the limit (or is zero)
        case outOfMemory
        case invalidArgument
    }

    public let path: String
    public let kind: Kind
    /// One line, without the path.
    public let message: String

    public init(path: String, kind: Kind, message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    /// "<file>: <what>", ready for "error: \(error)".
    public var description: String { "\(path): \(message)" }
}
