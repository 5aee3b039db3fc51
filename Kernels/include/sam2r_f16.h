/* sam2r_f16.h — IEEE binary16 <-> binary32, the one definition every binary16 store of sam2r uses (the
 * float weights of a .sam2q file, sam2r_gemm_f16w.h; the decoder's skip features and dense PE,
 * sam2r_decoder_tail.h, sam2r_attention.h, sam2r_decoder_i2t.h). Widening is exact; every vector converter
 * gives the scalar one's bits for every input (docs/numerics.md "binary16").
 */
#ifndef SAM2R_F16_H
#define SAM2R_F16_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

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
/* 1 when `isa` has the vector converters above (F16C on x86, which no sam2r_isa level implies; every
 * aarch64 level), else 0. */
int sam2r_f16_vector_supported(sam2r_isa isa);
/* y[i] = sam2r_f32_to_f16(x[i]), i < n, likewise (F16C vcvtps2ph, FCVTN): the same bits for every input. */
void sam2r_f32_to_f16_n(sam2r_isa isa, const float *x, uint16_t *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif
