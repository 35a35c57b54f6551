/*
 * nncc_rt_resize.c - Resize: nearest (any element type, by size) and
 * N-D linear (float32) over x(in[0..rank)) -> y(out[0..rank)). Each output
 * coordinate maps back to the input by the coordinate transformation
 * mode; linear interpolates between the two neighbours along every axis
 * (indices clamped to the edge), computed in double.
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>

static double resize_coord(const nncc_resize_params *p, int a, int64_t xo)
{
    /* the reference uses the unrounded output length in * scale */
    const double s = p->scale[a], in = (double)p->in[a], out = in * s, x = (double)xo;
    switch (p->coord) {
    case NNCC_RESIZE_ASYMMETRIC:
        return x / s;
    case NNCC_RESIZE_ALIGN_CORNERS:
        return out == 1 ? 0.0 : x * (in - 1) / (out - 1);
    case NNCC_RESIZE_PYTORCH_HALF_PIXEL:
        return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case NNCC_RESIZE_HALF_PIXEL_SYMMETRIC: {
        const double adj = (double)p->out[a] / out, center = in / 2;
        return center * (1 - adj) + (x + 0.5) / s - 0.5;
    }
    default: /* NNCC_RESIZE_HALF_PIXEL */
        return (x + 0.5) / s - 0.5;
    }
}

static int64_t clampi(int64_t v, int64_t n)
{
    return v < 0 ? 0 : v >= n ? n - 1 : v;
}

static int64_t resize_nearest(const nncc_resize_params *p, int a, double x)
{
    double f = floor(x), r;
    switch (p->nearest) {
    case NNCC_RESIZE_ROUND_PREFER_CEIL: r = floor(x + 0.5); break;
    case NNCC_RESIZE_FLOOR:             r = f; break;
    case NNCC_RESIZE_CEIL:              r = ceil(x); break;
    default:                            r = x - f == 0.5 ? f : floor(x + 0.5); break;
    }
    return clampi((int64_t)r, p->in[a]);
}

void nncc_resize(const nncc_resize_params *p, size_t size, const void *x, void *y)
{
    const int r = p->rank;
    int64_t total = 1, idx[NNCC_RT_MAX_RANK], istride[NNCC_RT_MAX_RANK];
    for (int a = r - 1, s = 1; a >= 0; a--) {
        istride[a] = s;
        s *= (int)p->in[a];
        total *= p->out[a];
        idx[a] = 0;
    }
    for (int64_t e = 0; e < total; e++) {
        if (!p->linear) {
            int64_t off = 0;
            for (int a = 0; a < r; a++)
                off += resize_nearest(p, a, resize_coord(p, a, idx[a])) * istride[a];
            memcpy((char *)y + (size_t)e * size, (const char *)x + (size_t)off * size, size);
        } else {
            int64_t i0[NNCC_RT_MAX_RANK], i1[NNCC_RT_MAX_RANK];
            double w1[NNCC_RT_MAX_RANK], acc = 0;
            for (int a = 0; a < r; a++) {
                const double c = resize_coord(p, a, idx[a]), f = floor(c);
                i0[a] = clampi((int64_t)f, p->in[a]);
                i1[a] = clampi((int64_t)f + 1, p->in[a]);
                w1[a] = c - f;
            }
            /* 2^rank corners; bit a of m picks i1 along axis a */
            for (int64_t m = 0; m < ((int64_t)1 << r); m++) {
                double w = 1;
                int64_t off = 0;
                for (int a = 0; a < r && w != 0; a++) {
                    const int hi = (int)((m >> a) & 1);
                    w *= hi ? w1[a] : 1 - w1[a];
                    off += (hi ? i1[a] : i0[a]) * istride[a];
                }
                if (w != 0)
                    acc += w * (double)((const float *)x)[off];
            }
            ((float *)y)[e] = (float)acc;
        }
        for (int a = r - 1; a >= 0; a--) {
            if (++idx[a] < p->out[a])
                break;
            idx[a] = 0;
        }
    }
}
