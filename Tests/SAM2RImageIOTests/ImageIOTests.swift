// ImageIOTests.swift — decode every PNG/JPEG flavour in Tests/Fixtures/images against the RGB8
// expectation written by tools/fixtures/make_image_fixtures.py; corrupt and oversize inputs fail
// with typed errors; writePNG round-trips and leaves nothing behind on failure.

import Foundation
import XCTest
@testable import SAM2RImageIO

let imageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path

func image(_ name: String) -> String { imageDir + "/" + name }

func expectedRGB(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: image(name + ".rgb"))))
}

func kind(of body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> ImageIOError.Kind? {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let e as ImageIOError {
        XCTAssertFalse(e.message.isEmpty, file: file, line: line)
        XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        return e.kind
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}

final class DecodeTests: XCTestCase {
    func testPNGFlavoursDecodeExactly() throws {
        for name in ["rgb.png", "rgba.png", "gray.png", "gray_alpha.png", "palette.png", "bilevel.png",
                     "rgb16.png", "gray16.png", "interlaced.png"] {
            let img = try decodeImage(path: image(name))
            XCTAssertEqual(img.width, 37, name)
            XCTAssertEqual(img.height, 23, name)
            XCTAssertEqual(img.pixels, try expectedRGB(name), name)
        }
    }

    func testJPEGFlavoursDecodeClosely() throws {
        for name in ["rgb.jpg", "gray.jpg", "cmyk.jpg"] {
            let img = try decodeImage(path: image(name))
            XCTAssertEqual(img.width, 37, name)
            XCTAssertEqual(img.height, 23, name)
            let want = try expectedRGB(name)
            XCTAssertEqual(img.pixels.count, want.count, name)
            var maxDiff = 0, total = 0
            for (a, b) in zip(img.pixels, want) {
                let d = abs(Int(a) - Int(b))
                maxDiff = max(maxDiff, d)
                total += d
            }
            // Same libjpeg-turbo family as PIL's: at most off-by-few from IDCT/upsampling builds.
            XCTAssertLessThanOrEqual(maxDiff, 4, name)
            XCTAssertLessThanOrEqual(Double(total) / Double(want.count), 0.5, name)
        }
    }

    func testHeaderProbe() throws {
        let png = try imageHeader(path: image("rgb.png"))
        XCTAssertEqual(png.format, .png)
        XCTAssertEqual(png.width, 37)
        XCTAssertEqual(png.height, 23)
        let jpg = try imageHeader(path: image("huge.jpg"))
        XCTAssertEqual(jpg.format, .jpeg)
        XCTAssertEqual(jpg.width, 40000)
        XCTAssertEqual(jpg.height, 60000)
    }

    func testOversizeRefusedBeforeDecoding() {
        // Headers claim 100000×50 and 40000×60000; the pixel data is that of a 37×23 image, so any
        // attempt to decode would fail as corrupt instead of too large.
        XCTAssertEqual(kind { _ = try decodeImage(path: image("huge.png")) }, .tooLarge)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("huge.jpg")) }, .tooLarge)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("rgb.png"), maxSide: 36) }, .tooLarge)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("rgb.jpg"), maxSide: 22) }, .tooLarge)
        XCTAssertNoThrow(try decodeImage(path: image("rgb.png"), maxSide: 37))
    }

    func testCorruptInputsFailCleanly() {
        XCTAssertEqual(kind { _ = try decodeImage(path: image("truncated.jpg")) }, .corrupt)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("garbage.jpg")) }, .corrupt)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("truncated.png")) }, .corrupt)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("corrupt.png")) }, .corrupt)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("not_an_image.png")) }, .unsupportedFormat)
        XCTAssertEqual(kind { _ = try decodeImage(path: image("missing.png")) }, .io)
        XCTAssertEqual(kind { _ = try decodeImage(path: imageDir) }, .io)  // a directory
    }

    func testEveryTruncationFailsWithoutCrashing() throws {
        let dir = NSTemporaryDirectory() + "sam2r-img-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["rgb.jpg", "rgb16.png", "palette.png"] {
            let whole = try Data(contentsOf: URL(fileURLWithPath: image(name)))
            let path = dir + "/" + name
            for n in stride(from: 0, to: whole.count - 1, by: max(1, whole.count / 97)) {
                try whole.prefix(n).write(to: URL(fileURLWithPath: path))
                XCTAssertThrowsError(try decodeImage(path: path), "\(name) prefix \(n)")
            }
        }
    }
}

final class WriteTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sam2r-png-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    func testRGBRoundTrip() throws {
        let img = try decodeImage(path: image("rgba.png"))
        try writePNG(img, to: dir + "/out.png")
        XCTAssertEqual(try decodeImage(path: dir + "/out.png"), img)
        XCTAssertEqual(try listing(), ["out.png"])  // no temporary left
        // Overwrite in place.
        let other = try decodeImage(path: image("palette.png"))
        try writePNG(other, to: dir + "/out.png")
        XCTAssertEqual(try decodeImage(path: dir + "/out.png"), other)
        XCTAssertEqual(try listing(), ["out.png"])
    }

    func testGrayRoundTrip() throws {
        let (w, h) = (19, 7)
        let gray = (0..<(w * h)).map { UInt8(($0 * 37) & 0xFF) }
        try writePNG(path: dir + "/mask.png", width: w, height: h, channels: 1, pixels: gray)
        let back = try decodeImage(path: dir + "/mask.png")
        XCTAssertEqual(back.width, w)
        XCTAssertEqual(back.height, h)
        for i in 0..<(w * h) {
            XCTAssertEqual(back.pixels[3 * i], gray[i])
            XCTAssertEqual(back.pixels[3 * i + 2], gray[i])
        }
    }

    func testRelativePath() throws {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        try writePNG(path: "rel.png", width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 9, count: 12))
        XCTAssertEqual(try listing(), ["rel.png"])
    }

    func testMissingDirectoryLeavesNothing() throws {
        let path = dir + "/no/such/dir/out.png"
        XCTAssertEqual(kind { try writePNG(path: path, width: 2, height: 2, channels: 1, pixels: [1, 2, 3, 4]) }, .io)
        XCTAssertEqual(try listing(), [])
    }

    func testUnwritableDirectoryLeavesNothing() throws {
        try XCTSkipIf(geteuid() == 0, "root ignores directory permissions")
        chmod(dir, 0o555)
        XCTAssertEqual(kind { try writePNG(path: dir + "/x.png", width: 1, height: 1, channels: 1, pixels: [0]) }, .io)
        chmod(dir, 0o755)
        XCTAssertEqual(try listing(), [])
    }

    func testRenameFailureLeavesNoTemporary() throws {
        // The target is an existing non-empty directory: the PNG is written, the rename fails, the
        // temporary must be gone and the directory untouched.
        let target = dir + "/target.png"
        try FileManager.default.createDirectory(atPath: target + "/inner", withIntermediateDirectories: true)
        XCTAssertEqual(kind { try writePNG(path: target, width: 1, height: 1, channels: 3, pixels: [1, 2, 3]) }, .io)
        XCTAssertEqual(try listing(), ["target.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), ["inner"])
    }

    func testWriteErrorMidFileLeavesNothing() throws {
        // A file-size limit makes write(2) fail with EFBIG part-way through the PNG: the partial
        // temporary must be removed and a previous file at the path must survive unchanged.
        let path = dir + "/big.png"
        try writePNG(path: path, width: 1, height: 1, channels: 1, pixels: [42])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var small = old
        small.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small), 0)
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<(128 * 128 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var caught: ImageIOError?
        do { try writePNG(path: path, width: 128, height: 128, channels: 3, pixels: noise) } catch let e as ImageIOError { caught = e }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, oldHandler)
        XCTAssertEqual(caught?.kind, .io)
        XCTAssertTrue(caught?.message.contains("rite") ?? false, caught?.message ?? "no error")  // "Write Error"/"write failed"
        XCTAssertEqual(try listing(), ["big.png"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    func testPathThroughAFileFails() throws {
        _ = FileManager.default.createFile(atPath: dir + "/plain", contents: Data([1]))
        XCTAssertEqual(kind { try writePNG(path: dir + "/plain/x.png", width: 1, height: 1, channels: 1, pixels: [0]) }, .io)
        XCTAssertEqual(try listing(), ["plain"])
    }

    func testInvalidArguments() throws {
        XCTAssertEqual(kind { try writePNG(path: dir + "/a.png", width: 2, height: 2, channels: 3, pixels: [0]) }, .invalidArgument)
        XCTAssertEqual(kind { try writePNG(path: dir + "/a.png", width: 0, height: 2, channels: 3, pixels: []) }, .invalidArgument)
        XCTAssertEqual(kind { try writePNG(path: dir + "/a.png", width: 1, height: 1, channels: 4, pixels: [0, 0, 0, 0]) }, .invalidArgument)
        XCTAssertEqual(try listing(), [])
    }
}
