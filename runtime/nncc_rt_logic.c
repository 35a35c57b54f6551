/*
 * nncc_rt_logic.c - comparisons, logical ops, Where, argmax/argmin, the row
 * normalisations (LayerNormalization, InstanceNormalization,
 * GroupNormalization, LRN), Det and DynamicQuantizeLinear, portable
 * reference. Booleans are one byte, 0 or 1.
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>

/* Output-order walk over a broadcast, as in nncc_rt_elementwise.c, with up
 * to three inputs. BODY sees o, ia, ib, ic. */
#define NNCC_WALK3(bc, BODY)                                                    \
    do {                                                                        \
        int64_t idx_[NNCC_RT_MAX_RANK] = { 0 }, total_ = 1;                    \
        for (int64_t d_ = 0; d_ < (bc)->rank; d_++)                             \
            total_ *= (bc)->dims[d_];                                           \
        int64_t ia = 0, ib = 0, ic = 0;                                         \
        for (int64_t o = 0; o < total_; o++) {                                  \
            BODY;                                                               \
            for (int64_t d_ = (bc)->rank - 1; d_ >= 0; d_--) {                  \
                ia += (bc)->sa[d_], ib += (bc)->sb[d_], ic += (bc)->sc[d_];     \
                if (++idx_[d_] < (bc)->dims[d_])                                \
                    break;                                                      \
                ia -= (bc)->sa[d_] * (bc)->dims[d_];                            \
                ib -= (bc)->sb[d_] * (bc)->dims[d_];                            \
                ic -= (bc)->sc[d_] * (bc)->dims[d_];                            \
                idx_[d_] = 0;                                                   \
            }                                                                   \
        }                                                                       \
    } while (0)

#define CMP(a, b)                                                               \
    (op == NNCC_CMP_EQ ? (a) == (b) : op == NNCC_CMP_LT ? (a) < (b)             \
     : op == NNCC_CMP_LE ? (a) <= (b) : op == NNCC_CMP_GT ? (a) > (b) : (a) >= (b))

void nncc_compare(int32_t op, int32_t type, const nncc_bcast *bc, const void *a,
                  const void *b, uint8_t *y)
{
    switch (type) {
#define NNCC_COMPARE_CASE(CODE, T, S, ...)                                      \
    case CODE: {                                                                \
        const T *x = (const T *)a, *z = (const T *)b;                           \
        NNCC_WALK3(bc, y[o] = (uint8_t)CMP(x[ia], z[ib]));                      \
        break;                                                                  \
    }
    NNCC_RT_FLOAT_TYPES(NNCC_COMPARE_CASE)
    NNCC_RT_INT_TYPES(NNCC_COMPARE_CASE)
    case NNCC_RT_F16: { /* exactly as float64 */
        const uint16_t *x = (const uint16_t *)a, *z = (const uint16_t *)b;
        NNCC_WALK3(bc, y[o] = (uint8_t)CMP(nncc_f16_to_f64(x[ia]), nncc_f16_to_f64(z[ib])));
        break;
    }
    default: break;
    }
}

static uint8_t logic1(int32_t op, int p, int q)
{
    switch (op) {
    case NNCC_LOGIC_AND: return (uint8_t)(p && q);
    case NNCC_LOGIC_OR: return (uint8_t)(p || q);
    case NNCC_LOGIC_XOR: return (uint8_t)(p != q);
    default: return (uint8_t)!p;
    }
}

void nncc_logical(int32_t op, const nncc_bcast *bc, const uint8_t *a, const uint8_t *b, uint8_t *y)
{
    if (!b)
        b = a; /* NOT: the second operand is ignored */
    NNCC_WALK3(bc, y[o] = logic1(op, a[ia] != 0, b[ib] != 0));
}

void nncc_where(const nncc_bcast *bc, size_t size, const uint8_t *cond, const void *x,
                const void *z, void *y)
{
    const unsigned char *xs = x, *zs = z;
    unsigned char *ys = y;
    /* sa: cond, sb: x, sc: z */
    NNCC_WALK3(bc, memcpy(ys + (size_t)o * size,
                          cond[ia] ? xs + (size_t)ib * size : zs + (size_t)ic * size, size));
}

#define NNCC_ARGMAX(CODE, T, S, ...)                                            \
    static void argmax_##S(int64_t outer, int64_t len, int64_t inner, int32_t min, \
                           int32_t last, const T *x, int64_t *y)                \
    {                                                                           \
        for (int64_t o = 0; o < outer; o++) {                                   \
            for (int64_t i = 0; i < inner; i++) {                               \
                const T *xr = x + o * len * inner + i;                          \
                int64_t best = 0;                                               \
                for (int64_t k = 1; k < len; k++) {                             \
                    const T v = xr[k * inner], b = xr[best * inner];            \
                    const int better = min ? (last ? v <= b : v < b) : (last ? v >= b : v > b); \
                    if (better)                                                 \
                        best = k;                                               \
                }                                                               \
                y[o * inner + i] = best;                                        \
            }                                                                   \
        }                                                                       \
    }
NNCC_RT_FLOAT_TYPES(NNCC_ARGMAX)
NNCC_RT_INT_TYPES(NNCC_ARGMAX)

void nncc_argmax(int64_t outer, int64_t len, int64_t inner, int32_t min, int32_t last,
                 int32_t type, const void *x, int64_t *y)
{
    switch (type) {
#define NNCC_ARGMAX_CASE(CODE, T, S, ...)                                       \
    case CODE: argmax_##S(outer, len, inner, min, last, (const T *)x, y); break;
    NNCC_RT_FLOAT_TYPES(NNCC_ARGMAX_CASE)
    NNCC_RT_INT_TYPES(NNCC_ARGMAX_CASE)
    default: break;
    }
}

/* mean and 1/sqrt(variance + eps) of n values; rms: the mean is taken as 0 */
static void moments(const float *x, int64_t n, float eps, int rms, float *mean, float *inv)
{
    float m = 0.0f, v = 0.0f;
    if (!rms) {
        for (int64_t k = 0; k < n; k++)
            m += x[k];
        m /= (float)n;
    }
    for (int64_t k = 0; k < n; k++)
        v += (x[k] - m) * (x[k] - m);
    v /= (float)n;
    *mean = m;
    *inv = 1.0f / sqrtf(v + eps);
}

void nncc_layernorm_f32(int64_t rows, int64_t len, float eps, int32_t rms, const float *scale,
                        const float *bias, const float *x, float *y, float *mean, float *inv_std)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * len;
        float *yr = y + r * len;
        float m, inv;
        moments(xr, len, eps, rms, &m, &inv);
        for (int64_t k = 0; k < len; k++)
            yr[k] = (xr[k] - m) * inv * scale[k] + (bias ? bias[k] : 0.0f);
        if (mean)
            mean[r] = m;
        if (inv_std)
            inv_std[r] = inv;
    }
}

void nncc_instancenorm_f32(int64_t n, int64_t c, int64_t hw, float eps, const float *scale,
                           const float *bias, const float *x, float *y)
{
    for (int64_t r = 0; r < n * c; r++) {
        const float *xr = x + r * hw;
        float *yr = y + r * hw;
        float mean, inv;
        moments(xr, hw, eps, 0, &mean, &inv);
        for (int64_t k = 0; k < hw; k++)
            yr[k] = (xr[k] - mean) * inv * scale[r % c] + bias[r % c];
    }
}

void nncc_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, float eps, const float *scale,
                        const float *bias, const float *x, float *y)
{
    const int64_t cg = c / groups, len = cg * hw;
    for (int64_t r = 0; r < n * groups; r++) {
        const float *xr = x + r * len;
        float *yr = y + r * len;
        float mean, inv;
        moments(xr, len, eps, 0, &mean, &inv);
        for (int64_t k = 0; k < len; k++) {
            const int64_t ch = (r % groups) * cg + k / hw;
            yr[k] = (xr[k] - mean) * inv * scale[ch] + bias[ch];
        }
    }
}

void nncc_lrn_f32(int64_t n, int64_t c, int64_t hw, int64_t size, float alpha, float beta, float bias,
                  const float *x, float *y)
{
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++) {
                int64_t lo = ch - (size - 1) / 2, hi = ch + size / 2;
                float sq = 0.0f;
                lo = lo < 0 ? 0 : lo;
                hi = hi > c - 1 ? c - 1 : hi;
                for (int64_t k = lo; k <= hi; k++) {
                    const float v = x[(b * c + k) * hw + i];
                    sq += v * v;
                }
                y[(b * c + ch) * hw + i] = x[(b * c + ch) * hw + i] / powf(bias + alpha / (float)size * sq, beta);
            }
}

void nncc_det_f32(int64_t batch, int64_t m, const float *x, float *y)
{
    for (int64_t b = 0; b < batch; b++) {
        const float *a = x + b * m * m;
        /* eliminate on a local copy in double (at most 16 x 16: the
         * compiler refuses larger matrices) */
        double lu[16 * 16];
        double det = 1.0;
        if (m > 16) {
            y[b] = NAN;
            continue;
        }
        for (int64_t i = 0; i < m * m; i++)
            lu[i] = a[i];
        for (int64_t k = 0; k < m; k++) {
            int64_t piv = k;
            for (int64_t i = k + 1; i < m; i++)
                if (fabs(lu[i * m + k]) > fabs(lu[piv * m + k]))
                    piv = i;
            if (lu[piv * m + k] == 0.0) {
                det = 0.0;
                break;
            }
            if (piv != k) {
                for (int64_t j = 0; j < m; j++) {
                    const double t = lu[k * m + j];
                    lu[k * m + j] = lu[piv * m + j];
                    lu[piv * m + j] = t;
                }
                det = -det;
            }
            det *= lu[k * m + k];
            for (int64_t i = k + 1; i < m; i++) {
                const double f = lu[i * m + k] / lu[k * m + k];
                for (int64_t j = k; j < m; j++)
                    lu[i * m + j] -= f * lu[k * m + j];
            }
        }
        y[b] = (float)det;
    }
}

void nncc_dynamic_quantize_f32(int64_t n, const float *x, uint8_t *y, float *scale, uint8_t *zero_point)
{
    float mn = 0.0f, mx = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    float s = (mx - mn) / 255.0f;
    float zp = s != 0.0f ? rintf(-mn / s) : 0.0f;
    zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
    *scale = s;
    *zero_point = (uint8_t)zp;
    for (int64_t i = 0; i < n; i++) {
        float v = (s != 0.0f ? rintf(x[i] / s) : 0.0f) + zp;
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        y[i] = (uint8_t)v;
    }
}
