// Model-file helpers shared by run, bench and inspect: recognising a .sam2q and reading its config.
import Foundation
import SAM2RHost
import SAM2RModel
import SAM2RModelFile

/// A path names an int8 model file: the .sam2q extension, or (any name) the file's magic.
func isModelFile(_ path: String) -> Bool {
    if path.hasSuffix(".sam2q") { return true }
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    let head = (try? h.read(upToCount: ModelFileFormat.magic.count)) ?? Data()
    return Array(head) == ModelFileFormat.magic
}

/// The config a model file carries (its `config` section, docs/model-config.md schema).
func modelFileConfig(_ f: ModelFile) throws -> ModelConfig {
    do {
        return try ModelConfigJSON.decode(Data(f.configJSON.utf8), defaultName: "model")
    } catch let e as ModelError {
        throw ModelFileError(f.path, .config, "config section: \(e)")
    } catch {
        throw ModelFileError(f.path, .config, "config section is not a valid model config JSON")
    }
}
