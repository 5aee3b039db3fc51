// ArenaPlannerTests.swift — property test of the greedy planner against a brute-force overlap check.

import XCTest
@testable import SAM2REngine

final class ArenaPlannerTests: XCTestCase {
    /// O(n^2) check: aligned offsets, no two lifetime-intersecting footprints share a byte,
    /// total = max end, total >= lower bound (computed here independently, step by step).
    func verify(_ plan: ArenaPlan, file: StaticString = #filePath, line: UInt = #line) {
        let t = plan.tensors, g = plan.guardBytes
        XCTAssertEqual(plan.offsets.count, t.count, file: file, line: line)
        var maxEnd = 0
        for i in t.indices {
            let oi = plan.offsets[i]
            XCTAssertGreaterThanOrEqual(oi, 0, file: file, line: line)
            XCTAssertEqual(oi % t[i].alignment, 0, "tensor \(i) misaligned", file: file, line: line)
            maxEnd = max(maxEnd, oi + t[i].size + g)
            for j in (i + 1)..<max(i + 1, t.count) {
                let timeOverlap = t[i].firstUse <= t[j].lastUse && t[j].firstUse <= t[i].lastUse
                guard timeOverlap else { continue }
                let oj = plan.offsets[j]
                let disjoint = oi + t[i].size + g <= oj || oj + t[j].size + g <= oi
                XCTAssertTrue(disjoint, "tensors \(i) and \(j) overlap: \(oi)+\(t[i].size) vs \(oj)+\(t[j].size)",
                              file: file, line: line)
            }
        }
        XCTAssertEqual(plan.totalBytes, maxEnd, file: file, line: line)
        // Brute-force lower bound: max over steps of live footprint bytes.
        let lastStep = t.map(\.lastUse).max() ?? 0
        var bound = 0
        for s in 0...lastStep {
            bound = max(bound, t.filter { $0.firstUse <= s && s <= $0.lastUse }.reduce(0) { $0 + $1.size + g })
        }
        XCTAssertEqual(plan.lowerBound, bound, file: file, line: line)
        XCTAssertGreaterThanOrEqual(plan.totalBytes, bound, file: file, line: line)
        XCTAssertEqual(plan.baseAlignment % 64, 0, file: file, line: line)
    }

    func randomTensors(_ rng: inout SplitMix64) -> [TensorLifetime] {
        let n = Int.random(in: 1...48, using: &rng)
        let steps = Int.random(in: 1...40, using: &rng)
        let alignments = [1, 4, 16, 64, 128]
        return (0..<n).map { i in
            // log-uniform sizes: a few bytes to ~1 MB, as real activation sets are
            let size = Int(exp2(Double.random(in: 0...20, using: &rng))) + Int.random(in: 0...3, using: &rng)
            let first = Int.random(in: 0..<steps, using: &rng)
            let len = Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 0..<steps, using: &rng)
                : Int.random(in: 0...2, using: &rng)
            return TensorLifetime(name: "t\(i)", size: max(1, size), alignment: alignments.randomElement(using: &rng)!,
                                  firstUse: first, lastUse: first + len)
        }
    }

    func testRandomLifetimeSetsNeverOverlap() throws {
        var rng = SplitMix64(seed: 0x5A_2025)
        var ratioSum = 0.0, ratioMax = 0.0, greedySum = 0.0, count = 0
        for _ in 0..<400 {
            let tensors = randomTensors(&rng)
            for guardBytes in [0, 64] {
                let greedy = try ArenaPlanner.plan(tensors, strategy: .greedyBySize, guardBytes: guardBytes)
                let best = try ArenaPlanner.plan(tensors, strategy: .bestOf, guardBytes: guardBytes)
                verify(greedy)
                verify(best)
                XCTAssertEqual(greedy.order, .sizeDescending)
                XCTAssertLessThanOrEqual(best.totalBytes, greedy.totalBytes)
                // deterministic
                XCTAssertEqual(try ArenaPlanner.plan(tensors, strategy: .bestOf, guardBytes: guardBytes), best)
                let r = Double(best.totalBytes) / Double(best.lowerBound)
                ratioSum += r
                ratioMax = max(ratioMax, r)
                greedySum += Double(greedy.totalBytes) / Double(greedy.lowerBound)
                count += 1
            }
        }
        print("planner: \(count) random plans; total/lowerBound mean \(ratioSum / Double(count)) max \(ratioMax) "
              + "(greedy-by-size alone: mean \(greedySum / Double(count)))")
    }

    /// The cases of TFLM's greedy_memory_planner_test (alignment 1, no guard): same offsets.
    func testMatchesTFLMGreedyExamples() throws {
        func t(_ size: Int, _ a: Int, _ b: Int) -> TensorLifetime {
            TensorLifetime(size: size, alignment: 1, firstUse: a, lastUse: b)
        }
        let basics = try ArenaPlanner.plan([t(10, 0, 1), t(20, 2, 3)], strategy: .greedyBySize, guardBytes: 0)
        XCTAssertEqual(basics.offsets, [0, 0])
        XCTAssertEqual(basics.totalBytes, 20)

        let medium = try ArenaPlanner.plan([t(10, 0, 1), t(20, 1, 2), t(30, 2, 3), t(40, 3, 4), t(50, 0, 1)],
                                           strategy: .greedyBySize, guardBytes: 0)
        XCTAssertEqual(medium.offsets, [50, 70, 40, 0, 0])
        XCTAssertEqual(medium.totalBytes, 90)
        verify(medium)

        let overlap = try ArenaPlanner.plan([t(100, 0, 1), t(50, 2, 3), t(20, 1, 2)],
                                            strategy: .greedyBySize, guardBytes: 0)
        XCTAssertEqual(overlap.totalBytes, 120)

        // MobileNet person-detection lifetimes from the same test: far below the 241027-byte sum.
        let buffers: [(Int, Int, Int)] = [
            (9216, 0, 29), (3, 28, 29), (256, 27, 28), (2304, 26, 27), (2304, 25, 26), (2304, 24, 25),
            (1152, 23, 24), (4608, 22, 23), (4608, 21, 22), (4608, 20, 21), (4608, 19, 20), (4608, 18, 19),
            (4608, 17, 18), (4608, 16, 17), (4608, 15, 16), (4608, 14, 15), (4608, 13, 14), (4608, 12, 13),
            (2304, 11, 12), (9216, 10, 11), (9216, 9, 10), (9216, 8, 9), (4608, 7, 8), (18432, 6, 7),
            (18432, 5, 6), (18432, 4, 5), (9216, 3, 4), (36864, 2, 3), (18432, 1, 2), (18432, 0, 1)]
        XCTAssertEqual(buffers.reduce(0) { $0 + $1.0 }, 241_027)
        let mobile = buffers.map { t($0.0, $0.1, $0.2) }
        for strategy in [ArenaPlanner.Strategy.greedyBySize, .bestOf] {
            let plan = try ArenaPlanner.plan(mobile, strategy: strategy, guardBytes: 0)
            verify(plan)
            XCTAssertLessThan(plan.totalBytes, 241_027)
        }
    }

    func testEdgeCases() throws {
        // single tensor
        let one = try ArenaPlanner.plan([TensorLifetime(size: 100, firstUse: 3, lastUse: 3)], guardBytes: 0)
        XCTAssertEqual(one.offsets, [0])
        XCTAssertEqual(one.totalBytes, 100)
        verify(one)

        // all with the same lifetime: nothing can share, total = sum of aligned sizes
        let same = (0..<10).map { TensorLifetime(size: 64 * ($0 + 1), firstUse: 2, lastUse: 5) }
        let sp = try ArenaPlanner.plan(same, guardBytes: 0)
        verify(sp)
        XCTAssertEqual(sp.totalBytes, same.reduce(0) { $0 + $1.size })
        XCTAssertEqual(sp.totalBytes, sp.lowerBound)

        // zero-length lifetimes (firstUse == lastUse), disjoint steps: all at offset 0
        let chain = (0..<8).map { TensorLifetime(size: 1000 + $0, firstUse: $0, lastUse: $0) }
        let cp = try ArenaPlanner.plan(chain, guardBytes: 0)
        verify(cp)
        XCTAssertEqual(cp.offsets, Array(repeating: 0, count: 8))
        XCTAssertEqual(cp.totalBytes, 1007)

        // guard bytes separate neighbours
        let guarded = try ArenaPlanner.plan([TensorLifetime(size: 10, firstUse: 0, lastUse: 0),
                                             TensorLifetime(size: 10, firstUse: 0, lastUse: 0)], guardBytes: 64)
        verify(guarded)
        XCTAssertEqual(guarded.offsets, [0, 128])  // 10 + 64 guard, aligned up to 128
        XCTAssertEqual(guarded.totalBytes, 128 + 10 + 64)

        // empty input
        let empty = try ArenaPlanner.plan([])
        XCTAssertEqual(empty.totalBytes, 0)
        XCTAssertEqual(empty.offsets, [])
    }

    func testRejectsInvalidTensors() {
        XCTAssertThrowsEngineError(.zeroSize(operand: "tensor 0 'x'")) {
            _ = try ArenaPlanner.plan([TensorLifetime(name: "x", size: 0, firstUse: 0, lastUse: 0)])
        }
        XCTAssertThrowsEngineError({
            _ = try ArenaPlanner.plan([TensorLifetime(size: 4, alignment: 3, firstUse: 0, lastUse: 0)])
        }, where: { if case .invalidParameter = $0 { return true } else { return false } })
        XCTAssertThrowsEngineError({
            _ = try ArenaPlanner.plan([TensorLifetime(size: 4, firstUse: 2, lastUse: 1)])
        }, where: { if case .invalidParameter = $0 { return true } else { return false } })
    }
}

extension ArenaPlannerTests {
    /// A model-sized graph (thousands of tensors, mostly short-lived chains plus a few long-lived
    /// features) plans quickly even in a debug build, and the plan is valid.
    func testLargeGraphPlansQuickly() throws {
        var rng = SplitMix64(seed: 42)
        var tensors = [TensorLifetime]()
        for step in 0..<3000 {
            let size = 64 * Int.random(in: 1...20_000, using: &rng)
            let long = Int.random(in: 0..<50, using: &rng) == 0
            let len = long ? Int.random(in: 10...600, using: &rng) : Int.random(in: 0...3, using: &rng)
            tensors.append(TensorLifetime(name: "t\(step)", size: size, firstUse: step, lastUse: step + len))
        }
        let start = ContinuousClock.now
        let plan = try ArenaPlanner.plan(tensors)
        let elapsed = ContinuousClock.now - start
        print("planner: 3000 tensors in \(elapsed), \(plan.totalBytes) bytes, ratio to lower bound "
              + "\(Double(plan.totalBytes) / Double(plan.lowerBound)), order \(plan.order)")
        XCTAssertLessThan(elapsed, .seconds(20))
        // full pairwise overlap check on plain arrays
        let first = tensors.map(\.firstUse), last = tensors.map(\.lastUse), size = tensors.map(\.size)
        let offsets = plan.offsets, g = plan.guardBytes
        var bad = 0
        for i in tensors.indices {
            for j in (i + 1)..<max(i + 1, tensors.count) where first[i] <= last[j] && first[j] <= last[i] {
                if !(offsets[i] + size[i] + g <= offsets[j] || offsets[j] + size[j] + g <= offsets[i]) { bad += 1 }
            }
        }
        XCTAssertEqual(bad, 0, "overlapping live tensors")
        XCTAssertEqual(plan.totalBytes, tensors.indices.map { offsets[$0] + size[$0] + g }.max())
    }
}
