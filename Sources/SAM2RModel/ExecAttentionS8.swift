// ExecAttentionS8.swift — the int8 flash attention (Kernels/include/sam2r_attention_s8.h) as an Exec op,
// mirroring Exec.attention: same arguments (fp32 Q, K, V, O; heads side by side), scale 1/sqrt(dk), a
// planned scratch Buf. Meant for Hiera's global-attention blocks (4096 tokens): int8 Q·Kᵀ and P·V.
// Unlike the fp32 op, the scratch depends on nk (each task quantizes its head's K and V into it).

import SAM2REngine
import SAM2RKernels

extension Exec {
    /// The int8 attention variant of the active ISA.
    static func attentionS8Kernel() throws -> UnsafePointer<sam2r_attention_s8_ukernel> {
        guard let uk = sam2r_attention_s8_ukernel_for(ISA.active.cValue) else {
            throw EngineError.kernelUnavailable(family: "attention_s8", isa: ISA.active.name)
        }
        return uk
    }

    /// Floats of int8 attention scratch (all workers) for nk keys and head dims dk, dv; +16 floats of
    /// slack like attentionScratchFloats.
    func attentionS8ScratchFloats(nk: Int, dk: Int, dv: Int) throws -> Int {
        let uk = try Exec.attentionS8Kernel()
        return Int(sam2r_attention_s8_scratch_floats(uk, Int32(nk), Int32(dk), Int32(dv))) * threads + 16
    }

    /// Multi-head SDPA with int8 products, heads side by side in the columns; scale 1/sqrt(dk).
    func attentionS8(batch: Int, heads: Int, nq: Int, nk: Int, dk: Int, dv: Int,
                     q: UnsafePointer<Float>, ldq: Int, qStride: Int,
                     k: UnsafePointer<Float>, ldk: Int, kStride: Int,
                     v: UnsafePointer<Float>, ldv: Int, vStride: Int,
                     o: UnsafeMutablePointer<Float>, ldo: Int, oStride: Int, scratch: Buf) throws {
        guard !planning else { return }
        let uk = try Exec.attentionS8Kernel()
        let needed = try attentionS8ScratchFloats(nk: nk, dk: dk, dv: dv)
        precondition(scratch.count >= needed, "attention_s8 scratch: \(scratch.count) < \(needed) floats")
        precondition(UInt(bitPattern: scratch.p) % 64 == 0, "attention_s8 scratch must be 64-byte aligned")
        var args = sam2r_attention_s8_args(
            batch: Int32(batch), heads: Int32(heads), nq: Int32(nq), nk: Int32(nk), dk: Int32(dk), dv: Int32(dv),
            q: q, ldq: Int32(ldq), q_batch_stride: Int64(qStride),
            k: k, ldk: Int32(ldk), k_batch_stride: Int64(kStride),
            v: v, ldv: Int32(ldv), v_batch_stride: Int64(vStride),
            o: o, ldo: Int32(ldo), o_batch_stride: Int64(oStride),
            scale: 1 / Float(dk).squareRoot())
        sam2r_attention_s8(uk, &args, pool?.handle, scratch.p)
    }
}
