/*
 * nncc_rt_int8.c - int8 quantised kernels: convolution, matrix product, max
 * pooling, and the float <-> int8 conversions at the edges of a quantised
 * region. The portable reference; the conventions are in nncc_runtime.h.
 *
 * Integer only from input to output in conv and gemm: int8 x int8 products
 * (widened to int32) are summed in int32, and each output channel is
 * requantised by nncc_requant (a 31-bit fixed-point multiplier and a right
 * shift, decided by the compiler), plus the output zero point, clamped.
 * On a Cortex-M4 without FPU this needs no floating point at all. An int32
 * accumulator cannot overflow for K * 255 * 128 < 2^31, i.e. for K (the
 * reduction length C/group*KH*KW, or the gemm's K) below 65000.
 *
 * Quantize/dequantize are float by nature (they convert float tensors).
 */
#include "nncc_runtime.h"

#include <math.h>

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* output columns computed per pass of the conv kernel (stack accumulators) */
#define NNCC_I8_CHUNK 64

/* The output range [*lo, *hi) within [c0, c1) whose input column o*s + off lies in [0, in). */
static void tap_cols(int64_t c0, int64_t c1, int64_t in, int64_t s, int64_t off, int64_t *lo, int64_t *hi)
{
    int64_t a = c0, b = c1;
    if (a * s + off < 0)
        a = (-off + s - 1) / s;
    if (b > 0 && (b - 1) * s + off >= in)
        b = (in - off + s - 1) / s;
    if (a < c0)
        a = c0;
    if (b > c1)
        b = c1;
    if (b < a)
        b = a;
    *lo = a;
    *hi = b;
}

void nncc_conv2d_i8(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w,
                    const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y)
{
    const nncc_conv2d_params *c = &p->c;
    const int64_t cg = c->c / c->group, mg = c->m / c->group;
    const int64_t osz = c->oh * c->ow, isz = c->h * c->w;
    int32_t acc[NNCC_I8_CHUNK];
    for (int64_t n = 0; n < c->n; n++) {
        const int8_t *xn = x + n * c->c * isz;
        int8_t *yn = y + n * c->m * osz;
        for (int64_t m = 0; m < c->m; m++) {
            const int64_t g = m / mg;
            const int32_t b = bias ? bias[m] : 0;
            for (int64_t oy = 0; oy < c->oh; oy++) {
                for (int64_t c0 = 0; c0 < c->ow; c0 += NNCC_I8_CHUNK) {
                    const int64_t c1 = c0 + NNCC_I8_CHUNK < c->ow ? c0 + NNCC_I8_CHUNK : c->ow;
                    for (int64_t ox = c0; ox < c1; ox++)
                        acc[ox - c0] = b;
                    for (int64_t ci = 0; ci < cg; ci++) {
                        const int8_t *xc = xn + (g * cg + ci) * isz;
                        const int8_t *wc = w + (m * cg + ci) * c->kh * c->kw;
                        for (int64_t ky = 0; ky < c->kh; ky++) {
                            const int64_t iy = oy * c->sh + ky * c->dh - c->pt;
                            if (iy < 0 || iy >= c->h)
                                continue; /* padding: (x_zp - x_zp) * w = 0 */
                            const int8_t *xr = xc + iy * c->w;
                            for (int64_t kx = 0; kx < c->kw; kx++) {
                                const int32_t wv = wc[ky * c->kw + kx];
                                const int64_t off = kx * c->dw - c->pl;
                                int64_t lo, hi;
                                tap_cols(c0, c1, c->w, c->sw, off, &lo, &hi);
                                for (int64_t ox = lo; ox < hi; ox++)
                                    acc[ox - c0] += ((int32_t)xr[ox * c->sw + off] - p->x_zp) * wv;
                            }
                        }
                    }
                    int8_t *yr = yn + m * osz + oy * c->ow;
                    for (int64_t ox = c0; ox < c1; ox++)
                        yr[ox] = (int8_t)clamp32(p->y_zp + nncc_requant(acc[ox - c0], mult[m], rshift[m]),
                                                 p->y_min, p->y_max);
                }
            }
        }
    }
}

void nncc_gemm_i8(const nncc_gemm_i8_params *p, const int8_t *a, const int8_t *w,
                  const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y)
{
    for (int64_t i = 0; i < p->m; i++) {
        const int8_t *ar = a + i * p->k;
        for (int64_t j = 0; j < p->n; j++) {
            const int8_t *wr = w + j * p->k;
            /* sum (a - a_zp) * w = sum a * w - a_zp * sum w */
            int32_t acc = bias ? bias[j] : 0, wsum = 0;
            for (int64_t k = 0; k < p->k; k++) {
                acc += (int32_t)ar[k] * wr[k];
                wsum += wr[k];
            }
            acc -= p->a_zp * wsum;
            y[i * p->n + j] = (int8_t)clamp32(p->y_zp + nncc_requant(acc, mult[j], rshift[j]), p->y_min, p->y_max);
        }
    }
}

void nncc_maxpool2d_i8(const nncc_pool2d_params *p, const int8_t *x, int8_t *y)
{
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const int8_t *xc = x + nc * p->h * p->w;
        int8_t *yc = y + nc * p->oh * p->ow;
        for (int64_t oy = 0; oy < p->oh; oy++) {
            for (int64_t ox = 0; ox < p->ow; ox++) {
                const int64_t iy0 = oy * p->sh - p->pt, ix0 = ox * p->sw - p->pl;
                int32_t m = -128;
                for (int64_t ky = 0; ky < p->kh; ky++) {
                    const int64_t iy = iy0 + ky * p->dh;
                    if (iy < 0 || iy >= p->h)
                        continue;
                    for (int64_t kx = 0; kx < p->kw; kx++) {
                        const int64_t ix = ix0 + kx * p->dw;
                        if (ix >= 0 && ix < p->w && xc[iy * p->w + ix] > m)
                            m = xc[iy * p->w + ix];
                    }
                }
                yc[oy * p->ow + ox] = (int8_t)m;
            }
        }
    }
}

void nncc_quantize_f32(int32_t type, int64_t outer, int64_t len, int64_t inner,
                       const float *scale, const int32_t *zp, const float *x, void *y)
{
    const int32_t lo = type == NNCC_RT_U8 ? 0 : -128, hi = type == NNCC_RT_U8 ? 255 : 127;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < len; j++) {
            const int64_t base = (o * len + j) * inner;
            for (int64_t i = 0; i < inner; i++) {
                /* rintf rounds half to even, as ONNX asks; NaN saturates to zp */
                float r = rintf(x[base + i] / scale[j]) + (float)zp[j];
                int32_t q = r != r ? zp[j] : r < (float)lo ? lo : r > (float)hi ? hi : (int32_t)r;
                if (type == NNCC_RT_U8)
                    ((uint8_t *)y)[base + i] = (uint8_t)q;
                else
                    ((int8_t *)y)[base + i] = (int8_t)q;
            }
        }
    }
}

void nncc_dequantize_f32(int32_t type, int64_t outer, int64_t len, int64_t inner,
                         const float *scale, const int32_t *zp, const void *x, float *y)
{
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < len; j++) {
            const int64_t base = (o * len + j) * inner;
            for (int64_t i = 0; i < inner; i++) {
                int32_t q = type == NNCC_RT_U8    ? ((const uint8_t *)x)[base + i]
                            : type == NNCC_RT_I32 ? ((const int32_t *)x)[base + i]
                                                  : ((const int8_t *)x)[base + i];
                y[base + i] = (float)((int64_t)q - zp[j]) * scale[j];
            }
        }
    }
}
