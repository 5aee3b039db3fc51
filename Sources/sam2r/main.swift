// sam2r — one command-line tool: run, calibrate, quantize, eval, bench, inspect, profiles, cpu.
import ArgumentParser

struct SAM2R: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sam2r",
        abstract: "Int8 SAM2 / SAM2Refiner segmentation for ARM boards and x86, in one fixed memory arena.",
        subcommands: [CPUCommand.self, BenchCommand.self, ProfilesCommand.self]
    )
}

SAM2R.main()
