// `sam2r bench kernels`: int8 and fp32 GEMM throughput per variant on hiera-tiny shapes, against
// the core's peak measured in the same run by a register-only loop of the variant's MAC instruction.
import ArgumentParser
import SAM2RKernels
#if canImport(Glibc)
import Glibc
#endif

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GEMM throughput (GMAC/s and % of the measured per-core peak) for every available variant.",
        discussion: """
            Shapes M×K×N are hiera-tiny's: 4096×384×1152 (stage-3 qkv), 65536×96×288 (stage-1 qkv), \
            1024×768×3072 (stage-4 MLP). peak_fraction = GMAC/s ÷ (threads × single-core peak of the \
            variant's MAC loop). Each figure is the best of repeated runs within --seconds.
            """
    )

    @Flag(help: "Print a JSON array of {op, variant, m, k, n, threads, gmacs, peak_fraction, peak_gmacs, kernel}.")
    var json = false

    @Option(name: .customLong("threads"), parsing: .upToNextOption, help: "Thread counts to measure.")
    var threadCounts: [Int] = [1, 2]

    @Option(parsing: .upToNextOption, help: "Variants to measure (default: every SIMD variant this CPU supports).")
    var variants: [String] = []

    @Option(help: "Time budget per measurement, seconds.")
    var seconds: Double = 0.4

    @Flag(help: "Measure only int8 GEMM.")
    var int8Only = false

    static let shapes: [(m: Int32, k: Int32, n: Int32)] = [(4096, 384, 1152), (65536, 96, 288), (1024, 768, 3072)]

    func validate() throws {
        guard threadCounts.allSatisfy({ (1...Int(SAM2R_POOL_MAX_THREADS)).contains($0) }) else {
            throw ValidationError("--threads must be in 1...\(SAM2R_POOL_MAX_THREADS)")
        }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
    }

    func run() throws {
        if let err = sam2r_isa_env_error() { throw CLIError(String(cString: err)) }
        let isas = try selectedVariants()
        var rows: [KernelBenchRow] = []
        var pools: [Int: OpaquePointer] = [:]
        defer { pools.values.forEach { sam2r_pool_destroy($0) } }
        for t in Set(threadCounts) {
            guard let pool = sam2r_pool_create(Int32(t)) else { throw CLIError("could not start \(t) worker threads") }
            pools[t] = pool
        }

        for isa in isas {
            let peakS8 = sam2r_peak_gmacs(isa, SAM2R_PEAK_S8, 0.3)
            let peakF32 = sam2r_peak_gmacs(isa, SAM2R_PEAK_F32, 0.3)
            let hasNarrow = sam2r_gemm_s8_narrow_ukernel_for(isa) != nil
            let peakNarrow = hasNarrow ? sam2r_peak_gmacs(isa, SAM2R_PEAK_S8_NARROW, 0.3) : 0
            for shape in Self.shapes {
                for t in threadCounts {
                    if let uk = sam2r_gemm_s8_ukernel_for(isa) {
                        let g = measureS8(uk, shape, pools[t]!, weightMax: 127)
                        rows.append(KernelBenchRow(op: "gemm_s8", isa: isa, kernel: String(cString: uk.pointee.name),
                                                   shape: shape, threads: t, gmacs: g, peak: peakS8))
                    }
                    // the narrow-weight variant (7-bit weights, `quantize --weight-bits 7`), against its own sequence's peak
                    if let uk = sam2r_gemm_s8_narrow_ukernel_for(isa) {
                        let g = measureS8(uk, shape, pools[t]!, weightMax: Int(SAM2R_S8_NARROW_WEIGHT_MAX))
                        rows.append(KernelBenchRow(op: "gemm_s8 (7-bit w)", isa: isa, kernel: String(cString: uk.pointee.name),
                                                   shape: shape, threads: t, gmacs: g, peak: peakNarrow))
                    }
                    if !int8Only, let uk = sam2r_gemm_f32_ukernel_for(isa) {
                        let g = measureF32(uk, shape, pools[t]!)
                        rows.append(KernelBenchRow(op: "gemm_f32", isa: isa, kernel: String(cString: uk.pointee.name),
                                                   shape: shape, threads: t, gmacs: g, peak: peakF32))
                    }
                }
            }
            if !json {
                let name = CPUReport.name(isa)
                let insS8 = String(cString: sam2r_peak_instruction(isa, SAM2R_PEAK_S8))
                let insF32 = String(cString: sam2r_peak_instruction(isa, SAM2R_PEAK_F32))
                let narrow = hasNarrow ? ", int8 7-bit weights \(fmt(peakNarrow, 1)) GMAC/s ("
                    + String(cString: sam2r_peak_instruction(isa, SAM2R_PEAK_S8_NARROW)) + ")" : ""
                printErr("peak \(name): int8 \(fmt(peakS8, 1)) GMAC/s (\(insS8)), fp32 \(fmt(peakF32, 1)) GMAC/s (\(insF32))"
                         + narrow)
            }
        }
        print(json ? KernelBenchRow.json(rows) : KernelBenchRow.markdown(rows, features: CPUReport.current().features))
    }

    private func selectedVariants() throws -> [sam2r_isa] {
        if variants.isEmpty {
            let simd = CPUReport.current().supported.filter { $0 != SAM2R_ISA_SCALAR }
            return simd.isEmpty ? [SAM2R_ISA_SCALAR] : simd
        }
        return try variants.map { name in
            let v = sam2r_isa_parse(name)
            guard v >= 0 else { throw CLIError("--variants: unknown variant '\(name)'") }
            let isa = sam2r_isa(rawValue: UInt32(v))
            guard sam2r_isa_supported(isa) != 0 else { throw CLIError("--variants: '\(name)' is not supported by this CPU") }
            return isa
        }
    }

    /// Best-of-runs GMAC/s: at least 3 runs, then as many as fit in `seconds`.
    private func timeBest(macs: Double, _ body: () -> Void) -> Double {
        body()  // warm-up: page in buffers, wake workers
        var best = Double.infinity
        let start = monotonicSeconds()
        var runs = 0
        while runs < 3 || monotonicSeconds() - start < seconds {
            let t0 = monotonicSeconds()
            body()
            best = min(best, monotonicSeconds() - t0)
            runs += 1
        }
        return macs / best / 1e9
    }

    private func measureS8(_ uk: UnsafePointer<sam2r_gemm_s8_ukernel>, _ s: (m: Int32, k: Int32, n: Int32),
                           _ pool: OpaquePointer, weightMax: Int) -> Double {
        let (m, k, n) = (Int(s.m), Int(s.k), Int(s.n))
        let a = AlignedBuffer<Int8>(count: m * k)
        let w = AlignedBuffer<Int8>(count: n * k)
        var rng = SplitMix64(seed: 42)
        for i in 0..<a.count { a[i] = Int8(truncatingIfNeeded: rng.next()) }
        for i in 0..<w.count { w[i] = Int8(Int(rng.next() % UInt64(2 * weightMax + 1)) - weightMax) }
        let packedBytes = sam2r_pack_s8_size(s.n, s.k, uk.pointee.nr, uk.pointee.kr)
        let data = AlignedBuffer<Int8>(count: packedBytes)
        let wsum = AlignedBuffer<Int32>(count: n)
        var packed = sam2r_packed_s8(n: 0, k: 0, nr: 0, kr: 0, data: data.pointer, wsum: wsum.pointer)
        sam2r_pack_s8(w.pointer, s.k, s.n, s.k, uk.pointee.nr, uk.pointee.kr, &packed)
        let scale = AlignedBuffer<Float>(count: n)
        for i in 0..<n { scale[i] = 1.0 / 4096 }
        let c = AlignedBuffer<Int8>(count: m * n)
        return withUnsafePointer(to: &packed) { pw in
            var args = sam2r_gemm_s8_args(
                m: s.m, n: s.n, k: s.k, a: a.pointer, lda: s.k, a_zero_point: 3, w: pw, bias: nil,
                scale: scale.pointer, epilogue: SAM2R_EPI_S8, out_zero_point: 0, qmin: -128, qmax: 127,
                c: UnsafeMutableRawPointer(c.pointer), ldc: s.n)
            return timeBest(macs: Double(m) * Double(k) * Double(n)) { sam2r_gemm_s8(uk, &args, pool) }
        }
    }

    private func measureF32(_ uk: UnsafePointer<sam2r_gemm_f32_ukernel>, _ s: (m: Int32, k: Int32, n: Int32),
                            _ pool: OpaquePointer) -> Double {
        let (m, k, n) = (Int(s.m), Int(s.k), Int(s.n))
        let a = AlignedBuffer<Float>(count: m * k)
        let w = AlignedBuffer<Float>(count: n * k)
        var rng = SplitMix64(seed: 7)
        for i in 0..<a.count { a[i] = rng.nextUnitFloat() - 0.5 }
        for i in 0..<w.count { w[i] = rng.nextUnitFloat() - 0.5 }
        let data = AlignedBuffer<Float>(count: sam2r_pack_f32_size(s.n, s.k, uk.pointee.nr) / MemoryLayout<Float>.size)
        var packed = sam2r_packed_f32(n: 0, k: 0, nr: 0, data: data.pointer)
        sam2r_pack_f32(w.pointer, s.k, s.n, s.k, uk.pointee.nr, &packed)
        let bias = AlignedBuffer<Float>(count: n)
        let c = AlignedBuffer<Float>(count: m * n)
        return withUnsafePointer(to: &packed) { pw in
            var args = sam2r_gemm_f32_args(m: s.m, n: s.n, k: s.k, a: a.pointer, lda: s.k, w: pw,
                                           bias: bias.pointer, c: c.pointer, ldc: s.n)
            return timeBest(macs: Double(m) * Double(k) * Double(n)) { sam2r_gemm_f32(uk, &args, pool) }
        }
    }
}

struct KernelBenchRow {
    let op: String
    let isa: sam2r_isa
    let kernel: String
    let shape: (m: Int32, k: Int32, n: Int32)
    let threads: Int
    let gmacs: Double
    let peak: Double

    var peakFraction: Double { peak > 0 ? gmacs / (Double(threads) * peak) : 0 }

    static func markdown(_ rows: [KernelBenchRow], features: String) -> String {
        var out = ["| op | variant | kernel | M×K×N | threads | GMAC/s | peak/core | % of peak |",
                   "|---|---|---|---|---|---|---|---|"]
        for r in rows {
            out.append("| \(r.op) | \(CPUReport.name(r.isa)) | \(r.kernel) | \(r.shape.m)×\(r.shape.k)×\(r.shape.n) | "
                       + "\(r.threads) | \(fmt(r.gmacs, 1)) | \(fmt(r.peak, 1)) | \(fmt(100 * r.peakFraction, 1)) % |")
        }
        return out.joined(separator: "\n")
    }

    static func json(_ rows: [KernelBenchRow]) -> String {
        let items = rows.map { r in
            "{\"op\":\"\(r.op)\",\"variant\":\"\(CPUReport.name(r.isa))\",\"m\":\(r.shape.m),\"k\":\(r.shape.k),"
                + "\"n\":\(r.shape.n),\"threads\":\(r.threads),\"gmacs\":\(fmt(r.gmacs, 3)),"
                + "\"peak_fraction\":\(fmt(r.peakFraction, 4)),\"peak_gmacs\":\(fmt(r.peak, 3)),\"kernel\":\"\(r.kernel)\"}"
        }
        return "[\n  " + items.joined(separator: ",\n  ") + "\n]"
    }
}
