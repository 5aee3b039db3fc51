// Workspace.swift — one forward, written once, runs twice: a planning pass records every
// intermediate's size and lifetime (alloc ... release, in program order; sizes depend only on the
// config, the image size and the prompt capacity), ArenaPlanner places them in ONE buffer, and
// execution passes replay the same allocation sequence as views into that Arena.
//
// Steps: every alloc and every release is one step. A buffer is live from its alloc step through
// its release step (never released: through the end). Execution may start at any recorded alloc
// (`seek`), which is how `predict` replays only the decoder phase on top of the cached features.

import SAM2REngine

/// A planned fp32 buffer: `count` floats at `p` (a dummy pointer while planning).
@frozen
public struct Buf {
    public let id: Int
    public let count: Int
    public let p: UnsafeMutablePointer<Float>

    @inlinable public var r: UnsafeBufferPointer<Float> { .init(start: p, count: count) }
    @inlinable public var m: UnsafeMutableBufferPointer<Float> { .init(start: p, count: count) }
}

final class Workspace {
    private(set) var planning = true
    private(set) var lifetimes: [TensorLifetime] = []
    private(set) var step = 0
    private var cursor = 0
    private(set) var arena: Arena?
    private var pointers: [UnsafeMutablePointer<Float>] = []
    /// Planning pass pointers point here; nothing is read or written through them.
    nonisolated(unsafe) private static let dummy: UnsafeMutablePointer<Float> = .allocate(capacity: 16)

    private var planOnly: ArenaPlan?
    var totalBytes: Int { plan?.totalBytes ?? 0 }
    var plan: ArenaPlan? { arena?.plan ?? planOnly }
    /// Where the next alloc lands (a phase marker for `seek`).
    var mark: (id: Int, step: Int) { (planning ? lifetimes.count : cursor, step) }

    func alloc(_ count: Int, _ name: @autoclosure () -> String) throws -> Buf {
        let n = max(count, 1)
        if planning {
            let id = lifetimes.count
            lifetimes.append(TensorLifetime(name: name(), size: n * 4, alignment: 64, firstUse: step, lastUse: -1))
            step += 1
            return Buf(id: id, count: n, p: Workspace.dummy)
        }
        let id = cursor
        guard id < lifetimes.count, lifetimes[id].size == n * 4 else {
            throw EngineError.planMismatch("alloc #\(id) '\(name())' of \(n) floats does not replay the plan")
        }
        cursor += 1
        step = lifetimes[id].firstUse + 1
        #if DEBUG
        arena!.armCanaries(step: lifetimes[id].firstUse)
        #endif
        return Buf(id: id, count: n, p: pointers[id])
    }

    func release(_ b: Buf) throws {
        if planning {
            precondition(lifetimes[b.id].lastUse < 0, "double release of '\(lifetimes[b.id].name)'")
            lifetimes[b.id].lastUse = step
            step += 1
            return
        }
        #if DEBUG
        try arena!.checkCanaries(step: lifetimes[b.id].lastUse)
        #endif
        step = lifetimes[b.id].lastUse + 1
    }

    /// Ends planning: open lifetimes run to the end; places everything and, if `allocate`, allocates
    /// the arena (otherwise the workspace can only report its plan).
    @discardableResult
    func finishPlanning(allocate: Bool = true) throws -> ArenaPlan {
        precondition(planning)
        for i in lifetimes.indices where lifetimes[i].lastUse < 0 { lifetimes[i].lastUse = step }
        let plan = try ArenaPlanner.plan(lifetimes)
        planOnly = plan
        guard allocate else { return plan }
        let arena = try Arena(plan: plan)
        pointers = try (0..<lifetimes.count).map { try arena.view($0, as: Float.self).baseAddress }
        self.arena = arena
        planning = false
        return plan
    }

    /// Next execution replays from `mark`.
    func seek(_ mark: (id: Int, step: Int)) {
        precondition(!planning)
        cursor = mark.id
        step = mark.step
    }

    /// Verifies the canaries of every buffer still live at the last step (debug builds).
    func checkLive() throws {
        #if DEBUG
        try arena?.checkCanaries(step: max(step - 1, 0))
        #endif
    }
}
