// A one-line error: the CLI prints "error: <message>" and exits non-zero.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
