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

#include <string.h>

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
    /* implicit GEMM over a padded grid (nncc_conv2d_implicit_f32): when gw > 0
     * the tile's columns are consecutive grid positions, from column gx of a
     * grid row gw wide whose first gow columns are output pixels; c and add
     * then point at the tile's first output pixel (its output pixels are
     * consecutive in Y: the grid's padding columns are exactly the gaps) */
    int64_t gw, gow, gx;
} tile;

/* A hint to fetch the cache line at address `addr` (an integer: the address
 * may lie past the end of an array; a prefetch never faults). The packed
 * weights of a layer are read once per output tile, usually from DRAM (a
 * model's weights rarely stay in a shared L3 between inferences), faster
 * than the hardware prefetcher brings them in small maps. */
#if defined(__GNUC__) || defined(__clang__)
#define NNCC_PREFETCH(addr) __builtin_prefetch((const void *)(addr), 0, 3)
#else
#define NNCC_PREFETCH(addr) ((void)0)
#endif
/* The register tile's epilogue is inlined into each micro-kernel so that
 * the accumulators go from registers to Y without a trip through the stack
 * (worth ~10% where K is small, e.g. a 1x1 conv of 16 channels) */
#if defined(__GNUC__) || defined(__clang__)
#define NNCC_TILE_INLINE static inline __attribute__((always_inline))
#else
#define NNCC_TILE_INLINE static inline
#endif
#ifndef NNCC_PF_BYTES
#define NNCC_PF_BYTES 1536 /* how far ahead of its reads a kernel prefetches */
#endif

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

/* store_tile for any tile: on a grid (t->gw > 0), one store_tile per run of
 * the tile's columns that are output pixels of one row. */
static void finish(const float *acc, int lda, const tile *t)
{
    if (!t->gw) {
        store_tile(acc, lda, t);
        return;
    }
    tile s = *t;
    int64_t o = 0; /* output pixels stored so far */
    for (int64_t j = 0, ox = t->gx; j < t->nr;) {
        if (ox >= t->gow) { /* the grid's padding columns: not outputs */
            j += t->gw - ox, ox = 0;
            continue;
        }
        const int seg = (int)min64(t->gow - ox, t->nr - j);
        s.c = t->c + o;
        s.add = t->add ? t->add + o : 0;
        s.nr = seg;
        store_tile(acc + j, lda, &s);
        j += seg, ox += seg, o += seg;
    }
}

#if defined(NNCC_SGEMM_AVX2)
/* Epilogue and store of a 6x16 tile held in acc[2*i], acc[2*i+1] (row i). */
NNCC_TILE_INLINE void finish8(const __m256 *acc, const tile *t)
{
    if (t->mr == MR && t->nr == NR && !t->gw) {
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
    float tmp[MR * NR];
    for (int i = 0; i < 2 * MR; i++)
        _mm256_storeu_ps(tmp + 8 * i, acc[i]);
    finish(tmp, NR, t);
}

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
    __m256 acc[2 * MR];
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
    finish8(acc, t);
}
#if defined(__AVX512F__)
/* With AVX-512 (16 lanes), two adjacent B panels at once: a 6x32 tile in 12
 * zmm registers, c(6x32) (+)= a(kc x 6) [b0 b1](kc x 32). */
#define NNCC_SGEMM_WIDE 1
/* Epilogue and store of a 6x32 tile held in acc[2*i], acc[2*i+1] (row i). */
NNCC_TILE_INLINE void finish16(const __m512 *acc, const tile *t)
{
    if (t->mr == MR && t->nr == 2 * NR && !t->gw) {
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
    if (t->gw && !t->load) {
        /* a grid tile: its output pixels, in order, are consecutive in Y
         * (the grid's padding columns are exactly the gaps), so per half of
         * 16 columns: compress the pixels' lanes together, store them with
         * one masked store (and read the residual the same way) */
        uint32_t m = 0; /* bit j: column j is an output pixel; a run of them per grid row */
        for (int64_t j = 0, ox = t->gx; j < t->nr;) {
            if (ox < t->gow) {
                const int64_t seg = min64(t->gow - ox, t->nr - j);
                m |= (seg >= 32 ? 0xffffffffu : (1u << seg) - 1) << j;
                j += seg, ox += seg;
            } else {
                j += t->gw - ox, ox = 0;
            }
        }
        const __mmask16 keep[2] = { (__mmask16)(m & 0xffffu), (__mmask16)(m >> 16) };
        const int cnt[2] = { __builtin_popcount(m & 0xffffu), __builtin_popcount(m >> 16) };
        const int64_t first[2] = { 0, cnt[0] }; /* from t->c: the first output pixel */
        const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
        for (int i = 0; i < t->mr; i++)
            for (int h = 0; h < 2; h++) {
                if (!cnt[h])
                    continue;
                const __mmask16 st = (__mmask16)((1u << cnt[h]) - 1);
                __m512 v = _mm512_maskz_compress_ps(keep[h], acc[2 * i + h]);
                if (t->bias)
                    v = _mm512_add_ps(v, _mm512_set1_ps(t->bias[i]));
                if (t->add)
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(st, t->add + i * t->ldc + first[h]));
                if (t->clamp == 1)
                    v = _mm512_max_ps(v, lo);
                else if (t->clamp == 3)
                    v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
                _mm512_mask_storeu_ps(t->c + i * t->ldc + first[h], st, v);
            }
        return;
    }
    float tmp[MR * 2 * NR];
    for (int i = 0; i < 2 * MR; i++)
        _mm512_storeu_ps(tmp + 16 * i, acc[i]);
    finish(tmp, 2 * NR, t);
}

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
        NNCC_PREFETCH((uintptr_t)b0 + NNCC_PF_BYTES); /* a Gemm's weights */
        NNCC_PREFETCH((uintptr_t)b1 + NNCC_PF_BYTES);
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
    finish16(acc, t);
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
    finish(acc, NR, t);
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
    finish(acc, NR, t);
}
#endif

/* ---- implicit GEMM for stride-1 convolutions (nncc_conv2d_implicit_f32) ----
 * Micro-kernels that read row k of B at b + off[k] instead of a packed panel:
 * c(6 x TW) = a(K x 6, packed) B(K x TW), B's row k being TW consecutive
 * floats of the (padded) input. TW = 32 with AVX-512, else 16. */
#if defined(NNCC_SGEMM_WIDE)
#define TW (2 * NR)
static void micro_kernel_off(int64_t kc, const float *a, const float *b, const int32_t *off, const tile *t)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        NNCC_PREFETCH((uintptr_t)a + NNCC_PF_BYTES);
        const __m512 v0 = _mm512_loadu_ps(bk), v1 = _mm512_loadu_ps(bk + 16);
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
    }
    __m512 acc[2 * MR];
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
    finish16(acc, t);
}
/* Two A panels (12 output channels) at once: 24 zmm accumulators, each B
 * row loaded once for 24 FMAs instead of 12. t0 and t1 are the tiles of the
 * two panels (same columns). */
#define NNCC_SGEMM_OFF2 1
static void micro_kernel_off2(int64_t kc, const float *a0, const float *a1, const float *b, const int32_t *off,
                              const tile *t0, const tile *t1)
{
#define NNCC_Z2(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps()
    NNCC_Z2(0); NNCC_Z2(1); NNCC_Z2(2); NNCC_Z2(3); NNCC_Z2(4); NNCC_Z2(5);
    NNCC_Z2(6); NNCC_Z2(7); NNCC_Z2(8); NNCC_Z2(9); NNCC_Z2(a); NNCC_Z2(b);
#undef NNCC_Z2
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        NNCC_PREFETCH((uintptr_t)a0 + NNCC_PF_BYTES);
        NNCC_PREFETCH((uintptr_t)a1 + NNCC_PF_BYTES);
        const __m512 v0 = _mm512_loadu_ps(bk), v1 = _mm512_loadu_ps(bk + 16);
        __m512 av;
#define NNCC_F2(i, src)                             \
    av = _mm512_set1_ps(src);                       \
    c##i##0 = _mm512_fmadd_ps(av, v0, c##i##0);     \
    c##i##1 = _mm512_fmadd_ps(av, v1, c##i##1)
        NNCC_F2(0, a0[0]); NNCC_F2(1, a0[1]); NNCC_F2(2, a0[2]);
        NNCC_F2(3, a0[3]); NNCC_F2(4, a0[4]); NNCC_F2(5, a0[5]);
        NNCC_F2(6, a1[0]); NNCC_F2(7, a1[1]); NNCC_F2(8, a1[2]);
        NNCC_F2(9, a1[3]); NNCC_F2(a, a1[4]); NNCC_F2(b, a1[5]);
#undef NNCC_F2
        a0 += MR;
        a1 += MR;
    }
    __m512 acc[2 * MR];
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
    finish16(acc, t0);
    acc[0] = c60, acc[1] = c61, acc[2] = c70, acc[3] = c71, acc[4] = c80, acc[5] = c81;
    acc[6] = c90, acc[7] = c91, acc[8] = ca0, acc[9] = ca1, acc[10] = cb0, acc[11] = cb1;
    finish16(acc, t1);
}
#elif defined(NNCC_SGEMM_AVX2)
#define TW NR
static void micro_kernel_off(int64_t kc, const float *a, const float *b, const int32_t *off, const tile *t)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        NNCC_PREFETCH((uintptr_t)a + NNCC_PF_BYTES);
        const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
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
    }
    __m256 acc[2 * MR];
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
    finish8(acc, t);
}
#elif defined(NNCC_SGEMM_NEON)
#define TW NR
static void micro_kernel_off(int64_t kc, const float *a, const float *b, const int32_t *off, const tile *t)
{
    float32x4_t c[MR][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 4; j++)
            c[i][j] = vdupq_n_f32(0.0f);
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        NNCC_PREFETCH((uintptr_t)a + NNCC_PF_BYTES);
        const float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4);
        const float32x4_t b2 = vld1q_f32(bk + 8), b3 = vld1q_f32(bk + 12);
        for (int i = 0; i < MR; i++) {
            const float32x4_t av = vdupq_n_f32(a[i]);
            c[i][0] = vfmaq_f32(c[i][0], av, b0);
            c[i][1] = vfmaq_f32(c[i][1], av, b1);
            c[i][2] = vfmaq_f32(c[i][2], av, b2);
            c[i][3] = vfmaq_f32(c[i][3], av, b3);
        }
        a += MR;
    }
    float acc[MR * NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 4; j++)
            vst1q_f32(acc + i * NR + 4 * j, c[i][j]);
    finish(acc, NR, t);
}
#else
#define TW NR
static void micro_kernel_off(int64_t kc, const float *a, const float *b, const int32_t *off, const tile *t)
{
    float acc[MR * NR];
    for (int i = 0; i < MR * NR; i++)
        acc[i] = 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        NNCC_PREFETCH((uintptr_t)a + NNCC_PF_BYTES);
        for (int i = 0; i < MR; i++) {
            const float av = a[i];
            for (int j = 0; j < NR; j++)
                acc[i * NR + j] += av * bk[j];
        }
        a += MR;
    }
    finish(acc, NR, t);
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
                            t.gw = t.gow = t.gx = 0;
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

/* ---- implicit GEMM ----
 * With stride 1, the input pixel of output (oy, ox) under tap (ky, kx) is
 * (oy + ky*dh, ox + kx*dw) of the padded input. Lay the padded input of a
 * group out as planes of HG = OH + (KH-1)*dh rows of WG = OW + (KW-1)*dw
 * columns, and number the output "grid" positions q = oy*WG + ox (ox < WG):
 * then row k = (c, ky, kx) of the im2col matrix, at grid position q, is
 * padded[off[k] + q] with off[k] = c*HG*WG + ky*dh*WG + kx*dw. Every row of B
 * is a contiguous run of the padded input, which the micro-kernel reads in
 * place: no im2col, no packing, one copy of the input (none for a 1x1
 * convolution without padding, where the input is the grid). Grid columns
 * ox >= OW are computed and dropped (a waste of (KW-1)*dw/WG).
 * Stride s > 1 (no dilation) becomes the same thing on the input's phases:
 * padded row r = s*oy + ky lies in phase ky % s, at row oy + ky / s of it.
 * The copy splits each channel into SPY x SPX phase planes (SP = min(s, K):
 * the phases some tap reads), plane (py, px) holding padded(py + sh*i,
 * px + sw*j) for i < HG = OH + (KH-1)/sh, j < WG = OW + (KW-1)/sw, and
 * off[k] = ((c*SPY + ky%sh)*SPX + kx%sw)*HG*WG + (ky/sh)*WG + kx/sw.
 * The scratch (floats): off[K] (int32), then either the padded input plus TW
 * zeros (read past the last grid position), or, without the copy, toff[K]
 * and the last, partial tile of B copied out (K x TW, zero-filled) so that no
 * read goes past the input.
 * Threads share the work as blocks of 256 grid positions times groups of
 * output-channel panels, as many groups as keep every thread busy when the
 * output is small (a 7x7 map is one block). */
#define TW_MAX (2 * NR) /* the widest tile on any target: sizes planned by nncc hold for all */

static int implicit_direct(const nncc_conv2d_params *p)
{
    return p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->oh == p->h && p->ow == p->w;
}

/* The padded copy's geometry: phases per channel (spy x spx) and the plane (hg x wg). */
static void implicit_geometry(const nncc_conv2d_params *p, int64_t *spy, int64_t *spx, int64_t *hg, int64_t *wg)
{
    const int64_t ey = (p->kh - 1) * p->dh, ex = (p->kw - 1) * p->dw; /* reach of the taps */
    *spy = p->sh < ey + 1 ? p->sh : ey + 1;
    *spx = p->sw < ex + 1 ? p->sw : ex + 1;
    *hg = p->oh + ey / p->sh;
    *wg = p->ow + ex / p->sw;
}

int64_t nncc_conv2d_implicit_scratch_size(const nncc_conv2d_params *p)
{
    const int64_t cg = p->c / p->group, K = cg * p->kh * p->kw;
    int64_t spy, spx, hg, wg;
    implicit_geometry(p, &spy, &spx, &hg, &wg);
    if (implicit_direct(p))
        return 2 * K + K * TW_MAX;
    return K + cg * spy * spx * hg * wg + TW_MAX;
}

#if defined(NNCC_SGEMM_AVX2)
/* x[0], x[2], ..., x[14] (reads x[0..15]) */
static __m256 load_even8(const float *x)
{
    const __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
}
#endif

/* d[j] = s[2j] for j < n */
static void copy_even(const float *s, int64_t n, float *d)
{
    int64_t j = 0;
#if defined(__AVX512F__)
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(d + j, _mm512_permutex2var_ps(_mm512_loadu_ps(s + 2 * j), even, _mm512_loadu_ps(s + 2 * j + 16)));
#endif
#if defined(NNCC_SGEMM_AVX2)
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(d + j, load_even8(s + 2 * j));
#endif
    for (; j < n; j++)
        d[j] = s[2 * j];
}

/* Plane (c, py, px) of the phase-split padded input: d[i*wg + j] =
 * x(py + sh*i - pt, px + sw*j - pl), 0 outside the input. */
static void implicit_plane(const nncc_conv2d_params *p, const float *xc, int64_t py, int64_t px, int64_t hg,
                           int64_t wg, float *d)
{
    /* columns j in [ja, je) read the input: 0 <= px + sw*j - pl < w */
    const int64_t x0 = px - p->pl;
    int64_t ja = x0 >= 0 ? 0 : (-x0 + p->sw - 1) / p->sw;
    int64_t je = p->w - x0 > 0 ? (p->w - x0 + p->sw - 1) / p->sw : 0;
    je = je < wg ? je : wg;
    ja = ja < je ? ja : je;
    for (int64_t i = 0; i < hg; i++, d += wg) {
        const int64_t iy = py + p->sh * i - p->pt;
        if (iy < 0 || iy >= p->h || ja == je) {
            memset(d, 0, (size_t)wg * sizeof(float));
            continue;
        }
        const float *s = xc + iy * p->w + x0;
        for (int64_t j = 0; j < ja; j++)
            d[j] = 0.0f;
        if (p->sw == 1)
            memcpy(d + ja, s + ja, (size_t)(je - ja) * sizeof(float));
        else if (p->sw == 2) {
            /* the vector loads read s[2j + 1] too: stop them inside the row */
            int64_t nv = min64(je, (p->w - x0) / 2) - ja;
            nv = nv > 0 ? nv : 0;
            copy_even(s + 2 * ja, nv, d + ja);
            for (int64_t j = ja + nv; j < je; j++)
                d[j] = s[2 * j];
        }
        else
            for (int64_t j = ja; j < je; j++)
                d[j] = s[p->sw * j];
        for (int64_t j = je; j < wg; j++)
            d[j] = 0.0f;
    }
}

/* The next tile's grid row and column (TW columns on) */
static void grid_step(int64_t wg, int64_t *gy, int64_t *gx)
{
    for (*gx += TW; *gx >= wg; *gx -= wg)
        ++*gy;
}

/* The output index of the first output pixel at or after grid (gy, gx) */
static int64_t grid_first(int64_t ow, int64_t gy, int64_t gx)
{
    return gx < ow ? gy * ow + gx : (gy + 1) * ow;
}

void nncc_conv2d_implicit_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch)
{
    const int64_t cg = p->c / p->group, mg = p->m / p->group;
    const int64_t K = cg * p->kh * p->kw, npix = p->oh * p->ow, hw = p->h * p->w;
    const int64_t panels = (mg + MR - 1) / MR;
    const int direct = implicit_direct(p);
    int64_t spy, spx, hg, wg;
    implicit_geometry(p, &spy, &spx, &hg, &wg);
    if (direct)
        hg = p->h, wg = p->w;
    const int64_t plane = hg * wg, Q = (p->oh - 1) * wg + p->ow;        /* grid positions used */
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    int32_t *const off = (int32_t *)(void *)scratch, *const toff = off + K;
    float *const pad = scratch + K, *const tail = scratch + 2 * K;
    for (int64_t k = 0; k < K; k++) {
        const int64_t c = k / (p->kh * p->kw), r = k % (p->kh * p->kw);
        const int64_t dy = (r / p->kw) * p->dh, dx = (r % p->kw) * p->dw;
        off[k] = (int32_t)(((c * spy + dy % p->sh) * spx + dx % p->sw) * plane + (dy / p->sh) * wg + dx / p->sw);
    }
    const int64_t ntiles = (Q + TW - 1) / TW, tq = (Q / TW) * TW; /* a partial tile starts at tq < Q */
    if (direct)
        for (int64_t k = 0; k < K; k++)
            toff[k] = (int32_t)(k * TW);
    /* blocks of at most 256 grid positions, their tiles shared out evenly
     * (9 tiles: 5 and 4, not 8 and 1) */
    const int64_t nblocks = (ntiles + 256 / TW - 1) / (256 / TW);
#ifdef _OPENMP
    const int nt = p->threads > 1 ? (int)p->threads : 1;
#else
    const int nt = 1;
#endif
    /* groups of panel pairs per block, as even as division makes them:
     * enough work items for 4 per thread, a whole number per thread where
     * the pairs allow */
    const int64_t pairs = (panels + 1) / 2;
    int64_t npg = nt > 1 ? (4 * nt + nblocks - 1) / nblocks : 1;
    while (npg < pairs && nblocks * npg % nt)
        npg++;
    npg = npg < pairs ? npg : pairs;
    const int64_t nitems = nblocks * npg, nplanes = cg * spy * spx;
    if (!direct)
        for (int64_t s = 0; s < TW_MAX; s++) /* read past the last grid position */
            pad[nplanes * plane + s] = 0.0f;
    /* one team for the whole call: the copy, then the tiles (a fork and join
     * cost microseconds, as much as a small layer) */
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c + g * cg) * hw;
            const float *ag = wp + g * panels * MR * K;
            const int64_t yoff = (n * p->m + g * mg) * npix;
            const float *src = direct ? xg : pad;
            if (!direct) {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                for (int64_t pl = 0; pl < nplanes; pl++)
                    implicit_plane(p, xg + pl / (spy * spx) * hw, pl / spx % spy, pl % spx, hg, wg, pad + pl * plane);
            } else if (tq < Q) {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                for (int64_t k = 0; k < K; k++) {
                    const float *s = xg + k * hw + tq;
                    float *d = tail + k * TW;
#if defined(__AVX512F__)
                    /* Q - tq < TW <= 32 columns, by masked loads */
                    const uint32_t m = (1u << (Q - tq)) - 1;
                    _mm512_storeu_ps(d, _mm512_maskz_loadu_ps((__mmask16)(m & 0xffffu), s));
                    if (TW > 16)
                        _mm512_storeu_ps(d + 16, _mm512_maskz_loadu_ps((__mmask16)(m >> 16), s + 16));
#else
                    for (int64_t j = 0; j < TW; j++)
                        d[j] = tq + j < Q ? s[j] : 0.0f;
#endif
                }
            }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (int64_t it = 0; it < nitems; it++) {
                const int64_t jb = it / npg, pg = it % npg;
                const int64_t t0 = jb * ntiles / nblocks, t1 = (jb + 1) * ntiles / nblocks;
                const int64_t pend = min64((pg + 1) * pairs / npg * 2, panels);
                for (int64_t pi = pg * pairs / npg * 2; pi < pend; pi++) {
                    const float *a = ag + pi * MR * K;
                    const int64_t m0 = pi * MR, cbase = yoff + m0 * npix;
#if defined(NNCC_SGEMM_OFF2)
                    /* two panels at once where two remain (not the tail tile of a
                     * direct 1x1, which reads another B) */
                    if (pi + 1 < pend) {
                        for (int64_t ti = t0, gy = t0 * TW / wg, gx = t0 * TW % wg; ti < t1;
                             ti++, grid_step(wg, &gy, &gx)) {
                            const int64_t q0 = ti * TW, fo = grid_first(p->ow, gy, gx);
                            if (direct && q0 + TW > Q) {
                                for (int h = 0; h < 2; h++) {
                                    tile t;
                                    const int64_t mh = m0 + h * MR, ch = yoff + mh * npix;
                                    t.ldc = npix, t.mr = (int)min64(MR, mg - mh), t.nr = (int)min64(TW, Q - q0);
                                    t.load = 0, t.bias = b ? b + g * mg + mh : 0, t.clamp = clamp, t.lo = lo, t.hi = hi;
                                    t.c = y + ch + q0, t.add = add ? add + ch + q0 : 0, t.gw = t.gow = t.gx = 0;
                                    micro_kernel_off(K, a + h * MR * K, tail, toff, &t);
                                }
                                continue;
                            }
                            tile tt[2];
                            for (int h = 0; h < 2; h++) {
                                tile *t = &tt[h];
                                const int64_t mh = m0 + h * MR, ch = yoff + mh * npix;
                                t->ldc = npix, t->mr = (int)min64(MR, mg - mh), t->nr = (int)min64(TW, Q - q0);
                                t->load = 0, t->bias = b ? b + g * mg + mh : 0, t->clamp = clamp, t->lo = lo, t->hi = hi;
                                if (direct) {
                                    t->c = y + ch + q0, t->add = add ? add + ch + q0 : 0, t->gw = t->gow = t->gx = 0;
                                } else {
                                    t->c = y + ch + fo, t->add = add ? add + ch + fo : 0;
                                    t->gw = wg, t->gow = p->ow, t->gx = gx;
                                }
                            }
                            micro_kernel_off2(K, a, a + MR * K, src + q0, off, &tt[0], &tt[1]);
                        }
                        pi++;
                        continue;
                    }
#endif
                    for (int64_t ti = t0, gy = t0 * TW / wg, gx = t0 * TW % wg; ti < t1; ti++, grid_step(wg, &gy, &gx)) {
                        const int64_t q0 = ti * TW, fo = grid_first(p->ow, gy, gx);
                        tile t;
                        t.ldc = npix;
                        t.mr = (int)min64(MR, mg - m0);
                        t.nr = (int)min64(TW, Q - q0);
                        t.load = 0;
                        t.bias = b ? b + g * mg + m0 : 0;
                        t.clamp = clamp;
                        t.lo = lo;
                        t.hi = hi;
                        if (direct) {
                            t.c = y + cbase + q0;
                            t.add = add ? add + cbase + q0 : 0;
                            t.gw = t.gow = t.gx = 0;
                            if (q0 + TW > Q)
                                micro_kernel_off(K, a, tail, toff, &t);
                            else
                                micro_kernel_off(K, a, src + q0, off, &t);
                        } else {
                            t.c = y + cbase + fo;
                            t.add = add ? add + cbase + fo : 0;
                            t.gw = wg;
                            t.gow = p->ow;
                            t.gx = gx;
                            micro_kernel_off(K, a, src + q0, off, &t);
                        }
                    }
                }
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * npix, y);
}

/* ---- Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions ----
 * Each 2x2 block of outputs of a channel comes from a 4x4 tile of the
 * padded input (tiles overlap by 2): Y = A^T [sum_c U_c (.) V_c] A with
 * V = B^T d B the transformed input tile and U = G g G^T the transformed
 * 3x3 filter (computed by nncc at compile time, in double, then rounded):
 *     G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
 * The sum over c at each of the 16 positions xi of the tile is a matrix
 * product M_xi(M, T) = U_xi(M, C) V_xi(C, T) over the T tiles, run by the
 * implicit-GEMM micro-kernels (row c of V_xi at V_xi + c*TP): 16 GEMMs with
 * 4/9 of the direct convolution's multiply-adds, plus the two transforms.
 * Scratch (floats): V[16][C][TP], M[16][M][TP] (TP = T rounded up to a whole
 * tile of columns), off[C] (int32), one zero-padded input plane.
 * The weights: per xi, U_xi packed as nncc_conv2d_pack_f32 packs a 1x1 weight. */
static void wino_geometry(const nncc_conv2d_params *p, int64_t *th, int64_t *tw, int64_t *tp, int64_t *hp,
                          int64_t *wpd)
{
    *th = (p->oh + 1) / 2, *tw = (p->ow + 1) / 2;
    *tp = (*th * *tw + TW_MAX - 1) / TW_MAX * TW_MAX;
    *hp = 2 * *th + 2, *wpd = 2 * *tw + 2;
}

int64_t nncc_conv2d_winograd_packed_size(const nncc_conv2d_params *p)
{
    return 16 * ((p->m + MR - 1) / MR) * MR * p->c;
}

void nncc_conv2d_winograd_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    static const double G[4][3] = { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };
    const int64_t panels = (p->m + MR - 1) / MR;
    for (int xi = 0; xi < 16; xi++) {
        const int r = xi / 4, s = xi % 4;
        float *d = wp + xi * panels * MR * p->c;
        for (int64_t pi = 0; pi < panels; pi++)
            for (int64_t c = 0; c < p->c; c++)
                for (int64_t i = 0; i < MR; i++) {
                    const int64_t m = pi * MR + i;
                    double u = 0.0;
                    if (m < p->m) {
                        const float *g = w + (m * p->c + c) * 9;
                        for (int a = 0; a < 3; a++)
                            for (int b = 0; b < 3; b++)
                                u += G[r][a] * (double)g[a * 3 + b] * G[s][b];
                    }
                    *d++ = (float)u;
                }
    }
}

int64_t nncc_conv2d_winograd_scratch_size(const nncc_conv2d_params *p)
{
    int64_t th, tw, tp, hp, wpd;
    wino_geometry(p, &th, &tw, &tp, &hp, &wpd);
    return 16 * p->c * tp + 16 * p->m * tp + p->c + hp * wpd + 32;
}


/* V = B^T d B for the tile at pl (rows wpd apart) into v[xi * vs] */
static void wino_in1(const float *pl, int64_t wpd, float *v, int64_t vs)
{
    float t[4][4];
    for (int j = 0; j < 4; j++) {
        const float d0 = pl[j], d1 = pl[wpd + j], d2 = pl[2 * wpd + j], d3 = pl[3 * wpd + j];
        t[0][j] = d0 - d2, t[1][j] = d1 + d2, t[2][j] = d2 - d1, t[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) {
        v[(i * 4 + 0) * vs] = t[i][0] - t[i][2];
        v[(i * 4 + 1) * vs] = t[i][1] + t[i][2];
        v[(i * 4 + 2) * vs] = t[i][2] - t[i][1];
        v[(i * 4 + 3) * vs] = t[i][1] - t[i][3];
    }
}

void nncc_conv2d_winograd_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch)
{
    int64_t th, tw, tp, hp, wpd;
    wino_geometry(p, &th, &tw, &tp, &hp, &wpd);
    const int64_t C = p->c, M = p->m, T = th * tw, hw = p->h * p->w, npix = p->oh * p->ow;
    const int64_t panels = (M + MR - 1) / MR;
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    float *const V = scratch, *const Mb = V + 16 * C * tp;
    int32_t *const off = (int32_t *)(void *)(Mb + 16 * M * tp);
    float *const P = Mb + 16 * M * tp + C;
    for (int64_t c = 0; c < C; c++)
        off[c] = (int32_t)(c * tp);
    for (int64_t s = hp * wpd; s < hp * wpd + 32; s++)
        P[s] = 0.0f;
    for (int64_t n = 0; n < p->n; n++) {
        /* 1. input transform, channel by channel through a zero-padded plane */
        for (int64_t c = 0; c < C; c++) {
            const float *xc = x + (n * C + c) * hw;
            for (int64_t r = 0; r < hp; r++) {
                const int64_t iy = r - p->pt;
                for (int64_t s = 0; s < wpd; s++) {
                    const int64_t ix = s - p->pl;
                    P[r * wpd + s] = iy >= 0 && iy < p->h && ix >= 0 && ix < p->w ? xc[iy * p->w + ix] : 0.0f;
                }
            }
            float *vc = V + c * tp;
            for (int64_t ty = 0; ty < th; ty++) {
                int64_t tx = 0;
#if defined(NNCC_SGEMM_AVX2)
                for (; tx + 8 <= tw; tx += 8) { /* 8 tiles of a row at once */
                    const float *pl = P + 2 * ty * wpd + 2 * tx;
                    __m256 t[4][4];
                    for (int j = 0; j < 4; j++) {
                        const __m256 d0 = load_even8(pl + j), d1 = load_even8(pl + wpd + j);
                        const __m256 d2 = load_even8(pl + 2 * wpd + j), d3 = load_even8(pl + 3 * wpd + j);
                        t[0][j] = _mm256_sub_ps(d0, d2), t[1][j] = _mm256_add_ps(d1, d2);
                        t[2][j] = _mm256_sub_ps(d2, d1), t[3][j] = _mm256_sub_ps(d1, d3);
                    }
                    float *v = vc + ty * tw + tx;
                    for (int i = 0; i < 4; i++) {
                        _mm256_storeu_ps(v + (i * 4 + 0) * C * tp, _mm256_sub_ps(t[i][0], t[i][2]));
                        _mm256_storeu_ps(v + (i * 4 + 1) * C * tp, _mm256_add_ps(t[i][1], t[i][2]));
                        _mm256_storeu_ps(v + (i * 4 + 2) * C * tp, _mm256_sub_ps(t[i][2], t[i][1]));
                        _mm256_storeu_ps(v + (i * 4 + 3) * C * tp, _mm256_sub_ps(t[i][1], t[i][3]));
                    }
                }
#endif
                for (; tx < tw; tx++)
                    wino_in1(P + 2 * ty * wpd + 2 * tx, wpd, vc + ty * tw + tx, C * tp);
            }
            for (int64_t t = T; t < tp; t++) /* columns past the last tile: zeros */
                for (int xi = 0; xi < 16; xi++)
                    vc[xi * C * tp + t] = 0.0f;
        }
        /* 2. M_xi = U_xi V_xi, 16 products */
        const int64_t ntiles = tp / TW, tb = 256 / TW, nblocks = (ntiles + tb - 1) / tb;
        for (int xi = 0; xi < 16; xi++) {
            const float *ax = wp + xi * panels * MR * C, *vx = V + xi * C * tp;
            float *mx = Mb + xi * M * tp;
#ifdef _OPENMP
            const int nt = p->threads > 1 ? (int)p->threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && nblocks > 1)
#endif
            for (int64_t jb = 0; jb < nblocks; jb++) {
                const int64_t t0 = jb * tb, t1 = min64(t0 + tb, ntiles);
                for (int64_t pi = 0; pi < panels; pi++) {
                    tile tt[2];
                    const int two = 0
#if defined(NNCC_SGEMM_OFF2)
                                    + (pi + 1 < panels)
#endif
                        ;
                    for (int64_t ti = t0; ti < t1; ti++) {
                        const int64_t q0 = ti * TW;
                        for (int h = 0; h <= two; h++) {
                            tile *t = &tt[h];
                            const int64_t m0 = (pi + h) * MR;
                            t->c = mx + m0 * tp + q0, t->ldc = tp;
                            t->mr = (int)min64(MR, M - m0), t->nr = TW;
                            t->load = 0, t->bias = 0, t->add = 0, t->clamp = 0, t->lo = t->hi = 0.0f;
                            t->gw = t->gow = t->gx = 0;
                        }
#if defined(NNCC_SGEMM_OFF2)
                        if (two) {
                            micro_kernel_off2(C, ax + pi * MR * C, ax + (pi + 1) * MR * C, vx + q0, off, &tt[0], &tt[1]);
                            continue;
                        }
#endif
                        micro_kernel_off(C, ax + pi * MR * C, vx + q0, off, &tt[0]);
                    }
                    pi += two;
                }
            }
        }
        /* 3. output transform Y = A^T M A, bias, residual, Relu/Clip */
        for (int64_t m = 0; m < M; m++) {
            const float *mm = Mb + m * tp;
            const float bias = b ? b[m] : 0.0f;
            float *ym = y + (n * M + m) * npix;
            const float *am = add ? add + (n * M + m) * npix : 0;
            for (int64_t ty = 0; ty < th; ty++) {
                const int64_t oy = 2 * ty;
                int64_t tx = 0;
#if defined(NNCC_SGEMM_AVX2)
                /* 8 tiles = 16 output columns of two rows, all inside the output */
                for (; oy + 1 < p->oh && 2 * tx + 16 <= p->ow; tx += 8) {
                    const float *q = mm + ty * tw + tx;
                    __m256 s0[4], s1[4];
                    for (int j = 0; j < 4; j++) {
                        const __m256 m0 = _mm256_loadu_ps(q + (0 + j) * M * tp), m1 = _mm256_loadu_ps(q + (4 + j) * M * tp);
                        const __m256 m2 = _mm256_loadu_ps(q + (8 + j) * M * tp), m3 = _mm256_loadu_ps(q + (12 + j) * M * tp);
                        s0[j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                        s1[j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
                    }
                    const __m256 bv = _mm256_set1_ps(bias);
                    __m256 r[2][2];
                    r[0][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]), bv);
                    r[0][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]), bv);
                    r[1][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]), bv);
                    r[1][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]), bv);
                    for (int i = 0; i < 2; i++) {
                        float *yr = ym + (oy + i) * p->ow + 2 * tx;
                        __m256 e = r[i][0], o = r[i][1];
                        if (am) {
                            const float *ar = am + (oy + i) * p->ow + 2 * tx;
                            e = _mm256_add_ps(e, load_even8(ar));
                            o = _mm256_add_ps(o, _mm256_setr_ps(ar[1], ar[3], ar[5], ar[7], ar[9], ar[11], ar[13], ar[15]));
                        }
                        /* max/min return the second operand for a NaN: Relu
                         * gives 0, Clip keeps it, as the reference */
                        if (clamp == 1) {
                            e = _mm256_max_ps(e, _mm256_set1_ps(lo));
                            o = _mm256_max_ps(o, _mm256_set1_ps(lo));
                        } else if (clamp == 3) {
                            e = _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), e));
                            o = _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), o));
                        }
                        const __m256 l = _mm256_unpacklo_ps(e, o), h = _mm256_unpackhi_ps(e, o);
                        _mm256_storeu_ps(yr, _mm256_permute2f128_ps(l, h, 0x20));
                        _mm256_storeu_ps(yr + 8, _mm256_permute2f128_ps(l, h, 0x31));
                    }
                }
#endif
                for (; tx < tw; tx++) {
                    const float *q = mm + ty * tw + tx;
                    float s0[4], s1[4];
                    for (int j = 0; j < 4; j++) {
                        const float m0 = q[(0 + j) * M * tp], m1 = q[(4 + j) * M * tp];
                        const float m2 = q[(8 + j) * M * tp], m3 = q[(12 + j) * M * tp];
                        s0[j] = m0 + m1 + m2;
                        s1[j] = m1 - m2 - m3;
                    }
                    const float r[2][2] = { { s0[0] + s0[1] + s0[2], s0[1] - s0[2] - s0[3] },
                                            { s1[0] + s1[1] + s1[2], s1[1] - s1[2] - s1[3] } };
                    for (int i = 0; i < 2 && oy + i < p->oh; i++)
                        for (int j = 0; j < 2 && 2 * tx + j < p->ow; j++) {
                            const int64_t o = (oy + i) * p->ow + 2 * tx + j;
                            float v = r[i][j] + bias;
                            if (am)
                                v += am[o];
                            if (clamp == 1)
                                v = v > lo ? v : lo;
                            if (clamp == 3) {
                                v = v < lo ? lo : v;
                                v = v > hi ? hi : v;
                            }
                            ym[o] = v;
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
/* fewer multiply-adds than this run on one thread: starting and joining the
 * team costs about half a microsecond with two threads, about what 64K
 * multiply-adds take */
#define PAR_MACS (1 << 16)

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
        int64_t ao, bo;
        nncc_batch_next(p->rank, p->dims, p->a_step, p->b_step, idx, &ao, &bo);
        sgemm_one(p, a + ao, bp + bo, c, y + t * p->m * p->n, scratch);
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
