// FusedRowOpsTests.swift — the fused producer + quantize row ops (Kernels/rowops_par.c) give exactly
// the bits of their unfused composition (producer into floats, then quantize), on every ISA, with and
// without a pool, and report the same first NaN index the unfused quantize reports.

import XCTest
@testable import SAM2REngine

final class FusedRowOpsTests: XCTestCase {
    static let invScale: Float = 9.5, zp: Int32 = -7

    /// quantize(x) through the unfused op, or the error it throws.
    private func quantized(_ ops: RowOps, _ x: [Float]) throws -> [Int8] {
        var q = [Int8](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { xb in
            try q.withUnsafeMutableBufferPointer {
                try ops.quantize(x: xb, y: $0, inverseScale: Self.invScale, zeroPoint: Self.zp)
            }
        }
        return q
    }

    private func layerNormed(_ ops: RowOps, _ x: [Float], ldx: Int, rows: Int, cols: Int, _ g: [Float],
                             _ b: [Float]) throws -> [Float] {
        var y = [Float](repeating: 0, count: rows * cols)
        try x.withUnsafeBufferPointer { xb in
            try g.withUnsafeBufferPointer { gb in try b.withUnsafeBufferPointer { bb in
                try y.withUnsafeMutableBufferPointer {
                    try ops.layerNorm(x: UnsafeBufferPointer(rebasing: xb[0..<((rows - 1) * ldx + cols)]), ldx: ldx,
                                      y: $0, rows: rows, cols: cols, gamma: gb, beta: bb, eps: 1e-6)
                } } }
        }
        return y
    }

    private func fusedLayerNorm(_ ops: RowOps, _ x: [Float], ldx: Int, rows: Int, cols: Int, _ g: [Float],
                                _ b: [Float], pool: ThreadPool?) throws -> [Int8] {
        var q = [Int8](repeating: 0, count: rows * cols)
        try x.withUnsafeBufferPointer { xb in
            try g.withUnsafeBufferPointer { gb in try b.withUnsafeBufferPointer { bb in
                try q.withUnsafeMutableBufferPointer {
                    try ops.layerNormQuantize(x: UnsafeBufferPointer(rebasing: xb[0..<((rows - 1) * ldx + cols)]),
                                              ldx: ldx, rows: rows, cols: cols, gamma: gb, beta: bb, eps: 1e-6, y: $0,
                                              inverseScale: Self.invScale, zeroPoint: Self.zp, pool: pool)
                } } }
        }
        return q
    }

    private func fusedGelu(_ ops: RowOps, _ x: [Float], pool: ThreadPool?) throws -> [Int8] {
        var q = [Int8](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { xb in
            try q.withUnsafeMutableBufferPointer {
                try ops.geluQuantize(x: xb, y: $0, inverseScale: Self.invScale, zeroPoint: Self.zp, pool: pool)
            }
        }
        return q
    }

    func testLayerNormQuantizeMatchesLayerNormThenQuantize() throws {
        var rng = SplitMix64(seed: 5)
        let pool = try ThreadPool(threads: 3)
        // 96 columns: 42 rows per scratch piece (ragged last piece); 768: 5 rows; ldx > cols: strided rows.
        for (rows, cols, ldx) in [(1531, 96, 96), (301, 768, 800), (3, 40, 40)] {
            let x = [Float].random((rows - 1) * ldx + cols, in: -4...4, using: &rng)
            let g = [Float].random(cols, in: 0.5...1.5, using: &rng), b = [Float].random(cols, in: -1...1, using: &rng)
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                let expected = try quantized(ops, try layerNormed(ops, x, ldx: ldx, rows: rows, cols: cols, g, b))
                for p in [nil, pool] {
                    XCTAssertEqual(try fusedLayerNorm(ops, x, ldx: ldx, rows: rows, cols: cols, g, b, pool: p), expected,
                                   "\(isa.name) \(rows)x\(cols) pool \(p != nil)")
                }
            }
        }
    }

    func testGeluQuantizeMatchesGeluThenQuantize() throws {
        var rng = SplitMix64(seed: 6)
        let pool = try ThreadPool(threads: 3)
        for count in [150_001, 4096 + 37, 5] {
            let x = [Float].random(count, in: -6...6, using: &rng)
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                var g = [Float](repeating: 0, count: count)
                try x.withUnsafeBufferPointer { xb in try g.withUnsafeMutableBufferPointer { try ops.gelu(x: xb, y: $0) } }
                let expected = try quantized(ops, g)
                for p in [nil, pool] {
                    XCTAssertEqual(try fusedGelu(ops, x, pool: p), expected, "\(isa.name) \(count) pool \(p != nil)")
                }
            }
        }
    }

    func testWindowLayerNormQuantizeMatchesGatherThenQuantize() throws {
        var rng = SplitMix64(seed: 7)
        let pool = try ThreadPool(threads: 3)
        // 64 / 14: padded last window column and row; 32 / 8: exact; 20 / 20: one (global) window.
        for (side, cols, win, first, windows) in [(64, 48, 14, 3, 19), (64, 48, 14, 0, 25), (32, 96, 8, 5, 8),
                                                  (20, 64, 20, 0, 1)] {
            let x = [Float].random(side * side * cols, in: -3...3, using: &rng)
            let g = [Float].random(cols, in: 0.5...1.5, using: &rng), b = [Float].random(cols, in: -1...1, using: &rng)
            let perRow = (side + win - 1) / win, n = win * win
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                // The unfused composition: LayerNorm of every token, gathered window by window, padding 0.
                let normed = try layerNormed(ops, x, ldx: cols, rows: side * side, cols: cols, g, b)
                var gathered = [Float](repeating: 0, count: windows * n * cols)
                for i in 0..<windows {
                    let wy = (first + i) / perRow, wx = (first + i) % perRow
                    for ty in 0..<win {
                        for tx in 0..<win {
                            let gy = wy * win + ty, gx = wx * win + tx
                            guard gy < side, gx < side else { continue }
                            for ch in 0..<cols {
                                gathered[((i * n) + ty * win + tx) * cols + ch] = normed[(gy * side + gx) * cols + ch]
                            }
                        }
                    }
                }
                let expected = try quantized(ops, gathered)
                for p in [nil, pool] {
                    var q = [Int8](repeating: 0, count: windows * n * cols)
                    try x.withUnsafeBufferPointer { xb in
                        try g.withUnsafeBufferPointer { gb in try b.withUnsafeBufferPointer { bb in
                            try q.withUnsafeMutableBufferPointer {
                                try ops.windowLayerNormQuantize(x: xb, side: side, cols: cols, window: win,
                                                                firstWindow: first, windows: windows, gamma: gb,
                                                                beta: bb, eps: 1e-6, y: $0,
                                                                inverseScale: Self.invScale, zeroPoint: Self.zp,
                                                                pool: p)
                            } } }
                    }
                    XCTAssertEqual(q, expected, "\(isa.name) side \(side) win \(win) pool \(p != nil)")
                }
            }
        }
    }

    /// A NaN reaches the quantize input at the same index as in the unfused composition, for the
    /// first of several NaNs across split tasks; an Inf alone quantizes (clamped) without error.
    func testFusedOpsReportTheFirstNaNAndAcceptInfinity() throws {
        let pool = try ThreadPool(threads: 2)
        let ops = try RowOps()
        let rows = 1531, cols = 96
        var x = [Float](repeating: 0.25, count: rows * cols)
        for i in stride(from: 0, to: x.count, by: 7) { x[i] = Float(i % 13) }
        let g = [Float](repeating: 1, count: cols), b = [Float](repeating: 0, count: cols)
        x[1200 * cols + 5] = .nan     // LayerNorm: the whole row becomes NaN, first at column 0
        x[1400 * cols + 9] = .nan
        x[300 * cols + 2] = .infinity // row 300: inf - inf = NaN as well
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "quantize input", index: 300 * cols, value: "nan",
                                                    allowed: "not NaN")) {
            _ = try fusedLayerNorm(ops, x, ldx: cols, rows: rows, cols: cols, g, b, pool: pool)
        }
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "quantize input", index: 300 * cols, value: "nan",
                                                    allowed: "not NaN")) {
            _ = try quantized(ops, try layerNormed(ops, x, ldx: cols, rows: rows, cols: cols, g, b))
        }
        var e = [Float](repeating: 0.5, count: rows * cols)
        e[100_003] = .nan
        e[e.count - 2] = .nan
        e[7] = .infinity
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "quantize input", index: 100_003, value: "nan",
                                                    allowed: "not NaN")) {
            _ = try fusedGelu(ops, e, pool: pool)
        }
        e[100_003] = 1
        e[e.count - 2] = 2
        let q = try fusedGelu(ops, e, pool: pool)
        XCTAssertEqual(q[7], 127, "gelu(+inf) = +inf clamps")
        var ge = [Float](repeating: 0, count: e.count)
        try e.withUnsafeBufferPointer { xb in try ge.withUnsafeMutableBufferPointer { try ops.gelu(x: xb, y: $0) } }
        XCTAssertEqual(q, try quantized(ops, ge))
    }
}
