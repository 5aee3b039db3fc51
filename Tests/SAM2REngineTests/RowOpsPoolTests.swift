// RowOpsPoolTests.swift — row ops split over a thread pool (Kernels/rowops_par.c) give exactly the
// single-call result, and quantize still reports the first NaN when its work is split.

import XCTest
@testable import SAM2REngine

final class RowOpsPoolTests: XCTestCase {
    // 1531 rows of 96 = 146 976 elements: split into ragged tasks (the split starts at 64 K elements).
    static let rows = 1531, cols = 96

    func testPooledRowOpsAreBitIdenticalToSingleCall() throws {
        var rng = SplitMix64(seed: 11)
        let count = Self.rows * Self.cols
        let x = [Float].random(count, in: -6...6, using: &rng)
        let b = [Float].random(count, in: -6...6, using: &rng)
        let gamma = [Float].random(Self.cols, in: 0.5...1.5, using: &rng)
        let beta = [Float].random(Self.cols, in: -1...1, using: &rng)
        let pool = try ThreadPool(threads: 3)
        for isa in ISA.supported {
            let ops = try RowOps(isa: isa)
            var outs: [[Float]] = []
            var quants: [[Int8]] = []
            for p in [nil, pool] {
                var ln = [Float](repeating: 0, count: count), ge = ln, ad = ln
                var q = [Int8](repeating: 0, count: count)
                try x.withUnsafeBufferPointer { xb in
                    try gamma.withUnsafeBufferPointer { g in try beta.withUnsafeBufferPointer { be in
                        try ln.withUnsafeMutableBufferPointer {
                            try ops.layerNorm(x: xb, y: $0, rows: Self.rows, cols: Self.cols, gamma: g, beta: be,
                                              eps: 1e-6, pool: p)
                        } } }
                    try ge.withUnsafeMutableBufferPointer { try ops.gelu(x: xb, y: $0, pool: p) }
                    try b.withUnsafeBufferPointer { bb in
                        try ad.withUnsafeMutableBufferPointer { try ops.add(a: xb, b: bb, y: $0, pool: p) } }
                    try q.withUnsafeMutableBufferPointer {
                        try ops.quantize(x: xb, y: $0, inverseScale: 21.5, zeroPoint: 3, pool: p) }
                }
                outs.append(ln + ge + ad)
                quants.append(q)
            }
            XCTAssertTrue(outs[0].elementsEqual(outs[1]) { $0.bitPattern == $1.bitPattern },
                          "\(isa.name): pooled layerNorm/gelu/add differ from the single call")
            XCTAssertEqual(quants[0], quants[1], "\(isa.name): pooled quantize differs from the single call")
        }
    }

    func testPooledQuantizeFindsTheFirstNaNAndAcceptsInfinity() throws {
        let count = Self.rows * Self.cols
        var x = [Float](repeating: 0.25, count: count)
        x[count - 5] = .infinity
        x[100_003] = .nan
        x[count - 2] = .nan
        var q = [Int8](repeating: 0, count: count)
        let pool = try ThreadPool(threads: 2)
        let ops = try RowOps()
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "quantize input", index: 100_003, value: "nan",
                                                    allowed: "not NaN")) {
            try x.withUnsafeBufferPointer { xb in
                try q.withUnsafeMutableBufferPointer {
                    try ops.quantize(x: xb, y: $0, inverseScale: 1, zeroPoint: 0, pool: pool) } }
        }
        x[100_003] = 1
        x[count - 2] = 2
        try x.withUnsafeBufferPointer { xb in
            try q.withUnsafeMutableBufferPointer {
                try ops.quantize(x: xb, y: $0, inverseScale: 1, zeroPoint: 0, pool: pool) } }
        XCTAssertEqual(q[count - 5], 127, "+inf clamps")
        XCTAssertEqual(q[count - 2], 2)
    }
}
