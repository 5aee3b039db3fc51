// RefinerConfig.swift — the hyper-parameters of the SAM2Refiner modules (docs/refiner.md, "Config"):
// the optional `refiner` object of a model config. Absent: plain SAM2.1.

public struct RefinerConfig: Sendable, Equatable {
    /// 0: local maps from the full image's own features; 4: four quadrant encoder passes.
    public var localViews: Int
    public var laLayers: Int
    public var laHeads: Int
    /// Side of an LA query window of the image embedding (keys: the aligned 2x window of Lloc2).
    public var laWindow: Int
    /// MR channels at L and 2L.
    public var mrWidth: Int
    /// MR channels at 4L = S.
    public var mrWidthFull: Int

    /// The doc's defaults for a model with `dModel` channels (la_heads = max(1, C / 32)).
    public init(dModel: Int, localViews: Int = 0, laLayers: Int = 2, laHeads: Int? = nil, laWindow: Int = 8,
                mrWidth: Int = 32, mrWidthFull: Int = 16) {
        self.localViews = localViews
        self.laLayers = laLayers
        self.laHeads = laHeads ?? max(1, dModel / 32)
        self.laWindow = laWindow
        self.mrWidth = mrWidth
        self.mrWidthFull = mrWidthFull
    }

    /// Throws `ModelError.invalidConfig` unless the modules can run on a model with `dModel` channels
    /// and an image embedding of side `embedSize`.
    public func validate(dModel: Int, embedSize: Int) throws {
        func bad(_ field: String, _ why: String) -> ModelError { .invalidConfig(field: "refiner." + field, reason: why) }
        guard localViews == 0 || localViews == 4 else { throw bad("local_views", "\(localViews) is not 0 or 4") }
        guard (1...64).contains(laLayers) else { throw bad("la_layers", "\(laLayers) outside 1...64") }
        guard laHeads >= 1, dModel % laHeads == 0 else {
            throw bad("la_heads", "\(laHeads) must be >= 1 and divide d_model \(dModel)")
        }
        // The flash attention kernel handles head dims up to 256.
        guard dModel / laHeads <= 256 else { throw bad("la_heads", "head dim \(dModel / laHeads) > 256") }
        guard laWindow >= 1, embedSize % laWindow == 0 else {
            throw bad("la_window", "\(laWindow) must be >= 1 and divide the image-embedding side \(embedSize)")
        }
        guard (1...4096).contains(mrWidth) else { throw bad("mr_width", "\(mrWidth) outside 1...4096") }
        guard (1...4096).contains(mrWidthFull) else { throw bad("mr_width_full", "\(mrWidthFull) outside 1...4096") }
    }
}
