// TinyMixedPrecisionTests.swift — opt-in: the mixed-precision search on the seeded full-size tiny
// (docs/eval.md, "Measured"). Needs a release build to finish in minutes:
//   SAM2R_TINY_MIXED=<dir with checkpoint.pt> SAM2R_TINY_MIXED_TABLE=<table> SAM2R_TINY_MIXED_IMAGES=<calib dir> \
//   SAM2R_TINY_MIXED_TARGET=0.97 [SAM2R_TINY_MIXED_PRUNE=6] [SAM2R_TINY_MIXED_OUT=<reduced table>] \
//   swift test -c release --filter TinyMixedPrecisionTests

import Foundation
import SAM2RCheckpoint
import SAM2RImageIO
import SAM2RModel
import XCTest
@testable import SAM2RQuant

final class TinyMixedPrecisionTests: XCTestCase {
    func testSearchOnTiny() throws {
        let env = ProcessInfo.processInfo.environment
        guard let dir = env["SAM2R_TINY_MIXED"], let tablePath = env["SAM2R_TINY_MIXED_TABLE"],
              let imageDir = env["SAM2R_TINY_MIXED_IMAGES"] else {
            throw XCTSkip("set SAM2R_TINY_MIXED, SAM2R_TINY_MIXED_TABLE and SAM2R_TINY_MIXED_IMAGES")
        }
        let target = Double(env["SAM2R_TINY_MIXED_TARGET"] ?? "") ?? 0.97
        let prune = Int(env["SAM2R_TINY_MIXED_PRUNE"] ?? "") ?? 6
        let cfg = ModelConfig.preset(named: "tiny")!
        let ckpt = try Checkpoint(path: dir + "/checkpoint.pt")
        let table = try QuantTable.read(path: tablePath)
        let names = try FileManager.default.contentsOfDirectory(atPath: imageDir).filter { $0.hasSuffix(".png") }.sorted()
        let images = try names.map { n -> EvalImage in
            let img = try decodeImage(path: imageDir + "/" + n)
            return EvalImage(name: n, width: img.width, height: img.height, pixels: img.pixels,
                             prompts: CalibrationPrompts.defaults(fileName: n, width: img.width, height: img.height))
        }
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let r = try MixedPrecisionSearch.run(config: cfg, weights: ckpt, table: table, images: images, targetIoU: target,
                                             threads: threads, pruneTrials: prune) { print("search: \($0)") }
        print("tiny mixed precision, target \(target): all int8 \(r.fullInt8IoU), achieved \(r.achievedIoU), "
              + "\(r.kept.count) op(s) in float (\(100 * r.floatMACShare) % of the int8 MACs)")
        for k in r.kept { print("  float \(k.name): \(k.reason)") }
        print("trials: \(r.trials)")
        if let out = env["SAM2R_TINY_MIXED_OUT"] { try r.table.write(path: out) }
        XCTAssertGreaterThanOrEqual(r.achievedIoU, target)
    }
}
