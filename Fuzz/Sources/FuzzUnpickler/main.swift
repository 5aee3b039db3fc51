// Unpickler.load on raw bytes: the restricted pickle reader of torch checkpoints.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpickler(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    do {
        _ = try Unpickler.load(bytes, path: "fuzz.pkl")
    } catch let e as CheckpointError {
        checkMessage(e.description, path: "fuzz.pkl")
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzUnpickler))
