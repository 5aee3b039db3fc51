// `sam2r bench …`: benchmarks. Speed goals are checked here, never by timed unit tests.
import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks.",
        subcommands: [BenchModelCommand.self, BenchKernelsCommand.self],
        defaultSubcommand: BenchModelCommand.self
    )
}
