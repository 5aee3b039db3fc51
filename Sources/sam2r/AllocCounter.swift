// AllocCounter.swift — heap allocation counters of libsam2r-alloccount.so (Sources/SAM2RAllocCount), found with
// dlsym in this process; when absent, `preloadIfNeeded` re-executes sam2r once with LD_PRELOAD set. sam2r never
// links the library. Library lookup: $SAM2R_ALLOCCOUNT_LIB, else libsam2r-alloccount.so next to the executable.
#if canImport(Glibc)
import Glibc
#endif

struct AllocCounter {
    typealias Fn = @convention(c) () -> UInt64
    let allocations: Fn
    let bytes: Fn
    /// sam2r_alloccount_trace: backtraces of every allocation to stderr while on.
    let trace: (@convention(c) (Int32) -> Void)?

    static let reexecMarker = "SAM2R_ALLOCCOUNT_REEXEC"
    static let libraryName = "libsam2r-alloccount.so"

    struct Snapshot { let allocations: UInt64; let bytes: UInt64 }
    func snapshot() -> Snapshot { Snapshot(allocations: allocations(), bytes: bytes()) }

    /// The counters if the library is in the process and counts a known allocation.
    static func load() -> AllocCounter? {
        guard let a = dlsym(nil, "sam2r_alloccount_allocations"), let b = dlsym(nil, "sam2r_alloccount_bytes") else {
            return nil
        }
        let c = AllocCounter(allocations: unsafeBitCast(a, to: Fn.self), bytes: unsafeBitCast(b, to: Fn.self),
                             trace: dlsym(nil, "sam2r_alloccount_trace").map {
                                 unsafeBitCast($0, to: (@convention(c) (Int32) -> Void).self)
                             })
        // Self-check: one malloc must show. Called through the pointer the dynamic linker resolves (the compiler
        // may delete a direct malloc/free pair whose memory is never used).
        guard let m = dlsym(nil, "malloc"), let f = dlsym(nil, "free") else { return nil }
        let before = c.allocations()
        let p = unsafeBitCast(m, to: (@convention(c) (Int) -> UnsafeMutableRawPointer?).self)(40)
        let after = c.allocations()
        unsafeBitCast(f, to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)(p)
        return after > before ? c : nil
    }

    static var unavailableReason: String {
        getenv(reexecMarker) != nil ? "\(libraryName) preloaded but its counters did not appear"
            : "\(libraryName) not found: build the sam2r-alloccount product or set SAM2R_ALLOCCOUNT_LIB"
    }

    static func libraryPath() -> String? {
        if let env = getenv("SAM2R_ALLOCCOUNT_LIB") {
            let p = String(cString: env)
            return access(p, R_OK) == 0 ? p : nil
        }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = exe.lastIndex(of: "/") else { return nil }
        let p = String(exe[..<slash]) + "/" + libraryName
        return access(p, R_OK) == 0 ? p : nil
    }

    /// Re-executes this process with the library preloaded (once; returns if that is impossible or already done).
    static func preloadIfNeeded() {
        guard dlsym(nil, "sam2r_alloccount_allocations") == nil, getenv(reexecMarker) == nil,
              let lib = libraryPath() else { return }
        var preload = lib
        if let old = getenv("LD_PRELOAD"), old.pointee != 0 { preload += ":" + String(cString: old) }
        setenv("LD_PRELOAD", preload, 1)
        setenv(reexecMarker, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv failed: carry on without counting.
        unsetenv("LD_PRELOAD")
    }
}
