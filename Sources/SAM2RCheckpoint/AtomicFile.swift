#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file as `<dir>/.<name>.tmp-<pid>-<n>` then renames it over `path`, so readers never
/// see a partial file and a failure leaves nothing behind. `body` receives a write function.
public func writeFileAtomically(path: String, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
    func ioError(_ s: String) -> CheckpointError { CheckpointError(path: path, .io(s)) }
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[...$0]) } ?? ""
    let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard !base.isEmpty else { throw ioError("not a file name") }
    var fd: Int32 = -1
    var tmp = ""
    for attempt in 0..<100 {
        tmp = "\(dir).\(base).tmp-\(getpid())-\(attempt)"
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 || errno != EEXIST { break }
    }
    if fd < 0 { throw ioError("cannot create \(tmp): \(errnoText())") }
    do {
        try body { chunk in
            var off = 0
            while off < chunk.count {
                let n = sysWrite(fd, chunk.baseAddress! + off, chunk.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("write failed: \(errnoText())")
                }
                off += n
            }
        }
        if fsync(fd) != 0 { throw ioError("fsync failed: \(errnoText())") }
    } catch {
        close(fd)
        unlink(tmp)
        throw error
    }
    if close(fd) != 0 {
        let e = errnoText()
        unlink(tmp)
        throw ioError("close failed: \(e)")
    }
    if rename(tmp, path) != 0 {
        let e = errnoText()
        unlink(tmp)
        throw ioError("cannot rename into place: \(e)")
    }
}

private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
