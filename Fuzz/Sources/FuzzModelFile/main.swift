// ModelFile(path:) on a file holding the input (a .sam2q int8 model file, docs/model-file.md); when it
// validates, every tensor is handed out as the model's loaders would take it (fp32 copies, int8 GEMMs
// wrapped in place or repacked).
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RModelFile

let scratch = ScratchFile(suffix: ".sam2q")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        try ModelFileWeights(try ModelFile(path: scratch.path)).loadAll()
    } catch let e as ModelFileError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzModelFile))
