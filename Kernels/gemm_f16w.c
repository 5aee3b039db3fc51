/* gemm_f16w.c — fp32 GEMM over binary16 weights: packing, and the driver. Where the fp32 micro-kernel has a
 * binary16 twin (rect_f16w: AVX2 with F16C, NEON) the twin reads the weights directly; otherwise one weight panel at a
 * time is widened into a per-worker scratch for the fp32 micro-kernel. Numerics in sam2r_gemm_f16w.h. */
#include "sam2r_gemm_f16w.h"

#define PACK_T uint16_t
#define PACK_NAME pack_panels_f16
#include "pack_panels_impl.h"
#undef PACK_T
#undef PACK_NAME

size_t sam2r_pack_f16_size(int32_t n, int32_t k, int32_t nr) { return pack_panels_elems(n, k, nr) * sizeof(uint16_t); }

void sam2r_pack_f16(const uint16_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f16 *out) {
    out->n = n;
    out->k = k;
    out->nr = nr;
    pack_panels_f16(w, ldw, n, k, nr, out->data);
}

size_t sam2r_gemm_f16w_scratch_floats(const sam2r_gemm_f32_ukernel *uk, int32_t k, int32_t threads) {
    return (size_t)(threads > 1 ? threads : 1) * (size_t)uk->nr * (size_t)k;
}

typedef struct {
    const sam2r_gemm_f32_ukernel *uk;
    const sam2r_gemm_f16w_args *args;
    float *scratch;
    int direct;   /* the micro-kernel's binary16 twin widens in registers: no scratch */
} gemm_f16w_job;

/* One task per panel: a panel is k x nr x m MACs (a few hundred thousand in the decoder's GEMMs), far
 * more than claiming it costs, and the finest split balances the threads best. A worker's scratch is
 * nr * k floats from a 64-byte aligned base, the alignment a panel of sam2r_pack_f32's layout has. */
static void gemm_f16w_task(void *ctx, int32_t panel, int32_t worker) {
    const gemm_f16w_job *j = (const gemm_f16w_job *)ctx;
    const sam2r_gemm_f16w_args *p = j->args;
    const int32_t nr = j->uk->nr, k = p->k, n0 = panel * nr;
    const int32_t cols = p->n - n0 < nr ? p->n - n0 : nr;
    if (j->direct) {
        j->uk->rect_f16w(p, 0, p->m, n0, n0 + cols);
        return;
    }
    const size_t elems = (size_t)nr * (size_t)k;
    float *wide = j->scratch + (size_t)worker * elems;
    sam2r_f16_to_f32_n(j->uk->isa, p->w->data + (size_t)panel * elems, wide, elems);
    const sam2r_packed_f32 w = {cols, k, nr, wide};
    const sam2r_gemm_f32_args a = {p->m, cols, k, p->a, p->lda, &w, p->bias ? p->bias + n0 : NULL, p->c + n0, p->ldc};
    j->uk->rect(&a, 0, p->m, 0, cols);
}

void sam2r_gemm_f16w(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f16w_args *args, float *scratch,
                     sam2r_pool *pool) {
    gemm_f16w_job job = {uk, args, scratch, uk->rect_f16w != NULL && sam2r_f16_vector_supported(uk->isa)};
    const int32_t panels = (args->n + uk->nr - 1) / uk->nr;
    /* the threshold of sam2r_gemm_f32: below it waking the pool costs more than it saves */
    const int small = (int64_t)args->m * args->n * args->k < 65536;
    if (sam2r_pool_threads(pool) <= 1 || panels == 1 || small) {
        for (int32_t q = 0; q < panels; q++) gemm_f16w_task(&job, q, 0);
        return;
    }
    sam2r_pool_run(pool, gemm_f16w_task, &job, panels);
}
