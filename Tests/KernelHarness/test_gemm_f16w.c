/* test_gemm_f16w.c — binary16 weights: the two conversions against independent references, the vector
 * widening of every supported ISA against the scalar one, and sam2r_gemm_f16w against sam2r_gemm_f32 of the
 * same micro-kernel over the widened weights — all BIT-EXACT (sam2r_gemm_f16w.h).
 *
 * References: widening from ldexp (finite) and the stated inf / NaN bits; narrowing from its defining
 * property — the result's neighbours in the fp16 code order (value order within a sign) are no nearer to x,
 * and a tie goes to the even code — plus, on x86 with F16C, the hardware's _cvtsh_ss / _cvtss_sh. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#define SENTINEL 12345.0f

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* |value| of a finite fp16 magnitude code (0 .. 0x7bff); 0x7c00 stands for 2^16, the next step up. */
static double mag_value(uint16_t r) {
    const int e = (r >> 10) & 31, m = r & 0x3ff;
    return ldexp(e ? 1024 + m : m, (e ? e : 1) - 25);
}

static uint32_t ref_widen_bits(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, m = h & 0x3ffu;
    if ((h & 0x7c00) == 0x7c00) return sign | 0x7f800000u | (m ? 0x00400000u | m << 13 : 0);
    const double v = mag_value(h & 0x7fff);
    return fbits((float)(sign ? -v : v));   /* exact: 11 significant bits; -0.0 for the negative zero */
}

/* 1 when h is x rounded to nearest even fp16 (overflow to inf, NaN by the header's rule). */
static int narrow_ok(float x, uint16_t h) {
    const uint32_t u = fbits(x);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    if (isnan(x)) return h == (sign | 0x7e00 | ((u & 0x7fffff) >> 13));
    if ((h & 0x8000) != sign) return 0;
    const uint16_t r = h & 0x7fff;
    const double d = fabs((double)x);   /* all differences below are exact in double */
    if (r >= 0x7c00) return r == 0x7c00 && d >= 65520.0;
    const double dv = fabs(d - mag_value(r)), du = fabs(d - mag_value((uint16_t)(r + 1)));
    if (dv > du || (dv == du && (r & 1))) return 0;
    if (r > 0) {
        const double dd = fabs(d - mag_value((uint16_t)(r - 1)));
        if (dv > dd || (dv == dd && (r & 1))) return 0;
    }
    return 1;
}

#if defined(__x86_64__)
static int have_f16c(void) {
    unsigned int a, b, c, d;
    return sam2r_isa_supported(SAM2R_ISA_AVX2) && __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1);
}
__attribute__((target("f16c"))) static uint32_t hw_widen(uint16_t h) { return fbits(_cvtsh_ss(h)); }
__attribute__((target("f16c"))) static uint16_t hw_narrow(float x) {
    return (uint16_t)_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT);
}
#endif

typedef struct {
    const char *what;
    long n, bad;
    uint32_t first;   /* input bits of the first failure */
} tally;

static void tally_add(tally *t, int ok, uint32_t input) {
    t->n++;
    if (!ok && t->bad++ == 0) t->first = input;
}

static void tally_report(const tally *t) {
    harness_check(t->bad == 0, "f16: %s: %ld of %ld wrong, first input 0x%08x", t->what, t->bad, t->n, t->first);
}

static void test_widen(void) {
    tally ref = {"f16_to_f32 vs ldexp / inf / NaN reference", 0, 0, 0};
    for (uint32_t h = 0; h < 65536; h++)
        tally_add(&ref, fbits(sam2r_f16_to_f32((uint16_t)h)) == ref_widen_bits((uint16_t)h), h);
    tally_report(&ref);
#if defined(__x86_64__)
    if (have_f16c()) {
        tally hw = {"f16_to_f32 vs _cvtsh_ss", 0, 0, 0};
        for (uint32_t h = 0; h < 65536; h++)
            tally_add(&hw, fbits(sam2r_f16_to_f32((uint16_t)h)) == hw_widen((uint16_t)h), h);
        tally_report(&hw);
    }
#endif
}

static void check_narrow(tally *prop, tally *hw, float x) {
    const uint16_t h = sam2r_f32_to_f16(x);
    tally_add(prop, narrow_ok(x, h), fbits(x));
#if defined(__x86_64__)
    if (hw) tally_add(hw, h == hw_narrow(x), fbits(x));
#else
    (void)hw;
#endif
}

static void test_narrow(void) {
    tally prop = {"f32_to_f16 nearest-even property", 0, 0, 0}, hwt = {"f32_to_f16 vs _cvtss_sh", 0, 0, 0};
    tally *hw = NULL;
#if defined(__x86_64__)
    if (have_f16c()) hw = &hwt;
#else
    (void)hwt;
#endif
    /* every fp16 value round trips; a NaN comes back quiet */
    tally trip = {"f32_to_f16(f16_to_f32(h)) == h (NaN: | 0x200)", 0, 0, 0};
    for (uint32_t h = 0; h < 65536; h++) {
        const int nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        tally_add(&trip, sam2r_f32_to_f16(bitsf(ref_widen_bits((uint16_t)h))) == (h | (nan ? 0x200 : 0)), h);
    }
    tally_report(&trip);
    /* every midpoint between neighbouring magnitudes (subnormal and normal boundaries, 65520 included),
     * and the floats either side of it */
    for (uint32_t r = 0; r < 0x7c00; r++) {
        const float mid = (float)((mag_value((uint16_t)r) + mag_value((uint16_t)(r + 1))) / 2);
        const float xs[3] = {mid, nextafterf(mid, 0.0f), nextafterf(mid, INFINITY)};
        for (int i = 0; i < 3; i++) {
            check_narrow(&prop, hw, xs[i]);
            check_narrow(&prop, hw, -xs[i]);
        }
    }
    static const uint32_t edges[] = {
        0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x00800000u, /* +-0, f32 subnormals */
        0x33000000u, 0x33000001u, 0x32ffffffu, 0x33800000u, 0x33c00000u, 0x34000000u, /* 2^-25, 2^-24, 1.5 * 2^-24 */
        0x387fc000u, 0x387fe000u, 0x387fefffu, 0x387ff000u, 0x38800000u, 0x38800fffu, /* around 2^-14 */
        0x3f800000u, 0x3f801000u, 0x3f803000u, 0x3f801001u, 0x3f802fffu,             /* 1 and its ties */
        0x477fe000u, 0x477fefffu, 0x477ff000u, 0x477ff001u, 0x47800000u, 0x7f7fffffu, /* 65504 .. FLT_MAX */
        0x7f800000u, 0xff800000u,                                                     /* +-inf */
        0x7f800001u, 0x7f801fffu, 0x7f802000u, 0x7fc00000u, 0x7fffffffu, 0xff800001u, 0xffc00000u, 0x7fa00000u,
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        check_narrow(&prop, hw, bitsf(edges[i]));
        check_narrow(&prop, hw, bitsf(edges[i] ^ 0x80000000u));
    }
    harness_rng rng = {0x66313677u};
    const long count = harness_quick() ? 200000 : 4000000;
    for (long i = 0; i < count; i++) {
        const uint32_t u = (uint32_t)harness_next(&rng);
        check_narrow(&prop, hw, bitsf(u));   /* any bits */
        /* exponents from below 2^-25 to above 2^16: every rounding regime */
        check_narrow(&prop, hw, bitsf((u & 0x807fffffu) | (uint32_t)harness_int(&rng, 100, 144) << 23));
    }
    tally_report(&prop);
    if (hw) tally_report(hw);
}

/* One vector-converter contract for both directions: y = f(x) elementwise, `out` bytes per output. */
typedef void (*convert_fn)(sam2r_isa isa, const void *x, void *y, size_t n);
static void widen_n(sam2r_isa isa, const void *x, void *y, size_t n) { sam2r_f16_to_f32_n(isa, x, y, n); }
static void narrow_n(sam2r_isa isa, const void *x, void *y, size_t n) { sam2r_f32_to_f16_n(isa, x, y, n); }

/* Every supported ISA's converter against the scalar results `ref` of the `total` inputs x: all at once,
 * then short runs from 8 start offsets (tails, misaligned loads and stores) with sentinel bytes either side
 * of the output that must stay untouched. */
static void check_converter(const char *name, convert_fn f, const void *x, size_t in, const void *ref, size_t out,
                            size_t total) {
    unsigned char *y = (unsigned char *)harness_alloc((total + 16) * out);
    const unsigned char *xb = (const unsigned char *)x, *rb = (const unsigned char *)ref;
    for (int isa = 0; isa < SAM2R_ISA_COUNT; isa++) {
        if (!sam2r_isa_supported((sam2r_isa)isa)) continue;
        f((sam2r_isa)isa, x, y, total);
        harness_check(memcmp(y, ref, total * out) == 0, "%s %s: %zu values differ from scalar", name,
                      sam2r_isa_name((sam2r_isa)isa), total);
        long bad = 0, runs = 0;
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= 80; len += (len < 40 ? 1 : 7)) {
                const size_t xo = off * 977 + len, yo = (off * 3) % 8;
                memset(y, 0xab, (len + 16) * out);
                f((sam2r_isa)isa, xb + xo * in, y + yo * out, len);
                int ok = memcmp(y + yo * out, rb + xo * out, len * out) == 0;
                for (size_t i = 0; i < yo * out; i++) ok &= y[i] == 0xab;
                for (size_t i = (yo + len) * out; i < (len + 16) * out; i++) ok &= y[i] == 0xab;
                bad += !ok;
                runs++;
            }
        harness_check(bad == 0, "%s %s: %ld of %ld short misaligned runs wrong or wrote outside", name,
                      sam2r_isa_name((sam2r_isa)isa), bad, runs);
    }
    free(y);
}

/* Widening: all 65536 inputs, shuffled so every run mixes classes. */
static void test_widen_n(void) {
    const size_t total = 65536;
    uint16_t *x = (uint16_t *)harness_alloc(total * sizeof(uint16_t));
    float *ref = (float *)harness_alloc(total * sizeof(float));
    harness_rng rng = {0x7769646eu};
    for (size_t i = 0; i < total; i++) x[i] = (uint16_t)i;
    for (size_t i = total - 1; i > 0; i--) {
        const size_t j = (size_t)harness_next(&rng) % (i + 1);
        const uint16_t t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    for (size_t i = 0; i < total; i++) ref[i] = sam2r_f16_to_f32(x[i]);
    check_converter("f16_to_f32_n", widen_n, x, sizeof *x, ref, sizeof *ref, total);
    free(x); free(ref);
}

/* Narrowing: random bit patterns (NaNs, infinities, every exponent) alternating with the halfway points
 * between adjacent binary16 values (ties, rounded to even). */
static void test_narrow_n(void) {
    const size_t total = 1 << 18;
    float *x = (float *)harness_alloc(total * sizeof(float));
    uint16_t *ref = (uint16_t *)harness_alloc(total * sizeof(uint16_t));
    harness_rng rng = {0x6e61726fu};
    for (size_t i = 0; i < total; i++) {
        uint32_t u = harness_next(&rng);
        if (i % 2) {
            const uint16_t h = (uint16_t)(u & 0x7bffu);
            const float lo = sam2r_f16_to_f32(h), hi = sam2r_f16_to_f32((uint16_t)(h + 1));
            const float mid = lo + (hi - lo) / 2;
            memcpy(&u, &mid, sizeof u);
            u |= (uint32_t)(harness_next(&rng) & 1) << 31;
        }
        memcpy(&x[i], &u, sizeof u);
        ref[i] = sam2r_f32_to_f16(x[i]);
    }
    check_converter("f32_to_f16_n", narrow_n, x, sizeof *x, ref, sizeof *ref, total);
    free(x); free(ref);
}

static int padding_intact(const float *c, int32_t m, int32_t n, int32_t ldc) {
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = n; j < ldc; j++)
            if (c[(size_t)i * ldc + j] != SENTINEL) return 0;
    return 1;
}

/* One shape against every supported micro-kernel (each ISA's regular one, then its 64-column one). */
static void gemm_shape(int32_t m, int32_t n, int32_t k, int idx, sam2r_pool *pools[3], harness_rng *rng) {
    static const int32_t lda_pad[] = {0, 3, 5, 11}, ldc_pad[] = {0, 7, 13, 2};
    const int32_t lda = k + lda_pad[idx % 4], ldc = n + ldc_pad[(idx / 4) % 4], ldw = k + idx % 3;
    const int with_bias = idx % 2;
    float *a = (float *)harness_alloc((size_t)m * lda * sizeof(float));
    uint16_t *w16 = (uint16_t *)harness_alloc((size_t)n * ldw * sizeof(uint16_t));
    float *w32 = (float *)harness_alloc((size_t)n * ldw * sizeof(float));
    float *bias = (float *)harness_alloc((size_t)n * sizeof(float));
    float *cr = (float *)harness_alloc((size_t)m * ldc * sizeof(float));
    float *cg = (float *)harness_alloc((size_t)m * ldc * sizeof(float));
    for (size_t i = 0; i < (size_t)m * lda; i++) a[i] = harness_float(rng, -1.0f, 1.0f);
    for (size_t i = 0; i < (size_t)n * ldw; i++) {   /* |w| < 4, subnormals and zeros included */
        const uint32_t u = (uint32_t)harness_next(rng);
        w16[i] = (uint16_t)((u & 0x83ffu) | (uint32_t)harness_int(rng, 0, 16) << 10);
        w32[i] = sam2r_f16_to_f32(w16[i]);
    }
    for (int32_t i = 0; i < n; i++) bias[i] = harness_float(rng, -1.0f, 1.0f);
    const float *bp = with_bias ? bias : NULL;

    for (int isa = 0; isa < 2 * SAM2R_ISA_COUNT; isa++) {
        const sam2r_isa level = (sam2r_isa)(isa % SAM2R_ISA_COUNT);
        if (!sam2r_isa_supported(level)) continue;
        const sam2r_gemm_f32_ukernel *uk =
            isa < SAM2R_ISA_COUNT ? sam2r_gemm_f32_ukernel_for(level) : sam2r_gemm_f32_n64_ukernel_for(level);
        if (!uk) continue;
        sam2r_pool *pool = pools[(idx + isa) % 3];   /* 1, 2, 3 threads rotate over shapes and kernels */
        sam2r_packed_f32 p32;
        sam2r_packed_f16 p16;
        p32.data = (float *)harness_alloc(sam2r_pack_f32_size(n, k, uk->nr));
        p16.data = (uint16_t *)harness_alloc(sam2r_pack_f16_size(n, k, uk->nr));
        memset(p16.data, 0xff, sam2r_pack_f16_size(n, k, uk->nr));   /* NaN: the zero padding must be written */
        sam2r_pack_f32(w32, ldw, n, k, uk->nr, &p32);
        sam2r_pack_f16(w16, ldw, n, k, uk->nr, &p16);
        const size_t packed = sam2r_pack_f16_size(n, k, uk->nr) / sizeof(uint16_t);
        int layout_ok = packed * sizeof(float) == sam2r_pack_f32_size(n, k, uk->nr) && p16.n == n && p16.k == k &&
                        p16.nr == uk->nr;
        for (size_t i = 0; i < packed && layout_ok; i++)
            layout_ok = fbits(sam2r_f16_to_f32(p16.data[i])) == fbits(p32.data[i]);

        const size_t scratch_floats = sam2r_gemm_f16w_scratch_floats(uk, k, sam2r_pool_threads(pool));
        float *scratch = (float *)harness_alloc(scratch_floats * sizeof(float));
        for (size_t i = 0; i < (size_t)m * ldc; i++) cr[i] = cg[i] = SENTINEL;
        const sam2r_gemm_f32_args a32 = {m, n, k, a, lda, &p32, bp, cr, ldc};
        const sam2r_gemm_f16w_args a16 = {m, n, k, a, lda, &p16, bp, cg, ldc};
        sam2r_gemm_f32(uk, &a32, NULL);
        sam2r_gemm_f16w(uk, &a16, scratch, pool);
        double md;
        const size_t nd = harness_bitdiff(cr, cg, m, n, ldc, &md);
        const int pad = padding_intact(cg, m, n, ldc);
        harness_check(layout_ok && nd == 0 && pad,
                      "gemm_f16w %s (%s) m=%d n=%d k=%d lda=%d ldc=%d ldw=%d bias=%d threads=%d: packing %s, %zu "
                      "outputs differ from gemm_f32 (max %.3g), padding %s",
                      uk->name, sam2r_isa_name(level), m, n, k, lda, ldc, ldw, with_bias,
                      sam2r_pool_threads(pool), layout_ok ? "ok" : "WRONG", nd, md, pad ? "intact" : "OVERWRITTEN");
        free(p32.data); free(p16.data); free(scratch);
    }
    free(a); free(w16); free(w32); free(bias); free(cr); free(cg);
}

void test_gemm_f16w(void) {
    test_widen();
    test_narrow();
    test_widen_n();
    test_narrow_n();

    harness_rng rng = {0x66313677656d6dull};
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    harness_check(pools[1] && pools[2], "gemm_f16w: pool creation");
    static const int32_t ns[] = {1, 7, 33, 130, 256}, ks[] = {1, 3, 64, 256, 2048};
    int idx = 0;
    for (int32_t m = 1; m <= 17; m++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
            for (size_t l = 0; l < sizeof ks / sizeof ks[0]; l++) {
                /* under emulation the largest products run for the extreme row counts only */
                if (harness_quick() && (int64_t)m * ns[i] * ks[l] > 600000 && m != 1 && m != 17) continue;
                gemm_shape(m, ns[i], ks[l], idx++, pools, &rng);
            }
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
