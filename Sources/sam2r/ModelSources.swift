// How the commands open a model: a checkpoint checked against its config, a quantization table as an
// int8 plan, or an int8 model file (.sam2q) recognised by name or magic, with the config it carries.
import Foundation
import SAM2RCheckpoint
import SAM2RHost
import SAM2RModel
import SAM2RModelFile
import SAM2RQuant

/// A checkpoint with exactly the tensors `cfg` needs (one-line error naming the first mismatch).
func openCheckpoint(_ path: String, config cfg: ModelConfig) throws -> Checkpoint {
    let ckpt = try Checkpoint(path: path)
    // docs/refiner.md: refiner weights (any `refiner.` key) need the config's `refiner` object.
    if cfg.refiner == nil, let key = ckpt.names.first(where: { $0.hasPrefix("refiner.") }) {
        throw CLIError("\(path): has SAM2Refiner weights ('\(key)') but config \(cfg.name) has no \"refiner\" object")
    }
    do {
        try WeightValidation.validate(ckpt, names: ckpt.names, config: cfg)
    } catch let e as WeightKeyError {
        throw CLIError("\(path): \(e.description) (config \(cfg.name))")
    }
    return ckpt
}

/// The int8 plan of a quantization table checked against `cfg` (every mismatched tensor listed), without
/// the GEMMs `keepInFloat` names.
func int8Plan(table path: String, config cfg: ModelConfig, keepInFloat: (String) -> Bool = { _ in false }) throws -> Int8Plan {
    try checkedTable(path, config: cfg, keepInFloat: keepInFloat).int8Plan
}

/// A quantization table checked against `cfg` (every mismatched tensor listed), without the entries
/// `keepInFloat` names.
func checkedTable(_ path: String, config cfg: ModelConfig, keepInFloat: (String) -> Bool = { _ in false }) throws -> QuantTable {
    var t = try QuantTable.read(path: path)
    try t.validate(gemms: cfg.gemmLayers(), fingerprint: QuantTable.fingerprint(config: cfg), modelName: cfg.name, path: path)
    t.entries.removeAll { keepInFloat($0.name) }
    return t
}

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
