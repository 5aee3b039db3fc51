// NumPy .npy files, float32 little-endian C order only: the writer is for `--logits-out`, the
// reader for tests and tools. Format: "\x93NUMPY", major, minor, header length (u16 for 1.0, u32
// for 2.0/3.0), an ASCII Python dict literal padded with spaces and "\n" to a multiple of 64 bytes.

public enum NPY {
    /// Writes `data` (row-major, `shape.product` elements) atomically.
    public static func write(path: String, shape: [Int], data: UnsafeBufferPointer<Float>) throws {
        var count: Int? = 1
        for d in shape {
            guard let c = count, d >= 0 else { count = nil; break }
            let (p, o) = c.multipliedReportingOverflow(by: d)
            count = o ? nil : p
        }
        guard let count, count == data.count else {
            throw CheckpointError(path: path, .npy("shape \(shape) does not match \(data.count) elements"))
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var header: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = dict.utf8.count
        guard n <= 0xFFFF else { throw CheckpointError(path: path, .npy("header too long")) }
        header += [UInt8(n & 0xFF), UInt8(n >> 8)] + Array(dict.utf8)
        try writeFileAtomically(path: path) { write in
            try header.withUnsafeBytes { try write($0) }
            #if _endian(little)
            try write(UnsafeRawBufferPointer(data))
            #else
            let le = data.map { $0.bitPattern.littleEndian }
            try le.withUnsafeBytes { try write($0) }
            #endif
        }
    }

    public static func write(path: String, shape: [Int], data: [Float]) throws {
        try data.withUnsafeBufferPointer { try write(path: path, shape: shape, data: $0) }
    }

    /// Reads a float32 ('<f4'), C-order .npy file.
    public static func read(path: String) throws -> (shape: [Int], data: [Float]) {
        let file = try MappedFile(path: path)
        let b = file.bytes
        func fail(_ s: String) -> CheckpointError { CheckpointError(path: path, .npy(s)) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard b.count >= 10, b.prefix(6).elementsEqual(magic) else { throw fail("missing \\x93NUMPY magic") }
        let major = b[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(b.u16le(8)); headerStart = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(b.u32le(8)); headerStart = 12
        default: throw fail("unsupported format version \(major).\(b[7])")
        }
        guard let hr = b.checkedRange(headerStart, headerLength) else { throw fail("header length \(headerLength) exceeds the file") }
        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: b[hr]), as: UTF8.self) else {
            throw fail("header is not text")
        }
        let dict = text.filter { !$0.isWhitespace }
        guard dict.hasPrefix("{"), dict.hasSuffix("}") else { throw fail("header is not a dict: \(text)") }
        guard let descr = value(of: "descr", in: dict), descr == "'<f4'" else {
            throw fail("dtype \(value(of: "descr", in: dict) ?? "?") is not '<f4'")
        }
        guard value(of: "fortran_order", in: dict) == "False" else { throw fail("Fortran order is not supported") }
        guard let s = value(of: "shape", in: dict), s.hasPrefix("("), s.hasSuffix(")") else { throw fail("no shape in header") }
        var shape: [Int] = []
        for part in s.dropFirst().dropLast().split(separator: ",") {
            guard let d = Int(part), d >= 0 else { throw fail("bad shape \(s)") }
            shape.append(d)
        }
        var count = 1
        for d in shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("shape \(s) overflows") }
            count = c
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: 4)
        guard !o, let dr = b.checkedRange(hr.upperBound, bytes), dr.upperBound == b.count else {
            throw fail("payload is \(b.count - hr.upperBound) bytes, shape \(shape) needs \(count) × 4")
        }
        var data = [Float](repeating: 0, count: count)
        data.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[dr])) }
        #if _endian(big)
        for i in data.indices { data[i] = Float(bitPattern: UInt32(littleEndian: data[i].bitPattern)) }
        #endif
        return (shape, data)
    }

    /// The literal after `'key':` up to the next top-level comma or closing brace (whitespace removed).
    private static func value(of key: String, in dict: String) -> String? {
        guard let r = dict.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var end = r.upperBound
        while end < dict.endIndex {
            let c = dict[end]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth == 0 && (c == "," || c == "}") { break }
            end = dict.index(after: end)
        }
        return String(dict[r.upperBound..<end])
    }
}
