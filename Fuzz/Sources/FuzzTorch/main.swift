// Checkpoint(path:) on a torch.save zip (the `.pt` path: zip + pickle + storages + views), then
// every tensor read back as Float (and as Int64 for integer tensors).
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import SAM2RCheckpoint

let scratch = ScratchFile(suffix: ".pt")

/// Tensors with more elements than this are not read back: a stride-0 view may legitimately
/// describe a large tensor over a one-element storage (see docs/hardening.md).
let maxReadElements = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorch(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        let ck = try Checkpoint(torchZip: MappedFile(path: scratch.path))
        readAll(ck)
        try ck.verifyChecksums()
    } catch let e as CheckpointError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
    return 0
}

func readAll(_ ck: Checkpoint) {
    for name in ck.names {
        guard let info = ck[name] else { fatalError("name '\(name)' without info") }
        guard info.count <= maxReadElements else { continue }
        do {
            let v = try ck.floats(name)
            precondition(v.count == info.count)
            if [.int64, .int32, .int16, .int8, .uint8, .bool].contains(info.dtype) {
                let i = try ck.int64s(name)
                precondition(i.count == info.count)
            }
        } catch {
            fatalError("reading accepted tensor '\(name)' failed: \(error)")
        }
    }
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzTorch))
