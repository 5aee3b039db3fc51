// Shared pieces of the fuzz targets: a scratch file the path-based readers can open, and the
// contract every reader error must meet.
#if canImport(Glibc)
import Glibc
#endif

/// One file per process under /dev/shm (tmpfs; $TMPDIR or /tmp otherwise), rewritten for each
/// input: the readers only take paths and map the file, so this is the cheapest way in.
public final class ScratchFile: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(suffix: String) {
        var dir = "/dev/shm"
        if access(dir, W_OK) != 0 {
            if let t = getenv("TMPDIR") { dir = String(cString: t) } else { dir = "/tmp" }
        }
        path = "\(dir)/sam2r-fuzz-\(getpid())\(suffix)"
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { fatalError("cannot create \(path)") }
        ScratchFile.created.append(path)
        if ScratchFile.created.count == 1 {
            atexit { for p in ScratchFile.created { unlink(p) } }
        }
    }

    nonisolated(unsafe) static var created: [String] = []

    /// Replaces the file's contents with `count` bytes at `data`.
    public func write(_ data: UnsafeRawPointer?, _ count: Int) {
        if ftruncate(fd, 0) != 0 { fatalError("ftruncate failed") }
        var off = 0
        while off < count {
            let n = pwrite(fd, data! + off, count - off, off_t(off))
            if n <= 0 { fatalError("pwrite failed") }
            off += n
        }
    }
}

/// Whether multi-line error messages abort the run (SAM2R_FUZZ_ONELINE=1). Off by default: some
/// readers put names taken from the input into messages verbatim (reported in docs/hardening.md),
/// and that must not stop the search for crashes.
public let strictOneLine: Bool = getenv("SAM2R_FUZZ_ONELINE").map { String(cString: $0) == "1" } ?? false

/// The contract of a reader error: "<path>: <what>", non-empty, one line (when strict).
public func checkMessage(_ description: String, path: String) {
    guard description.hasPrefix(path + ": "), description.count > path.count + 2 else {
        fatalError("error does not read '<file>: <what>': \(description)")
    }
    if strictOneLine, description.contains(where: { $0 == "\n" || $0 == "\r" }) {
        fatalError("multi-line error message: \(description.debugDescription)")
    }
}

/// The contract of a line-oriented reader's error (quantization tables): "<path>: <what>" or
/// "<path>:<line>: <what>", otherwise as `checkMessage`.
public func checkLineMessage(_ description: String, path: String) {
    var rest = Substring(description)
    if rest.hasPrefix(path + ":") {
        let afterColon = rest.dropFirst(path.count + 1)
        let digits = afterColon.prefix(while: { $0.isASCII && $0.isNumber })
        if !digits.isEmpty, afterColon.dropFirst(digits.count).hasPrefix(": ") {
            rest = Substring(path) + afterColon.dropFirst(digits.count)
        }
    }
    checkMessage(String(rest), path: path)
}

/// For an error of an unexpected type: the reader leaked an untyped error.
public func untyped(_ error: Error) -> Never {
    fatalError("untyped error \(type(of: error)): \(error)")
}

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzCallback) -> Int32

/// Runs libFuzzer with the process arguments (the executable's main is SwiftPM's, not libFuzzer's).
public func runLibFuzzer(_ callback: FuzzCallback) -> Int32 {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
