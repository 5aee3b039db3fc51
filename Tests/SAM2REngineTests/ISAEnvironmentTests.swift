// ISAEnvironmentTests.swift — SAM2R_ISA naming an unknown or unsupported variant surfaces as a
// thrown EngineError.isaEnvironment (and the kernels keep running the best variant).
// SAM2R_ISA is read once per process, so the check runs in a child copy of this test binary.

import Foundation
import XCTest
@testable import SAM2REngine

final class ISAEnvironmentTests: XCTestCase {
    /// In the child (SAM2R_ISA_ENV_PROBE set): the environment must be rejected.
    func testEnvironmentProbe() throws {
        guard ProcessInfo.processInfo.environment["SAM2R_ISA_ENV_PROBE"] != nil else { return }
        XCTAssertNotNil(ISA.environmentError)
        XCTAssertThrowsEngineError({ try ISA.validateEnvironment() },
                                   where: { if case .isaEnvironment = $0 { return true } else { return false } })
        XCTAssertEqual(ISA.active, ISA.best)
    }

    func testBadEnvironmentIsAThrownError() throws {
        guard ProcessInfo.processInfo.environment["SAM2R_ISA_ENV_PROBE"] == nil else { return }
        let unsupported = ISA.allCases.first { !$0.isSupported }?.name
        for value in ["bogus"] + (unsupported.map { [$0] } ?? []) {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["SAM2REngineTests.ISAEnvironmentTests/testEnvironmentProbe"]
            var env = ProcessInfo.processInfo.environment
            env["SAM2R_ISA"] = value
            env["SAM2R_ISA_ENV_PROBE"] = "1"
            child.environment = env
            let out = Pipe()
            child.standardOutput = out
            child.standardError = out
            try child.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationStatus, 0, "SAM2R_ISA=\(value) probe failed:\n\(text)")
            XCTAssertTrue(text.contains("Executed 1 test"), "probe did not run:\n\(text)")
        }
    }
}
