// Bytes.swift — little-endian encoding for the writer and a bounds-checked cursor for the reader:
// every read checks its range with overflow-safe arithmetic and throws instead of trapping.

/// Appends little-endian fields to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func int(_ v: Int) { u64(UInt64(v)) }
    /// u16 length + UTF-8 bytes.
    mutating func name(_ s: String) {
        let u = Array(s.utf8)
        u16(UInt16(u.count))
        bytes += u
    }
    mutating func raw(_ p: UnsafeRawBufferPointer) { bytes += p }
    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        let r = bytes.count % alignment
        if r != 0 { bytes += [UInt8](repeating: 0, count: alignment - r) }
    }
    /// Overwrites 4 bytes at `at` (fields known only later, e.g. checksums).
    mutating func patch32(_ v: UInt32, at: Int) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[at + i] = $0[i] } }
    }
    mutating func patch64(_ v: UInt64, at: Int) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<8 { bytes[at + i] = $0[i] } }
    }
}

/// Reads little-endian fields from `bytes[pos...]`; running past the end throws `fail(what)`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var pos = 0
    let fail: (String) -> ModelFileError

    init(_ bytes: UnsafeRawBufferPointer, fail: @escaping (String) -> ModelFileError) {
        self.bytes = bytes
        self.fail = fail
    }

    var remaining: Int { bytes.count - pos }

    mutating func take(_ n: Int, _ what: String) throws -> Int {
        guard n >= 0, n <= remaining else { throw fail("\(what) runs past the end (\(n) bytes at \(pos) of \(bytes.count))") }
        let at = pos
        pos += n
        return at
    }
    mutating func u8(_ what: String) throws -> UInt8 { bytes[try take(1, what)] }
    mutating func u16(_ what: String) throws -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(2, what), as: UInt16.self))
    }
    mutating func u32(_ what: String) throws -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4, what), as: UInt32.self))
    }
    mutating func u64(_ what: String) throws -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8, what), as: UInt64.self))
    }
    mutating func i32(_ what: String) throws -> Int32 { Int32(bitPattern: try u32(what)) }
    mutating func f32(_ what: String) throws -> Float { Float(bitPattern: try u32(what)) }
    /// A u64 that must fit `limit` (sizes, offsets, dimensions).
    mutating func int(_ what: String, max limit: Int = Int(Int32.max) * 64) throws -> Int {
        let v = try u64(what)
        guard v <= UInt64(limit) else { throw fail("\(what) \(v) exceeds \(limit)") }
        return Int(v)
    }
    /// u16 length + UTF-8 bytes, validated.
    mutating func name(_ what: String) throws -> String {
        let n = Int(try u16("\(what) length"))
        guard n > 0, n <= ModelFileFormat.maxNameBytes else { throw fail("\(what) length \(n) outside 1...\(ModelFileFormat.maxNameBytes)") }
        let at = try take(n, what)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
        guard let s = String(validating: slice.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw fail("\(what) at \(at) is not UTF-8")
        }
        return s
    }
}

/// a * b, nil on overflow.
@inline(__always)
func mul(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : r
}

/// a + b, nil on overflow.
@inline(__always)
func add(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : r
}
