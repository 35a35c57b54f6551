/*
 * nncc_rt_data.c - data movement for any element type: transpose, gather,
 * pad, slice, row copies (Concat, Split) and casts.
 *
 * Elements are moved with memcpy of `size` bytes, so one kernel serves every
 * dtype; the compiler passes the element size.
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>

/* Walks the output of rank r in row-major order while keeping a matching
 * input offset: `in` advances by istride[d] along dim d. BODY sees `o`, `in`. */
#define NNCC_ODOMETER(rank, dims, istride, base, BODY)                          \
    do {                                                                        \
        int64_t idx_[NNCC_RT_MAX_RANK] = { 0 }, total_ = 1, in = (base);        \
        for (int64_t d_ = 0; d_ < (rank); d_++)                                 \
            total_ *= (dims)[d_];                                               \
        for (int64_t o = 0; o < total_; o++) {                                  \
            BODY;                                                               \
            for (int64_t d_ = (rank) - 1; d_ >= 0; d_--) {                      \
                in += (istride)[d_];                                            \
                if (++idx_[d_] < (dims)[d_])                                    \
                    break;                                                      \
                in -= (istride)[d_] * (dims)[d_];                               \
                idx_[d_] = 0;                                                   \
            }                                                                   \
        }                                                                       \
    } while (0)

void nncc_transpose(const nncc_transpose_params *p, size_t size, const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    if (size == 4) {
        const float *xf = (const float *)x;
        float *yf = (float *)y;
        NNCC_ODOMETER(p->rank, p->dims, p->istride, 0, yf[o] = xf[in]);
        return;
    }
    NNCC_ODOMETER(p->rank, p->dims, p->istride, 0,
                  memcpy(ys + (size_t)o * size, xs + (size_t)in * size, size));
}

void nncc_copy_rows(int64_t rows, size_t len, size_t xstride, size_t ystride,
                    const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    for (int64_t r = 0; r < rows; r++)
        memmove(ys + (size_t)r * ystride, xs + (size_t)r * xstride, len);
}

int nncc_gather(int64_t outer, int64_t axis_len, int64_t inner, size_t size,
                const void *x, int64_t n, const int64_t *idx, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    const size_t row = (size_t)inner * size;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < n; i++) {
            int64_t k = idx[i] < 0 ? idx[i] + axis_len : idx[i];
            if (k < 0 || k >= axis_len)
                return 1;
            memcpy(ys + (size_t)(o * n + i) * row, xs + (size_t)(o * axis_len + k) * row, row);
        }
    }
    return 0;
}

/* Maps an output coordinate to the input one for a pad mode; -1: use value. */
static int64_t pad_src(int32_t mode, int64_t i, int64_t n)
{
    if (i >= 0 && i < n)
        return i;
    if (n == 0)
        return -1;
    switch (mode) {
    case NNCC_PAD_EDGE:
        return i < 0 ? 0 : n - 1;
    case NNCC_PAD_REFLECT:
        if (n == 1)
            return 0;
        {
            const int64_t period = 2 * (n - 1);
            int64_t m = i % period;
            if (m < 0)
                m += period;
            return m < n ? m : period - m;
        }
    case NNCC_PAD_WRAP: {
        int64_t m = i % n;
        return m < 0 ? m + n : m;
    }
    default:
        return -1;
    }
}

void nncc_pad(const nncc_pad_params *p, size_t size, const void *value,
              const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    int64_t idx[NNCC_RT_MAX_RANK] = { 0 }, total = 1, istr[NNCC_RT_MAX_RANK];
    for (int64_t d = p->rank - 1, s = 1; d >= 0; d--) {
        istr[d] = s;
        s *= p->idims[d];
        total *= p->odims[d];
    }
    for (int64_t o = 0; o < total; o++) {
        int64_t in = 0;
        for (int64_t d = 0; d < p->rank && in >= 0; d++) {
            const int64_t s = pad_src(p->mode, idx[d] - p->before[d], p->idims[d]);
            in = s < 0 ? -1 : in + s * istr[d];
        }
        memcpy(ys + (size_t)o * size, in < 0 ? value : xs + (size_t)in * size, size);
        for (int64_t d = p->rank - 1; d >= 0; d--) {
            if (++idx[d] < p->odims[d])
                break;
            idx[d] = 0;
        }
    }
}

void nncc_slice(const nncc_slice_params *p, size_t size, const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    int64_t base = 0, step[NNCC_RT_MAX_RANK];
    for (int64_t d = 0; d < p->rank; d++) {
        base += p->start[d] * p->istride[d];
        step[d] = p->step[d] * p->istride[d];
    }
    NNCC_ODOMETER(p->rank, p->dims, step, base,
                  memcpy(ys + (size_t)o * size, xs + (size_t)in * size, size));
}

double nncc_f16_to_f64(uint16_t h)
{
    const int e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24); /* subnormal */
    else if (e == 31)
        v = m ? (double)NAN : (double)INFINITY;
    else
        v = ldexp((double)(m + 1024), e - 25);
    return h & 0x8000 ? -v : v;
}

uint16_t nncc_f64_to_f16(double v)
{
    const uint16_t sign = signbit(v) ? 0x8000 : 0;
    if (isnan(v))
        return (uint16_t)(sign | 0x7e00);
    const double a = fabs(v);
    if (a >= 65520.0) /* halfway between 65504 and 2^16 and above: inf */
        return (uint16_t)(sign | 0x7c00);
    if (a < 0x1p-14) /* subnormal: units of 2^-24; rint rounds half to even */
        return (uint16_t)(sign | (uint16_t)rint(a * 0x1p24));
    int e;
    double q = rint(ldexp(frexp(a, &e), 11)); /* a = q * 2^(e - 11), q in [1024, 2048] */
    if (q == 2048.0) {
        q = 1024.0;
        e++;
    }
    return (uint16_t)(sign | (uint16_t)((e + 14) << 10) | (uint16_t)(q - 1024.0));
}

/* Reads element i of type t as double (exact for every integer up to 2^53). */
static double load_d(int32_t t, const void *x, int64_t i)
{
    switch (t) {
    case NNCC_RT_F16:  return nncc_f16_to_f64(((const uint16_t *)x)[i]);
    case NNCC_RT_F32:  return ((const float *)x)[i];
    case NNCC_RT_F64:  return ((const double *)x)[i];
    case NNCC_RT_U8:   return ((const uint8_t *)x)[i];
    case NNCC_RT_I8:   return ((const int8_t *)x)[i];
    case NNCC_RT_U16:  return ((const uint16_t *)x)[i];
    case NNCC_RT_I16:  return ((const int16_t *)x)[i];
    case NNCC_RT_I32:  return ((const int32_t *)x)[i];
    case NNCC_RT_U32:  return ((const uint32_t *)x)[i];
    case NNCC_RT_BOOL: return ((const uint8_t *)x)[i] != 0;
    default:           return 0.0;
    }
}

static int is_int64(int32_t t) { return t == NNCC_RT_I64 || t == NNCC_RT_U64; }

void nncc_cast(int32_t from, int32_t to, int64_t n, const void *x, void *y)
{
    for (int64_t i = 0; i < n; i++) {
        if (is_int64(from) || is_int64(to)) {
            /* keep 64-bit integers exact: go through int64 */
            int64_t v;
            if (from == NNCC_RT_I64) v = ((const int64_t *)x)[i];
            else if (from == NNCC_RT_U64) v = (int64_t)((const uint64_t *)x)[i];
            else {
                double dv = load_d(from, x, i);
                v = isnan(dv) ? 0 : (int64_t)dv;
            }
            switch (to) {
            case NNCC_RT_I64:  ((int64_t *)y)[i] = v; continue;
            case NNCC_RT_U64:  ((uint64_t *)y)[i] = (uint64_t)v; continue;
            case NNCC_RT_F32:  ((float *)y)[i] = (float)v; continue;
            case NNCC_RT_F64:  ((double *)y)[i] = (double)v; continue;
            case NNCC_RT_F16:  ((uint16_t *)y)[i] = nncc_f64_to_f16((double)v); continue;
            case NNCC_RT_BOOL: ((uint8_t *)y)[i] = v != 0; continue;
            default: break;
            }
            if (to == NNCC_RT_I32) ((int32_t *)y)[i] = (int32_t)v;
            else if (to == NNCC_RT_U32) ((uint32_t *)y)[i] = (uint32_t)v;
            else if (to == NNCC_RT_I16) ((int16_t *)y)[i] = (int16_t)v;
            else if (to == NNCC_RT_U16) ((uint16_t *)y)[i] = (uint16_t)v;
            else if (to == NNCC_RT_I8) ((int8_t *)y)[i] = (int8_t)v;
            else if (to == NNCC_RT_U8) ((uint8_t *)y)[i] = (uint8_t)v;
            continue;
        }
        const double v = load_d(from, x, i);
        switch (to) {
        case NNCC_RT_F32:  ((float *)y)[i] = (float)v; break;
        case NNCC_RT_F64:  ((double *)y)[i] = v; break;
        case NNCC_RT_F16:  ((uint16_t *)y)[i] = nncc_f64_to_f16(v); break;
        case NNCC_RT_BOOL: ((uint8_t *)y)[i] = v != 0.0; break;
        /* float to integer: truncate, wrap modulo 2^bits like numpy on x86 */
        case NNCC_RT_U8:   ((uint8_t *)y)[i] = (uint8_t)(int64_t)v; break;
        case NNCC_RT_I8:   ((int8_t *)y)[i] = (int8_t)(int64_t)v; break;
        case NNCC_RT_U16:  ((uint16_t *)y)[i] = (uint16_t)(int64_t)v; break;
        case NNCC_RT_I16:  ((int16_t *)y)[i] = (int16_t)(int64_t)v; break;
        case NNCC_RT_I32:  ((int32_t *)y)[i] = (int32_t)(int64_t)v; break;
        case NNCC_RT_U32:  ((uint32_t *)y)[i] = (uint32_t)(int64_t)v; break;
        default: break;
        }
    }
}

void nncc_trilu(int64_t batch, int64_t rows, int64_t cols, int64_t k, int32_t upper, size_t size,
                const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) {
                const size_t o = (size_t)((b * rows + i) * cols + j) * size;
                const int keep = upper ? j - i >= k : j - i <= k;
                if (keep)
                    memcpy(ys + o, xs + o, size);
                else
                    memset(ys + o, 0, size);
            }
}

void nncc_isinf(int32_t type, int32_t nan, int32_t pos, int32_t neg, int64_t n, const void *x, uint8_t *y)
{
    for (int64_t i = 0; i < n; i++) {
        const double v = type == NNCC_RT_F64   ? ((const double *)x)[i]
                         : type == NNCC_RT_F16 ? nncc_f16_to_f64(((const uint16_t *)x)[i])
                                               : ((const float *)x)[i];
        y[i] = (uint8_t)(nan ? isnan(v) : isinf(v) && ((v > 0 && pos) || (v < 0 && neg)));
    }
}
