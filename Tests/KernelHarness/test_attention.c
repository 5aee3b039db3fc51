/* test_attention.c — flash attention: the scalar reference vs a naive double-precision two-pass
 * softmax, then every supported SIMD variant vs the scalar reference, each with 1, 2 and 3 threads.
 *
 * Bounds (NMSE, harness_nmse over the live outputs):
 *  - scalar vs double: 1e-10 for ordinary logits (|s| of a few units: fp32 dot products and expf
 *    give relative errors ~1e-7, NMSE ~1e-13), 1e-8 for the large-logit cases (|s| up to ~50: an
 *    absolute logit error of |s| * sqrt(dk) * 2^-24 ~ 1e-5 becomes that relative error in p,
 *    NMSE ~1e-10).
 *    The "huge" cases (|s| up to ~300, base-2 logits below -127: exp2 underflows to exactly 0) are
 *    held to the large bound too.
 *  - variant vs scalar: BIT-EXACT. The scalar reference is the canonical sequence (docs/numerics.md:
 *    Q pre-multiplied by scale*log2(e), fma chains in key and feature order, key blocks of
 *    SAM2R_ATTENTION_KEY_BLOCK, nm_exp2), which each SIMD query lane runs unchanged.
 *  - a variant's output is bit-identical for 1, 2 and 3 threads (tasks are disjoint);
 *  - elements of O outside the output (ldo padding, batch-stride gaps) keep their sentinel;
 *  - the scratch size the kernel reports is enough (sentinel just past one worker's scratch). */
#include "harness.h"
#include "sam2r_f16.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTN_NMSE_BOUND 1e-10
#define ATTN_NMSE_BOUND_LARGE 1e-8
#define SENTINEL 12345.0f

typedef struct {
    int32_t batch, heads, nq, nk, dk, dv;
    int large;   /* 1: logits up to about +-50; 2: up to about +-300 (exp2 underflow to 0) */
} attn_case;

static void reference_double(const sam2r_attention_f32_args *a, float *o) {
    double *s = malloc((size_t)a->nk * sizeof(double));
    for (int32_t b = 0; b < a->batch; b++)
        for (int32_t h = 0; h < a->heads; h++)
            for (int32_t i = 0; i < a->nq; i++) {
                const float *q = a->q + b * a->q_batch_stride + (size_t)i * a->ldq + (size_t)h * a->dk;
                double mx = -INFINITY;
                for (int32_t j = 0; j < a->nk; j++) {
                    const float *k = a->k + b * a->k_batch_stride + (size_t)j * a->ldk + (size_t)h * a->dk;
                    double d = 0;
                    for (int32_t e = 0; e < a->dk; e++) d += (double)q[e] * k[e];
                    s[j] = d * (double)a->scale;
                    if (s[j] > mx) mx = s[j];
                }
                double sum = 0;
                for (int32_t j = 0; j < a->nk; j++) sum += (s[j] = exp(s[j] - mx));
                float *orow = o + b * a->o_batch_stride + (size_t)i * a->ldo + (size_t)h * a->dv;
                for (int32_t d = 0; d < a->dv; d++) {
                    double acc = 0;
                    for (int32_t j = 0; j < a->nk; j++)
                        acc += s[j] * a->v[b * a->v_batch_stride + (size_t)j * a->ldv + (size_t)h * a->dv + d];
                    orow[d] = (float)(acc / sum);
                }
            }
    free(s);
}

/* Gathers the live outputs (batch, row, heads*dv) into a dense array; checks the rest is sentinel. */
static int gather(const sam2r_attention_f32_args *a, const float *o, size_t olen, float *dense) {
    int intact = 1;
    size_t n = 0;
    char *live = calloc(olen, 1);
    for (int32_t b = 0; b < a->batch; b++)
        for (int32_t i = 0; i < a->nq; i++)
            for (int32_t c = 0; c < a->heads * a->dv; c++) {
                const size_t idx = (size_t)b * a->o_batch_stride + (size_t)i * a->ldo + c;
                dense[n++] = o[idx];
                live[idx] = 1;
            }
    for (size_t i = 0; i < olen; i++)
        if (!live[i] && o[i] != SENTINEL) intact = 0;
    free(live);
    return intact;
}

static double max_nmse_seen, max_nmse_seen_large;

static void run_case(const attn_case *c, harness_rng *rng, sam2r_pool *pools[3]) {
    const int32_t ldq = c->heads * c->dk + 3, ldk = c->heads * c->dk + 1, ldv = c->heads * c->dv + 2;
    const int32_t ldo = c->heads * c->dv + 3;
    const int64_t qbs = (int64_t)c->nq * ldq + 7, kbs = (int64_t)c->nk * ldk + 5, vbs = (int64_t)c->nk * ldv + 1;
    const int64_t obs = (int64_t)c->nq * ldo + 4;
    const size_t qlen = (size_t)c->batch * qbs, klen = (size_t)c->batch * kbs, vlen = (size_t)c->batch * vbs;
    const size_t olen = (size_t)c->batch * obs;
    float *q = harness_alloc(qlen * sizeof(float)), *k = harness_alloc(klen * sizeof(float));
    float *v = harness_alloc(vlen * sizeof(float)), *o = harness_alloc(olen * sizeof(float));
    for (size_t i = 0; i < qlen; i++) q[i] = harness_float(rng, -1, 1);
    for (size_t i = 0; i < klen; i++) k[i] = harness_float(rng, -1, 1);
    for (size_t i = 0; i < vlen; i++) v[i] = harness_float(rng, -1, 1);
    /* Dot products of uniform(-1, 1) vectors have std sqrt(dk / 9). */
    const float big = c->large == 2 ? 300.0f : 50.0f;
    const float scale = c->large ? big / (3.0f * sqrtf((float)c->dk / 9.0f)) : 1.0f / sqrtf((float)c->dk);
    sam2r_attention_f32_args a = {c->batch, c->heads, c->nq, c->nk, c->dk, c->dv, q, ldq, qbs, k, ldk, kbs,
                                  v, ldv, vbs, o, ldo, obs, scale, NULL, NULL, NULL};
    const size_t nlive = (size_t)c->batch * c->nq * c->heads * c->dv;
    float *ref = harness_alloc(nlive * sizeof(float)), *sref = harness_alloc(nlive * sizeof(float));
    float *got = harness_alloc(nlive * sizeof(float)), *got1 = harness_alloc(nlive * sizeof(float));
    char shape[128];
    snprintf(shape, sizeof shape, "b%d h%d nq%d nk%d dk%d dv%d%s", c->batch, c->heads, c->nq, c->nk, c->dk, c->dv,
             c->large == 2 ? " huge" : c->large ? " large" : "");
    const double bound = c->large ? ATTN_NMSE_BOUND_LARGE : ATTN_NMSE_BOUND;
    double *seen = c->large ? &max_nmse_seen_large : &max_nmse_seen;

    for (size_t i = 0; i < olen; i++) o[i] = SENTINEL;
    reference_double(&a, o);
    gather(&a, o, olen, ref);

    sam2r_isa isas[SAM2R_ISA_COUNT + 1];
    isas[0] = SAM2R_ISA_SCALAR;
    const int nv = harness_variants(isas + 1) + 1;
    for (int vi = 0; vi < nv; vi++) {
        const sam2r_attention_f32_ukernel *uk = sam2r_attention_f32_ukernel_for(isas[vi]);
        harness_check(uk != NULL, "attention variant for %s exists", sam2r_isa_name(isas[vi]));
        if (!uk) continue;
        const size_t per = sam2r_attention_f32_scratch_floats(uk, c->dk, c->dv);
        float *scratch = harness_alloc((per * 3 + 1) * sizeof(float));
        for (int t = 0; t < 3; t++) {
            for (size_t i = 0; i < olen; i++) o[i] = SENTINEL;
            scratch[t == 0 ? per : per * 3] = SENTINEL;
            sam2r_attention_f32(uk, &a, pools[t], scratch);
            harness_check(scratch[t == 0 ? per : per * 3] == SENTINEL, "attention %s %s: scratch overrun", uk->name,
                          shape);
            const int intact = gather(&a, o, olen, t == 0 ? got1 : got);
            harness_check(intact, "attention %s %s threads %d: wrote outside the output", uk->name, shape, t + 1);
            if (t == 0) continue;
            harness_check(memcmp(got, got1, nlive * sizeof(float)) == 0,
                          "attention %s %s: %d threads differ from 1 thread", uk->name, shape, t + 1);
        }
        double e;
        if (isas[vi] == SAM2R_ISA_SCALAR) {
            memcpy(sref, got1, nlive * sizeof(float));
            e = harness_nmse(ref, got1, nlive);
            harness_check(e <= bound, "attention scalar vs double %s: NMSE %.3g > %.0e", shape, e, bound);
        } else {
            double md;
            const size_t nd = harness_bitdiff(sref, got1, 1, (int32_t)nlive, (int32_t)nlive, &md);
            harness_check(nd == 0, "attention %s %s: %zu outputs differ from scalar (max %.3g)", uk->name, shape, nd, md);
            e = harness_nmse(ref, got1, nlive);
        }
        if (e > *seen) *seen = e;
        free(scratch);
    }
    free(q); free(k); free(v); free(o); free(ref); free(sref); free(got); free(got1);
}

/* The decoder's folded token -> image use: contiguous K/V rows (ld = d, read in place), the keys cut into two
 * halves as two batches sharing the queries (q batch stride 0), each half's (m, l) reported in `ml`. Every
 * variant gives the scalar reference's o and ml bits at 1-3 threads, and the halves merged by the documented
 * formula match one attention over all keys (double reference). With k_add (keys = image rows + PE added as
 * they are read), the bits of the same attention on the sum written to memory first. */
static void run_split_case(harness_rng *rng, sam2r_pool *pools[3], int32_t nq, int32_t nk, int32_t d, int with_add) {
    const int32_t half = nk / 2;
    float *q = harness_alloc((size_t)nq * d * 4), *k = harness_alloc((size_t)nk * d * 4), *v = harness_alloc((size_t)nk * d * 4);
    float *kk = harness_alloc((size_t)nk * d * 4), *kadd = harness_alloc((size_t)nk * d * 4);
    for (size_t i = 0; i < (size_t)nq * d; i++) q[i] = harness_float(rng, -1, 1);
    for (size_t i = 0; i < (size_t)nk * d; i++) k[i] = harness_float(rng, -1, 1), v[i] = harness_float(rng, -1, 1);
    /* with_add: the kernels get keys kk + kadd (k_add, the decoder's image rows + PE); the reference runs on k,
     * their sum written to memory first, and every variant must give its bits */
    /* kadd holds binary16 values, so k_add_f16 (its binary16 bits, widened as read) must give the same bits */
    uint16_t *kadd16 = harness_alloc((size_t)nk * d * 2);
    for (size_t i = 0; i < (size_t)nk * d; i++) {
        kk[i] = with_add ? harness_float(rng, -1, 1) : k[i];
        kadd16[i] = sam2r_f32_to_f16(harness_float(rng, -0.5f, 0.5f));
        kadd[i] = sam2r_f16_to_f32(kadd16[i]);
        if (with_add) k[i] = kk[i] + kadd[i];
    }
    const float scale = 3.0f / sqrtf((float)d);
    float *full = harness_alloc((size_t)nq * d * 4);
    sam2r_attention_f32_args fa = {1, 1, nq, nk, d, d, q, d, 0, k, d, 0, v, d, 0, full, d, 0, scale, NULL, NULL, NULL};
    reference_double(&fa, full);
    float *o = harness_alloc((size_t)2 * nq * d * 4), *ml = harness_alloc((size_t)4 * nq * 4);
    float *so = harness_alloc((size_t)2 * nq * d * 4), *sml = harness_alloc((size_t)4 * nq * 4);
    sam2r_attention_f32_args a = {2, 1, nq, half, d, d, q, d, 0, k, d, (int64_t)half * d, v, d, (int64_t)half * d,
                                  o, d, (int64_t)nq * d, scale, ml, NULL, NULL};
    sam2r_attention_f32_args aa = a, ah = a;
    aa.k = kk;
    aa.k_add = with_add ? kadd : NULL;
    ah.k = kk;
    ah.k_add_f16 = with_add ? kadd16 : NULL;
    sam2r_isa isas[SAM2R_ISA_COUNT + 1];
    isas[0] = SAM2R_ISA_SCALAR;
    const int nv = harness_variants(isas + 1) + 1;
    for (int vi = 0; vi < nv; vi++) {
        const sam2r_attention_f32_ukernel *uk = sam2r_attention_f32_ukernel_for(isas[vi]);
        if (!uk) continue;
        float *scratch = harness_alloc((sam2r_attention_f32_scratch_floats(uk, d, d) * 3 + 1) * 4);
        for (int t = 0; t < 3; t++) {
            if (vi == 0 && t == 0) {
                sam2r_attention_f32(uk, &a, pools[t], scratch);
                memcpy(so, o, (size_t)2 * nq * d * 4);
                memcpy(sml, ml, (size_t)4 * nq * 4);
            }
            sam2r_attention_f32(uk, &aa, pools[t], scratch);
            harness_check(memcmp(so, o, (size_t)2 * nq * d * 4) == 0 && memcmp(sml, ml, (size_t)4 * nq * 4) == 0,
                          "attention %s split nq%d nk%d d%d k_add %d threads %d: o or ml differ from scalar%s", uk->name,
                          nq, nk, d, with_add, t + 1, with_add ? " on the keys + k_add written first" : "");
            if (!with_add) continue;
            sam2r_attention_f32(uk, &ah, pools[t], scratch);
            harness_check(memcmp(so, o, (size_t)2 * nq * d * 4) == 0 && memcmp(sml, ml, (size_t)4 * nq * 4) == 0,
                          "attention %s split nq%d nk%d d%d k_add_f16 threads %d: o or ml differ from scalar on the "
                          "keys + widened k_add written first", uk->name, nq, nk, d, t + 1);
        }
        free(scratch);
    }
    /* merge: w_h = l_h 2^(m_h - M) */
    for (int32_t i = 0; i < nq; i++) {
        const float m1 = sml[2 * i], l1 = sml[2 * i + 1], m2 = sml[2 * (nq + i)], l2 = sml[2 * (nq + i) + 1];
        const float mx = m1 > m2 ? m1 : m2, w1 = l1 * exp2f(m1 - mx), w2 = l2 * exp2f(m2 - mx);
        for (int32_t c = 0; c < d; c++)
            so[(size_t)i * d + c] = so[(size_t)i * d + c] * (w1 / (w1 + w2)) + so[(size_t)(nq + i) * d + c] * (w2 / (w1 + w2));
    }
    const double e = harness_nmse(full, so, (size_t)nq * d);
    harness_check(e <= ATTN_NMSE_BOUND, "attention split nq%d nk%d d%d: merged halves vs one attention NMSE %.3g", nq, nk,
                  d, e);
    free(q); free(k); free(v); free(kk); free(kadd); free(kadd16); free(full); free(o); free(ml); free(so); free(sml);
}

void test_attention(void) {
    harness_rng rng = {0xA77E};
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    const attn_case cases[] = {
        {1, 1, 1, 1, 1, 1, 0},
        {1, 1, 5, 1, 8, 8, 0},          /* one key */
        {1, 1, 33, 97, 16, 16, 0},      /* nk not a multiple of any key block */
        {2, 3, 45, 70, 24, 40, 0},      /* dk != dv, batch > 1, heads side by side */
        {2, 1, 129, 31, 7, 13, 0},      /* odd head dims: every micro-tile tail */
        {1, 2, 200, 193, 96, 96, 0},    /* hiera head_dim, several query blocks and key blocks */
        {3, 1, 17, 300, 32, 32, 1},     /* large logits */
        {1, 4, 64, 64, 96, 96, 1},
        {2, 2, 40, 230, 4, 12, 2},      /* huge logits: exp2 underflow, several key blocks */
        {1, 8, 7, 1024, 16, 16, 0},     /* decoder token->image: 8 heads, 7 queries, many keys */
        {1, 8, 300, 7, 16, 16, 1},      /* decoder image->token */
        {1, 1, 20, 50, 256, 256, 0},    /* largest supported head dims */
        {1, 1, 130, 7, 3, 250, 0},
        {2, 1, 1000, 150, 16, 24, 0},   /* several query blocks per (batch, head) on the scalar/NEON variants */
        {1, 2, 4200, 33, 8, 8, 0},      /* x86 too: 3 balanced blocks of 1440/1416 queries, every tail tile */
        {25, 1, 196, 196, 96, 96, 0},   /* hiera window 14 */
    };
    const int ncases = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < ncases; i++) {
        if (harness_quick() && i == ncases - 1) {
            const attn_case small = {3, 1, 196, 196, 96, 96, 0};
            run_case(&small, &rng, pools);
            continue;
        }
        run_case(&cases[i], &rng, pools);
    }
    for (int with_add = 0; with_add < 2; with_add++) {
        run_split_case(&rng, pools, 48, 400, 256, with_add);   /* the decoder's final attention, fewer keys */
        run_split_case(&rng, pools, 64, 194, 32, with_add);
        run_split_case(&rng, pools, 5, 2, 8, with_add);
    }
    printf("attention: worst NMSE %.3g (ordinary logits), %.3g (large logits)\n", max_nmse_seen, max_nmse_seen_large);
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
