// AttentionS8Tests.swift — the validated int8 attention call: every supported variant gives the scalar
// reference's bits (1 and 3 threads), it tracks the fp32 definition, and bad arguments are typed errors.

import XCTest
@testable import SAM2REngine

final class AttentionS8Tests: XCTestCase {
    static let heads = 2, nq = 70, nk = 131, d = 24

    /// 64-byte aligned scratch (the kernel requires it; Swift arrays are only 16-byte aligned).
    private func withScratch<R>(_ floats: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
        defer { raw.deallocate() }
        let p = raw.bindMemory(to: Float.self, capacity: floats)
        return try body(UnsafeMutableBufferPointer(start: p, count: floats))
    }

    private func run(_ kernel: AttentionS8Kernel, q: [Float], k: [Float], v: [Float], pool: ThreadPool?) throws -> [Float] {
        let w = Self.heads * Self.d
        var o = [Float](repeating: 0, count: Self.nq * w)
        let floats = kernel.scratchFloats(nk: Self.nk, dk: Self.d, dv: Self.d, threads: pool?.threadCount ?? 1)
        try withScratch(floats) { s in
            try q.withUnsafeBufferPointer { qb in try k.withUnsafeBufferPointer { kb in try v.withUnsafeBufferPointer { vb in
                try o.withUnsafeMutableBufferPointer { ob in
                    try kernel.run(batch: 1, heads: Self.heads, nq: Self.nq, nk: Self.nk, dk: Self.d, dv: Self.d,
                                   q: qb, ldq: w, qBatchStride: 0, k: kb, ldk: w, kBatchStride: 0,
                                   v: vb, ldv: w, vBatchStride: 0, o: ob, ldo: w, oBatchStride: 0,
                                   scale: 1 / Float(Self.d).squareRoot(), scratch: s, pool: pool)
                } } } }
        }
        return o
    }

    func testVariantsMatchScalarBitForBitAndTrackSoftmax() throws {
        var rng = SplitMix64(seed: 5)
        let w = Self.heads * Self.d
        let q = [Float].random(Self.nq * w, in: -2...2, using: &rng)
        let k = [Float].random(Self.nk * w, in: -2...2, using: &rng)
        let v = [Float].random(Self.nk * w, in: -1...1, using: &rng)
        let ref = try run(AttentionS8Kernel(isa: .scalar), q: q, k: k, v: v, pool: nil)
        let pool = try ThreadPool(threads: 3)
        for isa in ISA.supported {
            for p in [nil, pool] {
                let got = try run(AttentionS8Kernel(isa: isa), q: q, k: k, v: v, pool: p)
                XCTAssertTrue(got.elementsEqual(ref) { $0.bitPattern == $1.bitPattern },
                              "\(isa.name), \(p == nil ? 1 : 3) thread(s): differs from the scalar reference")
            }
        }
        // Against the exact softmax in Double: the int8 products keep the output within a few percent.
        var num = 0.0, den = 0.0
        for h in 0..<Self.heads {
            for i in 0..<Self.nq {
                var s = [Double](repeating: 0, count: Self.nk)
                for j in 0..<Self.nk {
                    var dot = 0.0
                    for e in 0..<Self.d { dot += Double(q[i * w + h * Self.d + e]) * Double(k[j * w + h * Self.d + e]) }
                    s[j] = dot / Double(Self.d).squareRoot()
                }
                let mx = s.max()!
                let p = s.map { exp($0 - mx) }
                let l = p.reduce(0, +)
                for c in 0..<Self.d {
                    var o = 0.0
                    for j in 0..<Self.nk { o += p[j] * Double(v[j * w + h * Self.d + c]) }
                    o /= l
                    let e = o - Double(ref[i * w + h * Self.d + c])
                    num += e * e
                    den += o * o
                }
            }
        }
        XCTAssertGreaterThan(-10 * log10(num / den), 20, "int8 attention SQNR vs exact softmax")
    }

    func testRejectsBadArguments() throws {
        let kernel = try AttentionS8Kernel()
        let w = Self.heads * Self.d
        let q = [Float](repeating: 0.5, count: Self.nq * w), k = [Float](repeating: 0.5, count: Self.nk * w)
        var o = [Float](repeating: 0, count: Self.nq * w)
        let floats = kernel.scratchFloats(nk: Self.nk, dk: Self.d, dv: Self.d, threads: 1)
        func call(ldq: Int = w, dk: Int = Self.d, scratchFloats: Int = floats, scale: Float = 0.2) throws {
            try withScratch(max(scratchFloats, 1)) { s in
                let sb = UnsafeMutableBufferPointer(start: s.baseAddress, count: scratchFloats)
                try q.withUnsafeBufferPointer { qb in try k.withUnsafeBufferPointer { kb in
                    try o.withUnsafeMutableBufferPointer { ob in
                        try kernel.run(batch: 1, heads: Self.heads, nq: Self.nq, nk: Self.nk, dk: dk, dv: Self.d,
                                       q: qb, ldq: ldq, qBatchStride: 0, k: kb, ldk: w, kBatchStride: 0,
                                       v: kb, ldv: w, vBatchStride: 0, o: ob, ldo: w, oBatchStride: 0,
                                       scale: scale, scratch: sb)
                    } } }
            }
        }
        XCTAssertNoThrow(try call())
        XCTAssertThrowsEngineError(.invalidStride(operand: "q", stride: w - 1, minimum: w)) { try call(ldq: w - 1) }
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "attention_s8 scratch (floats)", needed: floats,
                                                   available: floats - 1)) { try call(scratchFloats: floats - 1) }
        XCTAssertThrowsEngineError(.invalidParameter(name: "dk", value: "300", allowed: "1...256")) { try call(dk: 300) }
        XCTAssertThrowsEngineError(.invalidParameter(name: "scale", value: "nan", allowed: "finite, > 0")) {
            try call(scale: .nan)
        }
    }
}
