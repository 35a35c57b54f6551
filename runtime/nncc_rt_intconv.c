/*
 * nncc_rt_intconv.c - MatMulInteger, ConvInteger and QLinearConv: 8-bit
 * (int8 or uint8) inputs with zero points, int32 accumulation. QLinearConv
 * requantises with rint (half to even) and saturates to the output type.
 */
#include "nncc_runtime.h"

#include <math.h>

static int32_t ld8(int32_t t, const void *x, int64_t i)
{
    return t == NNCC_RT_I8 ? (int32_t)((const int8_t *)x)[i] : (int32_t)((const uint8_t *)x)[i];
}

/* y(batch,M,N) = sum_k (a[b,m,k] - azp) * (b[b,k,n] - bzp) */
void nncc_matmul_integer(const nncc_matmul_int_params *p, const void *a, const void *b, const void *azp,
                         const void *bzp, int32_t *y)
{
    for (int64_t bt = 0; bt < p->batch; bt++)
        for (int64_t i = 0; i < p->m; i++) {
            const int32_t za = azp ? ld8(p->ta, azp, p->a_zp_per_row ? i : 0) : 0;
            for (int64_t j = 0; j < p->n; j++) {
                const int32_t zb = bzp ? ld8(p->tb, bzp, p->b_zp_per_col ? j : 0) : 0;
                int32_t acc = 0;
                for (int64_t q = 0; q < p->k; q++)
                    acc += (ld8(p->ta, a, (bt * p->m + i) * p->k + q) - za) *
                           (ld8(p->tb, b, bt * p->b_step + q * p->n + j) - zb);
                y[(bt * p->m + i) * p->n + j] = acc;
            }
        }
}

/* acc for output (n, m, oy, ox): sum over c, ky, kx of (x - xzp) * (w - wzp[m]);
 * padding contributes 0 (the zero point is subtracted before padding). */
static int32_t conv_acc(const nncc_conv2d_params *p, int32_t tx, int32_t tw, int32_t zx, int32_t zw,
                        const void *x, const void *w, int64_t n, int64_t m, int64_t oy, int64_t ox)
{
    const int64_t cg = p->c / p->group, mg = p->m / p->group, g = m / mg;
    int32_t acc = 0;
    for (int64_t c = 0; c < cg; c++)
        for (int64_t ky = 0; ky < p->kh; ky++) {
            const int64_t iy = oy * p->sh - p->pt + ky * p->dh;
            if (iy < 0 || iy >= p->h)
                continue;
            for (int64_t kx = 0; kx < p->kw; kx++) {
                const int64_t ix = ox * p->sw - p->pl + kx * p->dw;
                if (ix < 0 || ix >= p->w)
                    continue;
                acc += (ld8(tx, x, ((n * p->c + g * cg + c) * p->h + iy) * p->w + ix) - zx) *
                       (ld8(tw, w, ((m * cg + c) * p->kh + ky) * p->kw + kx) - zw);
            }
        }
    return acc;
}

void nncc_conv_integer(const nncc_conv2d_params *p, int32_t tx, int32_t tw, int32_t wzp_per_m, const void *x,
                       const void *w, const void *xzp, const void *wzp, int32_t *y)
{
    const int32_t zx = xzp ? ld8(tx, xzp, 0) : 0;
    int64_t e = 0;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++) {
            const int32_t zw = wzp ? ld8(tw, wzp, wzp_per_m ? m : 0) : 0;
            for (int64_t oy = 0; oy < p->oh; oy++)
                for (int64_t ox = 0; ox < p->ow; ox++)
                    y[e++] = conv_acc(p, tx, tw, zx, zw, x, w, n, m, oy, ox);
        }
}

void nncc_qlinear_conv(const nncc_conv2d_params *p, int32_t tx, int32_t tw, int32_t ty, int32_t w_per_m,
                       const void *x, const float *xs, const void *xzp, const void *w, const float *ws,
                       const void *wzp, const float *ys, const void *yzp, const int32_t *bias, void *y)
{
    const int32_t zx = ld8(tx, xzp, 0), zy = yzp ? ld8(ty, yzp, 0) : 0;
    const double lo = ty == NNCC_RT_I8 ? INT8_MIN : 0, hi = ty == NNCC_RT_I8 ? INT8_MAX : UINT8_MAX;
    int64_t e = 0;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++) {
            const int64_t j = w_per_m ? m : 0;
            const int32_t zw = wzp ? ld8(tw, wzp, j) : 0;
            /* the multiplier in float32, as the reference computes it */
            const float mult = (float)(xs[0] * ws[j]) / ys[0];
            for (int64_t oy = 0; oy < p->oh; oy++)
                for (int64_t ox = 0; ox < p->ow; ox++, e++) {
                    int32_t acc = conv_acc(p, tx, tw, zx, zw, x, w, n, m, oy, ox) + (bias ? bias[m] : 0);
                    double v = rint((double)acc * (double)mult) + zy;
                    v = v < lo ? lo : v > hi ? hi : v;
                    if (ty == NNCC_RT_I8)
                        ((int8_t *)y)[e] = (int8_t)v;
                    else
                        ((uint8_t *)y)[e] = (uint8_t)v;
                }
        }
}
