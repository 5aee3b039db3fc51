// torch.save zip layout: `<root>/data.pkl` (pickle; tensors reference storages by persistent id),
// `<root>/data/<key>` (raw little-endian storage bytes), `<root>/version`, optionally
// `<root>/byteorder`. Accepts `{"model": state_dict}`, `{"state_dict": ...}` or a bare state_dict.

extension Checkpoint {
    convenience init(torchZip file: MappedFile) throws {
        let path = file.path
        let zip = try ZipArchive(file: file)
        func layout(_ s: String) -> CheckpointError { CheckpointError(path: path, .layout(s)) }

        let pickles = zip.entries.filter { e in
            guard e.name.hasSuffix("data.pkl") else { return false }
            let prefix = e.name.dropLast("data.pkl".count)
            return prefix.isEmpty || (prefix.hasSuffix("/") && prefix.dropLast().firstIndex(of: "/") == nil)
        }
        guard pickles.count == 1 else {
            throw layout(pickles.isEmpty ? "zip has no data.pkl (not a torch.save file)" : "zip has \(pickles.count) data.pkl entries")
        }
        let root = String(pickles[0].name.dropLast("data.pkl".count))
        if let bo = zip.entry(named: root + "byteorder") {
            let text = String(decoding: try zip.data(of: bo), as: UTF8.self)
            guard text == "little" else { throw layout("byteorder '\(text)' is not supported (only little)") }
        }

        let value = try Unpickler.load(try zip.data(of: pickles[0], verifyCRC: true), path: path)
        guard case .dict(let top) = value else { throw layout("the pickle holds a \(value.kindName), not a dict") }
        let sd: PickleDict
        if !top.items.isEmpty, top.items.allSatisfy({ if case .tensor = $0.value { return true }; return false }) {
            sd = top
        } else if case .dict(let d)? = top["model"] {
            sd = d
        } else if case .dict(let d)? = top["state_dict"] {
            sd = d
        } else {
            let keys = top.items.map { item -> String in
                if case .string(let k) = item.key { return k }
                return "<\(item.key.kindName)>"
            }
            throw layout("top-level dict has no tensors and no 'model' state_dict (keys: \(keys.prefix(10).joined(separator: ", ")))")
        }

        // Each storage key is read once; a later use must name the same dtype and element count
        // (torch.save never writes one storage under two types), compared without arithmetic.
        var storages: [String: (bytes: UnsafeRawBufferPointer, dtype: TensorDType, count: Int)] = [:]
        var ordered: [(TensorInfo, UnsafeRawBufferPointer)] = []
        ordered.reserveCapacity(sd.items.count)
        for item in sd.items {
            guard case .string(let name) = item.key else { throw layout("state_dict key is a \(item.key.kindName)") }
            guard case .tensor(let t) = item.value else { throw layout("'\(name)' is a \(item.value.kindName), not a tensor") }
            let s = t.storage
            let bytes: UnsafeRawBufferPointer
            if let cached = storages[s.key] {
                guard cached.dtype == s.dtype, cached.count == s.count else {
                    throw CheckpointError(path: path, .tensor(name: name, "storage '\(s.key)' is used with two different sizes or dtypes"))
                }
                bytes = cached.bytes
            } else {
                guard let e = zip.entry(named: root + "data/" + s.key) else {
                    throw CheckpointError(path: path, .tensor(name: name, "storage '\(s.key)' missing from the zip"))
                }
                let data = try zip.data(of: e)
                let (need, o) = s.count.multipliedReportingOverflow(by: s.dtype.byteSize)
                guard !o, need <= data.count else {
                    throw CheckpointError(path: path, .tensor(name: name, "storage '\(s.key)' holds \(data.count) bytes, needs \(s.count) × \(s.dtype.byteSize)"))
                }
                bytes = UnsafeRawBufferPointer(rebasing: data[0..<need])
                storages[s.key] = (bytes, s.dtype, s.count)
            }
            let info = TensorInfo(name: name, dtype: s.dtype, shape: t.shape, strides: t.strides, storageOffset: t.storageOffset)
            ordered.append((info, bytes))
        }
        try self.init(path: path, format: .torchZip, file: file, archive: zip, ordered: ordered)
    }
}
