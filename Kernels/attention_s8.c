/* attention_s8.c — int8 flash attention: variant table, scratch size and the threaded driver.
 * Tasks are (batch, head, query block) exactly as in attention.c (balanced blocks rounded up to q_tile);
 * each task quantizes its head's K and V into its worker's scratch, then streams the keys, so tasks are
 * disjoint and the result does not depend on the thread count. */
#include "sam2r_attention_s8.h"
#include "attention_s8_quant.h"

extern const sam2r_attention_s8_ukernel sam2r_s8_attention_scalar;
#if defined(__x86_64__)
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_avx2;
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_avxvnni;
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_avx512vnni;
#endif
#if defined(__aarch64__)
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_neon;
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_dotprod;
extern const sam2r_attention_s8_ukernel sam2r_s8_attention_i8mm;
#endif

const sam2r_attention_s8_ukernel *sam2r_attention_s8_ukernel_for(sam2r_isa isa) {
    switch (isa) {
    case SAM2R_ISA_SCALAR: return &sam2r_s8_attention_scalar;
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2: return &sam2r_s8_attention_avx2;
    case SAM2R_ISA_AVXVNNI: return &sam2r_s8_attention_avxvnni;
    case SAM2R_ISA_AVX512VNNI: return &sam2r_s8_attention_avx512vnni;
#endif
#if defined(__aarch64__)
    case SAM2R_ISA_NEON: return &sam2r_s8_attention_neon;
    case SAM2R_ISA_DOTPROD: return &sam2r_s8_attention_dotprod;
    case SAM2R_ISA_I8MM: return &sam2r_s8_attention_i8mm;
#endif
    default: return NULL;
    }
}

size_t sam2r_attention_s8_scratch_floats(const sam2r_attention_s8_ukernel *uk, int32_t nk, int32_t dk, int32_t dv) {
    const size_t bytes = s8_head_bytes(nk, dk, dv) + s8_rest_bytes(uk->q_block, uk->q_tile, dk, dv);
    return (bytes / 4 + 15) & ~(size_t)15;
}

typedef struct {
    const sam2r_attention_s8_ukernel *uk;
    const sam2r_attention_s8_args *args;
    float *scratch;
    size_t per_worker;
    int32_t qblocks, qstep;
} attention_s8_job;

static void attention_s8_task(void *ctx, int32_t task, int32_t worker) {
    const attention_s8_job *j = (const attention_s8_job *)ctx;
    const sam2r_attention_s8_args *a = j->args;
    const int32_t qb = task % j->qblocks, bh = task / j->qblocks;
    const int32_t h = bh % a->heads, b = bh / a->heads;
    const int32_t q0 = qb * j->qstep;
    const int32_t q1 = q0 + j->qstep < a->nq ? q0 + j->qstep : a->nq;
    if (q0 >= q1) return;
    j->uk->rows(a, b, h, q0, q1, j->scratch + (size_t)worker * j->per_worker);
}

void sam2r_attention_s8(const sam2r_attention_s8_ukernel *uk, const sam2r_attention_s8_args *args, sam2r_pool *pool,
                        float *scratch) {
    const int32_t qblocks = (args->nq + uk->q_block - 1) / uk->q_block;
    const int32_t per = (args->nq + qblocks - 1) / qblocks;
    attention_s8_job job = {uk, args, scratch, sam2r_attention_s8_scratch_floats(uk, args->nk, args->dk, args->dv),
                            qblocks, (per + uk->q_tile - 1) / uk->q_tile * uk->q_tile};
    const int32_t tasks = args->batch * args->heads * job.qblocks;
    if (sam2r_pool_threads(pool) <= 1 || tasks == 1) {
        for (int32_t t = 0; t < tasks; t++) attention_s8_task(&job, t, 0);
        return;
    }
    sam2r_pool_run(pool, attention_s8_task, &job, tasks);
}
