/* gemm_f32.c — fp32 GEMM: weight packing, variant table and the threaded driver.
 *
 * The driver cuts C into rectangular tasks (rows in multiples of the variant's MR, columns in
 * multiples of its NR) and hands them to sam2r_pool_run; each variant's rect function does its own
 * cache blocking inside a task. Tasks are disjoint, so the result does not depend on the thread
 * count or on which thread runs which task. */
#include "sam2r_gemm_f32.h"

extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_scalar;
#if defined(__x86_64__)
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx2;
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avxvnni;
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx512;
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx512_n64;
#endif
#if defined(__aarch64__)
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon;
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_dotprod;
extern const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_i8mm;
#endif

const sam2r_gemm_f32_ukernel *sam2r_gemm_f32_ukernel_for(sam2r_isa isa) {
    switch (isa) {
    case SAM2R_ISA_SCALAR: return &sam2r_f32_gemm_scalar;
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2: return &sam2r_f32_gemm_avx2;
    case SAM2R_ISA_AVXVNNI: return &sam2r_f32_gemm_avxvnni;
    case SAM2R_ISA_AVX512VNNI: return &sam2r_f32_gemm_avx512;
#endif
#if defined(__aarch64__)
    case SAM2R_ISA_NEON: return &sam2r_f32_gemm_neon;
    case SAM2R_ISA_DOTPROD: return &sam2r_f32_gemm_neon_dotprod;
    case SAM2R_ISA_I8MM: return &sam2r_f32_gemm_neon_i8mm;
#endif
    default: return NULL;
    }
}

const sam2r_gemm_f32_ukernel *sam2r_gemm_f32_n64_ukernel_for(sam2r_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SAM2R_ISA_AVX512VNNI: return &sam2r_f32_gemm_avx512_n64;
#endif
    default: return NULL;
    }
}

#define PACK_T float
#define PACK_NAME pack_panels_f32
#include "pack_panels_impl.h"
#undef PACK_T
#undef PACK_NAME

size_t sam2r_pack_f32_size(int32_t n, int32_t k, int32_t nr) { return pack_panels_elems(n, k, nr) * sizeof(float); }

void sam2r_pack_f32(const float *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f32 *out) {
    out->n = n;
    out->k = k;
    out->nr = nr;
    pack_panels_f32(w, ldw, n, k, nr, out->data);
}

typedef struct {
    const sam2r_gemm_f32_ukernel *uk;
    const sam2r_gemm_f32_args *args;
    int32_t mt, nt, tiles_n;
} gemm_f32_job;

static void gemm_f32_task(void *ctx, int32_t task, int32_t worker) {
    (void)worker;
    const gemm_f32_job *j = (const gemm_f32_job *)ctx;
    const int32_t tm = task / j->tiles_n, tn = task % j->tiles_n;
    const int32_t m0 = tm * j->mt, n0 = tn * j->nt;
    const int32_t m1 = m0 + j->mt < j->args->m ? m0 + j->mt : j->args->m;
    const int32_t n1 = n0 + j->nt < j->args->n ? n0 + j->nt : j->args->n;
    j->uk->rect(j->args, m0, m1, n0, n1);
}

/* Task shape: at most ~512 columns (a K block of 256 x 512 weights = 512 KiB stays in L2 while the
 * task's rows stream past it) by up to 32 micro-tiles of rows (the weight block, read once from L3
 * per task, is reused by them all). Columns are split into near-equal chunks of NR multiples; when
 * there are fewer than 4 tasks per thread, row chunks are halved (down to 4 micro-tiles), then
 * column chunks. Every task starts at a multiple of NR columns (the rect functions rely on it). */
void sam2r_gemm_f32(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f32_args *args, sam2r_pool *pool) {
    const int32_t m = args->m, n = args->n;
    const int32_t threads = sam2r_pool_threads(pool);
    const int32_t mr = uk->mr, nr = uk->nr;
    const int32_t mtiles = (m + mr - 1) / mr, ntiles = (n + nr - 1) / nr;
    const int32_t nchunks = (n + 511) / 512;
    int32_t nt_tiles = (ntiles + nchunks - 1) / nchunks;
    int32_t mt_tiles = mtiles < 32 ? mtiles : 32;
    /* below ~64K MACs (a few microseconds) waking the pool costs more than it saves */
    const int small = (int64_t)m * n * args->k < 65536;
    if (threads > 1 && !small) {
        const int64_t want = 4 * (int64_t)threads;
        while ((int64_t)((mtiles + mt_tiles - 1) / mt_tiles) * ((ntiles + nt_tiles - 1) / nt_tiles) < want) {
            if (mt_tiles > 4) mt_tiles = (mt_tiles + 1) / 2;
            else if (nt_tiles > 1) nt_tiles = (nt_tiles + 1) / 2;
            else if (mt_tiles > 1) mt_tiles = (mt_tiles + 1) / 2;
            else break;
        }
    }
    gemm_f32_job job = {uk, args, mt_tiles * mr, nt_tiles * nr, 0};
    job.tiles_n = (n + job.nt - 1) / job.nt;
    const int32_t tasks = ((m + job.mt - 1) / job.mt) * job.tiles_n;
    if (threads <= 1 || tasks == 1 || small) {
        for (int32_t t = 0; t < tasks; t++) gemm_f32_task(&job, t, 0);
        return;
    }
    sam2r_pool_run(pool, gemm_f32_task, &job, tasks);
}
