#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. The bytes stay valid while the object lives.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CheckpointError(path: path, .io("cannot open: \(errnoText())")) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw CheckpointError(path: path, .io("cannot stat: \(errnoText())")) }
        if (st.st_mode & S_IFMT) != S_IFREG { throw CheckpointError(path: path, .io("not a regular file")) }
        let size = Int(st.st_size)
        length = size
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil { throw CheckpointError(path: path, .io("cannot mmap: \(errnoText())")) }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base { munmap(base, length) }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

// MARK: - Bounds-checked little-endian reads

extension UnsafeRawBufferPointer {
    /// `start + count` with overflow checks; nil when out of `0...self.count`.
    @inline(__always)
    func checkedRange(_ start: Int, _ count: Int) -> Range<Int>? {
        guard start >= 0, count >= 0 else { return nil }
        let (end, o) = start.addingReportingOverflow(count)
        guard !o, end <= self.count else { return nil }
        return start..<end
    }

    @inline(__always)
    func u16le(_ at: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    @inline(__always)
    func u32le(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    @inline(__always)
    func u64le(_ at: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}
