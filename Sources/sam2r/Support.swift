// Small host-side helpers shared by the commands: aligned scratch buffers, timing, formatting, RNG.
#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte aligned heap buffer for host-side tools (benchmarks); freed on deinit.
final class AlignedBuffer<T> {
    let pointer: UnsafeMutablePointer<T>
    let count: Int

    init(count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(1, count) * MemoryLayout<T>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { fatalError("out of memory (\(bytes) bytes)") }
        memset(raw, 0, bytes)
        pointer = raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    deinit { free(pointer) }

    subscript(i: Int) -> T {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Fixed-point decimal formatting without Foundation.
func fmt(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = (abs(x) * scale).rounded()
    let whole = Int(v / scale)
    let frac = Int(v - Double(whole) * scale)
    var fracStr = String(frac)
    while fracStr.count < digits { fracStr = "0" + fracStr }
    return (x < 0 && v > 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fracStr : "")
}

func printErr(_ s: String) {
    let line = s + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// splitmix64: deterministic test data for benchmarks.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnitFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

func onlineCPUs() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if c.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16) }
            else { out.unicodeScalars.append(c) }
        }
    }
    return out + "\""
}
