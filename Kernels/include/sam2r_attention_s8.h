/* sam2r_attention_s8.h — multi-head scaled-dot-product attention with int8 Q·Kᵀ and P·V (flash-style,
 * online softmax over key blocks, like sam2r_attention.h), for Hiera's global-attention blocks: on VNNI
 * and SDOT one instruction does 4x the MACs of an fp32 FMA. Inputs and output are fp32 with the layout
 * of the fp32 kernel (token-major rows, heads side by side in the columns); the quantization is internal.
 *
 * Semantics, per (batch b, head h) — defined once in scalar/attention_s8_scalar.c; every variant and
 * every thread count produces the same bits (docs/numerics.md, "int8 attention"):
 *  1. Symmetric int8 quantization of a group x[0..n) (a Q row, a K row: the head's dk values of one
 *     token; a V column: one channel over all nk tokens): amax = max |x| (exact); amax = 0 gives
 *     x_q = 0 and scale 0; otherwise inv = 127 / amax (one IEEE division), x_q = round-half-even(x * inv)
 *     clamped to [-127, 127], scale = amax / 127 (one IEEE division).
 *     Q per query (sq_i), K per key (sk_j), V per channel (sv_d).
 *  2. Base-2 logits s_ij = ((float)dot_ij * c_i) * sk_j, dot_ij = sum_e q_q[i][e] k_q[j][e] (int32, exact:
 *     |dot| <= dk * 127^2 < 2^24, so the conversion is exact), c_i = sq_i * cs, cs = scale * log2(e).
 *  3. Online softmax over blocks of SAM2R_ATTENTION_KEY_BLOCK keys (m = -FLT_MAX, l = 0, Ot = 0):
 *       mx = max(m, s_ij over the block); p_ij = round-half-even(nm_exp2(s_ij - mx) * 127), an integer
 *       0..127; alpha = nm_exp2(m - mx); l = l * alpha + (float)sum_j p_ij;
 *       acc_d = sum_j p_ij v_q[j][d] (int32, exact); Ot_d = Ot_d * alpha + (float)acc_d; m = mx
 *     (every "a * b + c" here is a multiply then an add: two roundings, no FMA).
 *  4. O[b][i][h*dv + d] = (Ot_d * sv_d) / l_i (a multiply, then an IEEE division).
 * 7-bit P (0..127) makes P·V the same integers as s8 x s8 (SDOT) and u8 x s8 (VNNI).
 * Accuracy: image-embedding SQNR 56-70 dB vs fp32 attention on the tiny model (briefs' attsim.py);
 * output SQNR vs the fp32 kernel on random data is checked by the kernel harness (test_attention_s8.c).
 *
 * Preconditions: as sam2r_attention.h (batch, heads, nq, nk, dk, dv >= 1; dk, dv <= 256; strides >= the
 * heads' widths; o does not alias q, k or v); inputs finite.
 * Scratch: sam2r_attention_s8_scratch_floats(uk, nk, dk, dv) floats per worker thread, 64-byte aligned:
 * each task quantizes its head's K and V into its worker's scratch (O(nk * (dk + dv)), against the
 * O(q_block * nk * (dk + dv)) MACs of the task), so the kernel allocates nothing. */
#ifndef SAM2R_ATTENTION_S8_H
#define SAM2R_ATTENTION_S8_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_attention.h"
#include "sam2r_isa.h"
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The same argument shape as the fp32 kernel: fp32 Q, K, V in, fp32 O out. */
typedef sam2r_attention_f32_args sam2r_attention_s8_args;

/* Computes query rows [q0, q1) of (batch b, head h). */
typedef void (*sam2r_attention_s8_rows_fn)(const sam2r_attention_s8_args *args, int32_t b, int32_t h, int32_t q0,
                                           int32_t q1, float *scratch);

typedef struct sam2r_attention_s8_ukernel {
    const char *name;       /* e.g. "s8_attention_flash_48xkb96__avx512vnni" */
    sam2r_isa isa;
    int32_t q_block;        /* most query rows per task (a multiple of q_tile) */
    int32_t q_tile;         /* query rows per micro-tile */
    int32_t k_block;        /* keys per online-softmax block: SAM2R_ATTENTION_KEY_BLOCK */
    sam2r_attention_s8_rows_fn rows;
} sam2r_attention_s8_ukernel;

const sam2r_attention_s8_ukernel *sam2r_attention_s8_ukernel_for(sam2r_isa isa);

/* Floats of scratch one worker needs for these dimensions (a multiple of 16: 64 bytes). */
size_t sam2r_attention_s8_scratch_floats(const sam2r_attention_s8_ukernel *uk, int32_t nk, int32_t dk, int32_t dv);

/* Runs all (batch, head, query-block) tasks over `pool`; worker w uses
 * scratch + w * sam2r_attention_s8_scratch_floats(...); `scratch` holds that times
 * sam2r_pool_threads(pool) floats, 64-byte aligned. */
void sam2r_attention_s8(const sam2r_attention_s8_ukernel *uk, const sam2r_attention_s8_args *args, sam2r_pool *pool,
                        float *scratch);

#ifdef __cplusplus
}
#endif
#endif
