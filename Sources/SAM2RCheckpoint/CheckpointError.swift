// Typed errors of the checkpoint readers. `description` is "<file>: <what>" on one line, so a CLI
// prints it as "error: \(error)".

public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// open/stat/mmap/read/write failed (errno text).
        case io(String)
        /// The file is not a zip, safetensors or npy file that this reader recognises.
        case unknownFormat(String)
        /// A zip structure is malformed (sizes, offsets, counts, signatures).
        case zip(String)
        /// A zip entry uses a compression method other than stored (0).
        case compressedEntry(name: String, method: UInt16)
        /// The pickle uses an opcode this reader does not implement (it never executes pickles).
        case unsupportedOpcode(opcode: UInt8, offset: Int)
        /// The pickle references a global outside the allowlist.
        case forbiddenGlobal(module: String, name: String)
        /// The pickle is malformed (stack underflow, truncated argument, wrong types).
        case pickle(String)
        /// The pickle is well formed but does not hold a state_dict of tensors.
        case layout(String)
        /// A tensor's dtype, shape, strides or storage range is invalid.
        case tensor(name: String, String)
        /// A safetensors header or data block is malformed.
        case safetensors(String)
        /// A .npy header or payload is malformed or unsupported.
        case npy(String)
        /// No tensor with this name.
        case noSuchTensor(String)
        /// The checkpoint's keys or shapes differ from the expected set.
        case keyMismatch(missing: [String], unexpected: [String], misshaped: [ShapeMismatch])
    }

    public struct ShapeMismatch: Equatable, Sendable, CustomStringConvertible {
        public let name: String
        public let expected: [Int]
        public let actual: [Int]
        public var description: String { "\(name): expected \(expected) got \(actual)" }
    }

    public let path: String
    public let reason: Reason

    public init(path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(message)" }

    /// The part after "<file>: ".
    public var message: String {
        switch reason {
        case .io(let s): return s
        case .unknownFormat(let s): return "unknown file format: \(s)"
        case .zip(let s): return "corrupt zip: \(s)"
        case .compressedEntry(let name, let method):
            return "zip entry '\(name)' is compressed with method \(method) (\(zipMethodName(method))); "
                + "only stored (0) entries are supported"
        case .unsupportedOpcode(let op, let off):
            return "unsupported pickle opcode \(pickleOpcodeName(op)) at byte \(off)"
        case .forbiddenGlobal(let m, let n):
            return "pickle references forbidden global '\(m).\(n)' (not executed)"
        case .pickle(let s): return "malformed pickle: \(s)"
        case .layout(let s): return "not a state_dict: \(s)"
        case .tensor(let name, let s): return "tensor '\(name)': \(s)"
        case .safetensors(let s): return "corrupt safetensors: \(s)"
        case .npy(let s): return "bad .npy: \(s)"
        case .noSuchTensor(let n): return "no tensor named '\(n)'"
        case .keyMismatch(let missing, let unexpected, let misshaped):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) missing (\(abbreviate(missing)))") }
            if !unexpected.isEmpty { parts.append("\(unexpected.count) unexpected (\(abbreviate(unexpected)))") }
            if !misshaped.isEmpty {
                parts.append("\(misshaped.count) mis-shaped (\(abbreviate(misshaped.map { $0.description })))")
            }
            return "state_dict does not match the model: " + parts.joined(separator: "; ")
        }
    }
}

private func abbreviate(_ items: [String], limit: Int = 8) -> String {
    if items.count <= limit { return items.joined(separator: ", ") }
    return items.prefix(limit).joined(separator: ", ") + ", … \(items.count - limit) more"
}

func zipMethodName(_ m: UInt16) -> String {
    switch m {
    case 0: return "stored"
    case 8: return "deflate"
    case 9: return "deflate64"
    case 12: return "bzip2"
    case 14: return "lzma"
    case 93: return "zstd"
    case 95: return "xz"
    default: return "unknown"
    }
}
