// RowOps.swift — validated row-wise / elementwise fp32 ops and int8 (de)quantization
// (Kernels/include/sam2r_rowops.h). Numerics are defined in that header. In-place (y == x, same
// strides) is allowed for every op except maxPool2x2; any other overlap is rejected.

import SAM2RKernels

/// The row ops of one ISA variant.
public struct RowOps: @unchecked Sendable {
    public let table: UnsafePointer<sam2r_rowops>

    /// The row ops of `isa` (default: active); the C side falls back to the nearest lower level.
    public init(isa: ISA = .active) throws {
        guard isa.isSupported else { throw EngineError.unsupportedISA(isa.name) }
        guard let t = sam2r_rowops_for(isa.cValue) else {
            throw EngineError.kernelUnavailable(family: "rowops", isa: isa.name)
        }
        table = t
    }

    public var name: String { String(cString: table.pointee.name) }
    public var isa: ISA { ISA(table.pointee.isa) ?? .scalar }

    /// y = LayerNorm(x) per row over `cols` (biased variance, two-pass), * gamma + beta.
    public func layerNorm(x: UnsafeBufferPointer<Float>, ldx: Int? = nil,
                          y: UnsafeMutableBufferPointer<Float>, ldy: Int? = nil,
                          rows: Int, cols: Int,
                          gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>,
                          eps: Float, pool: ThreadPool? = nil) throws {
        let ldx = ldx ?? cols, ldy = ldy ?? cols
        try rowwise(x: x, ldx: ldx, y: y, ldy: ldy, rows: rows, cols: cols)
        try Check.count(gamma.count, cols, "gamma")
        try Check.count(beta.count, cols, "beta")
        guard eps.isFinite, eps >= 0 else {
            throw EngineError.invalidParameter(name: "eps", value: "\(eps)", allowed: "finite, >= 0")
        }
        sam2r_par_layernorm(table, pool?.handle, x.baseAddress, Int32(ldx), y.baseAddress, Int32(ldy), Int32(rows),
                            Int32(cols), gamma.baseAddress, beta.baseAddress, eps)
    }

    /// y = softmax(x) per row of `cols` (numerically stable).
    public func softmax(x: UnsafeBufferPointer<Float>, ldx: Int? = nil,
                        y: UnsafeMutableBufferPointer<Float>, ldy: Int? = nil,
                        rows: Int, cols: Int) throws {
        let ldx = ldx ?? cols, ldy = ldy ?? cols
        try rowwise(x: x, ldx: ldx, y: y, ldy: ldy, rows: rows, cols: cols)
        table.pointee.softmax(x.baseAddress, Int32(ldx), y.baseAddress, Int32(ldy), Int32(rows), Int32(cols))
    }

    /// y = gelu(x) (exact erf form) elementwise; counts must match.
    public func gelu(x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
                     pool: ThreadPool? = nil) throws {
        try elementwise(x, y, "x", "y")
        sam2r_par_gelu(table, pool?.handle, x.baseAddress, y.baseAddress, x.count)
    }

    /// y = a + b elementwise; counts must match.
    public func add(a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                    y: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil) throws {
        try elementwise(a, y, "a", "y")
        try elementwise(b, y, "b", "y")
        sam2r_par_add(table, pool?.handle, a.baseAddress, b.baseAddress, y.baseAddress, a.count)
    }

    /// Residual + LayerNorm (+ positional add) in one pass: y = LayerNorm(x (+ row) + b) per row, `row` a
    /// [cols] vector added to every row of x first; with `pe`, yPE = y + pe. [rows][cols] packed; y may be x
    /// or b. The bits of the separate whole-tensor adds and LayerNorm (sam2r_rowops_par.h).
    public func residualLayerNorm(x: UnsafeBufferPointer<Float>, row: UnsafeBufferPointer<Float>? = nil,
                                  b: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
                                  rows: Int, cols: Int, gamma: UnsafeBufferPointer<Float>,
                                  beta: UnsafeBufferPointer<Float>, eps: Float,
                                  pe: UnsafeBufferPointer<Float>? = nil, yPE: UnsafeMutableBufferPointer<Float>? = nil,
                                  pool: ThreadPool? = nil) throws {
        try rowwise(x: x, ldx: cols, y: y, ldy: cols, rows: rows, cols: cols)
        try elementwise(b, y, "b", "y")
        try Check.count(gamma.count, cols, "gamma")
        try Check.count(beta.count, cols, "beta")
        if let row { try Check.count(row.count, cols, "row") }
        guard (pe == nil) == (yPE == nil) else {
            throw EngineError.invalidParameter(name: "pe/yPE", value: "one of them", allowed: "both or neither")
        }
        if let pe, let yPE {
            try Check.count(pe.count, y.count, "pe")
            try Check.count(yPE.count, y.count, "yPE")
            let yb = UnsafeRawPointer(y.baseAddress!), ob = UnsafeRawPointer(yPE.baseAddress!)
            guard !Check.overlaps(yb, y.count * 4, ob, yPE.count * 4) else {
                throw EngineError.invalidParameter(name: "y/yPE", value: "overlapping", allowed: "disjoint buffers")
            }
        }
        guard eps.isFinite, eps >= 0 else {
            throw EngineError.invalidParameter(name: "eps", value: "\(eps)", allowed: "finite, >= 0")
        }
        sam2r_par_residual_layernorm(table, pool?.handle, x.baseAddress, row?.baseAddress, b.baseAddress, y.baseAddress,
                                     Int32(rows), Int32(cols), gamma.baseAddress, beta.baseAddress, eps,
                                     pe?.baseAddress, yPE?.baseAddress)
    }

    /// Channels-last [h][w][c] -> [h/2][w/2][c], 2x2 max, stride 2 (h, w even). No aliasing.
    public func maxPool2x2(x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
                           height h: Int, width w: Int, channels c: Int) throws {
        try Check.positive(h, "height")
        try Check.positive(w, "width")
        try Check.positive(c, "channels")
        guard h % 2 == 0, w % 2 == 0 else {
            throw EngineError.invalidParameter(name: "height x width", value: "\(h) x \(w)", allowed: "even")
        }
        let (hw, o1) = h.multipliedReportingOverflow(by: w)
        let (inCount, o2) = hw.multipliedReportingOverflow(by: c)
        guard !o1, !o2, inCount <= Int(Int32.max) else {
            throw EngineError.invalidParameter(name: "h*w*c", value: "\(h)*\(w)*\(c)", allowed: "<= \(Int32.max)")
        }
        let outCount = (h / 2) * (w / 2) * c
        try Check.count(x.count, inCount, "x (h*w*c)")
        try Check.count(y.count, outCount, "y (h/2*w/2*c)")
        guard !Check.overlaps(x.baseAddress!, inCount * 4, y.baseAddress!, outCount * 4) else {
            throw EngineError.invalidParameter(name: "x/y", value: "overlapping", allowed: "disjoint buffers")
        }
        table.pointee.maxpool2x2(x.baseAddress, y.baseAddress, Int32(h), Int32(w), Int32(c))
    }

    /// y = clamp(rint(x * inverseScale), -128 - zp, 127 - zp) + zp (round half to even).
    /// Throws on NaN inputs (outside the kernel contract).
    public func quantize(x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Int8>,
                         inverseScale: Float, zeroPoint: Int32, pool: ThreadPool? = nil) throws {
        try quantizeOperands(x, y, inverseScale: inverseScale, zeroPoint: zeroPoint)
        // The kernel flags NaN/Inf while it quantizes (no extra pass); only then is x searched for a NaN.
        let nonFinite = sam2r_par_quantize_s8(table, pool?.handle, x.baseAddress, y.baseAddress, x.count,
                                              inverseScale, zeroPoint)
        guard nonFinite != 0 else { return }
        for i in 0..<x.count where x[i].isNaN {
            throw EngineError.valueOutOfRange(operand: "quantize input", index: i, value: "nan", allowed: "not NaN")
        }
    }

    // MARK: - Fused producer + quantize (Kernels/rowops_par.c): the same bits as the producer into a
    // float buffer then `quantize` of that buffer, without the float buffer's memory round trip.

    /// Widest row `layerNormQuantize` / `windowLayerNormQuantize` take.
    public static let fusedMaxCols = Int(SAM2R_FUSED_SCRATCH_FLOATS)

    /// y (packed rows x cols int8) = quantize(LayerNorm(x)). Throws on a NaN quantize input, with its
    /// index in the packed float output, as `quantize` would.
    public func layerNormQuantize(x: UnsafeBufferPointer<Float>, ldx: Int? = nil, rows: Int, cols: Int,
                                  gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>, eps: Float,
                                  y: UnsafeMutableBufferPointer<Int8>, inverseScale: Float, zeroPoint: Int32,
                                  pool: ThreadPool? = nil) throws {
        let ldx = ldx ?? cols
        try Check.positive(rows, "rows")
        try Check.positive(cols, "cols")
        try Check.int32(rows, "rows")
        try Check.matrix(rows: rows, cols: cols, ld: ldx, count: x.count, "x")
        try Check.count(y.count, rows * cols, "y (rows*cols)")
        try fusedParameters(cols: cols, gamma: gamma, beta: beta, eps: eps, inverseScale: inverseScale,
                            zeroPoint: zeroPoint)
        try disjoint(x, y)
        try nanCheck(sam2r_par_layernorm_s8(table, pool?.handle, x.baseAddress, Int32(ldx), y.baseAddress, Int32(rows),
                                            Int32(cols), gamma.baseAddress, beta.baseAddress, eps, inverseScale,
                                            zeroPoint))
    }

    /// y = quantize(gelu(x)) elementwise.
    public func geluQuantize(x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Int8>,
                             inverseScale: Float, zeroPoint: Int32, pool: ThreadPool? = nil) throws {
        try quantizeOperands(x, y, inverseScale: inverseScale, zeroPoint: zeroPoint)
        try nanCheck(sam2r_par_gelu_s8(table, pool?.handle, x.baseAddress, y.baseAddress, x.count, inverseScale,
                                       zeroPoint))
    }

    /// Window partition + LayerNorm + quantize: x is [side][side][cols], cut into win x win windows
    /// (ceil(side / win) per row, row-major); windows [firstWindow, firstWindow + windows) go to y as
    /// [windows][win * win][cols], padding tokens (past the image edge) quantize(0) = zeroPoint.
    public func windowLayerNormQuantize(x: UnsafeBufferPointer<Float>, side: Int, cols: Int, window win: Int,
                                        firstWindow: Int, windows: Int,
                                        gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>,
                                        eps: Float, y: UnsafeMutableBufferPointer<Int8>, inverseScale: Float,
                                        zeroPoint: Int32, pool: ThreadPool? = nil) throws {
        try Check.positive(win, "window")
        let perRow = (side + win - 1) / win
        try windowGeometry(side: side, cols: cols, window: win, windowsPerRow: perRow, firstWindow: firstWindow,
                           windows: windows)
        try Check.count(x.count, side * side * cols, "x (side*side*cols)")
        try Check.count(y.count, windows * win * win * cols, "y (windows*win*win*cols)")
        try fusedParameters(cols: cols, gamma: gamma, beta: beta, eps: eps, inverseScale: inverseScale,
                            zeroPoint: zeroPoint)
        try disjoint(x, y)
        try nanCheck(sam2r_par_window_layernorm_s8(table, pool?.handle, x.baseAddress, Int32(side), Int32(cols),
                                                   Int32(win), Int32(perRow), Int32(firstWindow), Int32(windows),
                                                   y.baseAddress, gamma.baseAddress, beta.baseAddress, eps,
                                                   inverseScale, zeroPoint))
    }

    /// Window un-partition + add: y [side][side][cols] += x [windows][win * win][cols] for windows
    /// [firstWindow, firstWindow + windows) (windowsPerRow per row, row-major); padding tokens dropped.
    public func windowAdd(y: UnsafeMutableBufferPointer<Float>, side: Int, cols: Int, window win: Int,
                          windowsPerRow: Int, firstWindow: Int, windows: Int, x: UnsafeBufferPointer<Float>,
                          pool: ThreadPool? = nil) throws {
        try windowGeometry(side: side, cols: cols, window: win, windowsPerRow: windowsPerRow, firstWindow: firstWindow,
                           windows: windows)
        try Check.count(y.count, side * side * cols, "y (side*side*cols)")
        try Check.count(x.count, windows * win * win * cols, "x (windows*win*win*cols)")
        guard !Check.overlaps(x.baseAddress!, x.count * 4, y.baseAddress!, y.count * 4) else {
            throw EngineError.invalidParameter(name: "x/y", value: "overlapping", allowed: "disjoint buffers")
        }
        sam2r_par_window_add(table, pool?.handle, y.baseAddress, Int32(side), Int32(cols), Int32(win),
                             Int32(windowsPerRow), Int32(firstWindow), Int32(windows), x.baseAddress)
    }

    /// 2x2 max pool inside each win x win window (win even): x [windows][win][win] rows of stride ldx, the
    /// first `cols` floats of each pooled, -> y [windows][win/2][win/2][cols]; max(a, b) as Swift's max.
    public func windowMaxPool2x2(x: UnsafeBufferPointer<Float>, ldx: Int, window win: Int, windows: Int, cols: Int,
                                 y: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil) throws {
        try Check.positive(win, "window")
        try Check.positive(windows, "windows")
        guard win % 2 == 0 else {
            throw EngineError.invalidParameter(name: "window", value: "\(win)", allowed: "even")
        }
        let rows = windows * win * win
        try Check.int32(rows * ldx, "windows*win*win*ldx")
        try Check.matrix(rows: rows, cols: cols, ld: ldx, count: x.count, "x")
        try Check.count(y.count, rows / 4 * cols, "y (windows*win*win/4*cols)")
        guard !Check.overlaps(x.baseAddress!, x.count * 4, y.baseAddress!, y.count * 4) else {
            throw EngineError.invalidParameter(name: "x/y", value: "overlapping", allowed: "disjoint buffers")
        }
        sam2r_par_window_maxpool2x2(table, pool?.handle, x.baseAddress, Int32(ldx), Int32(win), Int32(windows),
                                    Int32(cols), y.baseAddress)
    }

    private func windowGeometry(side: Int, cols: Int, window win: Int, windowsPerRow: Int, firstWindow: Int,
                                windows: Int) throws {
        try Check.positive(side, "side")
        try Check.positive(cols, "cols")
        try Check.positive(win, "window")
        try Check.positive(windows, "windows")
        try Check.positive(windowsPerRow, "windowsPerRow")
        guard firstWindow >= 0, firstWindow + windows <= windowsPerRow * windowsPerRow else {
            throw EngineError.invalidParameter(name: "firstWindow + windows", value: "\(firstWindow) + \(windows)",
                                               allowed: "<= \(windowsPerRow * windowsPerRow)")
        }
        try Check.int32(side * side * cols, "side*side*cols")
        try Check.int32(windows * win * win * cols, "windows*win*win*cols")
    }

    private func fusedParameters(cols: Int, gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>,
                                 eps: Float, inverseScale: Float, zeroPoint: Int32) throws {
        guard cols <= Self.fusedMaxCols else {
            throw EngineError.invalidParameter(name: "cols", value: "\(cols)", allowed: "<= \(Self.fusedMaxCols)")
        }
        try Check.count(gamma.count, cols, "gamma")
        try Check.count(beta.count, cols, "beta")
        guard eps.isFinite, eps >= 0 else {
            throw EngineError.invalidParameter(name: "eps", value: "\(eps)", allowed: "finite, >= 0")
        }
        try quantizeParameters(inverseScale: inverseScale, zeroPoint: zeroPoint)
    }

    /// x -> y elementwise quantize operands: equal non-zero counts, valid parameters, disjoint.
    private func quantizeOperands(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Int8>,
                                  inverseScale: Float, zeroPoint: Int32) throws {
        try Check.positive(x.count, "x")
        try Check.count(y.count, x.count, "y")
        try quantizeParameters(inverseScale: inverseScale, zeroPoint: zeroPoint)
        try disjoint(x, y)
    }

    private func quantizeParameters(inverseScale: Float, zeroPoint: Int32) throws {
        guard inverseScale.isFinite, inverseScale > 0 else {
            throw EngineError.invalidParameter(name: "inverseScale", value: "\(inverseScale)", allowed: "finite, > 0")
        }
        try Check.int8ZeroPoint(zeroPoint, "zeroPoint")
    }

    private func disjoint(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Int8>) throws {
        guard !Check.overlaps(x.baseAddress!, x.count * 4, y.baseAddress!, y.count) else {
            throw EngineError.invalidParameter(name: "x/y", value: "overlapping", allowed: "disjoint buffers")
        }
    }

    /// A fused op's result: -1, or the first NaN's index in the (unfused) float quantize input.
    private func nanCheck(_ firstNaN: Int64) throws {
        guard firstNaN >= 0 else { return }
        throw EngineError.valueOutOfRange(operand: "quantize input", index: Int(firstNaN), value: "nan", allowed: "not NaN")
    }

    /// y = (x - zp) * scale.
    public func dequantize(x: UnsafeBufferPointer<Int8>, y: UnsafeMutableBufferPointer<Float>,
                           scale: Float, zeroPoint: Int32) throws {
        try Check.positive(x.count, "x")
        try Check.count(y.count, x.count, "y")
        guard scale.isFinite else {
            throw EngineError.invalidParameter(name: "scale", value: "\(scale)", allowed: "finite")
        }
        try Check.int8ZeroPoint(zeroPoint, "zeroPoint")
        guard !Check.overlaps(x.baseAddress!, x.count, y.baseAddress!, y.count * 4) else {
            throw EngineError.invalidParameter(name: "x/y", value: "overlapping", allowed: "disjoint buffers")
        }
        table.pointee.dequantize_s8(x.baseAddress, y.baseAddress, x.count, scale, zeroPoint)
    }

    // MARK: - Shared checks

    /// rows x cols matrices with strides; y may be x itself (same base, same stride) but not a
    /// partial overlap.
    private func rowwise(x: UnsafeBufferPointer<Float>, ldx: Int, y: UnsafeMutableBufferPointer<Float>, ldy: Int,
                         rows: Int, cols: Int) throws {
        try Check.positive(rows, "rows")
        try Check.positive(cols, "cols")
        try Check.int32(rows, "rows")
        try Check.matrix(rows: rows, cols: cols, ld: ldx, count: x.count, "x")
        try Check.matrix(rows: rows, cols: cols, ld: ldy, count: y.count, "y")
        let xb = UnsafeRawPointer(x.baseAddress!), yb = UnsafeRawPointer(y.baseAddress!)
        let xBytes = ((rows - 1) * ldx + cols) * 4, yBytes = ((rows - 1) * ldy + cols) * 4
        if Check.overlaps(xb, xBytes, yb, yBytes), !(xb == yb && ldx == ldy) {
            throw EngineError.invalidParameter(name: "x/y", value: "partially overlapping",
                                               allowed: "disjoint, or in place with equal strides")
        }
    }

    /// Equal non-zero counts; y may be x itself but not a partial overlap.
    private func elementwise(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>,
                             _ xName: StaticString, _ yName: StaticString) throws {
        try Check.positive(x.count, xName)
        guard y.count == x.count else {
            throw EngineError.shapeMismatch(operand: "\(yName) vs \(xName)", expected: [x.count], actual: [y.count])
        }
        let xb = UnsafeRawPointer(x.baseAddress!), yb = UnsafeRawPointer(y.baseAddress!)
        if Check.overlaps(xb, x.count * 4, yb, y.count * 4), xb != yb {
            throw EngineError.invalidParameter(name: "\(xName)/\(yName)", value: "partially overlapping",
                                               allowed: "disjoint, or in place")
        }
    }
}
