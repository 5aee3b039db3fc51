// The safetensors reader on a file holding the input, then every tensor read back as Float.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import SAM2RCheckpoint

let scratch = ScratchFile(suffix: ".safetensors")
let maxReadElements = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        let ck = try Checkpoint(safetensors: MappedFile(path: scratch.path))
        for name in ck.names {
            guard let info = ck[name] else { fatalError("name '\(name)' without info") }
            guard info.count <= maxReadElements else { continue }
            do {
                let v = try ck.floats(name)
                precondition(v.count == info.count)
            } catch {
                fatalError("reading accepted tensor '\(name)' failed: \(error)")
            }
        }
    } catch let e as CheckpointError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzSafeTensors))
