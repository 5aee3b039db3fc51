/* resize.c — AA bilinear, bilinear and bicubic resampling (PyTorch CPU fp32 semantics) and nearest x2.
 *
 * Every mode is separable and computed the way ATen's CPU kernels round:
 *  1. per axis, a table of taps (input index, weight) per output index, computed in float with the
 *     same double promotions as ATen's C++ (UpSampleKernel.cpp / UpSample.h):
 *     - AA bilinear (_compute_indices_min_size_weights_aa): scale = (float)in/out,
 *       support = scale >= 1 ? scale : 1, center = (float)(scale * (i + 0.5)),
 *       xmin = max((int64)(center - support + 0.5), 0), xsize = min((int64)(center + support + 0.5), in) - xmin,
 *       w_j = tri((float)((j + xmin - center + 0.5) * invscale)), normalized by their float sum;
 *     - bilinear (compute_indices_weights_linear): src = max(scale * (i + 0.5) - 0.5, 0),
 *       i0 = min(floor(src), in - 1), l = clamp(src - i0, 0, 1), taps (i0, 1 - l), (i0 + (i0 < in-1), l);
 *     - bicubic (compute_indices_weights_cubic, A = -0.75): src = scale * (i + 0.5) - 0.5 unclamped,
 *       i0 = min(floor(src), in - 1), t = clamp(src - i0, 0, 1), taps i0-1..i0+2 clamped to [0, in-1]
 *       with the Keys weights cc2(t+1), cc1(t), cc1(1-t), cc2(2-t).
 *     ATen's x86 CPU kernels are built by GCC for the AVX2/AVX-512 capabilities with FP contraction,
 *     which fuses scale * (i + 0.5) - 0.5 into one FMA and the first two steps of the Keys cubic
 *     cc2(x) = ((a*x - 5a)*x + 8a)*x - 4a; those are written here with fmaf so that indices and
 *     weights match that build bit for bit (an unfused scale*(i+0.5)-0.5 moves lambda by ~1e-6
 *     and can even move the integer index when src lands on an integer).
 *  2. horizontal pass over every input row into scratch (tmp[iy][ox][c] = sum over taps in order,
 *     starting from the first tap's product), then vertical pass (y = sum_j tmp[row_j] * w_j) —
 *     the order of ATen's separable AA kernel and, for bilinear/bicubic, the order of its generic
 *     N-d kernel (inner dimension summed first, then the outer one).
 * Both passes are split by rows over the pool. ATen may contract a*b+c into FMAs where this file
 * does not (-ffp-contract=off), so results agree to a few ulp, not bit for bit. */
#include "sam2r_resize.h"

#include <math.h>
#include <string.h>

/* Taps per output index for each mode along an axis of `in` -> `out`. */
static int32_t axis_taps(sam2r_resize_mode mode, int32_t in, int32_t out) {
    if (mode == SAM2R_RESIZE_BILINEAR) return 2;
    if (mode == SAM2R_RESIZE_BICUBIC) return 4;
    const float scale = (float)in / (float)out;
    const float support = scale >= 1.0f ? scale : 1.0f;
    return (int32_t)ceilf(support) * 2 + 1;   /* ATen's max_interp_size */
}

/* Axis table layout in scratch (floats): idx[out * T] (int32), w[out * T], then cnt[out] (int32). */
static size_t axis_floats(sam2r_resize_mode mode, int32_t in, int32_t out) {
    return (size_t)out * (2 * (size_t)axis_taps(mode, in, out) + 1);
}

typedef struct {
    int32_t taps;
    int32_t *idx, *cnt;
    float *w;
} axis_table;

static float tri_filter(float x) {
    if (x < 0.0f) x = -x;
    return x < 1.0f ? 1.0f - x : 0.0f;
}

static float cc1(float x, float a) { return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f; }
/* The inner two steps fused as ATen's x86 build (GCC contracts them; see the file comment). */
static float cc2(float x, float a) { return fmaf(fmaf(a, x, -5.0f * a), x, 8.0f * a) * x - 4.0f * a; }

static axis_table build_axis(sam2r_resize_mode mode, int32_t in, int32_t out, float *mem) {
    axis_table t;
    t.taps = axis_taps(mode, in, out);
    t.idx = (int32_t *)mem;
    t.w = mem + (size_t)out * t.taps;
    t.cnt = (int32_t *)(mem + 2 * (size_t)out * t.taps);
    const float scale = (float)in / (float)out;
    for (int32_t i = 0; i < out; i++) {
        int32_t *ix = t.idx + (size_t)i * t.taps;
        float *w = t.w + (size_t)i * t.taps;
        if (mode == SAM2R_RESIZE_BILINEAR_AA) {
            const float support = scale >= 1.0f ? scale : 1.0f;
            const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
            const float center = (float)((double)scale * ((double)i + 0.5));
            int64_t xmin = (int64_t)((double)(center - support) + 0.5);
            if (xmin < 0) xmin = 0;
            int64_t xmax = (int64_t)((double)(center + support) + 0.5);
            if (xmax > in) xmax = in;
            int64_t xsize = xmax - xmin;
            if (xsize < 0) xsize = 0;
            if (xsize > t.taps) xsize = t.taps;
            float total = 0.0f;
            for (int64_t j = 0; j < xsize; j++) {
                const float d = (float)(j + xmin) - center;
                const float wj = tri_filter((float)(((double)d + 0.5) * (double)invscale));
                w[j] = wj;
                ix[j] = (int32_t)(xmin + j);
                total += wj;
            }
            if (total != 0.0f)
                for (int64_t j = 0; j < xsize; j++) w[j] /= total;
            t.cnt[i] = (int32_t)xsize;
        } else if (mode == SAM2R_RESIZE_BILINEAR) {
            float src = fmaf(scale, (float)i + 0.5f, -0.5f);
            if (src < 0.0f) src = 0.0f;
            int32_t i0 = (int32_t)floorf(src);
            if (i0 > in - 1) i0 = in - 1;
            float l = src - (float)i0;
            l = l < 0.0f ? 0.0f : l > 1.0f ? 1.0f : l;
            ix[0] = i0;
            ix[1] = i0 + (i0 < in - 1 ? 1 : 0);
            w[0] = 1.0f - l;
            w[1] = l;
            t.cnt[i] = 2;
        } else {
            const float a = -0.75f;
            const float src = fmaf(scale, (float)i + 0.5f, -0.5f);
            int32_t i0 = (int32_t)floorf(src);
            if (i0 > in - 1) i0 = in - 1;
            float l = src - (float)i0;
            l = l < 0.0f ? 0.0f : l > 1.0f ? 1.0f : l;
            w[0] = cc2(l + 1.0f, a);
            w[1] = cc1(l, a);
            const float l2 = 1.0f - l;
            w[2] = cc1(l2, a);
            w[3] = cc2(l2 + 1.0f, a);
            for (int32_t j = 0; j < 4; j++) {
                int32_t k = i0 - 1 + j;
                ix[j] = k < 0 ? 0 : k > in - 1 ? in - 1 : k;
            }
            t.cnt[i] = 4;
        }
    }
    return t;
}

size_t sam2r_resize_scratch_floats(sam2r_resize_mode mode, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                                   int32_t c) {
    return axis_floats(mode, in_w, out_w) + axis_floats(mode, in_h, out_h) + (size_t)in_h * out_w * c + 16;
}

typedef struct {
    const float *x;
    float *tmp, *y;
    int32_t in_h, in_w, c, out_h, out_w;
    int32_t rows_per_task;
    axis_table ax, ay;
} resize_job;

static void horizontal_task(void *ctx, int32_t task, int32_t worker) {
    (void)worker;
    const resize_job *j = (const resize_job *)ctx;
    const int32_t c = j->c, T = j->ax.taps;
    const int32_t r0 = task * j->rows_per_task;
    const int32_t r1 = r0 + j->rows_per_task < j->in_h ? r0 + j->rows_per_task : j->in_h;
    for (int32_t r = r0; r < r1; r++) {
        const float *xr = j->x + (size_t)r * j->in_w * c;
        float *tr = j->tmp + (size_t)r * j->out_w * c;
        if (c == 1) {
            /* One channel (mask logits to the image): the same products and sums in the same order, without
             * the per-pixel channel loops, which cost more than the arithmetic at c = 1. */
            for (int32_t ox = 0; ox < j->out_w; ox++) {
                const int32_t *ix = j->ax.idx + (size_t)ox * T;
                const float *w = j->ax.w + (size_t)ox * T;
                const int32_t n = j->ax.cnt[ox];
                float o = n == 0 ? 0.0f : xr[ix[0]] * w[0];
                for (int32_t k = 1; k < n; k++) o += xr[ix[k]] * w[k];
                tr[ox] = o;
            }
            continue;
        }
        for (int32_t ox = 0; ox < j->out_w; ox++) {
            const int32_t *ix = j->ax.idx + (size_t)ox * T;
            const float *w = j->ax.w + (size_t)ox * T;
            const int32_t n = j->ax.cnt[ox];
            float *o = tr + (size_t)ox * c;
            if (n == 0) { memset(o, 0, (size_t)c * sizeof(float)); continue; }
            const float *s0 = xr + (size_t)ix[0] * c;
            const float w0 = w[0];
            for (int32_t ch = 0; ch < c; ch++) o[ch] = s0[ch] * w0;
            for (int32_t k = 1; k < n; k++) {
                const float *s = xr + (size_t)ix[k] * c;
                const float wk = w[k];
                for (int32_t ch = 0; ch < c; ch++) o[ch] += s[ch] * wk;
            }
        }
    }
}

static void vertical_task(void *ctx, int32_t task, int32_t worker) {
    (void)worker;
    const resize_job *j = (const resize_job *)ctx;
    const int32_t T = j->ay.taps;
    const size_t row = (size_t)j->out_w * j->c;
    const int32_t r0 = task * j->rows_per_task;
    const int32_t r1 = r0 + j->rows_per_task < j->out_h ? r0 + j->rows_per_task : j->out_h;
    for (int32_t oy = r0; oy < r1; oy++) {
        const int32_t *iy = j->ay.idx + (size_t)oy * T;
        const float *w = j->ay.w + (size_t)oy * T;
        const int32_t n = j->ay.cnt[oy];
        float *o = j->y + (size_t)oy * row;
        if (n == 0) { memset(o, 0, row * sizeof(float)); continue; }
        const float *s0 = j->tmp + (size_t)iy[0] * row;
        const float w0 = w[0];
        for (size_t e = 0; e < row; e++) o[e] = s0[e] * w0;
        for (int32_t k = 1; k < n; k++) {
            const float *s = j->tmp + (size_t)iy[k] * row;
            const float wk = w[k];
            for (size_t e = 0; e < row; e++) o[e] += s[e] * wk;
        }
    }
}

static int32_t rows_per_task(int32_t rows, int32_t threads) {
    if (threads <= 1) return rows > 0 ? rows : 1;
    int32_t r = (rows + 4 * threads - 1) / (4 * threads);
    return r > 0 ? r : 1;
}

void sam2r_resize_f32(sam2r_resize_mode mode, const float *x, int32_t in_h, int32_t in_w, int32_t c, float *y,
                      int32_t out_h, int32_t out_w, float *scratch, sam2r_pool *pool) {
    resize_job j;
    j.x = x;
    j.y = y;
    j.in_h = in_h;
    j.in_w = in_w;
    j.c = c;
    j.out_h = out_h;
    j.out_w = out_w;
    j.ax = build_axis(mode, in_w, out_w, scratch);
    float *p = scratch + axis_floats(mode, in_w, out_w);
    j.ay = build_axis(mode, in_h, out_h, p);
    p += axis_floats(mode, in_h, out_h);
    j.tmp = p;
    const int32_t threads = sam2r_pool_threads(pool);
    j.rows_per_task = rows_per_task(in_h, threads);
    int32_t tasks = (in_h + j.rows_per_task - 1) / j.rows_per_task;
    if (threads <= 1) horizontal_task(&j, 0, 0);
    else sam2r_pool_run(pool, horizontal_task, &j, tasks);
    j.rows_per_task = rows_per_task(out_h, threads);
    tasks = (out_h + j.rows_per_task - 1) / j.rows_per_task;
    if (threads <= 1) vertical_task(&j, 0, 0);
    else sam2r_pool_run(pool, vertical_task, &j, tasks);
}

void sam2r_upsample_nearest2x_f32(const float *x, int32_t h, int32_t w, int32_t c, float *y) {
    const size_t pix = (size_t)c;
    const size_t orow = (size_t)2 * w * pix;
    for (int32_t i = 0; i < h; i++) {
        float *o = y + (size_t)2 * i * orow;
        const float *s = x + (size_t)i * w * pix;
        for (int32_t jx = 0; jx < w; jx++) {
            memcpy(o + (size_t)2 * jx * pix, s + (size_t)jx * pix, pix * sizeof(float));
            memcpy(o + ((size_t)2 * jx + 1) * pix, s + (size_t)jx * pix, pix * sizeof(float));
        }
        memcpy(o + orow, o, orow * sizeof(float));
    }
}
