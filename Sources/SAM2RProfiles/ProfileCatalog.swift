// Finding, loading and choosing profiles: the built-in set lives in the repository's Profiles/.
import Foundation

/// What a profile is checked against: the architecture, the kernel variants the dispatcher reports as
/// supported, and (on aarch64) the core found in /proc/cpuinfo.
public struct MachineFacts: Sendable, Equatable {
    public var arch: String
    public var supportedISA: [String]
    public var features: String
    public var core: String?

    public init(arch: String, supportedISA: [String], features: String, core: String?) {
        self.arch = arch
        self.supportedISA = supportedISA
        self.features = features
        self.core = core
    }
}

public struct ProfileMatch: Sendable {
    public let profile: DeviceProfile
    /// nil when the machine satisfies the profile, else why not.
    public let unmetReason: String?
    public var satisfied: Bool { unmetReason == nil }
    /// The variant this machine would run for the profile (first supported of preferred_isa).
    public let chosenISA: String?
}

public enum ProfileCatalog {
    /// Where built-in profiles are looked for, first hit wins: $SAM2R_PROFILES, ./Profiles, then
    /// the repository layout next to the executable (.build/<config>/sam2r → ../../Profiles) and an
    /// installed layout (bin/sam2r → ../share/sam2r/Profiles).
    public static func searchPaths() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["SAM2R_PROFILES"], !env.isEmpty { paths.append(env) }
        paths.append(FileManager.default.currentDirectoryPath + "/Profiles")
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let dir = exe.deletingLastPathComponent()
        paths.append(dir.appendingPathComponent("../../Profiles").standardizedFileURL.path)
        paths.append(dir.appendingPathComponent("../../../Profiles").standardizedFileURL.path)
        paths.append(dir.appendingPathComponent("../share/sam2r/Profiles").standardizedFileURL.path)
        return paths
    }

    public static func directory() throws -> String {
        let paths = searchPaths()
        for p in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue { return p }
        }
        throw ProfileError.noProfileDirectory(searched: paths)
    }

    public static func load(path: String) throws -> DeviceProfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProfileError.unreadable(path: path, reason: "cannot read file")
        }
        guard data.count <= 1 << 20 else { throw ProfileError.invalid(path: path, problem: "larger than 1 MiB") }
        let profile: DeviceProfile
        do {
            profile = try JSONDecoder().decode(DeviceProfile.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ProfileError.invalid(path: path, problem: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ProfileError.invalid(path: path, problem: "wrong type for '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw ProfileError.invalid(path: path, problem: "not valid profile JSON")
        }
        if let problem = profile.firstProblem() { throw ProfileError.invalid(path: path, problem: problem) }
        return profile
    }

    /// Every *.json in the built-in directory, sorted by name.
    public static func builtIn(directory dir: String? = nil) throws -> [DeviceProfile] {
        let root = try dir ?? directory()
        let files = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { try load(path: root + "/" + $0) }
    }

    public static func evaluate(_ p: DeviceProfile, on m: MachineFacts) -> ProfileMatch {
        let chosen = p.preferredISA.first { m.supportedISA.contains($0) }
        if p.arch != m.arch {
            return ProfileMatch(profile: p, unmetReason: "needs \(p.arch), this is \(m.arch)", chosenISA: nil)
        }
        let missing = p.requiredISA.filter { !m.supportedISA.contains($0) }
        if !missing.isEmpty {
            return ProfileMatch(profile: p, unmetReason: "missing \(missing.joined(separator: ", "))", chosenISA: nil)
        }
        guard let chosen else {
            return ProfileMatch(profile: p, unmetReason: "supports none of \(p.preferredISA.joined(separator: ", "))", chosenISA: nil)
        }
        return ProfileMatch(profile: p, unmetReason: nil, chosenISA: chosen)
    }

    /// `--profile auto`: among satisfied profiles, prefer the one whose core matches this CPU, then the one
    /// whose chosen variant ranks highest (i8mm > dotprod > neon, avx512vnni > avxvnni > avx2), then the
    /// most demanding (more required variants), then the name.
    public static func auto(_ profiles: [DeviceProfile], on m: MachineFacts) throws -> DeviceProfile {
        let rank = ["scalar": 0, "avx2": 1, "avxvnni": 2, "avx512vnni": 3, "neon": 1, "dotprod": 2, "i8mm": 3]
        let candidates = profiles.map { evaluate($0, on: m) }.filter(\.satisfied)
        let best = candidates.max { a, b in
            let ka = (a.profile.core == m.core ? 1 : 0, rank[a.chosenISA ?? ""] ?? 0, a.profile.requiredISA.count)
            let kb = (b.profile.core == m.core ? 1 : 0, rank[b.chosenISA ?? ""] ?? 0, b.profile.requiredISA.count)
            if ka != kb { return ka < kb }
            return a.profile.name > b.profile.name
        }
        guard let best else { throw ProfileError.noMatchingProfile(arch: m.arch, features: m.features) }
        return best.profile
    }

    /// `--profile NAME|PATH|auto`.
    public static func resolve(_ spec: String, on m: MachineFacts) throws -> DeviceProfile {
        if spec == "auto" { return try auto(builtIn(), on: m) }
        if spec.hasSuffix(".json") || spec.contains("/") { return try load(path: spec) }
        let all = try builtIn()
        guard let p = all.first(where: { $0.name == spec }) else {
            throw ProfileError.unknownProfile(name: spec, known: all.map(\.name))
        }
        return p
    }

    /// The aarch64 core from /proc/cpuinfo's "CPU part" (MIDR part number), nil elsewhere or if unknown.
    public static func detectCore(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuinfo else { return nil }
        let parts = ["0xd08": "cortex-a72", "0xd0b": "cortex-a76", "0xd41": "cortex-a78", "0xd42": "cortex-a78",
                     "0xd0c": "neoverse-n1", "0xd49": "neoverse-n2", "0xd40": "neoverse-v1", "0xd4f": "neoverse-v2",
                     "0xd05": "cortex-a55", "0xd03": "cortex-a53"]
        // Big cores report last on big.LITTLE parts (RK3588: A55 ×4 then A76 ×4): take the fastest known part.
        var found: [String] = []
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("CPU part") {
            if let v = line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces), let core = parts[v] {
                found.append(core)
            }
        }
        let preference = ["neoverse-v2", "neoverse-n2", "neoverse-v1", "cortex-a78", "cortex-a76", "neoverse-n1",
                          "cortex-a72", "cortex-a55", "cortex-a53"]
        return preference.first { found.contains($0) }
    }
}
