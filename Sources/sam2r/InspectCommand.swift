// `sam2r inspect MODEL.sam2q`: what an int8 model file holds — header, config, sections (sizes,
// checksums), every tensor, int8/float counts, packing layout and arena size. Opening the file
// validates all of it (docs/model-file.md), so a damaged file ends in one error line instead.
import ArgumentParser
import SAM2REngine
import SAM2RModel
import SAM2RModelFile

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the contents of an int8 model file (.sam2q) and its arena size."
    )

    @Argument(help: "The model file (.sam2q).")
    var model: String

    @Flag(help: "One JSON object instead of text.")
    var json = false

    func run() throws {
        let t0 = monotonicSeconds()
        let f = try ModelFile(path: model)
        let openMs = (monotonicSeconds() - t0) * 1000
        let cfg = try modelFileConfig(f)
        let int8 = f.tensors.filter { $0.kind == .int8Gemm }
        let floats = f.tensors.count - int8.count
        let halves = f.tensors.filter { $0.kind == .float16 }.count
        let layout = "\(f.packingName) (NR=\(f.packing.nr) KR=\(f.packing.kr))"
        let zeroCopy = (try? ModelFileWeights(f))?.isZeroCopy ?? false
        if json {
            var o = "{\"file\":\(jsonString(model)),\"version\":\(f.version),\"bytes\":\(f.fileSize),"
            o += "\"config\":{\"name\":\(jsonString(cfg.name)),\"input_size\":\(cfg.imageSize),\"embed_dim\":\(cfg.embedDim),"
            o += "\"stages\":[\(cfg.stages.map(String.init).joined(separator: ","))],\"d_model\":\(cfg.dModel)},"
            o += "\"packing\":{\"variant\":\(jsonString(f.packingName)),\"nr\":\(f.packing.nr),\"kr\":\(f.packing.kr),"
            o += "\"max_abs_weight\":\(f.maxWeightMagnitude),\"zero_copy_here\":\(zeroCopy)},"
            o += "\"arena\":{\"bytes\":\(f.arena.totalBytes),\"image_size\":\(f.arena.imageSize),\"threads\":\(f.arena.threads),"
            o += "\"prompt_capacity\":\(f.arena.promptCapacity),\"buffers\":\(f.arena.buffers.count)},"
            o += "\"sections\":[" + f.sections.map {
                "{\"kind\":\(jsonString($0.kind.name)),\"offset\":\($0.offset),\"bytes\":\($0.length),"
                    + "\"crc32\":\(jsonString(hex($0.crc))),\"checksum\":\"ok\"}"
            }.joined(separator: ",") + "],"
            o += "\"int8_tensors\":\(int8.count),\"float_tensors\":\(floats),\"f16_tensors\":\(halves),\"checksum_ms\":\(fmt(f.checksumSeconds * 1000, 2)),"
            o += "\"tensors\":[" + f.tensors.map { t in
                var e = "{\"name\":\(jsonString(t.name)),\"kind\":\(jsonString(kindName(t.kind))),"
                e += "\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"bytes\":\(t.byteCount)"
                if let g = t.gemm { e += ",\"act_scale\":\(g.actScale),\"act_zero_point\":\(g.actZeroPoint)" }
                return e + "}"
            }.joined(separator: ",") + "]}"
            print(o)
            return
        }
        print("\(model): sam2r model file, format version \(f.version), \(f.fileSize) bytes "
              + "(opened and verified in \(fmt(openMs, 1)) ms, of which CRC-32 \(fmt(f.checksumSeconds * 1000, 1)) ms)")
        print("config: \(cfg.name), input \(cfg.imageSize)², embed_dim \(cfg.embedDim), stages \(cfg.stages), d_model \(cfg.dModel)")
        print("packing: \(layout)" + (zeroCopy ? ", this machine's int8 kernel uses it as mapped (zero copy)"
                                                : ", repacked at load for this machine's int8 kernel")
              + "; int8 weights within ±\(f.maxWeightMagnitude)")
        print("arena: \(f.arena.totalBytes) bytes (\(fmt(Double(f.arena.totalBytes) / 1048576, 1)) MiB) for \(f.arena.imageSize)² "
              + "with \(f.arena.threads) thread(s), \(f.arena.promptCapacity) prompt points, \(f.arena.buffers.count) buffers")
        print("sections:")
        for s in f.sections {
            print("  \(pad(s.kind.name, 8)) offset \(pad(String(s.offset), 10)) \(pad(String(s.length), 10)) bytes  crc32 \(hex(s.crc)) ok")
        }
        print("tensors: \(f.tensors.count) (\(int8.count) int8 GEMMs, \(floats - halves) fp32"
              + (halves > 0 ? ", \(halves) f16)" : ")"))
        for t in f.tensors {
            var line = "  \(kindName(t.kind)) \(t.name) \(t.shape) \(t.byteCount) bytes"
            if let g = t.gemm { line += " act_scale=\(g.actScale) zp=\(g.actZeroPoint)" }
            print(line)
        }
        if let q = f.tableText, let fp = q.split(separator: "\n").first(where: { $0.hasPrefix("fingerprint ") }) {
            print("quantization table: \(fp)")
        }
    }

    func kindName(_ k: ModelFileTensorKind) -> String {
        switch k {
        case .int8Gemm: return "int8"
        case .float16: return "f16"
        case .float32: return "fp32"
        }
    }
    func hex(_ v: UInt32) -> String { let h = String(v, radix: 16); return String(repeating: "0", count: 8 - h.count) + h }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
