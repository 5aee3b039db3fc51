// ContainerTests.swift — the .sam2q container on a small synthetic model: round trip, and every
// corruption class ends in its typed, one-line ModelFileError (never a crash). Edited files are
// re-sealed (ModelFileWriter.reseal) when the structural check, not the checksum, must catch them.

import Foundation
import SAM2REngine
import SAM2RModel
@testable import SAM2RModelFile
import XCTest

final class ContainerTests: XCTestCase {
    static let gemm: Int8QuantizedGemm = {
        var rng: UInt64 = 12345
        let w = (0..<(5 * 7)).map { _ -> Float in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(rng >> 40) % 2001 - 1000) / 500
        }
        return try! Int8QuantizedGemm(weights: w, bias: [0.5, -1, 2, 0, 3], n: 5, k: 7, act: (0.02, -3), name: "g.proj")
    }()

    static func contents(packing: ISA = .scalar) -> ModelFileContents {
        ModelFileContents(
            configJSON: "{\"name\": \"synthetic\"}\n", tableText: "format 1\n", packing: packing, gemms: [gemm],
            floatTensors: [("a.weight", [2, 3], [1, 2, 3, 4, 5, 6]), ("b.bias", [4], [0.25, 0.5, 0.75, 1])],
            arena: ModelFileArena(totalBytes: 1024, imageSize: 128, threads: 2, promptCapacity: 16,
                                  buffers: [ModelFileArenaBuffer(name: "x", offset: 0, size: 512, firstUse: 0, lastUse: 3),
                                            ModelFileArenaBuffer(name: "y", offset: 512, size: 512, firstUse: 1, lastUse: 2)]))
    }

    static func encoded(packing: ISA = .scalar) throws -> [UInt8] { try ModelFileWriter.encode(contents(packing: packing)) }

    /// Opens `bytes`; returns the error (nil if it opened).
    func openError(_ bytes: [UInt8]) -> ModelFileError? {
        do {
            _ = try bytes.withUnsafeBytes { try ModelFile(bytes: $0, path: "m.sam2q") }
            return nil
        } catch let e as ModelFileError {
            XCTAssertFalse(e.description.contains("\n"), "multi-line error: \(e)")
            XCTAssertTrue(e.description.hasPrefix("m.sam2q: "), "error does not name the file: \(e)")
            return e
        } catch {
            XCTFail("untyped error \(error)")
            return nil
        }
    }

    func expect(_ bytes: [UInt8], _ kind: ModelFileError.Kind, _ fragment: String = "", line: UInt = #line) {
        guard let e = openError(bytes) else { return XCTFail("opened a malformed file", line: line) }
        XCTAssertEqual(e.kind, kind, "\(e)", line: line)
        if !fragment.isEmpty { XCTAssertTrue(e.problem.contains(fragment), "\(e)", line: line) }
    }

    // Field locations (docs/model-file.md).
    func u64(_ b: [UInt8], _ at: Int) -> Int { b.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
    func put64(_ b: inout [UInt8], _ at: Int, _ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { for i in 0..<8 { b[at + i] = $0[i] } } }
    func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { b[at + i] = $0[i] } } }
    /// Directory entry index of section `kind`.
    func entry(_ b: [UInt8], _ kind: ModelFileSection) -> Int {
        for i in 0..<Int(b[12]) where b[64 + 32 * i] == UInt8(kind.rawValue) { return 64 + 32 * i }
        fatalError("no section \(kind)")
    }
    func sectionOffset(_ b: [UInt8], _ kind: ModelFileSection) -> Int { u64(b, entry(b, kind) + 8) }
    /// Offset of the first tensor entry: count, packing name, NR, KR.
    func firstTensor(_ b: [UInt8]) -> Int { sectionOffset(b, .tensors) + 4 + 2 + ISA.scalar.name.utf8.count + 8 }
    /// Offset of the int8 GEMM's entry (third tensor).
    func gemmEntry(_ b: [UInt8]) -> Int {
        var p = firstTensor(b)
        p += 2 + "a.weight".utf8.count + 2 + 2 * 8 + 16
        p += 2 + "b.bias".utf8.count + 2 + 8 + 16
        return p
    }

    func testRoundTrip() throws {
        let bytes = try Self.encoded()
        XCTAssertEqual(bytes.count % 1, 0)
        let f = try bytes.withUnsafeBytes { try ModelFile(bytes: $0) }
        XCTAssertEqual(f.configJSON, "{\"name\": \"synthetic\"}\n")
        XCTAssertEqual(f.tableText, "format 1\n")
        XCTAssertEqual(f.packingName, "scalar")
        XCTAssertTrue(f.packing == GemmS8Kernel.packingLayout(.scalar))
        XCTAssertEqual(f.tensors.map(\.name), ["a.weight", "b.bias", "g.proj"])
        XCTAssertEqual(f.arena, Self.contents().arena)
        for s in f.sections { XCTAssertEqual(s.offset % 64, 0) }
        for t in f.tensors {
            XCTAssertEqual(t.data.lowerBound % 64, 0)
            t.gemm.map { g in g.arrays.forEach { XCTAssertEqual($0.1.lowerBound % 64, 0) } }
        }
        let w = try ModelFileWeights(f)
        var a = [Float](repeating: 0, count: 6)
        try a.withUnsafeMutableBufferPointer { try w.readFloats("a.weight", into: $0) }
        XCTAssertEqual(a, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(w.shape(of: "b.bias"), [4])
        XCTAssertNil(w.shape(of: "g.proj"), "an int8 GEMM is not an fp32 tensor")
        // The packed weights unpack to exactly the quantized matrix, and the stored parameters are the scheme's.
        let g = try XCTUnwrap(f.tensor("g.proj")?.gemm)
        let q = PackedLayout.unpack(f.bytes(g.packed).baseAddress!.assumingMemoryBound(to: Int8.self), n: 5, k: 7, nr: g.nr, kr: g.kr)
        XCTAssertEqual(q, Self.gemm.weights)
        XCTAssertEqual(g.actScale, 0.02)
        XCTAssertEqual(g.actZeroPoint, -3)
        XCTAssertNotNil(try w.int8Layer("g.proj", n: 5, k: 7))
        XCTAssertThrowsError(try w.int8Layer("g.proj", n: 5, k: 8))
    }

    func testFileOnDisk() throws {
        let path = NSTemporaryDirectory() + "/sam2q-\(getpid()).sam2q"
        defer { unlink(path) }
        let bytes = try Self.encoded()
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let f = try ModelFile(path: path)
        XCTAssertEqual(f.fileSize, bytes.count)
        XCTAssertThrowsError(try ModelFile(path: path + ".missing")) { XCTAssertEqual(($0 as? ModelFileError)?.kind, .io) }
    }

    func testTruncated() throws {
        let b = try Self.encoded()
        expect(Array(b[0..<40]), .truncated, "shorter than the 64-byte header")
        expect(Array(b[0..<(b.count - 100)]), .truncated, "header says")
        expect([], .truncated)
    }

    func testMagicAndVersion() throws {
        var b = try Self.encoded()
        b[0] = UInt8(ascii: "X")
        expect(b, .magic)
        b = try Self.encoded()
        put32(&b, 8, 2)
        ModelFileWriter.reseal(&b)
        expect(b, .version, "format version 2")
    }

    func testHeaderChecksum() throws {
        var b = try Self.encoded()
        b[40] ^= 1  // reserved header byte: only the header CRC sees it
        expect(b, .checksum, "header checksum")
    }

    func testDirectory() throws {
        var b = try Self.encoded()
        put64(&b, entry(b, .data) + 8, (b.count / 64 + 2) * 64)
        ModelFileWriter.reseal(&b)
        expect(b, .section, "outside the file")

        b = try Self.encoded()
        put64(&b, entry(b, .data) + 16, 1 << 62)  // an absurd length is refused before any arithmetic
        ModelFileWriter.reseal(&b)
        expect(b, .directory, "exceeds")

        b = try Self.encoded()
        put64(&b, entry(b, .data) + 16, u64(b, entry(b, .data) + 16) + 64)  // a section running past the end
        ModelFileWriter.reseal(&b)
        expect(b, .section, "outside the file")

        b = try Self.encoded()
        put64(&b, entry(b, .tensors) + 8, sectionOffset(b, .tensors) + 8)
        ModelFileWriter.reseal(&b)
        expect(b, .section, "aligned")

        b = try Self.encoded()
        put64(&b, entry(b, .quant) + 8, sectionOffset(b, .config))
        ModelFileWriter.reseal(&b)
        expect(b, .section, "overlap")

        b = try Self.encoded()
        b[entry(b, .quant)] = UInt8(ModelFileSection.config.rawValue)
        ModelFileWriter.reseal(&b)
        expect(b, .directory, "twice")

        b = try Self.encoded()
        b[entry(b, .quant)] = 99
        ModelFileWriter.reseal(&b)
        expect(b, .directory, "unknown kind")

        b = try Self.encoded()
        b[entry(b, .arena)] = UInt8(ModelFileSection.quant.rawValue)
        b[entry(b, .quant)] = 98
        ModelFileWriter.reseal(&b)
        expect(b, .directory)

        b = try Self.encoded()
        put32(&b, 12, 200)
        ModelFileWriter.reseal(&b)
        expect(b, .header, "section count")
    }

    func testSectionChecksum() throws {
        var b = try Self.encoded()
        b[sectionOffset(b, .data) + 3] ^= 0x40
        expect(b, .checksum, "section 'data'")
    }

    func testTensorTable() throws {
        // fp32 tensor offset past the data section.
        var b = try Self.encoded()
        let t0 = firstTensor(b)
        let dims = t0 + 2 + "a.weight".utf8.count + 2
        put64(&b, dims + 16, 1 << 20)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "past the end of the data section")

        // Misaligned array.
        b = try Self.encoded()
        put64(&b, dims + 16, u64(b, dims + 16) + 4)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "aligned")

        // Shape and byte length disagree.
        b = try Self.encoded()
        put64(&b, dims, 3)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "shape needs")

        // int8 GEMM: n·k does not match the packed length.
        b = try Self.encoded()
        let g = gemmEntry(b)
        let gdims = g + 2 + "g.proj".utf8.count + 2
        put64(&b, gdims + 8, 9)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "packed has")

        // Zero dimension.
        b = try Self.encoded()
        put64(&b, gdims, 0)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "dimension 0")

        // Activation parameters.
        b = try Self.encoded()
        put32(&b, gdims + 16 + 8, Float.nan.bitPattern)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "activation scale")
        b = try Self.encoded()
        put32(&b, gdims + 16 + 12, UInt32(bitPattern: 300))
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "zero point")

        // Name not UTF-8, duplicate name.
        b = try Self.encoded()
        b[t0 + 2] = 0xFF
        ModelFileWriter.reseal(&b)
        expect(b, .tensorTable, "not UTF-8")
        var dup = Self.contents()
        dup.floatTensors[1].name = "a.weight"
        dup.floatTensors[1].shape = [2, 3]
        dup.floatTensors[1].values = [0, 0, 0, 0, 0, 0]
        expect(try ModelFileWriter.encode(dup), .tensorTable, "appears twice")
        b = try Self.encoded()
        put32(&b, sectionOffset(b, .tensors), 1000)
        ModelFileWriter.reseal(&b)
        expect(b, .tensorTable, "runs past the end")
    }

    func testInt8Values() throws {
        let bytes = try Self.encoded()
        let f = try bytes.withUnsafeBytes { try ModelFile(bytes: $0) }
        let g = try XCTUnwrap(f.tensor("g.proj")?.gemm)
        let data = sectionOffset(bytes, .data)
        var b = bytes
        b[data + g.packed.lowerBound] = 0x80  // -128
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "-128")
        b = bytes
        b[data + g.wsum.lowerBound] &+= 1
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "wsum[0]")
        b = bytes
        b[data + g.packed.upperBound - 1] = 1  // padding (k = 7 is not a multiple of KR = 4)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "padding")
        b = bytes
        put32(&b, data + g.scale.lowerBound, Float.infinity.bitPattern)
        ModelFileWriter.reseal(&b)
        expect(b, .tensor, "scale[0]")
    }

    func testArena() throws {
        var b = try Self.encoded()
        put64(&b, sectionOffset(b, .arena), 100)  // total smaller than the buffers
        ModelFileWriter.reseal(&b)
        expect(b, .arena, "exceeds the arena")
    }

    /// Any single flipped bit anywhere is caught (CRCs cover header, directory and every section), and
    /// every prefix of the file fails cleanly.
    func testEveryFlipAndPrefixFails() throws {
        let bytes = try Self.encoded()
        for i in stride(from: 0, to: bytes.count, by: 3) {
            var b = bytes
            b[i] ^= UInt8(1 << (i % 8))
            if openError(b) == nil {
                // Only padding between sections is outside every checksum; it is never read.
                XCTAssertFalse(isCovered(bytes, i), "flip at \(i) went unnoticed")
            }
        }
        for n in stride(from: 0, to: bytes.count, by: 5) { XCTAssertNotNil(openError(Array(bytes[0..<n])), "prefix \(n) opened") }
    }

    func isCovered(_ b: [UInt8], _ i: Int) -> Bool {
        if i < 64 + 32 * Int(b[12]) { return true }
        return ModelFileSection.allCases.contains { k in
            guard let e = (0..<Int(b[12])).first(where: { b[64 + 32 * $0] == UInt8(k.rawValue) }) else { return false }
            let off = u64(b, 64 + 32 * e + 8), len = u64(b, 64 + 32 * e + 16)
            return i >= off && i < off + len
        }
    }

    /// The packing table used for files made for other machines equals each runnable kernel's own layout.
    func testPackingLayoutMatchesKernels() throws {
        for isa in ISA.supported {
            guard let k = try? GemmS8Kernel(isa: isa) else { continue }
            XCTAssertTrue(GemmS8Kernel.packingLayout(isa) == (k.nr, k.kr), "\(isa)")
        }
    }

    /// The CRC is zlib's crc32 (check value of "123456789").
    func testCRC() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }
}
