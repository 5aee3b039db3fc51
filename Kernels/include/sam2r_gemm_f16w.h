/* sam2r_gemm_f16w.h — fp32 GEMM whose weights are stored as IEEE binary16 ("f16 weights").
 *
 *   C[m, n] = bias[n] + sum_k A[m, k] * widen(W16[n, k])
 *
 * For the few-row products of the mask decoder's token side (8-16 prompt tokens against 256 x 2048
 * weights), which stream their weights from DRAM once per prompt: half the bytes of fp32. widen() is the
 * exact binary16 -> binary32 conversion, so the result is BIT-IDENTICAL to sam2r_gemm_f32 with the same
 * fp32 micro-kernel over the widened weights: one fma chain over k from the bias (sam2r_gemm_f32.h,
 * docs/numerics.md). Where `uk` has a binary16 twin (uk->rect_f16w: AVX2 with F16C, every aarch64 level)
 * and the CPU has the converters (sam2r_f16_vector_supported), the twin runs the same tiles with the weight
 * loads widened in registers and the scratch is not touched. Otherwise the driver widens one NR-column
 * panel at a time into the caller's scratch (per worker) and runs the fp32 micro-kernel `uk` on it.
 *
 * Packed layout (sam2r_pack_f16): data[(n / nr)][k][n % nr], binary16 bits, zero padded — the fp32
 * layout of sam2r_pack_f32 with 2-byte elements. Conversions: sam2r_f16.h.
 */
#ifndef SAM2R_GEMM_F16W_H
#define SAM2R_GEMM_F16W_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_f16.h"
#include "sam2r_gemm_f32.h"
#include "sam2r_isa.h"
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_packed_f16 {
    int32_t n, k, nr;
    uint16_t *data;   /* sam2r_pack_f16_size(n, k, nr) bytes, 64-byte aligned */
} sam2r_packed_f16;

typedef struct sam2r_gemm_f16w_args {
    int32_t m, n, k;
    const float *a;
    int32_t lda;
    const sam2r_packed_f16 *w;   /* packed with uk->nr */
    const float *bias;           /* n entries or NULL */
    float *c;
    int32_t ldc;
} sam2r_gemm_f16w_args;

size_t sam2r_pack_f16_size(int32_t n, int32_t k, int32_t nr);
/* w row-major [n][k] binary16 bits with row stride ldw (elements). */
void sam2r_pack_f16(const uint16_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f16 *out);

/* Floats of scratch a call over a pool of `threads` (sam2r_pool_threads) needs: threads * uk->nr * k, one
 * widened panel per worker (the widening path's; a binary16 twin leaves it untouched). */
size_t sam2r_gemm_f16w_scratch_floats(const sam2r_gemm_f32_ukernel *uk, int32_t k, int32_t threads);

/* Preconditions as sam2r_gemm_f32's; scratch 64-byte aligned, sam2r_gemm_f16w_scratch_floats floats.
 * Column panels are split over the pool; bit-identical for any thread count. */
void sam2r_gemm_f16w(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f16w_args *args, float *scratch,
                     sam2r_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
