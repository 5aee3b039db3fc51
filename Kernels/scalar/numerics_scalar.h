/* numerics_scalar.h — the scalar vocabulary of numerics_impl.h (private to Kernels/): plain fp32
 * operations, fmaf for the fused steps (one rounding, as vfmadd / FMLA), rintf for round-half-even
 * (the default rounding mode). The scalar reference therefore computes the SIMD variants' bits. */
#ifndef SAM2R_NUMERICS_SCALAR_H
#define SAM2R_NUMERICS_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float nm_pow2i_scalar(float n) {
    const int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#define NM_V float
#define NM_TGT
#define NM_SET1(c) (c)
#define NM_ADD(a, b) ((a) + (b))
#define NM_SUB(a, b) ((a) - (b))
#define NM_MUL(a, b) ((a) * (b))
#define NM_DIV(a, b) ((a) / (b))
#define NM_FMA(a, b, c) fmaf((a), (b), (c))
#define NM_FNMA(a, b, c) fmaf(-(a), (b), (c))
#define NM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NM_ROUND(a) rintf(a)
#define NM_POW2I(n) nm_pow2i_scalar(n)
#include "../numerics_impl.h"

/* The canonical 16-lane sum (docs/numerics.md): lane l = l-th partial of the elements i with
 * i % 16 == l, in increasing i; then lanes l and l + w added for w = 8, 4, 2, 1. */
static inline float nm_sum16_tree(float lane[16]) {
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) lane[l] = lane[l] + lane[l + w];
    return lane[0];
}

#endif
