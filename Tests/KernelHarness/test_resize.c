/* test_resize.c — resize kernels vs PyTorch: outputs of F.interpolate (CPU fp32) committed in
 * data/resize_vectors.h by tools/reference/kernel_vectors.py, on the input both sides generate
 * exactly (((k * 7919) % 1000) / 1000 - 0.5 in float).
 *
 * Bound: max |got - torch| <= 2.5e-7 * max(1, max |torch|) per case, ~4 ulp at 0.5 (indices and
 * weights match ATen's x86 build bit for bit, see resize.c; the sums may be fused differently: 1 ulp
 * seen). An unfused source index already costs ~1e-6; index or weight errors are >= 1e-3.
 * Identity sizes must be exact copies. Every case runs with 1, 2 and 3 threads (results must be bit-identical), and the scratch
 * size is checked with a sentinel just past the reported size. Nearest x2 is checked exactly. */
#include "harness.h"
#include "data/resize_vectors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESIZE_MAX_ABS_REL 2.5e-7

static float input_value(size_t k) { return (float)(int)((k * 7919) % 1000) / 1000.0f - 0.5f; }

void test_resize(void) {
    double worst = 0;
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    for (size_t v = 0; v < sizeof resize_vectors / sizeof resize_vectors[0]; v++) {
        const resize_vector *rv = &resize_vectors[v];
        const size_t nin = (size_t)rv->in_h * rv->in_w * rv->c, nout = (size_t)rv->out_h * rv->out_w * rv->c;
        float *x = harness_alloc(nin * sizeof(float));
        for (size_t k = 0; k < nin; k++) x[k] = input_value(k);
        const size_t ns = sam2r_resize_scratch_floats((sam2r_resize_mode)rv->mode, rv->in_h, rv->in_w, rv->out_h,
                                                      rv->out_w, rv->c);
        float *scratch = harness_alloc((ns + 1) * sizeof(float));
        float *y[3];
        for (int t = 0; t < 3; t++) {
            y[t] = harness_alloc(nout * sizeof(float));
            scratch[ns] = 777.0f;
            sam2r_resize_f32((sam2r_resize_mode)rv->mode, x, rv->in_h, rv->in_w, rv->c, y[t], rv->out_h, rv->out_w,
                             scratch, pools[t]);
            harness_check(scratch[ns] == 777.0f, "resize %s: scratch overrun", rv->name);
        }
        double maxref = 0, maxerr = 0;
        for (size_t k = 0; k < nout; k++) {
            maxref = fmax(maxref, fabs(rv->out[k]));
            maxerr = fmax(maxerr, fabs((double)y[0][k] - rv->out[k]));
        }
        if (getenv("HARNESS_VERBOSE")) printf("  %s: max abs err %.3g (max |ref| %.3g)\n", rv->name, maxerr, maxref);
        if (maxerr / fmax(1.0, maxref) > worst) worst = maxerr / fmax(1.0, maxref);
        harness_check(maxerr <= RESIZE_MAX_ABS_REL * fmax(1.0, maxref), "resize %s vs torch: max abs err %.3g",
                      rv->name, maxerr);
        harness_check(memcmp(y[0], y[1], nout * sizeof(float)) == 0 && memcmp(y[0], y[2], nout * sizeof(float)) == 0,
                      "resize %s: thread count changes the result", rv->name);
        if (rv->in_h == rv->out_h && rv->in_w == rv->out_w)
            harness_check(memcmp(y[0], x, nout * sizeof(float)) == 0, "resize %s: identity is not a copy", rv->name);
        for (int t = 0; t < 3; t++) free(y[t]);
        free(scratch);
        free(x);
    }
    printf("resize: worst max-abs error vs torch %.3g\n", worst);
    /* Identity sizes in every mode are exact copies. */
    for (int mode = 0; mode < 3; mode++) {
        const int32_t h = 6, w = 9, c = 5;
        float *x = harness_alloc((size_t)h * w * c * sizeof(float)), *y = harness_alloc((size_t)h * w * c * sizeof(float));
        for (size_t k = 0; k < (size_t)h * w * c; k++) x[k] = input_value(k * 3 + 1);
        float *scratch = harness_alloc(sam2r_resize_scratch_floats((sam2r_resize_mode)mode, h, w, h, w, c) * sizeof(float));
        sam2r_resize_f32((sam2r_resize_mode)mode, x, h, w, c, y, h, w, scratch, pools[1]);
        harness_check(memcmp(x, y, (size_t)h * w * c * sizeof(float)) == 0, "resize mode %d identity copy", mode);
        free(x); free(y); free(scratch);
    }
    /* Nearest x2. */
    {
        const int32_t h = 5, w = 7, c = 3;
        float *x = harness_alloc((size_t)h * w * c * sizeof(float)), *y = harness_alloc((size_t)4 * h * w * c * sizeof(float));
        for (size_t k = 0; k < (size_t)h * w * c; k++) x[k] = input_value(k);
        sam2r_upsample_nearest2x_f32(x, h, w, c, y);
        int ok = 1;
        for (int32_t i = 0; i < 2 * h; i++)
            for (int32_t j = 0; j < 2 * w; j++)
                for (int32_t ch = 0; ch < c; ch++)
                    ok &= y[((size_t)i * 2 * w + j) * c + ch] == x[((size_t)(i / 2) * w + j / 2) * c + ch];
        harness_check(ok, "nearest x2 5x7x3");
        free(x); free(y);
    }
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
