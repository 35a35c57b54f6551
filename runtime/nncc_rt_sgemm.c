/*
 * nncc_rt_sgemm.c - the fast fp32 convolution: a blocked, packed GEMM with a
 * register-tiled micro-kernel. nncc_conv2d_f32 (nncc_rt_conv.c) is the
 * reference that defines the numbers; this file computes the same thing in
 * another summation order, and tests/unit/test_kernels.c checks it against
 * the reference on random shapes.
 *
 * A convolution is a matrix product per group:
 *     Y(M, OH*OW) = W(M, K) x X_col(K, OH*OW),   K = C/group * KH * KW
 * with W the weight (A, known at compile time) and X_col the im2col matrix
 * of the input (B). Nothing is allocated:
 *   - A is packed by nncc at compile time (nncc_conv2d_pack_f32) into panels
 *     of NNCC_GEMM_MR rows stored k-major: wp[panel][k][i], rows past M zero;
 *   - B is packed at run time, one block of at most KC x NC at a time, into
 *     the caller's scratch (planned by nncc in the arena) as panels of
 *     NNCC_GEMM_NR columns: bp[panel][k][j], built straight from the input
 *     (im2col and packing in one step; padding and columns past the end are 0).
 * Loops (BLIS order, A panel in L1, B block in L2):
 *     for each NC block of pixels, for each KC block of K: pack B
 *         for each MR panel of A, for each NR panel of B: micro-kernel
 * The micro-kernel keeps an MR x NR tile of Y in registers over kc steps and
 * applies the epilogue on the tile before storing it: the partial sum of
 * earlier K blocks, then (on the last K block) bias, residual add and
 * Relu/Clip. Other activations run over Y afterwards (nncc_act_f32).
 *
 * Micro-kernels, picked by the target's predefined macros when the generated
 * code is compiled: AVX2+FMA (x86-64, 6x16 in 12 ymm registers; with
 * AVX-512F also 6x32 over two B panels in 12 zmm registers), NEON
 * (AArch64, 6x16 in 24 q registers), and portable C written so compilers
 * auto-vectorise it. All three share the packed layouts, so the weights nncc
 * writes suit any target.
 *
 * Limits: the B block is repacked for every output; depthwise convolutions
 * (one channel per group) go to the reference direct kernel, whose inner
 * loop runs along output rows.
 */
#include "nncc_runtime.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NNCC_SGEMM_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define NNCC_SGEMM_NEON 1
#endif

#define MR NNCC_GEMM_MR
#define NR NNCC_GEMM_NR
#define KC NNCC_GEMM_KC
#define NC NNCC_GEMM_NC

/* One output tile and what to do with it. */
typedef struct {
    float *c;            /* tile's first element in Y */
    int64_t ldc;         /* Y's row stride (elements) */
    int mr, nr;          /* valid rows (<= MR) and columns (<= NR) */
    int load;            /* add the partial sum already in Y (not the first K block) */
    const float *bias;   /* bias of the tile's first row (last K block), or NULL */
    const float *add;    /* residual, Y's layout, at the tile's first element, or NULL */
    int clamp;           /* 1: v = max(v, lo) (Relu); 3: also v = min(v, hi) (Clip) */
    float lo, hi;
} tile;

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Epilogue and store from an accumulator tile acc[MR][lda] (portable; full or partial tiles). */
static void store_tile(const float *acc, int lda, const tile *t)
{
    for (int i = 0; i < t->mr; i++) {
        float *c = t->c + i * t->ldc;
        const float *a = acc + i * lda;
        const float bias = t->bias ? t->bias[i] : 0.0f;
        const float *add = t->add ? t->add + i * t->ldc : 0;
        for (int j = 0; j < t->nr; j++) {
            float v = a[j];
            if (t->load)
                v += c[j];
            v += bias;
            if (add)
                v += add[j];
            /* NaN as the reference: Relu gives 0, Clip keeps it */
            if (t->clamp == 1)
                v = v > t->lo ? v : t->lo;
            if (t->clamp == 3) {
                v = v < t->lo ? t->lo : v;
                v = v > t->hi ? t->hi : v;
            }
            c[j] = v;
        }
    }
}

#if defined(NNCC_SGEMM_AVX2)
/* c(6x16) (+)= a(kc x 6, packed) b(kc x 16, packed), then the epilogue. */
static void micro_kernel(int64_t kc, const float *a, const float *b, const tile *t)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        a += MR;
        b += NR;
    }
    if (t->mr == MR && t->nr == NR) {
        __m256 acc[2 * MR];
        acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
        acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
        const __m256 lo = _mm256_set1_ps(t->lo), hi = _mm256_set1_ps(t->hi);
        for (int i = 0; i < MR; i++) {
            float *c = t->c + i * t->ldc;
            __m256 v0 = acc[2 * i], v1 = acc[2 * i + 1];
            if (t->load) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(c));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(c + 8));
            }
            if (t->bias) {
                const __m256 bv = _mm256_broadcast_ss(t->bias + i);
                v0 = _mm256_add_ps(v0, bv);
                v1 = _mm256_add_ps(v1, bv);
            }
            if (t->add) {
                const float *d = t->add + i * t->ldc;
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(d));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(d + 8));
            }
            /* max/min return the second operand when one is NaN: Relu
             * gives 0 for NaN and Clip keeps it, as the reference */
            if (t->clamp == 1) {
                v0 = _mm256_max_ps(v0, lo);
                v1 = _mm256_max_ps(v1, lo);
            } else if (t->clamp == 3) {
                v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, v0));
                v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, v1));
            }
            _mm256_storeu_ps(c, v0);
            _mm256_storeu_ps(c + 8, v1);
        }
        return;
    }
    float acc[MR * NR];
    _mm256_storeu_ps(acc + 0 * NR, c00), _mm256_storeu_ps(acc + 0 * NR + 8, c01);
    _mm256_storeu_ps(acc + 1 * NR, c10), _mm256_storeu_ps(acc + 1 * NR + 8, c11);
    _mm256_storeu_ps(acc + 2 * NR, c20), _mm256_storeu_ps(acc + 2 * NR + 8, c21);
    _mm256_storeu_ps(acc + 3 * NR, c30), _mm256_storeu_ps(acc + 3 * NR + 8, c31);
    _mm256_storeu_ps(acc + 4 * NR, c40), _mm256_storeu_ps(acc + 4 * NR + 8, c41);
    _mm256_storeu_ps(acc + 5 * NR, c50), _mm256_storeu_ps(acc + 5 * NR + 8, c51);
    store_tile(acc, NR, t);
}
#if defined(__AVX512F__)
/* With AVX-512 (16 lanes), two adjacent B panels at once: a 6x32 tile in 12
 * zmm registers, c(6x32) (+)= a(kc x 6) [b0 b1](kc x 32). */
#define NNCC_SGEMM_WIDE 1
static void micro_kernel_wide(int64_t kc, const float *a, const float *b0, const float *b1, const tile *t)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        const __m512 v0 = _mm512_loadu_ps(b0), v1 = _mm512_loadu_ps(b1);
        __m512 av;
        av = _mm512_set1_ps(a[0]);
        c00 = _mm512_fmadd_ps(av, v0, c00);
        c01 = _mm512_fmadd_ps(av, v1, c01);
        av = _mm512_set1_ps(a[1]);
        c10 = _mm512_fmadd_ps(av, v0, c10);
        c11 = _mm512_fmadd_ps(av, v1, c11);
        av = _mm512_set1_ps(a[2]);
        c20 = _mm512_fmadd_ps(av, v0, c20);
        c21 = _mm512_fmadd_ps(av, v1, c21);
        av = _mm512_set1_ps(a[3]);
        c30 = _mm512_fmadd_ps(av, v0, c30);
        c31 = _mm512_fmadd_ps(av, v1, c31);
        av = _mm512_set1_ps(a[4]);
        c40 = _mm512_fmadd_ps(av, v0, c40);
        c41 = _mm512_fmadd_ps(av, v1, c41);
        av = _mm512_set1_ps(a[5]);
        c50 = _mm512_fmadd_ps(av, v0, c50);
        c51 = _mm512_fmadd_ps(av, v1, c51);
        a += MR;
        b0 += NR;
        b1 += NR;
    }
    __m512 acc[2 * MR];
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
    if (t->mr == MR && t->nr == 2 * NR) {
        const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
        for (int i = 0; i < MR; i++) {
            float *c = t->c + i * t->ldc;
            __m512 v0 = acc[2 * i], v1 = acc[2 * i + 1];
            if (t->load) {
                v0 = _mm512_add_ps(v0, _mm512_loadu_ps(c));
                v1 = _mm512_add_ps(v1, _mm512_loadu_ps(c + 16));
            }
            if (t->bias) {
                const __m512 bv = _mm512_set1_ps(t->bias[i]);
                v0 = _mm512_add_ps(v0, bv);
                v1 = _mm512_add_ps(v1, bv);
            }
            if (t->add) {
                const float *d = t->add + i * t->ldc;
                v0 = _mm512_add_ps(v0, _mm512_loadu_ps(d));
                v1 = _mm512_add_ps(v1, _mm512_loadu_ps(d + 16));
            }
            if (t->clamp == 1) {
                v0 = _mm512_max_ps(v0, lo);
                v1 = _mm512_max_ps(v1, lo);
            } else if (t->clamp == 3) {
                v0 = _mm512_min_ps(hi, _mm512_max_ps(lo, v0));
                v1 = _mm512_min_ps(hi, _mm512_max_ps(lo, v1));
            }
            _mm512_storeu_ps(c, v0);
            _mm512_storeu_ps(c + 16, v1);
        }
        return;
    }
    float tmp[MR * 2 * NR];
    for (int i = 0; i < 2 * MR; i++)
        _mm512_storeu_ps(tmp + 16 * i, acc[i]);
    store_tile(tmp, 2 * NR, t);
}
#endif
#elif defined(NNCC_SGEMM_NEON)
/* c(6x16) (+)= a(kc x 6) b(kc x 16): 24 accumulators in q registers, named
 * one by one (an array of them is kept on the stack by gcc -O2, which then
 * loads and stores the whole tile at every k); the 6 values of a are read
 * as one q and one d register and used by lane (fmla v.4s, v.s[lane]). */
static void micro_kernel(int64_t kc, const float *a, const float *b, const tile *t)
{
#define NNCC_NEON_ROW(i) \
    float32x4_t c##i##0 = vdupq_n_f32(0.0f), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0;
    NNCC_NEON_ROW(0) NNCC_NEON_ROW(1) NNCC_NEON_ROW(2) NNCC_NEON_ROW(3) NNCC_NEON_ROW(4) NNCC_NEON_ROW(5)
#undef NNCC_NEON_ROW
    for (int64_t k = 0; k < kc; k++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        const float32x4_t b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
        const float32x4_t a03 = vld1q_f32(a);
        const float32x2_t a45 = vld1_f32(a + 4);
#define NNCC_NEON_FMA(i, av, lane, F)          \
    c##i##0 = F(c##i##0, b0, av, lane);        \
    c##i##1 = F(c##i##1, b1, av, lane);        \
    c##i##2 = F(c##i##2, b2, av, lane);        \
    c##i##3 = F(c##i##3, b3, av, lane);
        NNCC_NEON_FMA(0, a03, 0, vfmaq_laneq_f32)
        NNCC_NEON_FMA(1, a03, 1, vfmaq_laneq_f32)
        NNCC_NEON_FMA(2, a03, 2, vfmaq_laneq_f32)
        NNCC_NEON_FMA(3, a03, 3, vfmaq_laneq_f32)
        NNCC_NEON_FMA(4, a45, 0, vfmaq_lane_f32)
        NNCC_NEON_FMA(5, a45, 1, vfmaq_lane_f32)
#undef NNCC_NEON_FMA
        a += MR;
        b += NR;
    }
    float acc[MR * NR];
#define NNCC_NEON_STORE(i)                       \
    vst1q_f32(acc + (i) * NR + 0, c##i##0);      \
    vst1q_f32(acc + (i) * NR + 4, c##i##1);      \
    vst1q_f32(acc + (i) * NR + 8, c##i##2);      \
    vst1q_f32(acc + (i) * NR + 12, c##i##3);
    NNCC_NEON_STORE(0) NNCC_NEON_STORE(1) NNCC_NEON_STORE(2) NNCC_NEON_STORE(3) NNCC_NEON_STORE(4) NNCC_NEON_STORE(5)
#undef NNCC_NEON_STORE
    store_tile(acc, NR, t);
}
#else
/* Portable: the accumulator tile is a local array; the j loops have a
 * constant trip count so compilers vectorise them. */
static void micro_kernel(int64_t kc, const float *a, const float *b, const tile *t)
{
    float acc[MR * NR];
    for (int i = 0; i < MR * NR; i++)
        acc[i] = 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < MR; i++) {
            const float av = a[i];
            for (int j = 0; j < NR; j++)
                acc[i * NR + j] += av * b[j];
        }
        a += MR;
        b += NR;
    }
    store_tile(acc, NR, t);
}
#endif

int64_t nncc_conv2d_packed_size(const nncc_conv2d_params *p)
{
    const int64_t mg = p->m / p->group, K = (p->c / p->group) * p->kh * p->kw;
    return p->group * ((mg + MR - 1) / MR) * MR * K;
}

void nncc_conv2d_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    const int64_t mg = p->m / p->group, K = (p->c / p->group) * p->kh * p->kw;
    const int64_t panels = (mg + MR - 1) / MR;
    for (int64_t g = 0; g < p->group; g++)
        for (int64_t pi = 0; pi < panels; pi++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t i = 0; i < MR; i++) {
                    const int64_t m = pi * MR + i;
                    *wp++ = m < mg ? w[(g * mg + m) * K + k] : 0.0f;
                }
}

int64_t nncc_conv2d_scratch_size(const nncc_conv2d_params *p)
{
    const int64_t K = (p->c / p->group) * p->kh * p->kw, npix = p->oh * p->ow;
    return min64(K, KC) * min64((npix + NR - 1) / NR * NR, NC) * (p->threads > 1 ? p->threads : 1);
}

/* Packs rows [k0, k0+kc) and columns (pixels) [j0, j0+ncp) of the im2col
 * matrix of the group's input xg(C/group, H, W) into bp[ncp/NR][kc][NR].
 * Pixels at or past OH*OW and taps in the padding are 0. */
static void pack_b_conv(const nncc_conv2d_params *p, const float *xg, int64_t k0, int64_t kc,
                        int64_t j0, int64_t ncp, float *bp)
{
    const int64_t khw = p->kh * p->kw, jend = j0 + ncp;
    for (int64_t kk = 0; kk < kc; kk++) {
        const int64_t k = k0 + kk, c = k / khw, r = k % khw, ky = r / p->kw, kx = r % p->kw;
        const float *xc = xg + c * p->h * p->w;
        const int64_t offy = ky * p->dh - p->pt, offx = kx * p->dw - p->pl;
        /* valid output columns for this tap: 0 <= ox*sw + offx < w */
        int64_t oxlo = offx < 0 ? (-offx + p->sw - 1) / p->sw : 0;
        int64_t oxhi = p->w - offx > 0 ? (p->w - offx + p->sw - 1) / p->sw : 0;
        if (oxhi > p->ow)
            oxhi = p->ow;
        if (oxlo > oxhi)
            oxlo = oxhi;
        float *dst = bp + kk * NR;   /* column j goes to dst[(j-j0)/NR*kc*NR + (j-j0)%NR] */
        int64_t jj = 0;              /* (j - j0) % NR */
        int64_t j = j0, oy = j0 / p->ow, ox = j0 % p->ow;
        while (j < jend) {
            const int64_t run = min64(p->ow - ox, jend - j);
            const int64_t iy = oy * p->sh + offy;
            const float *xr = (oy < p->oh && iy >= 0 && iy < p->h) ? xc + iy * p->w : 0;
            const int64_t end = ox + run;
            /* [ox, a0) and [a1, end) fall in the padding, [a0, a1) reads the row */
            int64_t a0 = xr ? oxlo : end, a1 = xr ? oxhi : end;
            a0 = a0 < ox ? ox : a0 > end ? end : a0;
            a1 = a1 < a0 ? a0 : a1 > end ? end : a1;
            int64_t o = ox;
            while (o < end) {
                /* up to the end of this region or of the current panel row */
                const int64_t stop = o < a0 ? a0 : o < a1 ? a1 : end;
                const int64_t cnt = min64(stop - o, NR - jj);
                float *d = dst + jj;
                if (o >= a0 && o < a1) {
                    const float *s = xr + o * p->sw + offx;
                    if (p->sw == 1) {
                        /* blocks of 8 with a constant trip count: vectorised at -O2 */
                        float *restrict dd = d;
                        const float *restrict ss = s;
                        int64_t q = 0;
                        for (; q + 8 <= cnt; q += 8)
                            for (int l = 0; l < 8; l++)
                                dd[q + l] = ss[q + l];
                        for (; q < cnt; q++)
                            dd[q] = ss[q];
                    } else
                        for (int64_t q = 0; q < cnt; q++)
                            d[q] = s[q * p->sw];
                } else {
                    for (int64_t q = 0; q < cnt; q++)
                        d[q] = 0.0f;
                }
                o += cnt;
                jj += cnt;
                if (jj == NR) {
                    jj = 0;
                    dst += kc * NR;
                }
            }
            j += run;
            oy++;
            ox = 0;
        }
    }
}

void nncc_conv2d_gemm_f32(const nncc_conv2d_params *p, const float *x, const float *wp,
                          const float *b, const float *add, float *y, float *scratch)
{
    const int64_t cg = p->c / p->group, mg = p->m / p->group;
    const int64_t K = cg * p->kh * p->kw, npix = p->oh * p->ow;
    const int64_t panels = (mg + MR - 1) / MR;
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c + g * cg) * p->h * p->w;
            const float *ag = wp + g * panels * MR * K;
            const int64_t yoff = (n * p->m + g * mg) * npix;
            const int64_t nblocks = (npix + NC - 1) / NC;
            /* blocks of NC pixels write disjoint columns of Y: with OpenMP
             * (and p->threads > 1) threads share them, each with its own
             * block of scratch */
#ifdef _OPENMP
            const int nt = p->threads > 1 ? (int)p->threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && nblocks > 1)
#endif
            for (int64_t jb = 0; jb < nblocks; jb++) {
                const int64_t j0 = jb * NC;
                const int64_t nc = min64(NC, npix - j0), ncp = (nc + NR - 1) / NR * NR;
#ifdef _OPENMP
                float *const bp = scratch + (int64_t)omp_get_thread_num() * min64(K, KC) * min64((npix + NR - 1) / NR * NR, NC);
#else
                float *const bp = scratch;
#endif
                for (int64_t k0 = 0; k0 < K; k0 += KC) {
                    const int64_t kc = min64(KC, K - k0);
                    const int last = k0 + kc == K;
                    pack_b_conv(p, xg, k0, kc, j0, ncp, bp);
                    for (int64_t pi = 0; pi < panels; pi++) {
                        const float *a = ag + pi * MR * K + k0 * MR;
                        const int64_t m0 = pi * MR;
                        for (int64_t jp = 0; jp < ncp / NR; jp++) {
                            const int64_t off = yoff + m0 * npix + j0 + jp * NR;
#if defined(NNCC_SGEMM_WIDE)
                            const int wide = jp + 1 < ncp / NR;
#endif
                            tile t;
                            t.c = y + off;
                            t.ldc = npix;
                            t.mr = (int)min64(MR, mg - m0);
                            t.nr = (int)min64(NR, nc - jp * NR);
#if defined(NNCC_SGEMM_WIDE)
                            if (wide)
                                t.nr = (int)min64(2 * NR, nc - jp * NR);
#endif
                            t.load = k0 > 0;
                            t.bias = last && b ? b + g * mg + m0 : 0;
                            t.add = last && add ? add + off : 0;
                            t.clamp = last ? clamp : 0;
                            t.lo = lo;
                            t.hi = hi;
#if defined(NNCC_SGEMM_WIDE)
                            if (wide) {
                                micro_kernel_wide(kc, a, bp + jp * kc * NR, bp + (jp + 1) * kc * NR, &t);
                                jp++;
                                continue;
                            }
#endif
                            micro_kernel(kc, a, bp + jp * kc * NR, &t);
                        }
                    }
                }
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * npix, y);
}

/* ---- Gemm and MatMul with a constant B (nncc_sgemm_f32) ----
 * The same micro-kernels with the roles read the other way: B, the
 * constant, is packed by nncc at compile time into NR-column panels
 * (bp[panel][k][j]), A is packed at run time, MC rows by KC at a time, into
 * MR-row panels. Loops: for each KC block of K, for each MC block of rows:
 * pack A, then for each B panel (its kc x NR block stays in L1) run the A
 * panels (in L2) through the micro-kernel. beta * C is written into Y first
 * and the micro-kernels add onto it (their `load`); Relu/Clip run on the
 * tile of the last K block, other activations over Y afterwards. */

#define MC 96 /* rows of A packed at once: 16 panels, 96 KB at KC = 256 */

int64_t nncc_sgemm_packed_size(int64_t k, int64_t n)
{
    return (n + NR - 1) / NR * NR * k;
}

void nncc_sgemm_pack_b_f32(int64_t k, int64_t n, int32_t trans_b, float alpha, const float *b, float *bp)
{
    const int64_t panels = (n + NR - 1) / NR;
    for (int64_t pj = 0; pj < panels; pj++)
        for (int64_t kk = 0; kk < k; kk++)
            for (int64_t j = 0; j < NR; j++) {
                const int64_t col = pj * NR + j;
                *bp++ = col < n ? alpha * (trans_b ? b[col * k + kk] : b[kk * n + col]) : 0.0f;
            }
}

/* M <= 2 runs the matrix-vector loop, which needs no packed A */
#define GEMV_ROWS 2
/* fewer multiply-adds than this run on one thread: starting and joining
 * the team (a few microseconds) would cost more than it saves */
#define PAR_MACS (1 << 18)

int64_t nncc_sgemm_scratch_size(const nncc_sgemm_params *p)
{
    if (p->m <= GEMV_ROWS)
        return 0;
    return min64(p->k, KC) * min64((p->m + MR - 1) / MR * MR, MC);
}

/* beta * C broadcast to y(M,N) */
static void fill_bias(const nncc_sgemm_params *p, const float *c, float *y)
{
    const int64_t M = p->m, N = p->n;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            const float v = p->bias == NNCC_BIAS_SCALAR ? c[0]
                            : p->bias == NNCC_BIAS_ROW  ? c[j]
                            : p->bias == NNCC_BIAS_COL  ? c[i]
                            : p->bias == NNCC_BIAS_FULL ? c[i * N + j]
                                                        : 0.0f;
            y[i * N + j] = p->beta * v;
        }
}

/* Rows [i0, i0+mc) and columns [k0, k0+kc) of op(A) into ap[panel][kc][MR];
 * rows past the block are 0. */
static void pack_a_gemm(const nncc_sgemm_params *p, const float *a, int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                        float *ap)
{
    const int64_t M = p->m, K = p->k, panels = (mc + MR - 1) / MR;
    for (int64_t pi = 0; pi < panels; pi++) {
        float *dst = ap + pi * kc * MR;
        for (int i = 0; i < MR; i++) {
            const int64_t r = pi * MR + i;
            if (r >= mc) {
                for (int64_t kk = 0; kk < kc; kk++)
                    dst[kk * MR + i] = 0.0f;
            } else if (p->trans_a) {
                for (int64_t kk = 0; kk < kc; kk++)
                    dst[kk * MR + i] = a[(k0 + kk) * M + i0 + r];
            } else {
                const float *src = a + (i0 + r) * K + k0;
                for (int64_t kk = 0; kk < kc; kk++)
                    dst[kk * MR + i] = src[kk];
            }
        }
    }
}

/* acc[0..NR) = sum_k x[k * xs] * b[k][0..NR) over one packed panel, in four
 * independent partial sums (constant trip counts: vectorised at -O2) */
static void gemv_panel(int64_t K, const float *x, int64_t xs, const float *b, float *acc)
{
    float s0[NR], s1[NR], s2[NR], s3[NR];
    for (int j = 0; j < NR; j++)
        s0[j] = s1[j] = s2[j] = s3[j] = 0.0f;
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
        const float x0 = x[k * xs], x1 = x[(k + 1) * xs], x2 = x[(k + 2) * xs], x3 = x[(k + 3) * xs];
        const float *bk = b + k * NR;
        for (int j = 0; j < NR; j++) {
            s0[j] += x0 * bk[j];
            s1[j] += x1 * bk[NR + j];
            s2[j] += x2 * bk[2 * NR + j];
            s3[j] += x3 * bk[3 * NR + j];
        }
    }
    for (; k < K; k++)
        for (int j = 0; j < NR; j++)
            s0[j] += x[k * xs] * b[k * NR + j];
    for (int j = 0; j < NR; j++)
        acc[j] = (s0[j] + s1[j]) + (s2[j] + s3[j]);
}

static void sgemm_one(const nncc_sgemm_params *p, const float *a, const float *bp, const float *c, float *y,
                      float *scratch)
{
    const int64_t M = p->m, N = p->n, K = p->k, panels = (N + NR - 1) / NR;
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    const int biased = p->bias != NNCC_BIAS_NONE && c;
#ifdef _OPENMP
    const int nt = p->threads > 1 && M * N * K >= PAR_MACS ? (int)p->threads : 1;
#endif
    if (biased || K == 0) {
        if (biased)
            fill_bias(p, c, y);
        else
            for (int64_t i = 0; i < M * N; i++)
                y[i] = 0.0f;
    }
    if (M <= GEMV_ROWS && K > 0) {
        for (int64_t i = 0; i < M; i++) {
            const float *x = p->trans_a ? a + i : a + i * K;
            const int64_t xs = p->trans_a ? M : 1;
            float *yr = y + i * N;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && panels > 1)
#endif
            for (int64_t jp = 0; jp < panels; jp++) {
                float acc[NR];
                gemv_panel(K, x, xs, bp + jp * K * NR, acc);
                const int64_t nr = min64(NR, N - jp * NR);
                float *yc = yr + jp * NR;
                for (int64_t j = 0; j < nr; j++) {
                    float v = acc[j] + (biased ? yc[j] : 0.0f);
                    /* NaN as the reference: Relu gives 0, Clip keeps it */
                    if (clamp == 1)
                        v = v > lo ? v : lo;
                    if (clamp == 3) {
                        v = v < lo ? lo : v;
                        v = v > hi ? hi : v;
                    }
                    yc[j] = v;
                }
            }
        }
    } else {
#if defined(NNCC_SGEMM_WIDE)
        const int64_t step = 2; /* pairs of B panels through the 6x32 kernel */
#else
        const int64_t step = 1;
#endif
        const int64_t nq = (panels + step - 1) / step;
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = min64(KC, K - k0);
            const int last = k0 + kc == K;
            for (int64_t i0 = 0; i0 < M; i0 += MC) {
                const int64_t mc = min64(MC, M - i0), ipanels = (mc + MR - 1) / MR;
                pack_a_gemm(p, a, i0, mc, k0, kc, scratch);
                /* B panels write disjoint columns of Y: threads share them
                 * (dynamic: a thread the OS holds back takes fewer) */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic) if (nt > 1 && nq > 1)
#endif
                for (int64_t q = 0; q < nq; q++) {
                    const int64_t jp = q * step;
                    const float *b0 = bp + jp * K * NR + k0 * NR;
                    for (int64_t ip = 0; ip < ipanels; ip++) {
                        /* designated: the fields not named are 0 */
                        tile t = { .c = y + (i0 + ip * MR) * N + jp * NR,
                                   .ldc = N,
                                   .mr = (int)min64(MR, mc - ip * MR),
                                   .nr = (int)min64(NR, N - jp * NR),
                                   .load = k0 > 0 || biased,
                                   .clamp = last ? clamp : 0,
                                   .lo = lo,
                                   .hi = hi };
                        const float *a0 = scratch + ip * kc * MR;
#if defined(NNCC_SGEMM_WIDE)
                        if (jp + 1 < panels) {
                            t.nr = (int)min64(2 * NR, N - jp * NR);
                            micro_kernel_wide(kc, a0, b0, b0 + K * NR, &t);
                            continue;
                        }
#endif
                        micro_kernel(kc, a0, b0, &t);
                    }
                }
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, M * N, y);
}

void nncc_sgemm_f32(const nncc_sgemm_params *p, const float *a, const float *bp, const float *c, float *y,
                    float *scratch)
{
    int64_t idx[NNCC_RT_MAX_RANK] = { 0 };
    for (int64_t t = 0; t < p->batch; t++) {
        int64_t ao = 0, bo = 0;
        for (int64_t d = 0; d < p->rank; d++) {
            ao += idx[d] * p->a_step[d];
            bo += idx[d] * p->b_step[d];
        }
        sgemm_one(p, a + ao, bp + bo, c, y + t * p->m * p->n, scratch);
        for (int64_t d = p->rank - 1; d >= 0; d--) {
            if (++idx[d] < p->dims[d])
                break;
            idx[d] = 0;
        }
    }
}

const char *nncc_sgemm_kernel(void)
{
#if defined(NNCC_SGEMM_WIDE)
    return "AVX-512F";
#elif defined(NNCC_SGEMM_AVX2)
    return "AVX2+FMA";
#elif defined(NNCC_SGEMM_NEON)
    return "NEON";
#else
    return "portable C";
#endif
}
