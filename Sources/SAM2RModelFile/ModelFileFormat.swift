// ModelFileFormat.swift — the constants of the `.sam2q` container (docs/model-file.md is the byte
// layout): magic, version, header and directory sizes, section and tensor kinds, and its typed error.

/// Constants of format version 1.
public enum ModelFileFormat {
    /// "SAM2Q\0\r\n": the NUL stops C string tools, CR LF catches text-mode transfers.
    public static let magic: [UInt8] = [0x53, 0x41, 0x4D, 0x32, 0x51, 0x00, 0x0D, 0x0A]
    public static let version: UInt32 = 1
    public static let headerBytes = 64
    public static let directoryEntryBytes = 32
    /// Every section and every array in the data section starts at a multiple of this.
    public static let alignment = 64
    /// Limits that keep a hostile file from asking for absurd allocations.
    public static let maxSections = 16
    public static let maxTensors = 1 << 20
    public static let maxNameBytes = 1024
    public static let maxRank = 8
    public static let maxArenaBuffers = 1 << 20
}

/// Section kinds (u32 in the directory). Each appears at most once.
public enum ModelFileSection: UInt32, CaseIterable, Sendable {
    /// The model config as JSON text (docs/model-config.md schema).
    case config = 1
    /// The quantization table text the file was made from (provenance; optional).
    case quant = 2
    /// The binary tensor table.
    case tensors = 3
    /// fp32 tensors and int8 GEMM arrays, each 64-byte aligned.
    case data = 4
    /// The arena plan for the config's input size.
    case arena = 5

    public var name: String {
        switch self {
        case .config: return "config"
        case .quant: return "quant"
        case .tensors: return "tensors"
        case .data: return "data"
        case .arena: return "arena"
        }
    }

    /// Sections a version-1 file must have.
    static let required: [ModelFileSection] = [.config, .tensors, .data, .arena]
}

/// Tensor kinds (u8 in the tensor table).
public enum ModelFileTensorKind: UInt8, Sendable {
    case float32 = 0
    case int8Gemm = 1
    /// IEEE binary16, row-major: the float nn.Linear weights of an int8 file (`sam2r quantize
    /// --float-weights f16`), widened exactly when read.
    case float16 = 2
}

/// A `.sam2q` file that cannot be read or written, on one line: "<file>: <problem>".
public struct ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case io, truncated, magic, version, header, directory, section, checksum, tensorTable, tensor, arena, config
    }
    public let path: String
    public let kind: Kind
    public let problem: String
    public init(_ path: String, _ kind: Kind, _ problem: String) {
        self.path = path; self.kind = kind; self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}
