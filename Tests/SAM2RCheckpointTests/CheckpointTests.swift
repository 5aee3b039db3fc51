// CheckpointTests.swift — torch.save and safetensors fixtures (tools/fixtures/make_reader_fixtures.py)
// read back and compared with the values the script recorded in expected.json; hostile and
// corrupt files must fail with the matching typed error.

import Foundation
import XCTest
@testable import SAM2RCheckpoint

let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/checkpoints").path

func fixture(_ name: String) -> String { fixtureDir + "/" + name }

struct Expected: Decodable {
    let shape: [Int]
    let dtype: String
    let count: Int
    let sum: Double
    let first: [Double]
}

let expectedValues: [String: [String: Expected]] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixture("expected.json")))
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return try! decoder.decode([String: [String: Expected]].self, from: data)
}()

func reason(of body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError.Reason? {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch let e as CheckpointError {
        return e.reason
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
        return nil
    }
}

final class CheckpointTests: XCTestCase {
    func checkAgainstExpected(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ck = try Checkpoint(path: fixture(name))
        let exp = try XCTUnwrap(expectedValues[name], file: file, line: line)
        XCTAssertEqual(Set(ck.names), Set(exp.keys), file: file, line: line)
        for (tname, e) in exp {
            let info = try XCTUnwrap(ck[tname], file: file, line: line)
            XCTAssertEqual(info.shape, e.shape, tname, file: file, line: line)
            XCTAssertEqual(info.count, e.count, tname, file: file, line: line)
            let v = try ck.floats(tname)
            XCTAssertEqual(v.count, e.count, tname, file: file, line: line)
            for (a, b) in zip(v, e.first) {
                if b.isNaN { XCTAssertTrue(a.isNaN, tname, file: file, line: line); continue }
                XCTAssertEqual(a, Float(b), "\(tname) first values", file: file, line: line)  // exact
            }
            let sum = v.reduce(0.0) { $0 + Double($1) }
            if !e.sum.isFinite { XCTAssertEqual(sum, e.sum, tname, file: file, line: line); continue }
            XCTAssertEqual(sum, e.sum, accuracy: 1e-9 * max(1, abs(e.sum)) + 1e-12, "\(tname) sum", file: file, line: line)
        }
    }

    func testBareStateDict() throws {
        try checkAgainstExpected("bare.pt")
        let ck = try Checkpoint(path: fixture("bare.pt"))
        XCTAssertEqual(ck.format, .torchZip)
        XCTAssertEqual(ck.names.first, "0.weight")  // file order kept
        XCTAssertEqual(ck["0.weight"]?.dtype, .float32)
        XCTAssertEqual(ck["1.num_batches_tracked"]?.dtype, .int64)
        XCTAssertEqual(ck["1.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(try ck.int64s("1.num_batches_tracked"), [7])
        try ck.verifyChecksums()
    }

    func testModelWrappedStateDict() throws {
        try checkAgainstExpected("model.pt")
        let a = try Checkpoint(path: fixture("model.pt")), b = try Checkpoint(path: fixture("bare.pt"))
        XCTAssertEqual(a.names, b.names)
        for n in a.names { XCTAssertEqual(try a.floats(n), try b.floats(n)) }
    }

    func testHalfAndBFloat16() throws {
        try checkAgainstExpected("fp16.pt")
        let ck = try Checkpoint(path: fixture("fp16.pt"))
        XCTAssertEqual(ck["h"]?.dtype, .float16)
        XCTAssertEqual(ck["b"]?.dtype, .bfloat16)
        let s = try ck.floats("special")
        XCTAssertEqual(s[2], 65504)
        XCTAssertEqual(s[1].sign, .minus)
        XCTAssertEqual(s[5], .infinity)
        XCTAssertGreaterThan(s[4], 0)  // subnormal half survives
    }

    func testViewsWithOffsetsAndStrides() throws {
        try checkAgainstExpected("views.pt")
        let ck = try Checkpoint(path: fixture("views.pt"))
        let t = try XCTUnwrap(ck["transposed"])
        XCTAssertEqual(t.shape, [6, 4])
        XCTAssertEqual(t.strides, [1, 6])
        XCTAssertFalse(t.isContiguous)
        XCTAssertEqual(ck["strided"]?.storageOffset, 6)
        XCTAssertEqual(ck["scalar"]?.shape, [])
        XCTAssertEqual(try ck.floats("scalar"), [23 * 0.5 - 3])
        let base = try ck.floats("base")
        let tr = try ck.floats("transposed")
        for i in 0..<6 { for j in 0..<4 { XCTAssertEqual(tr[i * 4 + j], base[j * 6 + i]) } }
    }

    func testParameters() throws {
        try checkAgainstExpected("param.pt")
    }

    func testSafetensors() throws {
        try checkAgainstExpected("good.safetensors")
        let ck = try Checkpoint(path: fixture("good.safetensors"))
        XCTAssertEqual(ck.format, .safetensors)
        XCTAssertEqual(try ck.int64s("i64"), [1, -2, 3])
        XCTAssertEqual(ck["empty"]?.shape, [0, 3])
        XCTAssertEqual(try ck.floats("empty"), [])
    }

    func testReadIntoBufferChecksSize() throws {
        let ck = try Checkpoint(path: fixture("bare.pt"))
        var buf = [Float](repeating: 0, count: 11)
        let r = reason { try buf.withUnsafeMutableBufferPointer { try ck.readFloats("0.weight", into: $0) } }
        guard case .tensor(name: "0.weight", _)? = r else { return XCTFail("\(String(describing: r))") }
        XCTAssertEqual(reason { _ = try ck.floats("nope") }, .noSuchTensor("nope"))
        let r2 = reason { _ = try ck.int64s("0.weight") }
        guard case .tensor? = r2 else { return XCTFail("\(String(describing: r2))") }
    }

    func testValidateListsMissingUnexpectedAndMisshaped() throws {
        let ck = try Checkpoint(path: fixture("bare.pt"))
        var expected: [String: [Int]] = [:]
        for n in ck.names { expected[n] = ck[n]!.shape }
        XCTAssertNoThrow(try ck.validate(expected: expected))

        expected["0.weight"] = [4, 3]  // mis-shaped
        expected.removeValue(forKey: "0.bias")  // unexpected in the file
        expected["extra.weight"] = [1]  // missing from the file
        do {
            try ck.validate(expected: expected)
            XCTFail("expected a mismatch")
        } catch let e as CheckpointError {
            XCTAssertEqual(e.reason, .keyMismatch(
                missing: ["extra.weight"], unexpected: ["0.bias"],
                misshaped: [.init(name: "0.weight", expected: [4, 3], actual: [3, 4])]))
            XCTAssertTrue(e.description.hasPrefix(fixture("bare.pt") + ": "))
            XCTAssertTrue(e.description.contains("0.weight: expected [4, 3] got [3, 4]"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
    }

    // MARK: hostile and corrupt torch files

    func testMaliciousGlobalIsRefused() {
        let r = reason { _ = try Checkpoint(path: fixture("malicious.pt")) }
        XCTAssertEqual(r, .forbiddenGlobal(module: "os", name: "system"))
        let e = CheckpointError(path: "m.pt", r!)
        XCTAssertEqual(e.description, "m.pt: pickle references forbidden global 'os.system' (not executed)")
    }

    func testUnknownOpcodeIsNamed() {
        let r = reason { _ = try Checkpoint(path: fixture("unknown_opcode.pt")) }
        XCTAssertEqual(r, .unsupportedOpcode(opcode: 0x49, offset: 11))
        XCTAssertTrue(CheckpointError(path: "x", r!).description.contains("INT (0x49 'I')"))
    }

    func testNotAStateDict() {
        let r = reason { _ = try Checkpoint(path: fixture("not_state_dict.pt")) }
        guard case .layout? = r else { return XCTFail("\(String(describing: r))") }
    }

    func testCompressedEntryNamesMethod() {
        let r = reason { _ = try Checkpoint(path: fixture("compressed.pt")) }
        XCTAssertEqual(r, .compressedEntry(name: "archive/data.pkl", method: 8))
        XCTAssertTrue(CheckpointError(path: "x", r!).description.contains("deflate"))
    }

    func testTruncatedZip() {
        let r = reason { _ = try Checkpoint(path: fixture("truncated.pt")) }
        guard case .zip? = r else { return XCTFail("\(String(describing: r))") }
    }

    func testStorageTooShortForTensor() {
        let r = reason { _ = try Checkpoint(path: fixture("short_storage.pt")) }
        guard case .tensor(name: "t", _)? = r else { return XCTFail("\(String(describing: r))") }
    }

    func testEveryTruncationOfATorchFileFailsCleanly() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("views.pt")))
        let tmp = NSTemporaryDirectory() + "sam2r-trunc-\(getpid()).pt"
        defer { unlink(tmp) }
        for n in stride(from: 0, to: whole.count, by: 7) {
            try whole.prefix(n).write(to: URL(fileURLWithPath: tmp))
            XCTAssertThrowsError(try Checkpoint(path: tmp), "prefix \(n)")
        }
    }

    func testEveryByteFlipOfThePickleIsSafe() throws {
        // Corrupting any byte of data.pkl must throw or load, never crash or hang.
        var whole = try Data(contentsOf: URL(fileURLWithPath: fixture("param.pt")))
        let tmp = NSTemporaryDirectory() + "sam2r-flip-\(getpid()).pt"
        defer { unlink(tmp) }
        let zip = try ZipArchive(path: fixture("param.pt"))
        let pkl = try XCTUnwrap(zip.entries.first { $0.name.hasSuffix("data.pkl") })
        for i in pkl.dataOffset..<(pkl.dataOffset + pkl.compressedSize) {
            let orig = whole[i]
            whole[i] = orig ^ 0x5A
            try whole.write(to: URL(fileURLWithPath: tmp))
            // data.pkl has a CRC check, so parse the bytes directly too.
            if let ck = try? Checkpoint(path: tmp) { for n in ck.names { _ = try? ck.floats(n) } }
            whole.withUnsafeBytes { b in
                _ = try? Unpickler.load(UnsafeRawBufferPointer(rebasing: b[pkl.dataOffset..<(pkl.dataOffset + pkl.compressedSize)]), path: tmp)
            }
            whole[i] = orig
        }
    }

    func testEveryByteFlipOfTheZipIsSafe() throws {
        // Central directory, local headers, zip64 records, storages: any single corrupted byte must
        // throw or load, never crash; when it loads every tensor must still be readable.
        for name in ["views.pt", "good.safetensors"] {
            var whole = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
            let tmp = NSTemporaryDirectory() + "sam2r-zflip-\(getpid())-" + name
            defer { unlink(tmp) }
            for i in stride(from: 0, to: whole.count, by: 3) {  // every 3rd byte keeps it ~1 s in debug
                let orig = whole[i]
                whole[i] = orig ^ 0xFF
                try whole.write(to: URL(fileURLWithPath: tmp))
                if let ck = try? Checkpoint(path: tmp) { for n in ck.names { _ = try? ck.floats(n) } }
                whole[i] = orig
            }
        }
    }

    func testDeepNestingIsBounded() {
        // 10 000 nested TUPLE1s: must be refused, not overflow the stack.
        var p: [UInt8] = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 10_000) + [0x2E]
        let r = p.withUnsafeMutableBytes { b in reason { _ = try Unpickler.load(UnsafeRawBufferPointer(b), path: "deep") } }
        guard case .pickle(let s)? = r else { return XCTFail("\(String(describing: r))") }
        XCTAssertTrue(s.contains("nesting"), s)
    }

    func testStackGlobalAllowlist() throws {
        // Protocol 4: SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL.
        let p: [UInt8] = [0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E]
        let r = p.withUnsafeBytes { b in reason { _ = try Unpickler.load(b, path: "sg") } }
        XCTAssertEqual(r, .forbiddenGlobal(module: "builtins", name: "eval"))
    }

    // MARK: corrupt safetensors

    func testCorruptSafetensors() {
        let cases = [
            "st_header_too_long": "header length", "st_overlap": "overlaps", "st_out_of_range": "outside",
            "st_bad_dtype": "unsupported dtype", "st_bad_shape": "needs", "st_truncated": "outside",
            "st_bad_json": "not valid safetensors JSON",
        ]
        for (name, words) in cases {
            let r = reason { _ = try Checkpoint(path: fixture(name + ".safetensors")) }
            switch r {
            case .safetensors?, .tensor?:
                let text = CheckpointError(path: name, r!).description
                XCTAssertTrue(text.contains(words), "\(name): \(text)")
            default: XCTFail("\(name): \(String(describing: r))")
            }
        }
        let r = reason { _ = try Checkpoint(path: fixture("st_bad_dtype.safetensors")) }
        guard case .tensor(name: "f32", let s)? = r, s.contains("F8_E4M3") else { return XCTFail("\(String(describing: r))") }
    }

    func testMissingFileAndUnknownFormat() {
        let r = reason { _ = try Checkpoint(path: fixture("does-not-exist.pt")) }
        guard case .io? = r else { return XCTFail("\(String(describing: r))") }
        let r2 = reason { _ = try Checkpoint(path: fixture("expected.json")) }
        guard case .unknownFormat? = r2 else { return XCTFail("\(String(describing: r2))") }
    }

    func testRealCheckpointIfAvailable() throws {
        // SAM2R_CHECKPOINT=/path/to/sam2.1_hiera_tiny.pt swift test --filter testRealCheckpoint
        guard let path = ProcessInfo.processInfo.environment["SAM2R_CHECKPOINT"] else {
            throw XCTSkip("set SAM2R_CHECKPOINT to a SAM2.1 checkpoint to run")
        }
        let ck = try Checkpoint(path: path)
        XCTAssertGreaterThan(ck.count, 0)
        for n in ck.names {
            let info = try XCTUnwrap(ck[n])
            XCTAssertEqual(try ck.floats(n).count, info.count, n)
        }
        try ck.verifyChecksums()
        print("\(path): \(ck.count) tensors, \(ck.parameterCount) parameters")
    }

    func testHalfConversionIsExactForAllValues() {
        // Every finite binary16 value converts exactly (checked against Float16 where available).
        #if arch(x86_64) || arch(arm64)
        for bits in UInt16.min...UInt16.max {
            let a = halfToFloat(bits), b = Float(Float16(bitPattern: bits))
            if b.isNaN { XCTAssertTrue(a.isNaN) } else { XCTAssertEqual(a.bitPattern, b.bitPattern, "bits \(bits)") }
        }
        #endif
    }
}

final class NPYTests: XCTestCase {
    func testRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "sam2r-npy-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v = (0..<(2 * 3 * 5)).map { Float($0) * 0.25 - 1 }
        for shape in [[2, 3, 5], [30], [1, 30]] {
            try NPY.write(path: dir + "/a.npy", shape: shape, data: v)
            let (s, d) = try NPY.read(path: dir + "/a.npy")
            XCTAssertEqual(s, shape)
            XCTAssertEqual(d, v)
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/a.npy")[.size] as! Int
            XCTAssertEqual((size - v.count * 4) % 64, 0)  // header padded to 64
        }
        try NPY.write(path: dir + "/s.npy", shape: [], data: [3])
        XCTAssertEqual(try NPY.read(path: dir + "/s.npy").shape, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["a.npy", "s.npy"])  // no temp files
    }

    func testShapeMismatchAndBadDirectory() {
        let r = reason { try NPY.write(path: "/tmp/x.npy", shape: [2, 2], data: [1, 2, 3]) }
        guard case .npy? = r else { return XCTFail("\(String(describing: r))") }
        let r2 = reason { try NPY.write(path: "/nonexistent-dir-sam2r/x.npy", shape: [1], data: [1]) }
        guard case .io? = r2 else { return XCTFail("\(String(describing: r2))") }
    }

    func testReadsNumpyWrittenFile() throws {
        // A header as numpy 2 writes it (v1.0, padded to 64 bytes).
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
        var header = dict + String(repeating: " ", count: (64 - (10 + dict.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        for f: Float in [1, 2, 3, 4] { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        let path = NSTemporaryDirectory() + "sam2r-np-\(getpid()).npy"
        defer { unlink(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let (s, d) = try NPY.read(path: path)
        XCTAssertEqual(s, [2, 2])
        XCTAssertEqual(d, [1, 2, 3, 4])
        header = header.replacingOccurrences(of: "<f4", with: "<f8")
        bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + [UInt8](repeating: 0, count: 32)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let r = reason { _ = try NPY.read(path: path) }
        guard case .npy? = r else { return XCTFail("\(String(describing: r))") }
    }
}
