// Validation.swift — the checks every kernel wrapper shares. They never allocate on success.

enum Check {
    /// Throws if `value` < 1.
    static func positive(_ value: Int, _ name: StaticString) throws {
        guard value >= 1 else { throw EngineError.zeroSize(operand: "\(name)") }
    }

    /// Throws if `value` does not fit an Int32 (the C API's dimension type).
    static func int32(_ value: Int, _ name: StaticString) throws {
        guard value <= Int(Int32.max) else {
            throw EngineError.invalidParameter(name: "\(name)", value: "\(value)", allowed: "<= \(Int32.max)")
        }
    }

    /// A row-major matrix `rows` x `cols` with stride `ld` in a buffer of `count` elements.
    static func matrix(rows: Int, cols: Int, ld: Int, count: Int, _ name: StaticString) throws {
        guard ld >= cols else { throw EngineError.invalidStride(operand: "\(name)", stride: ld, minimum: cols) }
        try int32(ld, name)
        let (mul, o1) = (rows - 1).multipliedReportingOverflow(by: ld)
        let (needed, o2) = mul.addingReportingOverflow(cols)
        guard !o1, !o2, needed <= count else {
            throw EngineError.bufferTooSmall(operand: "\(name)", needed: o1 || o2 ? Int.max : needed, available: count)
        }
    }

    /// The caller's buffers of a float GEMM C[m, n] = bias + A[m, k] W^T, checked after the dimensions and the
    /// weights: A and C matrices inside their buffers, bias of n entries.
    static func gemmBuffers(m: Int, n: Int, k: Int, aCount: Int, lda: Int, cCount: Int, ldc: Int,
                            biasCount: Int?) throws {
        try matrix(rows: m, cols: k, ld: lda, count: aCount, "A")
        try matrix(rows: m, cols: n, ld: ldc, count: cCount, "C")
        if let biasCount { try count(biasCount, n, "bias") }
    }

    /// The row-major [n][k] matrix behind weights packed in panels data[(n / nr)][k][n % nr]
    /// (sam2r_pack_f32, sam2r_pack_f16), each element mapped by `value`.
    static func unpackPanels<T>(_ data: UnsafePointer<T>, n: Int, k: Int, nr: Int, _ value: (T) -> Float) -> [Float] {
        var w = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let panel = data + (i / nr) * k * nr + i % nr
            for j in 0..<k { w[i * k + j] = value(panel[j * nr]) }
        }
        return w
    }

    static func count(_ actual: Int, _ expected: Int, _ name: StaticString) throws {
        guard actual == expected else {
            throw EngineError.countMismatch(operand: "\(name)", expected: expected, actual: actual)
        }
    }

    static func aligned(_ p: UnsafeRawPointer, _ alignment: Int, _ name: StaticString) throws {
        let a = UInt(bitPattern: p)
        guard a % UInt(alignment) == 0 else {
            throw EngineError.misalignedBuffer(operand: "\(name)", address: a, alignment: alignment)
        }
    }

    static func int8ZeroPoint(_ zp: Int32, _ name: StaticString) throws {
        guard zp >= -128, zp <= 127 else {
            throw EngineError.invalidParameter(name: "\(name)", value: "\(zp)", allowed: "-128...127")
        }
    }

    /// Every entry finite (and, if `positive`, > 0).
    static func finite(_ x: UnsafeBufferPointer<Float>, positive: Bool, _ name: StaticString) throws {
        for i in 0..<x.count {
            let v = x[i]
            if !v.isFinite || (positive && !(v > 0)) {
                throw EngineError.valueOutOfRange(operand: "\(name)", index: i, value: "\(v)",
                                                  allowed: positive ? "finite and > 0" : "finite")
            }
        }
    }

    /// Whether the byte ranges of two buffers intersect.
    static func overlaps(_ a: UnsafeRawPointer, _ aBytes: Int, _ b: UnsafeRawPointer, _ bBytes: Int) -> Bool {
        a < b + bBytes && b < a + aBytes
    }
}
