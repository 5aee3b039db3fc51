/* decoder_tail.c — sam2r_decoder_tail.h: the mask decoder's col2im + skip add → (LayerNorm →) GELU
 * → int8 quantize or mask logits, one piece of an output row at a time through a stack scratch. */
#include "sam2r_decoder_tail.h"

#include <stdatomic.h>
#include <string.h>

#include "fused_quantize_impl.h"
#include "sam2r_f16.h"

enum { MIN_TASK_ELEMS = 32768, TASKS_PER_THREAD = 4 };

/* Four fp32 lanes, the baseline width of every target (SSE2, NEON): the transpose's 4 x 4 blocks. */
typedef float v4f __attribute__((vector_size(16)));

/* A mask-logit loop (decoder_tail_logits_impl.h). */
typedef void (*logits_fn)(const float *hyper, int32_t masks, size_t C, int64_t stride, const float *t, size_t n,
                          float *out);

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

typedef struct {
    const sam2r_rowops *ops;
    const float *g, *skip, *gamma, *beta, *hyper;
    const uint16_t *skip_f16;
    const sam2r_tail_gemm *gemm;
    float *y, *logits;
    int8_t *q;
    size_t ldg, h, w, channels, k, chunk;
    int64_t logit_stride;
    int32_t masks, zero_point;
    float eps, inv_scale;
    atomic_llong first_nan;
    logits_fn logits_loop;
} tail_ctx;

/* A piece: nx input pixels [ix0, ix0 + nx) of input row iy, kernel row ky — n = nx*k consecutive pixels
 * of output row iy*k + ky, the first at flat pixel index px. grow: g's row of input pixel (iy, 0). */
typedef struct {
    size_t iy, ky, ix0, nx, n, px;
    const float *grow;
} piece;

/* s (the piece's pixels, packed [n][C]) = col2im(g) + skip: each input pixel contributes k*C consecutive
 * floats of the output row, one add call each. */
static void scatter_add(const tail_ctx *c, const piece *pc, float *s) {
    size_t seg = c->k * c->channels;
    if (c->skip_f16) {
        /* the piece's skip features widened into s, then the adds in place: add(g, widen(skip)) */
        sam2r_f16_to_f32_n(c->ops->isa, c->skip_f16 + pc->px * c->channels, s, pc->nx * seg);
        for (size_t i = 0; i < pc->nx; i++)
            c->ops->add(pc->grow + (pc->ix0 + i) * c->ldg + pc->ky * seg, s + i * seg, s + i * seg, seg);
        return;
    }
    const float *skip = c->skip + pc->px * c->channels;
    for (size_t i = 0; i < pc->nx; i++) {
        const float *gr = pc->grow + (pc->ix0 + i) * c->ldg + pc->ky * seg;
        c->ops->add(gr, skip + i * seg, s + i * seg, seg);
    }
}

/* Calls fn on every piece of input row iy (g's row of its first pixel at grow), output rows in order, each
 * cut into pieces of as many input pixels as fill the scratch. */
static void row_pieces(tail_ctx *c, size_t iy, const float *grow, void (*fn)(tail_ctx *, const piece *)) {
    size_t per = SAM2R_TAIL_SCRATCH_FLOATS / (c->k * c->channels), ow = c->w * c->k;
    if (per > c->w) per = c->w;
    for (size_t ky = 0; ky < c->k; ky++)
        for (size_t ix0 = 0; ix0 < c->w; ix0 += per) {
            size_t nx = c->w - ix0 < per ? c->w - ix0 : per;
            piece pc = {iy, ky, ix0, nx, nx * c->k, (iy * c->k + ky) * ow + ix0 * c->k, grow};
            fn(c, &pc);
        }
}

/* Stage 1 on one piece: into y, or through the scratch into q. */
static void norm_gelu_piece(tail_ctx *c, const piece *pc) {
    float scratch[SAM2R_TAIL_SCRATCH_FLOATS];
    size_t C = c->channels, m = pc->n * C, flat = pc->px * C;
    float *s = c->y ? c->y + flat : scratch;
    scatter_add(c, pc, s);
    c->ops->layernorm(s, (int32_t)C, s, (int32_t)C, (int32_t)pc->n, (int32_t)C, c->gamma, c->beta, c->eps);
    c->ops->gelu(s, s, m);
    if (c->q) sam2r_quantize_piece(c->ops, &c->first_nan, s, c->q + flat, m, flat, c->inv_scale, c->zero_point);
}

/* The mask-logit loop at each vector width (decoder_tail_logits_impl.h): the baseline's 4 lanes (SSE2,
 * NEON) everywhere, 8 and 16 lanes where the row ops are AVX2 / AVX-512 — the same bits at every width. */
#define LG_VEC lg_vec4
#define LG_NAME logits_w4
#define LG_W 4
#define LG_ATTR
#include "decoder_tail_logits_impl.h"
#undef LG_VEC
#undef LG_NAME
#undef LG_W
#undef LG_ATTR
#if defined(__x86_64__)
#define LG_VEC lg_vec8
#define LG_NAME logits_w8_avx2
#define LG_W 8
#define LG_ATTR __attribute__((target("avx2")))
#include "decoder_tail_logits_impl.h"
#undef LG_VEC
#undef LG_NAME
#undef LG_W
#undef LG_ATTR
#define LG_VEC lg_vec16
#define LG_NAME logits_w16_avx512
#define LG_W 16
#define LG_ATTR __attribute__((target("avx512f")))
#include "decoder_tail_logits_impl.h"
#undef LG_VEC
#undef LG_NAME
#undef LG_W
#undef LG_ATTR
#endif

/* The widest loop the row ops' ISA allows (the table was chosen for a CPU that has it). */
static logits_fn logits_for(sam2r_isa isa) {
#if defined(__x86_64__)
    if (isa == SAM2R_ISA_AVX512VNNI) return logits_w16_avx512;
    if (isa == SAM2R_ISA_AVX2 || isa == SAM2R_ISA_AVXVNNI) return logits_w8_avx2;
#endif
    (void)isa;
    return logits_w4;
}

/* t [C][n] = s [n][C] (data movement only): 4 x 4 blocks through registers, the rest one by one. */
static void transpose(const float *s, size_t n, size_t C, float *t) {
    size_t n4 = n / 4 * 4, c4 = C / 4 * 4;
    for (size_t p = 0; p < n4; p += 4) {
        for (size_t ch = 0; ch < c4; ch += 4) {
            v4f a = load4(s + p * C + ch), b = load4(s + (p + 1) * C + ch);
            v4f c = load4(s + (p + 2) * C + ch), d = load4(s + (p + 3) * C + ch);
            v4f ab0 = __builtin_shufflevector(a, b, 0, 4, 1, 5), ab1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
            v4f cd0 = __builtin_shufflevector(c, d, 0, 4, 1, 5), cd1 = __builtin_shufflevector(c, d, 2, 6, 3, 7);
            store4(t + ch * n + p, __builtin_shufflevector(ab0, cd0, 0, 1, 4, 5));
            store4(t + (ch + 1) * n + p, __builtin_shufflevector(ab0, cd0, 2, 3, 6, 7));
            store4(t + (ch + 2) * n + p, __builtin_shufflevector(ab1, cd1, 0, 1, 4, 5));
            store4(t + (ch + 3) * n + p, __builtin_shufflevector(ab1, cd1, 2, 3, 6, 7));
        }
        for (size_t ch = c4; ch < C; ch++)
            for (size_t i = 0; i < 4; i++) t[ch * n + p + i] = s[(p + i) * C + ch];
    }
    for (size_t p = n4; p < n; p++)
        for (size_t ch = 0; ch < C; ch++) t[ch * n + p] = s[p * C + ch];
}

/* Stage 2 on one piece: into y (when given) or the scratch, then transposed for the logits. */
static void gelu_logits_piece(tail_ctx *c, const piece *pc) {
    float scratch[SAM2R_TAIL_SCRATCH_FLOATS], t[SAM2R_TAIL_SCRATCH_FLOATS];
    size_t C = c->channels;
    float *s = c->y ? c->y + pc->px * C : scratch;
    scatter_add(c, pc, s);
    c->ops->gelu(s, s, pc->n * C);
    transpose(s, pc->n, C, t);
    c->logits_loop(c->hyper, c->masks, C, c->logit_stride, t, pc->n, c->logits + pc->px);
}

/* Input rows [lo, hi) of the task: g read in place, or each row's GEMM rows computed into this worker's
 * scratch first (sam2r_tail_gemm). */
static void task(void *ctx, int32_t t, int32_t worker) {
    tail_ctx *c = ctx;
    size_t lo = (size_t)t * c->chunk, hi = lo + c->chunk < c->h ? lo + c->chunk : c->h;
    void (*fn)(tail_ctx *, const piece *) = c->logits ? gelu_logits_piece : norm_gelu_piece;
    for (size_t iy = lo; iy < hi; iy++) {
        if (!c->gemm) {
            row_pieces(c, iy, c->g + iy * c->w * c->ldg, fn);
            continue;
        }
        float *gs = c->gemm->scratch + (size_t)worker * c->w * c->ldg;
        sam2r_gemm_s8_args a = *c->gemm->args;
        a.a += (ptrdiff_t)(iy * c->w) * a.lda;
        a.m = (int32_t)c->w;
        a.c = gs;
        a.ldc = (int32_t)c->ldg;
        c->gemm->uk->rect(&a, 0, a.m, 0, a.n);
        row_pieces(c, iy, gs, fn);
    }
}

/* Splits the c->h input rows (k*k*w*C outputs each) over the pool, ~4 tasks per thread of at least
 * MIN_TASK_ELEMS outputs (a pool round trip costs more than a smaller task saves). */
static void dispatch(tail_ctx *c, sam2r_pool *pool) {
    size_t total = c->h * c->k * c->k * c->w * c->channels;
    size_t tasks = (size_t)sam2r_pool_threads(pool) * TASKS_PER_THREAD;
    if (tasks > total / MIN_TASK_ELEMS) tasks = total / MIN_TASK_ELEMS;
    if (tasks > c->h) tasks = c->h;
    if (tasks < 1) tasks = 1;
    c->chunk = (c->h + tasks - 1) / tasks;
    if (tasks == 1) {
        task(c, 0, 0);
        return;
    }
    sam2r_pool_run(pool, task, c, (int32_t)((c->h + c->chunk - 1) / c->chunk));
}

int64_t sam2r_par_upscale_norm_gelu(const sam2r_rowops *ops, sam2r_pool *pool, const float *g,
                                    const sam2r_tail_gemm *gemm, int32_t ldg, int32_t h, int32_t w, int32_t channels,
                                    int32_t k, const float *skip, const uint16_t *skip_f16, const float *gamma,
                                    const float *beta, float eps, float *y, int8_t *q, float inv_scale,
                                    int32_t zero_point) {
    tail_ctx c = {.ops = ops, .g = g, .gemm = gemm, .skip = skip, .skip_f16 = skip_f16, .gamma = gamma, .beta = beta, .y = y, .q = q,
                  .ldg = (size_t)ldg, .h = (size_t)h, .w = (size_t)w, .channels = (size_t)channels, .k = (size_t)k,
                  .eps = eps, .inv_scale = inv_scale, .zero_point = zero_point};
    atomic_init(&c.first_nan, -1);
    dispatch(&c, pool);
    return atomic_load(&c.first_nan);
}

void sam2r_par_upscale_gelu_logits(const sam2r_rowops *ops, sam2r_pool *pool, const float *g,
                                   const sam2r_tail_gemm *gemm, int32_t ldg, int32_t h, int32_t w, int32_t channels,
                                   int32_t k, const float *skip, const uint16_t *skip_f16, float *y,
                                   const float *hyper, int32_t masks, float *logits, int64_t logit_stride) {
    tail_ctx c = {.ops = ops, .g = g, .gemm = gemm, .skip = skip, .skip_f16 = skip_f16, .y = y, .hyper = hyper, .logits = logits,
                  .ldg = (size_t)ldg, .h = (size_t)h, .w = (size_t)w, .channels = (size_t)channels, .k = (size_t)k,
                  .logit_stride = logit_stride, .masks = masks, .logits_loop = logits_for(ops->isa)};
    atomic_init(&c.first_nan, -1);
    dispatch(&c, pool);
}
