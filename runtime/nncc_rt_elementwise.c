/*
 * nncc_rt_elementwise.c - activations, unary and binary elementwise kernels.
 *
 * Binary kernels walk the output in row-major order; the innermost dimension
 * is a plain loop with the two input strides (0 or 1 after broadcasting), the
 * outer dimensions advance by an odometer. Same-shape inputs take the flat path.
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>

static float sigmoidf_(float x)
{
    /* split on sign so exp never overflows */
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    const float e = expf(x);
    return e / (1.0f + e);
}

static float softplusf_(float x)
{
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

static float act1(const nncc_act_params *a, float v)
{
    switch (a->kind) {
    case NNCC_ACT_RELU:         return v > 0.0f ? v : 0.0f;
    case NNCC_ACT_LEAKY_RELU:   return v < 0.0f ? a->alpha * v : v;
    case NNCC_ACT_CLIP:         v = v < a->alpha ? a->alpha : v; return v > a->beta ? a->beta : v;
    case NNCC_ACT_SIGMOID:      return sigmoidf_(v);
    case NNCC_ACT_TANH:         return tanhf(v);
    case NNCC_ACT_HARD_SIGMOID: v = a->alpha * v + a->beta; return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    case NNCC_ACT_HARD_SWISH: {
        float h = v / 6.0f + 0.5f;
        h = h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
        return v * h;
    }
    default: return v;
    }
}

void nncc_act_f32(const nncc_act_params *a, int64_t n, float *y)
{
    if (a->kind == NNCC_ACT_NONE)
        return;
    if (a->kind == NNCC_ACT_RELU) {
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = act1(a, y[i]);
}

static float unary1(int32_t op, float alpha, float beta, float v)
{
    switch (op) {
    case NNCC_UN_IDENTITY:   return v;
    case NNCC_UN_RELU:       return v > 0.0f ? v : 0.0f;
    case NNCC_UN_LEAKY_RELU: return v < 0.0f ? alpha * v : v;
    case NNCC_UN_CLIP:       v = v < alpha ? alpha : v; return v > beta ? beta : v;
    case NNCC_UN_SIGMOID:    return sigmoidf_(v);
    case NNCC_UN_TANH:       return tanhf(v);
    case NNCC_UN_SQRT:       return sqrtf(v);
    case NNCC_UN_EXP:        return expf(v);
    case NNCC_UN_LOG:        return logf(v);
    case NNCC_UN_NEG:        return -v;
    case NNCC_UN_ABS:        return fabsf(v);
    case NNCC_UN_RECIPROCAL: return 1.0f / v;
    case NNCC_UN_FLOOR:      return floorf(v);
    case NNCC_UN_CEIL:       return ceilf(v);
    case NNCC_UN_ERF:        return erff(v);
    case NNCC_UN_ELU:        return v < 0.0f ? alpha * (expf(v) - 1.0f) : v;
    case NNCC_UN_SELU:       return v <= 0.0f ? beta * (alpha * expf(v) - alpha) : beta * v;
    case NNCC_UN_HARD_SIGMOID: v = alpha * v + beta; return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    case NNCC_UN_HARD_SWISH: {
        float h = v / 6.0f + 0.5f;
        h = h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
        return v * h;
    }
    case NNCC_UN_SOFTPLUS:   return softplusf_(v);
    case NNCC_UN_SOFTSIGN:   return v / (1.0f + fabsf(v));
    case NNCC_UN_SIN:        return sinf(v);
    case NNCC_UN_COS:        return cosf(v);
    case NNCC_UN_TAN:        return tanf(v);
    case NNCC_UN_ROUND:      return rintf(v); /* default rounding mode: half to even */
    case NNCC_UN_SIGN:       return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v;
    case NNCC_UN_GELU:
        if (alpha != 0.0f) /* approximate="tanh" */
            return 0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
        return 0.5f * v * (1.0f + erff(v * 0.70710678118f));
    case NNCC_UN_MISH:       return v * tanhf(softplusf_(v));
    case NNCC_UN_CELU: {
        const float neg = alpha * (expf(v / alpha) - 1.0f);
        return (v > 0.0f ? v : 0.0f) + (neg < 0.0f ? neg : 0.0f);
    }
    case NNCC_UN_THRESHOLDED_RELU: return v > alpha ? v : 0.0f;
    case NNCC_UN_SHRINK:     return v < -alpha ? v + beta : v > alpha ? v - beta : 0.0f;
    case NNCC_UN_SWISH:      return v * sigmoidf_(alpha * v);
    default:                 return v;
    }
}

void nncc_unary_f32(int32_t op, float alpha, float beta, int64_t n,
                    const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = unary1(op, alpha, beta, x[i]);
}

/* Float semantics of each binary op. */
static float bin_f32(int32_t op, float a, float b)
{
    switch (op) {
    case NNCC_BIN_ADD:   return a + b;
    case NNCC_BIN_SUB:   return a - b;
    case NNCC_BIN_MUL:   return a * b;
    case NNCC_BIN_DIV:   return a / b;
    case NNCC_BIN_POW:   return powf(a, b);
    case NNCC_BIN_MAX:   return a > b || isnan(a) ? a : b;
    case NNCC_BIN_MIN:   return a < b || isnan(a) ? a : b;
    case NNCC_BIN_FMOD:  return fmodf(a, b);
    case NNCC_BIN_MOD: { /* result takes the sign of the divisor */
        float r = fmodf(a, b);
        return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
    }
    case NNCC_BIN_PRELU: return a < 0.0f ? a * b : a;
    default:             return 0.0f;
    }
}

/* Integer semantics; division by zero gives 0 rather than trapping. */
#define NNCC_BIN_INT(T, NAME)                                                   \
    static T NAME(int32_t op, T a, T b)                                         \
    {                                                                           \
        switch (op) {                                                           \
        case NNCC_BIN_ADD: return (T)(a + b);                                   \
        case NNCC_BIN_SUB: return (T)(a - b);                                   \
        case NNCC_BIN_MUL: return (T)(a * b);                                   \
        case NNCC_BIN_DIV: return b ? (T)(a / b) : (T)0;                        \
        case NNCC_BIN_MAX: return a > b ? a : b;                                \
        case NNCC_BIN_MIN: return a < b ? a : b;                                \
        case NNCC_BIN_FMOD: return b ? (T)(a % b) : (T)0;                       \
        case NNCC_BIN_MOD: {                                                    \
            T r = b ? (T)(a % b) : (T)0;                                        \
            return (r != 0 && ((r < 0) != (b < 0))) ? (T)(r + b) : r;           \
        }                                                                       \
        case NNCC_BIN_POW: {                                                    \
            T r = 1;                                                            \
            for (T e = b; e > 0; e--)                                           \
                r = (T)(r * a);                                                 \
            return r;                                                           \
        }                                                                       \
        case NNCC_BIN_PRELU: return a < 0 ? (T)(a * b) : a;                     \
        default: return 0;                                                      \
        }                                                                       \
    }
NNCC_BIN_INT(int64_t, bin_i64)
NNCC_BIN_INT(int32_t, bin_i32)

/* The broadcast walk: FN(out_index, a_index, b_index) over all outputs. */
#define NNCC_BCAST_WALK(bc, BODY)                                               \
    do {                                                                        \
        const int64_t r_ = (bc)->rank, last_ = (bc)->dims[r_ - 1];              \
        const int64_t la_ = (bc)->sa[r_ - 1], lb_ = (bc)->sb[r_ - 1];           \
        int64_t idx_[NNCC_RT_MAX_RANK] = { 0 };                                 \
        int64_t outer_ = 1, o_ = 0;                                             \
        for (int64_t d_ = 0; d_ < r_ - 1; d_++)                                 \
            outer_ *= (bc)->dims[d_];                                           \
        for (int64_t t_ = 0; t_ < outer_; t_++) {                               \
            int64_t ia_ = 0, ib_ = 0;                                           \
            for (int64_t d_ = 0; d_ < r_ - 1; d_++) {                           \
                ia_ += idx_[d_] * (bc)->sa[d_];                                 \
                ib_ += idx_[d_] * (bc)->sb[d_];                                 \
            }                                                                   \
            for (int64_t j_ = 0; j_ < last_; j_++, o_++) {                      \
                const int64_t ia = ia_ + j_ * la_, ib = ib_ + j_ * lb_;         \
                const int64_t o = o_;                                           \
                BODY;                                                           \
            }                                                                   \
            for (int64_t d_ = r_ - 2; d_ >= 0; d_--) {                          \
                if (++idx_[d_] < (bc)->dims[d_])                                \
                    break;                                                      \
                idx_[d_] = 0;                                                   \
            }                                                                   \
        }                                                                       \
    } while (0)

void nncc_binary_f32(int32_t op, const nncc_bcast *bc, const nncc_act_params *act,
                     const float *a, const float *b, float *y)
{
    int64_t total = 1;
    for (int64_t d = 0; d < bc->rank; d++)
        total *= bc->dims[d];
    if (total == 0)
        return;
    if (op == NNCC_BIN_ADD && bc->sa[bc->rank - 1] == 1 && bc->sb[bc->rank - 1] == 1)
        NNCC_BCAST_WALK(bc, y[o] = a[ia] + b[ib]);
    else if (op == NNCC_BIN_MUL && bc->sa[bc->rank - 1] == 1)
        NNCC_BCAST_WALK(bc, y[o] = a[ia] * b[ib]);
    else
        NNCC_BCAST_WALK(bc, y[o] = bin_f32(op, a[ia], b[ib]));
    if (act)
        nncc_act_f32(act, total, y);
}

void nncc_binary_i64(int32_t op, const nncc_bcast *bc, const int64_t *a,
                     const int64_t *b, int64_t *y)
{
    for (int64_t d = 0; d < bc->rank; d++)
        if (bc->dims[d] == 0)
            return;
    NNCC_BCAST_WALK(bc, y[o] = bin_i64(op, a[ia], b[ib]));
}

void nncc_binary_i32(int32_t op, const nncc_bcast *bc, const int32_t *a,
                     const int32_t *b, int32_t *y)
{
    for (int64_t d = 0; d < bc->rank; d++)
        if (bc->dims[d] == 0)
            return;
    NNCC_BCAST_WALK(bc, y[o] = bin_i32(op, a[ia], b[ib]));
}

void nncc_broadcast_copy(const nncc_bcast *bc, size_t size, const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    for (int64_t d = 0; d < bc->rank; d++)
        if (bc->dims[d] == 0)
            return;
    NNCC_BCAST_WALK(bc, (void)ib; memcpy(ys + (size_t)o * size, xs + (size_t)ia * size, size));
}
