/* attention_s8.c — int8 flash attention: variant table, scratch size and the threaded driver.
 * Tasks are (batch, head, query block), run by attention.c's driver (attention_tasks.h); each task
 * quantizes its head's K and V into its worker's scratch, then streams the keys, so tasks are
 * disjoint and the result does not depend on the thread count. */
#include "sam2r_attention_s8.h"
#include "attention_s8_quant.h"
#include "attention_tasks.h"

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

void sam2r_attention_s8(const sam2r_attention_s8_ukernel *uk, const sam2r_attention_s8_args *args, sam2r_pool *pool,
                        float *scratch) {
    sam2r_attention_run_tasks(uk->rows, uk->q_block, uk->q_tile, args, pool, scratch,
                              sam2r_attention_s8_scratch_floats(uk, args->nk, args->dk, args->dv));
}
