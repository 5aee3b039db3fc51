/* test_decoder_tail.c — the fused mask-decoder tail (sam2r_decoder_tail.h) against the unfused
 * composition of the same row-op table, BIT-EXACT, for the scalar table and every supported variant's
 * (which also picks the mask-logit loop's width: 4 lanes, 8 with AVX2, 16 with AVX-512), on 1, 2 and 3
 * threads:
 *  - stage 1: col2im + skip add (one IEEE add per output), layernorm, gelu over the whole image, then
 *    quantize_s8 of it: the fp32 output and the int8 output must equal it, and a NaN must be reported
 *    at the first flat index where the unfused image holds one (LayerNorm spreads it over the pixel).
 *  - stage 2: col2im + skip add, gelu (the fp32 output must equal it), and the mask logits against a
 *    scalar loop of the header's order (eight interleaved fp32 partial sums, then their sum) — tolerance 0;
 *    that loop is checked against double within NMSE 1e-10 (32-term fp32 dot products: ~1e-13).
 *  - both stages with g computed by the int8 ConvTranspose GEMM row by row inside the op (sam2r_tail_gemm),
 *    with the GEMM variant of the table's ISA: every output equal to the GEMM into memory followed by the op.
 * Shapes cover a piece split inside an output row (w beyond one scratch piece), a partial last piece,
 * pixel counts that are not a multiple of the 16-pixel block, a kernel of 1 and 3, ldg > k*k*C, and images
 * large enough to split over 2 and 3 threads. */
#include "harness.h"
#include "sam2r_f16.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int32_t h, w, c, k, extra_ld, masks; } tail_shape;

static const tail_shape shapes[] = {
    {3, 5, 16, 2, 0, 4}, {2, 20, 64, 2, 3, 1}, {3, 37, 32, 2, 0, 4}, {4, 9, 8, 3, 5, 3}, {2, 70, 12, 1, 1, 2}, {2, 11, 5, 2, 0, 4},
    /* Large enough (>= 2 x 32 K outputs) for the pool split: 6 tasks of whole input rows. */
    {24, 64, 32, 2, 1, 4}, {12, 64, 64, 2, 0, 2},
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* y[(iy*k+ky)][(ix*k+kx)][ch] = g[iy*w+ix][(ky*k+kx)*C+ch] + skip[same]. */
static void col2im_add(const float *g, int32_t ldg, const tail_shape *s, const float *skip, float *y) {
    size_t ow = (size_t)s->w * s->k;
    for (int32_t iy = 0; iy < s->h; iy++)
        for (int32_t ix = 0; ix < s->w; ix++)
            for (int32_t ky = 0; ky < s->k; ky++)
                for (int32_t kx = 0; kx < s->k; kx++)
                    for (int32_t ch = 0; ch < s->c; ch++) {
                        size_t o = (((size_t)iy * s->k + ky) * ow + (size_t)ix * s->k + kx) * s->c + ch;
                        y[o] = g[((size_t)iy * s->w + ix) * ldg + (size_t)(ky * s->k + kx) * s->c + ch] + skip[o];
                    }
}

/* The header's mask_logit, written out as it states it. */
static float logit_ref(const float *a, const float *b, int32_t c) {
    const int32_t c8 = c / 8 * 8;
    float r = -0.0f;
    for (int32_t j = 0; j < 8; j++) {
        float s = 0;
        for (int32_t ch = j; ch < c8; ch += 8) s = s + a[ch] * b[ch];
        r = r + s;
    }
    for (int32_t ch = c8; ch < c; ch++) r = r + a[ch] * b[ch];
    return r;
}

static void fill(harness_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = harness_float(r, lo, hi);
}

static void check_shape(const sam2r_rowops *ops, sam2r_pool *pools[3], const tail_shape *s, harness_rng *rng) {
    const int32_t ldg = s->k * s->k * s->c + s->extra_ld;
    const size_t px = (size_t)s->h * s->k * s->w * s->k, n = px * s->c;
    float *g = harness_alloc((size_t)s->h * s->w * ldg * sizeof(float));
    float *skip = harness_alloc(n * sizeof(float)), *ref = harness_alloc(n * sizeof(float));
    float *y = harness_alloc(n * sizeof(float)), *gamma = harness_alloc(s->c * sizeof(float));
    float *beta = harness_alloc(s->c * sizeof(float)), *hyper = harness_alloc((size_t)s->masks * s->c * sizeof(float));
    float *lref = harness_alloc(px * s->masks * sizeof(float)), *lgot = harness_alloc(px * s->masks * sizeof(float));
    int8_t *qref = harness_alloc(n), *q = harness_alloc(n);
    fill(rng, g, (size_t)s->h * s->w * ldg, -2, 2);
    fill(rng, skip, n, -2, 2);
    fill(rng, gamma, s->c, 0.5f, 1.5f);
    fill(rng, beta, s->c, -0.5f, 0.5f);
    fill(rng, hyper, (size_t)s->masks * s->c, -1, 1);
    const float inv_scale = 37.5f;
    const int32_t zp = -3;
    const char *name = ops->name;

    /* Stage 1, unfused. */
    col2im_add(g, ldg, s, skip, ref);
    ops->layernorm(ref, s->c, ref, s->c, (int32_t)px, s->c, gamma, beta, 1e-6f);
    ops->gelu(ref, ref, n);
    ops->quantize_s8(ref, qref, n, inv_scale, zp);
    for (int t = 0; t < 3; t++) {
        memset(y, 0xff, n * sizeof(float));
        int64_t r1 = sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma, beta,
                                                 1e-6f, y, NULL, inv_scale, zp);
        double max_abs = 0;
        size_t bad = harness_bitdiff(ref, y, (int32_t)px, s->c, s->c, &max_abs);
        harness_check(r1 == -1 && bad == 0, "decoder_tail stage1 fp32 %s %dx%dx%d k%d threads %d: %zu differ (max %g)",
                      name, s->h, s->w, s->c, s->k, t + 1, bad, max_abs);
        memset(q, 0x55, n);
        int64_t r2 = sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma, beta,
                                                 1e-6f, NULL, q, inv_scale, zp);
        harness_check(r2 == -1 && memcmp(q, qref, n) == 0, "decoder_tail stage1 int8 %s %dx%dx%d k%d threads %d", name,
                      s->h, s->w, s->c, s->k, t + 1);
    }

    /* Stage 1 with a NaN in the skip features: reported at the unfused image's first NaN. */
    size_t at = n / 2 + 1;
    float saved = skip[at];
    skip[at] = NAN;
    col2im_add(g, ldg, s, skip, ref);
    ops->layernorm(ref, s->c, ref, s->c, (int32_t)px, s->c, gamma, beta, 1e-6f);
    ops->gelu(ref, ref, n);
    long long first = -1;
    for (size_t i = 0; i < n && first < 0; i++)
        if (ref[i] != ref[i]) first = (long long)i;
    for (int t = 0; t < 3; t++) {
        int64_t r = sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma, beta, 1e-6f,
                                                NULL, q, inv_scale, zp);
        harness_check(first >= 0 && r == first, "decoder_tail stage1 NaN %s threads %d: got %lld want %lld", name, t + 1,
                      (long long)r, first);
    }
    skip[at] = saved;

    /* Stage 2, unfused: the image, then the logits in the header's order. */
    col2im_add(g, ldg, s, skip, ref);
    ops->gelu(ref, ref, n);
    for (int32_t m = 0; m < s->masks; m++)
        for (size_t p = 0; p < px; p++) lref[(size_t)m * px + p] = logit_ref(hyper + (size_t)m * s->c, ref + p * s->c, s->c);
    for (int t = 0; t < 3; t++) {
        for (int write = 0; write < 2; write++) {
            memset(y, 0xff, n * sizeof(float));
            memset(lgot, 0xff, px * s->masks * sizeof(float));
            sam2r_par_upscale_gelu_logits(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, write ? y : NULL, hyper,
                                          s->masks, lgot, (int64_t)px);
            double max_abs = 0;
            size_t bad = harness_bitdiff(lref, lgot, s->masks, (int32_t)px, (int32_t)px, &max_abs);
            if (write) bad += harness_bitdiff(ref, y, (int32_t)px, s->c, s->c, &max_abs);
            harness_check(bad == 0, "decoder_tail stage2 %s %dx%dx%d k%d masks %d threads %d write %d: %zu differ (max %g)",
                          name, s->h, s->w, s->c, s->k, s->masks, t + 1, write, bad, max_abs);
        }
    }
    /* binary16 skip features: the bits of the fp32 path over the widened values, both stages, every split. */
    uint16_t *skip16 = harness_alloc(n * sizeof(uint16_t));
    float *skipw = harness_alloc(n * sizeof(float)), *y2 = harness_alloc(n * sizeof(float));
    float *l2 = harness_alloc(px * s->masks * sizeof(float));
    int8_t *q2 = harness_alloc(n);
    for (size_t i = 0; i < n; i++) skipw[i] = sam2r_f16_to_f32(skip16[i] = sam2r_f32_to_f16(skip[i]));
    for (int t = 0; t < 3; t++) {
        sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skipw, NULL, gamma, beta, 1e-6f,
                                    ref, NULL, inv_scale, zp);
        sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skipw, NULL, gamma, beta, 1e-6f,
                                    NULL, qref, inv_scale, zp);
        memset(y2, 0xff, n * sizeof(float));
        memset(q2, 0x55, n);
        int64_t r1 = sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, NULL, skip16, gamma,
                                                 beta, 1e-6f, y2, NULL, inv_scale, zp);
        int64_t r2 = sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, NULL, skip16, gamma,
                                                 beta, 1e-6f, NULL, q2, inv_scale, zp);
        double max_abs = 0;
        size_t bad = harness_bitdiff(ref, y2, (int32_t)px, s->c, s->c, &max_abs);
        harness_check(r1 == -1 && r2 == -1 && bad == 0 && memcmp(q2, qref, n) == 0,
                      "decoder_tail stage1 f16 skip %s %dx%dx%d k%d threads %d: %zu differ (max %g)", name, s->h, s->w,
                      s->c, s->k, t + 1, bad, max_abs);
        sam2r_par_upscale_gelu_logits(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skipw, NULL, ref, hyper,
                                      s->masks, lref, (int64_t)px);
        memset(y2, 0xff, n * sizeof(float));
        memset(l2, 0xff, px * s->masks * sizeof(float));
        sam2r_par_upscale_gelu_logits(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, NULL, skip16, y2, hyper,
                                      s->masks, l2, (int64_t)px);
        bad = harness_bitdiff(lref, l2, s->masks, (int32_t)px, (int32_t)px, &max_abs) +
              harness_bitdiff(ref, y2, (int32_t)px, s->c, s->c, &max_abs);
        harness_check(bad == 0, "decoder_tail stage2 f16 skip %s %dx%dx%d k%d threads %d: %zu differ (max %g)", name, s->h,
                      s->w, s->c, s->k, t + 1, bad, max_abs);
    }
    free(skip16);
    free(skipw);
    free(y2);
    free(l2);
    free(q2);
    /* the checks below use the fp32 skip's stage 2 */
    col2im_add(g, ldg, s, skip, ref);
    ops->gelu(ref, ref, n);
    for (int32_t m = 0; m < s->masks; m++)
        for (size_t p = 0; p < px; p++) lref[(size_t)m * px + p] = logit_ref(hyper + (size_t)m * s->c, ref + p * s->c, s->c);

    if (ops->isa == SAM2R_ISA_SCALAR) {
        double num = 0, den = 0;
        for (int32_t m = 0; m < s->masks; m++)
            for (size_t p = 0; p < px; p++) {
                double d = 0;
                for (int32_t ch = 0; ch < s->c; ch++) d += (double)hyper[(size_t)m * s->c + ch] * ref[p * s->c + ch];
                double e = d - lref[(size_t)m * px + p];
                num += e * e;
                den += d * d;
            }
        double nm = num / (den > 1e-30 ? den : 1e-30);
        harness_check(nm <= 1e-10, "decoder_tail logits vs double %dx%dx%d: NMSE %g", s->h, s->w, s->c, nm);
    }
    free(g), free(skip), free(ref), free(y), free(gamma), free(beta), free(hyper), free(lref), free(lgot), free(qref),
        free(q);
}

/* The op fed by its GEMM (sam2r_tail_gemm) against the GEMM into memory, then the op on g — BIT-EXACT. */
static void check_gemm_source(const sam2r_rowops *ops, const sam2r_gemm_s8_ukernel *uk, sam2r_pool *pools[3],
                              const tail_shape *s, harness_rng *rng) {
    const int32_t n = s->k * s->k * s->c, ldg = n + s->extra_ld, kin = 37, m = s->h * s->w;
    const size_t px = (size_t)s->h * s->k * s->w * s->k, cnt = px * s->c;
    int8_t *a = harness_alloc((size_t)m * kin), *wt = harness_alloc((size_t)n * kin);
    for (size_t i = 0; i < (size_t)m * kin; i++) a[i] = (int8_t)harness_int(rng, -128, 127);
    for (size_t i = 0; i < (size_t)n * kin; i++) wt[i] = (int8_t)harness_int(rng, -127, 127);
    sam2r_packed_s8 pk;
    pk.data = harness_alloc(sam2r_pack_s8_size(n, kin, uk->nr, uk->kr));
    pk.wsum = harness_alloc((size_t)n * sizeof(int32_t));
    sam2r_pack_s8(wt, kin, n, kin, uk->nr, uk->kr, &pk);
    int32_t *bias = harness_alloc((size_t)n * sizeof(int32_t));
    float *scale = harness_alloc((size_t)n * sizeof(float));
    for (int32_t i = 0; i < n; i++) bias[i] = harness_int(rng, -1000, 1000), scale[i] = harness_float(rng, 2e-4f, 6e-4f);
    float *g = harness_alloc((size_t)m * ldg * sizeof(float)), *skip = harness_alloc(cnt * sizeof(float));
    float *gamma = harness_alloc(s->c * sizeof(float)), *beta = harness_alloc(s->c * sizeof(float));
    float *hyper = harness_alloc((size_t)s->masks * s->c * sizeof(float));
    float *yref = harness_alloc(cnt * sizeof(float)), *y = harness_alloc(cnt * sizeof(float));
    float *lref = harness_alloc(px * s->masks * sizeof(float)), *lgot = harness_alloc(px * s->masks * sizeof(float));
    int8_t *qref = harness_alloc(cnt), *q = harness_alloc(cnt);
    float *scratch = harness_alloc((size_t)3 * s->w * ldg * sizeof(float));
    fill(rng, skip, cnt, -2, 2);
    fill(rng, gamma, s->c, 0.5f, 1.5f);
    fill(rng, beta, s->c, -0.5f, 0.5f);
    fill(rng, hyper, (size_t)s->masks * s->c, -1, 1);
    sam2r_gemm_s8_args args = {.m = m, .n = n, .k = kin, .a = a, .lda = kin, .a_zero_point = 5, .w = &pk, .bias = bias,
                               .scale = scale, .epilogue = SAM2R_EPI_F32, .c = g, .ldc = ldg};
    sam2r_gemm_s8(uk, &args, NULL);
    const sam2r_tail_gemm src = {uk, &args, scratch};
    const float inv_scale = 37.5f;
    const int32_t zp = -3;
    for (int t = 0; t < 3; t++) {
        sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma, beta, 1e-6f, yref,
                                    NULL, inv_scale, zp);
        sam2r_par_upscale_norm_gelu(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma, beta, 1e-6f, NULL,
                                    qref, inv_scale, zp);
        memset(y, 0xff, cnt * sizeof(float));
        memset(q, 0x55, cnt);
        int64_t r1 = sam2r_par_upscale_norm_gelu(ops, pools[t], NULL, &src, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma,
                                                 beta, 1e-6f, y, NULL, inv_scale, zp);
        int64_t r2 = sam2r_par_upscale_norm_gelu(ops, pools[t], NULL, &src, ldg, s->h, s->w, s->c, s->k, skip, NULL, gamma,
                                                 beta, 1e-6f, NULL, q, inv_scale, zp);
        double max_abs = 0;
        size_t bad = harness_bitdiff(yref, y, (int32_t)px, s->c, s->c, &max_abs);
        harness_check(r1 == -1 && r2 == -1 && bad == 0 && memcmp(q, qref, cnt) == 0,
                      "decoder_tail stage1 from GEMM %s + %s %dx%dx%d k%d threads %d: %zu differ (max %g)", ops->name,
                      uk->name, s->h, s->w, s->c, s->k, t + 1, bad, max_abs);
        sam2r_par_upscale_gelu_logits(ops, pools[t], g, NULL, ldg, s->h, s->w, s->c, s->k, skip, NULL, yref, hyper, s->masks,
                                      lref, (int64_t)px);
        memset(y, 0xff, cnt * sizeof(float));
        memset(lgot, 0xff, px * s->masks * sizeof(float));
        sam2r_par_upscale_gelu_logits(ops, pools[t], NULL, &src, ldg, s->h, s->w, s->c, s->k, skip, NULL, y, hyper, s->masks,
                                      lgot, (int64_t)px);
        bad = harness_bitdiff(lref, lgot, s->masks, (int32_t)px, (int32_t)px, &max_abs) +
              harness_bitdiff(yref, y, (int32_t)px, s->c, s->c, &max_abs);
        harness_check(bad == 0, "decoder_tail stage2 from GEMM %s + %s %dx%dx%d k%d threads %d: %zu differ (max %g)",
                      ops->name, uk->name, s->h, s->w, s->c, s->k, t + 1, bad, max_abs);
    }
    free(a), free(wt), free(pk.data), free(pk.wsum), free(bias), free(scale), free(g), free(skip), free(gamma),
        free(beta), free(hyper), free(yref), free(y), free(lref), free(lgot), free(qref), free(q), free(scratch);
}

void test_decoder_tail(void) {
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    harness_check(pools[1] && pools[2], "decoder_tail: pool creation");
    if (!pools[1] || !pools[2]) return;
    sam2r_isa isas[SAM2R_ISA_COUNT + 1];
    isas[0] = SAM2R_ISA_SCALAR;
    const int nv = 1 + harness_variants(isas + 1);
    harness_rng rng = {0x7a11ULL};
    for (int v = 0; v < nv; v++) {
        const sam2r_rowops *ops = sam2r_rowops_for(isas[v]);
        if (!ops || (v > 0 && ops->isa != isas[v])) continue; /* a level without its own table: already run */
        for (int i = 0; i < NSHAPES; i++) check_shape(ops, pools, &shapes[i], &rng);
        const sam2r_gemm_s8_ukernel *uk = sam2r_gemm_s8_ukernel_for(isas[v]);
        if (uk)
            for (int i = 0; i < NSHAPES; i++) check_gemm_source(ops, uk, pools, &shapes[i], &rng);
    }
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
