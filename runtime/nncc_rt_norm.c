/*
 * nncc_rt_norm.c - normalisations, softmax and reductions, the portable reference.
 *
 * Reductions accumulate in the element type, in input order; softmax subtracts the row
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

void nncc_hardmax_f32(int64_t outer, int64_t len, int64_t inner, const float *x, float *y)
{
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float *yr = y + o * len * inner + i;
            int64_t best = 0;
            for (int64_t k = 1; k < len; k++)
                if (xr[k * inner] > xr[best * inner])
                    best = k;
            for (int64_t k = 0; k < len; k++)
                yr[k * inner] = k == best ? 1.0f : 0.0f;
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

/* One reduction walk per type: T the element type, LO/HI its extremes
 * (initial values of MAX/MIN), ABS/SQRT/LOG/EXP the functions it uses (the
 * identity for integers, whose compiler side refuses L2 and the log ops). */
#define NNCC_REDUCE_WALK(S, T, LO, HI, ABS, SQRT, LOG, EXP, ISNAN, EMPTY)              \
    static void reduce_##S(const nncc_reduce_params *p, const T *x, T *y)       \
    {                                                                           \
        T init = 0;                                                             \
        if (p->op == NNCC_RED_MAX) init = LO;                                   \
        if (p->op == NNCC_RED_MIN) init = HI;                                   \
        if (p->op == NNCC_RED_PROD) init = 1;                                   \
        for (int64_t i = 0; i < p->out_count; i++)                              \
            y[i] = init;                                                        \
        int64_t total = 1;                                                      \
        for (int64_t d = 0; d < p->rank; d++)                                   \
            total *= p->dims[d];                                                \
        int64_t idx[NNCC_RT_MAX_RANK] = { 0 }, o = 0;                           \
        for (int64_t t = 0; t < total; t++) {                                   \
            const T v = x[t];                                                   \
            switch (p->op) {                                                    \
            case NNCC_RED_MAX: y[o] = v > y[o] || ISNAN(v) ? v : y[o]; break;   \
            case NNCC_RED_MIN: y[o] = v < y[o] || ISNAN(v) ? v : y[o]; break;   \
            case NNCC_RED_PROD: y[o] = (T)(y[o] * v); break;                    \
            case NNCC_RED_L1: y[o] = (T)(y[o] + ABS(v)); break;                 \
            case NNCC_RED_L2: case NNCC_RED_SUM_SQUARE: y[o] = (T)(y[o] + v * v); break; \
            case NNCC_RED_LOG_SUM_EXP: y[o] = (T)(y[o] + EXP(v)); break;        \
            default: y[o] = (T)(y[o] + v); break;                               \
            }                                                                   \
            /* advance the input odometer and the output offset with it */      \
            for (int64_t d = p->rank - 1; d >= 0; d--) {                        \
                o += p->ostride[d];                                             \
                if (++idx[d] < p->dims[d])                                      \
                    break;                                                      \
                o -= p->ostride[d] * p->dims[d];                                \
                idx[d] = 0;                                                     \
            }                                                                   \
        }                                                                       \
        for (int64_t i = 0; i < p->out_count; i++) {                            \
            switch (p->op) {                                                    \
            case NNCC_RED_MEAN: y[i] = p->red_count ? (T)(y[i] / p->red_count) : (T)(EMPTY); break; \
            case NNCC_RED_L2: y[i] = (T)SQRT(y[i]); break;                      \
            case NNCC_RED_LOG_SUM: case NNCC_RED_LOG_SUM_EXP: y[i] = (T)LOG(y[i]); break; \
            default: break;                                                     \
            }                                                                   \
        }                                                                       \
    }
#define NNCC_ID_(v) (v)
#define NNCC_NO_(v) 0
#define NNCC_IABS_(v) (!((v) > 0) && (v) != 0 ? 0 - (v) : (v))
#define NNCC_REDUCE_F(CODE, T, S, F)                                            \
    NNCC_REDUCE_WALK(S, T, -INFINITY, INFINITY, fabs##F, sqrt##F, log##F, exp##F, isnan, NAN)
#define NNCC_REDUCE_I(CODE, T, S, SIGNED, LO, HI)                               \
    NNCC_REDUCE_WALK(S, T, LO, HI, NNCC_IABS_, NNCC_ID_, NNCC_ID_, NNCC_ID_, NNCC_NO_, 0)
NNCC_RT_FLOAT_TYPES(NNCC_REDUCE_F)
NNCC_RT_INT_TYPES(NNCC_REDUCE_I)

void nncc_reduce_f32(const nncc_reduce_params *p, const float *x, float *y)
{
    reduce_f32(p, x, y);
}

void nncc_reduce(const nncc_reduce_params *p, int32_t type, const void *x, void *y)
{
    switch (type) {
#define NNCC_REDUCE_CASE(CODE, T, S, ...)                                       \
    case CODE: reduce_##S(p, (const T *)x, (T *)y); break;
    NNCC_RT_FLOAT_TYPES(NNCC_REDUCE_CASE)
    NNCC_RT_INT_TYPES(NNCC_REDUCE_CASE)
    default: break;
    }
}

int nncc_nll_loss_f32(int64_t n, int64_t c, int64_t d, int32_t reduction, int32_t softmax,
                      int32_t has_ignore, int64_t ignore_index, const float *x, const int64_t *t,
                      const float *w, float *y, float *log_prob)
{
    float sum = 0.0f, wsum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++) {
            const float *xr = x + i * c * d + j; /* x[i, :, j], stride d */
            float mx = 0.0f, lse = 0.0f;
            if (softmax) {
                mx = -INFINITY;
                for (int64_t k = 0; k < c; k++)
                    mx = xr[k * d] > mx ? xr[k * d] : mx;
                for (int64_t k = 0; k < c; k++)
                    lse += expf(xr[k * d] - mx);
                lse = logf(lse);
                if (log_prob)
                    for (int64_t k = 0; k < c; k++)
                        log_prob[i * c * d + k * d + j] = xr[k * d] - mx - lse;
            }
            const int64_t cls = t[i * d + j];
            float loss = 0.0f, wt = 0.0f;
            if (!(has_ignore && cls == ignore_index)) {
                if (cls < 0 || cls >= c)
                    return 1;
                wt = w ? w[cls] : 1.0f;
                loss = -(xr[cls * d] - mx - lse) * wt;
            }
            if (reduction == 0)
                y[i * d + j] = loss;
            sum += loss;
            wsum += wt;
        }
    }
    if (reduction == 1)
        y[0] = sum;
    else if (reduction == 2)
        y[0] = sum / wsum;
    return 0;
}
