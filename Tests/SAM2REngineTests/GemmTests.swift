// GemmTests.swift — int8 GEMM through the Swift wrapper: bit-exact against a Swift model of the
// requantization rule, across every supported ISA and thread counts 1/2; fp32 GEMM and row ops
// against plain Swift references.

import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import SAM2REngine

/// Swift model of sam2r_requant.h.
func referenceGemmS8(m: Int, n: Int, k: Int, a: [Int8], aZP: Int32, w: [Int8], bias: [Int32]?, scale: [Float],
                     outZP: Int32?, qmin: Int32, qmax: Int32) -> (s8: [Int8], f32: [Float]) {
    var s8 = [Int8](repeating: 0, count: m * n), f32 = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0
            for p in 0..<k { acc += Int(a[i * k + p]) * Int(w[j * k + p]) }
            var wsum = 0
            for p in 0..<k { wsum += Int(w[j * k + p]) }
            acc = acc - Int(aZP) * wsum + Int(bias?[j] ?? 0)
            let acc32 = Int32(acc)
            var v = Float(acc32) * scale[j]
            f32[i * n + j] = v
            let zp = outZP ?? 0
            let lo = Float(qmin - zp), hi = Float(qmax - zp)
            v = v < lo ? lo : v
            v = v > hi ? hi : v
            s8[i * n + j] = Int8(Int32(v.rounded(.toNearestOrEven)) + zp)
        }
    }
    return (s8, f32)
}

final class GemmTests: XCTestCase {
    var originalISA = ISA.active
    override func setUp() { originalISA = ISA.active }
    override func tearDown() { try? ISA.force(originalISA) }

    struct Case {
        let m, n, k: Int
        let a, w: [Int8]
        let bias: [Int32]
        let scale: [Float]
        let aZP, outZP: Int32
    }

    func makeCase(m: Int, n: Int, k: Int, seed: UInt64) -> Case {
        var rng = SplitMix64(seed: seed)
        let a = [Int8].randomActivations(m * k, using: &rng)
        let w = [Int8].randomWeights(n * k, using: &rng)
        let bias = (0..<n).map { _ in Int32.random(in: -20000...20000, using: &rng) }
        // scales that put outputs across the whole int8 range, including clamping and ties
        let scale = (0..<n).map { _ in Float.random(in: 0.00005...0.004, using: &rng) }
        return Case(m: m, n: n, k: k, a: a, w: w, bias: bias, scale: scale,
                    aZP: Int32.random(in: -20...20, using: &rng), outZP: Int32.random(in: -10...10, using: &rng))
    }

    func run(_ c: Case, isa: ISA, pool: ThreadPool?) throws -> (s8: [Int8], f32: [Float]) {
        let packed = try c.w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: c.n, k: c.k, isa: isa) }
        XCTAssertEqual(packed.kernel.isa, isa)
        var s8 = [Int8](repeating: 0, count: c.m * c.n), f32 = [Float](repeating: 0, count: c.m * c.n)
        try c.a.withUnsafeBufferPointer { a in
            try c.bias.withUnsafeBufferPointer { bias in
                try c.scale.withUnsafeBufferPointer { scale in
                    try s8.withUnsafeMutableBufferPointer { out in
                        try gemmS8(m: c.m, n: c.n, k: c.k, a: a, aZeroPoint: c.aZP, weights: packed, bias: bias,
                                   scale: scale, c: out, outZeroPoint: c.outZP, pool: pool)
                    }
                    try f32.withUnsafeMutableBufferPointer { out in
                        try gemmS8(m: c.m, n: c.n, k: c.k, a: a, aZeroPoint: c.aZP, weights: packed, bias: bias,
                                   scale: scale, c: out, pool: pool)
                    }
                }
            }
        }
        return (s8, f32)
    }

    func testForcingUnsupportedISAThrows() throws {
        let unsupported = ISA.allCases.filter { !$0.isSupported }
        guard let bad = unsupported.first else { throw XCTSkip("this machine supports every ISA") }
        let before = ISA.active
        XCTAssertThrowsEngineError(.unsupportedISA(bad.name)) { try ISA.force(bad) }
        XCTAssertEqual(ISA.active, before, "a failed force must not change the active ISA")
        XCTAssertThrowsEngineError(.unsupportedISA(bad.name)) { _ = try GemmS8Kernel(isa: bad) }
        XCTAssertThrowsEngineError(.unsupportedISA(bad.name)) { _ = try RowOps(isa: bad) }
    }

    func testISAInformation() throws {
        XCTAssertTrue(ISA.scalar.isSupported)
        XCTAssertTrue(ISA.best.isSupported)
        XCTAssertTrue(ISA.supported.contains(.scalar))
        XCTAssertTrue(["x86_64", "aarch64", "other"].contains(ISA.architecture))
        for isa in ISA.allCases {
            XCTAssertEqual(ISA(name: isa.name), isa)
            XCTAssertEqual(ISA(isa.cValue), isa)
        }
        XCTAssertNil(ISA(name: "sse9"))
        if ProcessInfoLite.environment("SAM2R_ISA") == nil {
            XCTAssertNil(ISA.environmentError)
            XCTAssertNoThrow(try ISA.validateEnvironment())
        }
        print("arch \(ISA.architecture); cpu features: \(ISA.cpuFeatures); best \(ISA.best); active \(ISA.active)")
        for isa in ISA.supported { print("  \(isa): \(isa.kernelNames)") }
    }

    func testForceEachSupportedISA() throws {
        for isa in ISA.supported {
            try ISA.force(isa)
            XCTAssertEqual(ISA.active, isa)
            // default-ISA packing follows the forced ISA
            let p = try [Int8](repeating: 1, count: 8).withUnsafeBufferPointer {
                try PackedWeightsS8(weights: $0, n: 2, k: 4)
            }
            XCTAssertEqual(p.kernel.isa, isa)
        }
    }

    /// Bit-exact across ISAs and thread counts, and equal to the Swift model of the rule.
    func testGemmS8BitExactAcrossISAsAndThreads() throws {
        let pool1 = try ThreadPool(threads: 1), pool2 = try ThreadPool(threads: 2)
        let shapes = [(1, 1, 1), (13, 37, 67), (37, 64, 96), (64, 17, 5), (5, 129, 257), (100, 48, 64)]
        for (index, (m, n, k)) in shapes.enumerated() {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(index) &+ 77)
            let ref = referenceGemmS8(m: m, n: n, k: k, a: c.a, aZP: c.aZP, w: c.w, bias: c.bias, scale: c.scale,
                                      outZP: c.outZP, qmin: -128, qmax: 127)
            for isa in ISA.supported {
                guard (try? GemmS8Kernel(isa: isa)) != nil else { continue }
                for pool in [nil, pool1, pool2] {
                    let got = try run(c, isa: isa, pool: pool)
                    let label = "\(isa) threads \(pool?.threadCount ?? 0) shape \(m)x\(n)x\(k)"
                    XCTAssertEqual(got.s8, ref.s8, "int8 output differs: \(label)")
                    XCTAssertEqual(got.f32.map(\.bitPattern), ref.f32.map(\.bitPattern), "fp32 output differs: \(label)")
                }
            }
        }
    }

    /// The narrow-weight variants (7-bit weights): bit-exact against the rule on weights at ±64, their
    /// packing layout as `packingLayout` says, wider weights refused; ISAs without one have none.
    func testNarrowWeightKernel() throws {
        let pool2 = try ThreadPool(threads: 2)
        let limit = GemmS8Kernel.narrowWeightMax
        XCTAssertEqual(limit, 64)
        var checked = 0
        for isa in ISA.allCases where isa.isSupported {
            guard GemmS8Kernel.hasNarrowVariant(isa) else {
                XCTAssertThrowsEngineError({ _ = try GemmS8Kernel(isa: isa, narrowWeights: true) }) {
                    if case .kernelUnavailable = $0 { return true } else { return false }
                }
                XCTAssertFalse(try GemmS8Kernel.forWeights(maxAbsWeight: 63, isa: isa).narrowWeights)
                continue
            }
            let kernel = try GemmS8Kernel(isa: isa, narrowWeights: true)
            XCTAssertTrue(kernel.narrowWeights)
            XCTAssertTrue(try GemmS8Kernel.forWeights(maxAbsWeight: limit, isa: isa).narrowWeights)
            XCTAssertFalse(try GemmS8Kernel.forWeights(maxAbsWeight: limit + 1, isa: isa).narrowWeights)
            XCTAssertFalse(try GemmS8Kernel.forWeights(maxAbsWeight: 0, isa: isa).narrowWeights, "no int8 weights")
            let layout = GemmS8Kernel.packingLayout(isa, narrowWeights: true)
            XCTAssertEqual(layout.nr, kernel.nr)
            XCTAssertEqual(layout.kr, kernel.kr)
            for (index, (m, n, k)) in [(1, 1, 1), (13, 37, 67), (37, 64, 96), (5, 129, 257)].enumerated() {
                var c = makeCase(m: m, n: n, k: k, seed: UInt64(index) &+ 901)
                var rng = SplitMix64(seed: UInt64(index) &+ 5)
                // the extremes the kernel must hold exactly: activations at -128 / 127, weights at ±64
                let w = (0..<(n * k)).map { i in i % 5 == 0 ? Int8(i % 2 == 0 ? limit : -limit)
                                                             : Int8.random(in: -64...64, using: &rng) }
                c = Case(m: m, n: n, k: k, a: c.a.enumerated().map { $0.offset % 7 == 0 ? 127 : $0.element }, w: w,
                         bias: c.bias, scale: c.scale, aZP: c.aZP, outZP: c.outZP)
                let ref = referenceGemmS8(m: m, n: n, k: k, a: c.a, aZP: c.aZP, w: c.w, bias: c.bias, scale: c.scale,
                                          outZP: c.outZP, qmin: -128, qmax: 127)
                let packed = try c.w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: n, k: k, kernel: kernel) }
                XCTAssertTrue(packed.kernel.narrowWeights)
                for pool in [nil, pool2] {
                    var s8 = [Int8](repeating: 0, count: m * n), f32 = [Float](repeating: 0, count: m * n)
                    try c.a.withUnsafeBufferPointer { a in
                        try c.bias.withUnsafeBufferPointer { bias in
                            try c.scale.withUnsafeBufferPointer { scale in
                                try s8.withUnsafeMutableBufferPointer { out in
                                    try gemmS8(m: m, n: n, k: k, a: a, aZeroPoint: c.aZP, weights: packed, bias: bias,
                                               scale: scale, c: out, outZeroPoint: c.outZP, pool: pool)
                                }
                                try f32.withUnsafeMutableBufferPointer { out in
                                    try gemmS8(m: m, n: n, k: k, a: a, aZeroPoint: c.aZP, weights: packed, bias: bias,
                                               scale: scale, c: out, pool: pool)
                                }
                            }
                        }
                    }
                    XCTAssertEqual(s8, ref.s8, "\(kernel.name) \(m)x\(n)x\(k) int8 output")
                    XCTAssertEqual(f32.map(\.bitPattern), ref.f32.map(\.bitPattern), "\(kernel.name) \(m)x\(n)x\(k) fp32 output")
                }
                checked += 1
            }
            // one weight of 65 is refused before anything is packed
            var wide = [Int8](repeating: 3, count: 16)
            wide[9] = 65
            XCTAssertThrowsEngineError({
                _ = try wide.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: 2, k: 8, kernel: kernel) }
            }) { if case .valueOutOfRange(_, 9, "65", "-64...64") = $0 { return true } else { return false } }
        }
        print("narrow-weight GEMM cases checked: \(checked)")
    }

    func testGemmF32MatchesReference() throws {
        var rng = SplitMix64(seed: 9)
        let (m, n, k) = (19, 45, 70)
        let a = [Float].random(m * k, in: -1...1, using: &rng), w = [Float].random(n * k, in: -1...1, using: &rng)
        let bias = [Float].random(n, in: -1...1, using: &rng)
        var ref = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = Double(bias[j])
            for p in 0..<k { s += Double(a[i * k + p]) * Double(w[j * k + p]) }
            ref[i * n + j] = Float(s)
        } }
        let pool = try ThreadPool(threads: 2)
        for isa in ISA.supported {
            guard (try? GemmF32Kernel(isa: isa)) != nil else { continue }
            let packed = try w.withUnsafeBufferPointer { try PackedWeightsF32(weights: $0, n: n, k: k, isa: isa) }
            var out = [Float](repeating: .nan, count: m * n)
            try a.withUnsafeBufferPointer { a in try bias.withUnsafeBufferPointer { b in
                try out.withUnsafeMutableBufferPointer { o in
                    try gemmF32(m: m, n: n, k: k, a: a, weights: packed, bias: b, c: o, pool: pool)
                } } }
            for i in 0..<(m * n) { XCTAssertEqual(out[i], ref[i], accuracy: 1e-4, "\(isa) element \(i)") }
        }
    }

    func testRowOpsMatchReference() throws {
        var rng = SplitMix64(seed: 3)
        let rows = 5, cols = 24
        let x = [Float].random(rows * cols, in: -4...4, using: &rng)
        let gamma = [Float].random(cols, in: 0.5...1.5, using: &rng), beta = [Float].random(cols, in: -1...1, using: &rng)
        for isa in ISA.supported {
            let ops = try RowOps(isa: isa)
            var y = [Float](repeating: 0, count: rows * cols)
            try x.withUnsafeBufferPointer { xb in try gamma.withUnsafeBufferPointer { g in
                try beta.withUnsafeBufferPointer { b in try y.withUnsafeMutableBufferPointer { yb in
                    try ops.layerNorm(x: xb, y: yb, rows: rows, cols: cols, gamma: g, beta: b, eps: 1e-6)
                } } } }
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let mean = row.reduce(0, +) / Double(cols)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
                for c in 0..<cols {
                    let e = (row[c] - mean) / (variance + 1e-6).squareRoot() * Double(gamma[c]) + Double(beta[c])
                    XCTAssertEqual(Double(y[r * cols + c]), e, accuracy: 1e-4, "\(isa) layernorm")
                }
            }
            // softmax in place
            var s = x
            try s.withUnsafeMutableBufferPointer { sb in
                try ops.softmax(x: UnsafeBufferPointer(sb), y: sb, rows: rows, cols: cols)
            }
            for r in 0..<rows {
                XCTAssertEqual(s[(r * cols)..<((r + 1) * cols)].reduce(0, +), 1, accuracy: 1e-5, "\(isa) softmax")
            }
            // quantize / dequantize round trip and the tie rule
            let q: [Float] = [2.5, -2.5, 3.5, 0.49, 1000, -1000]
            var qi = [Int8](repeating: 0, count: q.count)
            try q.withUnsafeBufferPointer { qb in try qi.withUnsafeMutableBufferPointer { o in
                try ops.quantize(x: qb, y: o, inverseScale: 1, zeroPoint: 0) } }
            XCTAssertEqual(qi, [2, -2, 4, 0, 127, -128], "\(isa) quantize")
            var d = [Float](repeating: 0, count: q.count)
            try qi.withUnsafeBufferPointer { qb in try d.withUnsafeMutableBufferPointer { o in
                try ops.dequantize(x: qb, y: o, scale: 0.5, zeroPoint: 1) } }
            XCTAssertEqual(d, [0.5, -1.5, 1.5, -0.5, 63, -64.5], "\(isa) dequantize")
        }
    }
}

/// getenv without Foundation.
enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}
