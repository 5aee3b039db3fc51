/* softmax_rows8_impl.h — the short-row softmax for rows of exactly 8, R8_ROWS rows per vector (8 lanes
 * each), written once over the numerics vocabulary (NM_MAX, NM_SUB, NM_ADD, NM_MUL, NM_DIV, NM_SET1,
 * nm_exp) plus R8_V, R8_SWAP4/2/1 (exchange lanes i and i^4, i^2, i^1 inside each row's 8 lanes),
 * R8_LOAD / R8_STORE (n rows, n <= R8_ROWS) and R8_NAME. Private to Kernels/.
 *
 * No transposes: the reductions are butterflies inside each row's lanes. Why the bits are the row
 * kernel's (softmax_short_impl.h, softmax_scalar):
 *   max   exact whatever the order; a tie of -0 and +0 may pick the other zero, and x - max then
 *         differs only in the sign of a zero, for which exp gives 1 either way (inputs are not NaN);
 *   sum   the canonical 16-lane tree with column i in lane i and +0 in lanes 8..15: the first level
 *         adds +0 (exact), then lane i + lane i+4, then + lane i+2, then + lane i+1 — exactly the
 *         SWAP4, SWAP2, SWAP1 butterfly (each level's adds are commutative, so every lane of the row
 *         ends with the same bits);
 *   then  inv = 1 / sum, y = e * inv per lane, as the row kernel. */
#ifndef R8_NAME
#error "define the R8_* vocabulary first"
#endif

static NM_TGT void R8_NAME(const float *x, float *y, int32_t rows) {
    for (int32_t r = 0; r < rows; r += R8_ROWS) {
        const int32_t n = rows - r < R8_ROWS ? rows - r : R8_ROWS;
        const R8_V v = R8_LOAD(x + (size_t)r * 8, n);
        R8_V mx = NM_MAX(v, R8_SWAP4(v));
        mx = NM_MAX(mx, R8_SWAP2(mx));
        mx = NM_MAX(mx, R8_SWAP1(mx));
        const R8_V e = nm_exp(NM_SUB(v, mx));
        R8_V s = NM_ADD(e, R8_SWAP4(e));
        s = NM_ADD(s, R8_SWAP2(s));
        s = NM_ADD(s, R8_SWAP1(s));
        R8_STORE(y + (size_t)r * 8, NM_MUL(e, NM_DIV(NM_SET1(1.0f), s)), n);
    }
}
