// EncoderTests.swift — preprocessing, Hiera trunk, FPN neck and features vs the micro goldens.

import SAM2RCheckpoint
import SAM2RModel
import XCTest

final class EncoderTests: XCTestCase {
    /// fp32 chains over 10 blocks: agreement is ~1e-6; 1e-4 leaves room for other kernel variants.
    static let tol: Float = 1e-4

    func testPositionEmbeddingConstant() throws {
        // The encoder's precomputed pos-embed shows up as pos_added - patch_embed.
        let p = try Goldens.predictor()
        let rec = TapRecorder()
        p.observer = rec.observer
        let img = try Goldens.image("astronaut")
        try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
        let consts = try Goldens.store("constants.safetensors")
        let pe = zip(rec.tensors["trunk.pos_added"]!, rec.tensors["trunk.patch_embed"]!).map { $0 - $1 }
        try compare("trunk.pos_embed", got: pe, store: consts, tol: 1e-5)
    }

    func testEncoderMatchesGoldens() throws {
        let p = try Goldens.predictor()
        let rec = TapRecorder()
        p.observer = rec.observer
        for name in ["astronaut", "coffee", "chelsea_crop"] {
            rec.tensors = [:]
            let img = try Goldens.image(name)
            try p.setImage(rgb: img.pixels, width: img.width, height: img.height)
            let g = try Goldens.store("\(name)/encoder.safetensors")
            var report = [String]()
            for t in g.names.sorted() where g[t]!.dtype == .float32 {
                let d = try compare(t, got: rec.tensors[t], store: g, tol: EncoderTests.tol)
                report.append("\(t) \(d)")
            }
            print("[\(name)] encoder max |Δ|:\n  " + report.joined(separator: "\n  "))
        }
        print("arena bytes (micro, last image): \(p.arenaBytes)")
    }
}
