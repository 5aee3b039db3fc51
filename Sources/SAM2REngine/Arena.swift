// Arena.swift — one buffer, allocated once, holding every planned tensor at its planned offset.
//
// Tensors are views (typed pointer + element count) into the buffer; nothing is allocated after
// init. Debug builds (the plan's guardBytes > 0) keep canary bytes after each tensor:
//   - `armCanaries(step:)` writes the canaries of the tensors that become live at `step`
//     (safe: the planner never lets a live tensor overlap another live tensor's canaries),
//   - `checkCanaries(step:)` verifies the canaries of every tensor live at `step` and throws
//     `EngineError.canaryCorrupted` naming the first (lowest-offset) corrupted one.
// `armAllCanaries()` / `checkCanaries()` (no step) cover every tensor: use them when the tensors'
// memory is not reused within the checked window (e.g. a test, or right after allocation).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A typed view of one tensor: `count` elements of `Element` at `baseAddress`.
@frozen
public struct TensorView<Element>: @unchecked Sendable {
    public let baseAddress: UnsafeMutablePointer<Element>
    public let count: Int

    @inlinable
    public init(baseAddress: UnsafeMutablePointer<Element>, count: Int) {
        self.baseAddress = baseAddress
        self.count = count
    }

    @inlinable public var buffer: UnsafeMutableBufferPointer<Element> { .init(start: baseAddress, count: count) }
    @inlinable public var readOnly: UnsafeBufferPointer<Element> { .init(start: baseAddress, count: count) }
    @inlinable public var raw: UnsafeMutableRawBufferPointer {
        .init(start: baseAddress, count: count * MemoryLayout<Element>.stride)
    }

    @inlinable
    public subscript(i: Int) -> Element {
        get { precondition(i >= 0 && i < count); return baseAddress[i] }
        nonmutating set { precondition(i >= 0 && i < count); baseAddress[i] = newValue }
    }
}

/// The memory of an `ArenaPlan`.
public final class Arena: @unchecked Sendable {
    public let plan: ArenaPlan
    /// Bytes of the buffer (>= plan.totalBytes).
    public let capacity: Int
    public let base: UnsafeMutableRawPointer

    /// The canary byte at distance `i` past a tensor's end.
    @inlinable
    static func canary(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: 0xA5 ^ (i &* 0x1D)) }

    /// Allocates exactly `plan.totalBytes` (at least one byte), aligned to `plan.baseAlignment`.
    public convenience init(plan: ArenaPlan) throws {
        try self.init(plan: plan, capacity: plan.totalBytes)
    }

    /// Allocates `capacity` bytes; throws `arenaOverflow` if the plan needs more.
    public init(plan: ArenaPlan, capacity: Int) throws {
        guard plan.totalBytes <= capacity else {
            throw EngineError.arenaOverflow(needed: plan.totalBytes, available: capacity)
        }
        guard plan.offsets.count == plan.tensors.count else {
            throw EngineError.planMismatch("\(plan.offsets.count) offsets for \(plan.tensors.count) tensors")
        }
        var p: UnsafeMutableRawPointer? = nil
        let rc = posix_memalign(&p, plan.baseAlignment, max(capacity, 1))
        guard rc == 0, let mem = p else {
            throw EngineError.resourceUnavailable("posix_memalign(\(plan.baseAlignment), \(capacity)) failed (\(rc))")
        }
        self.plan = plan
        self.capacity = capacity
        self.base = mem
        armAllCanaries()
    }

    deinit { free(base) }

    /// Number of planned tensors.
    public var tensorCount: Int { plan.tensors.count }

    /// Raw bytes of tensor `id` (guard bytes excluded).
    @inlinable
    public func rawBuffer(_ id: Int) throws -> UnsafeMutableRawBufferPointer {
        guard id >= 0, id < plan.tensors.count else {
            throw EngineError.planMismatch("tensor id \(id) outside 0..<\(plan.tensors.count)")
        }
        return UnsafeMutableRawBufferPointer(start: base + plan.offsets[id], count: plan.tensors[id].size)
    }

    /// Tensor `id` as `count` elements of `T` (default: all its bytes). Throws if the id is unknown,
    /// the tensor is too small, or its offset is not aligned for `T`.
    @inlinable
    public func view<T>(_ id: Int, as type: T.Type, count: Int? = nil) throws -> TensorView<T> {
        let raw = try rawBuffer(id)
        let n = count ?? raw.count / MemoryLayout<T>.stride
        guard n > 0 else { throw EngineError.zeroSize(operand: "view of tensor \(id)") }
        guard n * MemoryLayout<T>.stride <= raw.count else {
            throw EngineError.planMismatch(
                "tensor \(id) '\(plan.tensors[id].name)' has \(raw.count) bytes, view needs \(n * MemoryLayout<T>.stride)")
        }
        let address = UInt(bitPattern: raw.baseAddress!)
        guard address % UInt(MemoryLayout<T>.alignment) == 0 else {
            throw EngineError.misalignedBuffer(operand: "tensor \(id) '\(plan.tensors[id].name)'",
                                               address: address, alignment: MemoryLayout<T>.alignment)
        }
        return TensorView(baseAddress: raw.baseAddress!.bindMemory(to: T.self, capacity: n), count: n)
    }

    // MARK: - Canaries (no-ops when the plan has no guard bytes)

    /// Whether this arena carries canaries (debug-build plans).
    public var hasCanaries: Bool { plan.guardBytes > 0 }

    /// Writes the canaries of every tensor.
    public func armAllCanaries() {
        for id in plan.tensors.indices { writeCanary(id) }
    }

    /// Writes the canaries of the tensors whose lifetime starts at `step`.
    public func armCanaries(step: Int) {
        guard hasCanaries else { return }
        for id in plan.tensors.indices where plan.tensors[id].firstUse == step { writeCanary(id) }
    }

    /// Verifies canaries of every tensor live at `step` (nil: of every tensor).
    /// Throws `canaryCorrupted` naming the corrupted tensor with the lowest offset.
    public func checkCanaries(step: Int? = nil) throws {
        guard hasCanaries else { return }
        var worst: (offset: Int, id: Int, at: Int)? = nil
        for id in plan.tensors.indices {
            let t = plan.tensors[id]
            if let s = step, !(t.firstUse <= s && s <= t.lastUse) { continue }
            if let at = firstBadCanaryByte(id), worst == nil || plan.offsets[id] < worst!.offset {
                worst = (plan.offsets[id], id, at)
            }
        }
        if let w = worst {
            let t = plan.tensors[w.id]
            throw EngineError.canaryCorrupted(tensor: t.name.isEmpty ? "#\(w.id)" : "#\(w.id) '\(t.name)'",
                                              byteOffset: w.at)
        }
    }

    @usableFromInline
    func writeCanary(_ id: Int) {
        let g = plan.guardBytes
        guard g > 0 else { return }
        let p = base + plan.offsets[id] + plan.tensors[id].size
        for i in 0..<g { p.storeBytes(of: Arena.canary(i), toByteOffset: i, as: UInt8.self) }
    }

    func firstBadCanaryByte(_ id: Int) -> Int? {
        let g = plan.guardBytes
        let p = UnsafeRawPointer(base + plan.offsets[id] + plan.tensors[id].size)
        for i in 0..<g where p.load(fromByteOffset: i, as: UInt8.self) != Arena.canary(i) { return i }
        return nil
    }
}
