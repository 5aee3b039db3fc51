/* sam2r_softmax_short.h — softmax over many short contiguous rows (cols <= 16), rows in vector lanes.
 *
 * The row kernel of sam2r_rowops.h spends most of its time on per-row horizontal reductions when a
 * row is a handful of scores (the mask decoder's image -> token attention: 4096 x heads rows of ~8).
 * These variants hold one row per lane instead, so max, exp and the sum are plain vector ops over
 * the columns. The operation sequence is the row kernel's (scalar/rowops_scalar.c softmax_scalar:
 * max, e = exp(x - max), the canonical 16-lane sum with column i in lane i, inv = 1 / sum, e * inv),
 * so the output is bit-identical to sam2r_rowops softmax on every ISA (docs/numerics.md).
 *
 * x and y are rows x cols, contiguous (ld = cols); y may be x. Preconditions: rows >= 1,
 * 1 <= cols <= SAM2R_SOFTMAX_SHORT_MAX_COLS.
 */
#ifndef SAM2R_SOFTMAX_SHORT_H
#define SAM2R_SOFTMAX_SHORT_H

#include <stdint.h>
#include "sam2r_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SAM2R_SOFTMAX_SHORT_MAX_COLS 16

typedef void (*sam2r_softmax_short_fn)(const float *x, float *y, int32_t rows, int32_t cols);

/* The variant for `isa`, or NULL when it has none (use sam2r_rowops softmax: same bits). */
sam2r_softmax_short_fn sam2r_softmax_short_for(sam2r_isa isa);

#ifdef __cplusplus
}
#endif
#endif
