/*
 * nncc_rt_window.c - the fast sliding-window kernels: depthwise convolution
 * and max/average pooling in NCHW. The references (nncc_conv2d_f32,
 * nncc_pool2d_f32 in nncc_rt_conv.c) define the numbers;
 * tests/unit/test_kernels.c checks these against them.
 *
 * All three are one loop nest over a channel plane: for each output row, the
 * rows of the window that fall inside the input are found once; the output
 * columns whose window lies wholly inside the input row (the interior) run in
 * blocks of 8 with no bounds tests, the few columns at the edges one at a
 * time with the taps clipped. A block of 8 outputs is reduced in one vector
 * register over the taps:
 *     depthwise:  acc = bias + sum w[ky][kx] * x[iy][ox*sw + kx*dw - pl]
 *     max:        acc = max   x[iy][ox*sw + kx - pl]
 *     average:    acc = sum   x[iy][ox*sw + kx - pl] / count
 * With AVX2 (x86-64) the 8 inputs of a tap come from one load (stride 1),
 * two loads and a shuffle (stride 2) or 8 scalar loads (other strides); the
 * portable code does the same per element and leaves vectorisation to the
 * compiler. The depthwise epilogue adds the residual and applies Relu/Clip
 * on the register (NaN as the reference: Relu gives 0, Clip keeps it); other
 * activations run over the output afterwards (nncc_act_f32).
 *
 * Max pooling: a NaN in a plane sends the plane to the reference, which
 * propagates the last NaN of each window (vector max does not).
 */
#include "nncc_runtime.h"

#include <math.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NNCC_WIN_AVX2 1
#endif

enum { WIN_DW, WIN_MAX, WIN_AVG };

/* One plane and its window geometry. */
typedef struct {
    int mode;                 /* WIN_DW, WIN_MAX, WIN_AVG */
    const float *x;           /* input plane (H, W) */
    float *y;                 /* output plane (OH, OW) */
    const float *w;           /* WIN_DW: the channel's taps (KH, KW) */
    float bias;               /* WIN_DW */
    const float *add;         /* WIN_DW: residual plane, or NULL */
    int clamp;                /* WIN_DW: 1 Relu (max lo), 3 Clip (lo, hi), 0 none */
    float lo, hi;
    int include_pad;          /* WIN_AVG: count the padding */
    int64_t h, w_, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} plane;

static float clamp1(const plane *q, float v)
{
    if (q->clamp == 1)
        v = v > q->lo ? v : q->lo;
    if (q->clamp == 3) {
        v = v < q->lo ? q->lo : v;
        v = v > q->hi ? q->hi : v;
    }
    return v;
}

/* Output (oy, ox) with the taps tested one by one (the edges). */
static float window1(const plane *q, int64_t oy, int64_t ox)
{
    const int64_t iy0 = oy * q->sh - q->pt, ix0 = ox * q->sw - q->pl;
    float acc = q->mode == WIN_DW ? q->bias : q->mode == WIN_MAX ? -INFINITY : 0.0f;
    int64_t cnt = 0;
    for (int64_t ky = 0; ky < q->kh; ky++) {
        const int64_t iy = iy0 + ky * q->dh;
        if (iy < 0 || iy >= q->h)
            continue;
        for (int64_t kx = 0; kx < q->kw; kx++) {
            const int64_t ix = ix0 + kx * q->dw;
            if (ix < 0 || ix >= q->w_)
                continue;
            const float v = q->x[iy * q->w_ + ix];
            if (q->mode == WIN_DW)
                acc += q->w[ky * q->kw + kx] * v;
            else if (q->mode == WIN_MAX)
                acc = v > acc || v != v ? v : acc; /* a NaN shows in the result */
            else
                acc += v;
            cnt++;
        }
    }
    if (q->mode == WIN_AVG) {
        if (q->include_pad) {
            int64_t y1 = iy0 + q->kh, x1 = ix0 + q->kw;
            if (y1 > q->h + q->pb)
                y1 = q->h + q->pb;
            if (x1 > q->w_ + q->pr)
                x1 = q->w_ + q->pr;
            cnt = (y1 - iy0) * (x1 - ix0);
        }
        acc = cnt > 0 ? acc / (float)cnt : 0.0f;
    }
    if (q->mode == WIN_DW) {
        if (q->add)
            acc += q->add[oy * q->ow + ox];
        acc = clamp1(q, acc);
    }
    return acc;
}

#if defined(NNCC_WIN_AVX2)
/* x[0], x[s], ..., x[7s] */
static __m256 load_strided(const float *x, int64_t s)
{
    if (s == 1)
        return _mm256_loadu_ps(x);
    if (s == 2) {
        const __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
        /* even elements: a0 a2 b0 b2 | a4 a6 b4 b6, then lanes 0 2 1 3 */
        const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    }
    return _mm256_setr_ps(x[0], x[s], x[2 * s], x[3 * s], x[4 * s], x[5 * s], x[6 * s], x[7 * s]);
}
#endif

/* One plane. Returns nonzero when max pooling saw a NaN (the plane is then
 * left to the reference). */
static int window_plane(const plane *q)
{
    /* interior columns: ox*sw - pl >= 0 and ox*sw - pl + (kw-1)*dw < W */
    int64_t oxa = q->pl > 0 ? (q->pl + q->sw - 1) / q->sw : 0;
    const int64_t last = q->w_ - 1 - (q->kw - 1) * q->dw + q->pl; /* ox*sw <= last */
    int64_t oxb = last >= 0 ? last / q->sw + 1 : 0;
    if (oxb > q->ow)
        oxb = q->ow;
    if (oxa > oxb)
        oxa = oxb;
#if defined(NNCC_WIN_AVX2)
    /* stride 2 loads 16 inputs for 8 outputs, one past the last tap read */
    const int64_t lastv = q->sw == 2 ? last - 1 : last;
    const int64_t oxbv = lastv >= 0 && lastv / q->sw + 1 < oxb ? lastv / q->sw + 1 : lastv >= 0 ? oxb : oxa;
#endif
    int nan = 0;
    for (int64_t oy = 0; oy < q->oh; oy++) {
        float *yr = q->y + oy * q->ow;
        for (int64_t ox = 0; ox < oxa; ox++) {
            yr[ox] = window1(q, oy, ox);
            nan |= q->mode == WIN_MAX && yr[ox] != yr[ox];
        }
        for (int64_t ox = oxb; ox < q->ow; ox++) {
            yr[ox] = window1(q, oy, ox);
            nan |= q->mode == WIN_MAX && yr[ox] != yr[ox];
        }
        /* rows of the window inside the input */
        const int64_t iy0 = oy * q->sh - q->pt;
        int64_t kya = iy0 < 0 ? (-iy0 + q->dh - 1) / q->dh : 0, kyb = q->kh;
        while (kyb > kya && iy0 + (kyb - 1) * q->dh >= q->h)
            kyb--;
        float div = 1.0f;
        if (q->mode == WIN_AVG) {
            int64_t cy = kyb - kya;
            if (q->include_pad) {
                const int64_t y1 = iy0 + q->kh > q->h + q->pb ? q->h + q->pb : iy0 + q->kh;
                cy = y1 - iy0;
            }
            div = (float)(cy * q->kw);
        }
        const float *xb = q->x - q->pl;  /* xb[iy*W + ox*sw + kx*dw] */
        const float *add = q->add ? q->add + oy * q->ow : 0;
        int64_t ox = oxa;
#if defined(NNCC_WIN_AVX2)
        const __m256 lo = _mm256_set1_ps(q->lo), hi = _mm256_set1_ps(q->hi);
        __m256 nanv = _mm256_setzero_ps();
        for (; ox + 8 <= oxbv; ox += 8) {
            __m256 acc = q->mode == WIN_DW ? _mm256_set1_ps(q->bias)
                         : q->mode == WIN_MAX ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
            for (int64_t ky = kya; ky < kyb; ky++) {
                const float *xr = xb + (iy0 + ky * q->dh) * q->w_ + ox * q->sw;
                for (int64_t kx = 0; kx < q->kw; kx++) {
                    const __m256 v = load_strided(xr + kx * q->dw, q->sw);
                    if (q->mode == WIN_DW)
                        acc = _mm256_fmadd_ps(_mm256_set1_ps(q->w[ky * q->kw + kx]), v, acc);
                    else if (q->mode == WIN_MAX) {
                        acc = _mm256_max_ps(v, acc);
                        nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                    } else
                        acc = _mm256_add_ps(acc, v);
                }
            }
            if (q->mode == WIN_AVG)
                acc = div > 0.0f ? _mm256_div_ps(acc, _mm256_set1_ps(div)) : _mm256_setzero_ps();
            if (q->mode == WIN_DW) {
                if (add)
                    acc = _mm256_add_ps(acc, _mm256_loadu_ps(add + ox));
                if (q->clamp == 1)
                    acc = _mm256_max_ps(acc, lo);
                else if (q->clamp == 3)
                    acc = _mm256_min_ps(hi, _mm256_max_ps(lo, acc));
            }
            _mm256_storeu_ps(yr + ox, acc);
        }
        nan |= _mm256_movemask_ps(nanv) != 0;
#endif
        for (; ox < oxb; ox++) {
            float acc = q->mode == WIN_DW ? q->bias : q->mode == WIN_MAX ? -INFINITY : 0.0f;
            for (int64_t ky = kya; ky < kyb; ky++) {
                const float *xr = xb + (iy0 + ky * q->dh) * q->w_ + ox * q->sw;
                for (int64_t kx = 0; kx < q->kw; kx++) {
                    const float v = xr[kx * q->dw];
                    if (q->mode == WIN_DW)
                        acc += q->w[ky * q->kw + kx] * v;
                    else if (q->mode == WIN_MAX) {
                        acc = v > acc ? v : acc;
                        nan |= v != v;
                    } else
                        acc += v;
                }
            }
            if (q->mode == WIN_AVG)
                acc = div > 0.0f ? acc / div : 0.0f;
            if (q->mode == WIN_DW) {
                if (add)
                    acc += add[ox];
                acc = clamp1(q, acc);
            }
            yr[ox] = acc;
        }
    }
    return nan;
}

void nncc_conv2d_depthwise_f32(const nncc_conv2d_params *p, const float *x, const float *w, const float *b,
                               const float *add, float *y)
{
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const int64_t mult = p->m / p->c, osz = p->oh * p->ow;
    plane q;
    q.mode = WIN_DW;
    q.clamp = clamp;
    q.lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    q.hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    q.include_pad = 0;
    q.h = p->h, q.w_ = p->w, q.oh = p->oh, q.ow = p->ow, q.kh = p->kh, q.kw = p->kw;
    q.sh = p->sh, q.sw = p->sw, q.dh = p->dh, q.dw = p->dw, q.pt = p->pt, q.pl = p->pl, q.pb = 0, q.pr = 0;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++) {
            q.x = x + (n * p->c + m / mult) * p->h * p->w;
            q.y = y + (n * p->m + m) * osz;
            q.w = w + m * p->kh * p->kw;
            q.bias = b ? b[m] : 0.0f;
            q.add = add ? add + (n * p->m + m) * osz : 0;
            window_plane(&q);
        }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * osz, y);
}

int nncc_pool2d_fast_ok(const nncc_pool2d_params *p)
{
    return (p->kind == NNCC_POOL_MAX || p->kind == NNCC_POOL_AVG) && p->dh == 1 && p->dw == 1 && p->d <= 1 &&
           p->od <= 1 && p->kd <= 1;
}

void nncc_pool2d_fast_f32(const nncc_pool2d_params *p, const float *x, float *y)
{
    if (!nncc_pool2d_fast_ok(p)) {
        nncc_pool2d_f32(p, x, y, 0);
        return;
    }
    plane q;
    q.mode = p->kind == NNCC_POOL_MAX ? WIN_MAX : WIN_AVG;
    q.w = 0, q.bias = 0.0f, q.add = 0, q.clamp = 0, q.lo = q.hi = 0.0f;
    q.include_pad = p->count_include_pad;
    q.h = p->h, q.w_ = p->w, q.oh = p->oh, q.ow = p->ow, q.kh = p->kh, q.kw = p->kw;
    q.sh = p->sh, q.sw = p->sw, q.dh = 1, q.dw = 1, q.pt = p->pt, q.pl = p->pl, q.pb = p->pb, q.pr = p->pr;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        q.x = x + nc * p->h * p->w;
        q.y = y + nc * p->oh * p->ow;
        if (window_plane(&q)) {
            /* a NaN: this plane as the reference computes it */
            nncc_pool2d_params one = *p;
            one.n = 1, one.c = 1;
            nncc_pool2d_f32(&one, q.x, q.y, 0);
        }
    }
}
