/* test_rowops.c — row ops: the scalar reference against double-precision formulas, every supported
 * variant against the scalar reference BIT-EXACT (docs/numerics.md: one canonical operation sequence,
 * 16-lane sums, the same exp / erf).
 *
 * Scalar reference vs double (NMSE = sum (ref - got)^2 / sum ref^2):
 *  - layernorm, softmax: <= 1e-11. Each output carries a few fp32 roundings (relative ~1e-7, NMSE
 *    ~1e-14); the exp approximation adds ~2 ulp. 1e-11 is far above that and far below any real
 *    bug (a wrong statistic or a missed tail element gives >= 1e-6). The large-offset rows
 *    (1000 + noise of 1e-2) would give NMSE ~1e-5 with a naive fp32 mean/variance: they prove the
 *    corrected two-pass statistics.
 *  - gelu: NMSE <= 1e-11 and max abs error <= 3e-6 against double 0.5 x (1 + erf(x / sqrt 2)) over
 *    [-10, 10] (the erf approximation is <= 3.1e-7 abs, times 0.5 |x| <= 5, plus rounding).
 * Variants vs scalar: tolerance 0 for every op, on every column count of cols_list (each residue mod
 * 16, so every tail path of the 8-, 16- and 4x4-lane layouts). */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ROWOPS_NMSE_BOUND
#define ROWOPS_NMSE_BOUND 1e-11
#endif
#ifndef GELU_ABS_BOUND
#define GELU_ABS_BOUND 3e-6
#endif

/* Every residue mod 16 (2, 4, 5, 6, 9, 10, 11, 12, 13, 14 included): the tail paths of each layout. */
static const int32_t cols_list[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 25, 30, 31, 32, 33, 43,
                                    45, 63, 65, 90, 96, 257, 384, 768, 1000};
#define NCOLS ((int)(sizeof cols_list / sizeof cols_list[0]))

static double nmse_strided(const float *ref, const float *got, int32_t rows, int32_t cols, int32_t ld) {
    double num = 0, den = 0;
    for (int32_t r = 0; r < rows; r++)
        for (int32_t i = 0; i < cols; i++) {
            const double a = ref[(size_t)r * ld + i], b = got[(size_t)r * ld + i];
            num += (a - b) * (a - b);
            den += a * a;
        }
    return num / (den > 1e-30 ? den : 1e-30);
}

static void ln_double(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                      const float *g, const float *b, float eps) {
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        double m = 0, v = 0;
        for (int32_t i = 0; i < cols; i++) m += xr[i];
        m /= cols;
        for (int32_t i = 0; i < cols; i++) v += (xr[i] - m) * (xr[i] - m);
        v /= cols;
        const double rs = 1.0 / sqrt(v + (double)eps);
        for (int32_t i = 0; i < cols; i++) y[(size_t)r * ldy + i] = (float)((xr[i] - m) * rs * g[i] + b[i]);
    }
}

static void softmax_double(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols) {
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        double mx = xr[0], s = 0;
        for (int32_t i = 1; i < cols; i++) mx = xr[i] > mx ? xr[i] : mx;
        for (int32_t i = 0; i < cols; i++) s += exp(xr[i] - mx);
        for (int32_t i = 0; i < cols; i++) y[(size_t)r * ldy + i] = (float)(exp(xr[i] - mx) / s);
    }
}

static void test_layernorm(const sam2r_rowops *ref, const sam2r_rowops *vars[], const char *names[], int nv,
                           harness_rng *rng) {
    const int32_t rows = 5;
    for (int ci = 0; ci < NCOLS; ci++)
        for (int kind = 0; kind < 2; kind++)
            for (int ei = 0; ei < 2; ei++) {
                const int32_t cols = cols_list[ci], ldx = cols + 5, ldy = cols + 3;
                const float eps = ei ? 1e-5f : 1e-6f;
                float *x = harness_alloc((size_t)rows * ldx * 4), *g = harness_alloc((size_t)cols * 4);
                float *b = harness_alloc((size_t)cols * 4), *yd = harness_alloc((size_t)rows * ldy * 4);
                float *ys = harness_alloc((size_t)rows * ldy * 4), *yv = harness_alloc((size_t)rows * ldy * 4);
                float *xi = harness_alloc((size_t)rows * ldx * 4);
                for (size_t i = 0; i < (size_t)rows * ldx; i++)
                    x[i] = kind ? 1000.0f + harness_float(rng, -0.01f, 0.01f) : harness_float(rng, -3.0f, 3.0f);
                for (int32_t i = 0; i < cols; i++) {
                    g[i] = harness_float(rng, 0.5f, 1.5f);
                    b[i] = harness_float(rng, -0.5f, 0.5f);
                }
                ln_double(x, ldx, yd, ldy, rows, cols, g, b, eps);
                ref->layernorm(x, ldx, ys, ldy, rows, cols, g, b, eps);
                double e = nmse_strided(yd, ys, rows, cols, ldy);
                harness_check(e <= ROWOPS_NMSE_BOUND, "layernorm scalar vs double cols=%d %s eps=%g: nmse %.3g", cols,
                              kind ? "offset 1000" : "uniform", (double)eps, e);
                for (int v = 0; v < nv; v++) {
                    vars[v]->layernorm(x, ldx, yv, ldy, rows, cols, g, b, eps);
                    double md;
                    const size_t nd = harness_bitdiff(ys, yv, rows, cols, ldy, &md);
                    harness_check(nd == 0, "layernorm %s cols=%d %s eps=%g: %zu outputs differ from scalar (max %.3g)",
                                  names[v], cols, kind ? "offset 1000" : "uniform", (double)eps, nd, md);
                    /* in place: y == x (same stride) */
                    memcpy(xi, x, (size_t)rows * ldx * 4);
                    vars[v]->layernorm(xi, ldx, xi, ldx, rows, cols, g, b, eps);
                    double num = 0, den = 0;
                    for (int32_t r = 0; r < rows; r++)
                        for (int32_t i = 0; i < cols; i++) {
                            const double d = (double)yv[(size_t)r * ldy + i] - xi[(size_t)r * ldx + i];
                            num += d * d;
                        }
                    (void)den;
                    harness_check(num == 0.0, "layernorm %s cols=%d in place differs from out of place", names[v], cols);
                }
                free(x); free(g); free(b); free(yd); free(ys); free(yv); free(xi);
            }
}

static void test_softmax(const sam2r_rowops *ref, const sam2r_rowops *vars[], const char *names[], int nv,
                         harness_rng *rng) {
    const int32_t rows = 4;
    for (int ci = 0; ci < NCOLS; ci++)
        for (int kind = 0; kind < 2; kind++) {
            const int32_t cols = cols_list[ci], ldx = cols + 3, ldy = cols + 7;
            const float range = kind ? 80.0f : 5.0f;
            float *x = harness_alloc((size_t)rows * ldx * 4), *yd = harness_alloc((size_t)rows * ldy * 4);
            float *ys = harness_alloc((size_t)rows * ldy * 4), *yv = harness_alloc((size_t)rows * ldy * 4);
            for (size_t i = 0; i < (size_t)rows * ldx; i++) x[i] = harness_float(rng, -range, range);
            softmax_double(x, ldx, yd, ldy, rows, cols);
            ref->softmax(x, ldx, ys, ldy, rows, cols);
            const double e = nmse_strided(yd, ys, rows, cols, ldy);
            int sum_ok = 1;
            for (int32_t r = 0; r < rows; r++) {
                double s = 0;
                for (int32_t i = 0; i < cols; i++) s += ys[(size_t)r * ldy + i];
                sum_ok &= fabs(s - 1.0) <= 1e-5;
            }
            harness_check(e <= ROWOPS_NMSE_BOUND && sum_ok, "softmax scalar vs double cols=%d range %g: nmse %.3g, "
                          "rows sum to 1: %d", cols, (double)range, e, sum_ok);
            for (int v = 0; v < nv; v++) {
                vars[v]->softmax(x, ldx, yv, ldy, rows, cols);
                double md;
                const size_t nd = harness_bitdiff(ys, yv, rows, cols, ldy, &md);
                harness_check(nd == 0, "softmax %s cols=%d range %g: %zu outputs differ from scalar (max %.3g)",
                              names[v], cols, (double)range, nd, md);
            }
            free(x); free(yd); free(ys); free(yv);
        }
}

static void test_gelu(const sam2r_rowops *ref, const sam2r_rowops *vars[], const char *names[], int nv,
                      harness_rng *rng) {
    const size_t n = 20001;
    float *x = harness_alloc(n * 4), *yd = harness_alloc(n * 4), *ys = harness_alloc(n * 4), *yv = harness_alloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = i < 10001 ? -10.0f + 20.0f * (float)i / 10000.0f : harness_float(rng, -10.0f, 10.0f);
    for (size_t i = 0; i < n; i++) yd[i] = (float)(0.5 * x[i] * (1.0 + erf((double)x[i] / sqrt(2.0))));
    const sam2r_rowops *all[SAM2R_ISA_COUNT + 1];
    const char *all_names[SAM2R_ISA_COUNT + 1];
    all[0] = ref;
    all_names[0] = "scalar";
    for (int v = 0; v < nv; v++) { all[v + 1] = vars[v]; all_names[v + 1] = names[v]; }
    ref->gelu(x, ys, n);
    for (int v = 0; v <= nv; v++) {
        all[v]->gelu(x, yv, n);
        double maxe = 0;
        for (size_t i = 0; i < n; i++) maxe = fmax(maxe, fabs((double)yv[i] - (double)yd[i]));
        const double ed = harness_nmse(yd, yv, n);
        double md;
        const size_t nd = harness_bitdiff(ys, yv, 1, (int32_t)n, (int32_t)n, &md);
        harness_check(ed <= ROWOPS_NMSE_BOUND && nd == 0 && maxe <= GELU_ABS_BOUND,
                      "gelu %s over [-10, 10]: nmse vs double %.3g, %zu outputs differ from scalar (max %.3g), "
                      "max abs err %.3g", all_names[v], ed, nd, md, maxe);
    }
    /* tails (count not a multiple of the vector width) and in place */
    for (int ci = 0; ci < NCOLS; ci++) {
        const size_t c = (size_t)cols_list[ci];
        for (int v = 0; v < nv; v++) {
            for (size_t i = 0; i <= c; i++) yv[i] = -7.0f;
            memcpy(ys, x + 3, c * 4);
            vars[v]->gelu(x + 3, yv, c);
            vars[v]->gelu(ys, ys, c);
            int ok = yv[c] == -7.0f && memcmp(ys, yv, c * 4) == 0;
            ref->gelu(x + 3, ys, c);
            ok &= memcmp(ys, yv, c * 4) == 0;
            harness_check(ok, "gelu %s count=%zu: tail / in place not bit-identical to scalar", names[v], c);
        }
    }
    free(x); free(yd); free(ys); free(yv);
}

static void test_add_pool(const sam2r_rowops *ref, const sam2r_rowops *vars[], const char *names[], int nv,
                          harness_rng *rng) {
    for (int ci = 0; ci < NCOLS; ci++) {
        const size_t c = (size_t)cols_list[ci];
        float *a = harness_alloc((c + 1) * 4), *b = harness_alloc((c + 1) * 4), *ys = harness_alloc((c + 1) * 4),
              *yv = harness_alloc((c + 1) * 4);
        for (size_t i = 0; i < c; i++) { a[i] = harness_float(rng, -5, 5); b[i] = harness_float(rng, -5, 5); }
        ref->add(a, b, ys, c);
        for (int v = 0; v < nv; v++) {
            yv[c] = 99.0f;
            vars[v]->add(a, b, yv, c);
            harness_check(memcmp(ys, yv, c * 4) == 0 && yv[c] == 99.0f, "add %s count=%zu: not bit-identical", names[v], c);
        }
        free(a); free(b); free(ys); free(yv);
    }
    static const int32_t hw[][2] = {{2, 2}, {4, 6}, {6, 4}, {2, 10}};
    static const int32_t cs[] = {1, 3, 7, 16, 17, 33, 63, 65, 96};
    for (int s = 0; s < 4; s++)
        for (int ci = 0; ci < (int)(sizeof cs / sizeof cs[0]); ci++) {
            const int32_t h = hw[s][0], w = hw[s][1], c = cs[ci];
            const size_t nin = (size_t)h * w * c, nout = (size_t)(h / 2) * (w / 2) * c;
            float *x = harness_alloc(nin * 4), *ys = harness_alloc((nout + 1) * 4), *yv = harness_alloc((nout + 1) * 4);
            for (size_t i = 0; i < nin; i++) x[i] = harness_float(rng, -5, 5);
            ref->maxpool2x2(x, ys, h, w, c);
            int ref_ok = 1;
            for (int32_t i = 0; i < h / 2; i++)
                for (int32_t j = 0; j < w / 2; j++)
                    for (int32_t ch = 0; ch < c; ch++) {
                        float m = -INFINITY;
                        for (int di = 0; di < 2; di++)
                            for (int dj = 0; dj < 2; dj++)
                                m = fmaxf(m, x[((size_t)(2 * i + di) * w + (2 * j + dj)) * c + ch]);
                        ref_ok &= ys[((size_t)i * (w / 2) + j) * c + ch] == m;
                    }
            harness_check(ref_ok, "maxpool2x2 scalar h=%d w=%d c=%d: wrong", h, w, c);
            for (int v = 0; v < nv; v++) {
                yv[nout] = 99.0f;
                vars[v]->maxpool2x2(x, yv, h, w, c);
                harness_check(memcmp(ys, yv, nout * 4) == 0 && yv[nout] == 99.0f,
                              "maxpool2x2 %s h=%d w=%d c=%d: not bit-identical", names[v], h, w, c);
            }
            free(x); free(ys); free(yv);
        }
}

static void test_quant(const sam2r_rowops *ref, const sam2r_rowops *vars[], const char *names[], int nv,
                       harness_rng *rng) {
    /* the rule itself, by hand */
    static const struct { float x, inv; int32_t zp; int8_t q; } hand[] = {
        {2.5f, 1, 0, 2},    {-2.5f, 1, 0, -2},  {3.5f, 1, 0, 4},     {-3.5f, 1, 0, -4},  {0.5f, 1, 0, 0},
        {1.5f, 1, 0, 2},    {-0.5f, 1, 0, 0},   {1000, 1, 0, 127},   {-1000, 1, 0, -128}, {127.5f, 1, 0, 127},
        {-128.5f, 1, 0, -128}, {0, 1, 127, 127}, {-300, 1, 127, -128}, {-254.5f, 1, 127, -127}, {-255.5f, 1, 127, -128}, {-253.5f, 1, 127, -127},
        {300, 1, -128, 127}, {254.5f, 1, -128, 126}, {0, 1, -128, -128}, {5, 0.5f, 3, 5}, {7, 0.5f, 3, 7},
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        int8_t q;
        ref->quantize_s8(&hand[i].x, &q, 1, hand[i].inv, hand[i].zp);
        harness_check(q == hand[i].q, "quantize_s8 scalar x=%g inv=%g zp=%d: got %d want %d", (double)hand[i].x,
                      (double)hand[i].inv, hand[i].zp, q, hand[i].q);
    }
    static const int32_t zps[] = {0, -128, 127, 5, -17};
    static const float invs[] = {1.0f, 0.5f, 3.7f, 127.0f / 6.0f};
    const size_t n = 1000 + 37;
    float *x = harness_alloc(n * 4);
    int8_t *qs = harness_alloc(n + 1), *qv = harness_alloc(n + 1);
    float *ds = harness_alloc(n * 4), *dv = harness_alloc(n * 4);
    for (int zi = 0; zi < 5; zi++)
        for (int ii = 0; ii < 4; ii++) {
            const float inv = invs[ii];
            for (size_t i = 0; i < n; i++) {
                const int kind = (int)(i % 4);
                if (kind == 0) x[i] = ((float)harness_int(rng, -300, 300) + 0.5f) / inv; /* ties (when exact) */
                else if (kind == 1) x[i] = (float)harness_int(rng, -300, 300) + 0.5f;    /* exact .5 before scaling */
                else if (kind == 2) x[i] = harness_float(rng, -1000.0f, 1000.0f) / inv;  /* beyond range */
                else x[i] = harness_float(rng, -140.0f, 140.0f) / inv;
            }
            ref->quantize_s8(x, qs, n, inv, zps[zi]);
            int rule_ok = 1;
            for (size_t i = 0; i < n; i++) rule_ok &= qs[i] == sam2r_quantize_s8(x[i], inv, zps[zi]);
            harness_check(rule_ok, "quantize_s8 scalar differs from sam2r_quantize_s8 (zp %d inv %g)", zps[zi], (double)inv);
            for (int v = 0; v < nv; v++)
                for (int ci = 0; ci < NCOLS; ci++) {
                    const size_t c = (size_t)cols_list[ci] <= n ? (size_t)cols_list[ci] : n;
                    qv[c] = 77;
                    vars[v]->quantize_s8(x, qv, c, inv, zps[zi]);
                    harness_check(memcmp(qs, qv, c) == 0 && qv[c] == 77, "quantize_s8 %s count=%zu zp=%d inv=%g: not bit-identical",
                                  names[v], c, zps[zi], (double)inv);
                }
            /* dequantize every int8 value */
            for (size_t i = 0; i < n; i++) qs[i] = (int8_t)(i * 7 + 3);
            const float scale = 1.0f / inv;
            ref->dequantize_s8(qs, ds, n, scale, zps[zi]);
            int dq_ok = 1;
            for (size_t i = 0; i < n; i++) dq_ok &= ds[i] == (float)((int32_t)qs[i] - zps[zi]) * scale;
            harness_check(dq_ok, "dequantize_s8 scalar zp=%d", zps[zi]);
            for (int v = 0; v < nv; v++)
                for (int ci = 0; ci < NCOLS; ci++) {
                    const size_t c = (size_t)cols_list[ci] <= n ? (size_t)cols_list[ci] : n;
                    dv[c] = 99.0f;
                    vars[v]->dequantize_s8(qs, dv, c, scale, zps[zi]);
                    harness_check(memcmp(ds, dv, c * 4) == 0 && dv[c] == 99.0f,
                                  "dequantize_s8 %s count=%zu zp=%d: not bit-identical", names[v], c, zps[zi]);
                }
        }
    free(x); free(qs); free(qv); free(ds); free(dv);
}

void test_rowops(void) {
    harness_rng rng = {0x726f776f7073ull};
    const sam2r_rowops *ref = sam2r_rowops_for(SAM2R_ISA_SCALAR);
    sam2r_isa isas[SAM2R_ISA_COUNT];
    const int n = harness_variants(isas);
    const sam2r_rowops *vars[SAM2R_ISA_COUNT];
    const char *names[SAM2R_ISA_COUNT];
    int nv = 0;
    for (int i = 0; i < n; i++) {
        const sam2r_rowops *r = sam2r_rowops_for(isas[i]);
        harness_check(r != NULL, "rowops: no table for supported isa %s", sam2r_isa_name(isas[i]));
        if (!r) continue;
        vars[nv] = r;
        names[nv++] = r->name;
    }
    harness_check(ref && !strcmp(ref->name, "f32_rowops__scalar"), "rowops: scalar table");
    test_layernorm(ref, vars, names, nv, &rng);
    test_softmax(ref, vars, names, nv, &rng);
    test_gelu(ref, vars, names, nv, &rng);
    test_add_pool(ref, vars, names, nv, &rng);
    test_quant(ref, vars, names, nv, &rng);
}
