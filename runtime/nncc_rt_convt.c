/*
 * nncc_rt_convt.c - transposed convolution (ConvTranspose), the portable
 * reference: each input pixel scatters its kernel-weighted contribution
 * into the output, y[oy = iy*s - pt + ky*d] += x[iy] * w[ky].
 */
#include "nncc_runtime.h"

void nncc_conv_transpose2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                               const float *b, float *y)
{
    const int64_t cg = p->c / p->group;   /* input channels per group */
    const int64_t mg = p->m / p->group;   /* output channels per group */
    const int64_t osz = p->oh * p->ow, isz = p->h * p->w;
    for (int64_t n = 0; n < p->n; n++) {
        float *yn = y + n * p->m * osz;
        for (int64_t m = 0; m < p->m; m++)
            for (int64_t i = 0; i < osz; i++)
                yn[m * osz + i] = b ? b[m] : 0.0f;
        for (int64_t c = 0; c < p->c; c++) {
            const int64_t g = c / cg;
            const float *xc = x + (n * p->c + c) * isz;
            for (int64_t mm = 0; mm < mg; mm++) {
                const int64_t m = g * mg + mm;
                const float *wk = w + (c * mg + mm) * p->kh * p->kw; /* w is (C, M/group, KH, KW) */
                float *ym = yn + m * osz;
                for (int64_t iy = 0; iy < p->h; iy++) {
                    for (int64_t ky = 0; ky < p->kh; ky++) {
                        const int64_t oy = iy * p->sh - p->pt + ky * p->dh;
                        if (oy < 0 || oy >= p->oh)
                            continue;
                        for (int64_t ix = 0; ix < p->w; ix++) {
                            const float xv = xc[iy * p->w + ix];
                            for (int64_t kx = 0; kx < p->kw; kx++) {
                                const int64_t ox = ix * p->sw - p->pl + kx * p->dw;
                                if (ox >= 0 && ox < p->ow)
                                    ym[oy * p->ow + ox] += xv * wk[ky * p->kw + kx];
                            }
                        }
                    }
                }
            }
        }
    }
    nncc_act_f32(&p->act, p->n * p->m * osz, y);
}
