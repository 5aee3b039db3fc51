/* sam2r_decoder_i2t.h — the mask decoder's image -> token attention (folded, FoldedAttention.swift) and the
 * residual LayerNorm after it, in one pass over the image rows.
 *
 * Per block of image rows: scores = A W_s^T (+ bias_s) [rows][heads * tokens], a softmax over each head's
 * `tokens` scores, out = P W_o^T + bias_o [rows][dim], then y = LayerNorm(x (+ row) + out) and
 * y_pe = y + pe (sam2r_rowops_par.h residual layernorm). The scores and `out` live in a stack block, never
 * in memory: 10 MB less traffic per call at SAM2's 4096 x 256. Every step is the kernel the separate calls
 * use on whole rows (sam2r_gemm_f32 rect, the short-row or row softmax, the row ops), so the bits are those
 * of sam2r_gemm_f32 + softmax + sam2r_par_residual_layernorm run one after the other, for any thread count.
 */
#ifndef SAM2R_DECODER_I2T_H
#define SAM2R_DECODER_I2T_H

#include <stdint.h>
#include "sam2r_gemm_f32.h"
#include "sam2r_pool.h"
#include "sam2r_rowops.h"
#include "sam2r_softmax_short.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest heads * tokens and dim the stack block holds. */
#define SAM2R_DECODER_I2T_MAX_SCORES 512
#define SAM2R_DECODER_I2T_MAX_DIM 1024

typedef struct sam2r_decoder_i2t_args {
    int32_t rows, heads, tokens, dim;
    const float *a;                /* [rows][lda]: image-side queries, w_s->k columns read */
    int32_t lda;
    const float *a_add;            /* NULL, or [rows][lda] added to a (one fp32 add per element: the bits of
                                      the sum written first; the decoder's queries are image rows + PE) */
    const sam2r_packed_f32 *w_s;   /* [n = heads * tokens][k] */
    const float *bias_s;           /* [heads * tokens] or NULL */
    const sam2r_packed_f32 *w_o;   /* [n = dim][k = heads * tokens] */
    const float *bias_o;           /* [dim] or NULL */
    const float *x;                /* [rows][dim] residual input (may be y) */
    const float *row;              /* [dim] added to every row of x first, or NULL */
    const float *gamma, *beta;     /* [dim] */
    float eps;
    const float *pe;               /* [rows][dim] (read only for y_pe) */
    float *y, *y_pe;               /* [rows][dim] each; y_pe may be NULL (not written) */
    const uint16_t *a_add_f16;     /* NULL, or a_add as IEEE binary16 (at most one of the two), widened exactly as
                                      each block is read: the bits of a_add holding the widened values */
    /* Block-diagonal scores (each head's tokens against its own head_dim columns of a, as the decoder's cached
     * layer 0 computes them) without most of their zero blocks: NULL, or heads / group_heads matrices used
     * instead of w_s. Group j covers heads j * group_heads ..< (j + 1) * group_heads: [n = group_heads * tokens]
     * [k = group_heads * head_dim], reading a's columns from j * k, writing the scores of its heads. Each
     * skipped column multiplied an exact zero weight, so for finite a the fma chains, and the bits, are those
     * of the whole block-diagonal w_s, at group_heads / heads of its MACs. */
    const sam2r_packed_f32 *w_s_groups;
    int32_t group_heads;
} sam2r_decoder_i2t_args;

/* Returns 0, or -1 when heads * tokens or dim (or, with a_add or a_add_f16, the scores' depth) exceed the
 * block, or group_heads does not divide heads (nothing written). `softmax_short` may be NULL (rows go through ops->softmax: the same bits). */
int sam2r_decoder_i2t(const sam2r_gemm_f32_ukernel *gemm, const sam2r_rowops *ops,
                      sam2r_softmax_short_fn softmax_short, const sam2r_decoder_i2t_args *args, sam2r_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
