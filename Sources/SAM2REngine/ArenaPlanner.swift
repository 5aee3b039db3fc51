// ArenaPlanner.swift — offline placement of intermediate tensors in one buffer.
//
// Input: for every tensor its byte size, alignment, and the steps (inclusive) during which it is
// live. Output: a byte offset for each tensor such that two tensors whose lifetimes intersect never
// share a byte, and the total size of the buffer. Known before anything runs.
//
// Algorithm (TFLM's GreedyMemoryPlanner): visit tensors in a priority order; put each at the lowest
// aligned offset where it does not overlap any already-placed tensor whose lifetime intersects its
// own (scanning the conflicting ones in increasing offset, first-fit into gaps). TFLM's order is
// "largest first". `.bestOf` also tries a few other orders (size x lifetime, longest lifetime, first
// use) and keeps the smallest total — never worse than greedy-by-size. Everything is deterministic
// (ties broken by tensor index).
//
// Debug builds add `guardBytes` after each tensor for canaries (see Arena.swift); they count as part
// of the tensor's footprint for overlap, so a canary region is never shared with a live tensor.

/// One tensor to place: `size` bytes, `alignment` (power of two), live from step `firstUse`
/// through step `lastUse` inclusive (firstUse == lastUse: used within one step).
public struct TensorLifetime: Sendable, Equatable {
    public var name: String
    public var size: Int
    public var alignment: Int
    public var firstUse: Int
    public var lastUse: Int

    public init(name: String = "", size: Int, alignment: Int = 64, firstUse: Int, lastUse: Int) {
        self.name = name
        self.size = size
        self.alignment = alignment
        self.firstUse = firstUse
        self.lastUse = lastUse
    }

    /// A tensor of `count` elements of `type`.
    public init<T>(name: String = "", count: Int, of type: T.Type, alignment: Int = 64,
                   firstUse: Int, lastUse: Int) {
        self.init(name: name, size: count * MemoryLayout<T>.stride, alignment: alignment,
                  firstUse: firstUse, lastUse: lastUse)
    }

    /// Whether the two lifetimes share a step.
    @inlinable
    public func overlapsInTime(_ other: TensorLifetime) -> Bool {
        firstUse <= other.lastUse && other.firstUse <= lastUse
    }
}

/// Where each tensor lives in the arena.
public struct ArenaPlan: Sendable, Equatable, CustomStringConvertible {
    public let tensors: [TensorLifetime]
    /// Byte offset of each tensor, in input order.
    public let offsets: [Int]
    /// Bytes reserved after each tensor for canaries (0 in release builds).
    public let guardBytes: Int
    /// Bytes the arena needs: max over tensors of offset + size + guardBytes.
    public let totalBytes: Int
    /// Alignment the arena base must have (max of 64 and every tensor's alignment).
    public let baseAlignment: Int
    /// Which priority order produced the plan.
    public let order: ArenaPlanner.Order

    /// Max over steps of the bytes live at that step (footprints incl. guards): no plan can be smaller.
    public var lowerBound: Int { ArenaPlanner.lowerBound(tensors, guardBytes: guardBytes) }

    public var description: String {
        "arena: \(tensors.count) tensors, \(totalBytes) bytes (lower bound \(lowerBound), order \(order), guard \(guardBytes))"
    }
}

public enum ArenaPlanner {
    /// Canary bytes after each tensor: 64 in debug builds (keeps 64-byte alignment), 0 in release.
    #if DEBUG
    public static let defaultGuardBytes = 64
    #else
    public static let defaultGuardBytes = 0
    #endif

    /// Priority orders the greedy placement can visit tensors in.
    public enum Order: String, Sendable, CaseIterable {
        /// TFLM GreedyMemoryPlanner: size descending.
        case sizeDescending
        /// size x lifetime length descending.
        case areaDescending
        /// lifetime length descending, then size.
        case lifetimeDescending
        /// first use ascending, then size descending (like a linear scan).
        case firstUseAscending
    }

    public enum Strategy: Sendable {
        /// Exactly TFLM's greedy-by-size.
        case greedyBySize
        /// Every `Order`, keep the smallest total (ties: the earlier order in `Order.allCases`).
        case bestOf
    }

    /// Plans `tensors`. Throws on a zero size, a non-power-of-two alignment, a negative step or
    /// firstUse > lastUse.
    public static func plan(_ tensors: [TensorLifetime], strategy: Strategy = .bestOf,
                            guardBytes: Int = defaultGuardBytes) throws -> ArenaPlan {
        guard guardBytes >= 0 else {
            throw EngineError.invalidParameter(name: "guardBytes", value: "\(guardBytes)", allowed: ">= 0")
        }
        var baseAlignment = 64
        for (i, t) in tensors.enumerated() {
            let label = t.name.isEmpty ? "tensor \(i)" : "tensor \(i) '\(t.name)'"
            guard t.size > 0 else { throw EngineError.zeroSize(operand: label) }
            guard t.alignment > 0, t.alignment & (t.alignment - 1) == 0 else {
                throw EngineError.invalidParameter(name: "\(label) alignment", value: "\(t.alignment)",
                                                   allowed: "a power of two")
            }
            guard t.firstUse >= 0, t.firstUse <= t.lastUse else {
                throw EngineError.invalidParameter(name: "\(label) lifetime",
                                                   value: "\(t.firstUse)...\(t.lastUse)",
                                                   allowed: "0 <= firstUse <= lastUse")
            }
            baseAlignment = max(baseAlignment, t.alignment)
        }
        let orders: [Order] = strategy == .greedyBySize ? [.sizeDescending] : Order.allCases
        var best: (offsets: [Int], total: Int, order: Order)? = nil
        let conflicts = Conflicts(tensors)
        var scratch = [(offset: Int, end: Int)]()
        for order in orders {
            let visit = priority(tensors, order)
            let (offsets, total) = place(tensors, visit: visit, guardBytes: guardBytes, conflicts: conflicts,
                                         scratch: &scratch)
            if best == nil || total < best!.total { best = (offsets, total, order) }
        }
        let b = best ?? ([], 0, .sizeDescending)
        return ArenaPlan(tensors: tensors, offsets: b.offsets, guardBytes: guardBytes, totalBytes: b.total,
                         baseAlignment: baseAlignment, order: b.order)
    }

    /// Max over steps of the sum of footprints (size + guardBytes) live at that step.
    public static func lowerBound(_ tensors: [TensorLifetime], guardBytes: Int = defaultGuardBytes) -> Int {
        // Sweep over lifetime events: +size at firstUse, -size after lastUse.
        var events = [(step: Int, delta: Int)]()
        events.reserveCapacity(tensors.count * 2)
        for t in tensors {
            events.append((t.firstUse, t.size + guardBytes))
            events.append((t.lastUse + 1, -(t.size + guardBytes)))
        }
        // At equal steps apply frees (negative) before allocations.
        events.sort { $0.step != $1.step ? $0.step < $1.step : $0.delta < $1.delta }
        var live = 0, peak = 0
        for e in events {
            live += e.delta
            peak = max(peak, live)
        }
        return peak
    }

    // MARK: - Internals

    static func priority(_ t: [TensorLifetime], _ order: Order) -> [Int] {
        var idx = Array(t.indices)
        let size = t.map(\.size), first = t.map(\.firstUse)
        let len = t.map { $0.lastUse - $0.firstUse + 1 }
        switch order {
        case .sizeDescending:
            idx.sort { a, b in
                size[a] != size[b] ? size[a] > size[b] : first[a] != first[b] ? first[a] < first[b] : a < b
            }
        case .areaDescending:
            let area = t.indices.map { i -> Int in
                let r = size[i].multipliedReportingOverflow(by: len[i])
                return r.overflow ? Int.max : r.partialValue
            }
            idx.sort { a, b in
                area[a] != area[b] ? area[a] > area[b] : size[a] != size[b] ? size[a] > size[b] : a < b
            }
        case .lifetimeDescending:
            idx.sort { a, b in
                len[a] != len[b] ? len[a] > len[b] : size[a] != size[b] ? size[a] > size[b] : a < b
            }
        case .firstUseAscending:
            idx.sort { a, b in
                first[a] != first[b] ? first[a] < first[b] : size[a] != size[b] ? size[a] > size[b] : a < b
            }
        }
        return idx
    }

    @inline(__always)
    static func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }

    /// For every tensor, the tensors whose lifetimes intersect its own, in one flat array
    /// (CSR: `list[start[i]..<start[i + 1]]`). Built by a sweep over first uses: O(n log n + pairs).
    struct Conflicts {
        var start: [Int]
        var list: [Int]

        init(_ t: [TensorLifetime]) {
            let n = t.count
            let first = t.map(\.firstUse), last = t.map(\.lastUse)
            let byFirst = t.indices.sorted { first[$0] != first[$1] ? first[$0] < first[$1] : $0 < $1 }
            // A pair (p < q in first-use order) overlaps iff first[q] <= last[p]. Visit each pair once.
            func forEachPair(_ body: (Int, Int) -> Void) {
                for p in 0..<n {
                    let i = byFirst[p]
                    var q = p + 1
                    while q < n, first[byFirst[q]] <= last[i] {
                        body(i, byFirst[q])
                        q += 1
                    }
                }
            }
            var count = [Int](repeating: 0, count: n)
            forEachPair { i, j in count[i] += 1; count[j] += 1 }
            var start = [Int](repeating: 0, count: n + 1)
            for i in 0..<n { start[i + 1] = start[i] + count[i] }
            var list = [Int](repeating: 0, count: start[n])
            var cursor = Array(start.prefix(n))
            forEachPair { i, j in
                list[cursor[i]] = j; cursor[i] += 1
                list[cursor[j]] = i; cursor[j] += 1
            }
            self.start = start
            self.list = list
        }
    }

    /// First-fit placement in visiting order: each tensor goes to the lowest aligned offset below,
    /// between or above its already-placed conflicts (scanned in increasing offset).
    static func place(_ t: [TensorLifetime], visit: [Int], guardBytes: Int, conflicts: Conflicts,
                      scratch placed: inout [(offset: Int, end: Int)]) -> (offsets: [Int], total: Int) {
        let footprint = t.map { $0.size + guardBytes }
        var offsets = [Int](repeating: -1, count: t.count)
        var total = 0
        for i in visit {
            placed.removeAll(keepingCapacity: true)
            for c in conflicts.start[i]..<conflicts.start[i + 1] {
                let j = conflicts.list[c]
                if offsets[j] >= 0 { placed.append((offsets[j], offsets[j] + footprint[j])) }
            }
            placed.sort { $0.offset != $1.offset ? $0.offset < $1.offset : $0.end < $1.end }
            let fi = footprint[i], ai = t[i].alignment
            var candidate = 0
            for p in placed {
                if candidate + fi <= p.offset { break }  // fits in the gap below p
                candidate = max(candidate, alignUp(p.end, ai))
            }
            offsets[i] = candidate
            total = max(total, candidate + fi)
        }
        return (offsets, total)
    }
}
