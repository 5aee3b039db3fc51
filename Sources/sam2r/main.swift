// sam2r — one command-line tool: run, calibrate, quantize, eval, bench, inspect, profiles, cpu.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct SAM2R: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sam2r",
        abstract: "Int8 SAM2 / SAM2Refiner segmentation for ARM boards and x86, in one fixed memory arena.",
        subcommands: [RunCommand.self, CalibrateCommand.self, QuantizeCommand.self, InspectCommand.self, EvalCommand.self,
                      CPUCommand.self, BenchCommand.self, ProfilesCommand.self]
    )
}

// Help and --version print through ArgumentParser. Every error — a usage mistake or a failure while
// running — is one line "error: <what>" on stderr (errors of sam2r's modules describe themselves as
// "<file>: <what>" where a file is involved) and a non-zero exit: 64 for usage, 1 otherwise.
/// Errors quote file contents (tensor names, zip entry names, profile strings): control characters are
/// escaped so that an error is always exactly one line and a file cannot forge further output lines.
func oneLine(_ message: String) -> String {
    var out = ""
    for c in message.unicodeScalars {
        switch c {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if c.value < 0x20 || c.value == 0x7F || (0x80..<0xA0).contains(c.value) || c.value == 0x2028 || c.value == 0x2029 {
                out += "\\u{" + String(c.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out
}

func fail(_ error: Error) -> Never {
    let code = SAM2R.exitCode(for: error)
    // Help and version requests carry no message of their own: ArgumentParser prints them.
    guard code != .success, let message = SAM2R.message(for: error).split(separator: "\n").first.map(String.init) else {
        SAM2R.exit(withError: error)
    }
    printErr("error: " + oneLine(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message))
    exit(code.rawValue)
}

let command: ParsableCommand
do {
    command = try SAM2R.parseAsRoot()
} catch {
    fail(error)
}
do {
    var runnable = command
    try runnable.run()
} catch let error as ValidationError {
    fail(error)
} catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
    fail(error)  // e.g. --help, which parses into a command whose run() throws the help request
} catch {
    printErr("error: " + oneLine("\(error)"))
    exit(1)
}
