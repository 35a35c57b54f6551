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

static float act1(const nncc_act_params *a, float v)
{
    switch (a->kind) {
    case NNCC_ACT_RELU:         return v > 0.0f ? v : 0.0f;
    case NNCC_ACT_LEAKY_RELU:   return v < 0.0f ? a->alpha * v : v;
    case NNCC_ACT_CLIP:         v = v < a->alpha ? a->alpha : v; return v > a->beta ? a->beta : v;
    case NNCC_ACT_SIGMOID:      return nncc_sigmoid1_f32(v);
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

/* x < 0, written so that unsigned types draw no "always false" warning */
#define NNCC_NEG_(v) (!((v) > 0) && (v) != 0)

/* The float scalar functions live in nncc_runtime.h (static inline, shared
 * with the fused elementwise loops of generated code); the typed kernels
 * below reach them through these names. */
#define NNCC_FLOAT_SCALARS(CODE, T, S, F)                                       \
    static T unary_##S(int32_t op, T alpha, T beta, T v)                        \
    {                                                                           \
        return nncc_unary1_##S(op, alpha, beta, v);                             \
    }                                                                           \
    static T bin_##S(int32_t op, T a, T b) { return nncc_binary1_##S(op, a, b); }
NNCC_RT_FLOAT_TYPES(NNCC_FLOAT_SCALARS)

/* The integer unary ops. */
#define NNCC_UNARY_INT(CODE, T, S, SIGNED, LO, HI)                              \
    static T unary_##S(int32_t op, double alpha, double beta, T v)              \
    {                                                                           \
        switch (op) {                                                           \
        case NNCC_UN_RELU: return NNCC_NEG_(v) ? (T)0 : v;                      \
        case NNCC_UN_CLIP:                                                      \
            return (double)v < alpha ? (T)alpha : (double)v > beta ? (T)beta : v; \
        case NNCC_UN_NEG:  return (T)(0 - (uint64_t)v); /* wraps, as numpy */   \
        case NNCC_UN_ABS:  return NNCC_NEG_(v) ? (T)(0 - (uint64_t)v) : v;      \
        case NNCC_UN_SIGN: return NNCC_NEG_(v) ? (T)-1 : v > 0 ? (T)1 : (T)0;   \
        case NNCC_UN_BITNOT: return (T)~v;                                      \
        default: return v;                                                      \
        }                                                                       \
    }
NNCC_RT_INT_TYPES(NNCC_UNARY_INT)

void nncc_unary_f32(int32_t op, float alpha, float beta, int64_t n,
                    const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = unary_f32(op, alpha, beta, x[i]);
}

void nncc_unary(int32_t op, int32_t type, double alpha, double beta, int64_t n,
                const void *x, void *y)
{
    switch (type) {
#define NNCC_UNARY_CASE_F(CODE, T, S, F)                                        \
    case CODE:                                                                  \
        for (int64_t i = 0; i < n; i++)                                         \
            ((T *)y)[i] = unary_##S(op, (T)alpha, (T)beta, ((const T *)x)[i]);  \
        break;
#define NNCC_UNARY_CASE_I(CODE, T, S, SIGNED, LO, HI)                           \
    case CODE:                                                                  \
        for (int64_t i = 0; i < n; i++)                                         \
            ((T *)y)[i] = unary_##S(op, alpha, beta, ((const T *)x)[i]);        \
        break;
    NNCC_RT_FLOAT_TYPES(NNCC_UNARY_CASE_F)
    NNCC_RT_INT_TYPES(NNCC_UNARY_CASE_I)
    case NNCC_RT_F16: /* computed in float32, rounded back */
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)y)[i] = nncc_f64_to_f16(
                unary_f32(op, (float)alpha, (float)beta, (float)nncc_f16_to_f64(((const uint16_t *)x)[i])));
        break;
    default: break;
    }
}

/* Integer semantics; division by zero gives 0 rather than trapping, and
 * +, -, * wrap modulo 2^bits (computed unsigned: no undefined overflow). */
#define NNCC_BIN_INT(CODE, T, S, SIGNED, LO, HI)                                \
    static T bin_##S(int32_t op, T a, T b)                                      \
    {                                                                           \
        switch (op) {                                                           \
        case NNCC_BIN_ADD: return (T)((uint64_t)a + (uint64_t)b);               \
        case NNCC_BIN_SUB: return (T)((uint64_t)a - (uint64_t)b);               \
        case NNCC_BIN_MUL: return (T)((uint64_t)a * (uint64_t)b);               \
        case NNCC_BIN_DIV:                                                      \
            if (SIGNED && b == (T)-1) /* LO / -1 overflows */                   \
                return (T)(0 - (uint64_t)a);                                    \
            return b ? (T)(a / b) : (T)0;                                       \
        case NNCC_BIN_MAX: return a > b ? a : b;                                \
        case NNCC_BIN_MIN: return a < b ? a : b;                                \
        case NNCC_BIN_FMOD:                                                     \
            return b && !(SIGNED && b == (T)-1) ? (T)(a % b) : (T)0;            \
        case NNCC_BIN_MOD: {                                                    \
            T r = b && !(SIGNED && b == (T)-1) ? (T)(a % b) : (T)0;             \
            return (r != 0 && (NNCC_NEG_(r) != NNCC_NEG_(b))) ? (T)(r + b) : r; \
        }                                                                       \
        case NNCC_BIN_POW: {                                                    \
            T r = 1;                                                            \
            for (T e = b; e > 0; e--)                                           \
                r = (T)((uint64_t)r * (uint64_t)a);                             \
            return r;                                                           \
        }                                                                       \
        case NNCC_BIN_PRELU: return NNCC_NEG_(a) ? (T)(a * b) : a;              \
        case NNCC_BIN_AND: return (T)(a & b);                                   \
        case NNCC_BIN_OR:  return (T)(a | b);                                   \
        case NNCC_BIN_XOR: return (T)(a ^ b);                                   \
        case NNCC_BIN_SHL: /* a shift by < 0 or >= bits shifts everything out */ \
            if (NNCC_NEG_(b) || (uint64_t)b >= 8 * sizeof(T))                   \
                return 0;                                                       \
            return (T)((uint64_t)a << b);                                       \
        case NNCC_BIN_SHR: /* arithmetic for signed types, written portably */  \
            if (NNCC_NEG_(b) || (uint64_t)b >= 8 * sizeof(T))                   \
                return NNCC_NEG_(a) ? (T)-1 : (T)0;                             \
            return NNCC_NEG_(a) ? (T)~(T)((T)~a >> b) : (T)(a >> b);            \
        default: return 0;                                                      \
        }                                                                       \
    }
NNCC_RT_INT_TYPES(NNCC_BIN_INT)

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

void nncc_range(int32_t type, const void *start, const void *delta, int64_t n, void *y)
{
    switch (type) {
#define NNCC_RANGE_CASE(CODE, T, S, ...)                                        \
    case CODE:                                                                  \
        for (int64_t i = 0; i < n; i++)                                         \
            ((T *)y)[i] = (T)(*(const T *)start + (T)i * *(const T *)delta);    \
        break;
    NNCC_RT_FLOAT_TYPES(NNCC_RANGE_CASE)
    NNCC_RT_INT_TYPES(NNCC_RANGE_CASE)
    default: break;
    }
}

#define NNCC_CUMULATIVE(CODE, T, S, ...)                                        \
    static void cumulative_##S(int32_t prod, int64_t outer, int64_t len, int64_t inner, \
                               int32_t exclusive, int32_t reverse, const T *x, T *y) \
    {                                                                           \
        for (int64_t o = 0; o < outer; o++)                                     \
            for (int64_t i = 0; i < inner; i++) {                               \
                T acc = prod ? (T)1 : (T)0;                                     \
                for (int64_t k = 0; k < len; k++) {                             \
                    const int64_t a = reverse ? len - 1 - k : k;                \
                    const int64_t at = (o * len + a) * inner + i;               \
                    if (exclusive)                                              \
                        y[at] = acc;                                            \
                    acc = prod ? (T)(acc * x[at]) : (T)(acc + x[at]);           \
                    if (!exclusive)                                             \
                        y[at] = acc;                                            \
                }                                                               \
            }                                                                   \
    }
NNCC_RT_FLOAT_TYPES(NNCC_CUMULATIVE)
NNCC_RT_INT_TYPES(NNCC_CUMULATIVE)

int nncc_cumulative(int32_t type, int32_t prod, int64_t rank, const int64_t *dims, int64_t axis,
                    int32_t exclusive, int32_t reverse, const void *x, void *y)
{
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank)
        return 1;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; d++) {
        if (d < axis)
            outer *= dims[d];
        else if (d > axis)
            inner *= dims[d];
    }
    switch (type) {
#define NNCC_CUMULATIVE_CASE(CODE, T, S, ...)                                   \
    case CODE:                                                                  \
        cumulative_##S(prod, outer, dims[axis], inner, exclusive, reverse, (const T *)x, (T *)y); \
        break;
    NNCC_RT_FLOAT_TYPES(NNCC_CUMULATIVE_CASE)
    NNCC_RT_INT_TYPES(NNCC_CUMULATIVE_CASE)
    default: break;
    }
    return 0;
}

void nncc_binary(int32_t op, int32_t type, const nncc_bcast *bc, const void *a,
                 const void *b, void *y)
{
    for (int64_t d = 0; d < bc->rank; d++)
        if (bc->dims[d] == 0)
            return;
    switch (type) {
#define NNCC_BINARY_CASE(CODE, T, S, ...)                                       \
    case CODE: {                                                                \
        const T *a_ = (const T *)a, *b_ = (const T *)b;                         \
        T *y_ = (T *)y;                                                         \
        NNCC_BCAST_WALK(bc, y_[o] = bin_##S(op, a_[ia], b_[ib]));               \
        break;                                                                  \
    }
    NNCC_RT_FLOAT_TYPES(NNCC_BINARY_CASE)
    NNCC_RT_INT_TYPES(NNCC_BINARY_CASE)
    case NNCC_RT_F16: { /* computed in float32, rounded back */
        const uint16_t *a_ = (const uint16_t *)a, *b_ = (const uint16_t *)b;
        uint16_t *y_ = (uint16_t *)y;
        NNCC_BCAST_WALK(bc, y_[o] = nncc_f64_to_f16(bin_f32(op, (float)nncc_f16_to_f64(a_[ia]),
                                                            (float)nncc_f16_to_f64(b_[ib]))));
        break;
    }
    default: break;
    }
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
