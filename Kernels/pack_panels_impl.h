/* pack_panels_impl.h — the zero-padded weight panels data[(n / nr)][k][n % nr] of the fp32 and binary16
 * GEMMs (sam2r_pack_f32, sam2r_pack_f16), written once over the element type. Private to Kernels/.
 * Define PACK_T (the element type) and PACK_NAME (the function's name) before including. */
#include <stddef.h>
#include <stdint.h>

#ifndef PACK_PANELS_ELEMS
#define PACK_PANELS_ELEMS
/* Elements of the packed array: whole panels of nr columns. */
static inline size_t pack_panels_elems(int32_t n, int32_t k, int32_t nr) {
    return ((size_t)n + (size_t)nr - 1) / (size_t)nr * (size_t)k * (size_t)nr;
}
#endif

/* d = w ([n][k], row stride ldw) in panels of nr columns, k rows each; padding columns zero. */
static void PACK_NAME(const PACK_T *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, PACK_T *d) {
    for (int32_t nb = 0; nb < n; nb += nr) {
        const int32_t nv = n - nb < nr ? n - nb : nr;
        for (int32_t kk = 0; kk < k; kk++) {
            for (int32_t j = 0; j < nv; j++) d[j] = w[(size_t)(nb + j) * (size_t)ldw + (size_t)kk];
            for (int32_t j = nv; j < nr; j++) d[j] = 0;
            d += nr;
        }
    }
}
