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
#if defined(__AVX2__)
#include <immintrin.h>
#endif

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* output channels computed per pass of the conv kernel (stack accumulators) */
#define NNCC_I8_MBLOCK 256

/* acc[0..n) += xv * w[0..n): the conv's inner loop, over output channels.
 * |xv| <= 255 and |w| <= 128, so each product fits in int16. */
static void axpy_i8(int64_t n, int32_t xv, const int8_t *w, int32_t *acc)
{
    int64_t i = 0;
#if defined(__AVX2__)
    const __m256i x16 = _mm256_set1_epi16((short)xv);
    for (; i + 16 <= n; i += 16) {
        __m256i p = _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i))), x16);
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(acc + i));
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(acc + i + 8));
        a0 = _mm256_add_epi32(a0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
        a1 = _mm256_add_epi32(a1, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(p, 1)));
        _mm256_storeu_si256((__m256i *)(acc + i), a0);
        _mm256_storeu_si256((__m256i *)(acc + i + 8), a1);
    }
#endif
    for (; i < n; i++)
        acc[i] += xv * w[i];
}

#if defined(__AVX2__)
#define NNCC_I8_PIX 4       /* output pixels per AVX2 block */
#define NNCC_I8_MAXK 8192   /* longest reduction the AVX2 block keeps on the stack */

/* AVX2: output pixels (oy, ox0..ox0+NNCC_I8_PIX) of one group, all its
 * output channels (mg a multiple of 16). The inputs of the pixels' windows
 * (less the zero point, 0 in the padding) are gathered once as int16 pairs
 * of consecutive taps; each pair times the two taps' weights of 16 output
 * channels is one vpmaddwd per 8 channels, accumulated in registers. */
static void conv_block_avx2(const nncc_conv2d_i8_params *p, const int8_t *xg, const int8_t *wg, int64_t g,
                            int64_t oy, int64_t ox0, const int32_t *bias, const int32_t *mult,
                            const int32_t *rshift, int8_t *yn, int32_t *xp)
{
    const nncc_conv2d_params *c = &p->c;
    const int64_t cg = c->c / c->group, mg = c->m / c->group, taps = cg * c->kh * c->kw;
    const int64_t pairs = (taps + 1) / 2, osz = c->oh * c->ow, isz = c->h * c->w;
    const int64_t iy0 = oy * c->sh - c->pt, iy1 = iy0 + (c->kh - 1) * c->dh;
    const int64_t ix0 = ox0 * c->sw - c->pl, ix1 = (ox0 + NNCC_I8_PIX - 1) * c->sw + (c->kw - 1) * c->dw - c->pl;
    const int inside = iy0 >= 0 && iy1 < c->h && ix0 >= 0 && ix1 < c->w; /* no padding in these windows */
    for (int64_t q = 0; q < NNCC_I8_PIX; q++) {
        int16_t *xq = (int16_t *)(xp + q * pairs);
        const int64_t ox = ox0 + q;
        int64_t t = 0;
        if (inside) {
            const int8_t *xb = xg + iy0 * c->w + ox * c->sw - c->pl;
            for (int64_t ci = 0; ci < cg; ci++)
                for (int64_t ky = 0; ky < c->kh; ky++) {
                    const int8_t *xr = xb + ci * isz + ky * c->dh * c->w;
                    for (int64_t kx = 0; kx < c->kw; kx++)
                        xq[t++] = (int16_t)(xr[kx * c->dw] - p->x_zp);
                }
        } else
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t ky = 0; ky < c->kh; ky++) {
                const int64_t iy = oy * c->sh + ky * c->dh - c->pt;
                for (int64_t kx = 0; kx < c->kw; kx++, t++) {
                    const int64_t ix = ox * c->sw + kx * c->dw - c->pl;
                    xq[t] = (int16_t)(iy < 0 || iy >= c->h || ix < 0 || ix >= c->w
                                          ? 0 : xg[ci * isz + iy * c->w + ix] - p->x_zp);
                }
            }
        if (taps & 1)
            xq[taps] = 0;
    }
    for (int64_t m0 = 0; m0 < mg; m0 += 16) {
        __m256i acc[NNCC_I8_PIX][2];
        const __m256i b0 = bias ? _mm256_loadu_si256((const __m256i *)(bias + g * mg + m0)) : _mm256_setzero_si256();
        const __m256i b1 = bias ? _mm256_loadu_si256((const __m256i *)(bias + g * mg + m0 + 8)) : _mm256_setzero_si256();
        for (int q = 0; q < NNCC_I8_PIX; q++)
            acc[q][0] = b0, acc[q][1] = b1;
        for (int64_t t = 0; t < pairs; t++) {
            __m128i wa = _mm_loadu_si128((const __m128i *)(wg + 2 * t * mg + m0));
            __m128i wb = 2 * t + 1 < taps ? _mm_loadu_si128((const __m128i *)(wg + (2 * t + 1) * mg + m0))
                                          : _mm_setzero_si128();
            __m256i w0 = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(wa, wb)); /* channels 0-7: (tap a, tap b) */
            __m256i w1 = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(wa, wb)); /* channels 8-15 */
            for (int q = 0; q < NNCC_I8_PIX; q++) {
                __m256i xv = _mm256_set1_epi32(xp[q * pairs + t]);
                acc[q][0] = _mm256_add_epi32(acc[q][0], _mm256_madd_epi16(w0, xv));
                acc[q][1] = _mm256_add_epi32(acc[q][1], _mm256_madd_epi16(w1, xv));
            }
        }
        for (int q = 0; q < NNCC_I8_PIX; q++) {
            int32_t v[16];
            _mm256_storeu_si256((__m256i *)v, acc[q][0]);
            _mm256_storeu_si256((__m256i *)(v + 8), acc[q][1]);
            for (int i = 0; i < 16; i++) {
                const int64_t m = g * mg + m0 + i;
                yn[m * osz + oy * c->ow + ox0 + q] =
                    (int8_t)clamp32(p->y_zp + nncc_requant(v[i], mult[m], rshift[m]), p->y_min, p->y_max);
            }
        }
    }
}
#endif

/* Direct convolution, one output pixel at a time: for each tap (input
 * channel, ky, kx) of the pixel's window the input value, less the zero
 * point, multiplies that tap's weights of all output channels of the group
 * (contiguous in the packed layout) into int32 accumulators. Taps in the
 * padding, and inputs equal to the zero point (every ReLU zero), add
 * nothing and are skipped. */
void nncc_conv2d_i8(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w,
                    const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y)
{
    const nncc_conv2d_params *c = &p->c;
    const int64_t cg = c->c / c->group, mg = c->m / c->group, taps = cg * c->kh * c->kw;
    const int64_t osz = c->oh * c->ow, isz = c->h * c->w;
    int32_t acc[NNCC_I8_MBLOCK];
#if defined(__AVX2__)
    int32_t xp[NNCC_I8_PIX * (NNCC_I8_MAXK / 2 + 1)];
    const int blocks = mg % 16 == 0 && taps <= NNCC_I8_MAXK && c->ow >= NNCC_I8_PIX;
#endif
    for (int64_t n = 0; n < c->n; n++) {
        for (int64_t g = 0; g < c->group; g++) {
            const int8_t *xg = x + (n * c->c + g * cg) * isz;
            const int8_t *wg = w + g * taps * mg;
#if defined(__AVX2__)
            if (blocks) {
                for (int64_t oy = 0; oy < c->oh; oy++) {
                    int64_t ox = 0;
                    for (; ox + NNCC_I8_PIX <= c->ow; ox += NNCC_I8_PIX)
                        conv_block_avx2(p, xg, wg, g, oy, ox, bias, mult, rshift, y + n * c->m * osz, xp);
                    if (ox < c->ow) /* the last pixels: a block that overlaps the previous one */
                        conv_block_avx2(p, xg, wg, g, oy, c->ow - NNCC_I8_PIX, bias, mult, rshift,
                                        y + n * c->m * osz, xp);
                }
                continue;
            }
#endif
            for (int64_t m0 = 0; m0 < mg; m0 += NNCC_I8_MBLOCK) {
                const int64_t mb = mg - m0 < NNCC_I8_MBLOCK ? mg - m0 : NNCC_I8_MBLOCK;
                const int64_t mfirst = g * mg + m0; /* first output channel of the block */
                for (int64_t oy = 0; oy < c->oh; oy++) {
                    for (int64_t ox = 0; ox < c->ow; ox++) {
                        for (int64_t i = 0; i < mb; i++)
                            acc[i] = bias ? bias[mfirst + i] : 0;
                        for (int64_t ci = 0; ci < cg; ci++) {
                            for (int64_t ky = 0; ky < c->kh; ky++) {
                                const int64_t iy = oy * c->sh + ky * c->dh - c->pt;
                                if (iy < 0 || iy >= c->h)
                                    continue;
                                const int8_t *xr = xg + ci * isz + iy * c->w;
                                for (int64_t kx = 0; kx < c->kw; kx++) {
                                    const int64_t ix = ox * c->sw + kx * c->dw - c->pl;
                                    if (ix < 0 || ix >= c->w)
                                        continue;
                                    const int32_t xv = (int32_t)xr[ix] - p->x_zp;
                                    if (xv != 0)
                                        axpy_i8(mb, xv, wg + ((ci * c->kh + ky) * c->kw + kx) * mg + m0, acc);
                                }
                            }
                        }
                        int8_t *yp = y + (n * c->m + mfirst) * osz + oy * c->ow + ox;
                        for (int64_t i = 0; i < mb; i++)
                            yp[i * osz] = (int8_t)clamp32(
                                p->y_zp + nncc_requant(acc[i], mult[mfirst + i], rshift[mfirst + i]), p->y_min,
                                p->y_max);
                    }
                }
            }
        }
    }
}

/* sum_k (a[k] - zp) * w[k] */
static int32_t dot_i8(int64_t k, const int8_t *a, int32_t zp, const int8_t *w)
{
    int64_t i = 0;
    int32_t acc = 0;
#if defined(__AVX2__)
    const __m256i z = _mm256_set1_epi16((short)zp);
    __m256i s = _mm256_setzero_si256();
    for (; i + 16 <= k; i += 16) {
        __m256i a16 = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))), z);
        __m256i w16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i)));
        s = _mm256_add_epi32(s, _mm256_madd_epi16(a16, w16)); /* pairs: |sum| <= 2 * 255 * 128 */
    }
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    acc = _mm_cvtsi128_si32(h);
#endif
    for (; i < k; i++)
        acc += ((int32_t)a[i] - zp) * w[i];
    return acc;
}

void nncc_gemm_i8(const nncc_gemm_i8_params *p, const int8_t *a, const int8_t *w,
                  const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y)
{
    for (int64_t i = 0; i < p->m; i++)
        for (int64_t j = 0; j < p->n; j++) {
            int32_t acc = (bias ? bias[j] : 0) + dot_i8(p->k, a + i * p->k, p->a_zp, w + j * p->k);
            y[i * p->n + j] = (int8_t)clamp32(p->y_zp + nncc_requant(acc, mult[j], rshift[j]), p->y_min, p->y_max);
        }
}

void nncc_add_i8(const nncc_add_i8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    for (int64_t i = 0; i < p->n; i++) {
        int32_t va = nncc_requant(((int32_t)a[i] - p->a_zp) * (1 << 20), p->a_mult, p->a_rshift);
        int32_t vb = nncc_requant(((int32_t)b[i] - p->b_zp) * (1 << 20), p->b_mult, p->b_rshift);
        y[i] = (int8_t)clamp32(p->y_zp + nncc_requant(va + vb, p->y_mult, p->y_rshift), p->y_min, p->y_max);
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
                if (iy0 >= 0 && ix0 >= 0 && iy0 + (p->kh - 1) * p->dh < p->h && ix0 + (p->kw - 1) * p->dw < p->w) {
                    /* the window lies inside the input: no checks */
                    for (int64_t ky = 0; ky < p->kh; ky++) {
                        const int8_t *xr = xc + (iy0 + ky * p->dh) * p->w + ix0;
                        for (int64_t kx = 0; kx < p->kw; kx++)
                            m = xr[kx * p->dw] > m ? xr[kx * p->dw] : m;
                    }
                    yc[oy * p->ow + ox] = (int8_t)m;
                    continue;
                }
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
