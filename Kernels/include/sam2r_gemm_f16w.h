/* sam2r_gemm_f16w.h — fp32 GEMM whose weights are stored as IEEE binary16 ("f16 weights").
 *
 *   C[m, n] = bias[n] + sum_k A[m, k] * widen(W16[n, k])
 *
 * For the few-row products of the mask decoder's token side (8-16 prompt tokens against 256 x 2048
 * weights), which stream their weights from DRAM once per prompt: half the bytes of fp32. widen() is the
 * exact binary16 -> binary32 conversion, so the result is BIT-IDENTICAL to sam2r_gemm_f32 with the same
 * fp32 micro-kernel over the widened weights: one fma chain over k from the bias (sam2r_gemm_f32.h,
 * docs/numerics.md). The driver widens one NR-column panel at a time into the caller's scratch (per
 * worker), then runs the fp32 micro-kernel `uk` on it; the weights are read from memory once per call.
 *
 * Packed layout (sam2r_pack_f16): data[(n / nr)][k][n % nr], binary16 bits, zero padded — the fp32
 * layout of sam2r_pack_f32 with 2-byte elements.
 */
#ifndef SAM2R_GEMM_F16W_H
#define SAM2R_GEMM_F16W_H

#include <stddef.h>
#include <stdint.h>
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

/* binary16 -> binary32, exact: normals, subnormals, +-0 and +-inf map to the same value. A NaN keeps
 * its sign and payload (f32 mantissa = f16 mantissa << 13) and comes out quiet: a signalling NaN gains
 * the quiet bit (0x00400000), as x86 F16C vcvtph2ps and aarch64 FCVTL (FPCR.DN = 0) deliver it, so that
 * every converter of sam2r_f16_to_f32_n gives these bits for all 65536 inputs. */
float sam2r_f16_to_f32(uint16_t h);
/* binary32 -> binary16, round to nearest, ties to even, through the fp16 subnormals down to +-0 (sign
 * kept); |x| >= 65520 (the midpoint of 65504 and 2^16) and +-inf give +-inf. NaN gives
 * sign | 0x7e00 | (f32 mantissa >> 13): quiet, the payload's top bits kept, exactly x86 F16C vcvtps2ph. */
uint16_t sam2r_f32_to_f16(float x);

/* y[i] = sam2r_f16_to_f32(x[i]) for i < n, the same bits on every isa, with the fastest converter `isa`
 * allows: F16C under the x86 levels when the CPU has it (cpuid, checked once), FCVTL on aarch64, else
 * scalar. `isa` must be one sam2r_isa_supported accepts. No alignment needed. */
void sam2r_f16_to_f32_n(sam2r_isa isa, const uint16_t *x, float *y, size_t n);
/* y[i] = sam2r_f32_to_f16(x[i]), i < n, likewise (F16C vcvtps2ph, FCVTN): the same bits for every input. */
void sam2r_f32_to_f16_n(sam2r_isa isa, const float *x, uint16_t *y, size_t n);

size_t sam2r_pack_f16_size(int32_t n, int32_t k, int32_t nr);
/* w row-major [n][k] binary16 bits with row stride ldw (elements). */
void sam2r_pack_f16(const uint16_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f16 *out);

/* Floats of scratch a call over a pool of `threads` (sam2r_pool_threads) needs: threads * uk->nr * k, one
 * widened panel per worker. */
size_t sam2r_gemm_f16w_scratch_floats(const sam2r_gemm_f32_ukernel *uk, int32_t k, int32_t threads);

/* Preconditions as sam2r_gemm_f32's; scratch 64-byte aligned, sam2r_gemm_f16w_scratch_floats floats.
 * Column panels are split over the pool; bit-identical for any thread count. */
void sam2r_gemm_f16w(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f16w_args *args, float *scratch,
                     sam2r_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
