// SwiftArmSmoke.swift — the inference path's Swift layer (SAM2REngine) driving the C kernels, built for x86-64
// (regular Swift) and for aarch64 (Embedded Swift, run under qemu-aarch64) by `make test-swift-arm` (mk/arm.mk).
// Prints deterministic lines (`#` lines are informational); the two runs must print the same non-`#` lines:
// int8 GEMM outputs are bit-exact across ISAs and architectures (exact integer sums, one fp32 multiply), and so are
// the fp32 kernels (gemm_f32, LayerNorm, softmax, GELU, flash attention: one canonical operation sequence on every
// ISA, docs/numerics.md), so FNV-1a hashes of their outputs are compared exactly — across ISAs in-program, across
// architectures by the diff; fp32 results are also checked against a Swift double reference in-program.
// Written for both dialects: no untyped `throws` of its own, no existentials, no Foundation, no Float printing.

#if !SAM2R_ENGINE_IN_MODULE  // the aarch64 build compiles the engine sources into this module (see mk/arm.mk)
import SAM2REngine
#endif
import SAM2RKernels

#if canImport(Glibc)
import Glibc
#endif

struct LCG {
    var s: UInt64
    mutating func next() -> UInt32 {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return UInt32(truncatingIfNeeded: s >> 33)
    }
    mutating func int8(_ lo: Int, _ hi: Int) -> Int8 { Int8(lo + Int(next() % UInt32(hi - lo + 1))) }
    mutating func unit() -> Float { Float(next() % 20001) / 10000 - 1 }  // [-1, 1], exact decimals
}

func fnv(_ bytes: UnsafeRawBufferPointer, _ h0: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = h0
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

func hex(_ v: UInt64) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    var s = ""
    for i in (0..<16).reversed() { s.append(digits[Int((v >> (UInt64(i) * 4)) & 0xf)]) }
    return s
}

/// A heap copy of `a` (throwing closures of withUnsafeBufferPointer would throw `any Error`: not in Embedded Swift).
func heap<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
    let p = UnsafeMutableBufferPointer<T>.allocate(capacity: a.count)
    _ = p.initialize(from: a)
    return p
}

/// |x| as an integer count of 1e-9 (Float printing is not available in Embedded Swift).
func nano(_ x: Double) -> Int { Int((x * 1e9).rounded()) }

var failures = 0
func check(_ ok: Bool, _ what: String) {
    if !ok {
        failures += 1
        print("FAIL: \(what)")
    }
}

struct GemmS8Case {
    let m = 37, n = 45, k = 300  // edges on every tile shape (2x8, 8x12, 8x8, AVX tiles)
    var a: [Int8] = [], w: [Int8] = [], bias: [Int32] = [], scale: [Float] = []
    let aZero: Int32 = 3, outZero: Int32 = -5

    init() {
        var r = LCG(s: 42)
        a = (0..<(m * k)).map { _ in r.int8(-128, 127) }
        w = (0..<(n * k)).map { _ in r.int8(-127, 127) }
        bias = (0..<n).map { _ in Int32(r.int8(-100, 100)) * 37 }
        scale = (0..<n).map { _ in Float(1 + r.next() % 64) / 65536 }
    }

    /// Exact int32 accumulators (Swift reference).
    func reference() -> [Int32] {
        var out = [Int32](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s: Int32 = bias[j]
                for p in 0..<k { s += (Int32(a[i * k + p]) - aZero) * Int32(w[j * k + p]) }
                out[i * n + j] = s
            }
        }
        return out
    }

    /// (int8 output hash, fp32 output hash, fp32 output equals the reference exactly)
    func run(_ isa: ISA, pool: ThreadPool?) -> (UInt64, UInt64, Bool)? {
        let ap = heap(a), wp = heap(w), bp = heap(bias), sp = heap(scale)
        let c8 = heap([Int8](repeating: 0, count: m * n)), cf = heap([Float](repeating: 0, count: m * n))
        defer { for p in [UnsafeMutableRawBufferPointer(ap), .init(wp), .init(bp), .init(sp), .init(c8), .init(cf)] { p.deallocate() } }
        do {
            let pw = try PackedWeightsS8(weights: UnsafeBufferPointer(wp), n: n, k: k, isa: isa)
            try gemmS8(m: m, n: n, k: k, a: UnsafeBufferPointer(ap), aZeroPoint: aZero, weights: pw,
                       bias: UnsafeBufferPointer(bp), scale: UnsafeBufferPointer(sp), c: c8, outZeroPoint: outZero,
                       pool: pool)
            try gemmS8(m: m, n: n, k: k, a: UnsafeBufferPointer(ap), aZeroPoint: aZero, weights: pw,
                       bias: UnsafeBufferPointer(bp), scale: UnsafeBufferPointer(sp), c: cf, pool: pool)
        } catch {
            print("FAIL: gemm_s8 \(isa.name): \(error)")
            return nil
        }
        let ref = reference()
        var exact = true
        for i in 0..<(m * n) where cf[i] != Float(ref[i]) * scale[i % n] { exact = false }
        return (fnv(UnsafeRawBufferPointer(c8)), fnv(UnsafeRawBufferPointer(cf)), exact)
    }
}

/// FNV-1a of the bits of an fp32 buffer.
func fnv(_ p: UnsafeMutableBufferPointer<Float>) -> UInt64 { fnv(UnsafeRawBufferPointer(p)) }

/// (max |d| vs double, hash of the output bits)
func gemmF32Check(_ isa: ISA) -> (Double, UInt64)? {
    let m = 29, n = 33, k = 70
    var r = LCG(s: 7)
    let a = (0..<(m * k)).map { _ in r.unit() }, w = (0..<(n * k)).map { _ in r.unit() }
    let bias = (0..<n).map { _ in r.unit() }
    let ap = heap(a), wp = heap(w), bp = heap(bias), c = heap([Float](repeating: 0, count: m * n))
    defer { for p in [UnsafeMutableRawBufferPointer(ap), .init(wp), .init(bp), .init(c)] { p.deallocate() } }
    do {
        let pw = try PackedWeightsF32(weights: UnsafeBufferPointer(wp), n: n, k: k, isa: isa)
        try gemmF32(m: m, n: n, k: k, a: UnsafeBufferPointer(ap), weights: pw, bias: UnsafeBufferPointer(bp), c: c)
    } catch {
        print("FAIL: gemm_f32 \(isa.name): \(error)")
        return nil
    }
    var worst = 0.0
    for i in 0..<m {
        for j in 0..<n {
            var s = Double(bias[j])
            for p in 0..<k { s += Double(a[i * k + p]) * Double(w[j * k + p]) }
            worst = max(worst, abs(Double(c[i * n + j]) - s))
        }
    }
    return (worst, fnv(c))
}

/// (max |d| vs double, hash of the output bits); 90 columns: a tail on every lane layout (8, 16, 4 x 4).
func layerNormCheck(_ isa: ISA) -> (Double, UInt64)? {
    let rows = 5, cols = 90
    var r = LCG(s: 11)
    let x = (0..<(rows * cols)).map { _ in r.unit() * 3 }
    let g = (0..<cols).map { _ in 1 + r.unit() / 10 }, b = (0..<cols).map { _ in r.unit() / 10 }
    let xp = heap(x), gp = heap(g), bp = heap(b), y = heap([Float](repeating: 0, count: rows * cols))
    defer { for p in [UnsafeMutableRawBufferPointer(xp), .init(gp), .init(bp), .init(y)] { p.deallocate() } }
    do {
        let ops = try RowOps(isa: isa)
        try ops.layerNorm(x: UnsafeBufferPointer(xp), y: y, rows: rows, cols: cols, gamma: UnsafeBufferPointer(gp),
                          beta: UnsafeBufferPointer(bp), eps: 1e-6)
    } catch {
        print("FAIL: layerNorm \(isa.name): \(error)")
        return nil
    }
    var worst = 0.0
    for i in 0..<rows {
        var mean = 0.0, v = 0.0
        for j in 0..<cols { mean += Double(x[i * cols + j]) }
        mean /= Double(cols)
        for j in 0..<cols { let d = Double(x[i * cols + j]) - mean; v += d * d }
        v /= Double(cols)
        for j in 0..<cols {
            let ref = (Double(x[i * cols + j]) - mean) / (v + 1e-6).squareRoot() * Double(g[j]) + Double(b[j])
            worst = max(worst, abs(Double(y[i * cols + j]) - ref))
        }
    }
    return (worst, fnv(y))
}

/// Hash of softmax (4 x 45, logits in [-8, 8]) and GELU (333 values in [-6, 6]) outputs.
func softmaxGeluHash(_ isa: ISA) -> UInt64? {
    let rows = 4, cols = 45, n = 333
    var r = LCG(s: 13)
    let xs = heap((0..<(rows * cols)).map { _ in r.unit() * 8 }), xg = heap((0..<n).map { _ in r.unit() * 6 })
    let ys = heap([Float](repeating: 0, count: rows * cols)), yg = heap([Float](repeating: 0, count: n))
    defer { for p in [xs, xg, ys, yg] { p.deallocate() } }
    do {
        let ops = try RowOps(isa: isa)
        try ops.softmax(x: UnsafeBufferPointer(xs), y: ys, rows: rows, cols: cols)
        try ops.gelu(x: UnsafeBufferPointer(xg), y: yg)
    } catch {
        print("FAIL: softmax/gelu \(isa.name): \(error)")
        return nil
    }
    return fnv(UnsafeRawBufferPointer(yg), fnv(UnsafeRawBufferPointer(ys)))
}

/// Hash of a flash attention (2 heads, 37 queries, 200 keys: three key blocks, dk 24, dv 20), through the C entry.
func attentionHash(_ isa: ISA) -> UInt64? {
    let heads: Int32 = 2, nq: Int32 = 37, nk: Int32 = 200, dk: Int32 = 24, dv: Int32 = 20
    guard let uk = sam2r_attention_f32_ukernel_for(isa.cValue) else {
        print("FAIL: attention \(isa.name): no kernel")
        return nil
    }
    var r = LCG(s: 17)
    let q = heap((0..<Int(nq * heads * dk)).map { _ in r.unit() }), k = heap((0..<Int(nk * heads * dk)).map { _ in r.unit() })
    let v = heap((0..<Int(nk * heads * dv)).map { _ in r.unit() }), o = heap([Float](repeating: 0, count: Int(nq * heads * dv)))
    let scratch = heap([Float](repeating: 0, count: sam2r_attention_f32_scratch_floats(uk, dk, dv)))
    defer { for p in [q, k, v, o, scratch] { p.deallocate() } }
    var args = sam2r_attention_f32_args(batch: 1, heads: heads, nq: nq, nk: nk, dk: dk, dv: dv,
                                        q: UnsafePointer(q.baseAddress), ldq: heads * dk, q_batch_stride: 0,
                                        k: UnsafePointer(k.baseAddress), ldk: heads * dk, k_batch_stride: 0,
                                        v: UnsafePointer(v.baseAddress), ldv: heads * dv, v_batch_stride: 0,
                                        o: o.baseAddress, ldo: heads * dv, o_batch_stride: 0, scale: 0.2041241452,
                                        ml: nil, k_add: nil, k_add_f16: nil)
    sam2r_attention_f32(uk, &args, nil, scratch.baseAddress)
    return fnv(o)
}

/// SIMD helpers: a fixed-order SIMD8 dot product; IEEE add/mul without contraction, so bit-identical everywhere.
func simdDot() -> UInt32 {
    var r = LCG(s: 5)
    var acc = SIMD8<Float>(repeating: 0)
    for _ in 0..<64 {
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        for l in 0..<8 { a[l] = r.unit(); b[l] = r.unit() }
        acc = acc + a * b
    }
    var s: Float = 0
    for l in 0..<8 { s += acc[l] }
    return s.bitPattern
}

@main
struct SwiftArmSmoke {
    static func main() {
        print("# arch \(ISA.architecture), best ISA \(ISA.best.name), features: \(ISA.cpuFeatures)")
        let g = GemmS8Case()
        var hashes: (UInt64, UInt64)? = nil
        var f32Hashes: [UInt64]? = nil  // gemm_f32, layerNorm, softmax + gelu, attention of the first ISA
        var pool: ThreadPool? = nil
        do { pool = try ThreadPool(threads: 2) } catch { check(false, "ThreadPool(threads: 2): \(error)") }
        for isa in ISA.supported {
            for p in [nil, pool] {
                guard let (h8, hf, exact) = g.run(isa, pool: p) else { check(false, "gemm_s8 \(isa.name)"); continue }
                print("# gemm_s8 \(isa.name) threads \(p == nil ? 1 : 2): int8 \(hex(h8)) f32 \(hex(hf))")
                check(exact, "gemm_s8 \(isa.name): fp32 output is not acc * scale of the exact accumulators")
                if let (e8, ef) = hashes {
                    check(e8 == h8 && ef == hf, "gemm_s8 \(isa.name) differs from \(ISA.supported[0].name)")
                } else {
                    hashes = (h8, hf)
                }
            }
            guard let (dg, hg) = gemmF32Check(isa), let (dl, hl) = layerNormCheck(isa),
                  let hs = softmaxGeluHash(isa), let ha = attentionHash(isa) else {
                check(false, "fp32 kernels \(isa.name)")
                continue
            }
            print("# gemm_f32 \(isa.name): max |d| vs double \(nano(dg)) e-9, fnv1a \(hex(hg))")
            check(dg <= 1e-5, "gemm_f32 \(isa.name): max |d| \(nano(dg)) e-9 > 1e-5")
            print("# layerNorm \(isa.name): max |d| vs double \(nano(dl)) e-9, fnv1a \(hex(hl))")
            check(dl <= 1e-5, "layerNorm \(isa.name): max |d| \(nano(dl)) e-9 > 1e-5")
            print("# softmax+gelu \(isa.name) fnv1a \(hex(hs)), attention fnv1a \(hex(ha))")
            if let f = f32Hashes {
                check(f == [hg, hl, hs, ha], "fp32 kernels \(isa.name) not bit-identical to \(ISA.supported[0].name)")
            } else {
                f32Hashes = [hg, hl, hs, ha]
            }
        }
        if let (h8, hf) = hashes {
            print("gemm_s8 37x45x300 int8 output fnv1a \(hex(h8))")
            print("gemm_s8 37x45x300 fp32 output fnv1a \(hex(hf))")
        }
        if let f = f32Hashes {
            print("gemm_f32 29x33x70 output fnv1a \(hex(f[0]))")
            print("layerNorm 5x90 output fnv1a \(hex(f[1]))")
            print("softmax 4x45 + gelu 333 outputs fnv1a \(hex(f[2]))")
            print("attention 2 heads 37x200 output fnv1a \(hex(f[3]))")
        }
        print("simd8 dot bits \(hex(UInt64(simdDot())))")
        print("gemm_f32 and layerNorm within 1e-5 of double: \(failures == 0 ? "yes" : "no")")
        print(failures == 0 ? "ALL OK" : "FAILED \(failures)")
        if failures != 0 { exit(1) }
    }
}
