// TestSupport.swift — deterministic random numbers and small helpers for the engine tests.

import XCTest
@testable import SAM2REngine

/// SplitMix64: tiny, seeded, platform-independent.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == Int8 {
    /// n values in [-127, 127] (the kernel contract for weights).
    static func randomWeights(_ n: Int, using rng: inout SplitMix64) -> [Int8] {
        (0..<n).map { _ in Int8.random(in: -127...127, using: &rng) }
    }
    static func randomActivations(_ n: Int, using rng: inout SplitMix64) -> [Int8] {
        (0..<n).map { _ in Int8.random(in: -128...127, using: &rng) }
    }
}

extension Array where Element == Float {
    static func random(_ n: Int, in range: ClosedRange<Float>, using rng: inout SplitMix64) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &rng) }
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsEngineError(_ expected: EngineError, file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected \(expected), nothing was thrown", file: file, line: line)
    } catch let e as EngineError {
        XCTAssertEqual(e, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws an EngineError for which `match` is true.
func XCTAssertThrowsEngineError(file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> Void, where match: (EngineError) -> Bool) {
    do {
        try body()
        XCTFail("expected an EngineError, nothing was thrown", file: file, line: line)
    } catch let e as EngineError {
        XCTAssertTrue(match(e), "unexpected error: \(e)", file: file, line: line)
    } catch {
        XCTFail("expected an EngineError, got \(error)", file: file, line: line)
    }
}
