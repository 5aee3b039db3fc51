// Errors of profile loading and selection: one line each, naming the file or profile.
public enum ProfileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(path: String, problem: String)
    case unknownProfile(name: String, known: [String])
    case noProfileDirectory(searched: [String])
    case noMatchingProfile(arch: String, features: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .invalid(let path, let problem): return "\(path): \(problem)"
        case .unknownProfile(let name, let known):
            return "no profile named '\(name)' (known: \(known.joined(separator: ", ")); or pass a path to a .json)"
        case .noProfileDirectory(let searched):
            return "no Profiles directory found (searched \(searched.joined(separator: ", ")); set SAM2R_PROFILES"
        case .noMatchingProfile(let arch, let features):
            return "no built-in profile is satisfied by this machine (\(arch): \(features))"
        }
    }
}
