// .safetensors: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data block; offsets are relative to it. Like the reference implementation, the tensors
// must tile the data block exactly: sorted by offset, no gap, no overlap, nothing past the end.

import Foundation

private struct SafeTensorsHeader: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    var entries: [(String, Entry)] = []

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for k in c.allKeys {
            if k.stringValue == "__metadata__" {
                _ = try c.decode([String: String].self, forKey: k)
            } else {
                entries.append((k.stringValue, try c.decode(Entry.self, forKey: k)))
            }
        }
    }
}

extension Checkpoint {
    /// Largest JSON header accepted (the reference implementation's limit).
    public static let maxSafeTensorsHeader = 100_000_000

    convenience init(safetensors file: MappedFile) throws {
        let path = file.path
        let b = file.bytes
        func fail(_ s: String) -> CheckpointError { CheckpointError(path: path, .safetensors(s)) }
        guard b.count >= 8 else { throw fail("file is \(b.count) bytes, shorter than the 8-byte header length") }
        let n = b.u64le(0)
        guard n <= UInt64(Checkpoint.maxSafeTensorsHeader) else { throw fail("header length \(n) exceeds the \(Checkpoint.maxSafeTensorsHeader)-byte limit") }
        guard let h = b.checkedRange(8, Int(n)) else { throw fail("header length \(n) exceeds the file (\(b.count) bytes)") }
        let json = Data(UnsafeRawBufferPointer(rebasing: b[h]))
        let header: SafeTensorsHeader
        do {
            header = try JSONDecoder().decode(SafeTensorsHeader.self, from: json)
        } catch {
            throw fail("header is not valid safetensors JSON (\(jsonErrorSummary(error)))")
        }
        let dataStart = h.upperBound
        let dataSize = b.count - dataStart

        var rows: [(info: TensorInfo, begin: Int, end: Int)] = []
        for (name, e) in header.entries {
            func bad(_ s: String) -> CheckpointError { CheckpointError(path: path, .tensor(name: name, s)) }
            guard let dt = TensorDType(safetensorsName: e.dtype) else { throw bad("unsupported dtype '\(e.dtype)'") }
            guard e.data_offsets.count == 2 else { throw bad("data_offsets has \(e.data_offsets.count) values, expected 2") }
            let (begin, end) = (e.data_offsets[0], e.data_offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw bad("data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data block")
            }
            var count = 1
            for d in e.shape {
                guard d >= 0 else { throw bad("negative dimension in shape \(e.shape)") }
                let (c, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("element count of \(e.shape) overflows") }
                count = c
            }
            let (bytes, o) = count.multipliedReportingOverflow(by: dt.byteSize)
            guard !o, bytes == end - begin else {
                throw bad("shape \(e.shape) × \(dt.rawValue) needs \(count) × \(dt.byteSize) bytes, data_offsets span \(end - begin)")
            }
            var strides = [Int](repeating: 1, count: e.shape.count)
            // A zero dimension keeps the element count at 0 whatever the others are, so the stride
            // products are checked on their own.
            var s = 1
            for d in e.shape.indices.reversed() {
                strides[d] = s
                let (next, o) = s.multipliedReportingOverflow(by: e.shape[d])
                guard !o else { throw bad("strides of \(e.shape) overflow") }
                s = next
            }
            rows.append((TensorInfo(name: name, dtype: dt, shape: e.shape, strides: strides, storageOffset: 0), begin, end))
        }
        rows.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for r in rows {
            if r.begin < cursor { throw fail("tensor '\(r.info.name)' overlaps the previous tensor (offset \(r.begin) < \(cursor))") }
            if r.begin > cursor { throw fail("gap of \(r.begin - cursor) bytes before tensor '\(r.info.name)'") }
            cursor = r.end
        }
        if cursor != dataSize { throw fail("data block is \(dataSize) bytes but tensors cover \(cursor)") }

        let ordered = rows.map { r in
            (r.info, UnsafeRawBufferPointer(rebasing: b[(dataStart + r.begin)..<(dataStart + r.end)]))
        }
        try self.init(path: path, format: .safetensors, file: file, archive: nil, ordered: ordered)
    }
}

private func jsonErrorSummary(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let c): return c.debugDescription
    case DecodingError.keyNotFound(let k, let c): return "missing '\(k.stringValue)' in \(c.codingPath.map { $0.stringValue }.joined(separator: "."))"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
        return "wrong type at \(c.codingPath.map { $0.stringValue }.joined(separator: "."))"
    default: return "\(error)"
    }
}
