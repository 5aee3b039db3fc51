/* rowops_par.c — sam2r_rowops_par.h: row ops split into disjoint ranges over the pool, and the fused
 * producer + int8 quantize ops (the producer's row goes through an L1-sized stack scratch, so the
 * fp32 intermediate never reaches memory). */
#include "sam2r_rowops_par.h"

#include <stdatomic.h>
#include <string.h>

#include "fused_quantize_impl.h"

enum { MIN_TASK_ELEMS = 32768, ALIGN_ELEMS = 64, TASKS_PER_THREAD = 4, SCAN_PIECE = 8192 };

/* The fused ops' scratch: a multiple of ALIGN_ELEMS, so gelu pieces stay whole vectors. */
_Static_assert(SAM2R_FUSED_SCRATCH_FLOATS % ALIGN_ELEMS == 0, "fused scratch must hold whole vectors");

typedef enum { OP_LAYERNORM, OP_GELU, OP_ADD, OP_QUANTIZE, OP_LAYERNORM_S8, OP_GELU_S8, OP_WINDOW_LAYERNORM_S8,
              OP_WINDOW_ADD, OP_WINDOW_MAXPOOL, OP_RESIDUAL_LAYERNORM } par_op;

typedef struct {
    par_op op;
    const sam2r_rowops *ops;
    size_t count, chunk;            /* elements (rows for layernorm) and per-task range */
    const float *x, *b, *gamma, *beta;
    const float *row, *pe;          /* residual layernorm: broadcast row added first, positional add after */
    float *y, *y_pe;
    int8_t *q;
    int32_t ldx, ldy, cols, zero_point;
    float eps, inv_scale;
    atomic_int nonfinite;
    int32_t side, win, windows_per_row, first_window; /* window gather geometry */
    atomic_llong first_nan;         /* fused ops: smallest flat index of a NaN quantize input, or -1 */
} par_ctx;

/* Quantizes m floats of scratch into q (fused_quantize_impl.h); `flat` is the scratch's first
 * element's index in the whole (logical) quantize input. */
static void quantize_piece(par_ctx *c, const float *s, int8_t *q, size_t m, size_t flat) {
    sam2r_quantize_piece(c->ops, &c->first_nan, s, q, m, flat, c->inv_scale, c->zero_point);
}

/* LayerNorm rows [r0, r0 + n) of x (row stride ldx) and quantize them into q (packed rows of cols),
 * scratch-sized pieces at a time; `flat` is q's index in the logical output. */
static void layernorm_s8_rows(par_ctx *c, const float *x, int8_t *q, size_t n, size_t flat) {
    float s[SAM2R_FUSED_SCRATCH_FLOATS];
    size_t cols = (size_t)c->cols, per = SAM2R_FUSED_SCRATCH_FLOATS / cols;
    for (size_t r = 0; r < n; r += per) {
        size_t m = n - r < per ? n - r : per;
        c->ops->layernorm(x + r * (size_t)c->ldx, c->ldx, s, c->cols, (int32_t)m, c->cols, c->gamma, c->beta, c->eps);
        quantize_piece(c, s, q + r * cols, m * cols, flat + r * cols);
    }
}

/* Window row u of the group: its `win` tokens, the valid ones normalized and quantized, the padding
 * (beyond the image) quantize(0) = zero_point, as the unfused gather's zero rows quantize. */
static void window_row_s8(par_ctx *c, size_t u) {
    size_t win = (size_t)c->win, cols = (size_t)c->cols, side = (size_t)c->side;
    size_t i = u / win, ty = u % win;
    size_t w = (size_t)c->first_window + i;
    size_t gy = w / (size_t)c->windows_per_row * win + ty, gx0 = w % (size_t)c->windows_per_row * win;
    size_t valid = gy < side && gx0 < side ? (side - gx0 < win ? side - gx0 : win) : 0;
    size_t flat = u * win * cols;
    if (valid > 0) layernorm_s8_rows(c, c->x + (gy * side + gx0) * cols, c->q + flat, valid, flat);
    if (valid < win) memset(c->q + flat + valid * cols, (int8_t)c->zero_point, (win - valid) * cols);
}

/* Window row u of the group added into the image y (tokens past the edge dropped). */
static void window_add_row(par_ctx *c, size_t u) {
    size_t win = (size_t)c->win, cols = (size_t)c->cols, side = (size_t)c->side;
    size_t i = u / win, ty = u % win;
    size_t w = (size_t)c->first_window + i;
    size_t gy = w / (size_t)c->windows_per_row * win + ty, gx0 = w % (size_t)c->windows_per_row * win;
    if (gy >= side || gx0 >= side) return;
    size_t valid = side - gx0 < win ? side - gx0 : win;
    float *dst = c->y + (gy * side + gx0) * cols;
    c->ops->add(dst, c->x + u * win * cols, dst, valid * cols);
}

/* The maximum as Swift's max(a, b) picks it (b >= a ? b : a), so ties of -0 and +0 resolve alike. */
static inline float max_as_swift(float a, float b) { return b >= a ? b : a; }

/* Output row u (window u / (win / 2), row u % (win / 2)) of the 2x2 max pool inside windows. */
static void window_maxpool_row(par_ctx *c, size_t u) {
    size_t win = (size_t)c->win, half = win / 2, cols = (size_t)c->cols, ld = (size_t)c->ldx;
    size_t i = u / half, py = u % half;
    for (size_t px = 0; px < half; px++) {
        float *dst = c->y + ((i * half + py) * half + px) * cols;
        const float *s00 = c->x + (i * win * win + 2 * py * win + 2 * px) * ld;
        const float *s01 = s00 + ld, *s10 = s00 + win * ld, *s11 = s10 + ld;
        for (size_t ch = 0; ch < cols; ch++)
            dst[ch] = max_as_swift(max_as_swift(s00[ch], s01[ch]), max_as_swift(s10[ch], s11[ch]));
    }
}

/* Rows [lo, hi) of the residual LayerNorm, a few KB of rows at a time so each block is still in L1 for
 * the next step: every step is one table call on the block, so the bits are those of the three (four)
 * whole-tensor calls in the same order. */
void sam2r_residual_layernorm_rows(const sam2r_rowops *ops, const float *x, const float *row, const float *b,
                                   float *y, int32_t rows, int32_t cols, const float *gamma, const float *beta,
                                   float eps, const float *pe, float *y_pe) {
    size_t n = (size_t)cols, per = SAM2R_FUSED_SCRATCH_FLOATS / n;
    if (per == 0) per = 1;
    for (size_t r = 0; r < (size_t)rows; r += per) {
        size_t m = (size_t)rows - r < per ? (size_t)rows - r : per, off = r * n;
        float *yb = y + off;
        if (row) {
            for (size_t i = 0; i < m; i++) ops->add(x + off + i * n, row, yb + i * n, n);
            ops->add(yb, b + off, yb, m * n);
        } else {
            ops->add(x + off, b + off, yb, m * n);
        }
        ops->layernorm(yb, cols, yb, cols, (int32_t)m, cols, gamma, beta, eps);
        if (y_pe) ops->add(yb, pe + off, y_pe + off, m * n);
    }
}

static void residual_layernorm_rows(par_ctx *c, size_t lo, size_t hi) {
    size_t off = lo * (size_t)c->cols;
    sam2r_residual_layernorm_rows(c->ops, c->x + off, c->row, c->b + off, c->y + off, (int32_t)(hi - lo), c->cols,
                                  c->gamma, c->beta, c->eps, c->y_pe ? c->pe + off : NULL,
                                  c->y_pe ? c->y_pe + off : NULL);
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
            if (sam2r_any_nonfinite(c->x + p, m)) atomic_store_explicit(&c->nonfinite, 1, memory_order_relaxed);
            c->ops->quantize_s8(c->x + p, c->q + p, m, c->inv_scale, c->zero_point);
        }
        break;
    case OP_LAYERNORM_S8:
        layernorm_s8_rows(c, c->x + lo * (size_t)c->ldx, c->q + lo * (size_t)c->cols, n, lo * (size_t)c->cols);
        break;
    case OP_GELU_S8: {
        float s[SAM2R_FUSED_SCRATCH_FLOATS];
        for (size_t p = lo; p < hi; p += SAM2R_FUSED_SCRATCH_FLOATS) {
            size_t m = hi - p < SAM2R_FUSED_SCRATCH_FLOATS ? hi - p : SAM2R_FUSED_SCRATCH_FLOATS;
            c->ops->gelu(c->x + p, s, m);
            quantize_piece(c, s, c->q + p, m, p);
        }
        break;
    }
    case OP_WINDOW_LAYERNORM_S8:
        for (size_t u = lo; u < hi; u++) window_row_s8(c, u);
        break;
    case OP_WINDOW_ADD:
        for (size_t u = lo; u < hi; u++) window_add_row(c, u);
        break;
    case OP_WINDOW_MAXPOOL:
        for (size_t u = lo; u < hi; u++) window_maxpool_row(c, u);
        break;
    case OP_RESIDUAL_LAYERNORM: residual_layernorm_rows(c, lo, hi); break;
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

int64_t sam2r_par_layernorm_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, int8_t *y,
                               int32_t rows, int32_t cols, const float *gamma, const float *beta, float eps,
                               float inv_scale, int32_t zero_point) {
    par_ctx c = {.op = OP_LAYERNORM_S8, .ops = ops, .count = (size_t)rows, .x = x, .q = y, .ldx = ldx, .cols = cols,
                 .gamma = gamma, .beta = beta, .eps = eps, .inv_scale = inv_scale, .zero_point = zero_point};
    atomic_init(&c.first_nan, -1);
    dispatch(&c, pool, (size_t)cols);
    return atomic_load(&c.first_nan);
}

int64_t sam2r_par_gelu_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int8_t *y, size_t count,
                          float inv_scale, int32_t zero_point) {
    par_ctx c = {.op = OP_GELU_S8, .ops = ops, .count = count, .x = x, .q = y, .inv_scale = inv_scale,
                 .zero_point = zero_point};
    atomic_init(&c.first_nan, -1);
    dispatch(&c, pool, 1);
    return atomic_load(&c.first_nan);
}

int64_t sam2r_par_window_layernorm_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t side,
                                      int32_t cols, int32_t win, int32_t windows_per_row, int32_t first_window,
                                      int32_t windows, int8_t *y, const float *gamma, const float *beta, float eps,
                                      float inv_scale, int32_t zero_point) {
    par_ctx c = {.op = OP_WINDOW_LAYERNORM_S8, .ops = ops, .count = (size_t)windows * (size_t)win, .x = x, .q = y,
                 .ldx = cols, .cols = cols, .gamma = gamma, .beta = beta, .eps = eps, .inv_scale = inv_scale,
                 .zero_point = zero_point, .side = side, .win = win, .windows_per_row = windows_per_row,
                 .first_window = first_window};
    atomic_init(&c.first_nan, -1);
    dispatch(&c, pool, (size_t)win * (size_t)cols);
    return atomic_load(&c.first_nan);
}

void sam2r_par_window_add(const sam2r_rowops *ops, sam2r_pool *pool, float *y, int32_t side, int32_t cols, int32_t win,
                          int32_t windows_per_row, int32_t first_window, int32_t windows, const float *x) {
    par_ctx c = {.op = OP_WINDOW_ADD, .ops = ops, .count = (size_t)windows * (size_t)win, .x = x, .y = y, .cols = cols,
                 .side = side, .win = win, .windows_per_row = windows_per_row, .first_window = first_window};
    dispatch(&c, pool, (size_t)win * (size_t)cols);
}

void sam2r_par_window_maxpool2x2(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, int32_t win,
                                 int32_t windows, int32_t cols, float *y) {
    par_ctx c = {.op = OP_WINDOW_MAXPOOL, .ops = ops, .count = (size_t)windows * (size_t)(win / 2), .x = x, .y = y,
                 .ldx = ldx, .cols = cols, .win = win};
    dispatch(&c, pool, 2 * (size_t)win * (size_t)cols);
}

void sam2r_par_residual_layernorm(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, const float *row,
                                  const float *b, float *y, int32_t rows, int32_t cols, const float *gamma,
                                  const float *beta, float eps, const float *pe, float *y_pe) {
    par_ctx c = {.op = OP_RESIDUAL_LAYERNORM, .ops = ops, .count = (size_t)rows, .x = x, .row = row, .b = b, .y = y,
                 .cols = cols, .gamma = gamma, .beta = beta, .eps = eps, .pe = pe, .y_pe = y_pe};
    dispatch(&c, pool, (size_t)cols);
}
