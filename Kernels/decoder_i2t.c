/* decoder_i2t.c — sam2r_decoder_i2t.h. */
#include "sam2r_decoder_i2t.h"
#include "sam2r_rowops_par.h"
#include "sam2r_f16.h"

/* At most MAX_BLOCK_ROWS image rows per block (the stack blocks' height), a whole number of the GEMM's
 * micro-tiles (MR 6 and MR 8 both take 24; a remainder tile costs nearly as much as a full one). Each block
 * streams both weight matrices (80 KB at SAM2's shape) from L2, so taller blocks read them less often:
 * 24 rows against 12 made `make bench-decoder-i2t` 20 % faster at 2 threads on Zen 3 (BENCHMARKS.md,
 * session 21); 36 and 48 were no better. The blocks take 144 KB of the caller's stack. */
enum { MAX_BLOCK_ROWS = 24, TASKS_PER_THREAD = 4 };

typedef struct {
    const sam2r_gemm_f32_ukernel *gemm;
    const sam2r_rowops *ops;
    sam2r_softmax_short_fn softmax_short;
    const sam2r_decoder_i2t_args *a;
    int32_t block_rows, blocks_per_task;
} i2t_job;

/* Columns of a the scores read. */
static int32_t score_depth(const sam2r_decoder_i2t_args *a) {
    return a->w_s_groups ? a->heads / a->group_heads * a->w_s_groups[0].k : a->w_s->k;
}

/* s[n][heads * tokens] = the scores of the block's rows `arows` (stride lda). */
static void i2t_scores(const i2t_job *j, const float *arows, int32_t lda, int32_t n, float *s) {
    const sam2r_decoder_i2t_args *a = j->a;
    const int32_t ht = a->heads * a->tokens;
    if (!a->w_s_groups) {
        const sam2r_gemm_f32_args gs = {n, ht, a->w_s->k, arows, lda, a->w_s, a->bias_s, s, ht};
        j->gemm->rect(&gs, 0, n, 0, ht);
        return;
    }
    const int32_t gt = a->group_heads * a->tokens, gk = a->w_s_groups[0].k;
    for (int32_t g = 0; g < a->heads / a->group_heads; g++) {
        const sam2r_gemm_f32_args gs = {n, gt, gk, arows + (size_t)g * (size_t)gk, lda, &a->w_s_groups[g],
                                        a->bias_s ? a->bias_s + (size_t)g * (size_t)gt : NULL, s + (size_t)g * (size_t)gt, ht};
        j->gemm->rect(&gs, 0, n, 0, gt);
    }
}

static void i2t_block(const i2t_job *j, int32_t r0, int32_t n) {
    const sam2r_decoder_i2t_args *a = j->a;
    const int32_t ht = a->heads * a->tokens, d = a->dim;
    float s[MAX_BLOCK_ROWS * SAM2R_DECODER_I2T_MAX_SCORES] __attribute__((aligned(64)));
    float o[MAX_BLOCK_ROWS * SAM2R_DECODER_I2T_MAX_DIM] __attribute__((aligned(64)));
    const float *arows = a->a + (size_t)r0 * (size_t)a->lda;
    int32_t lda = a->lda;
    if (a->a_add || a->a_add_f16) {
        /* queries + a_add into `o`, which the output GEMM overwrites only after the scores are done; a binary16
         * a_add row is first widened into `o`, then added in place: add(a, widen(a_add_f16)) */
        const int32_t k = score_depth(a);
        for (int32_t i = 0; i < n; i++) {
            const size_t src = (size_t)(r0 + i) * (size_t)lda;
            float *oi = o + (size_t)i * (size_t)k;
            const float *add = a->a_add ? a->a_add + src : oi;
            if (!a->a_add) sam2r_f16_to_f32_n(j->ops->isa, a->a_add_f16 + src, oi, (size_t)k);
            j->ops->add(arows + (size_t)i * (size_t)lda, add, oi, (size_t)k);
        }
        arows = o;
        lda = k;
    }
    i2t_scores(j, arows, lda, n, s);
    const int32_t srows = n * a->heads;
    if (j->softmax_short && a->tokens <= SAM2R_SOFTMAX_SHORT_MAX_COLS)
        j->softmax_short(s, s, srows, a->tokens);
    else
        j->ops->softmax(s, a->tokens, s, a->tokens, srows, a->tokens);
    const sam2r_gemm_f32_args go = {n, d, ht, s, ht, a->w_o, a->bias_o, o, d};
    j->gemm->rect(&go, 0, n, 0, d);
    const size_t off = (size_t)r0 * (size_t)d;
    sam2r_residual_layernorm_rows(j->ops, a->x + off, a->row, o, a->y + off, n, d, a->gamma, a->beta, a->eps,
                                  a->y_pe ? a->pe + off : NULL, a->y_pe ? a->y_pe + off : NULL);
}

static void i2t_task(void *ctx, int32_t t, int32_t worker) {
    (void)worker;
    const i2t_job *j = ctx;
    const int32_t rows = j->a->rows, br = j->block_rows;
    for (int32_t b = t * j->blocks_per_task; b < (t + 1) * j->blocks_per_task; b++) {
        const int32_t r0 = b * br;
        if (r0 >= rows) break;
        i2t_block(j, r0, rows - r0 < br ? rows - r0 : br);
    }
}

int sam2r_decoder_i2t(const sam2r_gemm_f32_ukernel *gemm, const sam2r_rowops *ops,
                      sam2r_softmax_short_fn softmax_short, const sam2r_decoder_i2t_args *a, sam2r_pool *pool) {
    if ((int64_t)a->heads * a->tokens > SAM2R_DECODER_I2T_MAX_SCORES || a->dim > SAM2R_DECODER_I2T_MAX_DIM ||
        (a->w_s_groups && (a->group_heads < 1 || a->heads % a->group_heads != 0)) ||
        ((a->a_add || a->a_add_f16) && score_depth(a) > SAM2R_DECODER_I2T_MAX_DIM))
        return -1;
    const int32_t br = gemm->mr < MAX_BLOCK_ROWS ? MAX_BLOCK_ROWS / gemm->mr * gemm->mr : MAX_BLOCK_ROWS;
    const int32_t blocks = (a->rows + br - 1) / br;
    const int32_t threads = sam2r_pool_threads(pool);
    int32_t tasks = threads > 1 ? threads * TASKS_PER_THREAD : 1;
    if (tasks > blocks) tasks = blocks;
    i2t_job j = {gemm, ops, softmax_short, a, br, (blocks + tasks - 1) / tasks};
    const int32_t ntasks = (blocks + j.blocks_per_task - 1) / j.blocks_per_task;
    if (ntasks <= 1) {
        i2t_task(&j, 0, 0);
    } else {
        sam2r_pool_run(pool, i2t_task, &j, ntasks);
    }
    return 0;
}
