// swift-tools-version:6.1
// libFuzzer targets for sam2r's readers. A separate package so that the main manifest and its
// normal `swift build` / `swift test` never see them: Sources/SAM2RCheckpoint, SAM2RProfiles,
// SAM2RQuant, SAM2RHost, SAM2RModelFile (and what they need: SAM2RModel, SAM2REngine, the C kernels) are symlinks to the real sources (compiled here with the fuzzer's
// coverage instrumentation). Only builds with `-sanitize=fuzzer` (libFuzzer provides main):
//
//   swift build --package-path Fuzz --scratch-path .build-fuzz -c debug \
//       -Xswiftc -sanitize=fuzzer,address --product FuzzTorch
//
// (`make fuzz-build` / `make fuzz`, mk/hardening.mk). Debug builds keep the standard library's
// bounds checks on unsafe buffers and allow `@testable import`.
import PackageDescription

let fuzzFlags: [SwiftSetting] = []

func fuzzer(_ name: String, _ deps: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: deps + ["FuzzSupport"], path: "Sources/\(name)", swiftSettings: fuzzFlags)
}

let package = Package(
    name: "sam2r-fuzz",
    products: [
        .executable(name: "FuzzUnpickler", targets: ["FuzzUnpickler"]),
        .executable(name: "FuzzZip", targets: ["FuzzZip"]),
        .executable(name: "FuzzTorch", targets: ["FuzzTorch"]),
        .executable(name: "FuzzSafeTensors", targets: ["FuzzSafeTensors"]),
        .executable(name: "FuzzNPY", targets: ["FuzzNPY"]),
        .executable(name: "FuzzProfile", targets: ["FuzzProfile"]),
        .executable(name: "FuzzTable", targets: ["FuzzTable"]),
        .executable(name: "FuzzPrompts", targets: ["FuzzPrompts"]),
        .executable(name: "FuzzModelFile", targets: ["FuzzModelFile"]),
    ],
    targets: [
        .target(name: "SAM2RCheckpoint", path: "Sources/SAM2RCheckpoint"),
        .target(name: "SAM2RProfiles", path: "Sources/SAM2RProfiles"),
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        // The table and model-file readers' dependencies, with the main manifest's settings (same sources).
        .target(name: "SAM2RKernels", path: "Sources/SAM2RKernels", exclude: ["README.md"], publicHeadersPath: "include",
                cSettings: [.unsafeFlags(["-ffp-contract=off", "-O3"])],
                linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m")]),
        .target(name: "SAM2REngine", dependencies: ["SAM2RKernels"], path: "Sources/SAM2REngine", exclude: ["README.md"]),
        .target(name: "SAM2RModel", dependencies: ["SAM2REngine", "SAM2RKernels"], path: "Sources/SAM2RModel",
                exclude: ["README.md"]),
        .target(name: "SAM2RHost", dependencies: ["SAM2RModel", "SAM2RCheckpoint"], path: "Sources/SAM2RHost"),
        .target(name: "SAM2RQuant", dependencies: ["SAM2RModel", "SAM2RCheckpoint"], path: "Sources/SAM2RQuant"),
        .target(name: "SAM2RModelFile", dependencies: ["SAM2REngine", "SAM2RKernels", "SAM2RModel"],
                path: "Sources/SAM2RModelFile"),
        fuzzer("FuzzUnpickler", ["SAM2RCheckpoint"]),
        fuzzer("FuzzZip", ["SAM2RCheckpoint"]),
        fuzzer("FuzzTorch", ["SAM2RCheckpoint"]),
        fuzzer("FuzzSafeTensors", ["SAM2RCheckpoint"]),
        fuzzer("FuzzNPY", ["SAM2RCheckpoint"]),
        fuzzer("FuzzProfile", ["SAM2RProfiles"]),
        fuzzer("FuzzTable", ["SAM2RQuant", "SAM2RHost", "SAM2RModel"]),
        fuzzer("FuzzPrompts", ["SAM2RQuant"]),
        fuzzer("FuzzModelFile", ["SAM2RModelFile", "SAM2REngine"]),
    ]
)
