/*
 * nncc_rt_einsum.c - Einsum as one loop nest over all index letters, the
 * portable reference (no reordering into matrix products).
 */
#include "nncc_runtime.h"

#define NNCC_EINSUM(CODE, T, S, ...)                                            \
    static void einsum_##S(const nncc_einsum_params *p, const void *const *x, T *y) \
    {                                                                           \
        int64_t idx[NNCC_EINSUM_MAX_LETTERS] = { 0 }, total = 1;                \
        for (int64_t i = 0; i < p->y_count; i++)                                \
            y[i] = 0;                                                           \
        for (int64_t l = 0; l < p->n_letters; l++)                              \
            total *= p->dims[l];                                                \
        for (int64_t t = 0; t < total; t++) {                                   \
            int64_t o = 0;                                                      \
            T v = 1;                                                            \
            for (int64_t l = 0; l < p->n_letters; l++)                          \
                o += idx[l] * p->ystride[l];                                    \
            for (int64_t k = 0; k < p->n_in; k++) {                             \
                int64_t at = 0;                                                 \
                for (int64_t l = 0; l < p->n_letters; l++)                      \
                    at += idx[l] * p->xstride[k][l];                            \
                v *= ((const T *)x[k])[at];                                     \
            }                                                                   \
            y[o] += v;                                                          \
            for (int64_t l = p->n_letters - 1; l >= 0; l--) {                   \
                if (++idx[l] < p->dims[l])                                      \
                    break;                                                      \
                idx[l] = 0;                                                     \
            }                                                                   \
        }                                                                       \
    }
NNCC_RT_FLOAT_TYPES(NNCC_EINSUM)

void nncc_einsum(const nncc_einsum_params *p, int32_t type, const void *const *x, void *y)
{
    if (type == NNCC_RT_F64)
        einsum_f64(p, x, (double *)y);
    else
        einsum_f32(p, x, (float *)y);
}
