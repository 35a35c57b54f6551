/*
 * nncc_rt_sample.c - GridSample, the portable reference, following the
 * ONNX reference implementation (itself PyTorch's GridSampler): denormalise
 * each grid coordinate, fold it back by the padding mode, then take the
 * nearest pixel (rounded half to even) or a linear (2 taps per dim) or cubic
 * (4 taps per dim, Keys with a = -0.75) tensor-product interpolation, where
 * every tap outside the input is 0 (zeros), clamped (border) or reflected.
 */
#include "nncc_runtime.h"

#include <math.h>

/* Reflects x into [lo, hi] by the near border until it is inside. */
static double gs_reflect(double x, double lo, double hi)
{
    const double rng = hi - lo;
    if (x < lo) {
        const double dx = lo - x;
        const int64_t k = (int64_t)(dx / rng);
        const double r = dx - (double)k * rng;
        return k % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        const double dx = x - hi;
        const int64_t k = (int64_t)(dx / rng);
        const double r = dx - (double)k * rng;
        return k % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

static void cubic_coeffs(float t, float *c)
{
    const float a = -0.75f;
    t = fabsf(t);
    c[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
    c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
    c[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
    c[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

/* Index i along a dim of size d after padding; -1: the tap is 0. */
static int64_t tap_index(const nncc_grid_sample_params *p, int64_t i, int64_t d)
{
    if (i >= 0 && i < d)
        return i;
    if (p->padding == NNCC_GS_ZEROS)
        return -1;
    if (p->padding == NNCC_GS_BORDER)
        return i < 0 ? 0 : d - 1;
    const double lo = p->align_corners ? 0.0 : -0.5, hi = p->align_corners ? (double)d - 1 : (double)d - 0.5;
    int64_t r = (int64_t)gs_reflect((double)i, lo, hi);
    return r < 0 ? 0 : r >= d ? d - 1 : r;
}

void nncc_grid_sample_f32(const nncc_grid_sample_params *p, const float *x, const float *grid, float *y)
{
    const int64_t nd = p->nd, taps = p->mode == NNCC_GS_CUBIC ? 4 : p->mode == NNCC_GS_LINEAR ? 2 : 1;
    int64_t plane = 1, combos = 1;
    for (int64_t i = 0; i < nd; i++) {
        plane *= p->in[i];
        combos *= taps;
    }
    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t o = 0; o < p->out_count; o++) {
            const float *gp = grid + (b * p->out_count + o) * nd;
            int64_t idx[3][4];   /* per dim: the taps' indices after padding (-1: zero) */
            float w[3][4];       /* and their weights */
            for (int64_t i = 0; i < nd; i++) {
                const float g = gp[nd - 1 - i], d = (float)p->in[i];
                float v = p->align_corners ? (g + 1) / 2.0f * (d - 1) : ((g + 1) * d - 1) / 2.0f;
                const double lo = p->align_corners ? 0.0 : -0.5, hi = p->align_corners ? d - 1.0 : d - 0.5;
                if (p->mode == NNCC_GS_NEAREST)
                    v = rintf(v);
                if (v < lo || v > hi) {
                    if (p->padding == NNCC_GS_BORDER)
                        v = v < 0 ? 0 : v > d - 1 ? d - 1 : v;
                    else if (p->padding == NNCC_GS_REFLECTION)
                        v = (float)gs_reflect(v, lo, hi);
                }
                if (p->mode == NNCC_GS_NEAREST) {
                    idx[i][0] = tap_index(p, (int64_t)v, p->in[i]);
                    w[i][0] = 1.0f;
                    continue;
                }
                const float f = floorf(v), t = v - f;
                const int64_t i0 = (int64_t)f;
                if (p->mode == NNCC_GS_LINEAR) {
                    w[i][0] = 1 - t, w[i][1] = t;
                    for (int64_t k = 0; k < 2; k++)
                        idx[i][k] = tap_index(p, i0 + k, p->in[i]);
                } else {
                    cubic_coeffs(t, w[i]);
                    for (int64_t k = 0; k < 4; k++)
                        idx[i][k] = tap_index(p, i0 - 1 + k, p->in[i]);
                }
            }
            for (int64_t c = 0; c < p->c; c++) {
                const float *xc = x + (b * p->c + c) * plane;
                float acc = 0.0f;
                for (int64_t m = 0; m < combos; m++) {
                    int64_t off = 0, rest = m;
                    float wt = 1.0f;
                    for (int64_t i = nd - 1; i >= 0; i--) {
                        const int64_t k = rest % taps, at = idx[i][k];
                        rest /= taps;
                        wt *= w[i][k];
                        if (at < 0) {
                            off = -1;
                            break;
                        }
                    }
                    if (off < 0)
                        continue;
                    rest = m;
                    int64_t stride = 1;
                    for (int64_t i = nd - 1; i >= 0; i--) {
                        off += idx[i][rest % taps] * stride;
                        rest /= taps;
                        stride *= p->in[i];
                    }
                    acc += wt * xc[off];
                }
                y[(b * p->c + c) * p->out_count + o] = acc;
            }
        }
    }
}
