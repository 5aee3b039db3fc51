// A minimal pickle reader for what `torch.save(state_dict)` writes (protocol 2; the few protocol
// 4 opcodes a newer writer may use are accepted too). It builds plain values; it never imports or
// calls anything. Globals are resolved against a fixed allowlist (OrderedDict, the two torch
// rebuild functions, torch storage types); any other global or opcode is an error naming it.
//
// Containers are sealed when they are put into another container or passed as arguments; a sealed
// container cannot be mutated again. Pickles from torch never need that, and it bounds the
// nesting depth (checked at insertion), so no crafted input can build a structure deep enough to
// overflow the stack when it is freed.

/// The globals a torch state_dict pickle may reference.
public enum PickleGlobal: Equatable, Sendable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storageType(TensorDType)

    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", _): return TensorDType(torchStorageName: name).map { .storageType($0) }
        default: return nil
        }
    }
}

/// A storage named by a persistent id ('storage', type, key, location, numel).
public struct PickleStorage: Equatable, Sendable {
    public let dtype: TensorDType
    public let key: String
    public let location: String
    public let count: Int
}

/// A tensor rebuilt by `_rebuild_tensor_v2` (or wrapped by `_rebuild_parameter`).
public struct PickleTensor: Equatable, Sendable {
    public let storage: PickleStorage
    public let storageOffset: Int
    public let shape: [Int]
    public let strides: [Int]
}

public final class PickleList {
    public internal(set) var items: [PickleValue] = []
    var sealed = false
    var depth = 1
}

public final class PickleDict {
    public internal(set) var items: [(key: PickleValue, value: PickleValue)] = []
    public let ordered: Bool
    var sealed = false
    var depth = 1
    init(ordered: Bool) { self.ordered = ordered }

    /// The value of the last item whose key is the string `key`.
    public subscript(key: String) -> PickleValue? {
        for item in items.reversed() { if case .string(let k) = item.key, k == key { return item.value } }
        return nil
    }
}

public enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(PickleStorage)
    case tensor(PickleTensor)

    var depth: Int {
        switch self {
        case .tuple(_, let d): return d
        case .list(let l): return l.depth
        case .dict(let d): return d.depth
        default: return 0
        }
    }

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict(let d): return d.ordered ? "OrderedDict" : "dict"
        case .global(let g): return "global \(g)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

public struct Unpickler {
    public static let maxDepth = 64

    let path: String
    let data: UnsafeRawBufferPointer
    var pos = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    init(path: String, data: UnsafeRawBufferPointer) {
        self.path = path
        self.data = data
    }

    /// Reads one pickle from `data` and returns its value. `path` only labels errors.
    public static func load(_ data: UnsafeRawBufferPointer, path: String) throws -> PickleValue {
        var u = Unpickler(path: path, data: data)
        return try u.run()
    }

    func fail(_ s: String) -> CheckpointError { CheckpointError(path: path, .pickle(s)) }

    mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard let r = data.checkedRange(pos, n) else {
            throw fail("truncated: need \(n) bytes at \(pos), have \(data.count - pos)")
        }
        pos = r.upperBound
        return UnsafeRawBufferPointer(rebasing: data[r])
    }
    mutating func u8() throws -> UInt8 { try bytes(1)[0] }
    mutating func u16() throws -> UInt16 { let b = try bytes(2); return UInt16(b[0]) | UInt16(b[1]) << 8 }
    mutating func u32() throws -> UInt32 { let b = try bytes(4); return b.u32le(0) }
    mutating func u64() throws -> UInt64 { let b = try bytes(8); return b.u64le(0) }

    mutating func line() throws -> String {
        var end = pos
        while end < data.count && data[end] != 0x0A {
            end += 1
            if end - pos > 512 { throw fail("GLOBAL name longer than 512 bytes at \(pos)") }
        }
        guard end < data.count else { throw fail("truncated GLOBAL at \(pos)") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: data[pos..<end]), as: UTF8.self)
        pos = end + 1
        return s
    }

    mutating func utf8(_ n: Int) throws -> String {
        let b = try bytes(n)
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("invalid UTF-8 string at \(pos - n)") }
        return s
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow at byte \(pos - 1)") }
        if let m = marks.last, stack.count < m { throw fail("pop across a MARK at byte \(pos - 1)") }
        return v
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK for opcode at byte \(pos - 1)") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow at byte \(pos - 1)") }
        return v
    }

    /// Marks `v` immutable (it is being placed inside something) and returns its depth.
    func seal(_ v: PickleValue) -> Int {
        switch v {
        case .list(let l): l.sealed = true
        case .dict(let d): d.sealed = true
        default: break
        }
        return v.depth
    }

    func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        var d = 0
        for v in items { d = max(d, seal(v)) }
        guard d < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        return .tuple(items, depth: d + 1)
    }

    mutating func append(_ items: [PickleValue]) throws {
        guard case .list(let l) = try top() else { throw fail("APPEND(S) to \(try top().kindName) at byte \(pos - 1)") }
        // Items are sealed before the target is checked: a list appended to itself is then "in use",
        // so no container can ever hold itself (a reference cycle nothing would free).
        let depth = items.map(seal).max() ?? 0
        guard !l.sealed else { throw fail("APPEND(S) to a list already in use at byte \(pos - 1)") }
        guard depth + 1 <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        l.depth = max(l.depth, depth + 1)
        l.items.append(contentsOf: items)
    }

    mutating func setItems(_ kv: [PickleValue]) throws {
        guard kv.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items at byte \(pos - 1)") }
        guard case .dict(let dict) = try top() else { throw fail("SETITEM(S) on \(try top().kindName) at byte \(pos - 1)") }
        // Sealed first, as in `append`: a dict cannot become its own key or value.
        let depth = kv.map(seal).max() ?? 0
        guard !dict.sealed else { throw fail("SETITEM(S) on a dict already in use at byte \(pos - 1)") }
        guard depth + 1 <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        dict.depth = max(dict.depth, depth + 1)
        var i = 0
        while i < kv.count {
            dict.items.append((kv[i], kv[i + 1]))
            i += 2
        }
    }

    mutating func memoGet(_ i: Int) throws {
        guard let v = memo[i] else { throw fail("memo key \(i) not defined at byte \(pos - 1)") }
        stack.append(v)
    }

    mutating func run() throws -> PickleValue {
        while true {
            let opPos = pos
            let op = try u8()
            switch op {
            case 0x80:  // PROTO
                let p = try u8()
                guard (2...5).contains(p) else { throw fail("unsupported protocol \(p)") }
            case 0x95:  // FRAME (length is advisory)
                _ = try u64()
            case 0x2E:  // STOP
                guard marks.isEmpty else { throw fail("STOP with an open MARK") }
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x7D: stack.append(.dict(PickleDict(ordered: false)))  // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([], depth: 1))  // EMPTY_TUPLE
            case 0x28: marks.append(stack.count)  // MARK
            case 0x58: stack.append(.string(try utf8(Int(try u32()))))  // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(Int(try u8()))))  // SHORT_BINUNICODE
            case 0x8D:  // BINUNICODE8
                let n = try u64()
                guard n <= UInt64(data.count) else { throw fail("string length \(n) exceeds the pickle") }
                stack.append(.string(try utf8(Int(n))))
            case 0x4A: stack.append(.int(Int64(Int32(bitPattern: try u32()))))  // BININT
            case 0x4B: stack.append(.int(Int64(try u8())))  // BININT1
            case 0x4D: stack.append(.int(Int64(try u16())))  // BININT2
            case 0x8A:  // LONG1
                let n = Int(try u8())
                guard n <= 8 else { throw fail("integer of \(n) bytes is too large at byte \(opPos)") }
                let b = try bytes(n)
                var v: UInt64 = 0
                for k in 0..<n { v |= UInt64(b[k]) << (8 * UInt64(k)) }
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
                stack.append(.int(Int64(bitPattern: v)))
            case 0x47:  // BINFLOAT (big-endian)
                let b = try bytes(8)
                var v: UInt64 = 0
                for k in 0..<8 { v = v << 8 | UInt64(b[k]) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x4E: stack.append(.none)  // NONE
            case 0x74: stack.append(try makeTuple(try popMark()))  // TUPLE
            case 0x85: let a = try pop(); stack.append(try makeTuple([a]))  // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(try makeTuple([a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(try makeTuple([a, b, c]))  // TUPLE3
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v])  // SETITEM
            case 0x75: try setItems(try popMark())  // SETITEMS
            case 0x61: let v = try pop(); try append([v])  // APPEND
            case 0x65: try append(try popMark())  // APPENDS
            case 0x71: memo[Int(try u8())] = try top()  // BINPUT
            case 0x72: memo[Int(try u32())] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68: try memoGet(Int(try u8()))  // BINGET
            case 0x6A: try memoGet(Int(try u32()))  // LONG_BINGET
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                guard let g = PickleGlobal.resolve(module: module, name: name) else {
                    throw CheckpointError(path: path, .forbiddenGlobal(module: module, name: name))
                }
                stack.append(.global(g))
            case 0x93:  // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .string(let module) = m, case .string(let name) = n else {
                    throw fail("STACK_GLOBAL needs two strings at byte \(opPos)")
                }
                guard let g = PickleGlobal.resolve(module: module, name: name) else {
                    throw CheckpointError(path: path, .forbiddenGlobal(module: module, name: name))
                }
                stack.append(.global(g))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                guard case .tuple(let a, _) = args else { throw fail("REDUCE arguments are a \(args.kindName) at byte \(opPos)") }
                for v in a { _ = seal(v) }
                stack.append(try reduce(callable, a, at: opPos))
            case 0x62:  // BUILD
                let state = try pop()
                let obj = try top()
                switch (obj, state) {
                case (.dict(let d), .none), (.dict(let d), .dict):
                    // OrderedDict state (a state_dict's `_metadata`): accepted, not needed.
                    guard !d.sealed else { throw fail("BUILD on a dict already in use at byte \(opPos)") }
                    _ = seal(state)
                default:
                    throw fail("BUILD of \(obj.kindName) with \(state.kindName) state at byte \(opPos)")
                }
            case 0x51:  // BINPERSID
                stack.append(try persistentLoad(try pop(), at: opPos))
            default:
                throw CheckpointError(path: path, .unsupportedOpcode(opcode: op, offset: opPos))
            }
        }
    }

    func int(_ v: PickleValue, _ what: String, at: Int) throws -> Int {
        guard case .int(let i) = v else { throw fail("\(what) is a \(v.kindName), expected int, at byte \(at)") }
        guard let n = Int(exactly: i) else { throw fail("\(what) \(i) is out of range at byte \(at)") }
        return n
    }

    func ints(_ v: PickleValue, _ what: String, at: Int) throws -> [Int] {
        guard case .tuple(let items, _) = v else { throw fail("\(what) is a \(v.kindName), expected tuple, at byte \(at)") }
        return try items.map { try int($0, what, at: at) }
    }

    func reduce(_ callable: PickleValue, _ a: [PickleValue], at: Int) throws -> PickleValue {
        guard case .global(let g) = callable else { throw fail("REDUCE of a \(callable.kindName) at byte \(at)") }
        switch g {
        case .orderedDict:
            guard a.isEmpty else { throw fail("OrderedDict called with \(a.count) arguments at byte \(at)") }
            return .dict(PickleDict(ordered: true))
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard a.count == 6 || a.count == 7 else {
                throw fail("_rebuild_tensor_v2 called with \(a.count) arguments at byte \(at)")
            }
            guard case .storage(let s) = a[0] else { throw fail("_rebuild_tensor_v2 storage is a \(a[0].kindName) at byte \(at)") }
            return .tensor(PickleTensor(
                storage: s, storageOffset: try int(a[1], "storage_offset", at: at),
                shape: try ints(a[2], "size", at: at), strides: try ints(a[3], "stride", at: at)))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks)
            guard a.count == 3, case .tensor = a[0] else { throw fail("unexpected _rebuild_parameter arguments at byte \(at)") }
            return a[0]
        case .storageType(let t):
            throw fail("call of storage type \(t) at byte \(at)")
        }
    }

    func persistentLoad(_ pid: PickleValue, at: Int) throws -> PickleValue {
        guard case .tuple(let t, _) = pid, t.count == 5, case .string("storage") = t[0] else {
            throw fail("persistent id is not ('storage', type, key, location, numel) at byte \(at)")
        }
        guard case .global(.storageType(let dtype)) = t[1] else { throw fail("persistent id storage type is a \(t[1].kindName) at byte \(at)") }
        guard case .string(let key) = t[2], case .string(let location) = t[3] else {
            throw fail("persistent id key/location are not strings at byte \(at)")
        }
        let n = try int(t[4], "storage numel", at: at)
        guard n >= 0 else { throw fail("negative storage size \(n) at byte \(at)") }
        return .storage(PickleStorage(dtype: dtype, key: key, location: location, count: n))
    }
}

/// "NAME (0xNN 'c')" for error messages.
func pickleOpcodeName(_ op: UInt8) -> String {
    let names: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
        0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
        0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
        0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
        0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
        0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
        0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT",
        0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1",
        0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4",
        0x42: "BINBYTES", 0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8",
        0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX",
        0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER",
        0x98: "READONLY_BUFFER",
    ]
    let h = String(op, radix: 16, uppercase: true)
    let code = "0x" + (h.count < 2 ? "0" + h : h)
    let ch = (0x20..<0x7F).contains(op) ? " '\(Character(Unicode.Scalar(op)))'" : ""
    return "\(names[op] ?? "unknown") (\(code)\(ch))"
}
