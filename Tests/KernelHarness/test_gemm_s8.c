/* test_gemm_s8.c — int8 GEMM: every supported variant against the scalar reference on the
 * variant's own packing, tolerance 0, both epilogues (S8 and F32, compared bit for bit), 1/2/3
 * threads; and pack + scalar against a naive computation from the unpacked weights. The narrow-weight
 * variants (sam2r_gemm_s8_narrow_ukernel_for) the same way on weights within +-64, extremes included. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s8_case {
    int32_t m, n, k, lda, ldc, ldw;
    int32_t a_zp, out_zp, qmin, qmax;
    int data_mode;   /* 0 random, 1 A = -128 & W = +-wmax, 2 A = 127 & W = wmax, 3 A = -128 & W = -wmax (wmax 127, narrow 64) */
    int scale_mode;  /* 0 typical, 1 ties (powers of two <= 0.5), 2 large (clamps), 3 negative/mixed */
    int with_bias;
    int narrow;      /* weights within +-SAM2R_S8_NARROW_WEIGHT_MAX (the extremes of data modes 1-3 too) */
} s8_case;

static int32_t next_prime_above(int32_t x) {
    for (int32_t p = x + 1;; p++) {
        int prime = p > 1;
        for (int32_t d = 2; d * d <= p && prime; d++) prime = p % d != 0;
        if (prime) return p;
    }
}

static sam2r_pool *pools[4];

typedef struct s8_data {
    int8_t *a, *w;
    int32_t *bias;
    float *scale;
    int32_t *acc;   /* naive accumulator, m x n */
} s8_data;

static void make_data(const s8_case *c, harness_rng *r, s8_data *d) {
    d->a = (int8_t *)harness_alloc((size_t)c->m * (size_t)c->lda);
    d->w = (int8_t *)harness_alloc((size_t)c->n * (size_t)c->ldw);
    d->bias = (int32_t *)harness_alloc((size_t)c->n * sizeof(int32_t));
    d->scale = (float *)harness_alloc((size_t)c->n * sizeof(float));
    d->acc = (int32_t *)harness_alloc((size_t)c->m * (size_t)c->n * sizeof(int32_t));
    /* Bytes beyond k in each row hold junk; they must never influence the result. */
    for (size_t i = 0; i < (size_t)c->m * (size_t)c->lda; i++) {
        const int32_t kk = (int32_t)(i % (size_t)c->lda);
        int32_t v = harness_int(r, -128, 127);
        if (kk < c->k && c->data_mode == 1) v = -128;
        if (kk < c->k && c->data_mode == 2) v = 127;
        if (kk < c->k && c->data_mode == 3) v = -128;
        d->a[i] = (int8_t)v;
    }
    const int32_t wmax = c->narrow ? SAM2R_S8_NARROW_WEIGHT_MAX : 127;
    for (size_t i = 0; i < (size_t)c->n * (size_t)c->ldw; i++) {
        int32_t v = harness_int(r, -wmax, wmax);
        if (c->data_mode == 1) v = harness_int(r, 0, 1) ? wmax : -wmax;
        if (c->data_mode == 2) v = wmax;
        if (c->data_mode == 3) v = -wmax;
        d->w[i] = (int8_t)v;
    }
    for (int32_t j = 0; j < c->n; j++) {
        const int32_t sel = harness_int(r, 0, 9);
        d->bias[j] = sel == 0 ? harness_int(r, -2000000000, 2000000000) : harness_int(r, -100000, 100000);
        float s;
        switch (c->scale_mode) {
        case 1: s = ldexpf(1.0f, -harness_int(r, 1, 6)); if (harness_int(r, 0, 3) == 0) s = 0.5f; break;
        case 2: s = harness_float(r, 0.5f, 1000.0f); break;
        case 3: s = harness_float(r, -0.01f, 0.01f); if (harness_int(r, 0, 7) == 0) s = -0.5f; break;
        default: s = harness_float(r, 1e-5f, 2e-3f); break;
        }
        d->scale[j] = s;
    }
    /* Naive accumulator straight from the unpacked W, in 64 bits, wrapped to int32 at the end. */
    for (int32_t i = 0; i < c->m; i++)
        for (int32_t j = 0; j < c->n; j++) {
            int64_t s = 0;
            for (int32_t kk = 0; kk < c->k; kk++)
                s += ((int64_t)d->a[(size_t)i * c->lda + kk] - c->a_zp) * (int64_t)d->w[(size_t)j * c->ldw + kk];
            if (c->with_bias) s += d->bias[j];
            d->acc[(size_t)i * c->n + j] = (int32_t)(uint32_t)(uint64_t)s;
        }
}

static void free_data(s8_data *d) {
    free(d->a); free(d->w); free(d->bias); free(d->scale); free(d->acc);
}

/* Runs uk on packing p for epilogue epi into a fresh buffer (ldc-strided, sentinel filled). */
static void *run(const sam2r_gemm_s8_ukernel *uk, const s8_case *c, const s8_data *d, const sam2r_packed_s8 *p,
                 sam2r_epilogue epi, sam2r_pool *pool) {
    const size_t esz = epi == SAM2R_EPI_S8 ? 1 : 4;
    const size_t bytes = (size_t)c->m * (size_t)c->ldc * esz;
    void *out = harness_alloc(bytes);
    memset(out, 0x5A, bytes);
    sam2r_gemm_s8_args args = {
        c->m, c->n, c->k, d->a, c->lda, c->a_zp, p, c->with_bias ? d->bias : NULL, d->scale,
        epi, c->out_zp, c->qmin, c->qmax, out, c->ldc,
    };
    sam2r_gemm_s8(uk, &args, pool);
    return out;
}

/* Expected output from the naive accumulator (the one rule of sam2r_requant.h), plus sentinels. */
static void *expected(const s8_case *c, const s8_data *d, sam2r_epilogue epi) {
    const size_t esz = epi == SAM2R_EPI_S8 ? 1 : 4;
    void *out = harness_alloc((size_t)c->m * (size_t)c->ldc * esz);
    memset(out, 0x5A, (size_t)c->m * (size_t)c->ldc * esz);
    for (int32_t i = 0; i < c->m; i++)
        for (int32_t j = 0; j < c->n; j++) {
            const int32_t acc = d->acc[(size_t)i * c->n + j];
            if (epi == SAM2R_EPI_S8)
                ((int8_t *)out)[(size_t)i * c->ldc + j] = sam2r_requant_s8(acc, d->scale[j], c->out_zp, c->qmin, c->qmax);
            else
                ((float *)out)[(size_t)i * c->ldc + j] = sam2r_dequant_acc(acc, d->scale[j]);
        }
    return out;
}

static long first_diff(const void *x, const void *y, size_t bytes) {
    const unsigned char *p = (const unsigned char *)x, *q = (const unsigned char *)y;
    for (size_t i = 0; i < bytes; i++) if (p[i] != q[i]) return (long)i;
    return -1;
}

static void pack_for(const s8_case *c, const s8_data *d, int32_t nr, int32_t kr, sam2r_packed_s8 *p) {
    p->data = (int8_t *)harness_alloc(sam2r_pack_s8_size(c->n, c->k, nr, kr));
    p->wsum = (int32_t *)harness_alloc((size_t)c->n * sizeof(int32_t));
    sam2r_pack_s8(d->w, c->ldw, c->n, c->k, nr, kr, p);
}

static void run_case(const s8_case *c, harness_rng *r, const sam2r_isa *vars, int nv) {
    s8_data d;
    make_data(c, r, &d);
    const sam2r_gemm_s8_ukernel *ref = sam2r_gemm_s8_ukernel_for(SAM2R_ISA_SCALAR);
    char what[200];
    snprintf(what, sizeof what, "m=%d n=%d k=%d lda=%d ldc=%d azp=%d ozp=%d q=[%d,%d] data=%d scale=%d bias=%d narrow=%d",
             c->m, c->n, c->k, c->lda, c->ldc, c->a_zp, c->out_zp, c->qmin, c->qmax, c->data_mode, c->scale_mode,
             c->with_bias, c->narrow);
    for (int e = 0; e < 2; e++) {
        const sam2r_epilogue epi = (sam2r_epilogue)e;
        const size_t bytes = (size_t)c->m * (size_t)c->ldc * (epi == SAM2R_EPI_S8 ? 1 : 4);
        void *exp = expected(c, &d, epi);
        /* The reference itself, on its own packing, against the naive computation. */
        sam2r_packed_s8 p0;
        pack_for(c, &d, ref->nr, ref->kr, &p0);
        void *got0 = run(ref, c, &d, &p0, epi, NULL);
        long at = first_diff(exp, got0, bytes);
        harness_check(at < 0, "gemm_s8 scalar vs naive %s epi=%s: first difference at byte %ld", what,
                      e ? "f32" : "s8", at);
        free(got0); free(p0.data); free(p0.wsum);
        for (int v = 0; v < nv; v++) {
            const sam2r_gemm_s8_ukernel *uk =
                c->narrow ? sam2r_gemm_s8_narrow_ukernel_for(vars[v]) : sam2r_gemm_s8_ukernel_for(vars[v]);
            if (!uk) continue;
            sam2r_packed_s8 p;
            pack_for(c, &d, uk->nr, uk->kr, &p);
            void *sref = run(ref, c, &d, &p, epi, NULL);
            at = first_diff(exp, sref, bytes);
            harness_check(at < 0, "gemm_s8 scalar on %s packing vs naive %s epi=%s: byte %ld", uk->name, what,
                          e ? "f32" : "s8", at);
            for (int t = 1; t <= 3; t++) {
                void *got = run(uk, c, &d, &p, epi, pools[t]);
                at = first_diff(sref, got, bytes);
                harness_check(at < 0, "gemm_s8 %s threads=%d %s epi=%s: first difference at byte %ld (row %ld)",
                              uk->name, t, what, e ? "f32" : "s8", at,
                              at < 0 ? -1L : at / (long)(c->ldc * (epi == SAM2R_EPI_S8 ? 1 : 4)));
                free(got);
            }
            free(sref); free(p.data); free(p.wsum);
        }
        free(exp);
    }
    free_data(&d);
}

static void random_case(harness_rng *r, int32_t m, int32_t n, int32_t k, s8_case *c) {
    c->m = m; c->n = n; c->k = k;
    c->lda = harness_int(r, 0, 1) ? next_prime_above(k) : k;
    c->ldc = harness_int(r, 0, 1) ? next_prime_above(n) : n;
    c->ldw = k + harness_int(r, 0, 3);
    const int32_t zsel = harness_int(r, 0, 5);
    c->a_zp = zsel == 0 ? -128 : zsel == 1 ? 127 : zsel == 2 ? 0 : harness_int(r, -128, 127);
    const int32_t osel = harness_int(r, 0, 5);
    c->out_zp = osel == 0 ? -128 : osel == 1 ? 127 : osel == 2 ? 0 : harness_int(r, -128, 127);
    if (harness_int(r, 0, 2) == 0) { c->qmin = -128; c->qmax = 127; }
    else { c->qmin = harness_int(r, -128, 127); c->qmax = harness_int(r, c->qmin, 127); }
    const int32_t ds = harness_int(r, 0, 11);
    c->data_mode = ds <= 8 ? 0 : ds - 8;
    c->scale_mode = harness_int(r, 0, 3);
    c->with_bias = harness_int(r, 0, 3) != 0;
    c->narrow = 0;
}

/* Ties: acc * 0.5 = x.5 must round to even in every variant. */
static void tie_case(const sam2r_isa *vars, int nv) {
    const int8_t wv[8] = {5, 3, -5, -3, 1, -1, 7, 9};
    const int8_t expect[8] = {2, 2, -2, -2, 0, 0, 4, 4};
    for (int v = -1; v < nv; v++) {
        const sam2r_gemm_s8_ukernel *uk = sam2r_gemm_s8_ukernel_for(v < 0 ? SAM2R_ISA_SCALAR : vars[v]);
        if (!uk) continue;
        sam2r_packed_s8 p;
        p.data = (int8_t *)harness_alloc(sam2r_pack_s8_size(8, 1, uk->nr, uk->kr));
        p.wsum = (int32_t *)harness_alloc(8 * sizeof(int32_t));
        sam2r_pack_s8(wv, 1, 8, 1, uk->nr, uk->kr, &p);
        const int8_t one = 1;
        float scale[8];
        for (int i = 0; i < 8; i++) scale[i] = 0.5f;
        int8_t out[8];
        sam2r_gemm_s8_args args = {1, 8, 1, &one, 1, 0, &p, NULL, scale, SAM2R_EPI_S8, 0, -128, 127, out, 8};
        sam2r_gemm_s8(uk, &args, NULL);
        harness_check(memcmp(out, expect, 8) == 0, "gemm_s8 %s: half-way cases must round to even "
                      "(got %d %d %d %d %d %d %d %d)", uk->name, out[0], out[1], out[2], out[3], out[4], out[5],
                      out[6], out[7]);
        free(p.data); free(p.wsum);
    }
}

void test_gemm_s8(void) {
    sam2r_isa vars[SAM2R_ISA_COUNT];
    const int nv = harness_variants(vars);
    pools[1] = NULL;
    pools[2] = sam2r_pool_create(2);
    pools[3] = sam2r_pool_create(3);
    harness_check(pools[2] && pools[3], "gemm_s8: sam2r_pool_create(2/3) failed");
    if (!pools[2] || !pools[3]) return;
    harness_rng r = {0x5EED5EEDull};

    /* The table: a kernel for every variant this CPU supports (and scalar), none for the other
     * architecture's variants. */
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        const sam2r_gemm_s8_ukernel *uk = sam2r_gemm_s8_ukernel_for((sam2r_isa)i);
        const int x86 = i == SAM2R_ISA_AVX2 || i == SAM2R_ISA_AVXVNNI || i == SAM2R_ISA_AVX512VNNI;
        const int arm = i == SAM2R_ISA_NEON || i == SAM2R_ISA_DOTPROD || i == SAM2R_ISA_I8MM;
#if defined(__x86_64__)
        const int expect = !arm;
        (void)x86;
#elif defined(__aarch64__)
        const int expect = !x86;
        (void)arm;
#else
        const int expect = !x86 && !arm;
#endif
        harness_check(expect ? uk != NULL : uk == NULL, "gemm_s8: ukernel_for(%s) is %s", sam2r_isa_name((sam2r_isa)i),
                      uk ? uk->name : "NULL");
        if (uk)
            harness_check(uk->isa == (sam2r_isa)i && uk->mr >= 1 && uk->nr >= 1 && uk->kr >= 1 && uk->rect && uk->name,
                          "gemm_s8: ukernel_for(%s) describes itself wrongly", sam2r_isa_name((sam2r_isa)i));
        if (sam2r_isa_supported((sam2r_isa)i))
            harness_check(uk != NULL, "gemm_s8: %s is supported but has no kernel", sam2r_isa_name((sam2r_isa)i));
    }

    tie_case(vars, nv);

    /* The narrow-weight variants: only AVX2 has one; none elsewhere. */
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        const sam2r_gemm_s8_ukernel *uk = sam2r_gemm_s8_narrow_ukernel_for((sam2r_isa)i);
#if defined(__x86_64__)
        const int expect = i == SAM2R_ISA_AVX2;
#else
        const int expect = 0;
#endif
        harness_check(expect ? uk != NULL : uk == NULL, "gemm_s8: narrow_ukernel_for(%s) is %s",
                      sam2r_isa_name((sam2r_isa)i), uk ? uk->name : "NULL");
        if (uk)
            harness_check(uk->isa == (sam2r_isa)i && uk->mr >= 1 && uk->nr >= 1 && uk->kr >= 1 && uk->rect && uk->name,
                          "gemm_s8: narrow_ukernel_for(%s) describes itself wrongly", sam2r_isa_name((sam2r_isa)i));
    }

    /* Every M, N, K of harness_dims, all combinations up to a work budget; 8-bit, then narrow weights. */
    const double budget = harness_quick() ? 2.6e5 : 4.0e6;
    for (int narrow = 0; narrow < 2; narrow++)
        for (int i = 0; i < harness_dims_count; i++)
            for (int j = 0; j < harness_dims_count; j++)
                for (int l = 0; l < harness_dims_count; l++) {
                    const int32_t m = harness_dims[i], n = harness_dims[j], k = harness_dims[l];
                    if ((double)m * n * k > budget) continue;
                    s8_case c;
                    random_case(&r, m, n, k, &c);
                    c.narrow = narrow;
                    run_case(&c, &r, vars, nv);
                }

    /* A few big ones, K beyond the whole-K row panel (chunked path), K at its 65536 maximum with
     * extreme values, and shapes that split into many tiles across threads. */
    static const int32_t big[][3] = {
        {1000, 384, 384}, {384, 1000, 127}, {127, 1000, 384}, {65, 127, 4099}, {17, 65, 8193},
        {3, 17, 65536}, {200, 300, 1}, {1000, 1000, 64},
    };
    static const int32_t big_quick[][3] = {{64, 127, 384}, {17, 65, 4099}, {3, 17, 65536}, {200, 65, 17}};
    const int nbig = harness_quick() ? 4 : 8;
    for (int i = 0; i < nbig; i++) {
        const int32_t *s = harness_quick() ? big_quick[i] : big[i];
        for (int mode = 0; mode < 4; mode++) {
            s8_case c;
            random_case(&r, s[0], s[1], s[2], &c);
            if (mode % 2 == 1) { c.data_mode = 1 + (i % 3); c.a_zp = harness_int(&r, 0, 1) ? -128 : 127; }
            c.narrow = mode >= 2;
            run_case(&c, &r, vars, nv);
        }
    }
    sam2r_pool_destroy(pools[2]);
    sam2r_pool_destroy(pools[3]);
    pools[2] = pools[3] = NULL;
}
