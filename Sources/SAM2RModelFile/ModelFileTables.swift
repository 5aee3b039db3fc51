// ModelFileTables.swift — parsing and validation of the `tensors` and `arena` sections: counts, names
// (UTF-8, unique), kinds, shapes, every array inside the data section, 64-byte aligned and of exactly
// the size its shape implies (overflow-safe), int8 parameters in range, packed values and wsum.

import SAM2REngine
import SAM2RKernels

extension ModelFile {
    struct TensorTable {
        var packingName: String
        var packing: (nr: Int, kr: Int)
        /// The largest |weight| over every int8 GEMM (0 without any).
        var maxWeightMagnitude: Int
        var tensors: [ModelFileTensor]
        var index: [String: Int]
    }

    static func readTensors(_ raw: UnsafeRawBufferPointer, dataBytes: UnsafeRawBufferPointer,
                            err: @escaping (ModelFileError.Kind, String) -> ModelFileError) throws -> TensorTable {
        var r = ByteReader(raw) { err(.tensorTable, "tensor table: \($0)") }
        let count = Int(try r.u32("tensor count"))
        guard count <= ModelFileFormat.maxTensors else { throw err(.tensorTable, "tensor table: \(count) tensors (at most \(ModelFileFormat.maxTensors))") }
        let packingName = try r.name("packing variant name")
        let nr = Int(try r.u32("packing NR")), kr = Int(try r.u32("packing KR"))
        guard (1...256).contains(nr), (1...256).contains(kr) else {
            throw err(.tensorTable, "tensor table: packing NR=\(nr) KR=\(kr) outside 1...256")
        }
        var tensors: [ModelFileTensor] = []
        var index: [String: Int] = [:]
        var maxMagnitude = 0
        tensors.reserveCapacity(count)
        for i in 0..<count {
            let name = try r.name("tensor \(i) name")
            func bad(_ s: String) -> ModelFileError { err(.tensor, "tensor '\(name)': \(s)") }
            guard index[name] == nil else { throw err(.tensorTable, "tensor table: '\(name)' appears twice") }
            guard let kind = ModelFileTensorKind(rawValue: try r.u8("tensor kind")) else { throw bad("unknown kind") }
            let rank = Int(try r.u8("rank"))
            guard (1...ModelFileFormat.maxRank).contains(rank) else { throw bad("rank \(rank) outside 1...\(ModelFileFormat.maxRank)") }
            var shape: [Int] = []
            var elements = 1
            for _ in 0..<rank {
                let dim = try r.int("dimension", max: Int(Int32.max))
                guard dim > 0, let e = mul(elements, dim) else { throw bad("dimension \(dim) is zero or the shape overflows") }
                shape.append(dim)
                elements = e
            }
            /// An array: inside the data section, aligned, exactly `expected` bytes.
            func array(_ what: String, _ expected: Int) throws -> Range<Int> {
                let off = try r.int("\(what) offset"), len = try r.int("\(what) length")
                guard let end = add(off, len), end <= dataBytes.count else {
                    throw bad("\(what) (\(len) bytes at \(off)) past the end of the data section (\(dataBytes.count) bytes)")
                }
                guard off % ModelFileFormat.alignment == 0 else { throw bad("\(what) offset \(off) not 64-byte aligned") }
                guard len == expected else { throw bad("\(what) has \(len) bytes, shape needs \(expected)") }
                return off..<end
            }
            switch kind {
            case .float32, .float16:
                guard let bytes = mul(elements, kind == .float32 ? 4 : 2) else { throw bad("shape overflows") }
                let range = try array("data", bytes)
                tensors.append(ModelFileTensor(name: name, kind: kind, shape: shape, data: range, gemm: nil))
            case .int8Gemm:
                guard rank == 2 else { throw bad("int8 GEMM of rank \(rank), expected [n, k]") }
                let n = shape[0], k = shape[1]
                guard k <= PackedWeightsS8.maxK else { throw bad("k = \(k) exceeds \(PackedWeightsS8.maxK)") }
                let tnr = Int(try r.u32("NR")), tkr = Int(try r.u32("KR"))
                guard tnr == nr, tkr == kr else { throw bad("packed NR=\(tnr) KR=\(tkr), the file says NR=\(nr) KR=\(kr)") }
                let scale = try r.f32("activation scale"), zp = try r.i32("activation zero point")
                guard scale.isFinite, scale > 0, (1 / scale).isFinite else { throw bad("activation scale \(scale) is not finite and > 0") }
                guard (-128...127).contains(zp) else { throw bad("activation zero point \(zp) outside -128...127") }
                let packedBytes = (n + nr - 1) / nr * nr * ((k + kr - 1) / kr * kr)
                let g = ModelFileGemm(nr: nr, kr: kr, actScale: scale, actZeroPoint: zp,
                                      packed: try array("packed", packedBytes), wsum: try array("wsum", n * 4),
                                      bias: try array("bias", n * 4), scale: try array("scale", n * 4),
                                      weightScale: try array("weight_scale", n * 4))
                let p = dataBytes.baseAddress!
                for (what, range) in [("scale", g.scale), ("weight_scale", g.weightScale)] {
                    for j in 0..<n {
                        let v = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: range.lowerBound + 4 * j, as: UInt32.self)))
                        guard v.isFinite, v > 0 else { throw bad("\(what)[\(j)] = \(v) is not finite and > 0") }
                    }
                }
                if let problem = PackedLayout.problem((p + g.packed.lowerBound).assumingMemoryBound(to: Int8.self),
                                                      wsum: p + g.wsum.lowerBound, n: n, k: k, nr: nr, kr: kr,
                                                      maxMagnitude: &maxMagnitude) {
                    throw bad(problem)
                }
                tensors.append(ModelFileTensor(name: name, kind: kind, shape: shape, data: g.packed, gemm: g))
            }
            index[name] = i
        }
        guard r.remaining == 0 else { throw err(.tensorTable, "tensor table: \(r.remaining) bytes after the last tensor") }
        return TensorTable(packingName: packingName, packing: (nr, kr), maxWeightMagnitude: maxMagnitude,
                           tensors: tensors, index: index)
    }

    static func readArena(_ raw: UnsafeRawBufferPointer,
                          err: @escaping (ModelFileError.Kind, String) -> ModelFileError) throws -> ModelFileArena {
        var r = ByteReader(raw) { err(.arena, "arena section: \($0)") }
        let total = try r.int("total bytes", max: Int.max / 2)
        let imageSize = Int(try r.u32("image size")), threads = Int(try r.u32("threads"))
        let capacity = Int(try r.u32("prompt capacity")), count = Int(try r.u32("buffer count"))
        guard count <= ModelFileFormat.maxArenaBuffers else { throw err(.arena, "arena section: \(count) buffers") }
        guard (1...16384).contains(imageSize), (1...256).contains(threads), capacity >= 2 else {
            throw err(.arena, "arena section: image size \(imageSize), threads \(threads), prompt capacity \(capacity) out of range")
        }
        var buffers: [ModelFileArenaBuffer] = []
        for i in 0..<count {
            let name = try r.name("buffer \(i) name")
            let off = try r.int("buffer offset", max: Int.max / 2), size = try r.int("buffer size", max: Int.max / 2)
            let first = Int(try r.u32("first use")), last = Int(try r.u32("last use"))
            guard let end = add(off, size), end <= total else {
                throw err(.arena, "arena buffer '\(name)' (\(size) bytes at \(off)) exceeds the arena (\(total) bytes)")
            }
            guard first <= last else { throw err(.arena, "arena buffer '\(name)': first use \(first) after last use \(last)") }
            buffers.append(ModelFileArenaBuffer(name: name, offset: off, size: size, firstUse: first, lastUse: last))
        }
        guard r.remaining == 0 else { throw err(.arena, "arena section: \(r.remaining) bytes after the last buffer") }
        return ModelFileArena(totalBytes: total, imageSize: imageSize, threads: threads, promptCapacity: capacity, buffers: buffers)
    }
}
