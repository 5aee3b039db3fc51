// AddedRows.swift — rows a decoder kernel adds as it reads them: the skip features the upscaling tail adds to
// its ConvTranspose output (sam2r_decoder_tail.h) and the dense PE the folded attentions add to the keys
// (sam2r_attention_f32_args.k_add, sam2r_decoder_i2t_args.a_add). Either fp32, or IEEE binary16 widened exactly
// as it is read (the prompt-independent streams of an int8 model, ImageFeatures.skipHalf), or none.

struct AddedRows {
    let f32: UnsafePointer<Float>?
    let f16: UnsafePointer<UInt16>?

    static var none: AddedRows { AddedRows(f32: nil, f16: nil) }

    /// An arena buffer holding fp32 values, or with `half` binary16 values (two per float).
    init(_ b: Buf, half: Bool) {
        self.init(f32: half ? nil : UnsafePointer(b.p),
                  f16: half ? UnsafePointer(UnsafeRawPointer(b.p).assumingMemoryBound(to: UInt16.self)) : nil)
    }

    init(f32: UnsafePointer<Float>?, f16: UnsafePointer<UInt16>?) {
        precondition(f32 == nil || f16 == nil, "added rows are fp32 or binary16, not both")
        self.f32 = f32
        self.f16 = f16
    }
}
