/* sam2r_attention.h — fp32 multi-head scaled-dot-product attention, flash-style: keys are streamed
 * in blocks with an online softmax, so no nq x nk score matrix is ever materialized (a global
 * attention of 4096 tokens x 4 heads would need 268 MB).
 *
 * For every batch b, head h and query i:
 *   O[b][i][h*dv + d] = sum_j p_ij V[b][j][h*dv + d],
 *   p_ij = exp(s_ij - max_j s) / sum_j exp(s_ij - max_j s),  s_ij = scale * sum_e Q[b][i][h*dk + e] K[b][j][h*dk + e]
 * Rows are token-major with the heads side by side in the columns (PyTorch's [B, N, heads*dim]
 * before the head split), so Hiera's and the decoder's projections feed it without transposes.
 * The online softmax (running max, rescaled running sum, rescaled output accumulator) differs from a
 * two-pass softmax only by rounding. Its exact operation sequence — base-2 logits, fma chains, keys in
 * blocks of SAM2R_ATTENTION_KEY_BLOCK on every ISA, nm_exp2 — is defined once, in
 * scalar/attention_scalar.c (docs/numerics.md); every variant produces the same bits.
 *
 * Preconditions: batch, heads, nq, nk, dk, dv >= 1; dk, dv <= 256; ldq >= heads*dk, ldk >= heads*dk,
 * ldv >= heads*dv, ldo >= heads*dv; strides in elements; o does not alias q, k or v.
 * Scratch: sam2r_attention_f32_scratch_floats(...) floats per worker thread, 64-byte aligned.
 */
#ifndef SAM2R_ATTENTION_H
#define SAM2R_ATTENTION_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_isa.h"
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keys per online-softmax block, the same on every ISA: block boundaries are where the running max
 * and sum are rescaled, so a different block size would round differently. */
#define SAM2R_ATTENTION_KEY_BLOCK 96

typedef struct sam2r_attention_f32_args {
    int32_t batch, heads, nq, nk, dk, dv;
    const float *q; int32_t ldq; int64_t q_batch_stride;
    const float *k; int32_t ldk; int64_t k_batch_stride;
    const float *v; int32_t ldv; int64_t v_batch_stride;
    float *o; int32_t ldo; int64_t o_batch_stride;
    float scale;
    /* Optional (NULL: not written; must be NULL for sam2r_attention_s8): per (batch, head, query), at
     * ml[((b * heads + h) * nq + i) * 2], the online softmax's final running max m (base-2 logits of the
     * scaled scores) and sum l, so that attentions over disjoint key ranges can be merged:
     * o = sum_r o_r * (l_r * 2^(m_r - M)) / sum_r (l_r * 2^(m_r - M)), M = max_r m_r. */
    float *ml;
    /* Optional (NULL: none; must be NULL for sam2r_attention_s8): added to the keys, laid out exactly like k
     * (same ldk and k_batch_stride): the attention's keys are k + k_add, each element one fp32 add, so the
     * bits are those of the sum written to memory first. Why: the mask decoder's keys are image rows + PE;
     * adding the PE as a key block is read saves writing and re-reading a 4 MB keys + PE tensor per attention. */
    const float *k_add;
    /* Optional, as k_add but IEEE binary16 (at most one of the two): widened exactly as a key block is read,
     * so the bits of k_add holding the widened values; half the bytes of the 4 MB PE stream. */
    const uint16_t *k_add_f16;
} sam2r_attention_f32_args;

/* Computes query rows [q0, q1) of (batch b, head h). `scratch` holds scratch_floats floats. */
typedef void (*sam2r_attention_f32_rows_fn)(const sam2r_attention_f32_args *args, int32_t b, int32_t h,
                                            int32_t q0, int32_t q1, float *scratch);

typedef struct sam2r_attention_f32_ukernel {
    const char *name;       /* e.g. "f32_attention_flash_48xkb96__avx512f" */
    sam2r_isa isa;
    int32_t q_block;        /* most query rows per task (a multiple of q_tile) */
    int32_t q_tile;         /* query rows per micro-tile: tasks split nq in multiples of it */
    int32_t k_block;        /* keys per streamed block */
    sam2r_attention_f32_rows_fn rows;
} sam2r_attention_f32_ukernel;

const sam2r_attention_f32_ukernel *sam2r_attention_f32_ukernel_for(sam2r_isa isa);

/* Floats of scratch one worker needs for these dimensions. */
size_t sam2r_attention_f32_scratch_floats(const sam2r_attention_f32_ukernel *uk, int32_t dk, int32_t dv);

/* Runs all (batch, head, query-block) tasks over `pool`; worker w uses
 * scratch + w * sam2r_attention_f32_scratch_floats(...). `scratch` must hold that many floats
 * times sam2r_pool_threads(pool). */
void sam2r_attention_f32(const sam2r_attention_f32_ukernel *uk, const sam2r_attention_f32_args *args,
                         sam2r_pool *pool, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
