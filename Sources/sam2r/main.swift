// sam2r — one command-line tool: run, calibrate, quantize, eval, bench, inspect, profiles, cpu.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct SAM2R: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sam2r",
        abstract: "Int8 SAM2 / SAM2Refiner segmentation for ARM boards and x86, in one fixed memory arena.",
        subcommands: [RunCommand.self, CPUCommand.self, BenchCommand.self, ProfilesCommand.self]
    )
}

// Usage errors, help and --version go through ArgumentParser; every failure while running is one
// line "error: <what>" on stderr and exit status 1 (the errors of sam2r's modules describe themselves
// as "<file>: <what>" where a file is involved).
let command: ParsableCommand
do {
    command = try SAM2R.parseAsRoot()
} catch {
    SAM2R.exit(withError: error)
}
do {
    var runnable = command
    try runnable.run()
} catch let error as ValidationError {
    SAM2R.exit(withError: error)
} catch {
    printErr("error: \(error)")
    exit(1)
}
