// MalformedRegressionTests.swift — the reproducers of Tests/Malformed/pending (docs/hardening.md,
// findings 1–5) now fail with their one-line typed error instead of trapping; the overflow checks
// added with them are exercised directly; the valid fixtures still load.

import Foundation
import XCTest
@testable import SAM2RCheckpoint

private let malformedDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Malformed").path

/// "case" label of a reason (e.g. "tensor", "zip").
private func caseName(_ r: CheckpointError.Reason) -> String {
    Mirror(reflecting: r).children.first?.label ?? "\(r)"
}

final class MalformedRegressionTests: XCTestCase {
    /// Opens `path` as a checkpoint, then does what a caller would: parameterCount, every tensor as
    /// Float and (integer tensors) as Int64, CRCs. Must throw a CheckpointError of `kind` whose
    /// one-line description is "<path>: <message>" with `fragment` in the message.
    func expectFailure(_ path: String, _ kind: String, _ fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let ck = try Checkpoint(path: path)
            _ = ck.parameterCount
            for n in ck.names {
                _ = try ck.floats(n)
                _ = try? ck.int64s(n)
            }
            try ck.verifyChecksums()
            XCTFail("\(path): loaded, expected \(kind) '\(fragment)'", file: file, line: line)
        } catch let e as CheckpointError {
            XCTAssertEqual(caseName(e.reason), kind, e.description, file: file, line: line)
            XCTAssertEqual(e.description, path + ": " + e.message, file: file, line: line)
            XCTAssertTrue(e.message.contains(fragment), "'\(e.message)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertFalse(e.description.contains { $0 == "\n" || $0 == "\r" }, e.description, file: file, line: line)
        } catch {
            XCTFail("\(path): unexpected error type \(error)", file: file, line: line)
        }
    }

    func pending(_ name: String) -> String { malformedDir + "/pending/" + name }

    // Finding 1: ZIP64 uncompressed size ≥ 2^63 on a deflate entry (Int(usize) trapped).
    func testZip64HugeUncompressedSize() {
        expectFailure(pending("zip64_uncompressed_size_2_64.pt"), "zip", "size or offset exceeds the file length")
        XCTAssertThrowsError(try ZipArchive(path: pending("zip64_uncompressed_size_2_64.pt")))
    }

    // Finding 2: storage reused with numel 2^62 (s.count * byteSize trapped on the cached path).
    func testReusedStorageWithOverflowingNumel() {
        expectFailure(pending("storage_reused_numel_overflow.pt"), "tensor",
                      "storage '0' is used with two different sizes or dtypes")
    }

    // Finding 3: safetensors shape [0, 2^32, 2^32] (stride product trapped).
    func testSafetensorsStrideOverflowBehindZeroDimension() {
        expectFailure(pending("zero_dim_stride_overflow.safetensors"), "tensor",
                      "strides of [0, 4294967296, 4294967296] overflow")
    }

    // Finding 4: size-1 dimension with stride 2^63−1 (the read odometer trapped).
    func testSizeOneDimensionWithHugeStride() {
        expectFailure(pending("size1_huge_stride_read.pt"), "tensor",
                      "extent of [1, 2] with strides [9223372036854775807, 2] overflows")
    }

    // Finding 5: two stride-0 views of 2^62 elements (parameterCount trapped, floats() allocated 2^64 bytes).
    func testStrideZeroViewOverElementLimit() {
        expectFailure(pending("stride0_count_2_62.pt"), "tensor", "element count limit")
    }

    // MARK: - The checks behind them, directly

    func info(_ shape: [Int], _ strides: [Int], offset: Int = 0) -> TensorInfo {
        TensorInfo(name: "t", dtype: .float32, shape: shape, strides: strides, storageOffset: offset)
    }

    func extentError(_ i: TensorInfo, storageBytes: Int = 16) -> String? {
        do {
            try Checkpoint.checkExtent(i, storageBytes: storageBytes, path: "x")
            return nil
        } catch let e as CheckpointError {
            XCTAssertEqual(caseName(e.reason), "tensor")
            return e.message
        } catch {
            return "\(error)"
        }
    }

    func testExtentChecksEveryStrideStep() {
        // Accepted: ordinary, transposed, broadcast (stride 0), empty and scalar views.
        XCTAssertNil(extentError(info([2, 2], [2, 1])))
        XCTAssertNil(extentError(info([2, 2], [1, 2])))
        XCTAssertNil(extentError(info([4, 4], [0, 1])))
        XCTAssertNil(extentError(info([0, 5], [5, 1], offset: 100)))
        XCTAssertNil(extentError(info([], [], offset: 3)))
        XCTAssertNil(extentError(info([1, 4], [1 << 40, 1])))  // a size-1 stride is unused but still bounded
        // offset + n·stride overflows although (n−1)·stride does not.
        XCTAssertEqual(extentError(info([1, 2], [Int.max, 2], offset: 1)),
                       "tensor 't': extent of [1, 2] with strides [\(Int.max), 2] overflows")
        XCTAssertNotNil(extentError(info([2], [Int.max / 2 + 1])))
        XCTAssertNotNil(extentError(info([0, 1 << 32, 1 << 31], [0, 1 << 31, 1])))
        // Element count limit.
        XCTAssertNil(extentError(info([1 << 16, 1 << 15], [0, 0])))  // exactly 2^31
        let m = extentError(info([1 << 16, (1 << 15) + 1], [0, 0]))
        XCTAssertTrue(m?.contains("element count limit") == true, m ?? "accepted")
        XCTAssertEqual(Checkpoint.maxTensorElements, 1 << 31)
    }

    func testContiguityOfEmptyTensorWithHugeDimensions() {
        XCTAssertFalse(info([0, 1 << 32, 1 << 32], [0, 1 << 32, 1]).isContiguous)
        XCTAssertTrue(info([2, 3], [3, 1]).isContiguous)
        XCTAssertTrue(info([1, 3], [99, 1]).isContiguous)
    }

    func testNPYWriteRefusesOverflowingShape() {
        let dir = FileManager.default.temporaryDirectory.path
        let path = dir + "/sam2r-regression-\(getpid()).npy"
        for shape in [[1 << 32, 1 << 32, 0], [1 << 40, 1 << 40], [-1, 1]] {
            XCTAssertThrowsError(try NPY.write(path: path, shape: shape, data: [Float]())) { e in
                guard let e = e as? CheckpointError else { return XCTFail("\(e)") }
                XCTAssertEqual(caseName(e.reason), "npy", e.description)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertNoThrow(try NPY.write(path: path, shape: [0, 1 << 40], data: [Float]()))
        XCTAssertEqual(try NPY.read(path: path).shape, [0, 1 << 40])
        try? FileManager.default.removeItem(atPath: path)
    }

    // MARK: - Valid files still load

    func testValidFixturesStillLoad() throws {
        let valid = ["bare.pt", "fp16.pt", "good.safetensors", "model.pt", "param.pt", "views.pt"]
        for name in valid {
            let ck = try Checkpoint(path: fixture(name))
            XCTAssertEqual(Set(ck.names), Set(expectedValues[name]?.keys ?? [:].keys), name)
            var total = 0
            for n in ck.names {
                let info = try XCTUnwrap(ck[n])
                XCTAssertEqual(try ck.floats(n).count, info.count, "\(name) \(n)")
                total += info.count
            }
            XCTAssertEqual(ck.parameterCount, total, name)
            try ck.verifyChecksums()
        }
        for control in ["pt/control_good.pt", "safetensors/control_good.safetensors"] {
            let ck = try Checkpoint(path: malformedDir + "/" + control)
            for n in ck.names { _ = try ck.floats(n) }
        }
        XCTAssertNoThrow(try NPY.read(path: malformedDir + "/npy/control_good.npy"))
    }
}
