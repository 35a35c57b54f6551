/*
 * nncc_rt_conv.c - convolution and pooling, the portable reference.
 *
 * Direct convolution in NCHW. The loop order walks each output row with the
 * weight fixed, so the innermost loop is a contiguous multiply-add over the
 * output row that compilers vectorise when the stride is 1. Padding is handled
 * by clipping the output range per kernel tap instead of testing each element.
 */
#include "nncc_runtime.h"

#include <float.h>
#include <math.h>

/* First output index o >= 0 with o*s + k*d - p >= 0, and the end (exclusive)
 * of those with o*s + k*d - p < in. Returns the clipped range [*lo, *hi). */
static void tap_range(int64_t out, int64_t in, int64_t s, int64_t off,
                      int64_t *lo, int64_t *hi)
{
    /* input index = o*s + off */
    int64_t a = 0, b = out;
    if (off < 0)
        a = (-off + s - 1) / s;
    if ((out - 1) * s + off >= in)
        b = (in - off + s - 1) / s; /* first o with o*s + off >= in */
    if (b < a)
        b = a;
    *lo = a;
    *hi = b;
}

void nncc_conv2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                     const float *b, const float *add, float *y)
{
    const int64_t cg = p->c / p->group;   /* input channels per group */
    const int64_t mg = p->m / p->group;   /* output channels per group */
    const int64_t osz = p->oh * p->ow;
    for (int64_t n = 0; n < p->n; n++) {
        const float *xn = x + n * p->c * p->h * p->w;
        float *yn = y + n * p->m * osz;
        for (int64_t m = 0; m < p->m; m++) {
            const int64_t g = m / mg;
            float *ym = yn + m * osz;
            const float bias = b ? b[m] : 0.0f;
            for (int64_t i = 0; i < osz; i++)
                ym[i] = bias;
            for (int64_t c = 0; c < cg; c++) {
                const float *xc = xn + (g * cg + c) * p->h * p->w;
                const float *wc = w + (m * cg + c) * p->kh * p->kw;
                for (int64_t ky = 0; ky < p->kh; ky++) {
                    int64_t oy0, oy1;
                    tap_range(p->oh, p->h, p->sh, ky * p->dh - p->pt, &oy0, &oy1);
                    for (int64_t kx = 0; kx < p->kw; kx++) {
                        const float wv = wc[ky * p->kw + kx];
                        const int64_t offx = kx * p->dw - p->pl;
                        int64_t ox0, ox1;
                        tap_range(p->ow, p->w, p->sw, offx, &ox0, &ox1);
                        for (int64_t oy = oy0; oy < oy1; oy++) {
                            const float *xr = xc + (oy * p->sh + ky * p->dh - p->pt) * p->w + offx;
                            float *yr = ym + oy * p->ow;
                            if (p->sw == 1) {
                                for (int64_t ox = ox0; ox < ox1; ox++)
                                    yr[ox] += wv * xr[ox];
                            } else {
                                for (int64_t ox = ox0; ox < ox1; ox++)
                                    yr[ox] += wv * xr[ox * p->sw];
                            }
                        }
                    }
                }
            }
            if (add) {
                const float *am = add + n * p->m * osz + m * osz;
                for (int64_t i = 0; i < osz; i++)
                    ym[i] += am[i];
            }
        }
    }
    nncc_act_f32(&p->act, p->n * p->m * osz, y);
}

/* Max pooling without dilation: the window is clipped to the input once per
 * output element instead of testing every tap, and the taps of a row are
 * contiguous. Same result as the general loop below (NaN propagates). */
static void maxpool_dense(const nncc_pool2d_params *p, const float *x, float *y)
{
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * p->w;
        float *yc = y + nc * p->oh * p->ow;
        for (int64_t oy = 0; oy < p->oh; oy++) {
            const int64_t iy0 = oy * p->sh - p->pt;
            const int64_t y0 = iy0 < 0 ? 0 : iy0, y1 = iy0 + p->kh > p->h ? p->h : iy0 + p->kh;
            for (int64_t ox = 0; ox < p->ow; ox++) {
                const int64_t ix0 = ox * p->sw - p->pl;
                const int64_t x0 = ix0 < 0 ? 0 : ix0, x1 = ix0 + p->kw > p->w ? p->w : ix0 + p->kw;
                /* branch-free max (a maxss); NaN is flagged and, rarely,
                 * looked up again: the reference returns the last NaN */
                float acc = -INFINITY;
                int nan = 0;
                for (int64_t iy = y0; iy < y1; iy++) {
                    const float *xr = xc + iy * p->w;
                    for (int64_t ix = x0; ix < x1; ix++) {
                        const float v = xr[ix];
                        acc = v > acc ? v : acc;
                        nan |= v != v;
                    }
                }
                if (nan)
                    for (int64_t iy = y0; iy < y1; iy++)
                        for (int64_t ix = x0; ix < x1; ix++)
                            if (xc[iy * p->w + ix] != xc[iy * p->w + ix])
                                acc = xc[iy * p->w + ix];
                yc[oy * p->ow + ox] = acc;
            }
        }
    }
}

void nncc_pool2d_f32(const nncc_pool2d_params *p, const float *x, float *y, int64_t *idx)
{
    if (p->kind == NNCC_POOL_MAX && p->dh == 1 && p->dw == 1 && !idx && (p->d <= 1 && p->od <= 1 && p->kd <= 1)) {
        maxpool_dense(p, x, y);
        return;
    }
    const int64_t D = p->d ? p->d : 1, OD = p->od ? p->od : 1, KD = p->kd ? p->kd : 1;
    const int64_t SD = p->sd ? p->sd : 1, DD = p->dd ? p->dd : 1;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * D * p->h * p->w;
        float *yc = y + nc * OD * p->oh * p->ow;
        for (int64_t oz = 0; oz < OD; oz++) {
            const int64_t iz0 = oz * SD - p->pf;
            for (int64_t oy = 0; oy < p->oh; oy++) {
                for (int64_t ox = 0; ox < p->ow; ox++) {
                    const int64_t iy0 = oy * p->sh - p->pt, ix0 = ox * p->sw - p->pl;
                    float acc = p->kind == NNCC_POOL_MAX ? -INFINITY : 0.0f;
                    int64_t cnt = 0, arg = 0;
                    for (int64_t kz = 0; kz < KD; kz++) {
                        const int64_t iz = iz0 + kz * DD;
                        if (iz < 0 || iz >= D)
                            continue;
                        for (int64_t ky = 0; ky < p->kh; ky++) {
                            const int64_t iy = iy0 + ky * p->dh;
                            if (iy < 0 || iy >= p->h)
                                continue;
                            for (int64_t kx = 0; kx < p->kw; kx++) {
                                const int64_t ix = ix0 + kx * p->dw;
                                if (ix < 0 || ix >= p->w)
                                    continue;
                                const float v = xc[(iz * p->h + iy) * p->w + ix];
                                if (p->kind == NNCC_POOL_MAX) {
                                    if (v > acc || isnan(v) || cnt == 0)
                                        arg = p->col_major ? ix * p->h + iy : (iz * p->h + iy) * p->w + ix;
                                    acc = v > acc || isnan(v) ? v : acc;
                                }
                                else if (p->kind == NNCC_POOL_LP)
                                    acc += powf(fabsf(v), (float)p->p);
                                else
                                    acc += v;
                                cnt++;
                            }
                        }
                    }
                    if (p->kind == NNCC_POOL_AVG) {
                        if (p->count_include_pad) {
                            /* the window clipped to the padded input, as ONNX counts it */
                            int64_t z0 = iz0, z1 = iz0 + (KD - 1) * DD + 1;
                            int64_t y0 = iy0, y1 = iy0 + (p->kh - 1) * p->dh + 1;
                            int64_t x0 = ix0, x1 = ix0 + (p->kw - 1) * p->dw + 1;
                            if (z1 > D + p->pk) z1 = D + p->pk;
                            if (y1 > p->h + p->pb) y1 = p->h + p->pb;
                            if (x1 > p->w + p->pr) x1 = p->w + p->pr;
                            cnt = ((z1 - z0 + DD - 1) / DD) * ((y1 - y0 + p->dh - 1) / p->dh) *
                                  ((x1 - x0 + p->dw - 1) / p->dw);
                        }
                        acc = cnt > 0 ? acc / (float)cnt : 0.0f;
                    } else if (p->kind == NNCC_POOL_LP) {
                        acc = powf(acc, 1.0f / (float)p->p);
                    }
                    yc[(oz * p->oh + oy) * p->ow + ox] = acc;
                    if (idx)
                        idx[nc * OD * p->oh * p->ow + (oz * p->oh + oy) * p->ow + ox] = nc * D * p->h * p->w + arg;
                }
            }
        }
    }
}

void nncc_global_avgpool_f32(int64_t nc, int64_t hw, const float *x, float *y)
{
    for (int64_t i = 0; i < nc; i++) {
        float s = 0.0f;
        for (int64_t j = 0; j < hw; j++)
            s += x[i * hw + j];
        y[i] = s / (float)hw;
    }
}

/* p[t] of the padded sequence of row (bi, ci): past first, then x */
static float causal_at(int64_t l, int64_t k, const float *x, const float *past, int64_t row, int64_t t)
{
    if (t < k - 1)
        return past ? past[row * (k - 1) + t] : 0.0f;
    return x[row * l + t - (k - 1)];
}

void nncc_causal_conv_f32(int64_t b, int64_t c, int64_t l, int64_t k, int32_t silu, const float *x,
                          const float *w, const float *bias, const float *past, float *y, float *present)
{
    for (int64_t row = 0; row < b * c; row++) {
        const int64_t ci = row % c;
        for (int64_t t = 0; t < l; t++) {
            float acc = bias ? bias[ci] : 0.0f;
            for (int64_t i = 0; i < k; i++)
                acc += w[ci * k + i] * causal_at(l, k, x, past, row, t + i);
            if (silu)
                acc = acc * (1.0f / (1.0f + expf(-acc)));
            y[row * l + t] = acc;
        }
        if (present)
            for (int64_t j = 0; j < k - 1; j++)
                present[row * (k - 1) + j] = causal_at(l, k, x, past, row, l + j);
    }
}
