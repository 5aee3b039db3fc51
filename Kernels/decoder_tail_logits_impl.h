/* decoder_tail_logits_impl.h — the mask-logit loop of decoder_tail.c, written once over a vector width:
 * included with LG_NAME (the function), LG_W (fp32 lanes per vector: 4, 8, 16) and LG_ATTR (the target
 * attribute, empty for the baseline). Pixels sit in vector lanes (t is channel-major [C][n]) and every
 * lane runs exactly the scalar sequence of sam2r_decoder_tail.h's mask_logit: eight interleaved partial
 * sums from +0, products rounded before each add (no FMA: -ffp-contract=off, and the vector type's mul
 * and add are separate IEEE operations), then the partials added in lane order. The first partial is
 * taken as is: -0 + x is x for every x. So the width changes speed, never bits. */
typedef float LG_VEC __attribute__((vector_size(4 * LG_W)));

/* s0..s3 (four vectors of pixels p...) += hm[ch] * t[ch][p...], each product rounded, then the add. A macro,
 * not a function: a vector argument wider than the baseline's would change the calling convention. */
#ifndef LG_ADD_PRODUCTS
#define LG_ADD_PRODUCTS(s0, s1, s2, s3, ch)                                                   \
    do {                                                                                      \
        const float *tc_ = t + (ch) * n + p, x_ = hm[ch];                                     \
        LG_VEC v0_, v1_, v2_, v3_;                                                            \
        memcpy(&v0_, tc_, sizeof v0_);                                                        \
        memcpy(&v1_, tc_ + LG_W, sizeof v1_);                                                 \
        memcpy(&v2_, tc_ + 2 * LG_W, sizeof v2_);                                             \
        memcpy(&v3_, tc_ + 3 * LG_W, sizeof v3_);                                             \
        s0 = s0 + v0_ * x_, s1 = s1 + v1_ * x_, s2 = s2 + v2_ * x_, s3 = s3 + v3_ * x_;       \
    } while (0)
#endif

static LG_ATTR void LG_NAME(const float *hyper, int32_t masks, size_t C, int64_t stride, const float *t, size_t n,
                            float *out) {
    const size_t c8 = C / 8 * 8, blk = 4 * LG_W;
    for (int32_t m = 0; m < masks; m++) {
        const float *hm = hyper + (size_t)m * C;
        float *o = out + (int64_t)m * stride;
        size_t p = 0;
        for (; p + blk <= n; p += blk) {
            LG_VEC r0 = {0}, r1 = {0}, r2 = {0}, r3 = {0};
            for (size_t j = 0; j < 8; j++) {
                LG_VEC a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
                for (size_t ch = j; ch < c8; ch += 8) LG_ADD_PRODUCTS(a0, a1, a2, a3, ch);
                if (j == 0) r0 = a0, r1 = a1, r2 = a2, r3 = a3;
                else r0 = r0 + a0, r1 = r1 + a1, r2 = r2 + a2, r3 = r3 + a3;
            }
            for (size_t ch = c8; ch < C; ch++) LG_ADD_PRODUCTS(r0, r1, r2, r3, ch);
            memcpy(o + p, &r0, sizeof r0);
            memcpy(o + p + LG_W, &r1, sizeof r1);
            memcpy(o + p + 2 * LG_W, &r2, sizeof r2);
            memcpy(o + p + 3 * LG_W, &r3, sizeof r3);
        }
        for (; p < n; p++) {
            float r = -0.0f;
            for (size_t j = 0; j < 8; j++) {
                float a = 0;
                for (size_t ch = j; ch < c8; ch += 8) a = a + hm[ch] * t[ch * n + p];
                r = r + a;
            }
            for (size_t ch = c8; ch < C; ch++) r = r + hm[ch] * t[ch * n + p];
            o[p] = r;
        }
    }
}

#undef LG_VEC
