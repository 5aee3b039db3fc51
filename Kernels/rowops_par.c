/* rowops_par.c — sam2r_rowops_par.h: row ops split into disjoint ranges over the pool. */
#include "sam2r_rowops_par.h"

#include <stdatomic.h>
#include <string.h>

enum { MIN_TASK_ELEMS = 32768, ALIGN_ELEMS = 64, TASKS_PER_THREAD = 4, SCAN_PIECE = 8192 };

typedef enum { OP_LAYERNORM, OP_GELU, OP_ADD, OP_QUANTIZE } par_op;

typedef struct {
    par_op op;
    const sam2r_rowops *ops;
    size_t count, chunk;            /* elements (rows for layernorm) and per-task range */
    const float *x, *b, *gamma, *beta;
    float *y;
    int8_t *q;
    int32_t ldx, ldy, cols, zero_point;
    float eps, inv_scale;
    atomic_int nonfinite;
} par_ctx;

/* Exponent all ones <=> NaN or Inf. An integer OR reduction without an early exit, so the compiler
 * vectorizes it (a float sum would not be, nor an early-exit loop). */
static int any_nonfinite(const float *x, size_t n) {
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, x + i, sizeof b);
        any |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    return any != 0;
}

static void run_range(par_ctx *c, size_t lo, size_t hi) {
    size_t n = hi - lo;
    switch (c->op) {
    case OP_LAYERNORM:
        c->ops->layernorm(c->x + lo * (size_t)c->ldx, c->ldx, c->y + lo * (size_t)c->ldy, c->ldy, (int32_t)n,
                          c->cols, c->gamma, c->beta, c->eps);
        break;
    case OP_GELU: c->ops->gelu(c->x + lo, c->y + lo, n); break;
    case OP_ADD: c->ops->add(c->x + lo, c->b + lo, c->y + lo, n); break;
    case OP_QUANTIZE:
        /* The non-finite scan runs on cache-sized pieces just before they are quantized, so checking
         * costs no extra pass over memory. */
        for (size_t p = lo; p < hi; p += SCAN_PIECE) {
            size_t m = hi - p < SCAN_PIECE ? hi - p : SCAN_PIECE;
            if (any_nonfinite(c->x + p, m)) atomic_store_explicit(&c->nonfinite, 1, memory_order_relaxed);
            c->ops->quantize_s8(c->x + p, c->q + p, m, c->inv_scale, c->zero_point);
        }
        break;
    }
}

static void task(void *ctx, int32_t t, int32_t worker) {
    (void)worker;
    par_ctx *c = ctx;
    size_t lo = (size_t)t * c->chunk;
    size_t hi = lo + c->chunk < c->count ? lo + c->chunk : c->count;
    if (lo < hi) run_range(c, lo, hi);
}

/* Splits c->count units (rows of `unit_elems` elements, or elements with unit_elems = 1) into tasks. */
static void dispatch(par_ctx *c, sam2r_pool *pool, size_t unit_elems) {
    int32_t threads = sam2r_pool_threads(pool);
    size_t total = c->count * unit_elems;
    if (threads <= 1 || total < 2 * (size_t)MIN_TASK_ELEMS) {
        run_range(c, 0, c->count);
        return;
    }
    size_t tasks = (size_t)threads * TASKS_PER_THREAD;
    if (tasks > total / MIN_TASK_ELEMS) tasks = total / MIN_TASK_ELEMS;
    size_t chunk = (c->count + tasks - 1) / tasks;
    if (unit_elems == 1) chunk = (chunk + ALIGN_ELEMS - 1) / ALIGN_ELEMS * ALIGN_ELEMS;
    c->chunk = chunk;
    sam2r_pool_run(pool, task, c, (int32_t)((c->count + chunk - 1) / chunk));
}

void sam2r_par_layernorm(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, float *y,
                         int32_t ldy, int32_t rows, int32_t cols, const float *gamma, const float *beta, float eps) {
    par_ctx c = {.op = OP_LAYERNORM, .ops = ops, .count = (size_t)rows, .x = x, .y = y, .ldx = ldx, .ldy = ldy,
                 .cols = cols, .gamma = gamma, .beta = beta, .eps = eps};
    dispatch(&c, pool, (size_t)cols);
}

void sam2r_par_gelu(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, float *y, size_t count) {
    par_ctx c = {.op = OP_GELU, .ops = ops, .count = count, .x = x, .y = y};
    dispatch(&c, pool, 1);
}

void sam2r_par_add(const sam2r_rowops *ops, sam2r_pool *pool, const float *a, const float *b, float *y,
                   size_t count) {
    par_ctx c = {.op = OP_ADD, .ops = ops, .count = count, .x = a, .b = b, .y = y};
    dispatch(&c, pool, 1);
}

int32_t sam2r_par_quantize_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int8_t *y, size_t count,
                              float inv_scale, int32_t zero_point) {
    par_ctx c = {.op = OP_QUANTIZE, .ops = ops, .count = count, .x = x, .q = y, .inv_scale = inv_scale,
                 .zero_point = zero_point};
    atomic_init(&c.nonfinite, 0);
    dispatch(&c, pool, 1);
    return atomic_load(&c.nonfinite);
}
