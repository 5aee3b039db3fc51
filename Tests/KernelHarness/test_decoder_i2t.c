/* test_decoder_i2t.c — sam2r_decoder_i2t.h: the fused image -> token attention + residual LayerNorm gives
 * exactly the bits of its unfused composition (sam2r_gemm_f32 for the scores, the short-row or row softmax,
 * sam2r_gemm_f32 for the output, sam2r_par_residual_layernorm) on every variant (both GEMM kernels of an ISA), at 1, 2 and 3 threads,
 * with and without the broadcast row and the score bias, in place (y = x, y_pe = a) as the decoder calls it, and
 * with the queries given as a + a_add and no y_pe (the bits of the same calls on the sum written first); and
 * grouped score weights (w_s_groups) give the bits of the block-diagonal w_s they stand for. */
#include "harness.h"
#include "sam2r_f16.h"
#include "sam2r_decoder_i2t.h"
#include "sam2r_rowops_par.h"

#include <stdlib.h>
#include <string.h>

static float *random_floats(harness_rng *rng, size_t n, float lo, float hi) {
    float *p = harness_alloc(n * 4);
    for (size_t i = 0; i < n; i++) p[i] = harness_float(rng, lo, hi);
    return p;
}

static void one_case(harness_rng *rng, sam2r_isa isa, const sam2r_gemm_f32_ukernel *uk, int32_t rows, int32_t heads, int32_t tokens, int32_t dim,
                     int32_t kdim, int with_row, int with_bias, sam2r_pool *pools[3]) {
    const sam2r_rowops *ops = sam2r_rowops_for(isa);
    const sam2r_softmax_short_fn sm = sam2r_softmax_short_for(isa);
    const int32_t ht = heads * tokens, nr = uk->nr;
    float *a = random_floats(rng, (size_t)rows * kdim, -2, 2), *ws = random_floats(rng, (size_t)ht * kdim, -0.3f, 0.3f);
    float *wo = random_floats(rng, (size_t)dim * ht, -1, 1), *bs = random_floats(rng, (size_t)ht, -1, 1);
    float *bo = random_floats(rng, (size_t)dim, -1, 1), *x = random_floats(rng, (size_t)rows * dim, -3, 3);
    float *row = random_floats(rng, (size_t)dim, -1, 1), *pe = random_floats(rng, (size_t)rows * dim, -1, 1);
    float *gamma = random_floats(rng, (size_t)dim, 0.5f, 1.5f), *beta = random_floats(rng, (size_t)dim, -1, 1);
    sam2r_packed_f32 pws = {ht, kdim, nr, harness_alloc(sam2r_pack_f32_size(ht, kdim, nr))};
    sam2r_packed_f32 pwo = {dim, ht, nr, harness_alloc(sam2r_pack_f32_size(dim, ht, nr))};
    sam2r_pack_f32(ws, kdim, ht, kdim, nr, &pws);
    sam2r_pack_f32(wo, ht, dim, ht, nr, &pwo);
    /* reference: whole-tensor calls, one after the other */
    float *s = harness_alloc((size_t)rows * ht * 4), *o = harness_alloc((size_t)rows * dim * 4);
    float *y_ref = harness_alloc((size_t)rows * dim * 4), *ype_ref = harness_alloc((size_t)rows * dim * 4);
    const sam2r_gemm_f32_args g1 = {rows, ht, kdim, a, kdim, &pws, with_bias ? bs : NULL, s, ht};
    sam2r_gemm_f32(uk, &g1, NULL);
    if (sm && tokens <= SAM2R_SOFTMAX_SHORT_MAX_COLS) sm(s, s, rows * heads, tokens);
    else ops->softmax(s, tokens, s, tokens, rows * heads, tokens);
    const sam2r_gemm_f32_args g2 = {rows, dim, ht, s, ht, &pwo, bo, o, dim};
    sam2r_gemm_f32(uk, &g2, NULL);
    sam2r_par_residual_layernorm(ops, NULL, x, with_row ? row : NULL, o, y_ref, rows, dim, gamma, beta, 1e-5f, pe,
                                 ype_ref);
    for (int t = 0; t < 3; t++) {
        /* in place as the decoder: y over x, y_pe over a (when a is [rows][dim]) */
        float *y = harness_alloc((size_t)rows * dim * 4), *ype = harness_alloc((size_t)rows * dim * 4);
        float *a2 = harness_alloc((size_t)rows * kdim * 4);
        memcpy(y, x, (size_t)rows * dim * 4);
        memcpy(a2, a, (size_t)rows * kdim * 4);
        float *ype_out = kdim == dim ? a2 : ype;
        const sam2r_decoder_i2t_args args = {rows, heads, tokens, dim, a2, kdim, NULL, &pws, with_bias ? bs : NULL, &pwo,
                                             bo, y, with_row ? row : NULL, gamma, beta, 1e-5f, pe, y, ype_out, NULL, NULL, 0};
        const int rc = sam2r_decoder_i2t(uk, ops, sm, &args, pools[t]);
        double m1 = 0, m2 = 0;
        const size_t n1 = harness_bitdiff(y_ref, y, rows, dim, dim, &m1), n2 = harness_bitdiff(ype_ref, ype_out, rows, dim, dim, &m2);
        harness_check(rc == 0 && n1 == 0 && n2 == 0,
                      "decoder_i2t %s %s rows=%d heads=%d tokens=%d dim=%d k=%d row=%d bias=%d threads=%d: rc %d, %zu/%zu "
                      "values differ from the unfused calls (max %.3g / %.3g)", sam2r_isa_name(isa), uk->name, rows, heads, tokens,
                      dim, kdim, with_row, with_bias, t + 1, rc, n1, n2, m1, m2);
        free(y); free(ype); free(a2);
    }
    {
        /* the queries as a_part + a_add (a = their sum, written first for the reference above), y_pe not written */
        float *ap = harness_alloc((size_t)rows * kdim * 4), *aa = harness_alloc((size_t)rows * kdim * 4);
        float *y = harness_alloc((size_t)rows * dim * 4);
        /* aa holds binary16 values: a_add_f16 (its bits, widened as read) must give the same bits */
        uint16_t *aa16 = harness_alloc((size_t)rows * kdim * 2);
        for (size_t i = 0; i < (size_t)rows * kdim; i++) {
            ap[i] = harness_float(rng, -2, 2);
            aa16[i] = sam2r_f32_to_f16(harness_float(rng, -1, 1));
            aa[i] = sam2r_f16_to_f32(aa16[i]);
        }
        float *asum = harness_alloc((size_t)rows * kdim * 4);
        for (size_t i = 0; i < (size_t)rows * kdim; i++) asum[i] = ap[i] + aa[i];
        /* reference on the sum (the composition above, y only) */
        const sam2r_gemm_f32_args r1 = {rows, ht, kdim, asum, kdim, &pws, with_bias ? bs : NULL, s, ht};
        sam2r_gemm_f32(uk, &r1, NULL);
        if (sm && tokens <= SAM2R_SOFTMAX_SHORT_MAX_COLS) sm(s, s, rows * heads, tokens);
        else ops->softmax(s, tokens, s, tokens, rows * heads, tokens);
        sam2r_gemm_f32(uk, &g2, NULL);
        sam2r_par_residual_layernorm(ops, NULL, x, with_row ? row : NULL, o, y_ref, rows, dim, gamma, beta, 1e-5f, NULL,
                                     NULL);
        for (int t = 0; t < 3; t++) {
            memcpy(y, x, (size_t)rows * dim * 4);
            const sam2r_decoder_i2t_args args = {rows, heads, tokens, dim, ap, kdim, aa, &pws, with_bias ? bs : NULL, &pwo,
                                                 bo, y, with_row ? row : NULL, gamma, beta, 1e-5f, pe, y, NULL, NULL, NULL, 0};
            const int rc = sam2r_decoder_i2t(uk, ops, sm, &args, pools[t]);
            double m1 = 0;
            size_t n1 = harness_bitdiff(y_ref, y, rows, dim, dim, &m1);
            /* the same with the PE as binary16 */
            sam2r_decoder_i2t_args h = args;
            h.a_add = NULL;
            h.a_add_f16 = aa16;
            memcpy(y, x, (size_t)rows * dim * 4);
            const int rch = sam2r_decoder_i2t(uk, ops, sm, &h, pools[t]);
            n1 += harness_bitdiff(y_ref, y, rows, dim, dim, &m1) + (rch != 0);
            harness_check(rc == 0 && n1 == 0,
                          "decoder_i2t a_add %s %s rows=%d heads=%d tokens=%d dim=%d k=%d row=%d bias=%d threads=%d: rc %d, "
                          "%zu values differ from the unfused calls on the sum (max %.3g)", sam2r_isa_name(isa), uk->name,
                          rows, heads, tokens, dim, kdim, with_row, with_bias, t + 1, rc, n1, m1);
        }
        free(ap); free(aa); free(aa16); free(asum); free(y);
    }
    free(a); free(ws); free(wo); free(bs); free(bo); free(x); free(row); free(pe); free(gamma); free(beta);
    free(pws.data); free(pwo.data); free(s); free(o); free(y_ref); free(ype_ref);
}

/* w_s_groups (groups of g heads) against the block-diagonal w_s (head h's rows zero outside columns
 * h * hd ..< (h + 1) * hd), both through the fused kernel (whose dense path the cases above check against the
 * unfused calls), with and without a score bias and a_add, at 1-3 threads. */
static void grouped_case(harness_rng *rng, sam2r_isa isa, const sam2r_gemm_f32_ukernel *uk, int32_t rows, int32_t heads,
                         int32_t tokens, int32_t hd, int32_t dim, int32_t g, sam2r_pool *pools[3]) {
    const sam2r_rowops *ops = sam2r_rowops_for(isa);
    const sam2r_softmax_short_fn sm = sam2r_softmax_short_for(isa);
    const int32_t ht = heads * tokens, kdim = heads * hd, nr = uk->nr, gt = g * tokens, gk = g * hd;
    float *a = random_floats(rng, (size_t)rows * kdim, -2, 2), *add = random_floats(rng, (size_t)rows * kdim, -1, 1);
    float *wsh = random_floats(rng, (size_t)ht * hd, -0.5f, 0.5f), *wo = random_floats(rng, (size_t)dim * ht, -1, 1);
    float *bs = random_floats(rng, (size_t)ht, -1, 1), *bo = random_floats(rng, (size_t)dim, -1, 1);
    float *x = random_floats(rng, (size_t)rows * dim, -3, 3), *pe = random_floats(rng, (size_t)rows * dim, -1, 1);
    float *gamma = random_floats(rng, (size_t)dim, 0.5f, 1.5f), *beta = random_floats(rng, (size_t)dim, -1, 1);
    /* ws [ht][kdim] block-diagonal; group j's matrix is its [gt][gk] diagonal block */
    float *ws = harness_alloc((size_t)ht * kdim * 4);
    memset(ws, 0, (size_t)ht * kdim * 4);
    for (int32_t h = 0; h < heads; h++)
        for (int32_t i = 0; i < tokens; i++)
            memcpy(ws + (size_t)(h * tokens + i) * kdim + (size_t)h * hd, wsh + (size_t)(h * tokens + i) * hd, (size_t)hd * 4);
    sam2r_packed_f32 pws = {ht, kdim, nr, harness_alloc(sam2r_pack_f32_size(ht, kdim, nr))};
    sam2r_packed_f32 pwo = {dim, ht, nr, harness_alloc(sam2r_pack_f32_size(dim, ht, nr))};
    sam2r_pack_f32(ws, kdim, ht, kdim, nr, &pws);
    sam2r_pack_f32(wo, ht, dim, ht, nr, &pwo);
    sam2r_packed_f32 *groups = harness_alloc((size_t)(heads / g) * sizeof *groups);
    for (int32_t j = 0; j < heads / g; j++) {
        groups[j] = (sam2r_packed_f32){gt, gk, nr, harness_alloc(sam2r_pack_f32_size(gt, gk, nr))};
        sam2r_pack_f32(ws + (size_t)j * gt * kdim + (size_t)j * gk, kdim, gt, gk, nr, &groups[j]);
    }
    float *y_ref = harness_alloc((size_t)rows * dim * 4), *y = harness_alloc((size_t)rows * dim * 4);
    float *ype_ref = harness_alloc((size_t)rows * dim * 4), *ype = harness_alloc((size_t)rows * dim * 4);
    for (int c = 0; c < 4; c++) {
        const int with_bias = c & 1, with_add = c >> 1;
        sam2r_decoder_i2t_args args = {rows, heads, tokens, dim, a, kdim, with_add ? add : NULL, &pws, with_bias ? bs : NULL,
                                       &pwo, bo, x, NULL, gamma, beta, 1e-5f, pe, y_ref, ype_ref, NULL, NULL, 0};
        const int rc_ref = sam2r_decoder_i2t(uk, ops, sm, &args, NULL);
        args.w_s = NULL;
        args.w_s_groups = groups;
        args.group_heads = g;
        args.y = y;
        args.y_pe = ype;
        for (int t = 0; t < 3; t++) {
            const int rc = sam2r_decoder_i2t(uk, ops, sm, &args, pools[t]);
            double m1 = 0, m2 = 0;
            const size_t n1 = harness_bitdiff(y_ref, y, rows, dim, dim, &m1), n2 = harness_bitdiff(ype_ref, ype, rows, dim, dim, &m2);
            harness_check(rc_ref == 0 && rc == 0 && n1 == 0 && n2 == 0,
                          "decoder_i2t w_s_groups %s %s rows=%d heads=%d tokens=%d hd=%d group=%d bias=%d add=%d threads=%d: "
                          "rc %d, %zu/%zu values differ from the block-diagonal w_s (max %.3g / %.3g)", sam2r_isa_name(isa),
                          uk->name, rows, heads, tokens, hd, g, with_bias, with_add, t + 1, rc, n1, n2, m1, m2);
        }
    }
    for (int32_t j = 0; j < heads / g; j++) free(groups[j].data);
    free(groups); free(a); free(add); free(wsh); free(wo); free(bs); free(bo); free(x); free(pe); free(gamma); free(beta);
    free(ws); free(pws.data); free(pwo.data); free(y_ref); free(y); free(ype_ref); free(ype);
}

void test_decoder_i2t(void) {
    harness_rng rng = {0x6932746465636f64ull};
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    harness_check(pools[1] && pools[2], "decoder_i2t: pool creation");
    sam2r_isa isas[SAM2R_ISA_COUNT + 1];
    int n = harness_variants(isas);
    isas[n++] = SAM2R_ISA_SCALAR;
    /* (rows, heads, tokens, dim, k): SAM2 tiny's layer 1 (k = dim) and cached layer 0 (k = dim / 2) at a
     * reduced row count, a partial last block, several token counts (8 takes the rows-of-8 softmax), 1 row. */
    static const int32_t shapes[][5] = {{300, 8, 8, 256, 256}, {300, 8, 8, 256, 128}, {37, 8, 7, 64, 64},
                                        {33, 4, 12, 48, 24}, {1, 2, 3, 16, 16}, {50, 8, 17, 32, 32}};
    for (int v = 0; v < n; v++)
        for (int wide = 0; wide < 2; wide++) {
            /* the decoder runs the 64-column-panel variant where the ISA has one */
            const sam2r_gemm_f32_ukernel *uk = wide ? sam2r_gemm_f32_n64_ukernel_for(isas[v]) : sam2r_gemm_f32_ukernel_for(isas[v]);
            if (!uk) continue;
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
                for (int c = 0; c < 4; c++)
                    one_case(&rng, isas[v], uk, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4], c & 1,
                             c >> 1, pools);
            /* (rows, heads, tokens, head_dim, dim, group): SAM2 tiny's cached layer 0 in groups of 2 and 1, odd sizes,
             * all heads in one group */
            static const int32_t group_shapes[][6] = {{300, 8, 8, 16, 256, 2}, {300, 8, 9, 16, 256, 1},
                                                      {37, 4, 7, 12, 48, 2}, {13, 3, 3, 5, 16, 3}};
            for (size_t i = 0; i < sizeof group_shapes / sizeof group_shapes[0]; i++)
                grouped_case(&rng, isas[v], uk, group_shapes[i][0], group_shapes[i][1], group_shapes[i][2],
                             group_shapes[i][3], group_shapes[i][4], group_shapes[i][5], pools);
        }
    /* too many scores for the block: refused, nothing written */
    const sam2r_decoder_i2t_args big = {1, 64, 16, 16, NULL, 16, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
                                        NULL, NULL, NULL, NULL, NULL, 0};
    harness_check(sam2r_decoder_i2t(sam2r_gemm_f32_ukernel_for(SAM2R_ISA_SCALAR), sam2r_rowops_for(SAM2R_ISA_SCALAR), NULL,
                                    &big, NULL) == -1, "decoder_i2t: 1024 scores per row must be refused");
    /* groups that do not divide the heads: refused */
    const sam2r_packed_f32 one_group = {6, 6, 8, NULL};
    const sam2r_decoder_i2t_args uneven = {1, 4, 2, 16, NULL, 16, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
                                           NULL, NULL, NULL, NULL, &one_group, 3};
    harness_check(sam2r_decoder_i2t(sam2r_gemm_f32_ukernel_for(SAM2R_ISA_SCALAR), sam2r_rowops_for(SAM2R_ISA_SCALAR), NULL,
                                    &uneven, NULL) == -1, "decoder_i2t: groups of 3 of 4 heads must be refused");
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
