// ModelFile(bytes:) on the input (a .sam2q int8 model file, docs/model-file.md), then on the input with
// its checksums recomputed; when a file validates, every tensor is handed out as the model's loaders
// would take it (fp32 copies, int8 GEMMs wrapped in place or repacked).
//
// From memory, not through a file: `ModelFile(path:)` only opens, stats and maps the file before handing
// the mapping to the same validation as `init(bytes:)`, and the file round trip (write, open, mmap, munmap,
// twice per input) cost most of each execution. The bytes are copied to a 64-byte aligned buffer of exactly
// their size, as a mapping is aligned: int8 GEMMs then take the zero-copy path the CLI takes, and ASan
// still sees every read past the end.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RModelFile
import SAM2REngine

let path = "fuzz.sam2q"

/// Opens `bytes` and hands out every tensor; only typed one-line errors may come out.
func check(_ bytes: UnsafeRawPointer?, _ size: Int) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: PackedWeightsS8.dataAlignment)
    defer { buffer.deallocate() }
    if size > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: size)) }
    do {
        try ModelFileWeights(try ModelFile(bytes: UnsafeRawBufferPointer(buffer), path: path)).loadAll()
    } catch let e as ModelFileError {
        checkMessage(e.description, path: path)
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
