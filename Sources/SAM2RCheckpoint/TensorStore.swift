// The common view of a checkpoint: tensor names → shape, dtype and a Float accessor, whatever the
// file format. Tensors point into the memory-mapped file; nothing is copied until it is read.

/// What is known about one tensor without reading it.
public struct TensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// Element strides (row-major contiguous for safetensors).
    public let strides: [Int]
    /// Offset of element 0 within the storage, in elements.
    public let storageOffset: Int

    /// Element count (a `Checkpoint` checks it is at most `Checkpoint.maxTensorElements` at load).
    public var count: Int { shape.reduce(1, *) }

    public var isContiguous: Bool {
        var expected = 1
        for d in shape.indices.reversed() where shape[d] != 1 {
            if strides[d] != expected { return false }
            // Overflows only past a zero dimension (an empty tensor, never read element-wise).
            let (e, o) = expected.multipliedReportingOverflow(by: shape[d])
            if o { return false }
            expected = e
        }
        return true
    }
}

public final class Checkpoint: @unchecked Sendable {
    public enum Format: String, Sendable { case torchZip = "torch zip", safetensors }

    public let path: String
    public let format: Format
    /// Tensor names in file order.
    public let names: [String]
    let file: MappedFile
    let tensors: [String: (info: TensorInfo, storage: UnsafeRawBufferPointer)]
    let archive: ZipArchive?

    init(path: String, format: Format, file: MappedFile, archive: ZipArchive?,
         ordered: [(TensorInfo, UnsafeRawBufferPointer)]) throws {
        self.path = path
        self.format = format
        self.file = file
        self.archive = archive
        var t: [String: (info: TensorInfo, storage: UnsafeRawBufferPointer)] = [:]
        var names: [String] = []
        for (info, storage) in ordered {
            if t[info.name] != nil { throw CheckpointError(path: path, .layout("duplicate tensor name '\(info.name)'")) }
            try Checkpoint.checkExtent(info, storageBytes: storage.count, path: path)
            t[info.name] = (info, storage)
            names.append(info.name)
        }
        self.tensors = t
        self.names = names
    }

    /// Opens a torch zip checkpoint (`.pt`/`.pth`) or a `.safetensors` file, chosen by content.
    public convenience init(path: String) throws {
        let file = try MappedFile(path: path)
        let b = file.bytes
        if b.count >= 4 && b.u32le(0) == 0x0403_4b50 {
            try self.init(torchZip: file)
        } else if b.count > 8 && b[8] == UInt8(ascii: "{") {
            try self.init(safetensors: file)
        } else if b.count >= 2 && b[0] == 0x80 && b[1] <= 5 {
            throw CheckpointError(path: path, .unknownFormat("legacy (non-zip) torch pickle; re-save with torch>=1.6"))
        } else {
            throw CheckpointError(path: path, .unknownFormat("neither a torch zip nor a safetensors file"))
        }
    }

    public subscript(name: String) -> TensorInfo? { tensors[name]?.info }

    public var count: Int { names.count }

    /// Most elements one tensor may have: 2³¹ (8 GiB as Float, far above any SAM2 weight). A torch
    /// tensor is a view, so stride-0 dimensions can describe far more elements than its storage
    /// holds; `floats()` would allocate them all. Checked when the checkpoint is opened (and again
    /// before each allocation), so `count`, `parameterCount` and reads stay within bounds.
    public static let maxTensorElements = 1 << 31

    /// Total number of elements over all tensors (saturates at `Int.max`; cannot overflow with at
    /// most `maxTensorElements` per tensor and fewer than 2³² tensors).
    public var parameterCount: Int {
        tensors.values.reduce(0) { sum, t in
            let (s, o) = sum.addingReportingOverflow(t.info.count)
            return o ? Int.max : s
        }
    }

    /// Checks that `storageOffset + Σ (shape[d]-1)·stride[d]` stays inside the storage, that the
    /// element count is at most `maxTensorElements`, and that `storageOffset + Σ shape[d]·stride[d]`
    /// does not overflow: the strided readers' odometer steps one stride past the last index of a
    /// dimension (even of a size-1 one) before rewinding by `shape[d]·stride[d]`.
    static func checkExtent(_ info: TensorInfo, storageBytes: Int, path: String) throws {
        func fail(_ s: String) -> CheckpointError { CheckpointError(path: path, .tensor(name: info.name, s)) }
        guard info.shape.count == info.strides.count else { throw fail("\(info.shape.count) sizes but \(info.strides.count) strides") }
        guard info.storageOffset >= 0 else { throw fail("negative storage offset") }
        var count = 1
        var last = info.storageOffset
        var reach = info.storageOffset  // storageOffset + Σ shape[d]·stride[d]
        for (n, s) in zip(info.shape, info.strides) {
            guard n >= 0, s >= 0 else { throw fail("negative size or stride in \(info.shape)/\(info.strides)") }
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1 else { throw fail("element count of \(info.shape) overflows") }
            count = c
            if n > 0 {
                let overflow = fail("extent of \(info.shape) with strides \(info.strides) overflows")
                let (span, o2) = n.multipliedReportingOverflow(by: s)
                guard !o2 else { throw overflow }
                let (r, o3) = reach.addingReportingOverflow(span)
                guard !o3 else { throw overflow }
                reach = r
                last += span - s  // (n-1)·s, and last ≤ reach: cannot overflow
            }
        }
        guard count <= maxTensorElements else {
            throw fail("\(info.shape) has \(count) elements, over the element count limit of \(maxTensorElements) per tensor")
        }
        if count == 0 { return }
        let storageCount = storageBytes / info.dtype.byteSize
        guard last < storageCount else {
            throw fail("shape \(info.shape), strides \(info.strides), offset \(info.storageOffset) reach element \(last) of a \(storageCount)-element storage")
        }
    }

    func lookup(_ name: String) throws -> (info: TensorInfo, storage: UnsafeRawBufferPointer) {
        guard let t = tensors[name] else { throw CheckpointError(path: path, .noSuchTensor(name)) }
        return t
    }

    /// Copies the tensor, converted to Float, in row-major order into `out` (exactly `count` elements).
    public func readFloats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let (info, storage) = try lookup(name)
        guard out.count == info.count else {
            throw CheckpointError(path: path, .tensor(name: name, "destination holds \(out.count) elements, tensor has \(info.count)"))
        }
        if info.count == 0 { return }
        let dt = info.dtype
        let base = storage.baseAddress!
        @inline(__always) func load(_ e: Int) -> Float {
            let p = base + e * dt.byteSize
            switch dt {
            case .float32: return Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            case .float16: return halfToFloat(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            case .bfloat16: return bfloat16ToFloat(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            case .float64: return Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
            case .int64: return Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
            case .int32: return Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
            case .int16: return Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
            case .int8: return Float(p.load(as: Int8.self))
            case .uint8: return Float(p.load(as: UInt8.self))
            case .bool: return p.load(as: UInt8.self) != 0 ? 1 : 0
            }
        }
        if info.isContiguous {
            let start = info.storageOffset
            if dt == .float32 {
                UnsafeMutableRawBufferPointer(out).copyMemory(
                    from: UnsafeRawBufferPointer(start: base + start * 4, count: info.count * 4))
                #if _endian(big)
                for i in 0..<out.count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
                #endif
                return
            }
            for i in 0..<info.count { out[i] = load(start + i) }
            return
        }
        // Strided: walk the index in row-major order (odometer).
        let rank = info.shape.count
        var idx = [Int](repeating: 0, count: rank)
        var e = info.storageOffset
        for i in 0..<info.count {
            out[i] = load(e)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                e += info.strides[d]
                if idx[d] < info.shape[d] { break }
                e -= info.strides[d] * info.shape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// The tensor converted to Float, row-major.
    public func floats(_ name: String) throws -> [Float] {
        let n = try lookup(name).info.count
        try checkAllocation(name, n)
        return try [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            try readFloats(name, into: buf)
            initialized = n
        }
    }

    /// An integer tensor (I64/I32/I16/I8/U8/BOOL) as Int64, row-major.
    public func int64s(_ name: String) throws -> [Int64] {
        let (info, storage) = try lookup(name)
        let dt = info.dtype
        guard [.int64, .int32, .int16, .int8, .uint8, .bool].contains(dt) else {
            throw CheckpointError(path: path, .tensor(name: name, "is \(dt.rawValue), not an integer tensor"))
        }
        guard info.count > 0 else { return [] }
        try checkAllocation(name, info.count)
        let base = storage.baseAddress!
        var out: [Int64] = []
        out.reserveCapacity(info.count)
        forEachOffset(info) { e in
            let p = base + e * dt.byteSize
            switch dt {
            case .int64: out.append(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
            case .int32: out.append(Int64(Int32(littleEndian: p.loadUnaligned(as: Int32.self))))
            case .int16: out.append(Int64(Int16(littleEndian: p.loadUnaligned(as: Int16.self))))
            case .int8: out.append(Int64(p.load(as: Int8.self)))
            default: out.append(Int64(p.load(as: UInt8.self)))
            }
        }
        return out
    }

    /// Refuses to allocate more than `maxTensorElements` elements (already checked at load; kept
    /// next to the allocation so no future path can bypass it).
    func checkAllocation(_ name: String, _ n: Int) throws {
        guard n >= 0, n <= Checkpoint.maxTensorElements else {
            throw CheckpointError(path: path, .tensor(name: name, "\(n) elements, over the element count limit of \(Checkpoint.maxTensorElements) per tensor"))
        }
    }

    func forEachOffset(_ info: TensorInfo, _ body: (Int) -> Void) {
        let rank = info.shape.count
        var idx = [Int](repeating: 0, count: rank)
        var e = info.storageOffset
        for _ in 0..<info.count {
            body(e)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                e += info.strides[d]
                if idx[d] < info.shape[d] { break }
                e -= info.strides[d] * info.shape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Compares the checkpoint with the names and shapes a model expects. Throws one error listing
    /// every missing, unexpected and mis-shaped key (sorted by name).
    public func validate(expected: [String: [Int]]) throws {
        let missing = expected.keys.filter { tensors[$0] == nil }.sorted()
        let unexpected = names.filter { expected[$0] == nil }.sorted()
        let misshaped = expected.compactMap { (name, shape) -> CheckpointError.ShapeMismatch? in
            guard let t = tensors[name], t.info.shape != shape else { return nil }
            return CheckpointError.ShapeMismatch(name: name, expected: shape, actual: t.info.shape)
        }.sorted { $0.name < $1.name }
        if missing.isEmpty && unexpected.isEmpty && misshaped.isEmpty { return }
        throw CheckpointError(path: path, .keyMismatch(missing: missing, unexpected: unexpected, misshaped: misshaped))
    }

    /// Recomputes the CRC-32 of every zip entry (torch zip only; safetensors has no checksum).
    public func verifyChecksums() throws {
        guard let archive else { return }
        for e in archive.entries { _ = try archive.data(of: e, verifyCRC: true) }
    }
}
