// Reader for the zip container that torch.save writes: central directory (with ZIP64 records),
// stored entries only. Every size, offset and count is checked against the file length with
// overflow-checked arithmetic before it is used; nothing is decompressed or copied.

public struct ZipEntry: Sendable {
    public let name: String
    public let method: UInt16
    public let flags: UInt16
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    public let localHeaderOffset: Int
    /// Offset of the entry's first data byte in the file (after the local header).
    public let dataOffset: Int
}

public final class ZipArchive: @unchecked Sendable {
    public let file: MappedFile
    public let entries: [ZipEntry]
    private let index: [String: Int]

    public var path: String { file.path }

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let b = file.bytes
        func fail(_ s: String) -> CheckpointError { CheckpointError(path: file.path, .zip(s)) }

        // End of central directory: 22 bytes + comment (≤ 65535), searched backwards.
        guard b.count >= 22 else { throw fail("file is \(b.count) bytes, too short for a zip end record") }
        var eocd = -1
        var p = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while p >= lowest {
            if b.u32le(p) == 0x0605_4b50 {
                let commentLength = Int(b.u16le(p + 20))
                if p + 22 + commentLength <= b.count { eocd = p; break }
            }
            p -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (truncated or not a zip)") }

        var entryCount = Int(b.u16le(eocd + 10))
        var cdSize = Int(b.u32le(eocd + 12))
        var cdOffset = Int(b.u32le(eocd + 16))
        if b.u16le(eocd + 4) != 0 || b.u16le(eocd + 6) != 0 || b.u16le(eocd + 8) != b.u16le(eocd + 10) {
            throw fail("multi-disk archives are not supported")
        }
        var cdLimit = eocd  // the central directory must end before this offset

        // ZIP64 end-of-central-directory locator sits just before the classic end record.
        if eocd >= 20, b.u32le(eocd - 20) == 0x0706_4b50 {
            let loc = eocd - 20
            let rec64 = b.u64le(loc + 8)
            guard rec64 <= UInt64(loc), let r = b.checkedRange(Int(rec64), 56) else {
                throw fail("ZIP64 end record offset \(rec64) out of range")
            }
            let e = r.lowerBound
            guard b.u32le(e) == 0x0606_4b50 else { throw fail("bad ZIP64 end record signature") }
            let n64 = b.u64le(e + 32), size64 = b.u64le(e + 40), off64 = b.u64le(e + 48)
            guard n64 <= UInt64(b.count), size64 <= UInt64(b.count), off64 <= UInt64(b.count) else {
                throw fail("ZIP64 end record values exceed the file length")
            }
            entryCount = Int(n64); cdSize = Int(size64); cdOffset = Int(off64)
            cdLimit = e
        }

        guard let cdRange = b.checkedRange(cdOffset, cdSize), cdRange.upperBound <= cdLimit else {
            throw fail("central directory [\(cdOffset), +\(cdSize)) exceeds the file (\(b.count) bytes)")
        }
        guard entryCount <= cdSize / 46 else {
            throw fail("\(entryCount) entries cannot fit in a \(cdSize)-byte central directory")
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(entryCount)
        var index: [String: Int] = [:]
        var q = cdRange.lowerBound
        for i in 0..<entryCount {
            guard let h = b.checkedRange(q, 46), h.upperBound <= cdRange.upperBound else {
                throw fail("central directory entry \(i) truncated")
            }
            guard b.u32le(q) == 0x0201_4b50 else { throw fail("central directory entry \(i) has a bad signature") }
            let flags = b.u16le(q + 8)
            let method = b.u16le(q + 10)
            let crc = b.u32le(q + 16)
            var csize = UInt64(b.u32le(q + 20))
            var usize = UInt64(b.u32le(q + 24))
            let nameLength = Int(b.u16le(q + 28))
            let extraLength = Int(b.u16le(q + 30))
            let commentLength = Int(b.u16le(q + 32))
            var lho = UInt64(b.u32le(q + 42))
            let varLength = nameLength + extraLength + commentLength
            guard let v = b.checkedRange(q + 46, varLength), v.upperBound <= cdRange.upperBound else {
                throw fail("central directory entry \(i) name/extra/comment exceed the directory")
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: b[(q + 46)..<(q + 46 + nameLength)])
            let name = String(decoding: nameBytes, as: UTF8.self)

            // ZIP64 extended information: present fields are those whose 32-bit value is all ones.
            var x = q + 46 + nameLength
            let xEnd = x + extraLength
            while x + 4 <= xEnd {
                let id = b.u16le(x), len = Int(b.u16le(x + 2))
                guard x + 4 + len <= xEnd else { throw fail("entry '\(name)': extra field overruns") }
                if id == 0x0001 {
                    var f = x + 4
                    let fEnd = f + len
                    func next() throws -> UInt64 {
                        guard f + 8 <= fEnd else { throw fail("entry '\(name)': short ZIP64 extra field") }
                        defer { f += 8 }
                        return b.u64le(f)
                    }
                    if usize == 0xFFFF_FFFF { usize = try next() }
                    if csize == 0xFFFF_FFFF { csize = try next() }
                    if lho == 0xFFFF_FFFF { lho = try next() }
                }
                x += 4 + len
            }
            // A stored entry's size is its data length; a compressed entry's uncompressed size may
            // exceed the file but must still be representable as an Int (ZIP64 gives 64 bits).
            guard csize <= UInt64(b.count), lho <= UInt64(b.count),
                  method == 0 ? usize <= UInt64(b.count) : usize <= UInt64(Int.max) else {
                throw fail("entry '\(name)': size or offset exceeds the file length")
            }
            if flags & 1 != 0 { throw fail("entry '\(name)' is encrypted") }
            if method == 0 && csize != usize {
                throw fail("stored entry '\(name)' has compressed size \(csize) ≠ size \(usize)")
            }

            // Local header: the data starts after its own (possibly different) name and extra fields.
            let l = Int(lho)
            guard let lh = b.checkedRange(l, 30), lh.upperBound <= cdRange.lowerBound else {
                throw fail("entry '\(name)': local header at \(l) out of range")
            }
            guard b.u32le(l) == 0x0403_4b50 else { throw fail("entry '\(name)': bad local header signature") }
            let lNameLength = Int(b.u16le(l + 26)), lExtraLength = Int(b.u16le(l + 28))
            guard let ln = b.checkedRange(l + 30, lNameLength + lExtraLength), ln.upperBound <= cdRange.lowerBound else {
                throw fail("entry '\(name)': local header fields out of range")
            }
            let lName = UnsafeRawBufferPointer(rebasing: b[(l + 30)..<(l + 30 + lNameLength)])
            guard lName.elementsEqual(nameBytes) else {
                throw fail("entry '\(name)': local header name differs from the central directory")
            }
            let dataOffset = ln.upperBound
            guard let d = b.checkedRange(dataOffset, Int(csize)), d.upperBound <= cdRange.lowerBound else {
                throw fail("entry '\(name)': data [\(dataOffset), +\(csize)) exceeds the file (truncated?)")
            }
            if index[name] != nil { throw fail("duplicate entry '\(name)'") }
            index[name] = entries.count
            entries.append(ZipEntry(
                name: name, method: method, flags: flags, crc32: crc,
                compressedSize: Int(csize), uncompressedSize: Int(usize),
                localHeaderOffset: l, dataOffset: dataOffset))
            q = v.upperBound
        }

        // Entries must not overlap one another (a crafted archive could alias data).
        let sorted = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for k in sorted.indices.dropFirst() {
            let prev = sorted[k - 1]
            // Both terms are bounded by the file length (checked above), so the sum cannot overflow.
            if sorted[k].localHeaderOffset < prev.dataOffset + prev.compressedSize {
                throw fail("entries '\(prev.name)' and '\(sorted[k].name)' overlap")
            }
        }
        self.entries = entries
        self.index = index
    }

    public func entry(named name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    /// The stored bytes of an entry (no copy). Compressed entries are refused.
    public func data(of entry: ZipEntry, verifyCRC: Bool = false) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else {
            throw CheckpointError(path: path, .compressedEntry(name: entry.name, method: entry.method))
        }
        let d = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset..<(entry.dataOffset + entry.compressedSize)])
        if verifyCRC {
            let c = CRC32.checksum(d)
            if c != entry.crc32 {
                throw CheckpointError(path: path, .zip("entry '\(entry.name)': CRC-32 mismatch (stored \(hex(entry.crc32)), computed \(hex(c)))"))
            }
        }
        return d
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}

enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
        return c
    }

    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for byte in data { c = t[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
