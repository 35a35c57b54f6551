/*
 * nncc_rt_einsum.c - Einsum as one loop nest over all index letters, the
 * portable reference (no reordering into matrix products), and DFT as the
 * plain O(n^2) sum in double.
 */
#include "nncc_runtime.h"

#include <math.h>

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

int nncc_dft_f32(int64_t rank, const int64_t *dims, int64_t axis, int32_t inverse, const float *x, float *y)
{
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank - 1)
        return 1;
    const int64_t c = dims[rank - 1], len = dims[axis];
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank - 1; d++) {
        if (d < axis)
            outer *= dims[d];
        else if (d > axis)
            inner *= dims[d];
    }
    const double sign = inverse ? 1.0 : -1.0, pi2 = 6.283185307179586476925;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            for (int64_t k = 0; k < len; k++) {
                double re = 0.0, im = 0.0;
                for (int64_t j = 0; j < len; j++) {
                    const float *xp = x + ((o * len + j) * inner + i) * c;
                    const double a = sign * pi2 * (double)((j * k) % len) / (double)len;
                    const double xr = xp[0], xi = c > 1 ? xp[1] : 0.0;
                    re += xr * cos(a) - xi * sin(a);
                    im += xr * sin(a) + xi * cos(a);
                }
                float *yp = y + ((o * len + k) * inner + i) * 2;
                yp[0] = (float)(inverse ? re / (double)len : re);
                yp[1] = (float)(inverse ? im / (double)len : im);
            }
    return 0;
}
