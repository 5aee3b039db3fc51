// CalibrationPrompts.parse (the `sam2r calibrate --prompts` JSON) on the input bytes. Accepted prompts
// must be what the decoder can run: finite coordinates, labels 0/1, an ordered box, something to
// prompt with, and no refine on a file's first prompt.
import Foundation
import FuzzSupport
import SAM2RQuant

let path = "fuzz-prompts.json"

func checkPrompts(_ byFile: [String: [CalibrationPrompt]]) {
    for (file, prompts) in byFile {
        guard !prompts.isEmpty else { fatalError("'\(file)': accepted an empty prompt list") }
        for (i, p) in prompts.enumerated() {
            let at = "'\(file)'[\(i)]"
            for pt in p.points {
                guard pt.x.isFinite, pt.y.isFinite, pt.label == 0 || pt.label == 1 else { fatalError("\(at): accepted point \(pt)") }
            }
            if let b = p.box {
                guard b.x.isFinite, b.y.isFinite, b.z.isFinite, b.w.isFinite, b.x <= b.z, b.y <= b.w else {
                    fatalError("\(at): accepted box \(b)")
                }
            }
            guard !p.points.isEmpty || p.box != nil || p.refine else { fatalError("\(at): accepted an empty prompt") }
            guard !p.refine || i > 0 else { fatalError("\(at): accepted refine on the first prompt") }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrompts(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 ? Data(bytes: data!, count: size) : Data()
    do {
        checkPrompts(try CalibrationPrompts.parse(bytes, path: path))
    } catch let e as QuantTableError {
        checkMessage(e.description, path: path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzPrompts))
