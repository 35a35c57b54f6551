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
#define NNCC_PREFETCH_W(addr) __builtin_prefetch((const void *)(addr), 1, 3)
#define NNCC_PREFETCH_L2(addr) __builtin_prefetch((const void *)(addr), 0, 2)
#else
#define NNCC_PREFETCH(addr) ((void)0)
#define NNCC_PREFETCH_W(addr) ((void)0)
#define NNCC_PREFETCH_L2(addr) ((void)0)
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

/* A fused Relu (clamp 1: max with lo) or Clip (3: into [lo, hi]) on one
 * value, NaN as the reference: Relu gives 0, Clip keeps it */
static inline float clamp_act(float v, int clamp, float lo, float hi)
{
    if (clamp == 1)
        v = v > lo ? v : lo;
    if (clamp == 3) {
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
    }
    return v;
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
            c[j] = clamp_act(v, t->clamp, t->lo, t->hi);
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
    if (t->nr == NR && !t->gw) { /* full width; the panel's last rows may be missing */
        const __m256 lo = _mm256_set1_ps(t->lo), hi = _mm256_set1_ps(t->hi);
        for (int i = 0; i < t->mr; i++) {
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
/* bit j: column j of a grid tile is an output pixel (a run of them per grid row) */
static inline uint32_t grid_cols(const tile *t)
{
    uint32_t m = 0;
    for (int64_t j = 0, ox = t->gx; j < t->nr;) {
        if (ox < t->gow) {
            const int64_t seg = min64(t->gow - ox, t->nr - j);
            m |= (seg >= 32 ? 0xffffffffu : (1u << seg) - 1) << j;
            j += seg, ox += seg;
        } else {
            j += t->gw - ox, ox = 0;
        }
    }
    return m;
}

NNCC_TILE_INLINE void finish16(const __m512 *acc, const tile *t)
{
    const uint32_t cols = t->gw ? grid_cols(t) : t->nr >= 32 ? 0xffffffffu : (1u << t->nr) - 1;
    if ((cols & (cols + 1)) == 0) {
        /* the tile's output pixels are its first columns (a plain tile, or
         * a grid tile inside one grid row): rows past the panel's last are
         * skipped, columns past the last pixel masked off (partial panels
         * and tiles through the scalar store cost as much as the multiplies
         * where K is small: 1x1 32 -> 16 at 28x28 8.1 -> 4.9 us) */
        const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
        const __mmask16 k0 = (__mmask16)(cols & 0xffffu), k1 = (__mmask16)(cols >> 16);
        for (int i = 0; i < t->mr; i++) {
            float *c = t->c + i * t->ldc;
            __m512 v0 = acc[2 * i], v1 = acc[2 * i + 1];
            if (t->load) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, c));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, c + 16));
            }
            if (t->bias) {
                const __m512 bv = _mm512_set1_ps(t->bias[i]);
                v0 = _mm512_add_ps(v0, bv);
                v1 = _mm512_add_ps(v1, bv);
            }
            if (t->add) {
                const float *d = t->add + i * t->ldc;
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, d));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, d + 16));
            }
            if (t->clamp == 1) {
                v0 = _mm512_max_ps(v0, lo);
                v1 = _mm512_max_ps(v1, lo);
            } else if (t->clamp == 3) {
                v0 = _mm512_min_ps(hi, _mm512_max_ps(lo, v0));
                v1 = _mm512_min_ps(hi, _mm512_max_ps(lo, v1));
            }
            _mm512_mask_storeu_ps(c, k0, v0);
            _mm512_mask_storeu_ps(c + 16, k1, v1);
        }
        return;
    }
    if (!t->load) {
        /* a grid tile across grid rows: its output pixels, in order, are
         * consecutive in Y (the grid's padding columns are exactly the
         * gaps), so per half of 16 columns: gather the pixels' lanes
         * together (a permute whose index, the pixels' lane numbers, is
         * found once per tile: cheaper than a compress per row), store them
         * with one masked store (and read the residual the same way) */
        const uint32_t m = cols;
        const __mmask16 keep[2] = { (__mmask16)(m & 0xffffu), (__mmask16)(m >> 16) };
        const int cnt[2] = { __builtin_popcount(m & 0xffffu), __builtin_popcount(m >> 16) };
        const int64_t first[2] = { 0, cnt[0] }; /* from t->c: the first output pixel */
        const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m512i pick[2] = { _mm512_maskz_compress_epi32(keep[0], lane),
                                  _mm512_maskz_compress_epi32(keep[1], lane) };
        const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
        for (int i = 0; i < t->mr; i++)
            for (int h = 0; h < 2; h++) {
                if (!cnt[h])
                    continue;
                const __mmask16 st = (__mmask16)((1u << cnt[h]) - 1);
                __m512 v = _mm512_permutexvar_ps(pick[h], acc[2 * i + h]);
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
/* B's rows are K streams (a 1x1's input planes) that the hardware's
 * prefetchers lose track of: each step fetches its row of the tile two
 * tiles on (96 -> 24 channels at 56x56: 66 -> 62 us; no change where B
 * is in L1, as the second pair of panels on a block) */
#define B_PF (2 * TW)
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
        NNCC_PREFETCH(bk + B_PF);
        NNCC_PREFETCH(bk + B_PF + 16);
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
        NNCC_PREFETCH(bk + B_PF);
        NNCC_PREFETCH(bk + B_PF + 16);
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

/* The weight (M, K) of each group in panels of `width` output channels
 * stored k-major, wp[group][panel][k][i], rows past the group's last zero:
 * MR rows for the implicit GEMM and im2col, TC columns for implicit-t */
static int64_t panels_size(const nncc_conv2d_params *p, int64_t width)
{
    const int64_t mg = p->m / p->group, K = (p->c / p->group) * p->kh * p->kw;
    return p->group * ((mg + width - 1) / width) * width * K;
}

static void pack_panels(const nncc_conv2d_params *p, const float *w, float *wp, int64_t width)
{
    const int64_t mg = p->m / p->group, K = (p->c / p->group) * p->kh * p->kw;
    const int64_t panels = (mg + width - 1) / width;
    for (int64_t g = 0; g < p->group; g++)
        for (int64_t pi = 0; pi < panels; pi++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t i = 0; i < width; i++) {
                    const int64_t m = pi * width + i;
                    *wp++ = m < mg ? w[(g * mg + m) * K + k] : 0.0f;
                }
}

int64_t nncc_conv2d_packed_size(const nncc_conv2d_params *p)
{
    return panels_size(p, MR);
}

void nncc_conv2d_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    pack_panels(p, w, wp, MR);
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
             * (and p->threads > 1) threads share them (nncc_par), each with
             * its own block of scratch */
#ifdef _OPENMP
            const int nt = p->threads > 1 ? (int)p->threads : 1;
#else
            const int nt = 1;
#endif
            nncc_par par;
            nncc_par_init(&par, nt, nblocks);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1 && nblocks > 1)
#endif
            for (int64_t me = nncc_par_me(), run = 0, jb; (jb = nncc_par_take(&par, me, &run)) >= 0;) {
                const int64_t j0 = jb * NC;
                const int64_t nc = min64(NC, npix - j0), ncp = (nc + NR - 1) / NR * NR;
                float *const bp = scratch + me * min64(K, KC) * min64((npix + NR - 1) / NR * NR, NC);
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

/* A direct 1x1 with many output channels and a long K copies each tile's
 * K x TW input block into a per-thread buffer, then runs all its panels on
 * that: in place, row k of a tile lies at k * H * W, and at strides of a
 * multiple of 1 KB (hw = 512: 2 KB) every row falls in the same few sets of
 * L1 and L2, so the rows were fetched from L3 again for every pair of
 * panels. The copy is paid once per tile and thread, against at least 16
 * pairs of panels. One thread on a Xeon (AVX-512, 2 MB L2), alternated:
 * 512x512x512 130-134 -> 147-155 GFLOP/s; 512 -> 512 channels at 32x32
 * 70 -> 147. The copy fetches the row 16 ahead of the one it copies;
 * the outputs of the next pair of panels are fetched for writing. */
static int implicit_pack(const nncc_conv2d_params *p)
{
    const int64_t K = p->c / p->group;
    return implicit_direct(p) && K >= 128 && p->m / p->group >= 32 * NNCC_GEMM_MR;
}

int64_t nncc_conv2d_implicit_scratch_size(const nncc_conv2d_params *p)
{
    const int64_t cg = p->c / p->group, K = cg * p->kh * p->kw;
    int64_t spy, spx, hg, wg;
    implicit_geometry(p, &spy, &spx, &hg, &wg);
    if (implicit_direct(p))
        return 2 * K + K * TW_MAX * (1 + (implicit_pack(p) ? (p->threads > 1 ? p->threads : 1) : 0));
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
        _mm512_storeu_ps(d + j,
                         _mm512_permutex2var_ps(_mm512_loadu_ps(s + 2 * j), even, _mm512_loadu_ps(s + 2 * j + 16)));
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

/* off[k]: where row k = (c, ky, kx) of the im2col matrix starts in the
 * phase-split padded copy (see above), or in the input itself for a direct
 * 1x1 (spy = spx = 1, plane = H*W). Computed at every call, by one thread:
 * the KH*KW offsets of channel 0, then each channel's plus its planes'
 * stride (without divisions per row: K = 960 took 7 us with them). */
static void implicit_offsets(const nncc_conv2d_params *p, int64_t spy, int64_t spx, int64_t plane, int64_t wg,
                             int32_t *off)
{
    const int64_t cg = p->c / p->group, khw = p->kh * p->kw, cstep = spy * spx * plane;
    for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++) {
            const int64_t dy = ky * p->dh, dx = kx * p->dw;
            off[ky * p->kw + kx] =
                (int32_t)(((dy % p->sh) * spx + dx % p->sw) * plane + (dy / p->sh) * wg + dx / p->sw);
        }
    for (int64_t c = 1; c < cg; c++)
        for (int64_t r = 0; r < khw; r++)
            off[c * khw + r] = (int32_t)(off[r] + c * cstep);
}

/* The phase-split padded copy of one group's input xg into pad, its planes
 * shared among the threads of the enclosing parallel region */
static void implicit_copy(const nncc_conv2d_params *p, const float *xg, int64_t spy, int64_t spx, int64_t hg,
                          int64_t wg, float *pad)
{
    const int64_t nplanes = p->c / p->group * spy * spx, hw = p->h * p->w;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t pl = 0; pl < nplanes; pl++)
        implicit_plane(p, xg + pl / (spy * spx) * hw, pl / spx % spy, pl % spx, hg, wg, pad + pl * hg * wg);
}

/* The next tile's grid row and column (TW columns on) */
static void grid_step(int64_t wg, int64_t *gy, int64_t *gx)
{
    for (*gx += TW; *gx >= wg; *gx -= wg)
        ++*gy;
}

/* Where tile ti of a grid lies: at grid position q0, grid row gy, column
 * gx. Tiles are TW consecutive grid positions, across grid rows; or, "by
 * rows" (tpr > 0), each grid row's output columns in tpr tiles that start
 * at columns 0, TW, ...: where TW * tpr <= the grid's width (e.g. a 3x3 over
 * 32 columns: one tile of 32 pixels a row, not tiles across the rows' 2
 * padding columns), a tile never holds a padding column between pixels,
 * so its epilogue is a plain store. */
typedef struct {
    int64_t gy, gx, q0;
} tile_at;

static inline void tile_start(tile_at *w, int64_t ti, int64_t wg, int64_t tpr)
{
    w->gy = tpr ? ti / tpr : ti * TW / wg;
    w->gx = tpr ? ti % tpr * TW : ti * TW % wg;
    w->q0 = w->gy * wg + w->gx;
}

static inline void tile_next(tile_at *w, int64_t wg, int64_t tpr)
{
    if (!tpr)
        grid_step(wg, &w->gy, &w->gx);
    else if ((w->gx += TW) >= tpr * TW)
        w->gx = 0, w->gy++;
    w->q0 = w->gy * wg + w->gx;
}

/* The output index of the first output pixel at or after grid (gy, gx) */
static int64_t grid_first(int64_t ow, int64_t gy, int64_t gx)
{
    return gx < ow ? gy * ow + gx : (gy + 1) * ow;
}

/* What every output tile of one image and group shares (nncc_conv2d_implicit_f32) */
typedef struct {
    tile base;           /* ldc, load, clamp, lo, hi, gw, gow */
    float *y;            /* the group's first output channel */
    const float *add;    /* the same in the residual, or NULL */
    const float *bias;   /* the group's first bias, or NULL */
    int64_t npix, mg, Q; /* output pixels, channels of the group, grid positions used */
    int direct;          /* a 1x1 read in place: tiles are plain runs of pixels */
} implicit_out;

/* A hint to fetch, for writing, the output lines of the tile after t (the
 * next 32 pixels of each row): a large output (a 1x1 expanding 16 -> 96
 * channels at 112x112 writes 4.8 MB) is not in cache, and the stores of
 * many channel planes at once were waiting for their lines (MobileNetV2's
 * 16 -> 96 conv: ~420 -> ~320 us, SqueezeNet's first conv ~440 -> ~380 us
 * inside the model). Only for outputs of more than PF_OUT_BYTES: a smaller
 * one is in cache, where the hints cost issue slots for nothing. */
#define PF_OUT_BYTES (1 << 20)
static inline void prefetch_next_out(const tile *t)
{
    for (int i = 0; i < t->mr; i++) {
        NNCC_PREFETCH_W((uintptr_t)(t->c + i * t->ldc) + 32 * sizeof(float));
        NNCC_PREFETCH_W((uintptr_t)(t->c + i * t->ldc) + 48 * sizeof(float));
    }
}

/* The tile of output channels [mh, mh + MR) at the grid tile from q0 (grid
 * column gx; fo: its first output pixel) */
static inline void implicit_tile(tile *t, const implicit_out *o, int64_t mh, int64_t q0, int64_t gx, int64_t fo)
{
    const int64_t at = mh * o->npix + (o->direct ? q0 : fo);
    *t = o->base;
    t->mr = (int)min64(MR, o->mg - mh), t->nr = (int)min64(TW, o->Q - q0);
    t->bias = o->bias ? o->bias + mh : 0;
    t->c = o->y + at, t->add = o->add ? o->add + at : 0;
    t->gx = o->direct ? 0 : gx;
}

/* What nncc_conv2d_implicit_f32 works out once per call */
typedef struct {
    const nncc_conv2d_params *p;
    int64_t cg, mg, K, npix, hw, panels, spy, spx, hg, wg, Q;
    int direct, clamp, pf_out, pack;
    float lo, hi;
    int32_t *off, *toff;           /* row offsets (scratch), the tail tile's (direct) */
    float *pad, *tail;             /* the padded copy; the direct 1x1's last tile */
    float *packed;                 /* implicit_pack: K x TW_MAX floats per thread */
    int64_t tpr, ntiles, tq;       /* tiles by rows (tile_at), tiles, the direct tail's start */
} implicit_plan;

static void implicit_plan_init(implicit_plan *ip, const nncc_conv2d_params *p, float *scratch)
{
    ip->p = p;
    ip->cg = p->c / p->group, ip->mg = p->m / p->group;
    ip->K = ip->cg * p->kh * p->kw, ip->npix = p->oh * p->ow, ip->hw = p->h * p->w;
    ip->panels = (ip->mg + MR - 1) / MR;
    ip->direct = implicit_direct(p);
    implicit_geometry(p, &ip->spy, &ip->spx, &ip->hg, &ip->wg);
    if (ip->direct)
        ip->hg = p->h, ip->wg = p->w;
    ip->Q = (p->oh - 1) * ip->wg + p->ow; /* grid positions used */
    const int32_t ak = p->act.kind;
    ip->clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    ip->lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    ip->hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    ip->off = (int32_t *)(void *)scratch, ip->toff = ip->off + ip->K;
    ip->pad = scratch + ip->K, ip->tail = scratch + 2 * ip->K;
    ip->pack = implicit_pack(p), ip->packed = ip->tail + ip->K * TW_MAX;
    implicit_offsets(p, ip->spy, ip->spx, ip->hg * ip->wg, ip->wg, ip->off);
    /* tiles by rows where that computes no more columns (see tile_at) */
    ip->tpr = !ip->direct && (p->ow + TW - 1) / TW * TW <= ip->wg ? (p->ow + TW - 1) / TW : 0;
    ip->ntiles = ip->tpr ? p->oh * ip->tpr : (ip->Q + TW - 1) / TW;
    ip->tq = (ip->Q / TW) * TW; /* direct: a partial tile starts at tq < Q */
    if (ip->direct)
        for (int64_t k = 0; k < ip->K; k++)
            ip->toff[k] = (int32_t)(k * TW);
    else
        for (int64_t s = 0; s < TW_MAX; s++) /* read past the last grid position */
            ip->pad[ip->cg * ip->spy * ip->spx * ip->hg * ip->wg + s] = 0.0f;
    ip->pf_out = ip->mg * ip->npix * (int64_t)sizeof(float) > PF_OUT_BYTES;
}

/* TW floats to d: the nc <= TW from s, zeros after them */
static inline void copy_tile_row(const float *s, float *d, int64_t nc)
{
#if defined(__AVX512F__)
    const uint32_t m = nc >= 32 ? 0xffffffffu : (1u << nc) - 1;
    _mm512_storeu_ps(d, _mm512_maskz_loadu_ps((__mmask16)(m & 0xffffu), s));
    if (TW > 16)
        _mm512_storeu_ps(d + 16, _mm512_maskz_loadu_ps((__mmask16)(m >> 16), s + 16));
#else
    for (int64_t j = 0; j < TW; j++)
        d[j] = j < nc ? s[j] : 0.0f;
#endif
}

/* The input of one image and group made ready for the tiles, by the threads
 * of the enclosing parallel region: the padded copy, or (a direct 1x1) the
 * last, partial tile copied out. Returns where the tiles read. */
static const float *implicit_prepare(const implicit_plan *ip, const float *xg)
{
    if (!ip->direct) {
        implicit_copy(ip->p, xg, ip->spy, ip->spx, ip->hg, ip->wg, ip->pad);
        return ip->pad;
    }
    if (ip->tq < ip->Q) {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t k = 0; k < ip->K; k++)
            copy_tile_row(xg + k * ip->hw + ip->tq, ip->tail + k * TW, ip->Q - ip->tq);
    }
    return xg;
}

/* implicit_pack: the tile from q0 of a direct 1x1, row k to d + k * TW */
static void implicit_pack_tile(const implicit_plan *ip, const float *src, int64_t q0, float *d)
{
    const int64_t nc = min64(TW, ip->Q - q0);
    for (int64_t k = 0; k < ip->K; k++) {
        NNCC_PREFETCH(src + min64(k + 16, ip->K - 1) * ip->hw + q0);
        NNCC_PREFETCH(src + min64(k + 16, ip->K - 1) * ip->hw + q0 + 16);
        copy_tile_row(src + k * ip->hw + q0, d + k * TW, nc);
    }
}

/* The tiles [t0, t1) of the output-channel panels [pa, pb) (weights ag: the
 * group's packed panels), reading src, into o */
static void implicit_run(const implicit_plan *ip, const float *src, const float *ag, int64_t pa, int64_t pb, int64_t t0,
                         int64_t t1, const implicit_out *o)
{
    const int64_t K = ip->K, Q = ip->Q, wg = ip->wg, tpr = ip->tpr, ow = ip->p->ow;
    if (ip->pack) { /* tiles outer: each copied once, then all its panels */
        float *const buf = ip->packed + nncc_par_me() * K * TW_MAX;
        for (int64_t ti = t0; ti < t1; ti++) {
            const int64_t q0 = ti * TW;
            implicit_pack_tile(ip, src, q0, buf);
            for (int64_t pi = pa; pi < pb; pi++) {
                const float *a = ag + pi * MR * K;
                tile tt[2];
                implicit_tile(&tt[0], o, pi * MR, q0, 0, q0);
#if defined(NNCC_SGEMM_OFF2)
                if (pi + 1 < pb) {
                    implicit_tile(&tt[1], o, (pi + 1) * MR, q0, 0, q0);
                    for (int64_t i = 0; i < 2 * MR && (pi + 2) * MR + i < ip->mg; i++) { /* the next pair's rows */
                        NNCC_PREFETCH_W(tt[0].c + (2 * MR + i) * ip->npix);
                        NNCC_PREFETCH_W(tt[0].c + (2 * MR + i) * ip->npix + 16);
                    }
                    micro_kernel_off2(K, a, a + MR * K, buf, ip->toff, &tt[0], &tt[1]);
                    pi++;
                    continue;
                }
#endif
                micro_kernel_off(K, a, buf, ip->toff, &tt[0]);
            }
        }
        return;
    }
    for (int64_t pi = pa; pi < pb; pi++) {
        const float *a = ag + pi * MR * K;
        const int64_t m0 = pi * MR;
#if defined(NNCC_SGEMM_OFF2)
        /* two panels at once where two remain (but for the tail tile of a
         * direct 1x1, which reads another B) */
        if (pi + 1 < pb) {
            tile_at w;
            tile_start(&w, t0, wg, tpr);
            for (int64_t ti = t0; ti < t1; ti++, tile_next(&w, wg, tpr)) {
                const int64_t q0 = w.q0, fo = grid_first(ow, w.gy, w.gx);
                tile tt[2];
                for (int h = 0; h < 2; h++)
                    implicit_tile(&tt[h], o, m0 + h * MR, q0, w.gx, fo);
                if (ip->direct && q0 + TW > Q)
                    for (int h = 0; h < 2; h++)
                        micro_kernel_off(K, a + h * MR * K, ip->tail, ip->toff, &tt[h]);
                else {
                    if (ip->pf_out) {
                        prefetch_next_out(&tt[0]);
                        prefetch_next_out(&tt[1]);
                    }
                    micro_kernel_off2(K, a, a + MR * K, src + q0, ip->off, &tt[0], &tt[1]);
                }
            }
            pi++;
            continue;
        }
#endif
        tile_at w;
        tile_start(&w, t0, wg, tpr);
        for (int64_t ti = t0; ti < t1; ti++, tile_next(&w, wg, tpr)) {
            const int64_t q0 = w.q0;
            tile t;
            implicit_tile(&t, o, m0, q0, w.gx, grid_first(ow, w.gy, w.gx));
            if (ip->pf_out)
                prefetch_next_out(&t);
            if (ip->direct && q0 + TW > Q)
                micro_kernel_off(K, a, ip->tail, ip->toff, &t);
            else
                micro_kernel_off(K, a, src + q0, ip->off, &t);
        }
    }
}

/* The output of one image and group (channels from y, residual from add) */
static void implicit_out_init(implicit_out *o, const implicit_plan *ip, float *y, const float *add, const float *bias)
{
    o->base = (tile){ .ldc = ip->npix, .clamp = ip->clamp, .lo = ip->lo, .hi = ip->hi,
                      .gw = ip->direct ? 0 : ip->wg, .gow = ip->direct ? 0 : ip->p->ow };
    o->y = y, o->add = add, o->bias = bias;
    o->npix = ip->npix, o->mg = ip->mg, o->Q = ip->Q, o->direct = ip->direct;
}

void nncc_conv2d_implicit_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch)
{
    implicit_plan ip;
    implicit_plan_init(&ip, p, scratch);
    const int64_t cg = ip.cg, mg = ip.mg, K = ip.K, npix = ip.npix, panels = ip.panels;
    /* blocks of at most 256 grid positions, their tiles shared out evenly
     * (9 tiles: 5 and 4, not 8 and 1) */
    const int64_t nblocks = (ip.ntiles + 256 / TW - 1) / (256 / TW);
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
    const int64_t nitems = nblocks * npg;
    nncc_par par;
    nncc_par_init(&par, nt, nitems);
    /* one team for the whole call: the copy, then the tiles (a fork and join
     * cost microseconds, as much as a small layer) */
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const int64_t me = nncc_par_me();
            if (n + g > 0) /* every thread done with the last group's items */
                nncc_par_next_round(&par, nt, nitems);
            const float *src = implicit_prepare(&ip, x + (n * p->c + g * cg) * ip.hw);
            const float *ag = wp + g * panels * MR * K;
            const int64_t yoff = (n * p->m + g * mg) * npix;
            implicit_out o;
            implicit_out_init(&o, &ip, y + yoff, add ? add + yoff : 0, b ? b + g * mg : 0);
            for (int64_t it, run = 0; (it = nncc_par_take(&par, me, &run)) >= 0;) {
                const int64_t jb = it / npg, pg = it % npg;
                implicit_run(&ip, src, ag, pg * pairs / npg * 2, min64((pg + 1) * pairs / npg * 2, panels),
                             jb * ip.ntiles / nblocks, (jb + 1) * ip.ntiles / nblocks, &o);
            }
        }
    }
    if (p->act.kind != NNCC_ACT_NONE && !ip.clamp)
        nncc_act_f32(&p->act, p->n * p->m * npix, y);
}

/* ---- implicit GEMM + pooling (nncc_conv2d_implicit_pool_f32) ----
 * A convolution whose only reader is a 2-D max/average pool (ResNet's and
 * SqueezeNet's stems, conv -> Relu -> MaxPool 3x3/2) writes a large map
 * that the pool reads once: 3.2 MB at 112x112x64, from memory both times.
 * Here the convolution runs two panels of output channels (POOL_GROUP) at
 * a time into a per-thread buffer (12 x 112 x 112 floats: 600 KB, in L2),
 * and those channels are pooled from it straight away; only the pooled map
 * reaches Y. The input is prepared once for all channels. */
#define POOL_GROUP (2 * MR)

int64_t nncc_conv2d_implicit_pool_scratch_size(const nncc_conv2d_params *p)
{
    return nncc_conv2d_implicit_scratch_size(p) + POOL_GROUP * p->oh * p->ow * (p->threads > 1 ? p->threads : 1);
}

/* The tiles of the conv's output rows [r0, r1) (a few columns more at the
 * ends where tiles run across grid rows) */
static void tiles_of_rows(const implicit_plan *ip, int64_t r0, int64_t r1, int64_t *t0, int64_t *t1)
{
    if (ip->tpr) {
        *t0 = r0 * ip->tpr, *t1 = r1 * ip->tpr;
        return;
    }
    *t0 = r0 * ip->wg / TW;
    *t1 = min64(((r1 - 1) * ip->wg + ip->p->ow + TW - 1) / TW, ip->ntiles);
}

void nncc_conv2d_implicit_pool_f32(const nncc_conv2d_params *p, const nncc_pool2d_params *q, const float *x,
                                   const float *wp, const float *b, float *y, float *scratch)
{
    implicit_plan ip;
    implicit_plan_init(&ip, p, scratch);
    const int64_t npix = ip.npix, opix = q->oh * q->ow;
    float *const bufs = scratch + nncc_conv2d_implicit_scratch_size(p);
#ifdef _OPENMP
    const int nt = p->threads > 1 ? (int)p->threads : 1;
#else
    const int nt = 1;
#endif
    /* bands of pooled rows, two a thread (nncc_par), for all channels: the
     * conv rows under a band (one more at a seam) into the thread's buffer,
     * two panels at a time, pooled from there. Split by rows, not by
     * channels: 64 channels are 10.67 panels of 6, which two threads shared
     * 5 and 6. */
    const int64_t bands = nt > 1 ? 2 * nt : 1;
    nncc_par par;
    nncc_par_init(&par, nt, bands);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t n = 0; n < p->n; n++) {
        const int64_t me = nncc_par_me();
        if (n > 0) /* every thread done with the last image's bands */
            nncc_par_next_round(&par, nt, bands);
        const float *src = implicit_prepare(&ip, x + n * p->c * ip.hw);
        float *const buf = bufs + me * POOL_GROUP * npix;
        for (int64_t u, run = 0; (u = nncc_par_take(&par, me, &run)) >= 0;) {
            const int64_t a = u * q->oh / bands, e = (u + 1) * q->oh / bands;
            const int64_t s = a * q->sh - q->pt; /* the first conv row the rows read */
            const int64_t r0 = s > 0 ? s : 0, r1 = min64(p->oh, (e - 1) * q->sh - q->pt + q->kh);
            int64_t t0, t1;
            tiles_of_rows(&ip, r0, r1, &t0, &t1);
            nncc_pool2d_params one = *q; /* rows [a, e) of one channel: the band */
            one.oh = e - a, one.h = r1 - r0;
            one.pt = s > 0 ? 0 : q->pt;
            for (int64_t pa = 0; a < e && pa < ip.panels; pa += 2) {
                const int64_t pb = min64(pa + 2, ip.panels), m0 = pa * MR, gm = min64(pb * MR, p->m) - m0;
                implicit_out o;
                implicit_out_init(&o, &ip, buf, 0, b ? b + m0 : 0);
                o.mg = gm;
                implicit_run(&ip, src, wp + m0 * ip.K, 0, pb - pa, t0, t1, &o);
                for (int64_t c = 0; c < gm; c++) {
                    float *const rows = buf + c * npix + r0 * p->ow;
                    if (p->act.kind != NNCC_ACT_NONE && !ip.clamp)
                        nncc_act_f32(&p->act, (r1 - r0) * p->ow, rows);
                    nncc_pool2d_plane_f32(&one, rows, y + (n * p->m + m0 + c) * opix + a * q->ow);
                }
            }
        }
    }
}

/* ---- the implicit GEMM transposed (nncc_conv2d_implicit_t_f32) ----
 * On a small map the implicit GEMM's tiles of 32 pixels waste lanes: a 7x7
 * map is 49 pixels in 64 columns, 14x14 is 196 in 224. Transposed,
 * Y^T(P x M) = X_col^T(P x K) W^T(K x M): a tile holds R consecutive output
 * pixels of one output row (the row split evenly in tiles of at most
 * T_ROWS: a 3x3's 7x7 in rows of 7, 56 in four of 14; a 1x1 read in place
 * takes its map as one row: 49 pixels in 13, 13, 13, 10) by TC = 32 output
 * channels.
 * Step k broadcasts the R pixels' values of im2col row k (consecutive grid
 * positions, read in place as by the implicit GEMM: same offsets, same
 * padded copy) and multiplies them into row k of the channel panel, packed
 * wp[group][panel][k][j] by nncc at compile time. No row of a tile is
 * padding; only a last channel panel may be partial. The tile goes to Y
 * (NCHW) through a small buffer, bias, residual and Relu/Clip applied on
 * the way. Panels are the outer loop: each panel of weights comes from
 * memory once, the (small) input is read from cache for every panel. */
#define TC NNCC_GEMM_TC
#define T_ROWS 14 /* pixels per tile, at most */
/* The weights stream 128 bytes a step (against 24 for the implicit GEMM's
 * panels): prefetched 32 steps ahead (cold weights, 960->320 at 7x7: 185
 * us at NNCC_PF_BYTES, 165 at 4096; from the next panel on: 170 cold but
 * 160 instead of 133 hot). A panel's first tile still waits on memory (a
 * 512-channel panel is 64 KB): with AVX-512 each tile also fetches its
 * share of the next panel into L2, a line a step over its first steps
 * (SqueezeNet's 512 -> 1000 at 13x13 in the model, 1 thread: ~890 -> ~850
 * us; MobileNetV2's transposed layers ~2%). */
#define T_PF_BYTES 4096
/* The tile's pixels of im2col row k + T_PF_X are fetched at step k. The
 * input was usually written just before by the layer's other threads (a
 * depthwise split by channels), and a line another core holds takes
 * hundreds of cycles to come over; one line a step at 784-byte strides is
 * nothing the hardware prefetchers follow. 2 threads, Xeon (AVX-512),
 * MobileNetV2's 576 -> 96 at 14x14 inside the model 174 -> 92 us, the
 * model 4.39 -> 3.78 ms; 16 and 64 steps ahead measured slower, 1 thread
 * unchanged (6.21 -> 6.13 ms). */
#define T_PF_X 32

int64_t nncc_conv2d_implicit_t_packed_size(const nncc_conv2d_params *p)
{
    return panels_size(p, TC);
}

void nncc_conv2d_implicit_t_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    pack_panels(p, w, wp, TC);
}

int64_t nncc_conv2d_implicit_t_scratch_size(const nncc_conv2d_params *p)
{
    const int64_t cg = p->c / p->group, K = cg * p->kh * p->kw;
    int64_t spy, spx, hg, wg;
    implicit_geometry(p, &spy, &spx, &hg, &wg);
    return K + (implicit_direct(p) ? 0 : cg * spy * spx * hg * wg);
}

/* t_rows(R, ...): the R rows (pixels, R a constant where inlined, at most
 * T_SUB) of a tile: row i = sum over k of a[off[k] + i] * b[k][0..TC). With
 * AVX-512 the tile goes on to Y from the registers (t_out512); elsewhere
 * into tmp[i][0..TC), for t_store. */
/* the first and last of the R pixels of im2col row k + T_PF_X (or K - 1);
 * only for a 1x1 read in place (pfx): a 3x3 reads the padded copy its
 * team just made (a few hundred KB, mostly in this core's L2), and there
 * the hints cost more load slots than they save (512 -> 512 at 7x7, one
 * thread, alone: 141 GFLOP/s with them, 147 without) */
#if defined(NNCC_SGEMM_WIDE) || defined(NNCC_SGEMM_AVX2)
NNCC_TILE_INLINE void t_prefetch_x(const int R, int64_t K, int64_t k, const float *a, const int32_t *off)
{
    const float *ap = a + off[k + T_PF_X < K ? k + T_PF_X : K - 1];
    NNCC_PREFETCH((uintptr_t)ap);
    NNCC_PREFETCH((uintptr_t)(ap + R - 1));
}
#endif

/* Where a tile goes: Y (NCHW) and its epilogue */
typedef struct {
    float *yc;         /* the tile's first channel, first pixel */
    int64_t npix;      /* Y's channel stride */
    const float *bias; /* the panel's first bias, or NULL */
    const float *ac;   /* the residual at yc's place, or NULL */
    int nm, clamp;     /* channels in the panel; Relu/Clip as in tile */
    float lo, hi;
    const char *pf;    /* npf lines to fetch into L2 meanwhile, one a step */
    int64_t npf;       /* (AVX-512; see T_PF_BYTES) */
} t_dst;

#if defined(NNCC_SGEMM_WIDE)
#define T_SUB 14 /* 28 zmm accumulators */

/* Rows [0, rv) (rv <= 8 pixels) of 16 channels, r[i] lane j = pixel i of
 * channel j, bias added, to Y at yc (channel j at yc + j*npix; only the
 * nch < 16 first where the panel ends): a transpose in three shuffle
 * steps (pairs of rows, pairs of pairs, then 128-bit quarters), giving
 * vectors that each hold the 8 pixels of two channels; then residual and
 * Relu/Clip, and one masked store per channel. */
NNCC_TILE_INLINE void t_out512(const __m512 *r, int rv, int nch, float *yc, int64_t npix, const float *ac, int clamp,
                               __m512 lo, __m512 hi)
{
    __m512 t[8], u[8];
    for (int q = 0; q < 4; q++) {
        t[2 * q] = _mm512_unpacklo_ps(r[2 * q], r[2 * q + 1]);     /* per quarter: p0c0 p1c0 p0c1 p1c1 */
        t[2 * q + 1] = _mm512_unpackhi_ps(r[2 * q], r[2 * q + 1]); /* p0c2 p1c2 p0c3 p1c3 */
    }
    for (int h = 0; h < 2; h++) /* u[q + 4h], quarter L: pixels 4h..4h+3 of channel 4L + q */
        for (int e = 0; e < 2; e++) {
            const __m512d a = _mm512_castps_pd(t[4 * h + e]), b = _mm512_castps_pd(t[4 * h + e + 2]);
            u[4 * h + 2 * e] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
            u[4 * h + 2 * e + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        }
    const __m512i lo2 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi2 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    const __mmask16 keep = (__mmask16)((1u << rv) - 1);
    for (int q = 0; q < 4; q++)
        for (int s = 0; s < 2; s++) {
            /* channels c0 (lanes 0..7) and c0 + 4 (lanes 8..15), c0 = 8s + q */
            __m512 v = _mm512_permutex2var_ps(u[q], s ? hi2 : lo2, u[q + 4]);
            const int c0 = 8 * s + q;
            if (ac) {
                const __m512 a0 = _mm512_maskz_loadu_ps(c0 < nch ? keep : 0, ac + c0 * npix);
                const __m512 a1 = _mm512_maskz_loadu_ps(c0 + 4 < nch ? keep : 0, ac + (c0 + 4) * npix);
                v = _mm512_add_ps(v, _mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(1, 0, 1, 0)));
            }
            if (clamp == 1)
                v = _mm512_max_ps(v, lo);
            else if (clamp == 3)
                v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
            if (c0 < nch)
                _mm512_mask_storeu_ps(yc + c0 * npix, keep, v);
            if (c0 + 4 < nch)
                _mm512_mask_storeu_ps(yc + (c0 + 4) * npix, keep, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2)));
        }
}

NNCC_TILE_INLINE void t_rows(const int R, int64_t K, const float *a, const int32_t *off, const float *b, const t_dst *d,
                             int pfx)
{
#define NNCC_TZ(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0
    NNCC_TZ(0); NNCC_TZ(1); NNCC_TZ(2); NNCC_TZ(3); NNCC_TZ(4); NNCC_TZ(5); NNCC_TZ(6);
    NNCC_TZ(7); NNCC_TZ(8); NNCC_TZ(9); NNCC_TZ(10); NNCC_TZ(11); NNCC_TZ(12); NNCC_TZ(13);
#undef NNCC_TZ
    for (int64_t k = 0; k < K; k++, b += TC) {
        const float *ak = a + off[k];
        NNCC_PREFETCH((uintptr_t)b + T_PF_BYTES);
        NNCC_PREFETCH((uintptr_t)b + T_PF_BYTES + 64);
        if (pfx)
            t_prefetch_x(R, K, k, a, off);
        if (k < d->npf)
            NNCC_PREFETCH_L2(d->pf + 64 * k);
        const __m512 v0 = _mm512_loadu_ps(b), v1 = _mm512_loadu_ps(b + 16);
#define NNCC_TF(i)                                          \
    if (i < R) {                                            \
        const __m512 av = _mm512_set1_ps(ak[i]);            \
        c##i##0 = _mm512_fmadd_ps(av, v0, c##i##0);         \
        c##i##1 = _mm512_fmadd_ps(av, v1, c##i##1);         \
    }
        NNCC_TF(0) NNCC_TF(1) NNCC_TF(2) NNCC_TF(3) NNCC_TF(4) NNCC_TF(5) NNCC_TF(6)
        NNCC_TF(7) NNCC_TF(8) NNCC_TF(9) NNCC_TF(10) NNCC_TF(11) NNCC_TF(12) NNCC_TF(13)
#undef NNCC_TF
    }
    /* rows (pixels) 8 by 8, zero rows past R; 16 channels at a time */
    __m512 h[2][16];
    h[0][0] = c00, h[1][0] = c01, h[0][1] = c10, h[1][1] = c11, h[0][2] = c20, h[1][2] = c21;
    h[0][3] = c30, h[1][3] = c31, h[0][4] = c40, h[1][4] = c41, h[0][5] = c50, h[1][5] = c51;
    h[0][6] = c60, h[1][6] = c61, h[0][7] = c70, h[1][7] = c71, h[0][8] = c80, h[1][8] = c81;
    h[0][9] = c90, h[1][9] = c91, h[0][10] = c100, h[1][10] = c101, h[0][11] = c110, h[1][11] = c111;
    h[0][12] = c120, h[1][12] = c121, h[0][13] = c130, h[1][13] = c131;
    h[0][14] = h[0][15] = h[1][14] = h[1][15] = _mm512_setzero_ps();
    const __m512 lo = _mm512_set1_ps(d->lo), hi = _mm512_set1_ps(d->hi);
    for (int s = 0; s < 2 && 16 * s < d->nm; s++) {
        const int nch = d->nm - 16 * s < 16 ? d->nm - 16 * s : 16;
        if (d->bias) {
            const __m512 bv = _mm512_maskz_loadu_ps((__mmask16)((1u << nch) - 1), d->bias + 16 * s);
            for (int i = 0; i < R; i++)
                h[s][i] = _mm512_add_ps(h[s][i], bv);
        }
        for (int i0 = 0; i0 < R; i0 += 8)
            t_out512(h[s] + i0, R - i0 < 8 ? R - i0 : 8, nch, d->yc + 16 * s * d->npix + i0, d->npix,
                     d->ac ? d->ac + 16 * s * d->npix + i0 : 0, d->clamp, lo, hi);
    }
}
#elif defined(NNCC_SGEMM_AVX2)
#define T_SUB 3 /* 12 ymm accumulators */
NNCC_TILE_INLINE void t_rows(const int R, int64_t K, const float *a, const int32_t *off, const float *b, float *tmp,
                             int pfx)
{
#define NNCC_TZ(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0
    NNCC_TZ(0); NNCC_TZ(1); NNCC_TZ(2);
#undef NNCC_TZ
    for (int64_t k = 0; k < K; k++, b += TC) {
        const float *ak = a + off[k];
        NNCC_PREFETCH((uintptr_t)b + T_PF_BYTES);
        NNCC_PREFETCH((uintptr_t)b + T_PF_BYTES + 64);
        if (pfx)
            t_prefetch_x(R, K, k, a, off);
        const __m256 v0 = _mm256_loadu_ps(b), v1 = _mm256_loadu_ps(b + 8);
        const __m256 v2 = _mm256_loadu_ps(b + 16), v3 = _mm256_loadu_ps(b + 24);
#define NNCC_TF(i)                                          \
    if (i < R) {                                            \
        const __m256 av = _mm256_broadcast_ss(ak + i);      \
        c##i##0 = _mm256_fmadd_ps(av, v0, c##i##0);         \
        c##i##1 = _mm256_fmadd_ps(av, v1, c##i##1);         \
        c##i##2 = _mm256_fmadd_ps(av, v2, c##i##2);         \
        c##i##3 = _mm256_fmadd_ps(av, v3, c##i##3);         \
    }
        NNCC_TF(0) NNCC_TF(1) NNCC_TF(2)
#undef NNCC_TF
    }
#define NNCC_TS(i)                                          \
    if (i < R) {                                            \
        _mm256_storeu_ps(tmp + (i) * TC, c##i##0);          \
        _mm256_storeu_ps(tmp + (i) * TC + 8, c##i##1);      \
        _mm256_storeu_ps(tmp + (i) * TC + 16, c##i##2);     \
        _mm256_storeu_ps(tmp + (i) * TC + 24, c##i##3);     \
    }
    NNCC_TS(0) NNCC_TS(1) NNCC_TS(2)
#undef NNCC_TS
}
#elif defined(NNCC_SGEMM_NEON)
#define T_SUB 2 /* 16 q accumulators */
NNCC_TILE_INLINE void t_rows(const int R, int64_t K, const float *a, const int32_t *off, const float *b, float *tmp,
                             int pfx)
{
    (void)pfx; /* no prefetch here */
    float32x4_t c0[8], c1[8];
    for (int j = 0; j < 8; j++)
        c0[j] = c1[j] = vdupq_n_f32(0.0f);
    for (int64_t k = 0; k < K; k++, b += TC) {
        const float *ak = a + off[k];
        const float a0 = ak[0], a1 = R > 1 ? ak[1] : 0.0f;
        for (int j = 0; j < 8; j++) {
            const float32x4_t v = vld1q_f32(b + 4 * j);
            c0[j] = vfmaq_n_f32(c0[j], v, a0);
            if (R > 1)
                c1[j] = vfmaq_n_f32(c1[j], v, a1);
        }
    }
    for (int j = 0; j < 8; j++) {
        vst1q_f32(tmp + 4 * j, c0[j]);
        if (R > 1)
            vst1q_f32(tmp + TC + 4 * j, c1[j]);
    }
}
#else
#define T_SUB 2
/* portable: constant trip counts over j, which compilers vectorise */
NNCC_TILE_INLINE void t_rows(const int R, int64_t K, const float *a, const int32_t *off, const float *b, float *tmp,
                             int pfx)
{
    (void)pfx; /* no prefetch here */
    float acc[2][TC];
    for (int j = 0; j < TC; j++)
        acc[0][j] = acc[1][j] = 0.0f;
    for (int64_t k = 0; k < K; k++, b += TC) {
        const float *ak = a + off[k];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < TC; j++)
                acc[i][j] += ak[i] * b[j];
    }
    for (int i = 0; i < R; i++)
        for (int j = 0; j < TC; j++)
            tmp[i * TC + j] = acc[i][j];
}
#endif

#if !defined(NNCC_SGEMM_WIDE)
/* The tile tmp[i][j] (rv pixels) to Y: + bias, + residual, then Relu/Clip */
static void t_store(const float *tmp, int rv, const t_dst *d)
{
    for (int j = 0; j < d->nm; j++) {
        float *yr = d->yc + j * d->npix;
        const float *ar = d->ac ? d->ac + j * d->npix : 0;
        const float bj = d->bias ? d->bias[j] : 0.0f;
        for (int i = 0; i < rv; i++) {
            float v = tmp[i * TC + j] + bj;
            if (ar)
                v += ar[i];
            yr[i] = clamp_act(v, d->clamp, d->lo, d->hi);
        }
    }
}
#endif

/* A tile of rv <= T_ROWS pixels: t_rows with a constant row count (in
 * calls of at most T_SUB rows) */
static void t_tile(int rv, int64_t K, const float *a, const int32_t *off, const float *b, const t_dst *d, int pfx)
{
#if defined(NNCC_SGEMM_WIDE)
#define NNCC_T_DST d
#else
    float tmp[T_ROWS * TC];
#define NNCC_T_DST tmp + i0 * TC
#endif
    for (int i0 = 0; i0 < rv; i0 += T_SUB) {
        switch (rv - i0 < T_SUB ? rv - i0 : T_SUB) {
#define NNCC_TC(r)                                         \
    case r:                                                \
        t_rows(r, K, a + i0, off, b, NNCC_T_DST, pfx);     \
        break;
            NNCC_TC(1)
            NNCC_TC(2)
#if T_SUB > 2
            NNCC_TC(3)
#endif
#if T_SUB > 3
            NNCC_TC(4) NNCC_TC(5) NNCC_TC(6) NNCC_TC(7) NNCC_TC(8) NNCC_TC(9)
            NNCC_TC(10) NNCC_TC(11) NNCC_TC(12) NNCC_TC(13) NNCC_TC(14)
#endif
#undef NNCC_TC
        default:
            break;
        }
    }
#undef NNCC_T_DST
#if !defined(NNCC_SGEMM_WIDE)
    t_store(tmp, rv, d);
#endif
}

void nncc_conv2d_implicit_t_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                                const float *add, float *y, float *scratch)
{
    const int64_t cg = p->c / p->group, mg = p->m / p->group;
    const int64_t K = cg * p->kh * p->kw, npix = p->oh * p->ow, hw = p->h * p->w;
    const int64_t panels = (mg + TC - 1) / TC;
    const int direct = implicit_direct(p);
    int64_t spy, spx, hg, wg;
    implicit_geometry(p, &spy, &spx, &hg, &wg);
    if (direct)
        spy = spx = 1, hg = p->h, wg = p->w;
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    int32_t *const off = (int32_t *)(void *)scratch;
    float *const pad = scratch + K;
    implicit_offsets(p, spy, spx, hg * wg, wg, off);
    /* tiles: each output row in `per_row` tiles of at most R pixels; a 1x1
     * read in place has no row ends to keep to, its map is one row (7x7:
     * tiles of 13, 13, 13 and 10 pixels instead of seven rows of 7, twice
     * the multiply-adds for each weight loaded; MobileNetV2's 7x7 layers
     * a tenth faster) */
    const int64_t rows = direct ? 1 : p->oh, cols = direct ? npix : p->ow;
    const int64_t per_row = (cols + T_ROWS - 1) / T_ROWS, R = (cols + per_row - 1) / per_row;
    const int64_t tiles = rows * per_row;
#ifdef _OPENMP
    const int nt = p->threads > 1 ? (int)p->threads : 1;
#else
    const int nt = 1;
#endif
    /* each thread a contiguous run of the panels x tiles (tiles inner):
     * the same number of tiles to within one (3 panels of a 14x14 map on 2
     * threads: 21 and 21 tiles, where whole runs of tiles gave 5 and 4) */
    const int64_t units = panels * tiles;
    /* a tile's share of the next panel's cache lines (T_PF_BYTES) */
    const int64_t lines = K * TC / 16, share = (lines + tiles - 1) / tiles;
    nncc_par par;
    nncc_par_init(&par, nt, units);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const int64_t me = nncc_par_me();
            if (n + g > 0) /* every thread done with the last group's units */
                nncc_par_next_round(&par, nt, units);
            const float *xg = x + (n * p->c + g * cg) * hw;
            const int64_t yoff = (n * p->m + g * mg) * npix;
            if (!direct)
                implicit_copy(p, xg, spy, spx, hg, wg, pad);
            const float *src = direct ? xg : pad;
            t_dst d = { .npix = npix, .clamp = clamp, .lo = lo, .hi = hi };
            for (int64_t u, run = 0; (u = nncc_par_take(&par, me, &run)) >= 0;) {
                const int64_t pi = u / tiles, t = u % tiles, m0 = pi * TC;
                const int64_t oy = t / per_row, ox = t % per_row * R, o = yoff + m0 * npix + oy * cols + ox;
                d.bias = b ? b + g * mg + m0 : 0, d.nm = (int)min64(TC, mg - m0);
                d.yc = y + o, d.ac = add ? add + o : 0;
                d.npf = 0;
                if (pi + 1 < panels) {
                    d.pf = (const char *)(wp + (g * panels + pi + 1) * K * TC) + t * share * 64;
                    d.npf = min64(share, lines - t * share);
                }
                t_tile((int)min64(R, cols - ox), K, src + oy * wg + ox, off, wp + (g * panels + pi) * K * TC, &d, direct);
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * npix, y);
}
#undef TC

/* ---- Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions ----
 * Each 2x2 block of outputs of a channel comes from a 4x4 tile of the
 * padded input (tiles overlap by 2): Y = A^T [sum_c U_c (.) V_c] A with
 * V = B^T d B the transformed input tile and U = G g G^T the transformed
 * 3x3 filter (computed by nncc at compile time, in double, then rounded):
 *     G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
 * The sum over c at each of the 16 positions xi of the tile is a matrix
 * product M_xi(M, T) = U_xi(M, C) V_xi(C, T) over the T tiles: 16 GEMMs with
 * 4/9 of the direct convolution's multiply-adds, plus the two transforms.
 *
 * Tile-blocked, so that nothing the size of a feature map goes through
 * memory: the T tiles (row-major over the output) are cut into blocks of
 * WINO_NB. For a block, one thread
 *   1. transforms the patches of the block's tiles, for all C channels,
 *      read straight from the input (zero outside it), into
 *      V[16][C][WINO_NB] (C x WINO_NB per xi: 256 KB for all 16 at C = 64);
 *   2. per pair of MR-row panels of U (12 output channels): the 16 products
 *      U_xi(12, C) V_xi(C, WINO_NB) through the implicit-GEMM micro-kernels
 *      (row c of V_xi at V_xi + off[c], off[c] = c * WINO_NB) into
 *      Mt[16][2 * MR][WINO_NB] (48 KB), then
 *   3. the output transform of those 12 channels straight into Y, with bias,
 *      residual and Relu/Clip (other activations run over Y afterwards).
 * Threads (p->threads, OpenMP) share the work items (image, block, range of
 * output panels), each with its own V and Mt in the scratch; output panels
 * are split only when there are too few blocks for the threads (a thread
 * that gets several items of one block transforms it once).
 * WINO_NB = 64 tiles (two 32-column micro-kernel tiles) measured best on the
 * AVX-512 machine among 32, 64, 96 and 128 (ResNet-18's 3x3 layers).
 * The transforms run 16 tiles at a time with AVX-512 (masked loads at the
 * input's edges), 8 with AVX2 (inside the input), else one by one in C.
 * The weights: per xi, U_xi packed as nncc_conv2d_pack_f32 packs a 1x1 weight.
 * Scratch (floats): off[C] (int32) and W zeros (the rows above and below
 * the input), each rounded up to 16, then per thread V and Mt
 * (wino_per_thread). */
#define WINO_NB (2 * TW_MAX) /* tiles per block: two 32-column micro-kernel tiles */

/* th x tw tiles over the output (2x2 outputs a tile, F(4x4): 4x4) */
static void wino_tiles(const nncc_conv2d_params *p, int64_t *th, int64_t *tw, int f4)
{
    const int64_t e = f4 ? 4 : 2;
    *th = (p->oh + e - 1) / e, *tw = (p->ow + e - 1) / e;
}

/* Tiles per block: WINO_NB, or half that where the whole map has at most
 * WINO_NB tiles (a 16x16 map: two blocks, half the scratch, a block for
 * each of two threads) or, F(4x4), where V would pass 512 KB */
static int64_t wino_bw(const nncc_conv2d_params *p, int f4)
{
    int64_t th, tw;
    wino_tiles(p, &th, &tw, f4);
    return th * tw <= WINO_NB || (f4 && 36 * p->c * WINO_NB > 131072) ? WINO_NB / 2 : WINO_NB;
}

/* The distance between rows c and c+1 of one V_xi: bw, and for F(4x4) 16
 * more, so that its transform stores 16 tiles at a time whatever their
 * count (the columns past the tiles are another tile row's, written after,
 * or past the block, zeroed after) */
static int64_t wino_rs(int64_t bw, int f4)
{
    return f4 ? bw + 16 : bw;
}

/* The distance between V_xi and V_xi+1 (floats): C rows and 16 more,
 * so that the stores of a tile's transform do not all fall in one L1 set
 * (C * bw floats are a multiple of 4 KB). */
static int64_t wino_vs(int64_t c, int64_t bw, int f4)
{
    return c * wino_rs(bw, f4) + 16;
}

/* Floats of one thread's part of the scratch: V and Mt (and for F(4x4) 16
 * floats that its output transform may read past Mt's end) */
static int64_t wino_per_thread(const nncc_conv2d_params *p, int f4)
{
    const int64_t bw = wino_bw(p, f4), np = f4 ? 36 : 16;
    return np * wino_vs(p->c, bw, f4) + np * 2 * MR * bw + (f4 ? 16 : 0);
}

int64_t nncc_conv2d_winograd_packed_size(const nncc_conv2d_params *p)
{
    return 16 * ((p->m + MR - 1) / MR) * MR * p->c;
}

int64_t nncc_conv2d_winograd4_packed_size(const nncc_conv2d_params *p)
{
    return 36 * ((p->m + MR - 1) / MR) * MR * p->c;
}

/* U_xi = (G g G^T)[r][s], xi = r * a + s, for the a x a points (G: a x 3),
 * computed in double and rounded once */
static void wino_pack(const nncc_conv2d_params *p, const float *w, float *wp, const double (*G)[3], int a)
{
    const int64_t panels = (p->m + MR - 1) / MR;
    for (int xi = 0; xi < a * a; xi++) {
        const int r = xi / a, s = xi % a;
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

void nncc_conv2d_winograd_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    static const double G[4][3] = { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };
    wino_pack(p, w, wp, G, 4);
}

void nncc_conv2d_winograd4_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp)
{
    static const double G[6][3] = { { 1.0 / 4, 0, 0 },
                                    { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
                                    { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
                                    { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
                                    { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
                                    { 0, 0, 1 } };
    wino_pack(p, w, wp, G, 6);
}

/* Floats of the scratch the threads share: off[C] (int32) and W zeros,
 * each rounded up to 16. */
static int64_t wino_shared(const nncc_conv2d_params *p)
{
    return (p->c + 15) / 16 * 16 + (p->w + 15) / 16 * 16;
}

int64_t nncc_conv2d_winograd_scratch_size(const nncc_conv2d_params *p)
{
    return wino_shared(p) + (p->threads > 1 ? p->threads : 1) * wino_per_thread(p, 0);
}

int64_t nncc_conv2d_winograd4_scratch_size(const nncc_conv2d_params *p)
{
    return wino_shared(p) + (p->threads > 1 ? p->threads : 1) * wino_per_thread(p, 1);
}

#if defined(NNCC_SGEMM_AVX2) && !defined(NNCC_SGEMM_WIDE)
/* x[1], x[3], ..., x[15] (reads x[0..15]) */
static __m256 load_odd8(const float *x)
{
    const __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8), _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
}
#endif

#if defined(NNCC_SGEMM_WIDE)
/* The input transform of n <= 16 consecutive tiles of one tile row, for all
 * C channels of the image x(C,H,W): tile j's patch is rows iy..iy+3 and
 * columns ix + 2j .. ix + 2j + 3 (zero outside the input); channel c's
 * goes to v[xi * vs + c * bw + j] (bw: the block's tiles). zrow: W zeros, read for the rows
 * outside the input. Written out in full (no arrays of vectors: gcc -O2
 * keeps those on the stack). */
static void wino_in16(const nncc_conv2d_params *p, const float *x, const float *zrow, int64_t iy, int64_t ix,
                      int64_t n, float *v, int64_t vs, int64_t bw)
{
    const int64_t w = p->w, hw = p->h * p->w;
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __mmask16 k = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    /* the 16 columns from ix + o (o = 0, 16, 2, 18, for q = 0..3) of which
     * lanes [lo, hi) are inside the row: a masked load of hi - lo lanes at
     * column ix + o + lo, so that nothing outside the input is read, moved
     * up by lo lanes where lo > 0 (the tiles at the left edge). The same
     * for every row and channel. */
#define NNCC_WMASK(q, o)                                                                         \
    const int64_t col##q = ix + (o);                                                             \
    const int lo##q = col##q < 0 ? (int)min64(-col##q, 16) : 0;                                  \
    const int hi##q = col##q < w ? (int)min64(w - col##q, 16) : 0;                               \
    const __mmask16 kl##q = hi##q > lo##q ? (__mmask16)((1u << (hi##q - lo##q)) - 1) : 0;        \
    const __mmask16 km##q = (__mmask16)(kl##q << lo##q);                                         \
    const int64_t at##q = hi##q > lo##q ? col##q + lo##q : 0;                                    \
    const __m512i sh##q = _mm512_sub_epi32(lane, _mm512_set1_epi32(lo##q));
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    NNCC_WMASK(0, 0) NNCC_WMASK(1, 16) NNCC_WMASK(2, 2) NNCC_WMASK(3, 18)
#undef NNCC_WMASK
    const int shift = lo0 | lo1 | lo2 | lo3;
    /* a row outside the input reads the zero row, the same for every channel */
#define NNCC_WRM(i)                                                                              \
    const int in##i = iy + (i) >= 0 && iy + (i) < p->h;                                          \
    const float *x##i = in##i ? x + (iy + (i)) * w : zrow;                                       \
    const int64_t step##i = in##i ? hw : 0;
    NNCC_WRM(0) NNCC_WRM(1) NNCC_WRM(2) NNCC_WRM(3)
#undef NNCC_WRM
    for (int64_t c = 0; c < p->c; c++, x0 += step0, x1 += step1, x2 += step2, x3 += step3) {
        float *vc = v + c * bw;
#define NNCC_WROW(i)                                                                             \
    __m512 a##i = _mm512_maskz_loadu_ps(kl0, x##i + at0);                                        \
    __m512 b##i = _mm512_maskz_loadu_ps(kl1, x##i + at1);                                        \
    __m512 c##i = _mm512_maskz_loadu_ps(kl2, x##i + at2);                                        \
    __m512 e##i = _mm512_maskz_loadu_ps(kl3, x##i + at3);
        NNCC_WROW(0) NNCC_WROW(1) NNCC_WROW(2) NNCC_WROW(3)
#undef NNCC_WROW
        if (shift) {
#define NNCC_WROW(i)                                                                             \
    a##i = _mm512_maskz_permutexvar_ps(km0, sh0, a##i);                                          \
    b##i = _mm512_maskz_permutexvar_ps(km1, sh1, b##i);                                          \
    c##i = _mm512_maskz_permutexvar_ps(km2, sh2, c##i);                                          \
    e##i = _mm512_maskz_permutexvar_ps(km3, sh3, e##i);
            NNCC_WROW(0) NNCC_WROW(1) NNCC_WROW(2) NNCC_WROW(3)
#undef NNCC_WROW
        }
        /* row i of the 16 patches, columns 0..3: even and odd elements of
         * the 32 columns from ix and from ix + 2 */
#define NNCC_WROW(i)                                                                             \
    const __m512 r##i##0 = _mm512_permutex2var_ps(a##i, ie, b##i);                              \
    const __m512 r##i##1 = _mm512_permutex2var_ps(a##i, io, b##i);                              \
    const __m512 r##i##2 = _mm512_permutex2var_ps(c##i, ie, e##i);                              \
    const __m512 r##i##3 = _mm512_permutex2var_ps(c##i, io, e##i);
        NNCC_WROW(0) NNCC_WROW(1) NNCC_WROW(2) NNCC_WROW(3)
#undef NNCC_WROW
        /* B^T d: t(i, col) from the rows; then (B^T d) B along each t row */
#define NNCC_WCOL(c)                                                                             \
    const __m512 t0##c = _mm512_sub_ps(r0##c, r2##c), t1##c = _mm512_add_ps(r1##c, r2##c);      \
    const __m512 t2##c = _mm512_sub_ps(r2##c, r1##c), t3##c = _mm512_sub_ps(r1##c, r3##c);
        NNCC_WCOL(0) NNCC_WCOL(1) NNCC_WCOL(2) NNCC_WCOL(3)
#undef NNCC_WCOL
#define NNCC_WOUT(i)                                                                             \
    _mm512_mask_storeu_ps(vc + (4 * (i) + 0) * vs, k, _mm512_sub_ps(t##i##0, t##i##2));         \
    _mm512_mask_storeu_ps(vc + (4 * (i) + 1) * vs, k, _mm512_add_ps(t##i##1, t##i##2));         \
    _mm512_mask_storeu_ps(vc + (4 * (i) + 2) * vs, k, _mm512_sub_ps(t##i##2, t##i##1));         \
    _mm512_mask_storeu_ps(vc + (4 * (i) + 3) * vs, k, _mm512_sub_ps(t##i##1, t##i##3));
        NNCC_WOUT(0) NNCC_WOUT(1) NNCC_WOUT(2) NNCC_WOUT(3)
#undef NNCC_WOUT
    }
}
#else
/* V = B^T d B for the tile whose 4x4 patch is columns ix..ix+3 of the rows
 * r[0..3] (each w long; a column outside [0, w): zero padding) into
 * v[xi * vs] */
static void wino_in1(const float *const *r, int64_t w, int64_t ix, float *v, int64_t vs)
{
    float d[4][4], t[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[i][j] = ix + j >= 0 && ix + j < w ? r[i][ix + j] : 0.0f;
    for (int j = 0; j < 4; j++) {
        t[0][j] = d[0][j] - d[2][j], t[1][j] = d[1][j] + d[2][j];
        t[2][j] = d[2][j] - d[1][j], t[3][j] = d[1][j] - d[3][j];
    }
    for (int i = 0; i < 4; i++) {
        v[(i * 4 + 0) * vs] = t[i][0] - t[i][2];
        v[(i * 4 + 1) * vs] = t[i][1] + t[i][2];
        v[(i * 4 + 2) * vs] = t[i][2] - t[i][1];
        v[(i * 4 + 3) * vs] = t[i][1] - t[i][3];
    }
}

/* The input transform of n consecutive tiles of one tile row: tile j's
 * patch is columns ix0 + 2j .. ix0 + 2j + 3 of the rows r[0..3] (as
 * wino_in1); writes v[xi * vs + j]. */
static void wino_in_run(const float *const *r, int64_t w, int64_t ix0, int64_t n, float *v, int64_t vs)
{
    int64_t j = 0;
#if defined(NNCC_SGEMM_AVX2)
    /* 8 tiles at a time where their 18 columns are inside the rows;
     * written out in full (gcc -O2 keeps arrays of vectors on the stack) */
    for (; j < n && ix0 + 2 * j < 0; j++)
        wino_in1(r, w, ix0 + 2 * j, v + j, vs);
    for (; j + 8 <= n && ix0 + 2 * j + 18 <= w; j += 8) {
        const int64_t ix = ix0 + 2 * j;
#define NNCC_WROW(i)                                                                             \
    const __m256 r##i##0 = load_even8(r[i] + ix), r##i##1 = load_odd8(r[i] + ix);               \
    const __m256 r##i##2 = load_even8(r[i] + ix + 2), r##i##3 = load_odd8(r[i] + ix + 2);
        NNCC_WROW(0) NNCC_WROW(1) NNCC_WROW(2) NNCC_WROW(3)
#undef NNCC_WROW
#define NNCC_WCOL(c)                                                                             \
    const __m256 t0##c = _mm256_sub_ps(r0##c, r2##c), t1##c = _mm256_add_ps(r1##c, r2##c);      \
    const __m256 t2##c = _mm256_sub_ps(r2##c, r1##c), t3##c = _mm256_sub_ps(r1##c, r3##c);
        NNCC_WCOL(0) NNCC_WCOL(1) NNCC_WCOL(2) NNCC_WCOL(3)
#undef NNCC_WCOL
#define NNCC_WOUT(i)                                                                             \
    _mm256_storeu_ps(v + (4 * (i) + 0) * vs + j, _mm256_sub_ps(t##i##0, t##i##2));             \
    _mm256_storeu_ps(v + (4 * (i) + 1) * vs + j, _mm256_add_ps(t##i##1, t##i##2));             \
    _mm256_storeu_ps(v + (4 * (i) + 2) * vs + j, _mm256_sub_ps(t##i##2, t##i##1));             \
    _mm256_storeu_ps(v + (4 * (i) + 3) * vs + j, _mm256_sub_ps(t##i##1, t##i##3));
        NNCC_WOUT(0) NNCC_WOUT(1) NNCC_WOUT(2) NNCC_WOUT(3)
#undef NNCC_WOUT
    }
#endif
    for (; j < n; j++)
        wino_in1(r, w, ix0 + 2 * j, v + j, vs);
}
#endif

/* Epilogue of one output value (portable): bias, residual, Relu/Clip */
static float wino_epi(float v, float bias, const float *a, int clamp, float lo, float hi)
{
    v += bias;
    if (a)
        v += *a;
    return clamp_act(v, clamp, lo, hi);
}

/* The output transform of n consecutive tiles of one tile row, output
 * channel at mm (m_xi of tile j at mm[xi * ms + j]): Y = A^T M A, plus bias,
 * residual and Relu/Clip, into the output plane y (and the residual plane a,
 * or NULL) at tile (ty, tx). */
static void wino_out_run(const nncc_conv2d_params *p, const float *mm, int64_t ms, int64_t n, int64_t ty, int64_t tx,
                         float bias, const float *a, float *y, int clamp, float lo, float hi)
{
    const int64_t oy = 2 * ty, rows = oy + 1 < p->oh ? 2 : 1;
    int64_t j = 0;
#if defined(NNCC_SGEMM_WIDE)
    const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 bv = _mm512_set1_ps(bias), lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi);
    for (; j < n; j += 16) {
        /* A^T M: s0 = m0 + m4 + m8 and s1 = m4 - m8 - m12 per column c;
         * then (A^T M) A along s0 and s1 (written out: see wino_in_run) */
#define NNCC_WCOL(c)                                                                             \
    const __m512 m0##c = _mm512_loadu_ps(mm + j + (c) * ms);                                     \
    const __m512 m1##c = _mm512_loadu_ps(mm + j + (4 + (c)) * ms);                               \
    const __m512 m2##c = _mm512_loadu_ps(mm + j + (8 + (c)) * ms);                               \
    const __m512 m3##c = _mm512_loadu_ps(mm + j + (12 + (c)) * ms);                              \
    const __m512 s0##c = _mm512_add_ps(_mm512_add_ps(m0##c, m1##c), m2##c);                      \
    const __m512 s1##c = _mm512_sub_ps(_mm512_sub_ps(m1##c, m2##c), m3##c);
        NNCC_WCOL(0) NNCC_WCOL(1) NNCC_WCOL(2) NNCC_WCOL(3)
#undef NNCC_WCOL
        /* the columns of these tiles only: the next ones may be another block's,
         * written by another thread */
        const int64_t ox = 2 * (tx + j), cols = min64(2 * min64(16, n - j), p->ow - ox);
        const __mmask16 k0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
        const __mmask16 k1 = cols >= 32 ? (__mmask16)0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
        for (int i = 0; i < rows; i++) {
            const __m512 e = i ? _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s10, s11), s12), bv)
                               : _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s00, s01), s02), bv);
            const __m512 od = i ? _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s11, s12), s13), bv)
                                : _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s01, s02), s03), bv);
            const int64_t o = (oy + i) * p->ow + ox;
            /* even and odd output columns interleaved */
            __m512 v0 = _mm512_permutex2var_ps(e, il, od), v1 = _mm512_permutex2var_ps(e, ih, od);
            if (a) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, a + o));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, a + o + 16));
            }
            /* max/min return the second operand for a NaN: Relu gives 0,
             * Clip keeps it, as the reference */
            if (clamp == 1) {
                v0 = _mm512_max_ps(v0, lov);
                v1 = _mm512_max_ps(v1, lov);
            } else if (clamp == 3) {
                v0 = _mm512_min_ps(hiv, _mm512_max_ps(lov, v0));
                v1 = _mm512_min_ps(hiv, _mm512_max_ps(lov, v1));
            }
            _mm512_mask_storeu_ps(y + o, k0, v0);
            _mm512_mask_storeu_ps(y + o + 16, k1, v1);
        }
    }
#elif defined(NNCC_SGEMM_AVX2)
    /* 8 tiles = 16 output columns of two rows, all inside the output */
    const __m256 bv = _mm256_set1_ps(bias), lov = _mm256_set1_ps(lo), hiv = _mm256_set1_ps(hi);
    for (; j + 8 <= n && 2 * (tx + j) + 16 <= p->ow; j += 8) {
#define NNCC_WCOL(c)                                                                             \
    const __m256 m0##c = _mm256_loadu_ps(mm + j + (c) * ms);                                     \
    const __m256 m1##c = _mm256_loadu_ps(mm + j + (4 + (c)) * ms);                               \
    const __m256 m2##c = _mm256_loadu_ps(mm + j + (8 + (c)) * ms);                               \
    const __m256 m3##c = _mm256_loadu_ps(mm + j + (12 + (c)) * ms);                              \
    const __m256 s0##c = _mm256_add_ps(_mm256_add_ps(m0##c, m1##c), m2##c);                      \
    const __m256 s1##c = _mm256_sub_ps(_mm256_sub_ps(m1##c, m2##c), m3##c);
        NNCC_WCOL(0) NNCC_WCOL(1) NNCC_WCOL(2) NNCC_WCOL(3)
#undef NNCC_WCOL
        __m256 r[2][2];
        r[0][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s00, s01), s02), bv);
        r[0][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s01, s02), s03), bv);
        r[1][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s10, s11), s12), bv);
        r[1][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s11, s12), s13), bv);
        for (int i = 0; i < rows; i++) {
            const int64_t o = (oy + i) * p->ow + 2 * (tx + j);
            const __m256 l = _mm256_unpacklo_ps(r[i][0], r[i][1]), h = _mm256_unpackhi_ps(r[i][0], r[i][1]);
            __m256 v0 = _mm256_permute2f128_ps(l, h, 0x20), v1 = _mm256_permute2f128_ps(l, h, 0x31);
            if (a) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(a + o));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(a + o + 8));
            }
            if (clamp == 1) {
                v0 = _mm256_max_ps(v0, lov);
                v1 = _mm256_max_ps(v1, lov);
            } else if (clamp == 3) {
                v0 = _mm256_min_ps(hiv, _mm256_max_ps(lov, v0));
                v1 = _mm256_min_ps(hiv, _mm256_max_ps(lov, v1));
            }
            _mm256_storeu_ps(y + o, v0);
            _mm256_storeu_ps(y + o + 8, v1);
        }
    }
#endif
    for (; j < n; j++) {
        float s0[4], s1[4];
        for (int c = 0; c < 4; c++) {
            const float *q = mm + j + c * ms;
            const float m0 = q[0], m1 = q[4 * ms], m2 = q[8 * ms], m3 = q[12 * ms];
            s0[c] = m0 + m1 + m2;
            s1[c] = m1 - m2 - m3;
        }
        const float r[2][2] = { { s0[0] + s0[1] + s0[2], s0[1] - s0[2] - s0[3] },
                                { s1[0] + s1[1] + s1[2], s1[1] - s1[2] - s1[3] } };
        const int64_t ox = 2 * (tx + j);
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < 2 && ox + c < p->ow; c++) {
                const int64_t o = (oy + i) * p->ow + ox + c;
                y[o] = wino_epi(r[i][c], bias, a ? a + o : 0, clamp, lo, hi);
            }
    }
}

/* Zeroes columns [nt, up to a whole micro-kernel tile) of the np x C rows
 * of V (rows rs apart, V_xi vs apart), so the products past a block's nt
 * tiles read no stale values */
static void wino_zero_tail(float *V, int np, int64_t C, int64_t rs, int64_t vs, int64_t nt, int64_t bw)
{
    const int64_t zend = min64((nt + TW - 1) / TW * TW, bw);
    for (int xi = 0; xi < np; xi++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t j = nt; j < zend; j++)
                V[xi * vs + c * rs + j] = 0.0f;
}

/* Step 1 for tiles [t0, t1) of image x(C,H,W): V[xi][c][t - t0], read
 * straight from the input (padding: rows and columns outside it are 0);
 * columns [t1 - t0, up to a whole micro-kernel tile) are zeroed so the
 * products read no stale values. */
static void wino_in_block(const nncc_conv2d_params *p, const float *x, const float *zrow, int64_t tw, int64_t t0,
                          int64_t t1, int64_t bw, float *V)
{
    const int64_t C = p->c, nt = t1 - t0, vs = wino_vs(C, bw, 0);
    for (int64_t t = t0; t < t1;) {
        const int64_t ty = t / tw, tx = t % tw, n = min64(tw - tx, t1 - t);
#if defined(NNCC_SGEMM_WIDE)
        for (int64_t j = 0; j < n; j += 16)
            wino_in16(p, x, zrow, 2 * ty - p->pt, 2 * (tx + j) - p->pl, min64(16, n - j), V + (t - t0) + j, vs, bw);
#else
        for (int64_t c = 0; c < C; c++) {
            const float *xc = x + c * p->h * p->w, *r[4];
            for (int i = 0; i < 4; i++) {
                const int64_t iy = 2 * ty + i - p->pt;
                r[i] = iy >= 0 && iy < p->h ? xc + iy * p->w : zrow;
            }
            wino_in_run(r, p->w, 2 * tx - p->pl, n, V + c * bw + (t - t0), vs);
        }
#endif
        t += n;
    }
    wino_zero_tail(V, 16, C, bw, vs, nt, bw);
}


/* ---- Winograd F(4x4, 3x3) ----
 * The same scheme with 4x4 output tiles from 6x6 input patches (tiles
 * overlap by 2), 36 products of C x tiles, 1/4 of the direct
 * convolution's multiply-adds (F(2x2): 4/9); with the points 0, +-1, +-2:
 *     G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 *          1/24 -1/12 1/6; 0 0 1]
 *     B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *            0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *     A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * The transforms run on 16 tiles of a tile row at a time, as rows of 16
 * floats (loops of 16 that compilers vectorise for any target); gathering
 * the patches' columns (stride 4) and spreading the output columns back
 * are permutes with AVX-512, element by element otherwise. The weights
 * take 36 x C x M floats (4x the direct convolution's), and the scaling
 * in B^T, G and A^T costs rounding: up to 7.3e-5 of the largest output on
 * random data (tests/unit/test_kernels.c; F(2x2) within 3e-5), 5e-7 at
 * ResNet-18's output against ONNX Runtime. */
#define W4 16 /* tiles transformed at once */

/* o[i * os][l] = sum_q B^T[i][q] d[q * ds][l] for the 6 rows of B^T */
static inline void w4_bt(const float *restrict d, int64_t ds, float *restrict o, int64_t os)
{
    for (int l = 0; l < W4; l++) {
        const float d0 = d[l], d1 = d[ds + l], d2 = d[2 * ds + l], d3 = d[3 * ds + l], d4 = d[4 * ds + l];
        const float d5 = d[5 * ds + l];
        o[l] = 4.0f * d0 - 5.0f * d2 + d4;
        o[os + l] = d3 + d4 - 4.0f * (d1 + d2);
        o[2 * os + l] = d4 - d3 + 4.0f * (d1 - d2);
        o[3 * os + l] = d4 - d2 + 2.0f * (d3 - d1);
        o[4 * os + l] = d4 - d2 + 2.0f * (d1 - d3);
        o[5 * os + l] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* o[i * os][l] = sum_q A^T[i][q] m[q * ms][l] for the 4 rows of A^T */
static inline void w4_at(const float *restrict m, int64_t ms, float *restrict o, int64_t os)
{
    for (int l = 0; l < W4; l++) {
        const float m0 = m[l], m1 = m[ms + l], m2 = m[2 * ms + l], m3 = m[3 * ms + l], m4 = m[4 * ms + l];
        const float m5 = m[5 * ms + l];
        const float a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
        o[l] = m0 + a + c;
        o[os + l] = b + 2.0f * e;
        o[2 * os + l] = a + 4.0f * c;
        o[3 * os + l] = b + 8.0f * e + m5;
    }
}

/* The columns ix .. ix + 4 * W4 + 1 of a row that W4 tiles from column ix
 * read, as 5 vectors of 16 (AVX-512): which lanes are inside [0, w), found
 * once for all the rows and channels of a run of tiles */
typedef struct {
    int64_t ix, w;
#if defined(NNCC_SGEMM_WIDE)
    int64_t at[5];            /* where vector k's load starts (inside the row) */
    __mmask16 kl[5], km[5];   /* its lanes loaded, and where they go */
    int lo[5];                /* lanes moved up (the row's left edge) */
#endif
} w4_cols;

static void w4_cols_init(w4_cols *g, int64_t ix, int64_t w)
{
    g->ix = ix, g->w = w;
#if defined(NNCC_SGEMM_WIDE)
    for (int k = 0; k < 5; k++) {
        const int64_t col = ix + 16 * k;
        const int lo = col < 0 ? (int)min64(-col, 16) : 0, hi = col < w ? (int)min64(w - col, 16) : 0;
        g->lo[k] = hi > lo ? lo : 0;
        g->kl[k] = hi > lo ? (__mmask16)((1u << (hi - lo)) - 1) : 0;
        g->km[k] = (__mmask16)(g->kl[k] << g->lo[k]);
        g->at[k] = hi > lo ? col + lo : 0;
    }
#endif
}

/* d[q][l] = row[ix + 4l + q] for the W4 tiles of g (0 outside [0, w); row
 * NULL: a row outside the input) */
static void w4_gather(const float *row, const w4_cols *g, float (*d)[W4])
{
    if (!row) {
        memset(d, 0, 6 * W4 * sizeof(float));
        return;
    }
#if defined(NNCC_SGEMM_WIDE)
    __m512 z[5];
    for (int k = 0; k < 5; k++) {
        z[k] = _mm512_maskz_loadu_ps(g->kl[k], row + g->at[k]);
        if (g->lo[k]) {
            const __m512i up = _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                _mm512_set1_epi32(g->lo[k]));
            z[k] = _mm512_maskz_permutexvar_ps(g->km[k], up, z[k]);
        }
    }
    /* lanes 0..7: column 4l + q of l = 0..7, lanes 8..15: of q + 1 */
    const __m512i i01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i i23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    const __m512 a01 = _mm512_permutex2var_ps(z[0], i01, z[1]), b01 = _mm512_permutex2var_ps(z[2], i01, z[3]);
    const __m512 a23 = _mm512_permutex2var_ps(z[0], i23, z[1]), b23 = _mm512_permutex2var_ps(z[2], i23, z[3]);
    const __m512 q0 = _mm512_shuffle_f32x4(a01, b01, 0x44), q1 = _mm512_shuffle_f32x4(a01, b01, 0xee);
    const __m512 q2 = _mm512_shuffle_f32x4(a23, b23, 0x44), q3 = _mm512_shuffle_f32x4(a23, b23, 0xee);
    /* columns 4l + 4 and 4l + 5: q0 and q1 one tile on, columns 64 and 65 last */
    const __m512i i64 = _mm512_castps_si512(z[4]);
    const __m512 q4 = _mm512_castsi512_ps(_mm512_alignr_epi32(i64, _mm512_castps_si512(q0), 1));
    const __m512 q5 =
        _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_alignr_epi32(i64, i64, 1), _mm512_castps_si512(q1), 1));
    _mm512_storeu_ps(d[0], q0), _mm512_storeu_ps(d[1], q1), _mm512_storeu_ps(d[2], q2);
    _mm512_storeu_ps(d[3], q3), _mm512_storeu_ps(d[4], q4), _mm512_storeu_ps(d[5], q5);
#else
    for (int l = 0; l < W4; l++)
        for (int q = 0; q < 6; q++) {
            const int64_t c = g->ix + 4 * l + q;
            d[q][l] = c >= 0 && c < g->w ? row[c] : 0.0f;
        }
#endif
}

/* Step 1 for F(4x4): tiles [t0, t1) of image x(C,H,W) into V[xi][c][t - t0]
 * (rows rs apart); columns past the tiles, to a whole micro-kernel tile,
 * zeroed */
static void wino4_in_block(const nncc_conv2d_params *p, const float *x, int64_t tw, int64_t t0, int64_t t1,
                           int64_t bw, float *V)
{
    const int64_t C = p->c, nt = t1 - t0, rs = wino_rs(bw, 1), vs = wino_vs(C, bw, 1), hw = p->h * p->w;
    float d[6][W4], t[6][6][W4], u[6][W4]; /* t[s][r]: row r of the patches after B^T along it */
    for (int64_t ti = t0; ti < t1;) {
        const int64_t ty = ti / tw, tx = ti % tw, n = min64(min64(tw - tx, t1 - ti), W4);
        const int64_t iy = 4 * ty - p->pt;
        w4_cols g;
        w4_cols_init(&g, 4 * tx - p->pl, p->w);
        for (int64_t c = 0; c < C; c++) {
            const float *xc = x + c * hw;
            for (int r = 0; r < 6; r++) {
                w4_gather(iy + r >= 0 && iy + r < p->h ? xc + (iy + r) * p->w : 0, &g, d);
                w4_bt(d[0], W4, t[0][r], 6 * W4);
            }
            /* then down each column s: V[r' * 6 + s] = sum_r B^T[r'][r] t[s][r]
             * (all W4 columns stored: see wino_rs) */
            float *vc = V + c * rs + (ti - t0);
            for (int s2 = 0; s2 < 6; s2++) {
                w4_bt(t[s2][0], W4, u[0], W4); /* (constant strides: vectorised) */
                for (int r = 0; r < 6; r++)
                    memcpy(vc + (r * 6 + s2) * vs, u[r], sizeof u[r]);
            }
        }
        ti += n;
    }
    wino_zero_tail(V, 36, C, rs, vs, nt, bw);
}

/* The output transform for F(4x4) of n <= W4 tiles of one tile row,
 * output channel at mm (m_xi of tile j at mm[xi * ms + j]): Y = A^T M A,
 * plus bias, residual and Relu/Clip, into the plane y (residual plane a,
 * or NULL) at tile (ty, tx). */
static void wino4_out16(const nncc_conv2d_params *p, const float *mm, int64_t ms, int64_t n, int64_t ty, int64_t tx,
                        float bias, const float *a, float *y, int clamp, float lo, float hi)
{
    float w[4][6][W4], o[4][4][W4];
    /* A^T down each column q of the 6x6 (w[r'][q]), then along each row */
    for (int q = 0; q < 6; q++)
        w4_at(mm + q * ms, 6 * ms, w[0][q], 6 * W4);
    for (int r = 0; r < 4; r++)
        w4_at(w[r][0], W4, o[r][0], W4);
    const int64_t ox = 4 * tx, cols = min64(4 * n, p->ow - ox);
    for (int r = 0; r < 4 && 4 * ty + r < p->oh; r++) {
        const int64_t at = (4 * ty + r) * p->ow + ox;
#if defined(NNCC_SGEMM_WIDE)
        /* column 4l + c of the row from o[r][c][l]: pairs, then pairs of pairs */
        const __m512i ip = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i iq = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const __m512 c0 = _mm512_loadu_ps(o[r][0]), c1 = _mm512_loadu_ps(o[r][1]);
        const __m512 c2 = _mm512_loadu_ps(o[r][2]), c3 = _mm512_loadu_ps(o[r][3]);
        const __m512d p01 = _mm512_castps_pd(_mm512_permutex2var_ps(c0, ip, c1));
        const __m512d p01h = _mm512_castps_pd(_mm512_permutex2var_ps(c0, iq, c1));
        const __m512d p23 = _mm512_castps_pd(_mm512_permutex2var_ps(c2, ip, c3));
        const __m512d p23h = _mm512_castps_pd(_mm512_permutex2var_ps(c2, iq, c3));
        const __m512i jl = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), jh = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
        __m512 v[4];
        v[0] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01, jl, p23));
        v[1] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01, jh, p23));
        v[2] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01h, jl, p23h));
        v[3] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01h, jh, p23h));
        const __m512 bv = _mm512_set1_ps(bias), lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi);
        for (int k = 0; k < 4 && 16 * k < cols; k++) {
            const int64_t left = cols - 16 * k;
            const __mmask16 km = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            __m512 x = _mm512_add_ps(v[k], bv);
            if (a)
                x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(km, a + at + 16 * k));
            /* max/min return the second operand for a NaN: Relu gives 0,
             * Clip keeps it, as the reference */
            if (clamp == 1)
                x = _mm512_max_ps(x, lov);
            else if (clamp == 3)
                x = _mm512_min_ps(hiv, _mm512_max_ps(lov, x));
            _mm512_mask_storeu_ps(y + at + 16 * k, km, x);
        }
#else
        for (int64_t j = 0; j < cols; j++)
            y[at + j] = wino_epi(o[r][j % 4][j / 4], bias, a ? a + at + j : 0, clamp, lo, hi);
#endif
    }
}

static void wino4_out_run(const nncc_conv2d_params *p, const float *mm, int64_t ms, int64_t n, int64_t ty, int64_t tx,
                          float bias, const float *a, float *y, int clamp, float lo, float hi)
{
    for (int64_t j = 0; j < n; j += W4)
        wino4_out16(p, mm + j, ms, min64(W4, n - j), ty, tx + j, bias, a, y, clamp, lo, hi);
}
#undef W4

/* F(2x2, 3x3) or (f4) F(4x4, 3x3): the driver both share (a constant
 * where inlined) */
static inline void wino_run(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                            const float *add, float *y, float *scratch, const int f4)
{
    int64_t th, tw;
    wino_tiles(p, &th, &tw, f4);
    const int np = f4 ? 36 : 16; /* the products */
    const int64_t C = p->c, M = p->m, T = th * tw, hw = p->h * p->w, npix = p->oh * p->ow;
    const int64_t bw = wino_bw(p, f4), panels = (M + MR - 1) / MR, nb = (T + bw - 1) / bw;
    const int64_t rs = wino_rs(bw, f4), vs = wino_vs(C, bw, f4);
    const int32_t ak = p->act.kind;
    const int clamp = ak == NNCC_ACT_RELU ? 1 : ak == NNCC_ACT_CLIP ? 3 : 0;
    const float lo = ak == NNCC_ACT_CLIP ? p->act.alpha : 0.0f;
    const float hi = ak == NNCC_ACT_CLIP ? p->act.beta : 0.0f;
    int32_t *const off = (int32_t *)(void *)scratch;
    float *const zrow = scratch + (C + 15) / 16 * 16, *const thr = scratch + wino_shared(p);
    for (int64_t c = 0; c < C; c++)
        off[c] = (int32_t)(c * rs);
    for (int64_t s = 0; s < p->w; s++)
        zrow[s] = 0.0f;
    const int nt = p->threads > 1 ? (int)p->threads : 1;
    /* the work items: (image, block, range of output panels), in that
     * order; the panels are split (at pairs) only when there are fewer
     * than 8 blocks a thread. Each thread takes a contiguous run of items
     * (nncc_par), so it transforms each block it meets once. */
    const int64_t pairs = (panels + 1) / 2, nbt = p->n * nb;
    const int64_t mparts = nt > 1 ? min64(pairs, (8 * nt + nbt - 1) / nbt) : 1;
    const int64_t items = nbt * mparts;
    nncc_par par;
    nncc_par_init(&par, nt, items);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1 && items > 1)
#endif
    {
        const int64_t me = nncc_par_me();
        float *const V = thr + me * wino_per_thread(p, f4), *const Mt = V + np * vs;
        int64_t have = -1; /* the (image, block) V holds */
        for (int64_t it, run = 0; (it = nncc_par_take(&par, me, &run)) >= 0;) {
            const int64_t nbk = it / mparts, mp = it % mparts, n = nbk / nb, t0 = nbk % nb * bw;
            const int64_t t1 = min64(t0 + bw, T), nsub = (t1 - t0 + TW - 1) / TW;
            const int64_t p0 = min64(panels, 2 * (pairs * mp / mparts));
            const int64_t p1 = min64(panels, 2 * (pairs * (mp + 1) / mparts));
            if (have != nbk) {
                if (f4)
                    wino4_in_block(p, x + n * C * hw, tw, t0, t1, bw, V);
                else
                    wino_in_block(p, x + n * C * hw, zrow, tw, t0, t1, bw, V);
                have = nbk;
            }
            for (int64_t pi = p0; pi < p1;) {
#if defined(NNCC_SGEMM_OFF2)
                const int two = pi + 1 < p1;
#else
                const int two = 0;
#endif
                /* 2. Mt[xi][h * MR + i][j] = U_xi V_xi for the one or two panels */
                for (int xi = 0; xi < np; xi++) {
                    const float *ax = wp + (xi * panels + pi) * MR * C, *vx = V + xi * vs;
                    for (int64_t sb = 0; sb < nsub; sb++) {
                        tile tt[2];
                        for (int h = 0; h < 2; h++) {
                            tile *t = &tt[h];
                            t->c = Mt + (xi * 2 + h) * MR * bw + sb * TW, t->ldc = bw;
                            t->mr = MR, t->nr = TW;
                            t->load = 0, t->bias = 0, t->add = 0, t->clamp = 0, t->lo = t->hi = 0.0f;
                            t->gw = t->gow = t->gx = 0;
                        }
#if defined(NNCC_SGEMM_OFF2)
                        if (two) {
                            micro_kernel_off2(C, ax, ax + MR * C, vx + sb * TW, off, &tt[0], &tt[1]);
                            continue;
                        }
#endif
                        micro_kernel_off(C, ax, vx + sb * TW, off, &tt[0]);
                    }
                }
                /* 3. the output transform of the panels' channels */
                const int64_t m1 = min64((pi + 1 + two) * MR, M);
                for (int64_t m = pi * MR; m < m1; m++) {
                    const float *mm = Mt + (m - pi * MR) * bw;
                    const int64_t yo = (n * M + m) * npix;
                    for (int64_t t = t0; t < t1;) {
                        const int64_t ty = t / tw, tx = t % tw, cnt = min64(tw - tx, t1 - t);
                        if (f4)
                            wino4_out_run(p, mm + (t - t0), 2 * MR * bw, cnt, ty, tx, b ? b[m] : 0.0f,
                                          add ? add + yo : 0, y + yo, clamp, lo, hi);
                        else
                            wino_out_run(p, mm + (t - t0), 2 * MR * bw, cnt, ty, tx, b ? b[m] : 0.0f,
                                         add ? add + yo : 0, y + yo, clamp, lo, hi);
                        t += cnt;
                    }
                }
                pi += 1 + two;
            }
        }
    }
    if (ak != NNCC_ACT_NONE && !clamp)
        nncc_act_f32(&p->act, p->n * p->m * npix, y);
}

void nncc_conv2d_winograd_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch)
{
    wino_run(p, x, wp, b, add, y, scratch, 0);
}

void nncc_conv2d_winograd4_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                               const float *add, float *y, float *scratch)
{
    wino_run(p, x, wp, b, add, y, scratch, 1);
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
#define GEMV_PF_BYTES (1 << 20) /* B larger than this is prefetched (see gemv_panels) */
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

/* acc[q][0..NR) = sum_k x[k * xs] * b_q[k][0..NR) for np <= GEMV_NP packed
 * panels b_q = b + q * K * NR, their sums in registers. Batch-1 Gemm is a
 * stream of weights: with AVX-512 four panels share each broadcast of x
 * (4 loads of B, 1 of x, 4 FMAs a step) in two chains per panel. The plain
 * C loop over arrays kept its sums in memory (gcc 12 -O2: a load, FMA and
 * store a step; weightnorm_mlp's 784 -> 256 layer 13 us on a Xeon). */
#if defined(NNCC_SGEMM_WIDE)
#define GEMV_NP 4
NNCC_TILE_INLINE void gemv_np(const int np, const int pf, int64_t K, const float *x, int64_t xs, const float *b,
                              float *acc)
{
    /* written out per panel: gcc 12 kept arrays of sums in memory even where
     * np is a constant */
    const int64_t ps = K * NR;
    const float *b0 = b, *b1 = b + ps, *b2 = b + 2 * ps, *b3 = b + 3 * ps;
    __m512 s00 = _mm512_setzero_ps(), s01 = s00, s10 = s00, s11 = s00;
    __m512 s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    int64_t k = 0;
#define NNCC_GV(q)                                                           \
    if (np > q) {                                                            \
        if (pf)                                                              \
            NNCC_PREFETCH((uintptr_t)(b##q + k * NR) + NNCC_PF_BYTES);       \
        s##q##0 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b##q + k * NR), s##q##0); \
        s##q##1 = _mm512_fmadd_ps(x1, _mm512_loadu_ps(b##q + k * NR + NR), s##q##1); \
    }
    for (; k + 2 <= K; k += 2) {
        const __m512 x0 = _mm512_set1_ps(x[k * xs]), x1 = _mm512_set1_ps(x[(k + 1) * xs]);
        NNCC_GV(0) NNCC_GV(1) NNCC_GV(2) NNCC_GV(3)
    }
#undef NNCC_GV
    if (k < K) {
        const __m512 x0 = _mm512_set1_ps(x[k * xs]);
        s00 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b0 + k * NR), s00);
        if (np > 1)
            s10 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b1 + k * NR), s10);
        if (np > 2)
            s20 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b2 + k * NR), s20);
        if (np > 3)
            s30 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b3 + k * NR), s30);
    }
    _mm512_storeu_ps(acc, _mm512_add_ps(s00, s01));
    if (np > 1)
        _mm512_storeu_ps(acc + NR, _mm512_add_ps(s10, s11));
    if (np > 2)
        _mm512_storeu_ps(acc + 2 * NR, _mm512_add_ps(s20, s21));
    if (np > 3)
        _mm512_storeu_ps(acc + 3 * NR, _mm512_add_ps(s30, s31));
}

/* pf: prefetch B, for weights larger than L2 (on the Xeon, a 2 MB
 * 512 x 1000 layer 61 -> 44 us; one of 800 KB, which stays in L2, 8.6 ->
 * 12.3 us with it: the hints take load slots) */
static void gemv_panels(int np, int64_t K, const float *x, int64_t xs, const float *b, float *acc, int pf)
{
    if (pf)
        switch (np) {
        case 4: gemv_np(4, 1, K, x, xs, b, acc); break;
        case 3: gemv_np(3, 1, K, x, xs, b, acc); break;
        case 2: gemv_np(2, 1, K, x, xs, b, acc); break;
        default: gemv_np(1, 1, K, x, xs, b, acc); break;
        }
    else
        switch (np) {
        case 4: gemv_np(4, 0, K, x, xs, b, acc); break;
        case 3: gemv_np(3, 0, K, x, xs, b, acc); break;
        case 2: gemv_np(2, 0, K, x, xs, b, acc); break;
        default: gemv_np(1, 0, K, x, xs, b, acc); break;
        }
}
#else
#define GEMV_NP 1
/* one panel, in four independent partial sums (constant trip counts:
 * vectorised at -O2) */
static void gemv_panels(int np, int64_t K, const float *x, int64_t xs, const float *b, float *acc, int pf)
{
    (void)np, (void)pf;
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
#endif

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
#else
    const int nt = 1;
#endif
    nncc_par par;
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
            const int64_t groups = (panels + GEMV_NP - 1) / GEMV_NP;
            nncc_par_init(&par, nt, groups);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1 && groups > 1)
#endif
            for (int64_t me = nncc_par_me(), run = 0, jg; (jg = nncc_par_take(&par, me, &run)) >= 0;) {
                float acc[GEMV_NP * NR];
                const int64_t j0 = jg * GEMV_NP * NR;
                gemv_panels((int)min64(GEMV_NP, panels - jg * GEMV_NP), K, x, xs, bp + j0 * K, acc,
                            K * N * (int64_t)sizeof(float) > GEMV_PF_BYTES);
                float *yc = yr + j0;
                for (int64_t j = 0, nr = min64(GEMV_NP * NR, N - j0); j < nr; j++)
                    yc[j] = clamp_act(acc[j] + (biased ? yc[j] : 0.0f), clamp, lo, hi);
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
                 * (nncc_par: a thread the OS holds back takes fewer) */
                nncc_par_init(&par, nt, nq);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1 && nq > 1)
#endif
                for (int64_t me = nncc_par_me(), run = 0, q; (q = nncc_par_take(&par, me, &run)) >= 0;) {
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
