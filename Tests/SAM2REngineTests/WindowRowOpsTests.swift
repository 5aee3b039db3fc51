// WindowRowOpsTests.swift — the window un-partition add and the in-window q max pool
// (Kernels/rowops_par.c) give exactly the bits of the per-row Swift loops they replace in the image
// encoder, on every ISA, with and without a pool.

import XCTest
@testable import SAM2REngine

final class WindowRowOpsTests: XCTestCase {
    func testWindowAddMatchesPerRowAdds() throws {
        var rng = SplitMix64(seed: 8)
        let pool = try ThreadPool(threads: 3)
        // (side, cols, win, perRow, first, windows): 32 / 7 padded (the pooled output of 64 / 14), exact, global.
        for (side, cols, win, perRow, first, windows) in [(32, 40, 7, 5, 4, 13), (32, 40, 7, 5, 0, 25),
                                                          (24, 96, 4, 6, 10, 26), (16, 64, 16, 1, 0, 1)] {
            let y0 = [Float].random(side * side * cols, in: -3...3, using: &rng)
            let x = [Float].random(windows * win * win * cols, in: -3...3, using: &rng)
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                var expected = y0
                try expected.withUnsafeMutableBufferPointer { yb in
                    try x.withUnsafeBufferPointer { xb in
                        for i in 0..<windows {
                            let wy = (first + i) / perRow, wx = (first + i) % perRow
                            let gx0 = wx * win, valid = max(0, min(win, side - gx0))
                            guard valid > 0 else { continue }
                            for ty in 0..<win {
                                let gy = wy * win + ty
                                guard gy < side else { break }
                                let dst = UnsafeMutableBufferPointer(rebasing: yb[((gy * side + gx0) * cols)...]
                                    .prefix(valid * cols))
                                let src = UnsafeBufferPointer(rebasing: xb[((i * win * win + ty * win) * cols)...]
                                    .prefix(valid * cols))
                                try ops.add(a: UnsafeBufferPointer(dst), b: src, y: dst)
                            }
                        }
                    }
                }
                for p in [nil, pool] {
                    var y = y0
                    try y.withUnsafeMutableBufferPointer { yb in
                        try x.withUnsafeBufferPointer {
                            try ops.windowAdd(y: yb, side: side, cols: cols, window: win, windowsPerRow: perRow,
                                              firstWindow: first, windows: windows, x: $0, pool: p)
                        }
                    }
                    XCTAssertTrue(y.elementsEqual(expected) { $0.bitPattern == $1.bitPattern },
                                  "\(isa.name) side \(side) win \(win) pool \(p != nil)")
                }
            }
        }
    }

    func testWindowMaxPoolMatchesSwiftMax() throws {
        var rng = SplitMix64(seed: 9)
        let pool = try ThreadPool(threads: 3)
        for (win, windows, cols) in [(8, 16, 96), (14, 5, 48), (2, 3, 8)] {
            let ldx = 3 * cols, n = win * win, half = win / 2
            var x = [Float].random((windows * n - 1) * ldx + cols, in: -2...2, using: &rng)
            // Signed-zero ties: max must pick what Swift's max picks.
            for i in stride(from: 0, to: x.count, by: 5) { x[i] = i % 2 == 0 ? 0 : -0.0 }
            var expected = [Float](repeating: 0, count: windows * n / 4 * cols)
            for i in 0..<windows {
                for py in 0..<half {
                    for px in 0..<half {
                        let dst = (i * half * half + py * half + px) * cols
                        let s00 = (i * n + 2 * py * win + 2 * px) * ldx
                        let s01 = s00 + ldx, s10 = s00 + win * ldx, s11 = s10 + ldx
                        for ch in 0..<cols {
                            expected[dst + ch] = max(max(x[s00 + ch], x[s01 + ch]), max(x[s10 + ch], x[s11 + ch]))
                        }
                    }
                }
            }
            for isa in ISA.supported {
                let ops = try RowOps(isa: isa)
                for p in [nil, pool] {
                    var y = [Float](repeating: .nan, count: expected.count)
                    try x.withUnsafeBufferPointer { xb in
                        try y.withUnsafeMutableBufferPointer {
                            try ops.windowMaxPool2x2(x: xb, ldx: ldx, window: win, windows: windows, cols: cols, y: $0,
                                                     pool: p)
                        }
                    }
                    XCTAssertTrue(y.elementsEqual(expected) { $0.bitPattern == $1.bitPattern },
                                  "\(isa.name) win \(win) pool \(p != nil)")
                }
            }
        }
    }
}
