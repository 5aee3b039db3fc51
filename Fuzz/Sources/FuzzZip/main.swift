// ZipArchive on a file holding the input, then every entry's data with its CRC checked.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RCheckpoint

let scratch = ScratchFile(suffix: ".zip")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        let zip = try ZipArchive(path: scratch.path)
        for e in zip.entries {
            do {
                let d = try zip.data(of: e, verifyCRC: true)
                precondition(d.count == e.compressedSize)
            } catch let err as CheckpointError {
                checkMessage(err.description, path: scratch.path)
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
exit(runLibFuzzer(fuzzZip))
