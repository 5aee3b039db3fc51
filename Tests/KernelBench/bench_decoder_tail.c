/* bench_decoder_tail.c — the mask decoder's upscaling tail on SAM2's 1024² shape (dc1: 64² input pixels
 * x 64 channels, dc2: 128² x 32, 4 masks, kernel 2), fused (sam2r_decoder_tail.h) against the unfused
 * passes it replaced, rebuilt here from the same row ops: col2im + skip add, LayerNorm, GELU, quantize
 * (stage 1); col2im + skip add, GELU, then per-pixel 8-lane mask logits with a horizontal sum over the
 * whole image (stage 2; the former Swift loop, in C). Then with the int8 ConvTranspose GEMMs in front (dc1:
 * 4096 rows x 256 -> 256, dc2: 16384 x 64 -> 128): the GEMMs into memory followed by the fused tail, against
 * the GEMMs run inside the tail row by row (sam2r_tail_gemm). Each figure is the best of >= 5 runs and >= 1 s
 * after a warm-up: the best run is the least disturbed on a shared machine. A benchmark, never a test:
 * `make bench-decoder-tail`. The last row reads the skip features as binary16 (ImageFeatures.skipHalf).
 * Usage: [SAM2R_ISA=variant] bench-decoder-tail [threads] */
#include "sam2r_kernels.h"

#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SIDE1 = 64, C1 = 64, SIDE2 = 128, C2 = 32, MASKS = 4, K = 2 };

typedef struct {
    const sam2r_rowops *ops;
    sam2r_pool *pool;
    const float *g1, *g2, *skip1, *skip2, *gamma, *beta, *hyper;
    float *u1, *u2, *logits;
    int8_t *q;
    const sam2r_gemm_s8_ukernel *uk;
    sam2r_gemm_s8_args gemm1, gemm2; /* c = g1 / g2 */
    float *gscratch;
    int32_t side, channels; /* the unfused col2im task's image */
    const float *g, *skip;
    float *u;
    const uint16_t *skip1h, *skip2h; /* the skip features as binary16, for the f16 rows */
} bench_ctx;

/* Unfused col2im + skip add of input row `t` (one add call per input pixel and ky, as the fused op). */
static void col2im_task(void *ctx, int32_t t, int32_t worker) {
    (void)worker;
    bench_ctx *c = ctx;
    size_t w = (size_t)c->side, seg = (size_t)K * c->channels, ld = seg * K;
    for (size_t ky = 0; ky < K; ky++) {
        size_t o = ((size_t)t * K + ky) * w * seg;
        for (size_t ix = 0; ix < w; ix++)
            c->ops->add(c->g + ((size_t)t * w + ix) * ld + ky * seg, c->skip + o + ix * seg, c->u + o + ix * seg, seg);
    }
}

/* The former per-pixel logits: 8 lane sums over the channels, then the lanes added in order. */
static void logits_task(void *ctx, int32_t t, int32_t worker) {
    (void)worker;
    bench_ctx *c = ctx;
    size_t px = (size_t)SIDE2 * K * SIDE2 * K, per = px / 64, lo = (size_t)t * per;
    for (int m = 0; m < MASKS; m++)
        for (size_t p = lo; p < lo + per; p++) {
            float lane[8] = {0};
            for (int ch = 0; ch < C2; ch++) lane[ch % 8] = lane[ch % 8] + c->hyper[m * C2 + ch] * c->u2[p * C2 + ch];
            float r = -0.0f;
            for (int j = 0; j < 8; j++) r = r + lane[j];
            c->logits[(size_t)m * px + p] = r;
        }
}

static void unfused(bench_ctx *c) {
    const size_t n1 = (size_t)SIDE1 * K * SIDE1 * K, n2 = (size_t)SIDE2 * K * SIDE2 * K;
    c->side = SIDE1, c->channels = C1, c->g = c->g1, c->skip = c->skip1, c->u = c->u1;
    sam2r_pool_run(c->pool, col2im_task, c, SIDE1);
    sam2r_par_layernorm(c->ops, c->pool, c->u1, C1, c->u1, C1, (int32_t)n1, C1, c->gamma, c->beta, 1e-6f);
    sam2r_par_gelu(c->ops, c->pool, c->u1, c->u1, n1 * C1);
    sam2r_par_quantize_s8(c->ops, c->pool, c->u1, c->q, n1 * C1, 20.0f, 3);
    c->side = SIDE2, c->channels = C2, c->g = c->g2, c->skip = c->skip2, c->u = c->u2;
    sam2r_pool_run(c->pool, col2im_task, c, SIDE2);
    sam2r_par_gelu(c->ops, c->pool, c->u2, c->u2, n2 * C2);
    sam2r_pool_run(c->pool, logits_task, c, 64);
}

static void fused(bench_ctx *c, int write_u2) {
    sam2r_par_upscale_norm_gelu(c->ops, c->pool, c->g1, NULL, 4 * C1, SIDE1, SIDE1, C1, K, c->skip1, NULL, c->gamma, c->beta,
                                1e-6f, NULL, c->q, 20.0f, 3);
    sam2r_par_upscale_gelu_logits(c->ops, c->pool, c->g2, NULL, 4 * C2, SIDE2, SIDE2, C2, K, c->skip2, NULL,
                                  write_u2 ? c->u2 : NULL, c->hyper, MASKS, c->logits,
                                  (int64_t)SIDE2 * K * SIDE2 * K);
}

/* dc2's input is the int8 q stage 1 writes, as in the decoder. */
static void gemms_then_fused(bench_ctx *c) {
    sam2r_gemm_s8(c->uk, &c->gemm1, c->pool);
    sam2r_par_upscale_norm_gelu(c->ops, c->pool, c->g1, NULL, 4 * C1, SIDE1, SIDE1, C1, K, c->skip1, NULL, c->gamma, c->beta,
                                1e-6f, NULL, c->q, 20.0f, 3);
    sam2r_gemm_s8(c->uk, &c->gemm2, c->pool);
    sam2r_par_upscale_gelu_logits(c->ops, c->pool, c->g2, NULL, 4 * C2, SIDE2, SIDE2, C2, K, c->skip2, NULL, NULL, c->hyper,
                                  MASKS, c->logits, (int64_t)SIDE2 * K * SIDE2 * K);
}

static void gemms_inside_skip(bench_ctx *c, int half) {
    const sam2r_tail_gemm s1 = {c->uk, &c->gemm1, c->gscratch}, s2 = {c->uk, &c->gemm2, c->gscratch};
    sam2r_par_upscale_norm_gelu(c->ops, c->pool, NULL, &s1, 4 * C1, SIDE1, SIDE1, C1, K, half ? NULL : c->skip1,
                                half ? c->skip1h : NULL, c->gamma, c->beta, 1e-6f, NULL, c->q, 20.0f, 3);
    sam2r_par_upscale_gelu_logits(c->ops, c->pool, NULL, &s2, 4 * C2, SIDE2, SIDE2, C2, K, half ? NULL : c->skip2,
                                  half ? c->skip2h : NULL, NULL, c->hyper, MASKS, c->logits,
                                  (int64_t)SIDE2 * K * SIDE2 * K);
}

static void gemms_inside(bench_ctx *c) { gemms_inside_skip(c, 0); }
static void gemms_inside_f16(bench_ctx *c) { gemms_inside_skip(c, 1); }

static void run_unfused(bench_ctx *c) { unfused(c); }
static void run_fused(bench_ctx *c) { fused(c, 0); }
static void run_fused_u2(bench_ctx *c) { fused(c, 1); }

typedef struct {
    void (*f)(bench_ctx *);
    bench_ctx *c;
} tail_call;

static void run_tail(void *ctx) {
    const tail_call *t = (const tail_call *)ctx;
    t->f(t->c);
}

static double best_ms(void (*f)(bench_ctx *), bench_ctx *c) {
    tail_call t = {f, c};
    return bench_best_seconds(run_tail, &t, 5, 1.0) * 1e3;
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > SAM2R_POOL_MAX_THREADS) {
        fprintf(stderr, "error: bench-decoder-tail: threads must be 1...%d\n", SAM2R_POOL_MAX_THREADS);
        return 2;
    }
    const size_t n1 = (size_t)SIDE1 * K * SIDE1 * K, n2 = (size_t)SIDE2 * K * SIDE2 * K;
    bench_ctx c = {.ops = sam2r_rowops_for(sam2r_isa_active()), .pool = sam2r_pool_create(threads)};
    float *g1 = bench_alloc64("bench-decoder-tail", n1 * C1 * 4), *g2 = bench_alloc64("bench-decoder-tail", n2 * C2 * 4), *s1 = bench_alloc64("bench-decoder-tail", n1 * C1 * 4), *s2 = bench_alloc64("bench-decoder-tail", n2 * C2 * 4);
    float *gamma = bench_alloc64("bench-decoder-tail", C1 * 4), *beta = bench_alloc64("bench-decoder-tail", C1 * 4), *hyper = bench_alloc64("bench-decoder-tail", MASKS * C2 * 4);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n1 * C1; i++) g1[i] = (float)((x = x * 6364136223846793005ULL + 1) >> 40) * 0x1p-23f - 1;
    for (size_t i = 0; i < n2 * C2; i++) g2[i] = (float)((x = x * 6364136223846793005ULL + 1) >> 40) * 0x1p-23f - 1;
    for (size_t i = 0; i < n1 * C1; i++) s1[i] = g1[(i * 7) % (n1 * C1)];
    for (size_t i = 0; i < n2 * C2; i++) s2[i] = g2[(i * 7) % (n2 * C2)];
    for (int i = 0; i < C1; i++) gamma[i] = 1, beta[i] = 0;
    for (int i = 0; i < MASKS * C2; i++) hyper[i] = (float)(i % 7) - 3;
    c.g1 = g1, c.g2 = g2, c.skip1 = s1, c.skip2 = s2, c.gamma = gamma, c.beta = beta, c.hyper = hyper;
    c.u1 = bench_alloc64("bench-decoder-tail", n1 * C1 * 4), c.u2 = bench_alloc64("bench-decoder-tail", n2 * C2 * 4), c.logits = bench_alloc64("bench-decoder-tail", MASKS * n2 * 4), c.q = bench_alloc64("bench-decoder-tail", n1 * C1);
    if (!c.ops || !c.pool) {
        fputs("error: bench-decoder-tail: no row ops or pool\n", stderr);
        return 2;
    }
    printf("decoder tail, SAM2 1024² shape, rowops %s, %d thread(s), best ms:\n", c.ops->name, threads);
    printf("  unfused passes          %8.3f\n", best_ms(run_unfused, &c));
    printf("  fused                   %8.3f\n", best_ms(run_fused, &c));
    printf("  fused + u2 written      %8.3f\n", best_ms(run_fused_u2, &c));

    /* The int8 GEMMs: dc1 reads an int8 image of 4096 x 256 (random), dc2 stage 1's q. */
    const int32_t k1 = 4 * C1, n1w = 4 * C1, k2 = C1, n2w = 4 * C2;
    c.uk = sam2r_gemm_s8_ukernel_for(sam2r_isa_active());
    int8_t *a1 = bench_alloc64("bench-decoder-tail", (size_t)SIDE1 * SIDE1 * k1);
    int8_t *w1 = bench_alloc64("bench-decoder-tail", (size_t)n1w * k1), *w2 = bench_alloc64("bench-decoder-tail", (size_t)n2w * k2);
    for (size_t i = 0; i < (size_t)SIDE1 * SIDE1 * k1; i++) a1[i] = (int8_t)((x = x * 6364136223846793005ULL + 1) >> 56);
    for (size_t i = 0; i < (size_t)n1w * k1; i++) w1[i] = (int8_t)((x = x * 6364136223846793005ULL + 1) >> 57);
    for (size_t i = 0; i < (size_t)n2w * k2; i++) w2[i] = (int8_t)((x = x * 6364136223846793005ULL + 1) >> 57);
    sam2r_packed_s8 p1, p2;
    p1.data = bench_alloc64("bench-decoder-tail", sam2r_pack_s8_size(n1w, k1, c.uk->nr, c.uk->kr));
    p1.wsum = bench_alloc64("bench-decoder-tail", (size_t)n1w * 4);
    p2.data = bench_alloc64("bench-decoder-tail", sam2r_pack_s8_size(n2w, k2, c.uk->nr, c.uk->kr));
    p2.wsum = bench_alloc64("bench-decoder-tail", (size_t)n2w * 4);
    sam2r_pack_s8(w1, k1, n1w, k1, c.uk->nr, c.uk->kr, &p1);
    sam2r_pack_s8(w2, k2, n2w, k2, c.uk->nr, c.uk->kr, &p2);
    float *sc = bench_alloc64("bench-decoder-tail", (size_t)n1w * 4);
    for (int i = 0; i < n1w; i++) sc[i] = 1e-3f;
    c.gemm1 = (sam2r_gemm_s8_args){.m = SIDE1 * SIDE1, .n = n1w, .k = k1, .a = a1, .lda = k1, .w = &p1, .scale = sc,
                                   .epilogue = SAM2R_EPI_F32, .c = g1, .ldc = n1w};
    c.gemm2 = (sam2r_gemm_s8_args){.m = SIDE2 * SIDE2, .n = n2w, .k = k2, .a = c.q, .lda = k2, .a_zero_point = 3,
                                   .w = &p2, .scale = sc, .epilogue = SAM2R_EPI_F32, .c = g2, .ldc = n2w};
    const size_t row1 = (size_t)SIDE1 * n1w, row2 = (size_t)SIDE2 * n2w; /* floats of one input row's GEMM rows */
    c.gscratch = bench_alloc64("bench-decoder-tail", (size_t)threads * (row1 > row2 ? row1 : row2) * 4);
    printf("with the int8 ConvTranspose GEMMs (%s):\n", c.uk->name);
    printf("  GEMMs, then fused tail  %8.3f\n", best_ms(gemms_then_fused, &c));
    printf("  GEMMs inside the tail   %8.3f\n", best_ms(gemms_inside, &c));
    uint16_t *h1 = bench_alloc64("bench-decoder-tail", n1 * C1 * 2), *h2 = bench_alloc64("bench-decoder-tail", n2 * C2 * 2);
    sam2r_f32_to_f16_n(sam2r_isa_active(), s1, h1, n1 * C1);
    sam2r_f32_to_f16_n(sam2r_isa_active(), s2, h2, n2 * C2);
    c.skip1h = h1, c.skip2h = h2;
    printf("  same, binary16 skip     %8.3f\n", best_ms(gemms_inside_f16, &c));
    sam2r_pool_destroy(c.pool);
    return 0;
}
