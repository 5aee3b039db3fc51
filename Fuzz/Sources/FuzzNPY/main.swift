// NPY.read on a file holding the input.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RCheckpoint

let scratch = ScratchFile(suffix: ".npy")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        let (shape, values) = try NPY.read(path: scratch.path)
        precondition(shape.reduce(1, *) == values.count)
    } catch let e as CheckpointError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzNPY))
