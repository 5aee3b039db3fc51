// QuantTable.parse(contents:) (the int8 quantization table, docs/quantization-table.md) on the input:
// what `QuantTable.read` does after reading the file, from memory (the file round trip per input bought
// nothing but time). An accepted table must hold the invariants the int8 path relies on, survive its own
// write/read round trip, and validate against the micro model or fail with a typed one-line error.
import Foundation
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RHost
import SAM2RModel
import SAM2RQuant

let path = "fuzz-table.txt"
// The micro model (Tests/Goldens/micro/config.json): its GEMM list and fingerprint, computed once.
let repo = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(4).joined(separator: "/"))
let micro = try! ModelConfigJSON.load(path: repo + "/Tests/Goldens/micro/config.json")
let microGemms = try! micro.gemmLayers()
let microFingerprint = try! QuantTable.fingerprint(config: micro)

/// What `sam2r run --table` feeds the int8 layers (Int8Linear refuses anything else, but without the
/// table's file name): a finite positive scale with a finite reciprocal, zp in range, 0 for s8-sym.
func checkInvariants(_ t: QuantTable) {
    var names = Set<String>()
    for e in t.entries {
        let p = e.params
        guard p.scale.isFinite, p.scale > 0, (1 / p.scale).isFinite else { fatalError("accepted scale \(p.scale) in \(e.name)") }
        guard (-128...127).contains(p.zeroPoint), p.scheme == .s8Asym || p.zeroPoint == 0 else {
            fatalError("accepted zp \(p.zeroPoint) (\(p.scheme)) in \(e.name)")
        }
        guard p.clipLow.isFinite, p.clipHigh.isFinite, p.clipLow <= p.clipHigh, e.minValue.isFinite, e.maxValue.isFinite,
              e.clippedFraction >= 0, e.clippedFraction <= 1, e.inFeatures > 0 else { fatalError("accepted entry \(e)") }
        guard !e.name.isEmpty, names.insert(e.name).inserted else { fatalError("accepted name '\(e.name)'") }
        guard QuantTable.isCalibratorLabel(e.calibrator) else { fatalError("accepted calibrator '\(e.calibrator)'") }
    }
    guard t.images >= 0, t.prompts >= 0 else { fatalError("accepted images \(t.images), prompts \(t.prompts)") }
    guard QuantTable.isCalibratorLabel(t.calibrator) else { fatalError("accepted calibrator '\(t.calibrator)'") }
}

/// What `sam2r calibrate` writes must read back: equal but for `clipped` (printed with 4 digits).
func checkRoundTrip(_ t: QuantTable) {
    let text = t.text()
    let back: QuantTable
    do { back = try QuantTable.parse(text, path: "round-trip") } catch {
        fatalError("accepted table does not read back: \(error)\n--- written:\n\(text)")
    }
    var same = back
    for i in same.entries.indices where i < t.entries.count { same.entries[i].clippedFraction = t.entries[i].clippedFraction }
    guard same == t, back.text() == text else { fatalError("round trip changed the table:\n\(text)\n---\n\(back.text())") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 ? Data(bytes: data!, count: size) : Data()
    do {
        let t = try QuantTable.parse(contents: bytes, path: path)
        checkInvariants(t)
        checkRoundTrip(t)
        try t.validate(gemms: microGemms, fingerprint: microFingerprint, modelName: micro.name, path: path)
    } catch let e as QuantTableError {
        checkLineMessage(e.description, path: path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzTable))
