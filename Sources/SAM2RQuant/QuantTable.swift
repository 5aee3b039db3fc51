// QuantTable.swift — the calibration table: a text file, one line per quantized GEMM input
// (docs/quantization-table.md). Reader with validation, atomic writer, model check.

import Foundation
import SAM2RCheckpoint
import SAM2RModel

public struct QuantTableError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One quantized GEMM input.
public struct QuantEntry: Equatable, Sendable {
    /// The weight's state_dict prefix, e.g. `image_encoder.trunk.blocks.3.attn.qkv`.
    public var name: String
    /// GEMM K: the length of the input rows (in, or kh*kw*in for a Conv).
    public var inFeatures: Int
    public var params: QuantParams
    /// Calibrator label (`minmax`, `percentile 99.99` as `percentile:99.99`, ...).
    public var calibrator: String
    // What calibration saw.
    public var minValue: Float
    public var maxValue: Float
    public var clippedFraction: Double
    public var count: UInt64

    public init(name: String, inFeatures: Int, params: QuantParams, calibrator: String, minValue: Float,
                maxValue: Float, clippedFraction: Double, count: UInt64) {
        self.name = name; self.inFeatures = inFeatures; self.params = params; self.calibrator = calibrator
        self.minValue = minValue; self.maxValue = maxValue; self.clippedFraction = clippedFraction; self.count = count
    }
}

public struct QuantTable: Equatable, Sendable {
    public static let formatVersion = 1
    public static let magic = "sam2r-quant-table"
    /// Longest line the reader takes: entries are ~200 bytes; a longer line would be quoted whole in errors.
    public static let maxLineBytes = 4096

    /// Whether `label` (a calibrator as the table stores it, ':' read as ' ') names one `sam2r calibrate`
    /// writes: minmax, entropy, mse or `percentile P` with P in (0, 100].
    public static func isCalibratorLabel(_ label: String) -> Bool {
        let parts = label.split(separator: " ", omittingEmptySubsequences: false)
        if parts.count == 1, let m = CalibrationMethod(rawValue: String(parts[0])) { return m != .percentile }
        guard parts.count == 2, parts[0] == "percentile", let p = Double(parts[1]) else { return false }
        return p > 0 && p <= 100
    }

    public var modelName: String
    /// `fnv1a64:<16 hex>` of the model's tensor names and shapes (`QuantTable.fingerprint`).
    public var fingerprint: String
    public var calibrator: String
    public var images: Int
    public var prompts: Int
    public var entries: [QuantEntry]
    /// Calibrated GEMMs kept in float by choice (`sam2r calibrate --scope`): written as comment lines
    /// `# float: <entry>`, which the reader ignores; deleting the `# float: ` prefix quantizes the op.
    public var floatEntries: [QuantEntry] = []

    public init(modelName: String, fingerprint: String, calibrator: String, images: Int, prompts: Int,
                entries: [QuantEntry]) {
        self.modelName = modelName; self.fingerprint = fingerprint; self.calibrator = calibrator
        self.images = images; self.prompts = prompts; self.entries = entries
    }

    public func entry(_ name: String) -> QuantEntry? { entries.first { $0.name == name } }

    /// The int8 execution plan of the entries (SAM2ImagePredictor(quantization:)); GEMMs without an entry stay fp32.
    public var int8Plan: Int8Plan {
        Dictionary(entries.map { ($0.name, (scale: $0.params.scale, zeroPoint: Int32(clamping: $0.params.zeroPoint))) },
                   uniquingKeysWith: { a, _ in a })
    }

    // MARK: - Fingerprint

    /// FNV-1a 64 over "name:d0xd1x...\n" of every tensor the image path reads (sorted by name), so a table
    /// made for another architecture or size is detected whatever the checkpoint's file format.
    public static func fingerprint(_ weights: [(name: String, shape: [Int])]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for w in weights.sorted(by: { $0.name < $1.name }) {
            for b in (w.name + ":" + w.shape.map(String.init).joined(separator: "x") + "\n").utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
        }
        let hex = String(h, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    public static func fingerprint(config: ModelConfig) throws -> String {
        fingerprint(try config.expectedWeights())
    }

    // MARK: - Text

    /// A Float that reads back bit-exactly (Swift's shortest round-trip form).
    static func num(_ x: Float) -> String { x.isFinite ? "\(x)" : "0" }

    public func text() -> String {
        var s = "# \(QuantTable.magic) — int8 GEMM-input quantization table (docs/quantization-table.md).\n"
        s += "# Delete an entry line to keep that op in float.\n"
        s += "format \(QuantTable.formatVersion)\n"
        s += "model \(modelName)\n"
        s += "fingerprint \(fingerprint)\n"
        s += "calibrator \(calibrator.replacingOccurrences(of: " ", with: ":"))\n"
        s += "images \(images)\n"
        s += "prompts \(prompts)\n"
        s += "# name scheme scale zero_point in calibrator min max clip_low clip_high clipped count\n"
        for e in entries { s += entryLine(e) }
        if !floatEntries.isEmpty {
            s += "# Calibrated but kept in float (sam2r calibrate --scope, docs/eval.md); delete '# float: ' to quantize:\n"
            for e in floatEntries { s += "# float: " + entryLine(e) }
        }
        return s
    }

    func entryLine(_ e: QuantEntry) -> String {
        var s = "\(e.name) \(e.params.scheme.rawValue) scale=\(QuantTable.num(e.params.scale)) zp=\(e.params.zeroPoint)"
        s += " in=\(e.inFeatures) cal=\(e.calibrator.replacingOccurrences(of: " ", with: ":"))"
        s += " min=\(QuantTable.num(e.minValue)) max=\(QuantTable.num(e.maxValue))"
        s += " clip=\(QuantTable.num(e.params.clipLow)),\(QuantTable.num(e.params.clipHigh))"
        s += " clipped=\(String(format: "%.3e", e.clippedFraction)) n=\(e.count)\n"
        return s
    }

    /// The default int8 scope (docs/eval.md): GEMMs on the image side — the image encoder, the mask
    /// decoder's two upscaling ConvTransposes (image-resolution inputs, 22 % of the decoder's MACs) and
    /// the refiner's localization augment — run in int8; the prompt/mask side (prompt encoder, the mask
    /// decoder's transformer and heads, the refiner's prompt retargeting and mask refinement) stays float.
    /// Measured on seeded tiny: the int8 decoder alone costs as much mask IoU as the whole int8 encoder
    /// for ~2 % of the MACs; the upscaling alone in int8 costs 0.0004 mean IoU and no chosen-mask flip.
    public static func isImageSide(_ gemm: String) -> Bool {
        gemm.hasPrefix("image_encoder.") || gemm.hasPrefix("sam_mask_decoder.output_upscaling.")
            || gemm.hasPrefix("refiner.la.")
    }

    /// Writes the table atomically (temporary file in the same directory, then rename).
    public func write(path: String) throws {
        let bytes = Array(text().utf8)
        do {
            try writeFileAtomically(path: path) { write in try bytes.withUnsafeBytes { try write($0) } }
        } catch let e as CheckpointError {
            throw QuantTableError("\(e)")
        }
    }

    public static func read(path: String) throws -> QuantTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QuantTableError("\(path): cannot read")
        }
        guard let s = String(data: data, encoding: .utf8) else { throw QuantTableError("\(path): not UTF-8 text") }
        return try parse(s, path: path)
    }

    /// Parses table text; errors name the file and line.
    public static func parse(_ text: String, path: String = "<table>") throws -> QuantTable {
        var header: [String: String] = [:]
        var entries: [QuantEntry] = []
        var seen = Set<String>()
        // "\r\n" is one Character in Swift: split on it too, so CRLF tables read like LF ones.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (i, raw) in lines.enumerated() {
            let ln = i + 1
            func fail(_ why: String) -> QuantTableError { QuantTableError("\(path):\(ln): \(why)") }
            guard raw.utf8.count <= maxLineBytes else { throw fail("line of \(raw.utf8.count) bytes (at most \(maxLineBytes))") }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            // A lone "\r" (or any control character) in a value would not survive write + read (a "\r" before
            // the writer's "\n" turns into a CRLF line end), and would end up in messages verbatim.
            if let c = line.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                throw fail("control character U+\(String(c.value, radix: 16, uppercase: true)) (fields are separated by spaces or tabs)")
            }
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let headerKeys = ["format", "model", "fingerprint", "calibrator", "images", "prompts"]
            if headerKeys.contains(f[0]) {
                guard entries.isEmpty else { throw fail("header field '\(f[0])' after the first entry") }
                guard f.count == 2 else { throw fail("header '\(f[0])' needs exactly one value") }
                guard header[f[0]] == nil else { throw fail("duplicate header field '\(f[0])'") }
                if f[0] == "format" {
                    guard f[1] == String(formatVersion) else {
                        throw fail("format \(f[1]) not supported (this sam2r reads format \(formatVersion))")
                    }
                }
                if f[0] == "calibrator", !isCalibratorLabel(f[1].replacingOccurrences(of: ":", with: " ")) {
                    throw fail("unknown calibrator '\(f[1])' (minmax, percentile:P, entropy or mse)")
                }
                header[f[0]] = f[1]
                continue
            }
            guard header["format"] != nil else { throw fail("entry before the 'format' header line") }
            guard f.count == 11 else { throw fail("entry '\(f[0])' has \(f.count) fields, expected 11") }
            guard let scheme = QuantScheme(rawValue: f[1]) else {
                throw fail("unknown scheme '\(f[1])' (s8-sym or s8-asym)")
            }
            var kv: [String: String] = [:]
            for field in f[2...] {
                guard let eq = field.firstIndex(of: "=") else { throw fail("field '\(field)' is not key=value") }
                let k = String(field[..<eq]), v = String(field[field.index(after: eq)...])
                guard kv[k] == nil else { throw fail("duplicate field '\(k)'") }
                kv[k] = v
            }
            func float(_ k: String) throws -> Float {
                guard let v = kv[k] else { throw fail("missing field '\(k)'") }
                guard let x = Float(v), x.isFinite else { throw fail("\(k)=\(v) is not a finite number") }
                return x
            }
            func int(_ k: String) throws -> Int {
                guard let v = kv[k], let x = Int(v) else { throw fail("\(k)=\(kv[k] ?? "") is not an integer") }
                return x
            }
            let scale = try float("scale"), zp = try int("zp"), k = try int("in")
            // A subnormal scale has an infinite reciprocal (the int8 layers quantize with 1/scale).
            guard scale > 0, (1 / scale).isFinite else { throw fail("scale \(scale) must be > 0 with a finite reciprocal") }
            guard (-128...127).contains(zp) else { throw fail("zp \(zp) outside -128...127") }
            guard scheme == .s8Asym || zp == 0 else { throw fail("s8-sym needs zp=0, got \(zp)") }
            guard k > 0 else { throw fail("in=\(k) must be > 0") }
            guard let clip = kv["clip"] else { throw fail("missing field 'clip'") }
            let cl = clip.split(separator: ",")
            guard cl.count == 2, let lo = Float(cl[0]), let hi = Float(cl[1]), lo.isFinite, hi.isFinite, lo <= hi else {
                throw fail("clip=\(clip) is not LOW,HIGH")
            }
            guard let clipped = kv["clipped"].flatMap(Double.init), clipped >= 0, clipped <= 1 else {
                throw fail("clipped=\(kv["clipped"] ?? "") is not a fraction in 0...1")
            }
            guard let n = kv["n"].flatMap(UInt64.init) else { throw fail("n=\(kv["n"] ?? "") is not a count") }
            guard let cal = kv["cal"], !cal.isEmpty else { throw fail("missing field 'cal'") }
            guard isCalibratorLabel(cal.replacingOccurrences(of: ":", with: " ")) else {
                throw fail("unknown calibrator '\(cal)' (minmax, percentile:P, entropy or mse)")
            }
            let known = Set(["scale", "zp", "in", "cal", "min", "max", "clip", "clipped", "n"])
            // Sorted: the same field is named in every run (dictionary order is per process).
            if let extra = kv.keys.sorted().first(where: { !known.contains($0) }) { throw fail("unknown field '\(extra)'") }
            guard seen.insert(f[0]).inserted else { throw fail("duplicate entry '\(f[0])'") }
            entries.append(QuantEntry(
                name: f[0], inFeatures: k,
                params: QuantParams(scheme: scheme, scale: scale, zeroPoint: zp, clipLow: lo, clipHigh: hi),
                calibrator: cal.replacingOccurrences(of: ":", with: " "),
                minValue: try float("min"), maxValue: try float("max"), clippedFraction: clipped, count: n))
        }
        for k in ["format", "model", "fingerprint", "calibrator", "images", "prompts"] where header[k] == nil {
            throw QuantTableError("\(path): missing header line '\(k)'")
        }
        guard let images = Int(header["images"]!), let prompts = Int(header["prompts"]!), images >= 0, prompts >= 0 else {
            throw QuantTableError("\(path): 'images' and 'prompts' must be integers >= 0")
        }
        return QuantTable(modelName: header["model"]!, fingerprint: header["fingerprint"]!,
                          calibrator: header["calibrator"]!.replacingOccurrences(of: ":", with: " "),
                          images: images, prompts: prompts, entries: entries)
    }

    // MARK: - Model check

    /// Checks the table against a model: every entry must name one of its GEMMs with the same input
    /// length, and the fingerprints must agree. Entries may be missing (those ops stay in float).
    /// The error lists every mismatched tensor.
    public func validate(gemms: [GemmLayer], fingerprint fp: String, modelName: String, path: String = "<table>") throws {
        let byName = Dictionary(gemms.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var bad: [String] = []
        for e in entries {
            if let g = byName[e.name] {
                if g.inFeatures != e.inFeatures { bad.append("\(e.name) (in=\(e.inFeatures), model has \(g.inFeatures))") }
            } else {
                bad.append("\(e.name) (not a GEMM of the model)")
            }
        }
        if !bad.isEmpty {
            throw QuantTableError("\(path): table for model '\(self.modelName)' does not match model '\(modelName)': "
                                  + "\(bad.count) mismatched tensor(s): " + bad.joined(separator: ", "))
        }
        if fp != fingerprint {
            throw QuantTableError("\(path): table for model '\(self.modelName)' (\(fingerprint)) does not match model "
                                  + "'\(modelName)' (\(fp)): same GEMM inputs, different tensor names/shapes elsewhere")
        }
    }
}
