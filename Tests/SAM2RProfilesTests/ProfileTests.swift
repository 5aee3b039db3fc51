import Foundation
import XCTest
@testable import SAM2RProfiles

final class ProfileTests: XCTestCase {
    static let repoProfiles = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Profiles").path

    func builtIn() throws -> [DeviceProfile] { try ProfileCatalog.builtIn(directory: Self.repoProfiles) }

    func testEveryBuiltInProfileIsValidAndNamedLikeItsFile() throws {
        let profiles = try builtIn()
        XCTAssertEqual(Set(profiles.map(\.name)), ["raspberry-pi-4", "raspberry-pi-5", "rk3588", "jetson-orin",
                                                   "neoverse-n2", "x86-avx2", "x86-avx512vnni"])
        for p in profiles {
            XCTAssertNil(p.firstProblem(), p.name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.repoProfiles + "/\(p.name).json"))
            XCTAssertTrue([512, 1024].contains(p.inputSize), p.name)
        }
    }

    func testRaspberryPi4NeverAsksForDotProduct() throws {
        let pi4 = try builtIn().first { $0.name == "raspberry-pi-4" }!
        XCTAssertFalse(pi4.requiredISA.contains("dotprod") || pi4.preferredISA.contains("dotprod"))
        XCTAssertFalse(pi4.requiredISA.contains("i8mm") || pi4.preferredISA.contains("i8mm"))
    }

    func facts(_ arch: String, _ isa: [String], core: String? = nil) -> MachineFacts {
        MachineFacts(arch: arch, supportedISA: ["scalar"] + isa, features: isa.joined(separator: " "), core: core)
    }

    func testAutoPicksTheBoardFromDetectedFeatures() throws {
        let all = try builtIn()
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("aarch64", ["neon"], core: "cortex-a72")).name, "raspberry-pi-4")
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("aarch64", ["neon", "dotprod"], core: "cortex-a76")).name, "raspberry-pi-5")
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("aarch64", ["neon", "dotprod"], core: "cortex-a78")).name, "jetson-orin")
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("aarch64", ["neon", "dotprod", "i8mm"], core: "neoverse-n2")).name, "neoverse-n2")
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("x86_64", ["avx2", "avx512vnni"])).name, "x86-avx512vnni")
        XCTAssertEqual(try ProfileCatalog.auto(all, on: facts("x86_64", ["avx2"])).name, "x86-avx2")
        XCTAssertThrowsError(try ProfileCatalog.auto(all, on: facts("x86_64", []))) { error in
            XCTAssertTrue("\(error)".contains("no built-in profile"))
        }
    }

    func testEvaluateExplainsWhyAProfileIsUnmet() throws {
        let pi5 = try builtIn().first { $0.name == "raspberry-pi-5" }!
        XCTAssertEqual(ProfileCatalog.evaluate(pi5, on: facts("x86_64", ["avx2"])).unmetReason, "needs aarch64, this is x86_64")
        XCTAssertEqual(ProfileCatalog.evaluate(pi5, on: facts("aarch64", ["neon"])).unmetReason, "missing dotprod")
        let ok = ProfileCatalog.evaluate(pi5, on: facts("aarch64", ["neon", "dotprod", "i8mm"]))
        XCTAssertTrue(ok.satisfied)
        XCTAssertEqual(ok.chosenISA, "dotprod")
    }

    func writeTemp(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "sam2r-profile-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testInvalidProfilesNameTheField() throws {
        let base = try String(contentsOfFile: Self.repoProfiles + "/raspberry-pi-5.json", encoding: .utf8)
        let cases: [(String, String)] = [
            (base.replacingOccurrences(of: "\"input_size\": 1024", with: "\"input_size\": 1000"), "input_size"),
            (base.replacingOccurrences(of: "\"threads\": 4", with: "\"threads\": 0"), "threads"),
            (base.replacingOccurrences(of: "\"dotprod\"]", with: "\"sve9\"]"), "unknown variant 'sve9'"),
            (base.replacingOccurrences(of: "\"precision\": \"int8\"", with: "\"precision\": \"int4\""), "precision"),
            (base.replacingOccurrences(of: "\"arena_budget_bytes\": 805306368,", with: ""), "missing field 'arena_budget_bytes'"),
            (base.replacingOccurrences(of: "\"threads\": 4", with: "\"threads\": \"four\""), "wrong type for 'threads'"),
            ("{ not json", "not valid profile JSON"),
        ]
        for (json, expected) in cases {
            let path = try writeTemp(json)
            defer { try? FileManager.default.removeItem(atPath: path) }
            XCTAssertThrowsError(try ProfileCatalog.load(path: path)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)")
                XCTAssertTrue("\(error)".hasPrefix(path), "\(error) should name the file")
            }
        }
        XCTAssertThrowsError(try ProfileCatalog.load(path: "/nonexistent/profile.json")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/profile.json: cannot read file")
        }
    }

    func testFloatOpPatterns() {
        var p = DeviceProfile(schema: 1, name: "t", description: "", arch: "x86_64", core: "", requiredISA: [],
                              preferredISA: ["avx2"], threads: 1, arenaBudgetBytes: 1, inputSize: 512,
                              precision: "int8", floatOps: ["decoder.*.out_proj", "iou_head"])
        XCTAssertTrue(p.keepsInFloat("decoder.layers.0.out_proj"))
        XCTAssertTrue(p.keepsInFloat("iou_head"))
        XCTAssertFalse(p.keepsInFloat("decoder.layers.0.q_proj"))
        p.floatOps = []
        XCTAssertFalse(p.keepsInFloat("iou_head"))
    }

    func testGlobMatchingIsNotExponential() {
        let pattern = String(repeating: "*a", count: 12) + "*b"
        let text = String(repeating: "a", count: 4000)
        XCTAssertFalse(globMatch(pattern: Substring(pattern), text: Substring(text)))
        XCTAssertTrue(globMatch(pattern: Substring(pattern), text: Substring(text + "b")))
        // (A recursive matcher would not finish these two calls in the age of the universe.)
        XCTAssertTrue(globMatch(pattern: "a*b*c", text: "axxbyyc"))
        XCTAssertFalse(globMatch(pattern: "a*b*c", text: "axxbyy"))
        XCTAssertTrue(globMatch(pattern: "*", text: ""))
        XCTAssertFalse(globMatch(pattern: "", text: "x"))
    }

    func testDetectCoreTakesTheBigCoreOfBigLittle() {
        let rk3588 = (0..<4).map { _ in "CPU part\t: 0xd05" } + (0..<4).map { _ in "CPU part\t: 0xd0b" }
        XCTAssertEqual(ProfileCatalog.detectCore(cpuinfo: rk3588.joined(separator: "\n")), "cortex-a76")
        XCTAssertEqual(ProfileCatalog.detectCore(cpuinfo: "CPU part\t: 0xd08\n"), "cortex-a72")
        XCTAssertNil(ProfileCatalog.detectCore(cpuinfo: "model name\t: Intel(R) Xeon(R)\n"))
    }
}
