// ResidualLayerNormTests.swift — the residual + LayerNorm (+ PE) row op (Kernels/rowops_par.c) gives
// exactly the bits of the whole-tensor adds and LayerNorm it replaces in the mask decoder, on every ISA,
// with and without a pool, in place (y = x) and with the broadcast row.

import XCTest
@testable import SAM2REngine

final class ResidualLayerNormTests: XCTestCase {
    func testMatchesSeparateAddsAndLayerNorm() throws {
        var rng = SplitMix64(seed: 21)
        let pool = try ThreadPool(threads: 3)
        // 4096 x 256: the decoder's shape, split over the pool; 37 x 48 and 5 x 7: blocks that do not divide.
        for (rows, cols) in [(4096, 256), (37, 48), (5, 7)] {
            let n = rows * cols
            let x = [Float].random(n, in: -4...4, using: &rng), b = [Float].random(n, in: -2...2, using: &rng)
            let pe = [Float].random(n, in: -1...1, using: &rng), row = [Float].random(cols, in: -3...3, using: &rng)
            let gamma = [Float].random(cols, in: 0.5...1.5, using: &rng), beta = [Float].random(cols, in: -1...1, using: &rng)
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                for withRow in [false, true] {
                    // Reference: (x + row) + b, LayerNorm, + pe as separate whole-tensor calls.
                    var sum = x
                    if withRow {
                        for r in 0..<rows {
                            try sum.withUnsafeMutableBufferPointer { s in
                                let seg = UnsafeMutableBufferPointer(rebasing: s[(r * cols)..<((r + 1) * cols)])
                                try row.withUnsafeBufferPointer { try ops.add(a: UnsafeBufferPointer(seg), b: $0, y: seg) }
                            }
                        }
                    }
                    var expected = [Float](repeating: 0, count: n), expectedPE = expected
                    try sum.withUnsafeMutableBufferPointer { s in
                        try b.withUnsafeBufferPointer { try ops.add(a: UnsafeBufferPointer(s), b: $0, y: s) }
                        try gamma.withUnsafeBufferPointer { g in try beta.withUnsafeBufferPointer { be in
                            try expected.withUnsafeMutableBufferPointer {
                                try ops.layerNorm(x: UnsafeBufferPointer(s), y: $0, rows: rows, cols: cols, gamma: g,
                                                  beta: be, eps: 1e-5)
                            } } }
                    }
                    try expected.withUnsafeBufferPointer { e in
                        try pe.withUnsafeBufferPointer { p in
                            try expectedPE.withUnsafeMutableBufferPointer { try ops.add(a: e, b: p, y: $0) }
                        }
                    }
                    for p in [nil, pool] {
                        // In place: y is x, as the decoder's keys = norm(keys + out).
                        var y = x, yPE = [Float](repeating: .nan, count: n)
                        try y.withUnsafeMutableBufferPointer { yb in
                            try b.withUnsafeBufferPointer { bb in try pe.withUnsafeBufferPointer { pb in
                                try row.withUnsafeBufferPointer { rb in
                                    try gamma.withUnsafeBufferPointer { g in try beta.withUnsafeBufferPointer { be in
                                        try yPE.withUnsafeMutableBufferPointer {
                                            try ops.residualLayerNorm(x: UnsafeBufferPointer(yb), row: withRow ? rb : nil,
                                                                      b: bb, y: yb, rows: rows, cols: cols, gamma: g,
                                                                      beta: be, eps: 1e-5, pe: pb, yPE: $0, pool: p)
                                        } } }
                                } } }
                        }
                        let what = "\(isa.name) \(rows)x\(cols) row \(withRow) pool \(p != nil)"
                        XCTAssertTrue(y.elementsEqual(expected) { $0.bitPattern == $1.bitPattern }, what)
                        XCTAssertTrue(yPE.elementsEqual(expectedPE) { $0.bitPattern == $1.bitPattern }, what + " (pe)")
                    }
                }
            }
        }
    }

    func testRejectsMismatchedOperands() throws {
        let ops = try RowOps()
        let x = [Float](repeating: 1, count: 12), g = [Float](repeating: 1, count: 4), be = [Float](repeating: 0, count: 4)
        var y = x
        try x.withUnsafeBufferPointer { xb in try g.withUnsafeBufferPointer { gb in try be.withUnsafeBufferPointer { bb in
            try y.withUnsafeMutableBufferPointer { yb in
                // pe without yPE, and a row of the wrong width.
                XCTAssertThrowsError(try ops.residualLayerNorm(x: xb, b: xb, y: yb, rows: 3, cols: 4, gamma: gb, beta: bb,
                                                               eps: 1e-5, pe: xb))
                XCTAssertThrowsError(try ops.residualLayerNorm(x: xb, row: UnsafeBufferPointer(rebasing: xb[0..<3]), b: xb,
                                                               y: yb, rows: 3, cols: 4, gamma: gb, beta: bb, eps: 1e-5))
            } } } }
    }
}
