// PredictorZeroAllocationTests.swift — after load and a first inference at an image size, setImage +
// predict perform zero heap allocations (counted by ordo-one/malloc-interposer, which the test bundle
// links process-wide; see SAM2REngineTests/ZeroAllocationTests.swift). Covers clicks, a box, multimask,
// the refiner (local_views 0 and 4), int8 and a 2-thread pool. The caller drops each result before the
// next predict (the result arrays share the predictor's buffers, copy-on-write). Optimized builds only.

import MallocInterposerSwift
import SAM2RHost
import SAM2RImageIO
import SAM2RModel
import XCTest
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var predictorProbeSink: UnsafeMutableRawPointer?

final class PredictorZeroAllocationTests: XCTestCase {
    /// Heap allocations made by `body`.
    func allocations(_ body: () throws -> Void) rethrows -> Int {
        // Statistics are read after unhook (as in SAM2REngineTests); initialize() starts a new count.
        // mallocCount counts every allocating entry point (malloc, calloc, realloc, posix_memalign, ...).
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        do { try body() } catch { MallocInterposerSwift.unhook(); throw error }
        MallocInterposerSwift.unhook()
        return MallocInterposerSwift.getStatistics().mallocCount
    }

    /// One inference per prompt kind, results dropped at once.
    func inferences(_ p: SAM2ImagePredictor, _ img: Image, _ points: [SIMD2<Float>], _ labels: [Int32],
                    _ box: SIMD4<Float>) throws {
        try img.pixels.withUnsafeBufferPointer { try p.setImage(rgb: $0, width: img.width, height: img.height) }
        _ = try p.predict(points: points, labels: labels, multimask: false)
        _ = try p.predict(box: box, multimask: false)
        _ = try p.predict(points: points, labels: labels, box: box, multimask: true)
    }

    func check(_ p: SAM2ImagePredictor, _ what: String) throws {
        #if DEBUG
        // -Onone boxes closure contexts and generic iterators: the property holds for optimized builds
        // (`swift test -c release --filter PredictorZeroAllocationTests`; `make test` checks the release
        // CLI with Tests/CLI/run_alloc_tests.sh).
        throw XCTSkip("zero heap allocations are a property of optimized builds")
        #endif
        let img = try Goldens.image("chelsea")
        let points: [SIMD2<Float>] = [SIMD2(Float(img.width) / 2, Float(img.height) / 2), SIMD2(5, 5)]
        let labels: [Int32] = [1, 0]
        let box = SIMD4<Float>(4, 6, Float(img.width) - 10, Float(img.height) - 3)
        try inferences(p, img, points, labels, box)  // warm-up: plans for this image size
        // Counting must be live, or the check below proves nothing.
        let probe = allocations { predictorProbeSink = malloc(32); free(predictorProbeSink) }
        XCTAssertGreaterThanOrEqual(probe, 1, "malloc interposer not active")
        let n = try allocations { try inferences(p, img, points, labels, box) }
        XCTAssertEqual(n, 0, "\(what): \(n) heap allocation(s) in setImage + 3 predicts after warm-up")
    }

    func testPlainFloatOneAndTwoThreads() throws {
        try check(try Goldens.predictor(threads: 1), "micro fp32, 1 thread")
        try check(try Goldens.predictor(threads: 2), "micro fp32, 2 threads")
    }

    func testInt8() throws {
        let table = try String(contentsOfFile: Goldens.dir + "/int8-table.txt", encoding: .utf8)
        var plan = Int8Plan()
        for line in table.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ")
            guard f.count > 3, let s = f.first(where: { $0.hasPrefix("scale=") }), let z = f.first(where: { $0.hasPrefix("zp=") }),
                  let scale = Float(s.dropFirst(6)), let zp = Int32(z.dropFirst(3)) else { continue }
            plan[String(f[0])] = (scale: scale, zeroPoint: zp)
        }
        XCTAssertFalse(plan.isEmpty)
        let cfg = try ModelConfigJSON.load(path: Goldens.dir + "/config.json")
        let p = try SAM2ImagePredictor(config: cfg, weights: try Goldens.store("checkpoint.safetensors"), threads: 2,
                                       quantization: plan)
        try check(p, "micro int8, 2 threads")
    }

    func testRefiner() throws {
        try check(try RefinerGoldens.predictor(localViews: 0), "micro-refiner local_views 0")
        try check(try RefinerGoldens.predictor(localViews: 4, threads: 2), "micro-refiner local_views 4, 2 threads")
    }
}
