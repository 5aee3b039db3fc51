// ProfileCatalog.load (device profile JSON) on a file holding the input; an accepted profile is
// then evaluated against two machines and its float_ops globs are matched.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import SAM2RProfiles

let scratch = ScratchFile(suffix: ".json")
let machines = [
    MachineFacts(arch: "x86_64", supportedISA: ["scalar", "avx2"], features: "avx2", core: nil),
    MachineFacts(arch: "aarch64", supportedISA: ["scalar", "neon", "dotprod"], features: "asimd", core: "cortex-a76"),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    scratch.write(data, size)
    do {
        let p = try ProfileCatalog.load(path: scratch.path)
        for m in machines { _ = ProfileCatalog.evaluate(p, on: m) }
        _ = try? ProfileCatalog.auto([p], on: machines[0])
        _ = p.keepsInFloat("image_encoder.trunk.blocks.0.attn.qkv")
    } catch let e as ProfileError {
        checkMessage(e.description, path: scratch.path)
    } catch {
        untyped(error)
    }
    return 0
}

// SwiftPM links an executable's own main (top-level code); it hands over to libFuzzer.
exit(runLibFuzzer(fuzzProfile))
