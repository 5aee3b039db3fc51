// ModelFileWriter.swift — encodes a `.sam2q` file (docs/model-file.md) in memory: sections built
// first (int8 GEMMs packed for the chosen variant's layout), then directory and header with their
// checksums. Callers write the bytes atomically (temp file + rename).

import SAM2REngine
import SAM2RKernels
import SAM2RModel

public enum ModelFileWriter {
    /// The complete file.
    public static func encode(_ c: ModelFileContents) throws -> [UInt8] {
        let (nr, kr) = c.packingLayout
        var data = ByteWriter()
        var table = ByteWriter()
        table.u32(UInt32(c.floatTensors.count + c.gemms.count))
        table.name(c.packingName)
        table.u32(UInt32(nr))
        table.u32(UInt32(kr))

        /// Appends an array to the data section at a 64-byte boundary; returns its range.
        func put(_ p: UnsafeRawBufferPointer) -> Range<Int> {
            data.pad(to: ModelFileFormat.alignment)
            let at = data.bytes.count
            data.raw(p)
            return at..<data.bytes.count
        }
        func range(_ r: Range<Int>) { table.int(r.lowerBound); table.int(r.count) }

        for t in c.floatTensors {
            guard t.values.count == t.shape.reduce(1, *) else {
                throw ModelFileError("<writer>", .tensor, "tensor '\(t.name)': \(t.values.count) values for shape \(t.shape)")
            }
            let half = c.halfTensors.contains(t.name)
            let r = half ? t.values.map { sam2r_f32_to_f16($0).littleEndian }.withUnsafeBytes { put($0) }
                         : t.values.withUnsafeBytes { put($0) }
            table.name(t.name)
            table.u8((half ? ModelFileTensorKind.float16 : .float32).rawValue)
            table.u8(UInt8(t.shape.count))
            for d in t.shape { table.int(d) }
            range(r)
        }
        for g in c.gemms {
            var packed = [Int8](repeating: 0, count: Int(sam2r_pack_s8_size(Int32(g.n), Int32(g.k), Int32(nr), Int32(kr))))
            var wsum = [Int32](repeating: 0, count: g.n)
            packed.withUnsafeMutableBufferPointer { pd in
                wsum.withUnsafeMutableBufferPointer { ws in
                    g.weights.withUnsafeBufferPointer { w in
                        var d = sam2r_packed_s8()
                        d.data = pd.baseAddress
                        d.wsum = ws.baseAddress
                        sam2r_pack_s8(w.baseAddress, Int32(g.k), Int32(g.n), Int32(g.k), Int32(nr), Int32(kr), &d)
                    }
                }
            }
            let rp = packed.withUnsafeBytes { put($0) }
            let rw = wsum.withUnsafeBytes { put($0) }
            let rb = g.bias.withUnsafeBytes { put($0) }
            let rs = g.scale.withUnsafeBytes { put($0) }
            let rsw = g.weightScale.withUnsafeBytes { put($0) }
            table.name(g.name)
            table.u8(ModelFileTensorKind.int8Gemm.rawValue)
            table.u8(2)
            table.int(g.n)
            table.int(g.k)
            table.u32(UInt32(nr))
            table.u32(UInt32(kr))
            table.f32(g.act.scale)
            table.i32(g.act.zeroPoint)
            for r in [rp, rw, rb, rs, rsw] { range(r) }
        }

        var arena = ByteWriter()
        arena.int(c.arena.totalBytes)
        arena.u32(UInt32(c.arena.imageSize))
        arena.u32(UInt32(c.arena.threads))
        arena.u32(UInt32(c.arena.promptCapacity))
        arena.u32(UInt32(c.arena.buffers.count))
        for b in c.arena.buffers {
            arena.name(b.name)
            arena.int(b.offset)
            arena.int(b.size)
            arena.u32(UInt32(b.firstUse))
            arena.u32(UInt32(b.lastUse))
        }

        var sections: [(ModelFileSection, [UInt8])] = [(.config, Array(c.configJSON.utf8))]
        if let t = c.tableText { sections.append((.quant, Array(t.utf8))) }
        sections += [(.tensors, table.bytes), (.arena, arena.bytes), (.data, data.bytes)]
        return assemble(sections)
    }

    /// Recomputes every checksum of (possibly edited) file bytes — each section the directory names
    /// (entries outside the file are skipped), the directory, the header — so that a deliberately
    /// malformed file (tests, the Tests/Malformed corpus) is caught by its structural check rather
    /// than by a checksum.
    public static func reseal(_ b: inout [UInt8]) {
        guard b.count >= ModelFileFormat.headerBytes else { return }
        func u64(_ at: Int) -> Int { b.withUnsafeBytes { Int(truncatingIfNeeded: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self))) } }
        var w = ByteWriter(bytes: b)
        let count = Int(b.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) })
        let dir = u64(16)
        if count <= ModelFileFormat.maxSections, dir >= 0, dir <= b.count,
           count * ModelFileFormat.directoryEntryBytes <= b.count - dir {
            for i in 0..<count {
                let e = dir + i * ModelFileFormat.directoryEntryBytes
                let off = u64(e + 8), len = u64(e + 16)
                guard off >= 0, len >= 0, off <= b.count, len <= b.count - off else { continue }
                w.patch32(CRC32.checksum(Array(b[off..<(off + len)])), at: e + 24)
            }
            let dirEnd = dir + count * ModelFileFormat.directoryEntryBytes
            w.patch32(CRC32.checksum(Array(w.bytes[dir..<dirEnd])), at: 32)
        }
        w.patch32(CRC32.checksum(Array(w.bytes[0..<60])), at: 60)
        b = w.bytes
    }

    /// Header + directory + 64-byte aligned sections.
    static func assemble(_ sections: [(ModelFileSection, [UInt8])]) -> [UInt8] {
        let a = ModelFileFormat.alignment
        let dirBytes = sections.count * ModelFileFormat.directoryEntryBytes
        var offset = ModelFileFormat.headerBytes + dirBytes
        var dir = ByteWriter()
        for (kind, bytes) in sections {
            offset = (offset + a - 1) / a * a
            dir.u32(kind.rawValue)
            dir.u32(0)
            dir.int(offset)
            dir.int(bytes.count)
            dir.u32(CRC32.checksum(bytes))
            dir.u32(0)
            offset += bytes.count
        }
        let fileSize = offset
        var out = ByteWriter()
        out.bytes.reserveCapacity(fileSize)
        out.bytes += ModelFileFormat.magic
        out.u32(ModelFileFormat.version)
        out.u32(UInt32(sections.count))
        out.int(ModelFileFormat.headerBytes)
        out.int(fileSize)
        out.u32(CRC32.checksum(dir.bytes))
        out.bytes += [UInt8](repeating: 0, count: 60 - out.bytes.count)
        out.u32(out.bytes.withUnsafeBytes { CRC32.checksum($0) })
        out.bytes += dir.bytes
        for (_, bytes) in sections {
            out.pad(to: a)
            out.bytes += bytes
        }
        return out.bytes
    }
}
