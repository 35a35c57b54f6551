/*
 * nncc_rt_norm.c - normalisations, softmax and reductions, the portable reference.
 *
 * Reductions accumulate in float in input order; softmax subtracts the row
 * maximum first so exp never overflows.
 */
#include "nncc_runtime.h"

#include <float.h>
#include <math.h>

void nncc_batchnorm_f32(int64_t n, int64_t c, int64_t hw, float eps,
                        const float *scale, const float *bias, const float *mean,
                        const float *var, const float *x, float *y)
{
    for (int64_t j = 0; j < c; j++) {
        const float s = scale[j] / sqrtf(var[j] + eps);
        const float t = bias[j] - mean[j] * s;
        for (int64_t i = 0; i < n; i++) {
            const float *xr = x + (i * c + j) * hw;
            float *yr = y + (i * c + j) * hw;
            for (int64_t k = 0; k < hw; k++)
                yr[k] = xr[k] * s + t;
        }
    }
}

void nncc_lpnorm_f32(int64_t outer, int64_t len, int64_t inner, int32_t p,
                     const float *x, float *y)
{
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float *yr = y + o * len * inner + i;
            float s = 0.0f;
            for (int64_t k = 0; k < len; k++)
                s += p == 1 ? fabsf(xr[k * inner]) : xr[k * inner] * xr[k * inner];
            if (p != 1)
                s = sqrtf(s);
            for (int64_t k = 0; k < len; k++)
                yr[k * inner] = s != 0.0f ? xr[k * inner] / s : 0.0f;
        }
    }
}

void nncc_softmax_f32(int64_t outer, int64_t len, int64_t inner, int32_t log,
                      const float *x, float *y)
{
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float *yr = y + o * len * inner + i;
            float mx = -INFINITY, s = 0.0f;
            for (int64_t k = 0; k < len; k++)
                mx = xr[k * inner] > mx ? xr[k * inner] : mx;
            for (int64_t k = 0; k < len; k++) {
                const float e = expf(xr[k * inner] - mx);
                s += e;
                if (!log)
                    yr[k * inner] = e;
            }
            if (log) {
                const float ls = logf(s);
                for (int64_t k = 0; k < len; k++)
                    yr[k * inner] = xr[k * inner] - mx - ls;
            } else {
                for (int64_t k = 0; k < len; k++)
                    yr[k * inner] /= s;
            }
        }
    }
}

void nncc_reduce_f32(const nncc_reduce_params *p, const float *x, float *y)
{
    float init = 0.0f;
    if (p->op == NNCC_RED_MAX) init = -INFINITY;
    if (p->op == NNCC_RED_MIN) init = INFINITY;
    if (p->op == NNCC_RED_PROD) init = 1.0f;
    for (int64_t i = 0; i < p->out_count; i++)
        y[i] = init;
    int64_t total = 1;
    for (int64_t d = 0; d < p->rank; d++)
        total *= p->dims[d];
    int64_t idx[NNCC_RT_MAX_RANK] = { 0 }, o = 0;
    for (int64_t t = 0; t < total; t++) {
        const float v = x[t];
        switch (p->op) {
        case NNCC_RED_MAX: y[o] = v > y[o] || isnan(v) ? v : y[o]; break;
        case NNCC_RED_MIN: y[o] = v < y[o] || isnan(v) ? v : y[o]; break;
        case NNCC_RED_PROD: y[o] *= v; break;
        case NNCC_RED_L1: y[o] += fabsf(v); break;
        case NNCC_RED_L2: case NNCC_RED_SUM_SQUARE: y[o] += v * v; break;
        case NNCC_RED_LOG_SUM_EXP: y[o] += expf(v); break;
        default: y[o] += v; break;
        }
        /* advance the input odometer and the output offset with it */
        for (int64_t d = p->rank - 1; d >= 0; d--) {
            o += p->ostride[d];
            if (++idx[d] < p->dims[d])
                break;
            o -= p->ostride[d] * p->dims[d];
            idx[d] = 0;
        }
    }
    for (int64_t i = 0; i < p->out_count; i++) {
        switch (p->op) {
        case NNCC_RED_MEAN: y[i] /= (float)p->red_count; break;
        case NNCC_RED_L2: y[i] = sqrtf(y[i]); break;
        case NNCC_RED_LOG_SUM: case NNCC_RED_LOG_SUM_EXP: y[i] = logf(y[i]); break;
        default: break;
        }
    }
}
