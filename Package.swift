// swift-tools-version:6.1
import PackageDescription

// Kernels are compiled without floating-point contraction so that every ISA variant
// rounds exactly like its scalar reference (see Kernels/include/sam2r_requant.h).
let kernelCFlags: [CSetting] = [.unsafeFlags(["-ffp-contract=off", "-O3"])]

let package = Package(
    name: "sam2r",
    products: [
        .executable(name: "sam2r", targets: ["sam2r"]),
        .library(name: "SAM2REngine", targets: ["SAM2REngine"]),
        // LD_PRELOAD heap-allocation counter for `sam2r bench` (never linked into sam2r).
        .library(name: "sam2r-alloccount", type: .dynamic, targets: ["SAM2RAllocCount"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
    ],
    targets: [
        // C kernels: scalar references, x86 and ARM variants, run-time dispatch, thread pool.
        .target(
            name: "SAM2RKernels",
            path: "Kernels",
            exclude: ["README.md"],
            publicHeadersPath: "include",
            cSettings: kernelCFlags,
            linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m")]
        ),
        // malloc/calloc/realloc/free/... wrappers with counters (Sources/SAM2RAllocCount); preloaded by `sam2r bench`.
        .target(
            name: "SAM2RAllocCount",
            path: "Sources/SAM2RAllocCount",
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("dl")]
        ),
        // Engine: tensors, arena planner, kernel wrappers with validation, thread pool handle.
        // Standard library + Glibc only (no Foundation): it is the inference path.
        .target(
            name: "SAM2REngine",
            dependencies: ["SAM2RKernels"],
            path: "Sources/SAM2REngine",
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "sam2r",
            dependencies: [
                "SAM2REngine",
                "SAM2RKernels",
                "SAM2RProfiles",
                "SAM2RModel",
                "SAM2RHost",
                "SAM2RCheckpoint",
                "SAM2RImageIO",
                "SAM2RQuant",
                "SAM2RModelFile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/sam2r"
        ),
        .testTarget(
            name: "SAM2REngineTests",
            dependencies: [
                "SAM2REngine",
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Tests/SAM2REngineTests"
        ),
        // Device profiles (Profiles/*.json): schema, validation, `auto` selection. Host side (Foundation).
        .target(
            name: "SAM2RProfiles",
            path: "Sources/SAM2RProfiles"
        ),
        .testTarget(
            name: "SAM2RProfilesTests",
            dependencies: ["SAM2RProfiles"],
            path: "Tests/SAM2RProfilesTests"
        ),
        // Checkpoint readers (host side, Foundation allowed): zip + restricted unpickler, safetensors, .npy.
        .target(
            name: "SAM2RCheckpoint",
            path: "Sources/SAM2RCheckpoint"
        ),
        // libpng/libjpeg shim: setjmp/longjmp errors become return codes + message.
        .target(
            name: "CImageIO",
            path: "Sources/CImageIO",
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]
        ),
        // Image decode (PNG/JPEG → RGB8) and atomic PNG writes.
        .target(
            name: "SAM2RImageIO",
            dependencies: ["CImageIO"],
            path: "Sources/SAM2RImageIO"
        ),
        .testTarget(
            name: "SAM2RCheckpointTests",
            dependencies: ["SAM2RCheckpoint"],
            path: "Tests/SAM2RCheckpointTests"
        ),
        // SAM2.1 image path (fp32): config, weights, planned arena, encoder, prompt encoder, decoder,
        // predictor. Standard library + Glibc + engine + kernels only (no Foundation).
        .target(
            name: "SAM2RModel",
            dependencies: ["SAM2REngine", "SAM2RKernels"],
            path: "Sources/SAM2RModel",
            exclude: ["README.md"]
        ),
        // The int8 model file (.sam2q, docs/model-file.md): writer, validating mmap reader, weight source.
        // Standard library + Glibc + engine + model only (no Foundation): `sam2r run` loads it.
        .target(
            name: "SAM2RModelFile",
            dependencies: ["SAM2REngine", "SAM2RKernels", "SAM2RModel"],
            path: "Sources/SAM2RModelFile"
        ),
        .testTarget(
            name: "SAM2RModelFileTests",
            dependencies: ["SAM2RModelFile", "SAM2RModel", "SAM2REngine", "SAM2RHost", "SAM2RCheckpoint", "SAM2RQuant",
                           "SAM2RImageIO", "SAM2RKernels"],
            path: "Tests/SAM2RModelFileTests"
        ),
        // Host side of the model: JSON configs, checkpoint -> WeightSource, expected keys.
        .target(
            name: "SAM2RHost",
            dependencies: ["SAM2RModel", "SAM2RCheckpoint"],
            path: "Sources/SAM2RHost"
        ),
        .testTarget(
            name: "SAM2RModelTests",
            dependencies: ["SAM2RModel", "SAM2RHost", "SAM2RCheckpoint", "SAM2RImageIO", "SAM2RKernels"],
            path: "Tests/SAM2RModelTests"
        ),
        // Other input sizes vs Meta (Tests/Goldens/micro-sizes; tiny at 512 opt-in with SAM2R_TINY512=1).
        .testTarget(
            name: "SAM2RSizeTests",
            dependencies: ["SAM2RModel", "SAM2RHost", "SAM2RCheckpoint", "SAM2RImageIO"],
            path: "Tests/SAM2RSizeTests"
        ),
        .testTarget(
            name: "SAM2RImageIOTests",
            dependencies: ["SAM2RImageIO"],
            path: "Tests/SAM2RImageIOTests"
        ),
        // Calibration (host side, Foundation allowed): streaming histograms, calibrators, the quantization table.
        .target(
            name: "SAM2RQuant",
            dependencies: ["SAM2RModel", "SAM2RCheckpoint"],
            path: "Sources/SAM2RQuant"
        ),
        .testTarget(
            name: "SAM2RQuantTests",
            dependencies: ["SAM2RQuant", "SAM2RModel", "SAM2RHost", "SAM2RCheckpoint", "SAM2RImageIO"],
            path: "Tests/SAM2RQuantTests"
        ),
        // Malformed-input corpus (Tests/Malformed): every reader fails with its one-line typed error.
        .testTarget(
            name: "SAM2RMalformedTests",
            dependencies: ["SAM2RCheckpoint", "SAM2RImageIO", "SAM2RProfiles", "SAM2RQuant", "SAM2RHost", "SAM2RModel",
                           "SAM2RModelFile"],
            path: "Tests/SAM2RMalformedTests"
        ),
    ]
)
