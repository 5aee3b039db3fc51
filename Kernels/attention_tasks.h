/* attention_tasks.h — the (batch, head, query block) task driver of attention.c, shared by the fp32
 * and the int8 flash attention (whose rows functions have the same signature: the int8 kernel takes
 * the fp32 argument struct). Private to Kernels/.
 * The nq queries of a (batch, head) are cut into ceil(nq / q_block) balanced blocks rounded up to
 * q_tile; worker w gets scratch + w * per_worker floats; tasks are disjoint, so the result does not
 * depend on the thread count. */
#ifndef SAM2R_ATTENTION_TASKS_H
#define SAM2R_ATTENTION_TASKS_H

#include "sam2r_attention.h"

void sam2r_attention_run_tasks(sam2r_attention_f32_rows_fn rows, int32_t q_block, int32_t q_tile,
                               const sam2r_attention_f32_args *args, sam2r_pool *pool, float *scratch,
                               size_t per_worker);

#endif
