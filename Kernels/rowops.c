/* rowops.c — the row-op variant table: sam2r_rowops_for(isa) returns the variant of `isa`, or of
 * the nearest lower level of the same architecture that has one, ending at scalar. */
#include "sam2r_rowops.h"

#include <stddef.h>

extern const sam2r_rowops sam2r_f32_rowops_scalar;
#if defined(__x86_64__)
extern const sam2r_rowops sam2r_f32_rowops_avx2;
extern const sam2r_rowops sam2r_f32_rowops_avx512;
#endif
#if defined(__aarch64__)
extern const sam2r_rowops sam2r_f32_rowops_neon;
#endif

const sam2r_rowops *sam2r_rowops_for(sam2r_isa isa) {
    switch (isa) {
    case SAM2R_ISA_SCALAR: return &sam2r_f32_rowops_scalar;
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2:
    case SAM2R_ISA_AVXVNNI: return &sam2r_f32_rowops_avx2;   /* VEX VNNI adds nothing to float ops */
    case SAM2R_ISA_AVX512VNNI: return &sam2r_f32_rowops_avx512;
#else
    case SAM2R_ISA_AVX2:
    case SAM2R_ISA_AVXVNNI:
    case SAM2R_ISA_AVX512VNNI: return NULL;
#endif
#if defined(__aarch64__)
    case SAM2R_ISA_NEON:
    case SAM2R_ISA_DOTPROD:
    case SAM2R_ISA_I8MM: return &sam2r_f32_rowops_neon;
#else
    case SAM2R_ISA_NEON:
    case SAM2R_ISA_DOTPROD:
    case SAM2R_ISA_I8MM: return NULL;
#endif
    default: return NULL;
    }
}
