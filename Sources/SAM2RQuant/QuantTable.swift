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

    /// A calibrator label as a table field: `percentile 99.9` is written `percentile:99.9` (one field).
    static func field(_ label: String) -> String { replacing(UInt8(ascii: " "), UInt8(ascii: ":"), in: label) }
    /// A calibrator field read back as its label.
    static func label(_ field: String) -> String { replacing(UInt8(ascii: ":"), UInt8(ascii: " "), in: field) }

    /// `s` with every ASCII byte `a` replaced by `b`: a literal replacement like Foundation's
    /// `replacingOccurrences(of:with:)`, without its NSString round trip per field.
    static func replacing(_ a: UInt8, _ b: UInt8, in s: String) -> String {
        guard s.utf8.contains(a) else { return s }
        return String(decoding: s.utf8.map { $0 == a ? b : $0 }, as: UTF8.self)
    }

    /// A Float that reads back bit-exactly (Swift's shortest round-trip form).
    static func num(_ x: Float) -> String { x.isFinite ? "\(x)" : "0" }

    public func text() -> String {
        var s = "# \(QuantTable.magic) — int8 GEMM-input quantization table (docs/quantization-table.md).\n"
        s += "# Delete an entry line to keep that op in float.\n"
        s += "format \(QuantTable.formatVersion)\n"
        s += "model \(modelName)\n"
        s += "fingerprint \(fingerprint)\n"
        s += "calibrator \(QuantTable.field(calibrator))\n"
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
        s += " in=\(e.inFeatures) cal=\(QuantTable.field(e.calibrator))"
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
        return try parse(contents: data, path: path)
    }

    /// A table file's bytes as `read` gets them (and the fuzzer, from memory): UTF-8 text, then `parse`.
    public static func parse(contents: Data, path: String) throws -> QuantTable {
        guard let s = String(data: contents, encoding: .utf8) else { throw QuantTableError("\(path): not UTF-8 text") }
        return try parse(s, path: path)
    }

    static let headerKeys = ["format", "model", "fingerprint", "calibrator", "images", "prompts"]
    static let entryKeys: Set<String> = ["scale", "zp", "in", "cal", "min", "max", "clip", "clipped", "n"]

    /// Parses table text; errors name the file and line.
    public static func parse(_ text: String, path: String = "<table>") throws -> QuantTable {
        var text = text
        return try text.withUTF8 { try parse(utf8: $0, path: path) }
    }

    /// The parser proper, on the text's UTF-8 bytes: lines, comments and fields are all delimited by ASCII
    /// bytes (LF, CR LF, '#', space, tab), so one pass over the bytes finds them, and every piece cut out is
    /// whole scalars. (Splitting the String into Characters and trimming each line through Foundation took
    /// milliseconds for an 18 KB table.)
    static func parse(utf8 b: UnsafeBufferPointer<UInt8>, path: String) throws -> QuantTable {
        var header: [String: String] = [:]
        var entries: [QuantEntry] = []
        var seen = Set<String>()
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
        var lineStart = 0, ln = 0
        // Like splitting on "\n" without omitting empty lines: n line feeds make n + 1 lines.
        while lineStart <= b.count {
            ln += 1
            var end = lineStart
            while end < b.count, b[end] != 0x0A { end += 1 }
            defer { lineStart = end + 1 }
            // CR LF is a line end too, so CRLF tables read like LF ones.
            let rawEnd = end < b.count && end > lineStart && b[end - 1] == 0x0D ? end - 1 : end
            let line = ln
            func fail(_ why: String) -> QuantTableError { QuantTableError("\(path):\(line): \(why)") }
            guard rawEnd - lineStart <= maxLineBytes else {
                throw fail("line of \(rawEnd - lineStart) bytes (at most \(maxLineBytes))")
            }
            let (lo, hi) = trimmed(b, lineStart..<rawEnd)
            if lo == hi || b[lo] == UInt8(ascii: "#") { continue }
            // A lone "\r" (or any control character) in a value would not survive write + read (a "\r" before
            // the writer's "\n" turns into a CRLF line end), and would end up in messages verbatim.
            // (Index loops rather than `first(where:)` on a slice: unspecialized, as in the fuzzers' debug build,
            // that allocates per byte.)
            for c in UnsafeBufferPointer(rebasing: b[lo..<hi]) where (c < 0x20 && c != 0x09) || c == 0x7F {
                throw fail("control character U+\(String(c, radix: 16, uppercase: true)) (fields are separated by spaces or tabs)")
            }
            var f: [String] = []
            var i = lo
            while i < hi {
                while i < hi, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
                let s = i
                while i < hi, b[i] != 0x20, b[i] != 0x09 { i += 1 }
                if i > s { f.append(string(s..<i)) }
            }
            if headerKeys.contains(f[0]) {
                guard entries.isEmpty else { throw fail("header field '\(f[0])' after the first entry") }
                guard f.count == 2 else { throw fail("header '\(f[0])' needs exactly one value") }
                guard header[f[0]] == nil else { throw fail("duplicate header field '\(f[0])'") }
                if f[0] == "format" {
                    guard f[1] == String(formatVersion) else {
                        throw fail("format \(f[1]) not supported (this sam2r reads format \(formatVersion))")
                    }
                }
                if f[0] == "calibrator", !isCalibratorLabel(label(f[1])) {
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
                guard let eq = field.utf8.firstIndex(of: UInt8(ascii: "=")) else { throw fail("field '\(field)' is not key=value") }
                let k = String(decoding: field.utf8[..<eq], as: UTF8.self)
                let v = String(decoding: field.utf8[field.utf8.index(after: eq)...], as: UTF8.self)
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
            guard isCalibratorLabel(label(cal)) else {
                throw fail("unknown calibrator '\(cal)' (minmax, percentile:P, entropy or mse)")
            }
            // The least in sorted order: the same field is named in every run (dictionary order is per process).
            if let extra = kv.keys.filter({ !entryKeys.contains($0) }).min() { throw fail("unknown field '\(extra)'") }
            guard seen.insert(f[0]).inserted else { throw fail("duplicate entry '\(f[0])'") }
            entries.append(QuantEntry(
                name: f[0], inFeatures: k,
                params: QuantParams(scheme: scheme, scale: scale, zeroPoint: zp, clipLow: lo, clipHigh: hi),
                calibrator: label(cal),
                minValue: try float("min"), maxValue: try float("max"), clippedFraction: clipped, count: n))
        }
        for k in headerKeys where header[k] == nil {
            throw QuantTableError("\(path): missing header line '\(k)'")
        }
        guard let images = Int(header["images"]!), let prompts = Int(header["prompts"]!), images >= 0, prompts >= 0 else {
            throw QuantTableError("\(path): 'images' and 'prompts' must be integers >= 0")
        }
        return QuantTable(modelName: header["model"]!, fingerprint: header["fingerprint"]!,
                          calibrator: label(header["calibrator"]!),
                          images: images, prompts: prompts, entries: entries)
    }

    /// `r` without the whitespace Foundation's `trimmingCharacters(in: .whitespaces)` removes at either end:
    /// spaces, tabs and the other Unicode space separators (NBSP, U+2000..., U+3000), decoded only when a
    /// non-ASCII byte is at an end.
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> (Int, Int) {
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == "\t" || s.properties.generalCategory == .spaceSeparator }
        /// The scalar starting at byte `i` (the bytes are valid UTF-8) and its length.
        func scalar(at i: Int) -> (Unicode.Scalar, Int) {
            var it = b[i...].makeIterator()
            var d = UTF8()
            guard case .scalarValue(let s) = d.decode(&it) else { return ("\u{FFFD}", 1) }
            return (s, UTF8.width(s))
        }
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi {
            if b[lo] == 0x20 || b[lo] == 0x09 { lo += 1; continue }
            guard b[lo] >= 0x80 else { break }
            let (s, n) = scalar(at: lo)
            guard isSpace(s) else { break }
            lo += n
        }
        while hi > lo {
            if b[hi - 1] == 0x20 || b[hi - 1] == 0x09 { hi -= 1; continue }
            guard b[hi - 1] >= 0x80 else { break }
            var start = hi - 1
            while start > lo, b[start] & 0xC0 == 0x80 { start -= 1 }
            guard isSpace(scalar(at: start).0) else { break }
            hi = start
        }
        return (lo, hi)
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
