// ModelFile(path:) on a file holding the input (a .sam2q int8 model file, docs/model-file.md), then on the
// input with its checksums recomputed; when a file validates, every tensor is handed out as the model's
// loaders would take it (fp32 copies, int8 GEMMs wrapped in place or repacked).
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RModelFile

let scratch = ScratchFile(suffix: ".sam2q")

/// Opens `bytes` and hands out every tensor; only typed one-line errors may come out.
func check(_ bytes: UnsafeRawPointer?, _ size: Int) {
    scratch.write(bytes, size)
    do {
        try ModelFileWeights(try ModelFile(path: scratch.path)).loadAll()
    } catch let e as ModelFileError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(data, size)
    // Almost every mutation breaks a CRC; the same bytes with their checksums recomputed reach the
    // structural checks behind them (directory, tensor table, arrays, int8 values, arena).
    var sealed = Array(UnsafeBufferPointer(start: data, count: size))
    ModelFileWriter.reseal(&sealed)
    sealed.withUnsafeBytes { check($0.baseAddress, $0.count) }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzModelFile))
