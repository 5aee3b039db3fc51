/* softmax_short_impl.h — the body of the short-row softmax (sam2r_softmax_short.h), written once over
 * the numerics vocabulary (NM_V, NM_ADD, NM_SUB, NM_MUL, NM_DIV, NM_MAX, NM_SET1, nm_exp) plus
 * SS_VL (lanes), SS_LOAD / SS_STORE (aligned vector load / store) and SS_NAME. Private to Kernels/.
 *
 * A block of SS_VL rows is transposed into t[col][lane] (scalar moves: the rows are a few floats),
 * computed column by column with one row per lane, and transposed back. Lanes past the last row are
 * zeros, computed and never stored. Per lane the sequence is softmax_scalar's:
 *   mx = x0, then mx = x_i > mx ? x_i : mx   (NM_MAX(x_i, mx) returns mx unless x_i > mx, as the x86
 *                                            max instructions return their second operand on ties)
 *   e_i = exp(x_i - mx); lane i of the 16-lane sum holds 0 + e_i, lanes >= cols hold +0;
 *   pairwise tree 8, 4, 2, 1; inv = 1 / sum; y_i = e_i * inv. */
#ifndef SAM2R_SOFTMAX_SHORT_IMPL_H
#define SAM2R_SOFTMAX_SHORT_IMPL_H

#include <stddef.h>
#include <stdint.h>

static NM_TGT void SS_NAME(const float *x, float *y, int32_t rows, int32_t cols) {
    float t[16][SS_VL] __attribute__((aligned(64)));
    const NM_V zero = NM_SET1(0.0f);
    for (int32_t r0 = 0; r0 < rows; r0 += SS_VL) {
        const int32_t nr = rows - r0 < SS_VL ? rows - r0 : SS_VL;
        const float *xb = x + (size_t)r0 * (size_t)cols;
        for (int32_t r = 0; r < SS_VL; r++)
            for (int32_t i = 0; i < cols; i++) t[i][r] = r < nr ? xb[(size_t)r * (size_t)cols + i] : 0.0f;
        NM_V mx = SS_LOAD(t[0]);
        for (int32_t i = 1; i < cols; i++) mx = NM_MAX(SS_LOAD(t[i]), mx);
        NM_V lane[16];
        for (int32_t i = 0; i < 16; i++) lane[i] = zero;
        for (int32_t i = 0; i < cols; i++) {
            const NM_V e = nm_exp(NM_SUB(SS_LOAD(t[i]), mx));
            SS_STORE(t[i], e);
            lane[i] = NM_ADD(zero, e);
        }
        for (int32_t w = 8; w >= 1; w /= 2)
            for (int32_t l = 0; l < w; l++) lane[l] = NM_ADD(lane[l], lane[l + w]);
        const NM_V inv = NM_DIV(NM_SET1(1.0f), lane[0]);
        for (int32_t i = 0; i < cols; i++) SS_STORE(t[i], NM_MUL(SS_LOAD(t[i]), inv));
        float *yb = y + (size_t)r0 * (size_t)cols;
        for (int32_t r = 0; r < nr; r++)
            for (int32_t i = 0; i < cols; i++) yb[(size_t)r * (size_t)cols + i] = t[i][r];
    }
}

#endif
