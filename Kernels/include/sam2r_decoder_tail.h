/* sam2r_decoder_tail.h — SAM2's mask decoder upscaling tail, fused per piece of an output row.
 *
 * The upscaling's ConvTranspose (kernel = stride = k) runs as a GEMM whose output g is [h*w][ldg]:
 * output pixel (iy*k + ky, ix*k + kx), channel ch is g[iy*w + ix][(ky*k + kx)*C + ch] (col2im with
 * stride = kernel copies, it never sums). These ops scatter g to pixels, add the skip features and apply
 * what follows one piece of an output row at a time in an L1 stack scratch, so the fp32 image goes to
 * memory only when the caller asks for it. Each step is the row-op table's own primitive (add,
 * layernorm, gelu, quantize_s8 of sam2r_rowops.h) on the piece, so the bits are those of the unfused
 * composition (col2im + add, LayerNorm, GELU, quantize) on every ISA, by construction.
 * Work splits over the pool by whole input rows (iy): bit-identical for any thread count.
 * Skip features and outputs are channels-last [h*k][w*k][C], packed. Needs k*C <= SAM2R_TAIL_SCRATCH_FLOATS.
 * The skip features come as fp32 (`skip`) or as IEEE binary16 (`skip_f16`, exactly one of the two non-NULL):
 * binary16 is widened exactly as it is read (sam2r_f16_to_f32_n), so the bits are those of the fp32 path
 * over the widened values, and the prompt-independent stream the tail reads per prompt is half as long
 * (12 MB -> 6 MB at SAM2's shape).
 */
#ifndef SAM2R_DECODER_TAIL_H
#define SAM2R_DECODER_TAIL_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_gemm_s8.h"
#include "sam2r_pool.h"
#include "sam2r_rowops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Floats of one stack scratch piece (8 KB: a piece and its transpose stay in L1 together). */
#define SAM2R_TAIL_SCRATCH_FLOATS 2048

/* Where g comes from when it is not in memory: the int8 ConvTranspose GEMM itself (`args`: all h*w rows,
 * epilogue SAM2R_EPI_F32, n <= ldg; its c and ldc are ignored), run with `uk` one input row (w GEMM rows)
 * at a time into `scratch` + worker * w * ldg, right before that row's pieces read it. g (w*h*ldg floats:
 * 4-8 MB at SAM2's shape) then never goes to memory and back. The GEMM's result does not depend on its
 * tiling (sam2r_gemm_s8.h), so the bits are those of the GEMM into g followed by the op. */
typedef struct sam2r_tail_gemm {
    const sam2r_gemm_s8_ukernel *uk;
    const sam2r_gemm_s8_args *args;
    float *scratch;    /* sam2r_pool_threads(pool) * w * ldg floats */
} sam2r_tail_gemm;

/* In both stages exactly one of g, gemm is non-NULL. */

/* Stage 1: v = gelu(layernorm(col2im(g) + skip)) (LayerNorm over the C channels of each pixel).
 * Exactly one of y, q is non-NULL: y gets v (fp32), or q gets quantize_s8(v, inv_scale, zero_point)
 * (the int8 input of the next GEMM; v never reaches memory). Returns -1, or with q the smallest flat
 * index into v of a NaN quantize input (then q is unspecified). */
int64_t sam2r_par_upscale_norm_gelu(const sam2r_rowops *ops, sam2r_pool *pool, const float *g,
                                    const sam2r_tail_gemm *gemm, int32_t ldg, int32_t h, int32_t w, int32_t channels,
                                    int32_t k, const float *skip, const uint16_t *skip_f16, const float *gamma,
                                    const float *beta, float eps,
                                    float *y, int8_t *q, float inv_scale, int32_t zero_point);

/* Stage 2: u = gelu(col2im(g) + skip), written to y when y is non-NULL, and the mask logits
 *   logits[m * logit_stride + p] = mask_logit(hyper[m], u[p]) for m < masks, p < (h*k)*(w*k),
 * hyper [masks][C]. mask_logit(a, b) is, every product and sum rounded to fp32 (no fused multiply-add):
 *     c8 = C / 8 * 8; r = -0
 *     for j in 0..<8 { s = 0; for ch in stride(j, c8, 8) { s = s + a[ch]*b[ch] }; r = r + s }
 *     for ch in c8..<C { r = r + a[ch]*b[ch] }
 * (eight interleaved partial sums added in lane order: the order of the former per-pixel SIMD8 loop, so
 * masks kept their bits), whatever the vector width; docs/numerics.md "Mask logits". */
void sam2r_par_upscale_gelu_logits(const sam2r_rowops *ops, sam2r_pool *pool, const float *g,
                                   const sam2r_tail_gemm *gemm, int32_t ldg, int32_t h, int32_t w, int32_t channels,
                                   int32_t k, const float *skip, const uint16_t *skip_f16, float *y,
                                   const float *hyper, int32_t masks,
                                   float *logits, int64_t logit_stride);

#ifdef __cplusplus
}
#endif
#endif
