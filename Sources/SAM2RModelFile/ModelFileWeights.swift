// ModelFileWeights.swift — a validated model file as the model's weight source. fp32 tensors are
// copied out of the mapping by name (binary16 ones widened; as Linear weights they are packed as binary16); int8 GEMMs whose packing equals the active int8 kernel's layout
// run on the mapped bytes directly (zero copy), others are unpacked and repacked for it once.

import SAM2REngine
import SAM2RKernels
import SAM2RModel

public final class ModelFileWeights: Int8LayerSource, HalfWeightSource {
    public let file: ModelFile
    let kernel: GemmS8Kernel
    /// GEMMs handed out without copying / repacked (for reports and tests).
    public private(set) var zeroCopyGemms = 0
    public private(set) var repackedGemms = 0

    /// `kernel`: the int8 kernel the GEMMs will run (default: the active ISA's, its narrow-weight variant
    /// when every weight of the file is within ±64 and the ISA has one: a 7-bit model on AVX2). A
    /// narrow-weight kernel is refused for a file with wider weights (vpmaddubsw would saturate).
    public init(_ file: ModelFile, kernel: GemmS8Kernel? = nil) throws {
        self.file = file
        let k = try kernel ?? GemmS8Kernel.forWeights(maxAbsWeight: file.maxWeightMagnitude)
        if k.narrowWeights && file.maxWeightMagnitude > GemmS8Kernel.narrowWeightMax {
            throw ModelError.invalidInput(argument: file.path, reason: "weights up to ±\(file.maxWeightMagnitude) for the "
                                          + "narrow-weight kernel \(k.name) (at most ±\(GemmS8Kernel.narrowWeightMax))")
        }
        self.kernel = k
    }

    public var hasInt8Layers: Bool { file.tensors.contains { $0.kind == .int8Gemm } }

    /// Whether the GEMMs run a narrow-weight kernel (a 7-bit model on AVX2).
    public var kernelIsNarrow: Bool { kernel.narrowWeights }

    /// Whether the int8 GEMMs run on the file's bytes as mapped: its packing is the kernel's layout
    /// (and the bytes are 64-byte aligned, always so for a mapped file). Otherwise they are repacked.
    public var isZeroCopy: Bool {
        file.packing == (kernel.nr, kernel.kr) && Int(bitPattern: file.data.baseAddress) % PackedWeightsS8.dataAlignment == 0
    }

    public func shape(of name: String) -> [Int]? {
        guard let t = file.tensor(name), t.kind != .int8Gemm else { return nil }
        return t.shape
    }

    public func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws {
        guard let t = file.tensor(name), t.kind != .int8Gemm else { throw ModelError.missingWeight(name) }
        let width = t.kind == .float16 ? 2 : 4
        guard into.count * width == t.data.count else {
            throw ModelError.weightShape(name: name, expected: [into.count], actual: t.shape)
        }
        let src = file.bytes(t.data)
        if t.kind == .float32 {
            UnsafeMutableRawBufferPointer(into).copyMemory(from: src)
        } else {
            for i in 0..<into.count {
                into[i] = sam2r_f16_to_f32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        }
    }

    public var hasHalfTensors: Bool { file.tensors.contains { $0.kind == .float16 } }

    public func halfWeights(_ name: String, n: Int, k: Int) throws -> PackedWeightsF16? {
        guard let t = file.tensor(name), t.kind == .float16 else { return nil }
        guard t.shape == [n, k] else { throw ModelError.weightShape(name: name, expected: [n, k], actual: t.shape) }
        let bits = file.bytes(t.data).assumingMemoryBound(to: UInt16.self)
        return try PackedWeightsF16(bits: UnsafeBufferPointer(start: bits.baseAddress, count: n * k), n: n, k: k)
    }

    public func int8Layer(_ name: String, n: Int, k: Int) throws -> Int8Linear? {
        guard let t = file.tensor(name), let g = t.gemm else { return nil }
        guard t.shape == [n, k] else { throw ModelError.weightShape(name: name, expected: [n, k], actual: t.shape) }
        let packed: PackedWeightsS8
        let raw = file.bytes(g.packed)
        if isZeroCopy {
            packed = try PackedWeightsS8(packedData: raw, wsum: file.bytes(g.wsum).assumingMemoryBound(to: Int32.self),
                                         n: n, k: k, kernel: kernel, owner: file)
            zeroCopyGemms += 1
        } else {
            let q = PackedLayout.unpack(raw.baseAddress!.assumingMemoryBound(to: Int8.self), n: n, k: k, nr: g.nr, kr: g.kr)
            packed = try q.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: n, k: k, kernel: kernel) }
            repackedGemms += 1
        }
        return try Int8Linear(packed: packed, bias: ints(g.bias), scale: floats(g.scale),
                              act: (g.actScale, g.actZeroPoint), name: name)
    }

    /// Hands out every tensor once, as the model's loaders would (fp32 copies, int8 GEMMs wrapped or
    /// repacked): for readers' tests and fuzzing, which have no model to load.
    public func loadAll() throws {
        for t in file.tensors {
            if t.kind == .int8Gemm {
                _ = try int8Layer(t.name, n: t.shape[0], k: t.shape[1])
            } else {
                var v = [Float](repeating: 0, count: t.shape.reduce(1, *))
                try v.withUnsafeMutableBufferPointer { try readFloats(t.name, into: $0) }
            }
        }
    }

    private func ints(_ r: Range<Int>) -> [Int32] {
        let b = file.bytes(r)
        return (0..<(r.count / 4)).map { Int32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    }

    private func floats(_ r: Range<Int>) -> [Float] {
        let b = file.bytes(r)
        return (0..<(r.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
}
