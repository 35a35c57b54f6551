/*
 * nncc_rt_window.c - the fast sliding-window kernels: depthwise convolution,
 * max/average pooling in NCHW and global average pooling. The references
 * (nncc_conv2d_f32, nncc_pool2d_f32, nncc_global_avgpool_f32 in
 * nncc_rt_conv.c) define the numbers; tests/unit/test_kernels.c checks these
 * against them. With OpenMP and a thread count above 1 (p->threads) the
 * (n, c) planes are shared by the threads, each plane computed as with one.
 *
 * With AVX-512 (x86-64, -mavx512f) all run along output rows in blocks of
 * 16 outputs by masked loads: a load's lanes outside the input row read
 * nothing and give the padding's value (0; -inf for max), so the borders
 * need no code of their own and nothing is copied.
 *   depthwise 3x3: the 9 weights in registers, two output rows per pass
 *     sharing their input rows; with stride 2 each input row is read once
 *     per block of 16 outputs (32 columns) and split into its even and odd
 *     columns by permutes, the taps then lanes of those. Rows of at most 7
 *     outputs run two rows to a vector (the taps by lane shifts or
 *     permutes). The next pair's input rows are prefetched. Rows outside
 *     the input read a zero row in the scratch. Other kernels: 16 outputs
 *     per vector with loops over the taps, stride 2 on 32 "wide" lanes and
 *     one permute picking the even ones.
 *   pooling 2-3 wide, stride 1 or 2: the window's rows combined first on
 *     whole input vectors (each input row read once per block), the taps
 *     then from lane shifts of the combined vectors (valignd) and with
 *     stride 2 the even lanes from one permute; averages divide by per-lane
 *     counts (count_include_pad or not) found once per column strip. Wider
 *     kernels: per tap, as the depthwise.
 *
 * Otherwise (AVX2 or portable C) in blocks of 8 outputs, each block reduced
 * in one vector register over the window's taps:
 *     depthwise:  acc = bias + sum w[ky][kx] * xpad[oy*sh + ky*dh][ox*sw + kx*dw]
 *     max:        acc = max   x[iy][ox*sw + kx - pl]
 *     average:    acc = sum   x[iy][ox*sw + kx - pl] / count
 * With AVX2 the 8 inputs of a tap come from one load (stride 1), two loads
 * and a shuffle (stride 2) or 8 scalar loads (other strides); the portable
 * code does the same per element and leaves vectorisation to the compiler.
 * The depthwise copies each input plane with its zero padding into the
 * scratch first, so no output needs a bounds test; pooling finds per output
 * row the window's rows inside the input once, runs the interior columns in
 * blocks of 8 with no tests and the few at the edges one at a time.
 *
 * Depthwise epilogue: the residual added and Relu/Clip applied on the
 * register (NaN as the reference: Relu gives 0, Clip keeps it); other
 * activations run over the output plane afterwards (nncc_act_f32).
 *
 * Max pooling and NaN: vector max drops NaNs, the reference propagates the
 * last NaN of each window; a plane with a NaN goes to the reference (AVX-512:
 * checked before, one pass over the plane; otherwise seen on the way).
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>


#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NNCC_WIN_AVX2 1
#endif

/* below this many floats read and written, a parallel region costs more
 * than it saves */
#define WIN_PAR_MIN (1 << 15)

/* ---- pooling ---- */
enum { WIN_MAX, WIN_AVG };

/* One plane and its window geometry. */
typedef struct {
    int mode;                 /* WIN_MAX, WIN_AVG */
    const float *x;           /* input plane (H, W) */
    float *y;                 /* output plane (OH, OW) */
    int include_pad;          /* WIN_AVG: count the padding */
    int64_t h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr;
} plane;

/* Output (oy, ox) with the taps tested one by one (the edges). */
static float window1(const plane *q, int64_t oy, int64_t ox)
{
    const int64_t iy0 = oy * q->sh - q->pt, ix0 = ox * q->sw - q->pl;
    float acc = q->mode == WIN_MAX ? -INFINITY : 0.0f;
    int64_t cnt = 0;
    for (int64_t iy = iy0 < 0 ? 0 : iy0; iy < iy0 + q->kh && iy < q->h; iy++)
        for (int64_t ix = ix0 < 0 ? 0 : ix0; ix < ix0 + q->kw && ix < q->w; ix++) {
            const float v = q->x[iy * q->w + ix];
            if (q->mode == WIN_MAX)
                acc = v > acc || v != v ? v : acc; /* a NaN shows in the result */
            else
                acc += v;
            cnt++;
        }
    if (q->mode == WIN_AVG) {
        if (q->include_pad) {
            const int64_t y1 = iy0 + q->kh > q->h + q->pb ? q->h + q->pb : iy0 + q->kh;
            const int64_t x1 = ix0 + q->kw > q->w + q->pr ? q->w + q->pr : ix0 + q->kw;
            cnt = (y1 - iy0) * (x1 - ix0);
        }
        acc = cnt > 0 ? acc / (float)cnt : 0.0f;
    }
    return acc;
}

#if defined(NNCC_WIN_AVX2)
/* x[0], x[s], ..., x[7s], reading nothing past x[7s] */
static __m256 load_strided(const float *x, int64_t s)
{
    if (s == 1)
        return _mm256_loadu_ps(x);
    if (s == 2) {
        const __m256 a = _mm256_loadu_ps(x);
        const __m256 b = _mm256_maskload_ps(x + 8, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0));
        /* even elements: a0 a2 b0 b2 | a4 a6 b4 b6, then lanes 0 2 1 3 */
        const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    }
    return _mm256_setr_ps(x[0], x[s], x[2 * s], x[3 * s], x[4 * s], x[5 * s], x[6 * s], x[7 * s]);
}
#endif

/* One plane; mode is a constant where the callers inline it. Returns
 * nonzero when max pooling saw a NaN (the plane is then left to the
 * reference). */
static inline int window_plane(const plane *q, const int mode)
{
    /* interior columns: ox*sw - pl >= 0 and ox*sw - pl + kw - 1 < W */
    int64_t oxa = q->pl > 0 ? (q->pl + q->sw - 1) / q->sw : 0;
    const int64_t last = q->w - q->kw + q->pl; /* ox*sw <= last */
    int64_t oxb = last >= 0 ? last / q->sw + 1 : 0;
    if (oxb > q->ow)
        oxb = q->ow;
    if (oxa > oxb)
        oxa = oxb;
    int nan = 0;
    for (int64_t oy = 0; oy < q->oh; oy++) {
        float *yr = q->y + oy * q->ow;
        for (int64_t ox = 0; ox < oxa; ox++) {
            yr[ox] = window1(q, oy, ox);
            nan |= yr[ox] != yr[ox];
        }
        for (int64_t ox = oxb; ox < q->ow; ox++) {
            yr[ox] = window1(q, oy, ox);
            nan |= yr[ox] != yr[ox];
        }
        /* rows of the window inside the input */
        const int64_t iy0 = oy * q->sh - q->pt;
        const int64_t ya = iy0 < 0 ? 0 : iy0, yb = iy0 + q->kh > q->h ? q->h : iy0 + q->kh;
        float div = 1.0f;
        if (mode == WIN_AVG) {
            int64_t cy = yb - ya;
            if (q->include_pad)
                cy = (iy0 + q->kh > q->h + q->pb ? q->h + q->pb : iy0 + q->kh) - iy0;
            div = (float)(cy * q->kw);
        }
        const float *xb = q->x - q->pl; /* xb[iy*W + ox*sw + kx] */
        int64_t ox = oxa;
#if defined(NNCC_WIN_AVX2)
        __m256 nanv = _mm256_setzero_ps();
        /* 2 wide, stride 2 (the common 2x2/2 pool): each row's 16 inputs load
         * once, even and odd lanes combine in place, one permute at the end */
        for (; q->kw == 2 && q->sw == 2 && ox + 8 <= oxb; ox += 8) {
            __m256 acc = mode == WIN_MAX ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
            for (int64_t iy = ya; iy < yb; iy++) {
                const float *xr = xb + iy * q->w + ox * 2;
                const __m256 a = _mm256_loadu_ps(xr), b = _mm256_loadu_ps(xr + 8);
                const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
                const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
                if (mode == WIN_MAX) {
                    acc = _mm256_max_ps(e, _mm256_max_ps(o, acc));
                    nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
                } else
                    acc = _mm256_add_ps(acc, _mm256_add_ps(e, o));
            }
            acc = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), _MM_SHUFFLE(3, 1, 2, 0)));
            if (mode == WIN_AVG)
                acc = div > 0.0f ? _mm256_div_ps(acc, _mm256_set1_ps(div)) : _mm256_setzero_ps();
            _mm256_storeu_ps(yr + ox, acc);
        }
        for (; ox + 8 <= oxb; ox += 8) {
            __m256 acc = mode == WIN_MAX ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
            for (int64_t iy = ya; iy < yb; iy++) {
                const float *xr = xb + iy * q->w + ox * q->sw;
                for (int64_t kx = 0; kx < q->kw; kx++) {
                    const __m256 v = load_strided(xr + kx, q->sw);
                    if (mode == WIN_MAX) {
                        acc = _mm256_max_ps(v, acc);
                        nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                    } else
                        acc = _mm256_add_ps(acc, v);
                }
            }
            if (mode == WIN_AVG)
                acc = div > 0.0f ? _mm256_div_ps(acc, _mm256_set1_ps(div)) : _mm256_setzero_ps();
            _mm256_storeu_ps(yr + ox, acc);
        }
        nan |= _mm256_movemask_ps(nanv) != 0;
#endif
        for (; ox < oxb; ox++) {
            float acc = mode == WIN_MAX ? -INFINITY : 0.0f;
            for (int64_t iy = ya; iy < yb; iy++) {
                const float *xr = xb + iy * q->w + ox * q->sw;
                for (int64_t kx = 0; kx < q->kw; kx++) {
                    const float v = xr[kx];
                    if (mode == WIN_MAX) {
                        acc = v > acc ? v : acc;
                        nan |= v != v;
                    } else
                        acc += v;
                }
            }
            if (mode == WIN_AVG)
                acc = div > 0.0f ? acc / div : 0.0f;
            yr[ox] = acc;
        }
    }
    return nan;
}

#if defined(NNCC_WIN_AVX2) && defined(__AVX512F__)
#define NNCC_WIN_AVX512 1
/* ---- AVX-512: windows by masked loads ----
 * A block of 16 outputs of one output row, ox .. ox+15, reads for tap kx
 * the input columns c0 + kx*dw + j (c0 = ox*sw - pl): with stride 1 lane j
 * is output j; with stride 2 the block works on 32 "wide" lanes (two
 * vectors, the inputs j = 0..31 of each tap) and output j is wide lane 2j,
 * picked out by one permute at the end. A load's lanes outside the row
 * [0, W) are masked off: they read nothing (no fault either) and give the
 * fill value (0, or -inf for max), exactly what the padding contributes.
 * So the borders need no separate code and nothing is copied. */

/* the kernels below take their shape as constants (stride, kernel width)
 * from the callers that pick them: inlined into each, so those loops unroll */
#if defined(__GNUC__)
#define WIN_SPECIALISE static inline __attribute__((always_inline))
#else
#define WIN_SPECIALISE static inline
#endif

/* bits lo .. hi-1 of 32 (clipped to 0 .. 32) */
static inline __mmask32 bits32(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : lo > 32 ? 32 : lo;
    hi = hi < lo ? lo : hi > 32 ? 32 : hi;
    const uint64_t m = ((1ull << hi) - 1) & ~((1ull << lo) - 1);
    return (__mmask32)m;
}

/* the wide lanes of a tap whose lane 0 reads column c, inside [a, b) and below nw */
static inline __mmask32 tap_mask(int64_t c, int64_t a, int64_t b, int64_t nw)
{
    return bits32(a - c, (b - c) < nw ? b - c : nw);
}

static inline __m512 even_lanes(__m512 a, __m512 b)
{
    return _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}

static inline __m512 odd_lanes(__m512 a, __m512 b)
{
    return _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}

/* The lanes of a strip's loads from input column c0 on (need of them, at
 * most 64) that fall inside the row [0, W): bit j for column c0 + j */
static inline uint64_t row_lanes(const plane *q, int64_t c0, int64_t need)
{
    const int64_t lo = -c0 > 0 ? -c0 : 0, hi = q->w - c0 < need ? q->w - c0 : need;
    return hi > lo ? (hi >= 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1) : 0;
}

/* whether the plane (n floats) holds a NaN */
static int plane_has_nan(const float *x, int64_t n)
{
    __mmask16 m = 0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        m |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    if (i < n) {
        const __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (n - i)) - 1), x + i);
        m |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    return m != 0;
}

/* lanes k .. k+15 of the 32 lanes (lo, hi), k a constant 0 .. 3 */
static inline __m512 lanes_from(__m512 lo, __m512 hi, const int k)
{
    const __m512i l = _mm512_castps_si512(lo), h = _mm512_castps_si512(hi);
    switch (k) {
    case 1:
        return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 1));
    case 2:
        return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 2));
    case 3:
        return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 3));
    default:
        return lo;
    }
}

/* An average window's count of columns per output lane of a strip of 16
 * starting at input column c0: inside the row, or inside the padded row
 * (count_include_pad). */
WIN_SPECIALISE __m512 avg_colcnt(const plane *q, int64_t c0, int64_t cnt, const int64_t kw, const int64_t sw)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const int64_t xa = q->include_pad ? -q->pl : 0, xb = q->include_pad ? q->w + q->pr : q->w;
    const int64_t nw = sw == 1 ? cnt : 2 * cnt - 1;
    __m512 ca = _mm512_setzero_ps(), cb = _mm512_setzero_ps();
    for (int64_t kx = 0; kx < kw; kx++) {
        const __mmask32 mk = tap_mask(c0 + kx, xa, xb, nw);
        ca = _mm512_mask_add_ps(ca, (__mmask16)mk, ca, one);
        cb = _mm512_mask_add_ps(cb, (__mmask16)(mk >> 16), cb, one);
    }
    return sw == 2 ? even_lanes(ca, cb) : ca;
}

/* An average window's sum over its count: rows [ya, yb) of the window at
 * input row iy0 counted (or its rows inside the padded plane), times the
 * columns; an empty window gives 0, as the reference. */
static inline __m512 avg_divide(const plane *q, int64_t iy0, int64_t ya, int64_t yb, __m512 colcnt, __m512 sum)
{
    int64_t cy = yb - ya;
    if (q->include_pad)
        cy = (iy0 + q->kh > q->h + q->pb ? q->h + q->pb : iy0 + q->kh) - iy0;
    const __m512 div = _mm512_mul_ps(colcnt, _mm512_set1_ps((float)cy));
    const __mmask16 some = _mm512_cmp_ps_mask(div, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_maskz_div_ps(some, sum, div);
}

/* One pooled plane for kw 2 to 4 and stride sw 1 or 2 (both constants where
 * inlined), rows first: per block of 16 outputs the window's rows are
 * combined on whole input vectors (each input row read once per block: 2
 * loads with stride 1, 3 with stride 2, masked to the row), then the kw
 * taps come from lane shifts (valignd) of the combined vectors, and with
 * stride 2 the even lanes from one permute. The sum of an average runs in
 * another order than the reference's (rows, then columns). */
WIN_SPECIALISE void pool_rows512(const plane *q, const int mode, const int64_t kw, const int64_t sw)
{
    const __m512 fill = _mm512_set1_ps(mode == WIN_MAX ? -INFINITY : 0.0f), one = _mm512_set1_ps(1.0f);
    /* column strips of 16 outputs: the masks and counts found once per strip */
    for (int64_t ox = 0; ox < q->ow; ox += 16) {
        const int64_t cnt = q->ow - ox < 16 ? q->ow - ox : 16, c0 = ox * sw - q->pl;
        const __mmask16 keep = (__mmask16)((1u << cnt) - 1);
        const uint64_t m = row_lanes(q, c0, sw * (cnt - 1) + kw);
        const __m512 colcnt = mode == WIN_AVG ? avg_colcnt(q, c0, cnt, kw, sw) : one;
        for (int64_t oy = 0; oy < q->oh; oy++) {
            const int64_t iy0 = oy * q->sh - q->pt;
            const int64_t ya = iy0 < 0 ? 0 : iy0, yb = iy0 + q->kh > q->h ? q->h : iy0 + q->kh;
            __m512 va = fill, vb = fill, vc = fill;
            for (int64_t iy = ya; iy < yb; iy++) {
                const float *r = q->x + iy * q->w + c0;
                const __m512 a = _mm512_mask_loadu_ps(fill, (__mmask16)m, r);
                const __m512 b = _mm512_mask_loadu_ps(fill, (__mmask16)(m >> 16), r + 16);
                va = mode == WIN_MAX ? _mm512_max_ps(va, a) : _mm512_add_ps(va, a);
                vb = mode == WIN_MAX ? _mm512_max_ps(vb, b) : _mm512_add_ps(vb, b);
                if (sw == 2) {
                    const __m512 c = _mm512_mask_loadu_ps(fill, (__mmask16)(m >> 32), r + 32);
                    vc = mode == WIN_MAX ? _mm512_max_ps(vc, c) : _mm512_add_ps(vc, c);
                }
            }
            __m512 acc = va, acc2 = vb;
            for (int k = 1; k < kw; k++) {
                const __m512 t = lanes_from(va, vb, k);
                acc = mode == WIN_MAX ? _mm512_max_ps(acc, t) : _mm512_add_ps(acc, t);
                if (sw == 2) {
                    const __m512 u = lanes_from(vb, vc, k);
                    acc2 = mode == WIN_MAX ? _mm512_max_ps(acc2, u) : _mm512_add_ps(acc2, u);
                }
            }
            if (sw == 2)
                acc = even_lanes(acc, acc2);
            if (mode == WIN_AVG)
                acc = avg_divide(q, iy0, ya, yb, colcnt, acc);
            _mm512_mask_storeu_ps(q->y + oy * q->ow + ox, keep, acc);
        }
    }
}

/* One 3x3 stride-2 max-pooled plane (ResNet's and SqueezeNet's): per strip
 * of 16 outputs and output row, the window's three input rows are combined
 * on whole vectors (48 input columns, masked to the row), of which the last
 * is the next output row's first and is kept, not loaded again; then the
 * even columns, the odd ones and the even ones shifted by one column (two
 * permutes and an align) give the 16 maxima. Vector max drops NaNs: the
 * loaded vectors are also summed, and a NaN sum (a NaN read, or rarely an
 * infinity or an overflow of the sum: the exact path then runs for nothing)
 * returns nonzero, for the caller to pool the plane as the reference does.
 * 2.1x faster than the general rows-first kernel and its NaN scan in L1
 * (0.36 -> 0.17 ns an output). */
static int pool_max33s2_512(const plane *q)
{
    __m512 sum = _mm512_setzero_ps();
    const __m512 fill = _mm512_set1_ps(-INFINITY);
    for (int64_t ox = 0; ox < q->ow; ox += 16) {
        const int64_t cnt = q->ow - ox < 16 ? q->ow - ox : 16, c0 = 2 * ox - q->pl;
        const __mmask16 keep = (__mmask16)((1u << cnt) - 1);
        const uint64_t m = row_lanes(q, c0, 2 * (cnt - 1) + 3);
        const __mmask16 ma = (__mmask16)m, mb = (__mmask16)(m >> 16), mc = (__mmask16)(m >> 32);
        /* row iy's three vectors (fill outside the plane) */
#define NNCC_ROW3(iy, a, b, c)                                                   \
    do {                                                                         \
        if ((iy) >= 0 && (iy) < q->h) {                                          \
            const float *r_ = q->x + (iy) * q->w + c0;                           \
            a = _mm512_mask_loadu_ps(fill, ma, r_);                              \
            b = _mm512_mask_loadu_ps(fill, mb, r_ + 16);                         \
            c = _mm512_mask_loadu_ps(fill, mc, r_ + 32);                         \
        }                                                                        \
        else                                                                     \
            a = b = c = fill;                                                    \
    } while (0)
        __m512 pa, pb, pc;
        NNCC_ROW3(-q->pt, pa, pb, pc);
        __m512 sa = _mm512_add_ps(pa, pb), sc = pc;
        for (int64_t oy = 0; oy < q->oh; oy++) {
            const int64_t iy = 2 * oy - q->pt;
            __m512 a1, b1, c1, a2, b2, c2;
            NNCC_ROW3(iy + 1, a1, b1, c1);
            NNCC_ROW3(iy + 2, a2, b2, c2);
            const __m512 a = _mm512_max_ps(_mm512_max_ps(pa, a1), a2);
            const __m512 b = _mm512_max_ps(_mm512_max_ps(pb, b1), b2);
            const __m512 c = _mm512_max_ps(_mm512_max_ps(pc, c1), c2);
            sa = _mm512_add_ps(sa, _mm512_add_ps(_mm512_add_ps(a1, a2), _mm512_add_ps(b1, b2)));
            sc = _mm512_add_ps(sc, _mm512_add_ps(c1, c2));
            pa = a2, pb = b2, pc = c2;
            const __m512 e = even_lanes(a, b), o = odd_lanes(a, b);
            const __m512 e2 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(c), _mm512_castps_si512(e), 1));
            _mm512_mask_storeu_ps(q->y + oy * q->ow + ox, keep, _mm512_max_ps(_mm512_max_ps(e, o), e2));
        }
#undef NNCC_ROW3
        sum = _mm512_add_ps(sum, _mm512_add_ps(sa, sc));
    }
    return _mm512_cmp_ps_mask(sum, sum, _CMP_UNORD_Q) != 0;
}

/* One pooled plane, stride sw 1 or 2, kw <= 16 (constants where inlined).
 * Column strips of 16 outputs, each strip's tap masks found once. */
WIN_SPECIALISE void pool_plane512(const plane *q, const int mode, const int64_t kw, const int64_t sw)
{
    const __m512 fill = _mm512_set1_ps(mode == WIN_MAX ? -INFINITY : 0.0f), one = _mm512_set1_ps(1.0f);
    for (int64_t ox = 0; ox < q->ow; ox += 16) {
        const int64_t cnt = q->ow - ox < 16 ? q->ow - ox : 16, nw = sw == 1 ? cnt : 2 * cnt - 1;
        const int64_t c0 = ox * sw - q->pl;
        const __mmask16 keep = (__mmask16)((1u << cnt) - 1);
        __mmask32 mk[16];
        for (int64_t kx = 0; kx < kw; kx++)
            mk[kx] = tap_mask(c0 + kx, 0, q->w, nw);
        const __m512 colcnt = mode == WIN_AVG ? avg_colcnt(q, c0, cnt, kw, sw) : one;
        for (int64_t oy = 0; oy < q->oh; oy++) {
            const int64_t iy0 = oy * q->sh - q->pt;
            const int64_t ya = iy0 < 0 ? 0 : iy0, yb = iy0 + q->kh > q->h ? q->h : iy0 + q->kh;
            __m512 a = fill, b = fill;
            for (int64_t iy = ya; iy < yb; iy++) {
                const float *r = q->x + iy * q->w + c0;
                for (int64_t kx = 0; kx < kw; kx++) {
                    const __m512 u = _mm512_mask_loadu_ps(fill, (__mmask16)mk[kx], r + kx);
                    a = mode == WIN_MAX ? _mm512_max_ps(a, u) : _mm512_add_ps(a, u);
                    if (sw == 2) {
                        const __m512 v = _mm512_mask_loadu_ps(fill, (__mmask16)(mk[kx] >> 16), r + kx + 16);
                        b = mode == WIN_MAX ? _mm512_max_ps(b, v) : _mm512_add_ps(b, v);
                    }
                }
            }
            if (sw == 2)
                a = even_lanes(a, b);
            if (mode == WIN_AVG)
                a = avg_divide(q, iy0, ya, yb, colcnt, a);
            _mm512_mask_storeu_ps(q->y + oy * q->ow + ox, keep, a);
        }
    }
}
#endif

/* ---- depthwise convolution ----
 * Each input plane is first copied into the scratch with its padding made
 * explicit (zeros), HP x WP, so that every output is "interior": a row of
 * outputs runs in blocks of 8 with no tests at all; the last block computes
 * past the row end (reading the scratch's slack) and stores only its pixels. */
static void dw_geometry(const nncc_conv2d_params *p, int64_t *hp, int64_t *wp)
{
    *hp = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
    *wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
}

#if defined(NNCC_WIN_AVX2)
/* 8 outputs from the padded plane at xo (the block's first input column):
 * bias + sum over taps; the taps of each kernel row go to their own
 * accumulator (short dependency chains). Inlined with constant shapes. */
static inline __m256 dw_block(const float *xo, const float *wm, float bias, int64_t wp, const int64_t kh,
                              const int64_t kw, const int64_t dh, const int64_t dw, const int64_t sw)
{
    __m256 acc = _mm256_set1_ps(bias), acc1 = _mm256_setzero_ps();
    for (int64_t ky = 0; ky < kh; ky++) {
        const float *xr = xo + ky * dh * wp;
        __m256 r = _mm256_setzero_ps();
        for (int64_t kx = 0; kx < kw; kx++)
            r = _mm256_fmadd_ps(_mm256_set1_ps(wm[ky * kw + kx]), load_strided(xr + kx * dw, sw), r);
        if (ky & 1)
            acc1 = _mm256_add_ps(acc1, r);
        else
            acc = _mm256_add_ps(acc, r);
    }
    return _mm256_add_ps(acc, acc1);
}

/* dw_block for 3x3 without dilation, written out (stride a constant 1 or 2
 * where inlined) */
static inline __m256 dw_block3(const float *xo, const float *wm, float bias, int64_t wp, const int64_t sw)
{
    const float *r0 = xo, *r1 = xo + wp, *r2 = xo + 2 * wp;
    __m256 a0 = _mm256_set1_ps(bias), a1, a2;
    a0 = _mm256_fmadd_ps(_mm256_set1_ps(wm[0]), load_strided(r0, sw), a0);
    a1 = _mm256_mul_ps(_mm256_set1_ps(wm[3]), load_strided(r1, sw));
    a2 = _mm256_mul_ps(_mm256_set1_ps(wm[6]), load_strided(r2, sw));
    a0 = _mm256_fmadd_ps(_mm256_set1_ps(wm[1]), load_strided(r0 + 1, sw), a0);
    a1 = _mm256_fmadd_ps(_mm256_set1_ps(wm[4]), load_strided(r1 + 1, sw), a1);
    a2 = _mm256_fmadd_ps(_mm256_set1_ps(wm[7]), load_strided(r2 + 1, sw), a2);
    a0 = _mm256_fmadd_ps(_mm256_set1_ps(wm[2]), load_strided(r0 + 2, sw), a0);
    a1 = _mm256_fmadd_ps(_mm256_set1_ps(wm[5]), load_strided(r1 + 2, sw), a1);
    a2 = _mm256_fmadd_ps(_mm256_set1_ps(wm[8]), load_strided(r2 + 2, sw), a2);
    return _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
}
#endif

#if defined(NNCC_WIN_AVX512)
/* One output plane ym (OH, OW) of the depthwise convolution from input plane
 * xc (H, W) and its kernel wm (KH, KW), by masked loads (see above): no
 * padded copy, rows outside the input skipped. Column strips of 16 outputs,
 * each strip's tap masks found once. Stride sw 1 or 2, kw <= 16 (sw a
 * constant where inlined). The epilogue adds the residual and applies
 * Relu/Clip on the register (max/min return the second operand for a NaN:
 * Relu gives 0, Clip keeps it, as the reference). */
WIN_SPECIALISE __m512 dw_epilogue(__m512 v, const float *am, int64_t o, __mmask16 keep, int clamp, __m512 lov,
                                 __m512 hiv)
{
    if (am)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(keep, am + o));
    if (clamp == 1)
        v = _mm512_max_ps(v, lov);
    else if (clamp == 3)
        v = _mm512_min_ps(hiv, _mm512_max_ps(lov, v));
    return v;
}

WIN_SPECIALISE void dw_plane512(const nncc_conv2d_params *p, const float *xc, const float *wm, float bias,
                               const float *am, float *ym, int clamp, float lo, float hi, const int64_t sw)
{
    const int64_t W = p->w, ow = p->ow, kh = p->kh, kw = p->kw, dh = p->dh, dw = p->dw;
    const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi);
    for (int64_t ox = 0; ox < ow; ox += 16) {
        const int64_t cnt = ow - ox < 16 ? ow - ox : 16, nw = sw == 1 ? cnt : 2 * cnt - 1;
        const int64_t c0 = ox * sw - p->pl;
        const __mmask16 keep = (__mmask16)((1u << cnt) - 1);
        __mmask32 mk[16];
        for (int64_t kx = 0; kx < kw; kx++)
            mk[kx] = tap_mask(c0 + kx * dw, 0, W, nw);
        for (int64_t oy = 0; oy < p->oh; oy++) {
            const int64_t iy0 = oy * p->sh - p->pt;
            __m512 a = _mm512_set1_ps(bias), b = a; /* b: wide lanes 16..31 (stride 2) */
            for (int64_t ky = 0; ky < kh; ky++) {
                const int64_t iy = iy0 + ky * dh;
                if (iy < 0 || iy >= p->h)
                    continue;
                const float *r = xc + iy * W + c0;
                for (int64_t kx = 0; kx < kw; kx++) {
                    const __m512 wv = _mm512_set1_ps(wm[ky * kw + kx]);
                    a = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)mk[kx], r + kx * dw), a);
                    if (sw == 2)
                        b = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)(mk[kx] >> 16), r + kx * dw + 16), b);
                }
            }
            if (sw == 2)
                a = even_lanes(a, b);
            _mm512_mask_storeu_ps(ym + oy * ow + ox, keep, dw_epilogue(a, am, oy * ow + ox, keep, clamp, lov, hiv));
        }
    }
}

#define DW_CHUNK 32 /* blocks of 16 columns whose masks are found together */

/* The 9 weights of a 3x3 kernel and the bias, broadcast. */
typedef struct {
    __m512 w0, w1, w2, w3, w4, w5, w6, w7, w8, b;
} dw3_weights;

static inline dw3_weights dw3_load(const float *wm, float bias)
{
    dw3_weights k;
    k.w0 = _mm512_set1_ps(wm[0]), k.w1 = _mm512_set1_ps(wm[1]), k.w2 = _mm512_set1_ps(wm[2]);
    k.w3 = _mm512_set1_ps(wm[3]), k.w4 = _mm512_set1_ps(wm[4]), k.w5 = _mm512_set1_ps(wm[5]);
    k.w6 = _mm512_set1_ps(wm[6]), k.w7 = _mm512_set1_ps(wm[7]), k.w8 = _mm512_set1_ps(wm[8]);
    k.b = _mm512_set1_ps(bias);
    return k;
}

/* acc += wa*ta + wb*tb + wc*tc: the three taps of one kernel row */
#define DW3_ROW(acc, ta, tb, tc, wa, wb, wc)                                                          \
    acc = _mm512_fmadd_ps(wc, tc, _mm512_fmadd_ps(wb, tb, _mm512_fmadd_ps(wa, ta, acc)))

/* acc += the three taps of input row q (its block's first tap column) */
#define DW3_TAPS(acc, q, l0, l1, l2, wa, wb, wc)                                                      \
    DW3_ROW(acc, _mm512_maskz_loadu_ps(l0, q), _mm512_maskz_loadu_ps(l1, (q) + 1),                    \
            _mm512_maskz_loadu_ps(l2, (q) + 2), wa, wb, wc)

/* input row iy of plane xc, or the zero row zr where iy is outside the input */
static inline const float *dw_row(const float *xc, const float *zr, int64_t iy, int64_t h, int64_t w)
{
    return iy >= 0 && iy < h ? xc + iy * w : zr;
}

/* Prefetches the n floats from x + off into L1: the rows a later pass over
 * the plane reads (the hardware prefetcher does not follow the several row
 * streams at once). Past the plane they are the next plane's rows; a
 * prefetch never faults, and the address is made as an integer. */
static inline void dw_prefetch(const float *x, int64_t off, int64_t n)
{
    const uintptr_t a = (uintptr_t)x + (uintptr_t)off * sizeof(float);
    for (uintptr_t i = 0; i < (uintptr_t)n * sizeof(float); i += 64)
        _mm_prefetch((const char *)(a + i), _MM_HINT_T0);
}

/* dw_plane512 for 3x3 stride 1 without dilation, written out with the 9
 * weights in registers. Every output row takes three input rows: a row
 * outside the input is the zero row zr (W floats), so all rows run the same
 * code. With vertical stride 1, two output rows at once share their input
 * rows (4 rows read for 2 rows out), and the next pair's rows are
 * prefetched. Each kernel row sums into its own accumulator (short
 * dependency chains). */
WIN_SPECIALISE void dw3_plane512(const nncc_conv2d_params *p, const float *xc, const dw3_weights *k,
                                 const float *am, float *ym, int clamp, float lo, float hi, const float *zr)
{
    const int64_t W = p->w, H = p->h, ow = p->ow, oh = p->oh, sh = p->sh;
    const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi), z = _mm512_setzero_ps();
    for (int64_t ox0 = 0; ox0 < ow; ox0 += 16 * DW_CHUNK) {
        const int64_t nb = (ow - ox0 + 15) / 16 < DW_CHUNK ? (ow - ox0 + 15) / 16 : DW_CHUNK;
        __mmask32 mk[DW_CHUNK][3];
        for (int64_t b = 0; b < nb; b++) {
            const int64_t ox = ox0 + 16 * b, cnt = ow - ox < 16 ? ow - ox : 16;
            for (int kx = 0; kx < 3; kx++)
                mk[b][kx] = tap_mask(ox - p->pl + kx, 0, W, cnt);
        }
        for (int64_t oy = 0; oy < oh;) {
            const int64_t iy = oy * sh - p->pt; /* the window's first row */
            const float *q0 = dw_row(xc, zr, iy, H, W), *q1 = dw_row(xc, zr, iy + 1, H, W);
            const float *q2 = dw_row(xc, zr, iy + 2, H, W);
            if (sh == 1 && oy + 1 < oh) {
                const float *q3 = dw_row(xc, zr, iy + 3, H, W);
                if (ox0 == 0 && iy + 4 >= 0) /* the next pair's two new rows */
                    dw_prefetch(xc, (iy + 4) * W, 2 * W);
                for (int64_t b = 0; b < nb; b++) {
                    const int64_t ox = ox0 + 16 * b, c0 = ox - p->pl, o = oy * ow + ox;
                    const __mmask16 keep = (__mmask16)((1u << (ow - ox < 16 ? ow - ox : 16)) - 1);
                    const __mmask16 l0 = (__mmask16)mk[b][0], l1 = (__mmask16)mk[b][1], l2 = (__mmask16)mk[b][2];
                    __m512 a0 = k->b, a1 = z, a2 = z, e0 = k->b, e1 = z, e2 = z;
                    DW3_TAPS(a0, q0 + c0, l0, l1, l2, k->w0, k->w1, k->w2);
                    DW3_TAPS(a1, q1 + c0, l0, l1, l2, k->w3, k->w4, k->w5);
                    DW3_TAPS(e0, q1 + c0, l0, l1, l2, k->w0, k->w1, k->w2);
                    DW3_TAPS(a2, q2 + c0, l0, l1, l2, k->w6, k->w7, k->w8);
                    DW3_TAPS(e1, q2 + c0, l0, l1, l2, k->w3, k->w4, k->w5);
                    DW3_TAPS(e2, q3 + c0, l0, l1, l2, k->w6, k->w7, k->w8);
                    const __m512 v0 = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
                    const __m512 v1 = _mm512_add_ps(_mm512_add_ps(e0, e1), e2);
                    /* both rows computed before either is stored (a store
                     * could alias the input as far as the compiler knows) */
                    _mm512_mask_storeu_ps(ym + o, keep, dw_epilogue(v0, am, o, keep, clamp, lov, hiv));
                    _mm512_mask_storeu_ps(ym + o + ow, keep, dw_epilogue(v1, am, o + ow, keep, clamp, lov, hiv));
                }
                oy += 2;
                continue;
            }
            for (int64_t b = 0; b < nb; b++) {
                const int64_t ox = ox0 + 16 * b, c0 = ox - p->pl, o = oy * ow + ox;
                const __mmask16 keep = (__mmask16)((1u << (ow - ox < 16 ? ow - ox : 16)) - 1);
                const __mmask16 l0 = (__mmask16)mk[b][0], l1 = (__mmask16)mk[b][1], l2 = (__mmask16)mk[b][2];
                __m512 a0 = k->b, a1 = z, a2 = z;
                DW3_TAPS(a0, q0 + c0, l0, l1, l2, k->w0, k->w1, k->w2);
                DW3_TAPS(a1, q1 + c0, l0, l1, l2, k->w3, k->w4, k->w5);
                DW3_TAPS(a2, q2 + c0, l0, l1, l2, k->w6, k->w7, k->w8);
                const __m512 v = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
                _mm512_mask_storeu_ps(ym + o, keep, dw_epilogue(v, am, o, keep, clamp, lov, hiv));
            }
            oy++;
        }
    }
}

/* The taps of 16 outputs of a 3x3 stride-2 window in input row q: the 32
 * columns from the block's second tap column c0 load once (two vectors,
 * masks ma, mb) and split into even and odd columns: output j's taps are
 * then lane j of (l, e, o) with l the odd columns moved up one lane, the
 * previous block's last odd column (carried in *prev) coming in at lane 0.
 * So each input row is read once per block, its loads start on an even
 * column, and the taps cost three shuffles instead of 32-lane loads per
 * tap. */
static inline void dw3_cols_s2(const float *q, __mmask16 ma, __mmask16 mb, __m512i ie, __m512i io, __m512 *prev,
                               __m512 *l, __m512 *e, __m512 *o)
{
    const __m512 a = _mm512_maskz_loadu_ps(ma, q), b = _mm512_maskz_loadu_ps(mb, q + 16);
    *e = _mm512_permutex2var_ps(a, ie, b);
    *o = _mm512_permutex2var_ps(a, io, b);
    *l = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(*o), _mm512_castps_si512(*prev), 15));
    *prev = *o;
}

/* dw3_plane512 for stride 2 across: the blocks of a row run left to right,
 * each row's taps from dw3_cols_s2; with vertical stride 2, two output rows
 * at once share their middle input row (5 rows read for 2 rows out), and
 * the next pair's rows are prefetched (a quarter less time on MobileNetV2's
 * 112x112 and 56x56 layers, whose input comes from L3). */
WIN_SPECIALISE void dw3s2_plane512(const nncc_conv2d_params *p, const float *xc, const dw3_weights *k,
                                   const float *am, float *ym, int clamp, float lo, float hi, const float *zr)
{
    const int64_t W = p->w, H = p->h, ow = p->ow, oh = p->oh, sh = p->sh;
    const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi), z = _mm512_setzero_ps();
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int64_t ox0 = 0; ox0 < ow; ox0 += 16 * DW_CHUNK) {
        const int64_t nb = (ow - ox0 + 15) / 16 < DW_CHUNK ? (ow - ox0 + 15) / 16 : DW_CHUNK;
        const int64_t s0 = 2 * ox0 - p->pl + 1; /* the first block's second tap column */
        /* the column before the strip (lane 15 of the first block's prev) */
        const int edge = s0 - 1 >= 0 && s0 - 1 < W;
        __mmask32 mk[DW_CHUNK];
        for (int64_t b = 0; b < nb; b++) {
            const int64_t ox = ox0 + 16 * b, cnt = ow - ox < 16 ? ow - ox : 16;
            mk[b] = tap_mask(2 * ox - p->pl + 1, 0, W, 2 * cnt);
        }
#define DW3_EDGE(q) (edge ? _mm512_maskz_loadu_ps(0x8000, (q) + s0 - 16) : z)
        for (int64_t oy = 0; oy < oh;) {
            const int64_t iy = oy * sh - p->pt; /* the window's first row */
            const float *q0 = dw_row(xc, zr, iy, H, W), *q1 = dw_row(xc, zr, iy + 1, H, W);
            const float *q2 = dw_row(xc, zr, iy + 2, H, W);
            __m512 p0 = DW3_EDGE(q0), p1 = DW3_EDGE(q1), p2 = DW3_EDGE(q2), l, e, o;
            if (sh == 2 && oy + 1 < oh) {
                const float *q3 = dw_row(xc, zr, iy + 3, H, W), *q4 = dw_row(xc, zr, iy + 4, H, W);
                __m512 p3 = DW3_EDGE(q3), p4 = DW3_EDGE(q4);
                if (ox0 == 0 && iy + 5 >= 0) /* the next pair's four new rows */
                    dw_prefetch(xc, (iy + 5) * W, 4 * W);
                for (int64_t b = 0; b < nb; b++) {
                    const int64_t ox = ox0 + 16 * b, c0 = s0 + 32 * b, r = oy * ow + ox;
                    const __mmask16 keep = (__mmask16)((1u << (ow - ox < 16 ? ow - ox : 16)) - 1);
                    const __mmask16 ma = (__mmask16)mk[b], mb = (__mmask16)(mk[b] >> 16);
                    __m512 a0 = k->b, a1 = z, a2 = z, b0 = k->b, b1 = z, b2 = z;
                    dw3_cols_s2(q0 + c0, ma, mb, ie, io, &p0, &l, &e, &o);
                    DW3_ROW(a0, l, e, o, k->w0, k->w1, k->w2);
                    dw3_cols_s2(q1 + c0, ma, mb, ie, io, &p1, &l, &e, &o);
                    DW3_ROW(a1, l, e, o, k->w3, k->w4, k->w5);
                    dw3_cols_s2(q2 + c0, ma, mb, ie, io, &p2, &l, &e, &o);
                    DW3_ROW(a2, l, e, o, k->w6, k->w7, k->w8);
                    DW3_ROW(b0, l, e, o, k->w0, k->w1, k->w2);
                    dw3_cols_s2(q3 + c0, ma, mb, ie, io, &p3, &l, &e, &o);
                    DW3_ROW(b1, l, e, o, k->w3, k->w4, k->w5);
                    dw3_cols_s2(q4 + c0, ma, mb, ie, io, &p4, &l, &e, &o);
                    DW3_ROW(b2, l, e, o, k->w6, k->w7, k->w8);
                    const __m512 v0 = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
                    const __m512 v1 = _mm512_add_ps(_mm512_add_ps(b0, b1), b2);
                    _mm512_mask_storeu_ps(ym + r, keep, dw_epilogue(v0, am, r, keep, clamp, lov, hiv));
                    _mm512_mask_storeu_ps(ym + r + ow, keep, dw_epilogue(v1, am, r + ow, keep, clamp, lov, hiv));
                }
                oy += 2;
                continue;
            }
            for (int64_t b = 0; b < nb; b++) {
                const int64_t ox = ox0 + 16 * b, c0 = s0 + 32 * b, r = oy * ow + ox;
                const __mmask16 keep = (__mmask16)((1u << (ow - ox < 16 ? ow - ox : 16)) - 1);
                const __mmask16 ma = (__mmask16)mk[b], mb = (__mmask16)(mk[b] >> 16);
                __m512 a0 = k->b, a1 = z, a2 = z;
                dw3_cols_s2(q0 + c0, ma, mb, ie, io, &p0, &l, &e, &o);
                DW3_ROW(a0, l, e, o, k->w0, k->w1, k->w2);
                dw3_cols_s2(q1 + c0, ma, mb, ie, io, &p1, &l, &e, &o);
                DW3_ROW(a1, l, e, o, k->w3, k->w4, k->w5);
                dw3_cols_s2(q2 + c0, ma, mb, ie, io, &p2, &l, &e, &o);
                DW3_ROW(a2, l, e, o, k->w6, k->w7, k->w8);
                const __m512 v = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
                _mm512_mask_storeu_ps(ym + r, keep, dw_epilogue(v, am, r, keep, clamp, lov, hiv));
            }
            oy++;
        }
#undef DW3_EDGE
    }
}

/* ---- 3x3 on narrow planes ----
 * A 16-lane row block on a row of 7 outputs wastes 9 lanes, and the per-row
 * and per-block set-up is paid many times per plane, so rows of at most 7
 * outputs run with two output rows in one vector:
 *   stride 1, padding 1 all round (dw3_narrow512): two input rows per vector
 *     P[r], each in 8 lanes, its W columns then zeros; the taps of output
 *     vector r (rows 2r, 2r+1, the same layout) are lane shifts (valignd)
 *     of P[r-1], P[r], P[r+1]: the zero lanes give the left and right
 *     padding, P[-1] and the zero half of a last odd row the top and
 *     bottom. No masks in the loop; the columns W..7 of the result are
 *     squeezed out by one permute before the store.
 *   stride 2 down and across (dw3_pair512): lanes 0..ow-1 hold output row
 *     oy, lanes ow..2ow-1 row oy+1 (contiguous in the output); each input
 *     row loads as one vector from column -pl (masked to the row), and a
 *     tap's inputs are one two-source permute of the rows of oy and oy+1.
 * The index tables are found once per call (dw_plan_init). */

/* the AVX-512 depthwise kernels */
enum { DW_ROWS1, DW_ROWS2, DW3_ROWS1, DW3_ROWS2, DW3_NARROW, DW3_PAIR };

typedef struct {
    int kind;          /* DW_ROWS1 (dw_plane512, stride 1) .. DW3_PAIR */
    __m512i idx[3];    /* narrow: spread, squeeze; pair: the lanes of tap kx in (row of oy, row of oy+1) */
    __mmask16 spread;  /* narrow: the lanes of P[r] that hold columns */
} dw_plan;

/* the kernel for p (stride 1 or 2 across, kw <= 16) and its tables */
static void dw_plan_init(const nncc_conv2d_params *p, dw_plan *s)
{
    const int w = (int)p->w, ow = (int)p->ow;
    int32_t t[16];
    if (p->kh != 3 || p->kw != 3 || p->dh != 1 || p->dw != 1)
        s->kind = p->sw == 1 ? DW_ROWS1 : DW_ROWS2;
    else if (p->sh == 1 && p->sw == 1 && p->pt == 1 && p->pl == 1 && p->oh == p->h && p->ow == p->w && p->w <= 7) {
        s->kind = DW3_NARROW;
        /* P lane 8h + c holds column c of the vector's row h: loaded input lane h*W + c */
        for (int l = 0; l < 16; l++)
            t[l] = l % 8 < w ? (l / 8) * w + l % 8 : 0;
        s->idx[0] = _mm512_loadu_si512(t);
        s->spread = (__mmask16)(((1u << w) - 1) * 0x101u);
        /* output lane h*W + c from result lane 8h + c */
        for (int l = 0; l < 16; l++)
            t[l] = l < 2 * w ? (l / w) * 8 + l % w : 0;
        s->idx[1] = _mm512_loadu_si512(t);
    } else if (p->sh == 2 && p->sw == 2 && p->ow <= 7 && p->pl < 16) {
        s->kind = DW3_PAIR;
        /* lane j (output column j of row oy) reads register lane 2j + kx of
         * the first row, lane ow + j lane 16 + 2j + kx of the second */
        for (int kx = 0; kx < 3; kx++) {
            for (int j = 0; j < 16; j++)
                t[j] = j < ow ? 2 * j + kx : j < 2 * ow ? 16 + 2 * (j - ow) + kx : 0;
            s->idx[kx] = _mm512_loadu_si512(t);
        }
    } else
        s->kind = p->sw == 1 ? DW3_ROWS1 : DW3_ROWS2;
}

/* one plane, stride 1 on rows of at most 7 (see above) */
WIN_SPECIALISE void dw3_narrow512(const nncc_conv2d_params *p, const float *xc, const dw3_weights *k,
                                  const float *am, float *ym, int clamp, float lo, float hi, const dw_plan *s)
{
    const int64_t W = p->w, H = p->h, n = (H + 1) / 2;
    const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi), z = _mm512_setzero_ps();
    const __m512i spread = s->idx[0], squeeze = s->idx[1];
    const __mmask16 full = (__mmask16)((1u << (2 * W)) - 1), half = (__mmask16)((1u << W) - 1);
    /* P[r]: input rows 2r and 2r+1 (the second zero past the last row) */
#define DW3_P(r)                                                                                       \
    _mm512_maskz_permutexvar_ps(s->spread, spread,                                                     \
                                _mm512_maskz_loadu_ps(2 * (r) + 1 < H ? full : half, xc + 2 * (r) * W))
    /* lanes i .. i+15 of (lo, hi) */
#define DW3_LANES(hi, lo, i)                                                                           \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), i))
    __m512 prev = z, cur = DW3_P(0);
    for (int64_t r = 0; r < n; r++) {
        const __m512 next = r + 1 < n ? DW3_P(r + 1) : z;
        __m512 a0 = k->b, a1 = z, a2 = z;
        DW3_ROW(a0, DW3_LANES(cur, prev, 7), DW3_LANES(cur, prev, 8), DW3_LANES(cur, prev, 9), k->w0, k->w1, k->w2);
        DW3_ROW(a1, DW3_LANES(cur, prev, 15), cur, DW3_LANES(next, cur, 1), k->w3, k->w4, k->w5);
        DW3_ROW(a2, DW3_LANES(next, cur, 7), DW3_LANES(next, cur, 8), DW3_LANES(next, cur, 9), k->w6, k->w7, k->w8);
        const __m512 v = _mm512_permutexvar_ps(squeeze, _mm512_add_ps(_mm512_add_ps(a0, a1), a2));
        const __mmask16 keep = 2 * r + 1 < H ? full : half;
        const int64_t o = 2 * r * W;
        _mm512_mask_storeu_ps(ym + o, keep, dw_epilogue(v, am, o, keep, clamp, lov, hiv));
        prev = cur, cur = next;
    }
#undef DW3_P
#undef DW3_LANES
}

/* one plane, stride 2, two output rows of at most 7 at once (see above):
 * the last input row of a pair of output rows is the first of the next */
WIN_SPECIALISE void dw3_pair512(const nncc_conv2d_params *p, const float *xc, const dw3_weights *k,
                                const float *am, float *ym, int clamp, float lo, float hi, const float *zr,
                                const dw_plan *s)
{
    const int64_t W = p->w, H = p->h, ow = p->ow, oh = p->oh, pl = p->pl;
    const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi), z = _mm512_setzero_ps();
    const __m512i i0 = s->idx[0], i1 = s->idx[1], i2 = s->idx[2];
    /* register lane c + pl holds column c: the row is lanes pl .. pl+W-1 */
    const __mmask16 mr = (__mmask16)(bits32(pl, pl + W) & 0xffffu);
#define DW3_IN(iy) _mm512_maskz_loadu_ps(mr, dw_row(xc, zr, iy, H, W) - pl)
    __m512 r0 = DW3_IN(-p->pt);
    for (int64_t oy = 0; oy < oh; oy += 2) {
        const int64_t iy = 2 * oy - p->pt, o = oy * ow;
        const __mmask16 keep = (__mmask16)((1u << (oh - oy >= 2 ? 2 * ow : ow)) - 1);
        __m512 r1, r2, r3, r4;
        if (iy + 1 >= 0 && iy + 4 < H) { /* all inside: one address */
            const float *q = xc + (iy + 1) * W - pl;
            r1 = _mm512_maskz_loadu_ps(mr, q), r2 = _mm512_maskz_loadu_ps(mr, q + W);
            r3 = _mm512_maskz_loadu_ps(mr, q + 2 * W), r4 = _mm512_maskz_loadu_ps(mr, q + 3 * W);
        } else
            r1 = DW3_IN(iy + 1), r2 = DW3_IN(iy + 2), r3 = DW3_IN(iy + 3), r4 = DW3_IN(iy + 4);
        __m512 a0 = k->b, a1 = z, a2 = z;
        DW3_ROW(a0, _mm512_permutex2var_ps(r0, i0, r2), _mm512_permutex2var_ps(r0, i1, r2),
                _mm512_permutex2var_ps(r0, i2, r2), k->w0, k->w1, k->w2);
        DW3_ROW(a1, _mm512_permutex2var_ps(r1, i0, r3), _mm512_permutex2var_ps(r1, i1, r3),
                _mm512_permutex2var_ps(r1, i2, r3), k->w3, k->w4, k->w5);
        DW3_ROW(a2, _mm512_permutex2var_ps(r2, i0, r4), _mm512_permutex2var_ps(r2, i1, r4),
                _mm512_permutex2var_ps(r2, i2, r4), k->w6, k->w7, k->w8);
        const __m512 v = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
        _mm512_mask_storeu_ps(ym + o, keep, dw_epilogue(v, am, o, keep, clamp, lov, hiv));
        r0 = r4;
    }
#undef DW3_IN
}
#undef DW3_TAPS
#undef DW3_ROW
#endif

/* floats of one padded plane, with slack for the last block's reads past the end */
static int64_t dw_plane_size(const nncc_conv2d_params *p)
{
    int64_t hp, wp;
    dw_geometry(p, &hp, &wp);
    const int64_t n = hp * wp + 16 * p->sw + 32;
    return n > p->w ? n : p->w; /* AVX-512: a zero row of W floats */
}

int64_t nncc_conv2d_depthwise_scratch_size(const nncc_conv2d_params *p)
{
    return dw_plane_size(p) * (p->threads > 1 ? p->threads : 1); /* a plane per thread */
}

#if defined(NNCC_WIN_AVX512)
/* The depthwise convolution's planes by the AVX-512 kernel `kind` (a
 * constant where inlined), with OpenMP shared by nt threads; scratch holds
 * each thread's zero row. */
WIN_SPECIALISE void dw_planes512(const nncc_conv2d_params *p, const float *x, const float *w, const float *b,
                                 const float *add, float *y, float *scratch, int nt, const dw_plan *plan,
                                 const int kind)
{
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f, hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    const int64_t mult = p->m / p->c, osz = p->oh * p->ow, ntap = p->kh * p->kw, ps = dw_plane_size(p);
    nncc_par par;
    nncc_par_init(&par, nt, p->n * p->c);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t me = nncc_par_me(), run = 0, nc; (nc = nncc_par_take(&par, me, &run)) >= 0;) {
        /* the channel; no division with one image (a division costs as
         * much as a small plane's set-up) */
        const int64_t c = nc < p->c ? nc : nc % p->c;
        const float *const zr = scratch + me * ps;
        for (int64_t j = 0; j < mult; j++) {
            const int64_t m = c * mult + j, o = (nc * mult + j) * osz; /* output plane (n, m) */
            const float *wm = w + m * ntap, *xc = x + nc * p->h * p->w;
            const float bias = b ? b[m] : 0.0f;
            float *ym = y + o;
            const float *am = add ? add + o : 0;
            if (kind == DW_ROWS1 || kind == DW_ROWS2) {
                dw_plane512(p, xc, wm, bias, am, ym, clamp, lo, hi, kind == DW_ROWS1 ? 1 : 2);
            } else { /* 3x3 (nearly all depthwise layers) written out */
                const dw3_weights k = dw3_load(wm, bias);
                if (kind == DW3_NARROW)
                    dw3_narrow512(p, xc, &k, am, ym, clamp, lo, hi, plan);
                else if (kind == DW3_PAIR)
                    dw3_pair512(p, xc, &k, am, ym, clamp, lo, hi, zr, plan);
                else if (kind == DW3_ROWS1)
                    dw3_plane512(p, xc, &k, am, ym, clamp, lo, hi, zr);
                else
                    dw3s2_plane512(p, xc, &k, am, ym, clamp, lo, hi, zr);
            }
            if (ak != NNCC_ACT_NONE && !clamp) /* other activations: over the plane while it is in cache */
                nncc_act_f32(&p->act, osz, ym);
        }
    }
}
#endif

void nncc_conv2d_depthwise_f32(const nncc_conv2d_params *p, const float *x, const float *w, const float *b,
                               const float *add, float *y, float *scratch)
{
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f, hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    const int64_t mult = p->m / p->c, osz = p->oh * p->ow, ntap = p->kh * p->kw;
    /* input channels (with their `mult` outputs) are independent: with
     * OpenMP (and p->threads > 1) threads share them */
#ifdef _OPENMP
    const int64_t work = p->n * (p->c * p->h * p->w + p->m * osz); /* floats read and written */
    const int nt = p->threads > 1 && p->n * p->c > 1 && work >= WIN_PAR_MIN ? (int)p->threads : 1;
#else
    const int nt = 1;
#endif
#if defined(NNCC_WIN_AVX512)
    if ((p->sw == 1 || p->sw == 2) && p->kw <= 16) {
        dw_plan plan;
        dw_plan_init(p, &plan);
        /* a zero row (rows outside the input) in each thread's scratch */
        for (int t = 0; t < nt; t++)
            memset(scratch + t * dw_plane_size(p), 0, (size_t)p->w * sizeof(float));
        /* each kernel in a loop of its own (one kernel to a loop keeps the
         * compiler's register allocation to that kernel) */
        switch (plan.kind) {
        case DW_ROWS1:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW_ROWS1);
            break;
        case DW_ROWS2:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW_ROWS2);
            break;
        case DW3_ROWS1:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW3_ROWS1);
            break;
        case DW3_ROWS2:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW3_ROWS2);
            break;
        case DW3_NARROW:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW3_NARROW);
            break;
        default:
            dw_planes512(p, x, w, b, add, y, scratch, nt, &plan, DW3_PAIR);
            break;
        }
        return;
    }
#endif
    /* otherwise each input plane is copied with its padding into the
     * scratch, one plane per thread */
    int64_t hp, wp;
    dw_geometry(p, &hp, &wp);
    const int64_t ps = dw_plane_size(p);
    nncc_par par;
    nncc_par_init(&par, nt, p->n * p->c);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t me = nncc_par_me(), run = 0, nc; (nc = nncc_par_take(&par, me, &run)) >= 0;) {
        float *const pad = scratch + me * ps;
        const int64_t n = nc / p->c, c = nc % p->c;
        for (int64_t s = hp * wp; s < ps; s++)
            pad[s] = 0.0f;
        /* the padded plane: row r, column s hold x(r - pt, s - pl) or 0 */
        const float *xc = x + nc * p->h * p->w;
        for (int64_t r = 0; r < hp; r++) {
            float *d = pad + r * wp;
            const int64_t iy = r - p->pt;
            if (iy < 0 || iy >= p->h) {
                for (int64_t s = 0; s < wp; s++)
                    d[s] = 0.0f;
                continue;
            }
            const int64_t a = p->pl < wp ? p->pl : wp, e = p->pl + p->w < wp ? p->pl + p->w : wp;
            for (int64_t s = 0; s < a; s++)
                d[s] = 0.0f;
            if (e - a >= 64)
                memcpy(d + a, xc + iy * p->w, (size_t)(e - a) * sizeof(float));
            else /* short rows: not worth a call */
                for (int64_t s = a; s < e; s++)
                    d[s] = xc[iy * p->w + s - p->pl];
            for (int64_t s = e; s < wp; s++)
                d[s] = 0.0f;
        }
        for (int64_t j = 0; j < mult; j++) {
            const int64_t m = c * mult + j;
            const float *wm = w + m * ntap;
            const float bias = b ? b[m] : 0.0f;
            float *ym = y + (n * p->m + m) * osz;
            const float *am = add ? add + (n * p->m + m) * osz : 0;
            for (int64_t oy = 0; oy < p->oh; oy++) {
                const float *pr = pad + oy * p->sh * wp;
                float *yr = ym + oy * p->ow;
                const float *ar = am ? am + oy * p->ow : 0;
                for (int64_t ox = 0; ox < p->ow; ox += 8) {
                    const int cnt = p->ow - ox < 8 ? (int)(p->ow - ox) : 8;
#if defined(NNCC_WIN_AVX2)
                    const float *xo = pr + ox * p->sw;
                    __m256 acc;
                    /* 3x3 with stride 1 or 2 (nearly all depthwise layers): constant loops */
                    if (p->kh == 3 && p->kw == 3 && p->dh == 1 && p->dw == 1 && p->sw == 1)
                        acc = dw_block3(xo, wm, bias, wp, 1);
                    else if (p->kh == 3 && p->kw == 3 && p->dh == 1 && p->dw == 1 && p->sw == 2)
                        acc = dw_block3(xo, wm, bias, wp, 2);
                    else
                        acc = dw_block(xo, wm, bias, wp, p->kh, p->kw, p->dh, p->dw, p->sw);
                    /* the last block of a row: cnt < 8 lanes, masked */
                    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt),
                                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                    if (ar)
                        acc = _mm256_add_ps(acc, cnt == 8 ? _mm256_loadu_ps(ar + ox) : _mm256_maskload_ps(ar + ox, keep));
                    /* max/min return the second operand for a NaN: Relu
                     * gives 0, Clip keeps it, as the reference */
                    if (clamp == 1)
                        acc = _mm256_max_ps(acc, _mm256_set1_ps(lo));
                    else if (clamp == 3)
                        acc = _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), acc));
                    if (cnt == 8)
                        _mm256_storeu_ps(yr + ox, acc);
                    else
                        _mm256_maskstore_ps(yr + ox, keep, acc);
#else
                    float out[8];
                    for (int l = 0; l < 8; l++)
                        out[l] = bias;
                    for (int64_t ky = 0; ky < p->kh; ky++) {
                        const float *xr = pr + ky * p->dh * wp + ox * p->sw;
                        for (int64_t kx = 0; kx < p->kw; kx++) {
                            const float wv = wm[ky * p->kw + kx];
                            const float *xs = xr + kx * p->dw;
                            for (int l = 0; l < 8; l++)
                                out[l] += wv * xs[l * p->sw];
                        }
                    }
                    for (int l = 0; l < cnt; l++) {
                        float v = out[l];
                        if (ar)
                            v += ar[ox + l];
                        if (clamp == 1)
                            v = v > lo ? v : lo;
                        if (clamp == 3) {
                            v = v < lo ? lo : v;
                            v = v > hi ? hi : v;
                        }
                        yr[ox + l] = v;
                    }
#endif
                }
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * osz, y);
}

int nncc_pool2d_fast_ok(const nncc_pool2d_params *p)
{
    return (p->kind == NNCC_POOL_MAX || p->kind == NNCC_POOL_AVG) && p->dh == 1 && p->dw == 1 && p->d <= 1 &&
           p->od <= 1 && p->kd <= 1;
}

/* One plane of nncc_pool2d_fast_f32; nonzero when max pooling met a NaN
 * (the plane is then left to the reference). */
static int pool_plane(plane *q)
{
#if defined(NNCC_WIN_AVX512)
    if ((q->sw == 1 || q->sw == 2) && q->kw <= 16) {
        if (q->mode == WIN_MAX) {
            if (q->kh == 3 && q->sh == 2 && q->kw == 3 && q->sw == 2) /* ResNet's and SqueezeNet's */
                return pool_max33s2_512(q);
            /* vector max drops NaNs: such planes go to the reference */
            if (plane_has_nan(q->x, q->h * q->w))
                return 1;
            if (q->kw == 3 && q->sw == 2)
                pool_rows512(q, WIN_MAX, 3, 2);
            else if (q->kw == 2 && q->sw == 2)
                pool_rows512(q, WIN_MAX, 2, 2);
            else if (q->kw == 3)
                pool_rows512(q, WIN_MAX, 3, 1);
            else if (q->kw == 2)
                pool_rows512(q, WIN_MAX, 2, 1);
            else if (q->sw == 1)
                pool_plane512(q, WIN_MAX, q->kw, 1);
            else
                pool_plane512(q, WIN_MAX, q->kw, 2);
        } else {
            if (q->kw == 3 && q->sw == 1)
                pool_rows512(q, WIN_AVG, 3, 1);
            else if (q->kw == 2 && q->sw == 2)
                pool_rows512(q, WIN_AVG, 2, 2);
            else if (q->kw == 3)
                pool_rows512(q, WIN_AVG, 3, 2);
            else if (q->sw == 1)
                pool_plane512(q, WIN_AVG, q->kw, 1);
            else
                pool_plane512(q, WIN_AVG, q->kw, 2);
        }
        return 0;
    }
#endif
    return q->mode == WIN_MAX ? window_plane(q, WIN_MAX) : window_plane(q, WIN_AVG);
}

void nncc_pool2d_fast_f32(const nncc_pool2d_params *p, const float *x, float *y)
{
    if (!nncc_pool2d_fast_ok(p)) {
        nncc_pool2d_f32(p, x, y, 0);
        return;
    }
    /* the (n, c) planes are independent: with OpenMP (and p->threads > 1)
     * threads share them */
#ifdef _OPENMP
    const int64_t work = p->n * p->c * (p->h * p->w + p->oh * p->ow); /* floats read and written */
    const int nt = p->threads > 1 && p->n * p->c > 1 && work >= WIN_PAR_MIN ? (int)p->threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int64_t nc = 0; nc < p->n * p->c; nc++)
        nncc_pool2d_plane_f32(p, x + nc * p->h * p->w, y + nc * p->oh * p->ow);
}

void nncc_pool2d_plane_f32(const nncc_pool2d_params *p, const float *x, float *y)
{
    plane q;
    q.mode = p->kind == NNCC_POOL_MAX ? WIN_MAX : WIN_AVG;
    q.include_pad = p->count_include_pad;
    q.h = p->h, q.w = p->w, q.oh = p->oh, q.ow = p->ow, q.kh = p->kh, q.kw = p->kw;
    q.sh = p->sh, q.sw = p->sw, q.pt = p->pt, q.pl = p->pl, q.pb = p->pb, q.pr = p->pr;
    q.x = x, q.y = y;
    if (pool_plane(&q)) {
        /* a NaN: this plane as the reference computes it */
        nncc_pool2d_params one = *p;
        one.n = 1, one.c = 1;
        nncc_pool2d_f32(&one, x, y, 0);
    }
}

/* y[i] = mean of x[i*hw .. i*hw + hw) */
void nncc_global_avgpool_fast_f32(int64_t nc, int64_t hw, int64_t threads, const float *x, float *y)
{
#ifdef _OPENMP
    const int nt = threads > 1 && nc > 1 && nc * hw >= WIN_PAR_MIN ? (int)threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#else
    (void)threads;
#endif
    for (int64_t i = 0; i < nc; i++) {
        const float *xr = x + i * hw;
#if defined(NNCC_WIN_AVX512)
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        int64_t j = 0;
        for (; j + 32 <= hw; j += 32) {
            s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xr + j));
            s1 = _mm512_add_ps(s1, _mm512_loadu_ps(xr + j + 16));
        }
        for (; j < hw; j += 16)
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(
                                       (__mmask16)(hw - j >= 16 ? 0xffffu : (1u << (hw - j)) - 1), xr + j));
        const float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
#else
        /* 8 partial sums: short dependency chains, vectorisable */
        float part[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
        int64_t j = 0;
        for (; j + 8 <= hw; j += 8)
            for (int l = 0; l < 8; l++)
                part[l] += xr[j + l];
        for (; j < hw; j++)
            part[j % 8] += xr[j];
        const float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
#endif
        y[i] = s / (float)hw;
    }
}
