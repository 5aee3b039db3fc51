// ArenaTests.swift — arena allocation, views, overflow and (debug builds) canaries.

import XCTest
@testable import SAM2REngine

final class ArenaTests: XCTestCase {
    func testViewsAreAlignedAndDisjoint() throws {
        let plan = try ArenaPlanner.plan([
            TensorLifetime(name: "a", count: 100, of: Float.self, firstUse: 0, lastUse: 1),
            TensorLifetime(name: "b", count: 33, of: Int8.self, firstUse: 0, lastUse: 1),
            TensorLifetime(name: "c", count: 64, of: Int32.self, firstUse: 1, lastUse: 2),
        ])
        let arena = try Arena(plan: plan)
        XCTAssertEqual(arena.capacity, plan.totalBytes)
        XCTAssertEqual(UInt(bitPattern: arena.base) % 64, 0)
        let a = try arena.view(0, as: Float.self), b = try arena.view(1, as: Int8.self)
        let c = try arena.view(2, as: Int32.self)
        XCTAssertEqual(a.count, 100)
        XCTAssertEqual(b.count, 33)
        XCTAssertEqual(c.count, 64)
        for v in [UInt(bitPattern: a.baseAddress), UInt(bitPattern: b.baseAddress), UInt(bitPattern: c.baseAddress)] {
            XCTAssertEqual(v % 64, 0)
        }
        a.buffer.update(repeating: 1.5)
        b.buffer.update(repeating: -3)
        c.buffer.update(repeating: 7)
        XCTAssertTrue(a.buffer.allSatisfy { $0 == 1.5 })
        XCTAssertTrue(b.buffer.allSatisfy { $0 == -3 })
        XCTAssertNoThrow(try arena.checkCanaries(step: 1))
        print(plan)
    }

    func testOverflowAndPlanMismatches() throws {
        let plan = try ArenaPlanner.plan([
            TensorLifetime(name: "x", size: 1000, firstUse: 0, lastUse: 0),
            TensorLifetime(name: "y", size: 7, alignment: 1, firstUse: 0, lastUse: 0),
            TensorLifetime(name: "z", size: 6, alignment: 1, firstUse: 0, lastUse: 0),
        ], guardBytes: 0)
        XCTAssertThrowsEngineError(.arenaOverflow(needed: plan.totalBytes, available: plan.totalBytes - 1)) {
            _ = try Arena(plan: plan, capacity: plan.totalBytes - 1)
        }
        let arena = try Arena(plan: plan, capacity: plan.totalBytes + 100)
        XCTAssertThrowsEngineError({ _ = try arena.view(3, as: Float.self) },
                                   where: { if case .planMismatch = $0 { return true } else { return false } })
        XCTAssertThrowsEngineError({ _ = try arena.view(0, as: Float.self, count: 251) },
                                   where: { if case .planMismatch = $0 { return true } else { return false } })
        // y (7 bytes) then z at offset 1007: not 4-byte aligned
        XCTAssertEqual(plan.offsets, [0, 1000, 1007])
        XCTAssertThrowsEngineError({ _ = try arena.view(2, as: Float.self, count: 1) },
                                   where: { if case .misalignedBuffer = $0 { return true } else { return false } })
    }

    func testCanaryDetectsWritePastEnd() throws {
        #if DEBUG
        XCTAssertEqual(ArenaPlanner.defaultGuardBytes, 64)
        let plan = try ArenaPlanner.plan([
            TensorLifetime(name: "input", count: 256, of: Float.self, firstUse: 0, lastUse: 1),
            TensorLifetime(name: "hidden", count: 100, of: Float.self, firstUse: 0, lastUse: 1),
            TensorLifetime(name: "out", count: 16, of: Float.self, firstUse: 1, lastUse: 1),
        ])
        let arena = try Arena(plan: plan)
        XCTAssertTrue(arena.hasCanaries)
        let hidden = try arena.view(1, as: Float.self)
        hidden.buffer.update(repeating: 2)          // in bounds: fine
        try arena.checkCanaries()
        hidden.baseAddress[hidden.count] = 42       // one element past the end
        XCTAssertThrowsEngineError(.canaryCorrupted(tensor: "#1 'hidden'", byteOffset: 0)) {
            try arena.checkCanaries()
        }
        XCTAssertThrowsEngineError(.canaryCorrupted(tensor: "#1 'hidden'", byteOffset: 0)) {
            try arena.checkCanaries(step: 1)
        }
        let e = EngineError.canaryCorrupted(tensor: "#1 'hidden'", byteOffset: 0)
        XCTAssertTrue(e.description.contains("hidden"))
        #else
        throw XCTSkip("canaries exist only in debug builds")
        #endif
    }

    /// Memory reused by a later tensor legitimately overwrites a dead tensor's canaries: per-step
    /// checks only look at live tensors, and arming at a tensor's first step restores its canary.
    func testCanariesFollowLifetimes() throws {
        let plan = try ArenaPlanner.plan([
            TensorLifetime(name: "early", size: 64, firstUse: 0, lastUse: 0),
            TensorLifetime(name: "late", size: 256, firstUse: 1, lastUse: 1),
        ], guardBytes: 64)
        XCTAssertEqual(plan.offsets, [0, 0])
        let arena = try Arena(plan: plan)
        arena.armCanaries(step: 0)
        try arena.checkCanaries(step: 0)
        arena.armCanaries(step: 1)
        try arena.view(1, as: UInt8.self).buffer.update(repeating: 0)  // covers early's canary
        try arena.checkCanaries(step: 1)                               // early is dead: fine
        XCTAssertThrowsEngineError({ try arena.checkCanaries() },
                                   where: { if case .canaryCorrupted(let t, _) = $0 { return t == "#0 'early'" } else { return false } })
        arena.armCanaries(step: 0)
        try arena.checkCanaries(step: 0)
    }

    func testReleasePlansHaveNoCanaries() throws {
        let plan = try ArenaPlanner.plan([TensorLifetime(size: 16, firstUse: 0, lastUse: 0)], guardBytes: 0)
        let arena = try Arena(plan: plan)
        XCTAssertFalse(arena.hasCanaries)
        XCTAssertEqual(plan.totalBytes, 16)
        try arena.view(0, as: UInt8.self).buffer.update(repeating: 9)
        try arena.checkCanaries()
    }
}
