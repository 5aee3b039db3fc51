/* sam2r_gemm_f32.h — fp32 GEMM with bias, for the float reference path.
 *
 *   C[m, n] = bias[n] + sum_k A[m, k] * W[n, k]
 *
 * A row-major M x K (stride lda); W in PyTorch Linear layout [N, K], packed once at load by
 * sam2r_pack_f32 into blocks of NR output channels: data[(n / NR)][k][n % NR] (zero padded).
 * Every output is one fma chain over k = 0, 1, ... from the bias (scalar/gemm_f32_scalar.c), in
 * every variant, tile and thread split: results are bit-identical to the scalar reference
 * (docs/numerics.md).
 *
 * Preconditions: 1 <= m, n, k; lda >= k; ldc >= n; packed->n == n, packed->k == k with the
 * variant's NR; bias NULL or n entries; packed->data 64-byte aligned.
 */
#ifndef SAM2R_GEMM_F32_H
#define SAM2R_GEMM_F32_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_isa.h"
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_packed_f32 {
    int32_t n, k, nr;
    float *data;      /* sam2r_pack_f32_size(n, k, nr) bytes, 64-byte aligned */
} sam2r_packed_f32;

typedef struct sam2r_gemm_f32_args {
    int32_t m, n, k;
    const float *a;
    int32_t lda;
    const sam2r_packed_f32 *w;
    const float *bias;   /* n entries or NULL */
    float *c;
    int32_t ldc;
} sam2r_gemm_f32_args;

typedef void (*sam2r_gemm_f32_rect_fn)(const sam2r_gemm_f32_args *args,
                                       int32_t m0, int32_t m1, int32_t n0, int32_t n1);

struct sam2r_gemm_f16w_args;   /* sam2r_gemm_f16w.h */
typedef void (*sam2r_gemm_f16w_rect_fn)(const struct sam2r_gemm_f16w_args *args,
                                        int32_t m0, int32_t m1, int32_t n0, int32_t n1);

typedef struct sam2r_gemm_f32_ukernel {
    const char *name;    /* e.g. "f32_gemm_6x32__avx512f" */
    sam2r_isa isa;       /* the ISA level it is dispatched under (avx512 fp32 under avx512vnni, ...) */
    int32_t mr, nr;
    sam2r_gemm_f32_rect_fn rect;
    /* The same tiles over binary16 weights widened in registers (sam2r_gemm_f16w.h), or NULL. It may need
     * a vector converter beyond the ISA level (F16C): sam2r_gemm_f16w checks sam2r_f16_vector_supported. */
    sam2r_gemm_f16w_rect_fn rect_f16w;
} sam2r_gemm_f32_ukernel;

const sam2r_gemm_f32_ukernel *sam2r_gemm_f32_ukernel_for(sam2r_isa isa);
/* A variant with 64-column panels for products whose N is 64 or a multiple of it, called a few rows at a
 * time (the decoder's image -> token GEMMs, sam2r_decoder_i2t.h), where the regular variant's panel width
 * leaves a mostly empty last panel; NULL where the ISA has none (use sam2r_gemm_f32_ukernel_for's). Same
 * contract and bits as every other variant. */
const sam2r_gemm_f32_ukernel *sam2r_gemm_f32_n64_ukernel_for(sam2r_isa isa);
size_t sam2r_pack_f32_size(int32_t n, int32_t k, int32_t nr);
void sam2r_pack_f32(const float *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f32 *out);
void sam2r_gemm_f32(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f32_args *args, sam2r_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
