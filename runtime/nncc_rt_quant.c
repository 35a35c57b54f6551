/*
 * nncc_rt_quant.c - QuantizeLinear and DequantizeLinear, the portable
 * reference: per tensor, per axis and blocked scales, 8-, 16- and 32-bit
 * integers; QLinearMatMul. Rounding is half to even (rint in the default
 * rounding mode).
 */
#include "nncc_runtime.h"

#include <math.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

static int64_t load_q(int32_t t, const void *x, int64_t i)
{
    switch (t) {
    case NNCC_RT_I8:  return ((const int8_t *)x)[i];
    case NNCC_RT_U8:  return ((const uint8_t *)x)[i];
    case NNCC_RT_I16: return ((const int16_t *)x)[i];
    case NNCC_RT_U16: return ((const uint16_t *)x)[i];
    default:          return ((const int32_t *)x)[i];
    }
}

static void store_q(int32_t t, void *y, int64_t i, double v)
{
    double lo, hi;
    switch (t) {
    case NNCC_RT_I8:  lo = INT8_MIN, hi = INT8_MAX; break;
    case NNCC_RT_U8:  lo = 0, hi = UINT8_MAX; break;
    case NNCC_RT_I16: lo = INT16_MIN, hi = INT16_MAX; break;
    case NNCC_RT_U16: lo = 0, hi = UINT16_MAX; break;
    default:          lo = INT32_MIN, hi = INT32_MAX; break;
    }
    v = v < lo ? lo : v > hi ? hi : v;
    switch (t) {
    case NNCC_RT_I8:  ((int8_t *)y)[i] = (int8_t)v; break;
    case NNCC_RT_U8:  ((uint8_t *)y)[i] = (uint8_t)v; break;
    case NNCC_RT_I16: ((int16_t *)y)[i] = (int16_t)v; break;
    case NNCC_RT_U16: ((uint16_t *)y)[i] = (uint16_t)v; break;
    default:          ((int32_t *)y)[i] = (int32_t)v; break;
    }
}

/* Walks x in order; BODY sees e (element) and s (scale/zero-point index). */
#define NNCC_QUANT_WALK(p, BODY)                                                \
    do {                                                                        \
        int64_t e = 0;                                                          \
        for (int64_t o = 0; o < (p)->outer; o++)                                \
            for (int64_t a = 0; a < (p)->len; a++)                              \
                for (int64_t i = 0; i < (p)->inner; i++, e++) {                 \
                    const int64_t s = o * (p)->s_outer + (a / (p)->block) * (p)->s_axis + i * (p)->s_inner; \
                    BODY;                                                       \
                }                                                               \
    } while (0)

static int per_tensor_8bit(const nncc_quant_params *p, int32_t qtype)
{
    return p->s_outer == 0 && p->s_axis == 0 && p->s_inner == 0 && (qtype == NNCC_RT_I8 || qtype == NNCC_RT_U8);
}

/* The int8 edges of a quantised model (per tensor, 8 bits) run a loop of
 * their own, 8 at a time with AVX2: the same float division, rint and
 * integer zero point as the walk, so the same bytes. */
static void quantize_8bit(int64_t n, int32_t qtype, const float *x, float s, int32_t z, void *y)
{
    int64_t i = 0;
#if defined(__AVX2__)
    const float lo = qtype == NNCC_RT_U8 ? 0.0f : -128.0f, hi = qtype == NNCC_RT_U8 ? 255.0f : 127.0f;
    const __m256 vs = _mm256_set1_ps(s), vz = _mm256_set1_ps((float)z), vl = _mm256_set1_ps(lo), vh = _mm256_set1_ps(hi);
    for (; i + 8 <= n; i += 8) {
        __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(q, vz), vl), vh);
        const __m256i v = _mm256_cvtps_epi32(q);
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)((char *)y + i), qtype == NNCC_RT_U8 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w));
    }
#endif
    for (; i < n; i++)
        store_q(qtype, y, i, rint((double)(x[i] / s)) + (double)z);
}

void nncc_quantize(const nncc_quant_params *p, int32_t qtype, const float *x, const float *scale,
                   const void *zp, void *y)
{
    if (per_tensor_8bit(p, qtype)) {
        quantize_8bit(p->outer * p->len * p->inner, qtype, x, scale[0], zp ? (int32_t)load_q(qtype, zp, 0) : 0, y);
        return;
    }
    NNCC_QUANT_WALK(p, store_q(qtype, y, e, rint((double)(x[e] / scale[s])) + (zp ? (double)load_q(qtype, zp, s) : 0.0)));
}

void nncc_dequantize(const nncc_quant_params *p, int32_t qtype, const void *x, const float *scale,
                     const void *zp, float *y)
{
    if (per_tensor_8bit(p, qtype)) {
        const int64_t n = p->outer * p->len * p->inner, z = zp ? load_q(qtype, zp, 0) : 0;
        const float s = scale[0];
        if (qtype == NNCC_RT_I8)
            for (int64_t i = 0; i < n; i++)
                y[i] = (float)(((const int8_t *)x)[i] - z) * s;
        else
            for (int64_t i = 0; i < n; i++)
                y[i] = (float)(((const uint8_t *)x)[i] - z) * s;
        return;
    }
    NNCC_QUANT_WALK(p, y[e] = (float)(load_q(qtype, x, e) - (zp ? load_q(qtype, zp, s) : 0)) * scale[s]);
}

static double load_scale(int32_t t, const void *s)
{
    return t == NNCC_RT_F16 ? nncc_f16_to_f64(*(const uint16_t *)s) : (double)*(const float *)s;
}

/* x rounded to the scale type */
static double round_scale(int32_t t, double x)
{
    return t == NNCC_RT_F16 ? nncc_f16_to_f64(nncc_f64_to_f16(x)) : (double)(float)x;
}

void nncc_qlinear_matmul(const nncc_qmatmul_params *p, const void *a, const void *as, const void *azp,
                         const void *b, const void *bs, const void *bzp, const void *ys, const void *yzp, void *y)
{
    const int32_t st = p->scale_type;
    const double s = round_scale(st, round_scale(st, load_scale(st, as) * load_scale(st, bs)) / load_scale(st, ys));
    const int64_t za = azp ? load_q(p->ta, azp, 0) : 0, zb = bzp ? load_q(p->tb, bzp, 0) : 0;
    const double zy = yzp ? (double)load_q(p->ty, yzp, 0) : 0.0;
    for (int64_t bt = 0; bt < p->batch; bt++)
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j = 0; j < p->n; j++) {
                int64_t acc = 0;
                for (int64_t q = 0; q < p->k; q++)
                    acc += (load_q(p->ta, a, (bt * p->m + i) * p->k + q) - za) *
                           (load_q(p->tb, b, bt * p->b_step + q * p->n + j) - zb);
                store_q(p->ty, y, (bt * p->m + i) * p->n + j, rint((double)acc * s + zy));
            }
}
