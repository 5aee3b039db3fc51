// ValidationTests.swift — every bad input to the kernel wrappers throws the right EngineError
// (and never reaches C).

import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import SAM2REngine

final class ValidationTests: XCTestCase {
    let m = 4, n = 8, k = 16
    var a = [Int8](repeating: 1, count: 4 * 16)
    var w = [Int8](repeating: 2, count: 8 * 16)
    var scale = [Float](repeating: 0.01, count: 8)
    var bias = [Int32](repeating: 0, count: 8)
    var out8 = [Int8](repeating: 0, count: 4 * 8)
    var outF = [Float](repeating: 0, count: 4 * 8)

    /// Calls the int8-output GEMM with the fixture, overriding what a case changes.
    func s8(m: Int? = nil, n: Int? = nil, k: Int? = nil, aCount: Int? = nil, lda: Int? = nil, aZP: Int32 = 0,
            weights: PackedWeightsS8? = nil, biasCount: Int? = nil, scaleValues: [Float]? = nil,
            cCount: Int? = nil, ldc: Int? = nil, outZP: Int32 = 0, qmin: Int32 = -128, qmax: Int32 = 127) throws {
        let packed = try weights ?? w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: self.n, k: self.k) }
        let sc = scaleValues ?? scale
        try a.withUnsafeBufferPointer { ab in try bias.withUnsafeBufferPointer { bb in
            try sc.withUnsafeBufferPointer { sb in try out8.withUnsafeMutableBufferPointer { cb in
                try gemmS8(m: m ?? self.m, n: n ?? self.n, k: k ?? self.k,
                           a: UnsafeBufferPointer(rebasing: ab[0..<(aCount ?? ab.count)]), lda: lda, aZeroPoint: aZP,
                           weights: packed, bias: UnsafeBufferPointer(rebasing: bb[0..<(biasCount ?? bb.count)]),
                           scale: sb, c: UnsafeMutableBufferPointer(rebasing: cb[0..<(cCount ?? cb.count)]), ldc: ldc,
                           outZeroPoint: outZP, qmin: qmin, qmax: qmax)
            } } } }
    }

    func testValidCallSucceeds() throws {
        try s8()
        XCTAssertEqual(out8[0], Int8((Float(16 * 2) * 0.01).rounded(.toNearestOrEven)))
    }

    func testGemmS8Errors() throws {
        XCTAssertThrowsEngineError(.zeroSize(operand: "M")) { try s8(m: 0) }
        XCTAssertThrowsEngineError(.zeroSize(operand: "N")) { try s8(n: 0) }
        XCTAssertThrowsEngineError(.zeroSize(operand: "K")) { try s8(k: 0) }
        XCTAssertThrowsEngineError(.invalidParameter(name: "K", value: "65537", allowed: "1...65536")) {
            try s8(k: 65537)
        }
        XCTAssertThrowsEngineError(.shapeMismatch(operand: "packed weights [N, K]", expected: [9, 16], actual: [8, 16])) {
            try s8(n: 9)
        }
        XCTAssertThrowsEngineError(.shapeMismatch(operand: "packed weights [N, K]", expected: [8, 15], actual: [8, 16])) {
            try s8(k: 15)
        }
        XCTAssertThrowsEngineError(.invalidStride(operand: "A", stride: 15, minimum: 16)) { try s8(lda: 15) }
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "A", needed: 64, available: 63)) { try s8(aCount: 63) }
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "A", needed: 3 * 20 + 16, available: 64)) { try s8(lda: 20) }
        XCTAssertThrowsEngineError(.invalidStride(operand: "C", stride: 7, minimum: 8)) { try s8(ldc: 7) }
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "C", needed: 32, available: 31)) { try s8(cCount: 31) }
        XCTAssertThrowsEngineError(.countMismatch(operand: "scale", expected: 8, actual: 7)) {
            try s8(scaleValues: [Float](repeating: 1, count: 7))
        }
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "scale", index: 3, value: "nan", allowed: "finite")) {
            var s = [Float](repeating: 1, count: 8); s[3] = .nan
            try s8(scaleValues: s)
        }
        XCTAssertThrowsEngineError(.countMismatch(operand: "bias", expected: 8, actual: 5)) { try s8(biasCount: 5) }
        XCTAssertThrowsEngineError(.invalidParameter(name: "aZeroPoint", value: "128", allowed: "-128...127")) {
            try s8(aZP: 128)
        }
        XCTAssertThrowsEngineError(.invalidParameter(name: "outZeroPoint", value: "-129", allowed: "-128...127")) {
            try s8(outZP: -129)
        }
        XCTAssertThrowsEngineError(.invalidParameter(name: "qmin...qmax", value: "10...5",
                                                     allowed: "qmin <= qmax within -128...127")) {
            try s8(qmin: 10, qmax: 5)
        }
    }

    func testWeightPackingErrors() throws {
        var bad = w
        bad[2 * 16 + 5] = -128
        XCTAssertThrowsEngineError(.valueOutOfRange(operand: "int8 weights [2, 5]", index: 37, value: "-128",
                                                    allowed: "-127...127")) {
            _ = try bad.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: 8, k: 16) }
        }
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "weights", needed: 128, available: 127)) {
            _ = try w.withUnsafeBufferPointer {
                try PackedWeightsS8(weights: UnsafeBufferPointer(rebasing: $0[0..<127]), n: 8, k: 16)
            }
        }
        XCTAssertThrowsEngineError(.zeroSize(operand: "weights K")) {
            _ = try w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: 8, k: 0) }
        }
        XCTAssertThrowsEngineError(.invalidParameter(name: "K", value: "65537", allowed: "1...65536")) {
            _ = try w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: 1, k: 65537) }
        }
        // caller-provided packed memory: misaligned, too small
        let kernel = try GemmS8Kernel()
        let bytes = PackedWeightsS8.dataByteCount(n: 8, k: 16, kernel: kernel)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes + 64, alignment: 64)
        defer { raw.deallocate() }
        let wsum = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 8)
        defer { wsum.deallocate() }
        XCTAssertThrowsEngineError({
            _ = try self.w.withUnsafeBufferPointer {
                try PackedWeightsS8(weights: $0, n: 8, k: 16, data: UnsafeMutableRawBufferPointer(rebasing: raw[1...]),
                                    wsum: wsum)
            }
        }, where: { if case .misalignedBuffer(let op, _, 64) = $0 { return op == "packed int8 weight data" } else { return false } })
        XCTAssertThrowsEngineError(.bufferTooSmall(operand: "packed int8 weight data (bytes)", needed: bytes,
                                                   available: bytes - 1)) {
            _ = try self.w.withUnsafeBufferPointer {
                try PackedWeightsS8(weights: $0, n: 8, k: 16,
                                    data: UnsafeMutableRawBufferPointer(rebasing: raw[0..<(bytes - 1)]), wsum: wsum)
            }
        }
        // caller memory that is right works and matches owned packing
        let mine = try w.withUnsafeBufferPointer { try PackedWeightsS8(weights: $0, n: 8, k: 16, data: raw, wsum: wsum) }
        try s8(weights: mine)
        let viaCaller = out8
        try s8()
        XCTAssertEqual(viaCaller, out8)
    }

    func testGemmF32Errors() throws {
        let wf = [Float](repeating: 0.5, count: n * k), af = [Float](repeating: 1, count: m * k)
        let packed = try wf.withUnsafeBufferPointer { try PackedWeightsF32(weights: $0, n: n, k: k) }
        try af.withUnsafeBufferPointer { ab in try outF.withUnsafeMutableBufferPointer { cb in
            try gemmF32(m: m, n: n, k: k, a: ab, weights: packed, c: cb)
            XCTAssertEqual(cb[0], 8)
            XCTAssertThrowsEngineError(.zeroSize(operand: "M")) {
                try gemmF32(m: 0, n: n, k: k, a: ab, weights: packed, c: cb)
            }
            XCTAssertThrowsEngineError(.shapeMismatch(operand: "packed weights [N, K]", expected: [n, 17], actual: [n, k])) {
                try gemmF32(m: m, n: n, k: 17, a: ab, weights: packed, c: cb)
            }
            XCTAssertThrowsEngineError(.bufferTooSmall(operand: "C", needed: 32, available: 31)) {
                try gemmF32(m: m, n: n, k: k, a: ab, weights: packed, c: UnsafeMutableBufferPointer(rebasing: cb[1...]))
            }
            XCTAssertThrowsEngineError(.countMismatch(operand: "bias", expected: 8, actual: 3)) {
                try [Float](repeating: 0, count: 3).withUnsafeBufferPointer { b in
                    try gemmF32(m: m, n: n, k: k, a: ab, weights: packed, bias: b, c: cb)
                }
            }
            XCTAssertThrowsEngineError(.invalidStride(operand: "A", stride: 4, minimum: 16)) {
                try gemmF32(m: m, n: n, k: k, a: ab, lda: 4, weights: packed, c: cb)
            }
        } }
    }

    func testRowOpErrors() throws {
        let ops = try RowOps()
        var x = [Float](repeating: 1, count: 24), y = [Float](repeating: 0, count: 24)
        let g = [Float](repeating: 1, count: 6), b = [Float](repeating: 0, count: 5)
        try x.withUnsafeMutableBufferPointer { xm in
            let xb = UnsafeBufferPointer(xm)
            try y.withUnsafeMutableBufferPointer { yb in
                XCTAssertThrowsEngineError(.shapeMismatch(operand: "y vs x", expected: [24], actual: [23])) {
                    try ops.gelu(x: xb, y: UnsafeMutableBufferPointer(rebasing: yb[1...]))
                }
                XCTAssertThrowsEngineError({
                    try ops.gelu(x: UnsafeBufferPointer(rebasing: xb[0..<20]), y: UnsafeMutableBufferPointer(rebasing: xm[2..<22]))
                }, where: { if case .invalidParameter = $0 { return true } else { return false } })
                try ops.gelu(x: xb, y: xm)  // exact in place is allowed
                g.withUnsafeBufferPointer { gb in b.withUnsafeBufferPointer { bb in
                    XCTAssertThrowsEngineError(.countMismatch(operand: "beta", expected: 6, actual: 5)) {
                        try ops.layerNorm(x: xb, y: yb, rows: 4, cols: 6, gamma: gb, beta: bb, eps: 1e-6)
                    }
                    XCTAssertThrowsEngineError(.bufferTooSmall(operand: "x", needed: 30, available: 24)) {
                        try ops.layerNorm(x: xb, y: yb, rows: 5, cols: 6, gamma: gb, beta: bb, eps: 1e-6)
                    }
                } }
                XCTAssertThrowsEngineError(.zeroSize(operand: "rows")) {
                    try ops.softmax(x: xb, y: yb, rows: 0, cols: 6)
                }
                XCTAssertThrowsEngineError(.invalidParameter(name: "height x width", value: "3 x 2", allowed: "even")) {
                    try ops.maxPool2x2(x: xb, y: yb, height: 3, width: 2, channels: 4)
                }
                XCTAssertThrowsEngineError(.countMismatch(operand: "y (h/2*w/2*c)", expected: 6, actual: 24)) {
                    try ops.maxPool2x2(x: xb, y: yb, height: 2, width: 2, channels: 6)
                }
                XCTAssertThrowsEngineError({
                    try ops.maxPool2x2(x: xb, y: UnsafeMutableBufferPointer(rebasing: xm[0..<6]), height: 2, width: 2, channels: 6)
                }, where: { if case .invalidParameter = $0 { return true } else { return false } })
                xm[7] = .nan
                var q = [Int8](repeating: 0, count: 24)
                q.withUnsafeMutableBufferPointer { qb in
                    XCTAssertThrowsEngineError(.valueOutOfRange(operand: "quantize input", index: 7, value: "nan",
                                                                allowed: "not NaN")) {
                        try ops.quantize(x: xb, y: qb, inverseScale: 1, zeroPoint: 0)
                    }
                    XCTAssertThrowsEngineError(.invalidParameter(name: "inverseScale", value: "0.0", allowed: "finite, > 0")) {
                        try ops.quantize(x: xb, y: qb, inverseScale: 0, zeroPoint: 0)
                    }
                    XCTAssertThrowsEngineError(.invalidParameter(name: "zeroPoint", value: "200", allowed: "-128...127")) {
                        try ops.dequantize(x: UnsafeBufferPointer(qb), y: yb, scale: 1, zeroPoint: 200)
                    }
                }
            }
        }
    }

    func testErrorDescriptionsAreOneLine() {
        let errors: [EngineError] = [
            .shapeMismatch(operand: "A", expected: [1, 2], actual: [3, 4]), .zeroSize(operand: "M"),
            .misalignedBuffer(operand: "w", address: 0x1001, alignment: 64), .arenaOverflow(needed: 10, available: 5),
            .unsupportedISA("neon"), .canaryCorrupted(tensor: "#1 'x'", byteOffset: 0), .invalidThreadCount(0),
        ]
        for e in errors {
            XCTAssertFalse(e.description.contains("\n"))
            XCTAssertFalse(e.description.isEmpty)
        }
        XCTAssertTrue(EngineError.shapeMismatch(operand: "A", expected: [1, 2], actual: [3, 4]).description
            .contains("[1, 2]"))
        XCTAssertTrue(EngineError.arenaOverflow(needed: 10, available: 5).description.contains("10"))
    }
}
