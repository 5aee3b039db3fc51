/* sam2r_gemm_s8.h — int8 x int8 -> int32 GEMM with per-output-channel scales and a fused epilogue.
 *
 *   C[m, n] = epilogue( sum_k A[m, k] * W[n, k]  -  a_zero_point * wsum[n]  +  bias[n] )
 *
 * A: activations, row-major M x K (row stride lda), int8 in [-128, 127], per-tensor zero point.
 * W: weights in PyTorch Linear layout [N, K] (out, in), symmetric per output channel, values in
 *    [-127, 127] (-128 is excluded so that two products always fit int16: the AVX2 and NEON
 *    variants rely on it). Packed once, at load, by sam2r_pack_s8 into the layout the chosen
 *    variant wants: blocks of NR output channels, K split in groups of KR, zero padded:
 *        data[(n / NR)][(k / KR)][n % NR][k % KR],   wsum[n] = sum_k W[n, k]
 * Epilogue: SAM2R_EPI_S8 requantizes to int8 (see sam2r_requant.h: the one rule),
 *           SAM2R_EPI_F32 dequantizes to fp32 ((float)acc * scale[n]).
 *
 * Preconditions (checked by the Swift layer, assert()ed here in debug builds):
 *   1 <= m, n, k;  k <= 65536 (int32 accumulator cannot overflow: 65536 * 128 * 127 < 2^31);
 *   lda >= k; ldc >= n; packed->n == n, packed->k == k; packed layout made for the variant's NR/KR;
 *   scale has n finite entries; bias is NULL or has n entries; qmin <= qmax within [-128, 127];
 *   packed->data 64-byte aligned. A, C may have any alignment. A is only read at [0, k) per row.
 * Results are bit-identical across variants, thread counts and tilings.
 */
#ifndef SAM2R_GEMM_S8_H
#define SAM2R_GEMM_S8_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_isa.h"
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_packed_s8 {
    int32_t n, k;      /* logical weight shape [n, k] */
    int32_t nr, kr;    /* layout: NR channels per block, K grouped by KR */
    int8_t *data;      /* sam2r_pack_s8_size(n, k, nr, kr) bytes, 64-byte aligned */
    int32_t *wsum;     /* n entries: sum_k W[n, k] (for the activation zero point) */
} sam2r_packed_s8;

typedef enum sam2r_epilogue { SAM2R_EPI_S8 = 0, SAM2R_EPI_F32 = 1 } sam2r_epilogue;

typedef struct sam2r_gemm_s8_args {
    int32_t m, n, k;
    const int8_t *a;
    int32_t lda;
    int32_t a_zero_point;           /* in [-128, 127] */
    const sam2r_packed_s8 *w;
    const int32_t *bias;            /* n entries in accumulator units, or NULL */
    const float *scale;             /* n entries */
    sam2r_epilogue epilogue;
    int32_t out_zero_point;         /* SAM2R_EPI_S8 only */
    int32_t qmin, qmax;             /* SAM2R_EPI_S8 only; usually -128, 127 */
    void *c;                        /* int8_t* (S8) or float* (F32), row-major, stride ldc elements */
    int32_t ldc;
} sam2r_gemm_s8_args;

/* A variant: computes the rectangle rows [m0, m1) x columns [n0, n1) of C.
 * n0 is a multiple of nr; m0, m1, n1 arbitrary within bounds. */
typedef void (*sam2r_gemm_s8_rect_fn)(const sam2r_gemm_s8_args *args,
                                      int32_t m0, int32_t m1, int32_t n0, int32_t n1);

typedef struct sam2r_gemm_s8_ukernel {
    const char *name;     /* XNNPACK-style: e.g. "qs8_qc8w_gemm_fp32_4x16c4__avx512vnni" */
    sam2r_isa isa;
    int32_t mr, nr, kr;   /* micro-tile rows/cols and K grouping of the packed layout */
    sam2r_gemm_s8_rect_fn rect;
} sam2r_gemm_s8_ukernel;

/* The kernel of variant `isa`, or NULL if this build has none for it (e.g. NEON on x86).
 * Does not check CPU support: pair with sam2r_isa_supported(). */
const sam2r_gemm_s8_ukernel *sam2r_gemm_s8_ukernel_for(sam2r_isa isa);

/* Weights of magnitude at most this allow the narrow-weight kernels (a 7-bit quantization: |q| <= 63). */
#define SAM2R_S8_NARROW_WEIGHT_MAX 64

/* The variant of `isa` for narrow weights (every |W| <= SAM2R_S8_NARROW_WEIGHT_MAX), or NULL when `isa` has
 * none: AVX2 (vpmaddubsw, exact only for such weights: 1.2-1.3x the 8-bit avx2 GEMM on Zen 3). Same
 * contract and results as the 8-bit kernels otherwise; the caller checks the weights. */
const sam2r_gemm_s8_ukernel *sam2r_gemm_s8_narrow_ukernel_for(sam2r_isa isa);

/* Bytes of packed data for an [n, k] weight in layout (nr, kr): ceil(n/nr)*nr * ceil(k/kr)*kr. */
size_t sam2r_pack_s8_size(int32_t n, int32_t k, int32_t nr, int32_t kr);

/* Packs W [n, k] (row stride ldw) into `out` (whose data/wsum the caller provides); sets out->n/k/nr/kr. */
void sam2r_pack_s8(const int8_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, int32_t kr,
                   sam2r_packed_s8 *out);

/* Runs the GEMM with kernel `uk`, split into tiles over `pool` (NULL: calling thread only).
 * The split never changes results. */
void sam2r_gemm_s8(const sam2r_gemm_s8_ukernel *uk, const sam2r_gemm_s8_args *args, sam2r_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
