// `sam2r profiles`: the built-in device profiles and whether this machine satisfies each.
import ArgumentParser
import SAM2RKernels
import SAM2RProfiles

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List device profiles (Profiles/*.json) and whether this machine satisfies each.")

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    func run() throws {
        let machine = MachineFacts.current()
        let matches = try ProfileCatalog.builtIn().map { ProfileCatalog.evaluate($0, on: machine) }
        let autoName = try? ProfileCatalog.auto(matches.map(\.profile), on: machine).name
        if json {
            let items = matches.map { m in
                "{\"name\":\"\(m.profile.name)\",\"satisfied\":\(m.satisfied),\"auto\":\(m.profile.name == autoName),"
                    + "\"variant\":\(m.chosenISA.map { "\"\($0)\"" } ?? "null"),\"threads\":\(m.profile.threads),"
                    + "\"arena_budget_bytes\":\(m.profile.arenaBudgetBytes),\"input_size\":\(m.profile.inputSize),"
                    + "\"precision\":\"\(m.profile.precision)\"}"
            }
            print("[\n  " + items.joined(separator: ",\n  ") + "\n]")
            return
        }
        print("| profile | this machine | variant | threads | arena budget | input | precision |")
        print("|---|---|---|---|---|---|---|")
        for m in matches {
            let status = m.satisfied ? (m.profile.name == autoName ? "yes (auto)" : "yes") : "no: " + m.unmetReason!
            print("| \(m.profile.name) | \(status) | \(m.chosenISA ?? "-") | \(m.profile.threads) | "
                  + "\(m.profile.arenaBudgetBytes / (1 << 20)) MiB | \(m.profile.inputSize)² | \(m.profile.precision) |")
        }
    }
}

extension MachineFacts {
    /// This machine, as the kernel dispatcher sees it.
    static func current() -> MachineFacts {
        let report = CPUReport.current()
        return MachineFacts(arch: report.arch, supportedISA: report.supported.map(CPUReport.name),
                            features: report.features, core: ProfileCatalog.detectCore())
    }
}
