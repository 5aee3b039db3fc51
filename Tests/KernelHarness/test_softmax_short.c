/* test_softmax_short.c — sam2r_softmax_short.h: every variant bit-identical to the scalar rowops
 * softmax (its reference) for each width 1..16, row counts around the lane widths (partial last
 * blocks), both score ranges, out of place and in place; NULL only where no variant exists. */
#include "harness.h"
#include "sam2r_rowops.h"
#include "sam2r_softmax_short.h"

#include <stdlib.h>
#include <string.h>

void test_softmax_short(void) {
    harness_rng rng = {0x736d73686f7274ull};
    const sam2r_rowops *ref = sam2r_rowops_for(SAM2R_ISA_SCALAR);
    harness_check(sam2r_softmax_short_for(SAM2R_ISA_SCALAR) == NULL, "softmax_short: scalar has no variant");
    sam2r_isa isas[SAM2R_ISA_COUNT];
    const int n = harness_variants(isas);
    const int32_t rows_list[] = {1, 7, 8, 9, 16, 17, 40, 333};
    for (int v = 0; v < n; v++) {
        const sam2r_softmax_short_fn fn = sam2r_softmax_short_for(isas[v]);
#if defined(__x86_64__)
        harness_check(fn != NULL, "softmax_short: no variant for %s", sam2r_isa_name(isas[v]));
#endif
        if (!fn) continue;
        for (int32_t cols = 1; cols <= SAM2R_SOFTMAX_SHORT_MAX_COLS; cols++)
            for (size_t ri = 0; ri < sizeof rows_list / sizeof rows_list[0]; ri++)
                for (int kind = 0; kind < 2; kind++) {
                    const int32_t rows = rows_list[ri];
                    const float range = kind ? 80.0f : 5.0f;
                    const size_t count = (size_t)rows * (size_t)cols;
                    float *x = harness_alloc(count * 4), *ys = harness_alloc(count * 4);
                    float *yv = harness_alloc(count * 4), *yi = harness_alloc(count * 4);
                    for (size_t i = 0; i < count; i++) x[i] = harness_float(&rng, -range, range);
                    /* ties (equal maxima, +0 against -0) in a few rows */
                    if (cols > 1 && rows > 2) { x[cols] = x[cols + 1]; x[2 * cols] = 0.0f; x[2 * cols + 1] = -0.0f; }
                    ref->softmax(x, cols, ys, cols, rows, cols);
                    fn(x, yv, rows, cols);
                    memcpy(yi, x, count * 4);
                    fn(yi, yi, rows, cols);
                    double md, mi;
                    const size_t nd = harness_bitdiff(ys, yv, rows, cols, cols, &md);
                    const size_t ni = harness_bitdiff(ys, yi, rows, cols, cols, &mi);
                    harness_check(nd == 0 && ni == 0,
                                  "softmax_short %s rows=%d cols=%d range %g: %zu (in place %zu) outputs differ "
                                  "from scalar (max %.3g)", sam2r_isa_name(isas[v]), rows, cols, (double)range, nd, ni,
                                  md > mi ? md : mi);
                    free(x); free(ys); free(yv); free(yi);
                }
    }
}
