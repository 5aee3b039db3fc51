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
        var scratch = [Int]()
        scratch.reserveCapacity(tensors.count)
        for order in orders {
            let visit = priority(tensors, order)
            let (offsets, total) = place(tensors, visit: visit, guardBytes: guardBytes, scratch: &scratch)
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
        func len(_ i: Int) -> Int { t[i].lastUse - t[i].firstUse + 1 }
        switch order {
        case .sizeDescending:
            idx.sort { a, b in
                t[a].size != t[b].size ? t[a].size > t[b].size
                    : t[a].firstUse != t[b].firstUse ? t[a].firstUse < t[b].firstUse : a < b
            }
        case .areaDescending:
            idx.sort { a, b in
                let x = t[a].size.multipliedReportingOverflow(by: len(a))
                let y = t[b].size.multipliedReportingOverflow(by: len(b))
                let xa = x.overflow ? Int.max : x.partialValue, ya = y.overflow ? Int.max : y.partialValue
                return xa != ya ? xa > ya : t[a].size != t[b].size ? t[a].size > t[b].size : a < b
            }
        case .lifetimeDescending:
            idx.sort { a, b in
                len(a) != len(b) ? len(a) > len(b) : t[a].size != t[b].size ? t[a].size > t[b].size : a < b
            }
        case .firstUseAscending:
            idx.sort { a, b in
                t[a].firstUse != t[b].firstUse ? t[a].firstUse < t[b].firstUse
                    : t[a].size != t[b].size ? t[a].size > t[b].size : a < b
            }
        }
        return idx
    }

    @inline(__always)
    static func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }

    /// First-fit placement in visiting order. `placedByOffset` holds placed tensor indices sorted
    /// by offset (insertion keeps it sorted), so each tensor scans its conflicts bottom-up once.
    static func place(_ t: [TensorLifetime], visit: [Int], guardBytes: Int,
                      scratch placedByOffset: inout [Int]) -> (offsets: [Int], total: Int) {
        var offsets = [Int](repeating: -1, count: t.count)
        placedByOffset.removeAll(keepingCapacity: true)
        var total = 0
        for i in visit {
            let ti = t[i]
            let footprint = ti.size + guardBytes
            var candidate = 0
            for j in placedByOffset {
                let tj = t[j]
                guard ti.overlapsInTime(tj) else { continue }
                let oj = offsets[j]
                if candidate + footprint <= oj { break }  // fits in the gap below j
                candidate = max(candidate, alignUp(oj + tj.size + guardBytes, ti.alignment))
            }
            offsets[i] = candidate
            total = max(total, candidate + footprint)
            // Insert keeping placedByOffset sorted by offset (ties by index, for determinism).
            var lo = 0, hi = placedByOffset.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let m = placedByOffset[mid]
                if offsets[m] < candidate || (offsets[m] == candidate && m < i) { lo = mid + 1 } else { hi = mid }
            }
            placedByOffset.insert(i, at: lo)
        }
        return (offsets, total)
    }
}
