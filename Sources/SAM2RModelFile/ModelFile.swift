// ModelFile.swift — opens a `.sam2q` file: maps it read-only and validates everything (header,
// directory, section bounds/alignment/overlap, every section's CRC-32, the tensor table, every array's
// range, alignment and size, the int8 values and wsum, the arena plan) before anything is used.
// Each failure is a ModelFileError naming the file and the problem on one line.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SAM2REngine

/// A validated, memory-mapped `.sam2q` file. The mapping lives as long as this object (and every
/// PackedWeightsS8 made over it through `ModelFileWeights`, which keeps it alive).
public final class ModelFile: @unchecked Sendable {
    public struct SectionInfo: Sendable, Equatable {
        public let kind: ModelFileSection
        public let offset: Int
        public let length: Int
        public let crc: UInt32
    }

    public let path: String
    public let version: UInt32
    public let fileSize: Int
    public let sections: [SectionInfo]
    public let configJSON: String
    public let tableText: String?
    /// The variant name the int8 GEMMs were packed for, and its layout.
    public let packingName: String
    public let packing: (nr: Int, kr: Int)
    /// The largest |weight| of the int8 GEMMs (≤ 63 for 7-bit weights, which the narrow-weight kernels run).
    public let maxWeightMagnitude: Int
    public let tensors: [ModelFileTensor]
    public let arena: ModelFileArena
    /// Seconds spent on CRC-32 verification while opening (docs/model-file.md reports it).
    public let checksumSeconds: Double

    private let base: UnsafeMutableRawPointer?
    private let length: Int
    /// The data section.
    let data: UnsafeRawBufferPointer
    private let index: [String: Int]

    /// Maps and validates `path`.
    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ModelFileError(path, .io, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelFileError(path, .io, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ModelFileError(path, .io, "not a regular file") }
        let size = Int(st.st_size)
        guard size >= ModelFileFormat.headerBytes else {
            throw ModelFileError(path, .truncated, "truncated: \(size) bytes, shorter than the \(ModelFileFormat.headerBytes)-byte header")
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw ModelFileError(path, .io, "cannot mmap: \(String(cString: strerror(errno)))") }
        do {
            try self.init(path: path, mapping: p, length: size)
        } catch {
            munmap(p, size)
            throw error
        }
    }

    /// Validates bytes already in memory (tests, fuzzing); they must outlive the object and are not freed.
    public convenience init(bytes: UnsafeRawBufferPointer, path: String = "<memory>") throws {
        try self.init(path: path, bytes: bytes, owned: nil)
    }

    private convenience init(path: String, mapping: UnsafeMutableRawPointer, length: Int) throws {
        try self.init(path: path, bytes: UnsafeRawBufferPointer(start: mapping, count: length), owned: mapping)
    }

    private init(path: String, bytes file: UnsafeRawBufferPointer, owned: UnsafeMutableRawPointer?) throws {
        func err(_ k: ModelFileError.Kind, _ s: String) -> ModelFileError { ModelFileError(path, k, s) }
        let size = file.count
        guard size >= ModelFileFormat.headerBytes else {
            throw err(.truncated, "truncated: \(size) bytes, shorter than the \(ModelFileFormat.headerBytes)-byte header")
        }
        // Header.
        guard ModelFileFormat.magic.indices.allSatisfy({ file[$0] == ModelFileFormat.magic[$0] }) else {
            throw err(.magic, "not a sam2r model file (bad magic)")
        }
        var h = ByteReader(UnsafeRawBufferPointer(rebasing: file[0..<ModelFileFormat.headerBytes])) { err(.header, "header: \($0)") }
        h.pos = 8
        let version = try h.u32("version")
        let count = Int(try h.u32("section count"))
        let dirOffset = try h.int("directory offset")
        let declaredSize = try h.int("file size")
        let dirCRC = try h.u32("directory checksum")
        h.pos = 60
        let headerCRC = try h.u32("header checksum")
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: file[0..<60])) == headerCRC else {
            throw err(.checksum, "header checksum mismatch (corrupted header)")
        }
        guard version == ModelFileFormat.version else {
            throw err(.version, "format version \(version) not supported (this sam2r reads version \(ModelFileFormat.version))")
        }
        guard declaredSize == size else {
            throw err(.truncated, declaredSize > size ? "truncated: \(size) bytes, header says \(declaredSize)"
                                                     : "\(size) bytes, header says \(declaredSize) (trailing data)")
        }
        guard (1...ModelFileFormat.maxSections).contains(count) else {
            throw err(.header, "section count \(count) outside 1...\(ModelFileFormat.maxSections)")
        }
        let dirBytes = count * ModelFileFormat.directoryEntryBytes
        guard dirOffset >= ModelFileFormat.headerBytes, let dirEnd = add(dirOffset, dirBytes), dirEnd <= size else {
            throw err(.directory, "section directory (\(dirBytes) bytes at \(dirOffset)) outside the file")
        }
        let dirRaw = UnsafeRawBufferPointer(rebasing: file[dirOffset..<dirEnd])
        guard CRC32.checksum(dirRaw) == dirCRC else { throw err(.checksum, "section directory checksum mismatch") }

        // Directory.
        var d = ByteReader(dirRaw) { err(.directory, "section directory: \($0)") }
        var sections: [SectionInfo] = []
        for i in 0..<count {
            let kindRaw = try d.u32("kind")
            _ = try d.u32("reserved")
            let off = try d.int("offset"), len = try d.int("length")
            let crc = try d.u32("checksum")
            _ = try d.u32("reserved")
            guard let kind = ModelFileSection(rawValue: kindRaw) else { throw err(.directory, "section \(i): unknown kind \(kindRaw)") }
            guard !sections.contains(where: { $0.kind == kind }) else { throw err(.directory, "section '\(kind.name)' appears twice") }
            guard off % ModelFileFormat.alignment == 0 else {
                throw err(.section, "section '\(kind.name)' at \(off) is not \(ModelFileFormat.alignment)-byte aligned")
            }
            guard off >= dirEnd, let end = add(off, len), end <= size else {
                throw err(.section, "section '\(kind.name)' (\(len) bytes at \(off)) outside the file (\(size) bytes)")
            }
            sections.append(SectionInfo(kind: kind, offset: off, length: len, crc: crc))
        }
        let sorted = sections.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.length > b.offset {
            throw err(.section, "sections '\(a.kind.name)' and '\(b.kind.name)' overlap")
        }
        for r in ModelFileSection.required where !sections.contains(where: { $0.kind == r }) {
            throw err(.section, "no '\(r.name)' section")
        }
        func bytes(_ k: ModelFileSection) -> UnsafeRawBufferPointer? {
            sections.first { $0.kind == k }.map { UnsafeRawBufferPointer(rebasing: file[$0.offset..<($0.offset + $0.length)]) }
        }
        // Checksums of every section before reading any of them.
        let t0 = ModelFile.now()
        for s in sections where CRC32.checksum(bytes(s.kind)!) != s.crc {
            throw err(.checksum, "section '\(s.kind.name)' checksum mismatch (corrupted)")
        }
        checksumSeconds = ModelFile.now() - t0

        func text(_ k: ModelFileSection) throws -> String? {
            guard let b = bytes(k) else { return nil }
            guard let s = String(validating: b.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
                throw err(.section, "section '\(k.name)' is not UTF-8 text")
            }
            return s
        }
        configJSON = try text(.config)!
        tableText = try text(.quant)
        let dataBytes = bytes(.data)!
        let table = try ModelFile.readTensors(bytes(.tensors)!, dataBytes: dataBytes, err: err)
        arena = try ModelFile.readArena(bytes(.arena)!, err: err)

        self.path = path
        self.version = version
        fileSize = size
        self.sections = sections
        packingName = table.packingName
        packing = table.packing
        maxWeightMagnitude = table.maxWeightMagnitude
        tensors = table.tensors
        index = table.index
        data = dataBytes
        base = owned
        length = size
    }

    deinit {
        if let base { munmap(base, length) }
    }

    /// Drops the mapping's resident pages once the model is loaded: the checksum pass touched every page and
    /// the fp32 tensors were copied out; int8 weights used in place fault back in from the file when the
    /// kernels first read them (the mapping is private and read-only, so nothing is lost). Lowers the peak
    /// RSS of a run by the fp32 tensors' share of the file. No-op for a model read from memory.
    public func releaseResidentPages() {
        if let base { _ = madvise(base, length, MADV_DONTNEED) }
    }

    /// The tensor named `name`.
    public func tensor(_ name: String) -> ModelFileTensor? { index[name].map { tensors[$0] } }

    /// Bytes of the data section (a range the reader validated).
    func bytes(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: data[r]) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
