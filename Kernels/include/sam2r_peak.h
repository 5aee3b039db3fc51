/* sam2r_peak.h — measured single-core peak of a variant's MAC instruction.
 *
 * A register-only loop of independent accumulator chains of the variant's multiply-accumulate
 * instruction (e.g. vpdpbusd zmm for avx512vnni, SDOT for dotprod, FMA for fp32), timed on the
 * calling thread. It is the denominator of "% of peak" in `sam2r bench kernels`.
 */
#ifndef SAM2R_PEAK_H
#define SAM2R_PEAK_H

#include "sam2r_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* S8_NARROW: the int8 sequence of the variant's narrow-weight GEMM (sam2r_gemm_s8_narrow_ukernel_for),
 * only where it has one (AVX2: vpmaddubsw + vpmaddwd + vpaddd). */
typedef enum sam2r_peak_kind { SAM2R_PEAK_S8 = 0, SAM2R_PEAK_F32 = 1, SAM2R_PEAK_S8_NARROW = 2 } sam2r_peak_kind;

/* GMAC/s of the loop, measured for about `seconds`; 0 if the variant has no such loop or the
 * CPU does not support it. */
double sam2r_peak_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds);

/* Name of the instruction the loop times, e.g. "vpdpbusd zmm"; "" if none. */
const char *sam2r_peak_instruction(sam2r_isa isa, sam2r_peak_kind kind);

#ifdef __cplusplus
}
#endif
#endif
