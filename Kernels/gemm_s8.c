/* gemm_s8.c — int8 GEMM: weight packing, the tiling driver and the per-ISA kernel table.
 *
 * Packed layout (sam2r_gemm_s8.h): data[(n / NR)][(k / KR)][n % NR][k % KR], zero padded to
 * ceil(n/NR)*NR channels and ceil(k/KR)*KR inputs. The driver splits C into tasks of
 * (row block) x (column block, a multiple of NR wide, sized so that the block's packed weights stay
 * in L2) and hands them to the pool. Every output element is computed by exactly one rect call
 * over the full K, with the same arithmetic whatever the tile, so tilings and thread counts never
 * change results.
 */
#include "sam2r_gemm_s8.h"

#include <assert.h>
#include <string.h>

/* Variants (each in its own file, compiled for its architecture only). */
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_scalar;
#if defined(__x86_64__)
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx2;
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avxvnni;
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx512vnni;
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx2_w7;
#endif
#if defined(__aarch64__)
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_neon;
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_dotprod;
extern const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_i8mm;
#endif

const sam2r_gemm_s8_ukernel *sam2r_gemm_s8_ukernel_for(sam2r_isa isa) {
    switch (isa) {
    case SAM2R_ISA_SCALAR: return &sam2r_qs8_gemm_scalar;
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2: return &sam2r_qs8_gemm_avx2;
    case SAM2R_ISA_AVXVNNI: return &sam2r_qs8_gemm_avxvnni;
    case SAM2R_ISA_AVX512VNNI: return &sam2r_qs8_gemm_avx512vnni;
#endif
#if defined(__aarch64__)
    case SAM2R_ISA_NEON: return &sam2r_qs8_gemm_neon;
    case SAM2R_ISA_DOTPROD: return &sam2r_qs8_gemm_dotprod;
    case SAM2R_ISA_I8MM: return &sam2r_qs8_gemm_i8mm;
#endif
    default: return NULL;
    }
}

const sam2r_gemm_s8_ukernel *sam2r_gemm_s8_narrow_ukernel_for(sam2r_isa isa) {
#if defined(__x86_64__)
    if (isa == SAM2R_ISA_AVX2) return &sam2r_qs8_gemm_avx2_w7;
#endif
    (void)isa;
    return NULL;
}

size_t sam2r_pack_s8_size(int32_t n, int32_t k, int32_t nr, int32_t kr) {
    assert(n >= 1 && k >= 1 && nr >= 1 && kr >= 1);
    const size_t np = (size_t)((n + nr - 1) / nr) * (size_t)nr;
    const size_t kp = (size_t)((k + kr - 1) / kr) * (size_t)kr;
    return np * kp;
}

void sam2r_pack_s8(const int8_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, int32_t kr,
                   sam2r_packed_s8 *out) {
    assert(w && out && out->data && out->wsum);
    assert(n >= 1 && k >= 1 && ldw >= k && nr >= 1 && kr >= 1);
    const int32_t kg = (k + kr - 1) / kr;
    const int32_t nb = (n + nr - 1) / nr;
    int8_t *d = out->data;
    for (int32_t b = 0; b < nb; b++) {
        for (int32_t g = 0; g < kg; g++) {
            for (int32_t j = 0; j < nr; j++) {
                const int32_t col = b * nr + j;
                for (int32_t i = 0; i < kr; i++) {
                    const int32_t kk = g * kr + i;
                    *d++ = (col < n && kk < k) ? w[(size_t)col * (size_t)ldw + (size_t)kk] : 0;
                }
            }
        }
    }
    for (int32_t col = 0; col < n; col++) {
        int32_t s = 0;
        const int8_t *row = w + (size_t)col * (size_t)ldw;
        for (int32_t kk = 0; kk < k; kk++) {
            assert(row[kk] != -128);
            s += row[kk];
        }
        out->wsum[col] = s;
    }
    out->n = n;
    out->k = k;
    out->nr = nr;
    out->kr = kr;
}

/* ---- driver ---- */

typedef struct gemm_ctx {
    const sam2r_gemm_s8_ukernel *uk;
    const sam2r_gemm_s8_args *args;
    int32_t mr, nr;            /* micro-tile */
    int32_t mtl, ntl;          /* micro-tiles along M and N */
    int32_t tiles_m, tiles_n;  /* blocks along M and N: block i gets micro-tiles [i*tl/tiles, (i+1)*tl/tiles) */
} gemm_ctx;

static void gemm_task(void *vctx, int32_t task, int32_t worker) {
    (void)worker;
    const gemm_ctx *c = (const gemm_ctx *)vctx;
    const int64_t tm = task / c->tiles_n, tn = task % c->tiles_n;
    const int32_t m0 = (int32_t)(tm * c->mtl / c->tiles_m) * c->mr;
    int32_t m1 = (int32_t)((tm + 1) * c->mtl / c->tiles_m) * c->mr;
    const int32_t n0 = (int32_t)(tn * c->ntl / c->tiles_n) * c->nr;
    int32_t n1 = (int32_t)((tn + 1) * c->ntl / c->tiles_n) * c->nr;
    if (m1 > c->args->m) m1 = c->args->m;
    if (n1 > c->args->n) n1 = c->args->n;
    c->uk->rect(c->args, m0, m1, n0, n1);
}

/* Packed weights of one column block are kept under this many bytes (stays in L2 while rows stream). */
#define SAM2R_S8_COLUMN_BLOCK_BYTES (256 * 1024)

void sam2r_gemm_s8(const sam2r_gemm_s8_ukernel *uk, const sam2r_gemm_s8_args *a, sam2r_pool *pool) {
    assert(uk && a && a->w);
    assert(a->m >= 1 && a->n >= 1 && a->k >= 1 && a->k <= 65536);
    assert(a->lda >= a->k && a->ldc >= a->n);
    assert(a->w->n == a->n && a->w->k == a->k);
    assert(uk->isa == SAM2R_ISA_SCALAR || (a->w->nr == uk->nr && a->w->kr == uk->kr));
    assert(((uintptr_t)a->w->data & 63) == 0);
    assert(a->a && a->c && a->scale);
    assert(a->a_zero_point >= -128 && a->a_zero_point <= 127);
    assert(a->epilogue != SAM2R_EPI_S8 ||
           (a->qmin >= -128 && a->qmin <= a->qmax && a->qmax <= 127 &&
            a->out_zero_point >= -128 && a->out_zero_point <= 127));

    const int32_t m = a->m, n = a->n;
    const int32_t nr = a->w->nr, mr = uk->mr;
    const int32_t kp = (a->k + a->w->kr - 1) / a->w->kr * a->w->kr;
    const int32_t nthreads = sam2r_pool_threads(pool);

    /* Column blocks: as few as keep each block's packed panel within the L2 budget; sizes differ by
     * at most one micro-tile. */
    const int32_t ntl = (n + nr - 1) / nr, mtl = (m + mr - 1) / mr;
    int32_t per_block = (int32_t)((SAM2R_S8_COLUMN_BLOCK_BYTES / (size_t)kp) / (size_t)nr);
    if (per_block < 1) per_block = 1;
    int32_t tiles_n = (ntl + per_block - 1) / per_block;
    int32_t tiles_m = 1;

    /* Threads: about 8 equal tasks per thread (row blocks first, then finer column blocks), and a
     * task count that is a multiple of the thread count when possible. */
    const uint64_t macs = (uint64_t)m * (uint64_t)n * (uint64_t)a->k;
    if (nthreads > 1 && macs >= (1u << 18)) {
        const int32_t want = 8 * nthreads;
        if (tiles_n < want) tiles_m = (want + tiles_n - 1) / tiles_n;
        if (tiles_m > mtl) tiles_m = mtl;
        while ((tiles_m * tiles_n) % nthreads != 0 && tiles_m < mtl) tiles_m++;
        if (tiles_m * tiles_n < want) {
            tiles_n = (want + tiles_m - 1) / tiles_m;
            if (tiles_n > ntl) tiles_n = ntl;
        }
    }
    gemm_ctx ctx = {uk, a, mr, nr, mtl, ntl, tiles_m, tiles_n};
    const int32_t ntasks = tiles_m * tiles_n;
    if (!pool || nthreads == 1 || ntasks == 1) {
        for (int32_t t = 0; t < ntasks; t++) gemm_task(&ctx, t, 0);
        return;
    }
    sam2r_pool_run(pool, gemm_task, &ctx, ntasks);
}
