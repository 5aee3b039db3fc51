/* attention.c — flash attention: variant table, scratch size and the threaded driver.
 *
 * Tasks are (batch, head, query block); each task streams all keys of its (batch, head) and writes
 * its own output rows, so tasks are disjoint and the result does not depend on the thread count.
 * The nq queries of a (batch, head) are cut into ceil(nq / q_block) blocks of equal size rounded up
 * to q_tile (4096 queries with q_block 2064: 2 x 2048, not 2064 + 2032 or 4 x 480 + ...): every
 * task re-reads all keys, so fewer, balanced blocks mean less key traffic and no short last task.
 * Worker w uses scratch + w * scratch_floats. The int8 kernel (attention_s8.c) shares this driver
 * (attention_tasks.h). */
#include "sam2r_attention.h"
#include "attention_tasks.h"

extern const sam2r_attention_f32_ukernel sam2r_f32_attention_scalar;
#if defined(__x86_64__)
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_avx2;
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_avxvnni;
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_avx512;
#endif
#if defined(__aarch64__)
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_neon;
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_neon_dotprod;
extern const sam2r_attention_f32_ukernel sam2r_f32_attention_neon_i8mm;
#endif

const sam2r_attention_f32_ukernel *sam2r_attention_f32_ukernel_for(sam2r_isa isa) {
    switch (isa) {
    case SAM2R_ISA_SCALAR: return &sam2r_f32_attention_scalar;
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2: return &sam2r_f32_attention_avx2;
    case SAM2R_ISA_AVXVNNI: return &sam2r_f32_attention_avxvnni;
    case SAM2R_ISA_AVX512VNNI: return &sam2r_f32_attention_avx512;
#endif
#if defined(__aarch64__)
    case SAM2R_ISA_NEON: return &sam2r_f32_attention_neon;
    case SAM2R_ISA_DOTPROD: return &sam2r_f32_attention_neon_dotprod;
    case SAM2R_ISA_I8MM: return &sam2r_f32_attention_neon_i8mm;
#endif
    default: return NULL;
    }
}

/* Covers every variant's layout (attention_flash_impl.h: q_block*(dk + dv + 3) + k_block*(q_tile + dk
 * + dv); the scalar variant needs dk + dv + k_block), rounded up to 64 bytes. */
size_t sam2r_attention_f32_scratch_floats(const sam2r_attention_f32_ukernel *uk, int32_t dk, int32_t dv) {
    const size_t qb = (size_t)uk->q_block, qt = (size_t)uk->q_tile, kb = (size_t)uk->k_block;
    const size_t n = qb * ((size_t)dk + (size_t)dv + 3) + kb * (qt + (size_t)dk + (size_t)dv);
    return (n + 15) & ~(size_t)15;
}

typedef struct {
    sam2r_attention_f32_rows_fn rows;
    const sam2r_attention_f32_args *args;
    float *scratch;
    size_t per_worker;
    int32_t qblocks, qstep;
} attention_job;

static void attention_task(void *ctx, int32_t task, int32_t worker) {
    const attention_job *j = (const attention_job *)ctx;
    const sam2r_attention_f32_args *a = j->args;
    const int32_t qb = task % j->qblocks, bh = task / j->qblocks;
    const int32_t h = bh % a->heads, b = bh / a->heads;
    const int32_t q0 = qb * j->qstep;
    const int32_t q1 = q0 + j->qstep < a->nq ? q0 + j->qstep : a->nq;
    if (q0 >= q1) return;
    j->rows(a, b, h, q0, q1, j->scratch + (size_t)worker * j->per_worker);
}

void sam2r_attention_run_tasks(sam2r_attention_f32_rows_fn rows, int32_t q_block, int32_t q_tile,
                               const sam2r_attention_f32_args *args, sam2r_pool *pool, float *scratch,
                               size_t per_worker) {
    const int32_t qblocks = (args->nq + q_block - 1) / q_block;
    const int32_t per = (args->nq + qblocks - 1) / qblocks;
    attention_job job = {rows, args, scratch, per_worker, qblocks, (per + q_tile - 1) / q_tile * q_tile};
    const int32_t tasks = args->batch * args->heads * job.qblocks;
    if (sam2r_pool_threads(pool) <= 1 || tasks == 1) {
        for (int32_t t = 0; t < tasks; t++) attention_task(&job, t, 0);
        return;
    }
    sam2r_pool_run(pool, attention_task, &job, tasks);
}

void sam2r_attention_f32(const sam2r_attention_f32_ukernel *uk, const sam2r_attention_f32_args *args,
                         sam2r_pool *pool, float *scratch) {
    sam2r_attention_run_tasks(uk->rows, uk->q_block, uk->q_tile, args, pool, scratch,
                              sam2r_attention_f32_scratch_floats(uk, args->dk, args->dv));
}
