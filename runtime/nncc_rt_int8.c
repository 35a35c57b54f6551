/*
 * nncc_rt_int8.c - int8 quantised kernels: convolution, matrix product, max
 * pooling and Add. The conventions are in nncc_runtime.h.
 *
 * Integer only from input to output: int8 x int8 products summed in int32,
 * each output channel requantised by nncc_requant (a 31-bit fixed-point
 * multiplier and a right shift decided by the compiler), plus the output
 * zero point, clamped. On a Cortex-M4 without FPU this needs no floating
 * point at all. An int32 accumulator cannot overflow for K * 255 * 128 * 2
 * < 2^31, i.e. for a reduction length K (C/group*KH*KW, or the gemm's K)
 * below 32000 (the compiler keeps longer ones in float).
 *
 * nncc_conv2d_i8_ref is the plain definition of the int8 convolution.
 * nncc_conv2d_i8 is the fast one, checked bit for bit against it
 * (tests/unit/test_int8_kernels.c). It reads the input as unsigned bytes
 * u = x + 128 (x ^ 0x80), so that u8 x s8 dot products (vpdpbusd) apply:
 * sum (x - x_zp) w = sum u w - (x_zp + 128) sum w, the second term folded
 * into the bias at compile time (nncc_conv2d_i8_pack). Padding reads as
 * x_zp. Per image and group, a tile of output pixels is packed (im2col) as
 * quads of 4 consecutive taps per pixel, [K/4][pixels][4] bytes, and a
 * micro-kernel computes 8 output channels x 48/32/16 pixels (AVX-512 VNNI),
 * 8 x 8 (AVX-VNNI, or plain AVX2 with vpmaddubsw on one byte of each pair,
 * which cannot saturate, and vpmaddwd), 8 x 8 (AArch64 NEON sdot, on the
 * input turned back to signed, 128 * sum(w) added after), 8 x 4 (AArch64
 * NEON without dot products: int16 products, vpadal) or 8 x 16 (portable
 * C, also the Cortex-M path) in int32; the epilogue adds the bias and requantises 16
 * (AVX-512) or 8 (AVX2) outputs at a time. Depthwise convolutions (one
 * input and one output channel per group) run a channel plane at a time:
 * each tap's inputs over the plane gathered once, multiplied and added as
 * int16 products into int32.
 */
#include "nncc_runtime.h"

#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the reference ---- */

void nncc_conv2d_i8_ref(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                        const int32_t *mult, const int32_t *rshift, int8_t *y)
{
    const nncc_conv2d_params *c = &p->c;
    const int64_t cg = c->c / c->group, mg = c->m / c->group;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t m = 0; m < c->m; m++) {
            const int64_t g = m / mg;
            const int8_t *wm = w + m * cg * c->kh * c->kw;
            for (int64_t oy = 0; oy < c->oh; oy++)
                for (int64_t ox = 0; ox < c->ow; ox++) {
                    int32_t acc = bias ? bias[m] : 0;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ky = 0; ky < c->kh; ky++)
                            for (int64_t kx = 0; kx < c->kw; kx++) {
                                const int64_t iy = oy * c->sh + ky * c->dh - c->pt;
                                const int64_t ix = ox * c->sw + kx * c->dw - c->pl;
                                const int32_t xv = iy < 0 || iy >= c->h || ix < 0 || ix >= c->w ? p->x_zp
                                    : x[((n * c->c + g * cg + ci) * c->h + iy) * c->w + ix];
                                acc += (xv - p->x_zp) * wm[(ci * c->kh + ky) * c->kw + kx];
                            }
                    y[((n * c->m + m) * c->oh + oy) * c->ow + ox] =
                        (int8_t)clamp32(p->y_zp + nncc_requant(acc, mult[m], rshift[m]), p->y_min, p->y_max);
                }
        }
}

/* ---- packing (compile time) ---- */

/* Packed weight layout: per group, blocks of NNCC_I8_MR output channels
 * (the last one mb = what is left), each block mb*K bytes: K/4 quads
 * [K/4][mb][4], then the K%4 last taps [mb][K%4]. Same size as the plain
 * weights; for a depthwise conv (mb = 1) it is the plain layout. */
int nncc_conv2d_i8_pack(const nncc_conv2d_i8_params *p, const int8_t *w, const int32_t *bias, int8_t *wp,
                        int32_t *bp)
{
    const nncc_conv2d_params *c = &p->c;
    const int64_t mg = c->m / c->group, K = c->c / c->group * c->kh * c->kw, k4f = K / 4, kt = K % 4;
    int ok = 0;
    for (int64_t m = 0; m < c->m; m++) {
        const int64_t g = m / mg, j0 = (m % mg) / NNCC_I8_MR * NNCC_I8_MR, j = m % mg - j0;
        const int64_t mb = mg - j0 < NNCC_I8_MR ? mg - j0 : NNCC_I8_MR;
        int8_t *blk = wp + (g * mg + j0) * K;
        int64_t sum = 0;
        for (int64_t k = 0; k < K; k++) {
            const int8_t v = w[m * K + k];
            sum += v;
            if (k < k4f * 4)
                blk[(k / 4) * mb * 4 + j * 4 + k % 4] = v;
            else
                blk[k4f * mb * 4 + j * kt + (k - k4f * 4)] = v;
        }
        const int64_t b = (bias ? bias[m] : 0) - (int64_t)(p->x_zp + 128) * sum;
        ok |= b < INT32_MIN || b > INT32_MAX;
        bp[m] = (int32_t)(b < INT32_MIN ? INT32_MIN : b > INT32_MAX ? INT32_MAX : b);
    }
    return ok ? -1 : 0;
}

static int64_t depthwise(const nncc_conv2d_params *c)
{
    return c->c == c->group && c->m == c->group;
}

/* Depthwise geometry: the padded input plane is split by column phase
 * (column j*sw + f of the padded plane is column j of phase f; R rows of
 * WQ bytes each), so that every tap reads one contiguous run of a phase
 * for the whole plane: output (oy, ox) sits at v = oy*sh*WQ + ox of a
 * virtual plane of OH*sh*WQ accumulators (columns ox >= OW are computed
 * and dropped, sh-1 of every sh rows too: a stride-2 layer does twice its
 * work, a 3x3 stride-1 one (OW+2)/OW of it). */
static void dw_geom(const nncc_conv2d_params *c, int64_t *R, int64_t *WQ)
{
    *R = c->oh * c->sh + (c->kh - 1) * c->dh + 1;
    *WQ = c->ow + (c->kw - 1) * c->dw / c->sw + 1;
}

/* Output pixels per packed tile: a multiple of 16, the packed input at
 * most ~64 KiB (at least 48 pixels). */
/* How the GEMM path reads its input. */
typedef struct {
    int64_t K, k4;      /* reduction length C/group*KH*KW, and in quads of 4 (rounded up) */
    int mode;           /* 0: taps gathered per tile; 1: 1x1 stride 1 unpadded, rows read in place;
                           2: stride 1: padded planes, taps read in place */
    int64_t R, wq;      /* mode 2: rows of a padded plane, and its row length (the virtual row) */
    int64_t pv;         /* pixels computed: OH*OW, or OH*wq in mode 2 (columns >= OW dropped) */
    int64_t tile;       /* pixels per packed tile: a multiple of 16, the packed input ~64 KiB
                           at most (at least 48 pixels) */
} gemm_geom;

static gemm_geom gemm_geom_of(const nncc_conv2d_params *c)
{
    gemm_geom g;
    const int64_t kk = c->kh * c->kw;
    g.K = c->c / c->group * kk;
    g.k4 = (g.K + 3) / 4;
    g.mode = kk == 1 && c->sh == 1 && c->sw == 1 && c->pt == 0 && c->pl == 0 && c->oh == c->h && c->ow == c->w ? 1
             : c->sh == 1 && c->sw == 1 ? 2 : 0;
    g.R = g.mode == 2 ? c->oh + (c->kh - 1) * c->dh + 1 : 0;
    g.wq = g.mode == 2 ? c->ow + (c->kw - 1) * c->dw : c->ow;
    g.pv = c->oh * g.wq;
    const int64_t pr = (g.pv + 15) / 16 * 16;
    int64_t cap = 65536 / (4 * g.k4) / 48 * 48;
    cap = cap < 48 ? 48 : cap;
    g.tile = pr < cap ? pr : cap;
    return g;
}

#define ALIGN64(v) (((v) + 63) / 64 * 64)

int64_t nncc_conv2d_i8_scratch_size(const nncc_conv2d_i8_params *p)
{
    const nncc_conv2d_params *c = &p->c;
    if (depthwise(c)) {
        int64_t R, WQ;
        dw_geom(c, &R, &WQ);
        return ALIGN64(c->sw * R * WQ) + ALIGN64(4 * c->oh * c->sh * WQ) + 8 * c->kh * c->kw;
    }
    const gemm_geom g = gemm_geom_of(c);
    return ALIGN64(4 * g.k4 * g.tile) + ALIGN64(4 * g.tile) + ALIGN64(NNCC_I8_MR * 4 * g.k4) +
           c->c / c->group * g.R * g.wq;
}

/* ---- input gathering ---- */

/* dst[0..n) = src[0, sw, 2 sw, ...); rows are short (7 to 112 bytes), so
 * contiguous ones are copied in overlapping fixed-size pieces (memcpy of a
 * constant size is a plain load and store) rather than through a call */
static void copy_strided(const int8_t *src, int64_t n, int64_t sw, int8_t *dst)
{
    int64_t i = 0;
    if (sw == 1) {
        if (n >= 16) {
            for (; i + 16 <= n; i += 16)
                memcpy(dst + i, src + i, 16);
            if (i < n)
                memcpy(dst + n - 16, src + n - 16, 16);
        } else if (n >= 8) {
            memcpy(dst, src, 8);
            memcpy(dst + n - 8, src + n - 8, 8);
        } else if (n >= 4) {
            memcpy(dst, src, 4);
            memcpy(dst + n - 4, src + n - 4, 4);
        } else {
            for (; i < n; i++)
                dst[i] = src[i];
        }
        return;
    }
#if defined(__SSE2__)
    if (sw == 2 && n >= 17) {
        const __m128i lo = _mm_set1_epi16(0xFF);
        for (; i + 16 < n; i += 16) { /* reads src[2i .. 2i+31], inside: 2(n-1) >= 2i+32 */
            __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 2 * i)), lo);
            __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 2 * i + 16)), lo);
            _mm_storeu_si128((__m128i *)(dst + i), _mm_packus_epi16(a, b));
        }
        /* the last 16: src[2(n-16)-1 .. 2n-2], the odd bytes of it */
        const int8_t *t = src + 2 * (n - 16) - 1;
        __m128i a = _mm_srli_epi16(_mm_loadu_si128((const __m128i *)t), 8);
        __m128i b = _mm_srli_epi16(_mm_loadu_si128((const __m128i *)(t + 16)), 8);
        _mm_storeu_si128((__m128i *)(dst + n - 16), _mm_packus_epi16(a, b));
        return;
    }
#endif
    for (; i < n; i++)
        dst[i] = src[i * sw];
}

/* r[0..n) = v; pads are mostly 0 or 1 bytes: no call for them */
static void fill(int8_t *r, int8_t v, int64_t n)
{
    if (n > 2)
        memset(r, (unsigned char)v, (size_t)n);
    else if (n > 0)
        r[0] = r[n - 1] = v;
}

typedef struct {
    int64_t h, w, ow;          /* input plane (H,W), output row length */
    int64_t sh, sw, dh, dw;    /* strides, dilations */
    int64_t pt, pl;            /* padding at top and left */
} geom;

/* r[0..np) = the input of tap (ky, kx) of plane xc at output pixels
 * p0..p0+np (row-major over (OH,OW)); `pad` in the padding. */
static void gather_tap(const geom *q, const int8_t *xc, int64_t ky, int64_t kx, int8_t pad, int64_t p0, int64_t np,
                       int8_t *r)
{
    int64_t oy = p0 / q->ow, ox = p0 % q->ow;
    const int64_t ix0 = kx * q->dw - q->pl; /* ix = ox * sw + ix0 */
    int64_t lo = ix0 >= 0 ? 0 : (-ix0 + q->sw - 1) / q->sw; /* output columns with the tap inside: [lo, hi) */
    int64_t hi = q->w - 1 - ix0 < 0 ? 0 : (q->w - 1 - ix0) / q->sw + 1;
    hi = hi > q->ow ? q->ow : hi;
    lo = lo > hi ? hi : lo;
    while (np > 0) {
        const int64_t run = q->ow - ox < np ? q->ow - ox : np, iy = oy * q->sh + ky * q->dh - q->pt;
        if (iy < 0 || iy >= q->h) {
            fill(r, pad, run);
        } else {
            const int64_t e = ox + run, l = lo < ox ? ox : lo > e ? e : lo, h = hi < l ? l : hi > e ? e : hi;
            fill(r, pad, l - ox);
            copy_strided(xc + iy * q->w + l * q->sw + ix0, h - l, q->sw, r + (l - ox));
            fill(r + (h - ox), pad, e - h);
        }
        r += run, np -= run, ox = 0, oy++;
    }
}

/* out[p][j] = r_j[p] + 128 (as unsigned bytes) for p < n: 4 taps a pixel */
static void interleave4(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int64_t n,
                        uint8_t *out)
{
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128i s = _mm_set1_epi8((char)0x80);
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r0 + i)), s);
        __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r1 + i)), s);
        __m128i c = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r2 + i)), s);
        __m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r3 + i)), s);
        __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
        _mm_storeu_si128((__m128i *)(out + 4 * i), _mm_unpacklo_epi16(ab0, cd0));
        _mm_storeu_si128((__m128i *)(out + 4 * i + 16), _mm_unpackhi_epi16(ab0, cd0));
        _mm_storeu_si128((__m128i *)(out + 4 * i + 32), _mm_unpacklo_epi16(ab1, cd1));
        _mm_storeu_si128((__m128i *)(out + 4 * i + 48), _mm_unpackhi_epi16(ab1, cd1));
    }
#elif defined(__ARM_NEON)
    const uint8x16_t s = vdupq_n_u8(0x80);
    for (; i + 16 <= n; i += 16) {
        uint8x16x4_t v;
        v.val[0] = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(r0 + i)), s);
        v.val[1] = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(r1 + i)), s);
        v.val[2] = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(r2 + i)), s);
        v.val[3] = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(r3 + i)), s);
        vst4q_u8(out + 4 * i, v);
    }
#endif
    for (; i < n; i++) {
        out[4 * i] = (uint8_t)(r0[i] ^ 0x80);
        out[4 * i + 1] = (uint8_t)(r1[i] ^ 0x80);
        out[4 * i + 2] = (uint8_t)(r2[i] ^ 0x80);
        out[4 * i + 3] = (uint8_t)(r3[i] ^ 0x80);
    }
}

/* ---- requantisation of a row of accumulators ---- */

#if defined(__AVX512F__)
/* nncc_requant of 16 lanes with one (mult, rshift), clamped to [lo, hi] */
static __m512i requant512(__m512i a, int32_t mult, int32_t rshift, int64_t lo, int64_t hi)
{
    const __m512i vm = _mm512_set1_epi32(mult), rnd = _mm512_set1_epi64((int64_t)1 << (rshift - 1));
    const __m512i l = _mm512_set1_epi64(lo), h = _mm512_set1_epi64(hi);
    const __m128i sh = _mm_cvtsi32_si128(rshift);
    __m512i e = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, vm), rnd), sh);
    __m512i o = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), vm), rnd), sh);
    e = _mm512_min_epi64(_mm512_max_epi64(e, l), h);
    o = _mm512_min_epi64(_mm512_max_epi64(o, l), h);
    return _mm512_mask_blend_epi32(0xAAAA, e, _mm512_slli_epi64(o, 32));
}
#endif

/* y[i] = clamp(zp + requant(acc[i] + b, mult, rshift), lo, hi) for i < n */
static inline void requant_row(const int32_t *acc, int64_t n, int32_t b, int32_t mult, int32_t rshift, int32_t zp,
                               int32_t lo, int32_t hi, int8_t *y)
{
    int64_t i = 0;
#if defined(__AVX512F__)
    {
        const __m512i vb = _mm512_set1_epi32(b), vz = _mm512_set1_epi32(zp);
        for (; i + 16 <= n; i += 16) {
            const __m512i a = _mm512_add_epi32(_mm512_loadu_si512(acc + i), vb);
            const __m512i r = _mm512_add_epi32(requant512(a, mult, rshift, lo - zp, hi - zp), vz);
            _mm_storeu_si128((__m128i *)(y + i), _mm512_cvtepi32_epi8(r));
        }
#if defined(__AVX512BW__) && defined(__AVX512VL__)
        if (i < n) { /* the last 1..15 under a mask */
            const __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
            const __m512i a = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + i), vb);
            const __m512i r = _mm512_add_epi32(requant512(a, mult, rshift, lo - zp, hi - zp), vz);
            _mm_mask_storeu_epi8(y + i, k, _mm512_cvtepi32_epi8(r));
            return;
        }
#endif
    }
#elif defined(__AVX2__)
    if (rshift >= 32) { /* the high 32 bits of the 64-bit product, then an arithmetic shift */
        const __m256i vb = _mm256_set1_epi32(b), vm = _mm256_set1_epi32(mult), vz = _mm256_set1_epi32(zp);
        const __m256i rnd = _mm256_set1_epi64x((int64_t)1 << (rshift - 1));
        const __m256i l = _mm256_set1_epi32(lo - zp), h = _mm256_set1_epi32(hi - zp);
        const __m128i sh = _mm_cvtsi32_si128(rshift - 32);
        for (; i + 8 <= n; i += 8) {
            const __m256i a = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), vb);
            const __m256i e = _mm256_add_epi64(_mm256_mul_epi32(a, vm), rnd);
            const __m256i o = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), vm), rnd);
            __m256i r = _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), sh);
            r = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(r, l), h), vz);
            const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
            _mm_storel_epi64((__m128i *)(y + i), _mm_packs_epi16(w, w));
        }
    }
#endif
    for (; i < n; i++)
        y[i] = (int8_t)clamp32(zp + nncc_requant(acc[i] + b, mult, rshift), lo, hi);
}

/* requant_row over `rows` rows of n: row r reads acc + r*lda, writes
 * y + r*ldy, with bias, multiplier and shift [r*step] (step 0: one set) */
static void requant_rows(const int32_t *acc, int64_t lda, int64_t rows, int64_t n, const int32_t *b,
                         const int32_t *mult, const int32_t *rshift, int64_t step, const nncc_conv2d_i8_params *p,
                         int8_t *y, int64_t ldy)
{
    for (int64_t r = 0; r < rows; r++)
        requant_row(acc + r * lda, n, b[r * step], mult[r * step], rshift[r * step], p->y_zp, p->y_min, p->y_max,
                    y + r * ldy);
}

/* ---- micro-kernels: acc[j][p] (row stride 48) = sum_k u[p][k] w[j][k] over
 * k4 quads of packed input (quad rows ldq bytes apart) and 8 channels of
 * packed weights ([k4][8][4]); `left` (a multiple of 16) pixels remain;
 * returns the pixels done. ---- */

#if defined(__AVX2__)
static int32_t ld32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512F__)
#define NNCC_I8_ROW512(j)                                                                   \
    do {                                                                                    \
        const __m512i wv = _mm512_set1_epi32(ld32(w + 4 * (j)));                            \
        c##j##0 = _mm512_dpbusd_epi32(c##j##0, x0, wv);                                     \
        if (nr > 1)                                                                         \
            c##j##1 = _mm512_dpbusd_epi32(c##j##1, x1, wv);                                 \
        if (nr > 2)                                                                         \
            c##j##2 = _mm512_dpbusd_epi32(c##j##2, x2, wv);                                 \
    } while (0)
#define NNCC_I8_ST512(j)                                                                    \
    do {                                                                                    \
        _mm512_storeu_si512(acc + (j) * 48, c##j##0);                                       \
        if (nr > 1)                                                                         \
            _mm512_storeu_si512(acc + (j) * 48 + 16, c##j##1);                              \
        if (nr > 2)                                                                         \
            _mm512_storeu_si512(acc + (j) * 48 + 32, c##j##2);                              \
    } while (0)
/* 8 channels x NR vectors of 16 pixels: 8 NR accumulators */
#define NNCC_I8_KERN512(NR)                                                                 \
    static void kern512_##NR(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int32_t *acc) \
    {                                                                                       \
        enum { nr = NR };                                                                   \
        __m512i c00 = _mm512_setzero_si512(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00; \
        __m512i c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;           \
        __m512i c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;           \
        __m512i c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;           \
        for (int64_t q = 0; q < k4; q++, xp += ldq, w += 32) {                              \
            const __m512i x0 = _mm512_loadu_si512(xp);                                      \
            const __m512i x1 = nr > 1 ? _mm512_loadu_si512(xp + 64) : x0;                   \
            const __m512i x2 = nr > 2 ? _mm512_loadu_si512(xp + 128) : x0;                  \
            NNCC_I8_ROW512(0); NNCC_I8_ROW512(1); NNCC_I8_ROW512(2); NNCC_I8_ROW512(3);     \
            NNCC_I8_ROW512(4); NNCC_I8_ROW512(5); NNCC_I8_ROW512(6); NNCC_I8_ROW512(7);     \
        }                                                                                   \
        NNCC_I8_ST512(0); NNCC_I8_ST512(1); NNCC_I8_ST512(2); NNCC_I8_ST512(3);             \
        NNCC_I8_ST512(4); NNCC_I8_ST512(5); NNCC_I8_ST512(6); NNCC_I8_ST512(7);             \
    }
NNCC_I8_KERN512(1)
NNCC_I8_KERN512(2)
NNCC_I8_KERN512(3)

static int64_t kern_i8(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int64_t left, int32_t *acc)
{
    if (left >= 48) {
        kern512_3(xp, ldq, w, k4, acc);
        return 48;
    }
    if (left >= 32) {
        kern512_2(xp, ldq, w, k4, acc);
        return 32;
    }
    kern512_1(xp, ldq, w, k4, acc);
    return 16;
}
#elif defined(__AVX2__)
/* u8 x s8 quads summed into int32 lanes */
static __m256i dp256(__m256i c, __m256i x, __m256i w)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(c, x, w);
#elif defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(c, x, w);
#else
    /* vpmaddubsw on the even and the odd bytes apart: one product per int16,
     * |u w| <= 255 * 128, no saturation; vpmaddwd adds the pairs into int32 */
    const __m256i lo = _mm256_set1_epi16(0xFF), one = _mm256_set1_epi16(1);
    const __m256i pe = _mm256_maddubs_epi16(_mm256_and_si256(x, lo), w);
    const __m256i po = _mm256_maddubs_epi16(_mm256_andnot_si256(lo, x), w);
    return _mm256_add_epi32(c, _mm256_add_epi32(_mm256_madd_epi16(pe, one), _mm256_madd_epi16(po, one)));
#endif
}

#define NNCC_I8_ROW256(j) c##j = dp256(c##j, x0, _mm256_set1_epi32(ld32(w + 4 * (j))))
/* 8 channels x 8 pixels */
static int64_t kern_i8(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int64_t left, int32_t *acc)
{
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    (void)left;
    for (int64_t q = 0; q < k4; q++, xp += ldq, w += 32) {
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)xp);
        NNCC_I8_ROW256(0); NNCC_I8_ROW256(1); NNCC_I8_ROW256(2); NNCC_I8_ROW256(3);
        NNCC_I8_ROW256(4); NNCC_I8_ROW256(5); NNCC_I8_ROW256(6); NNCC_I8_ROW256(7);
    }
    _mm256_storeu_si256((__m256i *)(acc + 0 * 48), c0);
    _mm256_storeu_si256((__m256i *)(acc + 1 * 48), c1);
    _mm256_storeu_si256((__m256i *)(acc + 2 * 48), c2);
    _mm256_storeu_si256((__m256i *)(acc + 3 * 48), c3);
    _mm256_storeu_si256((__m256i *)(acc + 4 * 48), c4);
    _mm256_storeu_si256((__m256i *)(acc + 5 * 48), c5);
    _mm256_storeu_si256((__m256i *)(acc + 6 * 48), c6);
    _mm256_storeu_si256((__m256i *)(acc + 7 * 48), c7);
    return 8;
}
#elif defined(__ARM_NEON) && defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
/* sdot (s8 x s8): the input back to signed (u ^ 0x80 = x = u - 128), and
 * 128 * sum(w) added at the end; 8 channels x 8 pixels */
static int64_t kern_i8(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int64_t left, int32_t *acc)
{
    int32x4_t c[8][2], ws0 = vdupq_n_s32(0), ws1 = vdupq_n_s32(0);
    const uint8x16_t s = vdupq_n_u8(0x80);
    const int8x16_t one = vdupq_n_s8(1);
    (void)left;
    for (int j = 0; j < 8; j++)
        c[j][0] = c[j][1] = vdupq_n_s32(0);
    for (int64_t q = 0; q < k4; q++, xp += ldq, w += 32) {
        const int8x16_t x0 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(xp), s));      /* pixels 0-3 */
        const int8x16_t x1 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(xp + 16), s)); /* pixels 4-7 */
        const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);                    /* channels 0-3, 4-7 */
        ws0 = vdotq_s32(ws0, w0, one);
        ws1 = vdotq_s32(ws1, w1, one);
        c[0][0] = vdotq_laneq_s32(c[0][0], x0, w0, 0), c[0][1] = vdotq_laneq_s32(c[0][1], x1, w0, 0);
        c[1][0] = vdotq_laneq_s32(c[1][0], x0, w0, 1), c[1][1] = vdotq_laneq_s32(c[1][1], x1, w0, 1);
        c[2][0] = vdotq_laneq_s32(c[2][0], x0, w0, 2), c[2][1] = vdotq_laneq_s32(c[2][1], x1, w0, 2);
        c[3][0] = vdotq_laneq_s32(c[3][0], x0, w0, 3), c[3][1] = vdotq_laneq_s32(c[3][1], x1, w0, 3);
        c[4][0] = vdotq_laneq_s32(c[4][0], x0, w1, 0), c[4][1] = vdotq_laneq_s32(c[4][1], x1, w1, 0);
        c[5][0] = vdotq_laneq_s32(c[5][0], x0, w1, 1), c[5][1] = vdotq_laneq_s32(c[5][1], x1, w1, 1);
        c[6][0] = vdotq_laneq_s32(c[6][0], x0, w1, 2), c[6][1] = vdotq_laneq_s32(c[6][1], x1, w1, 2);
        c[7][0] = vdotq_laneq_s32(c[7][0], x0, w1, 3), c[7][1] = vdotq_laneq_s32(c[7][1], x1, w1, 3);
    }
    int32_t wsum[8];
    vst1q_s32(wsum, vshlq_n_s32(ws0, 7));
    vst1q_s32(wsum + 4, vshlq_n_s32(ws1, 7));
    for (int j = 0; j < 8; j++) {
        const int32x4_t b = vdupq_n_s32(wsum[j]);
        vst1q_s32(acc + j * 48, vaddq_s32(c[j][0], b));
        vst1q_s32(acc + j * 48 + 4, vaddq_s32(c[j][1], b));
    }
    return 8;
}
#elif defined(__ARM_NEON) && defined(__aarch64__)
/* NEON without dot products: u8 and s8 widened to int16, products (<= 255 *
 * 128, exact in int16) added pairwise into int32 (vpadal); 8 channels x 4
 * pixels */
static int64_t kern_i8(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int64_t left, int32_t *acc)
{
    int32x4_t c[8][2];
    (void)left;
    for (int j = 0; j < 8; j++)
        c[j][0] = c[j][1] = vdupq_n_s32(0);
    for (int64_t q = 0; q < k4; q++, xp += ldq, w += 32) {
        const uint8x16_t u = vld1q_u8(xp);                                         /* pixels 0-3, 4 taps each */
        const int16x8_t x0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(u)));   /* pixels 0-1 */
        const int16x8_t x1 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(u)));  /* pixels 2-3 */
        const int16x8_t wa = vmovl_s8(vld1_s8(w)), wb = vmovl_s8(vld1_s8(w + 8));
        const int16x8_t wc = vmovl_s8(vld1_s8(w + 16)), wd = vmovl_s8(vld1_s8(w + 24));
        const int16x8_t wj[8] = { vcombine_s16(vget_low_s16(wa), vget_low_s16(wa)),
                                  vcombine_s16(vget_high_s16(wa), vget_high_s16(wa)),
                                  vcombine_s16(vget_low_s16(wb), vget_low_s16(wb)),
                                  vcombine_s16(vget_high_s16(wb), vget_high_s16(wb)),
                                  vcombine_s16(vget_low_s16(wc), vget_low_s16(wc)),
                                  vcombine_s16(vget_high_s16(wc), vget_high_s16(wc)),
                                  vcombine_s16(vget_low_s16(wd), vget_low_s16(wd)),
                                  vcombine_s16(vget_high_s16(wd), vget_high_s16(wd)) };
        for (int j = 0; j < 8; j++) {
            c[j][0] = vpadalq_s16(c[j][0], vmulq_s16(x0, wj[j]));
            c[j][1] = vpadalq_s16(c[j][1], vmulq_s16(x1, wj[j]));
        }
    }
    for (int j = 0; j < 8; j++) /* lanes (pixel, taps 0-1 / 2-3): pairwise once more */
        vst1q_s32(acc + j * 48, vpaddq_s32(c[j][0], c[j][1]));
    return 4;
}
#else
/* portable: 8 channels x 16 pixels */
static int64_t kern_i8(const uint8_t *xp, int64_t ldq, const int8_t *w, int64_t k4, int64_t left, int32_t *acc)
{
    (void)left;
    for (int j = 0; j < NNCC_I8_MR; j++)
        for (int p = 0; p < 16; p++)
            acc[j * 48 + p] = 0;
    for (int64_t q = 0; q < k4; q++, xp += ldq, w += 32)
        for (int p = 0; p < 16; p++) {
            const uint8_t *u = xp + 4 * p;
            for (int j = 0; j < NNCC_I8_MR; j++)
                acc[j * 48 + p] += u[0] * w[4 * j] + u[1] * w[4 * j + 1] + u[2] * w[4 * j + 2] + u[3] * w[4 * j + 3];
        }
    return 16;
}
#endif

/* ---- the convolution ---- */

/* acc[i] = sum_t (base[off[t] + i] + 128) * w[t] for i < n: all taps of a
 * block of outputs summed in registers, int16 products (|u w| <= 255 * 128)
 * widened into int32 */
static void mac_taps(const int8_t *base, const int64_t *off, const int8_t *w, int64_t taps, int64_t n, int32_t *acc)
{
    int64_t i = 0;
#if defined(__AVX512BW__)
    {
        const __m256i s = _mm256_set1_epi8((char)0x80);
        for (; i + 32 <= n; i += 32) {
            __m512i a0 = _mm512_setzero_si512(), a1 = a0;
            for (int64_t t = 0; t < taps; t++) {
                const __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(base + off[t] + i)), s);
                const __m512i p = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(u), _mm512_set1_epi16(w[t]));
                a0 = _mm512_add_epi32(a0, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(p)));
                a1 = _mm512_add_epi32(a1, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(p, 1)));
            }
            _mm512_storeu_si512(acc + i, a0);
            _mm512_storeu_si512(acc + i + 16, a1);
        }
    }
#endif
#if defined(__AVX2__)
    {
        const __m128i s = _mm_set1_epi8((char)0x80);
        for (; i + 16 <= n; i += 16) {
            __m256i a0 = _mm256_setzero_si256(), a1 = a0;
            for (int64_t t = 0; t < taps; t++) {
                const __m128i u = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(base + off[t] + i)), s);
                const __m256i p = _mm256_mullo_epi16(_mm256_cvtepu8_epi16(u), _mm256_set1_epi16(w[t]));
                a0 = _mm256_add_epi32(a0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
                a1 = _mm256_add_epi32(a1, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(p, 1)));
            }
            _mm256_storeu_si256((__m256i *)(acc + i), a0);
            _mm256_storeu_si256((__m256i *)(acc + i + 8), a1);
        }
    }
#endif
    for (; i < n; i++) {
        int32_t v = 0;
        for (int64_t t = 0; t < taps; t++)
            v += ((base[off[t] + i] ^ 0x80) & 0xFF) * w[t];
        acc[i] = v;
    }
}

static void conv_depthwise(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                           const int32_t *mult, const int32_t *rshift, int8_t *y, unsigned char *scratch)
{
    const nncc_conv2d_params *c = &p->c;
    int64_t R, WQ;
    dw_geom(c, &R, &WQ);
    const int64_t V = c->oh * c->sh * WQ;
    const geom q = { c->h, c->w, WQ, 1, c->sw, 0, 1, c->pt, c->pl }; /* the phase planes as a gather */
    int8_t *ph = (int8_t *)scratch;
    int32_t *acc = (int32_t *)(void *)(scratch + ALIGN64(c->sw * R * WQ));
    int64_t *off = (int64_t *)(void *)(scratch + ALIGN64(c->sw * R * WQ) + ALIGN64(4 * V));
    for (int64_t ky = 0; ky < c->kh; ky++) /* where each tap's run starts in the phase planes */
        for (int64_t kx = 0; kx < c->kw; kx++)
            off[ky * c->kw + kx] = (kx * c->dw % c->sw * R + ky * c->dh) * WQ + kx * c->dw / c->sw;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->c; ch++) {
            const int8_t *xc = x + (n * c->c + ch) * c->h * c->w, *wc = w + ch * c->kh * c->kw;
            for (int64_t f = 0; f < c->sw; f++)
                gather_tap(&q, xc, 0, f, (int8_t)p->x_zp, 0, R * WQ, ph + f * R * WQ);
            mac_taps(ph, off, wc, c->kh * c->kw, V, acc);
            requant_rows(acc, c->sh * WQ, c->oh, c->ow, bias + ch, mult + ch, rshift + ch, 0, p,
                         y + (n * c->c + ch) * c->oh * c->ow, c->ow);
        }
}

void nncc_conv2d_i8(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                    const int32_t *mult, const int32_t *rshift, int8_t *y, void *scratch)
{
    const nncc_conv2d_params *c = &p->c;
    const geom q = { c->h, c->w, c->ow, c->sh, c->sw, c->dh, c->dw, c->pt, c->pl }; /* mode 0 */
    unsigned char *s = scratch;
    if (depthwise(c)) {
        conv_depthwise(p, x, w, bias, mult, rshift, y, s);
        return;
    }
    const gemm_geom gg = gemm_geom_of(c);
    const int64_t cg = c->c / c->group, mg = c->m / c->group, kk = c->kh * c->kw, K = gg.K, k4 = gg.k4;
    const int64_t k4f = K / 4, kt = K % 4, P = c->oh * c->ow, isz = c->h * c->w, pt = gg.tile, wq = gg.wq;
    const int64_t psz = gg.R * wq; /* mode 2: one padded plane */
    uint8_t *xpk = s;
    int8_t *rows = (int8_t *)(s + ALIGN64(4 * k4 * pt));
    int8_t *wbuf = (int8_t *)(s + ALIGN64(4 * k4 * pt) + ALIGN64(4 * pt));
    int8_t *planes = wbuf + ALIGN64(NNCC_I8_MR * 4 * k4);
    const geom qp = { c->h, c->w, wq, 1, 1, 0, 1, c->pt, c->pl }; /* mode 2: the padded planes as a gather */
    int32_t acc[NNCC_I8_MR * 48];
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t g = 0; g < c->group; g++) {
            const int8_t *xg = x + (n * c->c + g * cg) * isz;
            if (gg.mode == 2)
                for (int64_t ci = 0; ci < cg; ci++)
                    gather_tap(&qp, xg + ci * isz, 0, 0, (int8_t)p->x_zp, 0, psz, planes + ci * psz);
            for (int64_t p0 = 0; p0 < gg.pv; p0 += pt) {
                const int64_t np = gg.pv - p0 < pt ? gg.pv - p0 : pt, npad = (np + 15) / 16 * 16;
                for (int64_t qd = 0; qd < k4; qd++) {
                    const int8_t *src[4];
                    for (int j = 0; j < 4; j++) {
                        const int64_t k = 4 * qd + j < K ? 4 * qd + j : K - 1; /* taps past K: weight 0 */
                        const int64_t ci = k / kk, ky = k % kk / c->kw, kx = k % c->kw;
                        if (gg.mode == 1) {
                            src[j] = xg + k * isz + p0;
                        } else if (gg.mode == 2) {
                            src[j] = planes + ci * psz + ky * c->dh * wq + kx * c->dw + p0;
                        } else {
                            gather_tap(&q, xg + ci * isz, ky, kx, (int8_t)p->x_zp, p0, np, rows + j * pt);
                            src[j] = rows + j * pt;
                        }
                    }
                    uint8_t *dst = xpk + qd * npad * 4;
                    interleave4(src[0], src[1], src[2], src[3], np, dst);
                    memset(dst + np * 4, 0, (size_t)(npad - np) * 4);
                }
                for (int64_t j0 = 0; j0 < mg; j0 += NNCC_I8_MR) {
                    const int64_t mb = mg - j0 < NNCC_I8_MR ? mg - j0 : NNCC_I8_MR, m0 = g * mg + j0;
                    const int8_t *wb = w + m0 * K;
                    if (mb < NNCC_I8_MR || kt) { /* a partial block: zero-padded to [k4][8][4] */
                        for (int64_t qd = 0; qd < k4; qd++)
                            for (int64_t j = 0; j < NNCC_I8_MR; j++)
                                for (int64_t i = 0; i < 4; i++) {
                                    const int64_t k = 4 * qd + i;
                                    wbuf[qd * 32 + j * 4 + i] = j >= mb || k >= K ? 0
                                        : qd < k4f ? wb[qd * mb * 4 + j * 4 + i] : wb[k4f * mb * 4 + j * kt + i];
                                }
                        wb = wbuf;
                    }
                    int8_t *ym = y + (n * c->m + m0) * P;
                    for (int64_t pp = 0; pp < np;) {
                        const int64_t nv = kern_i8(xpk + pp * 4, npad * 4, wb, k4, npad - pp, acc);
                        const int64_t v0 = p0 + pp, v1 = p0 + (np - pp < nv ? np : pp + nv);
                        if (wq == c->ow) {
                            requant_rows(acc, 48, mb, v1 - v0, bias + m0, mult + m0, rshift + m0, 1, p, ym + v0, P);
                        } else { /* virtual rows of wq: keep their first OW columns */
                            for (int64_t v = v0; v < v1;) {
                                const int64_t oy = v / wq, ox = v % wq, len = wq - ox < v1 - v ? wq - ox : v1 - v;
                                if (ox < c->ow)
                                    requant_rows(acc + (v - v0), 48, mb, c->ow - ox < len ? c->ow - ox : len,
                                                 bias + m0, mult + m0, rshift + m0, 1, p, ym + oy * c->ow + ox, P);
                                v += len;
                            }
                        }
                        pp += nv;
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
    int64_t i = 0;
#if defined(__AVX512F__)
    const __m512i za = _mm512_set1_epi32(p->a_zp), zb = _mm512_set1_epi32(p->b_zp), zy = _mm512_set1_epi32(p->y_zp);
    for (; i + 16 <= p->n; i += 16) {
        const __m512i va = _mm512_slli_epi32(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(a + i))), za), 20);
        const __m512i vb = _mm512_slli_epi32(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + i))), zb), 20);
        const __m512i s = _mm512_add_epi32(requant512(va, p->a_mult, p->a_rshift, INT32_MIN, INT32_MAX),
                                           requant512(vb, p->b_mult, p->b_rshift, INT32_MIN, INT32_MAX));
        const __m512i r = requant512(s, p->y_mult, p->y_rshift, p->y_min - p->y_zp, p->y_max - p->y_zp);
        _mm_storeu_si128((__m128i *)(y + i), _mm512_cvtepi32_epi8(_mm512_add_epi32(r, zy)));
    }
#endif
    for (; i < p->n; i++) {
        int32_t va = nncc_requant(((int32_t)a[i] - p->a_zp) * (1 << 20), p->a_mult, p->a_rshift);
        int32_t vb = nncc_requant(((int32_t)b[i] - p->b_zp) * (1 << 20), p->b_mult, p->b_rshift);
        y[i] = (int8_t)clamp32(p->y_zp + nncc_requant(va + vb, p->y_mult, p->y_rshift), p->y_min, p->y_max);
    }
}

/* cur[0..n) = max(cur, r) */
static void max_row(int8_t *cur, const int8_t *r, int64_t n)
{
    int64_t i = 0;
#if defined(__SSE4_1__)
    for (; i + 16 <= n; i += 16)
        _mm_storeu_si128((__m128i *)(cur + i), _mm_max_epi8(_mm_loadu_si128((const __m128i *)(cur + i)),
                                                            _mm_loadu_si128((const __m128i *)(r + i))));
#endif
    for (; i < n; i++)
        cur[i] = r[i] > cur[i] ? r[i] : cur[i];
}

/* One output row at a time, in chunks: each tap's inputs gathered (-128 in
 * the padding, which never wins) and maxed in. */
void nncc_maxpool2d_i8(const nncc_pool2d_params *p, const int8_t *x, int8_t *y)
{
    enum { CH = 256 };
    int8_t row[CH];
    const geom q = { p->h, p->w, p->ow, p->sh, p->sw, p->dh, p->dw, p->pt, p->pl };
#if defined(__SSE2__)
    if (p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->dh == 1 && p->dw == 1 && p->pt == 0 &&
        p->pl == 0 && 2 * p->oh <= p->h && 2 * p->ow <= p->w) { /* 2x2 stride 2 inside: pairs of rows */
        for (int64_t nc = 0; nc < p->n * p->c; nc++)
            for (int64_t oy = 0; oy < p->oh; oy++) {
                const int8_t *r0 = x + (nc * p->h + 2 * oy) * p->w, *r1 = r0 + p->w;
                int8_t *yr = y + (nc * p->oh + oy) * p->ow;
                int64_t ox = 0;
                for (; ox + 8 <= p->ow && 2 * ox + 16 <= p->w; ox += 8) {
                    const __m128i a = _mm_loadu_si128((const __m128i *)(r0 + 2 * ox));
                    const __m128i b = _mm_loadu_si128((const __m128i *)(r1 + 2 * ox));
                    /* even and odd bytes as int16 */
                    const __m128i m = _mm_max_epi16(
                        _mm_max_epi16(_mm_srai_epi16(_mm_slli_epi16(a, 8), 8), _mm_srai_epi16(a, 8)),
                        _mm_max_epi16(_mm_srai_epi16(_mm_slli_epi16(b, 8), 8), _mm_srai_epi16(b, 8)));
                    _mm_storel_epi64((__m128i *)(yr + ox), _mm_packs_epi16(m, m));
                }
                for (; ox < p->ow; ox++) {
                    int8_t v = r0[2 * ox];
                    v = r0[2 * ox + 1] > v ? r0[2 * ox + 1] : v;
                    v = r1[2 * ox] > v ? r1[2 * ox] : v;
                    yr[ox] = r1[2 * ox + 1] > v ? r1[2 * ox + 1] : v;
                }
            }
        return;
    }
#endif
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const int8_t *xc = x + nc * p->h * p->w;
        int8_t *yc = y + nc * p->oh * p->ow;
        for (int64_t p0 = 0; p0 < p->oh * p->ow; p0 += CH) {
            const int64_t np = p->oh * p->ow - p0 < CH ? p->oh * p->ow - p0 : CH;
            memset(yc + p0, -128, (size_t)np);
            for (int64_t ky = 0; ky < p->kh; ky++)
                for (int64_t kx = 0; kx < p->kw; kx++) {
                    gather_tap(&q, xc, ky, kx, -128, p0, np, row);
                    max_row(yc + p0, row, np);
                }
        }
    }
}
