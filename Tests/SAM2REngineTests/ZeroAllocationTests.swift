// ZeroAllocationTests.swift — a planned chain of kernels on an arena, with a 2-thread pool,
// performs zero heap allocations after warm-up (counted by ordo-one/malloc-interposer).
//
// How the interposer is loaded: on Linux the test binary links libMallocInterposerSwift.so, which
// defines malloc/free/posix_memalign/...; it appears in DT_NEEDED before libc.so.6, so its symbols
// win process-wide without LD_PRELOAD. The test first proves counting is live (a known malloc must
// be counted) and fails loudly otherwise, so it can never pass vacuously.

import MallocInterposerSwift
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import SAM2REngine

nonisolated(unsafe) var allocationProbeSink: UnsafeMutableRawPointer?

/// One malloc + free the optimizer cannot remove.
@inline(never)
func knownAllocation() {
    allocationProbeSink = malloc(48)
    free(allocationProbeSink)
    allocationProbeSink = nil
}

/// The measured workload: everything it touches is prepared before; `run()` only calls wrappers.
struct KernelChain {
    static let m = 36, k1 = 96, n1 = 128, n2 = 64, n3 = 32  // m = 6 x 6 pixels for maxPool2x2

    let arena: Arena
    let pool: ThreadPool
    let ops: RowOps
    let w1: PackedWeightsS8, w2: PackedWeightsF32, w3: PackedWeightsS8
    let scale1, scale3, gamma, beta, bias2: UnsafeBufferPointer<Float>
    let bias1: UnsafeBufferPointer<Int32>
    let a8, c8, q: TensorView<Int8>
    let f1, f2, f3, f4, f5, pooled: TensorView<Float>

    /// Each step arms the canaries of the tensors it creates and checks every live tensor's after.
    func run() throws {
        let m = Self.m, k1 = Self.k1, n1 = Self.n1, n2 = Self.n2, n3 = Self.n3
        // step 0: int8 GEMM, requantized
        arena.armCanaries(step: 0)
        try gemmS8(m: m, n: n1, k: k1, a: a8.readOnly, aZeroPoint: 3, weights: w1, bias: bias1, scale: scale1,
                   c: c8.buffer, outZeroPoint: -2, pool: pool)
        try arena.checkCanaries(step: 0)
        // step 1: dequantize
        arena.armCanaries(step: 1)
        try ops.dequantize(x: c8.readOnly, y: f1.buffer, scale: 0.05, zeroPoint: -2)
        try arena.checkCanaries(step: 1)
        // step 2: layer norm
        arena.armCanaries(step: 2)
        try ops.layerNorm(x: f1.readOnly, y: f2.buffer, rows: m, cols: n1, gamma: gamma, beta: beta, eps: 1e-6)
        try arena.checkCanaries(step: 2)
        // step 3: GELU in place
        arena.armCanaries(step: 3)
        try ops.gelu(x: f2.readOnly, y: f2.buffer)
        try arena.checkCanaries(step: 3)
        // step 4: fp32 GEMM
        arena.armCanaries(step: 4)
        try gemmF32(m: m, n: n2, k: n1, a: f2.readOnly, weights: w2, bias: bias2, c: f3.buffer, pool: pool)
        try arena.checkCanaries(step: 4)
        // step 5: residual-style add in place
        arena.armCanaries(step: 5)
        try ops.add(a: f3.readOnly, b: f3.readOnly, y: f3.buffer)
        try arena.checkCanaries(step: 5)
        // step 6: softmax
        arena.armCanaries(step: 6)
        try ops.softmax(x: f3.readOnly, y: f4.buffer, rows: m, cols: n2)
        try arena.checkCanaries(step: 6)
        // step 7: quantize
        arena.armCanaries(step: 7)
        try ops.quantize(x: f4.readOnly, y: q.buffer, inverseScale: 255, zeroPoint: -128)
        try arena.checkCanaries(step: 7)
        // step 8: int8 GEMM, fp32 output
        arena.armCanaries(step: 8)
        try gemmS8(m: m, n: n3, k: n2, a: q.readOnly, aZeroPoint: -128, weights: w3, scale: scale3, c: f5.buffer,
                   pool: pool)
        try arena.checkCanaries(step: 8)
        // step 9: 2x2 max pool of the 6x6xn3 map
        arena.armCanaries(step: 9)
        try ops.maxPool2x2(x: f5.readOnly, y: pooled.buffer, height: 6, width: 6, channels: n3)
        try arena.checkCanaries(step: 9)
    }
}

final class ZeroAllocationTests: XCTestCase {
    func testInterposerIsActive() {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        knownAllocation()
        let array = [Int](repeating: 7, count: 100)  // a Swift-runtime allocation
        MallocInterposerSwift.unhook()
        let stats = MallocInterposerSwift.getStatistics()
        XCTAssertEqual(array.count, 100)
        XCTAssertGreaterThanOrEqual(stats.mallocCount, 2,
                                    "malloc interposer NOT active: a known malloc and a Swift array were not counted")
        XCTAssertGreaterThanOrEqual(stats.freeCount, 1)
    }

    func testKernelChainAllocatesNothingAfterWarmUp() throws {
        // 0. Counting must be live, or this test proves nothing.
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        knownAllocation()
        MallocInterposerSwift.unhook()
        guard MallocInterposerSwift.getStatistics().mallocCount >= 1 else {
            XCTFail("malloc interposer NOT active (known allocation counted 0): the zero-allocation check would be vacuous")
            return
        }
        // The active variant first, then every other one this machine runs.
        for isa in [ISA.active] + ISA.supported.filter({ $0 != ISA.active }) {
            try checkChain(isa: isa)
        }
    }

    func checkChain(isa: ISA) throws {
        // 1. Load time: weights packed, parameters, plan, arena, pool. Allocations allowed here.
        typealias C = KernelChain
        var rng = SplitMix64(seed: 2025)
        let w1 = try [Int8].randomWeights(C.n1 * C.k1, using: &rng).withUnsafeBufferPointer {
            try PackedWeightsS8(weights: $0, n: C.n1, k: C.k1, isa: isa)
        }
        let w2 = try [Float].random(C.n2 * C.n1, in: -0.2...0.2, using: &rng).withUnsafeBufferPointer {
            try PackedWeightsF32(weights: $0, n: C.n2, k: C.n1, isa: isa)
        }
        let w3 = try [Int8].randomWeights(C.n3 * C.n2, using: &rng).withUnsafeBufferPointer {
            try PackedWeightsS8(weights: $0, n: C.n3, k: C.n2, isa: isa)
        }
        func persistent<T>(_ values: [T]) -> UnsafeBufferPointer<T> {
            let p = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
            _ = p.initialize(from: values)
            return UnsafeBufferPointer(p)
        }
        let scale1 = persistent([Float].random(C.n1, in: 0.0005...0.002, using: &rng))
        let scale3 = persistent([Float].random(C.n3, in: 0.001...0.01, using: &rng))
        let gamma = persistent([Float].random(C.n1, in: 0.5...1.5, using: &rng))
        let beta = persistent([Float].random(C.n1, in: -0.5...0.5, using: &rng))
        let bias2 = persistent([Float].random(C.n2, in: -0.5...0.5, using: &rng))
        let bias1 = persistent((0..<C.n1).map { _ in Int32.random(in: -5000...5000, using: &rng) })
        defer { for p in [scale1, scale3, gamma, beta, bias2] { p.deallocate() }; bias1.deallocate() }

        let plan = try ArenaPlanner.plan([
            TensorLifetime(name: "a8", count: C.m * C.k1, of: Int8.self, firstUse: 0, lastUse: 0),
            TensorLifetime(name: "c8", count: C.m * C.n1, of: Int8.self, firstUse: 0, lastUse: 1),
            TensorLifetime(name: "f1", count: C.m * C.n1, of: Float.self, firstUse: 1, lastUse: 2),
            TensorLifetime(name: "f2", count: C.m * C.n1, of: Float.self, firstUse: 2, lastUse: 4),
            TensorLifetime(name: "f3", count: C.m * C.n2, of: Float.self, firstUse: 4, lastUse: 6),
            TensorLifetime(name: "f4", count: C.m * C.n2, of: Float.self, firstUse: 6, lastUse: 7),
            TensorLifetime(name: "q", count: C.m * C.n2, of: Int8.self, firstUse: 7, lastUse: 8),
            TensorLifetime(name: "f5", count: C.m * C.n3, of: Float.self, firstUse: 8, lastUse: 9),
            TensorLifetime(name: "pooled", count: 9 * C.n3, of: Float.self, firstUse: 9, lastUse: 9),
        ])
        if isa == ISA.active { print(plan) }  // the arena size is known before anything runs
        let arena = try Arena(plan: plan)
        let chain = KernelChain(
            arena: arena, pool: try ThreadPool(threads: 2), ops: try RowOps(isa: isa),
            w1: w1, w2: w2, w3: w3, scale1: scale1, scale3: scale3, gamma: gamma, beta: beta, bias2: bias2,
            bias1: bias1,
            a8: try arena.view(0, as: Int8.self), c8: try arena.view(1, as: Int8.self), q: try arena.view(6, as: Int8.self),
            f1: try arena.view(2, as: Float.self), f2: try arena.view(3, as: Float.self),
            f3: try arena.view(4, as: Float.self), f4: try arena.view(5, as: Float.self),
            f5: try arena.view(7, as: Float.self), pooled: try arena.view(8, as: Float.self))
        let input = [Int8].randomActivations(C.m * C.k1, using: &rng)

        // 2. Warm-up run (first-use costs: lazy dispatch, thread start-up, metadata caches).
        _ = chain.a8.buffer.update(fromContentsOf: input)
        try chain.run()
        try arena.checkCanaries(step: 9)
        let firstOutput = Array(chain.pooled.readOnly)
        XCTAssertTrue(firstOutput.allSatisfy(\.isFinite))

        // 3. Measured run: not a single malloc/free, on any thread.
        _ = chain.a8.buffer.update(fromContentsOf: input)
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        try chain.run()
        MallocInterposerSwift.unhook()
        let stats = MallocInterposerSwift.getStatistics()

        XCTAssertEqual(stats.mallocCount, 0, "\(isa): heap allocations during the planned run: \(stats.mallocBytesCount) bytes")
        XCTAssertEqual(stats.freeCount, 0, "\(isa): frees during the planned run")
        XCTAssertEqual(Array(chain.pooled.readOnly).map(\.bitPattern), firstOutput.map(\.bitPattern),
                       "second run differs from the first")
        try arena.checkCanaries(step: 9)
        print("zero-allocation chain [\(isa)]: \(stats.mallocCount) mallocs, \(stats.freeCount) frees; "
              + "gemm_s8=\(w1.kernel.name) gemm_f32=\(w2.kernel.name) rowops=\(chain.ops.name)")
    }
}
