/*
 * nncc_rt_gemm.c - Gemm and MatMul.
 *
 * nncc_gemm_ref_f32 is the reference: Y = alpha * op(A) op(B) + beta * C in
 * the i-k-j loop order, so the inner loop runs along a row of B and a row of
 * Y (contiguous when B is not transposed). Transposed B uses a dot product
 * along K instead.
 *
 * nncc_gemm_f32 is the fast version, written for the vectoriser and without
 * scratch memory: B (K,N) is read by 4 rows of Y at once (each row of B
 * loaded once per 4 rows of A); transposed B (N,K), the fully connected
 * layer's layout, by dot products of one row of A with 4 rows of B in
 * vector partial sums (AVX-512 or AVX2+FMA where the target has them).
 * Gemm at batch 1 is a matrix-vector product bound by
 * reading the weights, which these loops do once. Transposed A goes to the
 * reference. The bias and activation pass runs over Y afterwards.
 */
#include "nncc_runtime.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

/* y[r] = dot(x, b + r*K) for r < rows (1..4): vector partial sums along K,
 * two per row so that the FMA latency is hidden, added up at the end. */
static void dot_rows(int64_t K, const float *x, const float *b, int rows, float *y)
{
    const float *br[4];
    for (int r = 0; r < 4; r++)
        br[r] = b + (r < rows ? r : 0) * K; /* rows past the end repeat row 0, unused */
    float t[4];
    int64_t k = 0;
#if defined(__AVX512F__)
    __m512 s[4][2];
    for (int r = 0; r < 4; r++)
        s[r][0] = s[r][1] = _mm512_setzero_ps();
    for (; k + 32 <= K; k += 32) {
        const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
        for (int r = 0; r < 4; r++) {
            s[r][0] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(br[r] + k), s[r][0]);
            s[r][1] = _mm512_fmadd_ps(x1, _mm512_loadu_ps(br[r] + k + 16), s[r][1]);
        }
    }
    for (; k < K; k += 16) {
        const __mmask16 m = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
        const __m512 x0 = _mm512_maskz_loadu_ps(m, x + k);
        for (int r = 0; r < 4; r++)
            s[r][0] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, br[r] + k), s[r][0]);
    }
    for (int r = 0; r < 4; r++)
        t[r] = _mm512_reduce_add_ps(_mm512_add_ps(s[r][0], s[r][1]));
#elif defined(__AVX2__) && defined(__FMA__)
    __m256 s[4][2];
    for (int r = 0; r < 4; r++)
        s[r][0] = s[r][1] = _mm256_setzero_ps();
    for (; k + 16 <= K; k += 16) {
        const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
        for (int r = 0; r < 4; r++) {
            s[r][0] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(br[r] + k), s[r][0]);
            s[r][1] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(br[r] + k + 8), s[r][1]);
        }
    }
    for (int r = 0; r < 4; r++) {
        float l[8];
        _mm256_storeu_ps(l, _mm256_add_ps(s[r][0], s[r][1]));
        t[r] = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
#else
    /* 8 independent lanes per row, a constant trip count */
    float s[4][8] = { { 0 } };
    for (; k + 8 <= K; k += 8)
        for (int r = 0; r < 4; r++)
            for (int l = 0; l < 8; l++)
                s[r][l] += x[k + l] * br[r][k + l];
    for (int r = 0; r < 4; r++)
        t[r] = ((s[r][0] + s[r][1]) + (s[r][2] + s[r][3])) + ((s[r][4] + s[r][5]) + (s[r][6] + s[r][7]));
#endif
#if !defined(__AVX512F__)
    for (; k < K; k++)
        for (int r = 0; r < 4; r++)
            t[r] += x[k] * br[r][k];
#endif
    for (int r = 0; r < rows; r++)
        y[r] = t[r];
}

/* Y = alpha * Y + beta * C, then the activation. */
static void gemm_epilogue(const nncc_gemm_params *p, const float *c, float *y)
{
    const int64_t M = p->m, N = p->n;
    for (int64_t i = 0; i < M; i++) {
        float *yr = y + i * N;
        for (int64_t j = 0; j < N; j++) {
            float v = p->alpha * yr[j];
            switch (p->bias) {
            case NNCC_BIAS_SCALAR: v += p->beta * c[0]; break;
            case NNCC_BIAS_ROW:    v += p->beta * c[j]; break;
            case NNCC_BIAS_COL:    v += p->beta * c[i]; break;
            case NNCC_BIAS_FULL:   v += p->beta * c[i * N + j]; break;
            default: break;
            }
            yr[j] = v;
        }
    }
    nncc_act_f32(&p->act, M * N, y);
}

void nncc_gemm_f32(const nncc_gemm_params *p, const float *a, const float *b,
                   const float *c, float *y)
{
    const int64_t M = p->m, N = p->n, K = p->k;
    if (p->trans_a) {
        nncc_gemm_ref_f32(p, a, b, c, y);
        return;
    }
    if (p->trans_b) {
        /* y[i][j] = dot(A[i][:], B[j][:]), four rows of B at a time */
        for (int64_t i = 0; i < M; i++) {
            const float *ar = a + i * K;
            for (int64_t j = 0; j < N; j += 4) {
                const int rows = N - j < 4 ? (int)(N - j) : 4;
                dot_rows(K, ar, b + j * K, rows, y + i * N + j);
            }
        }
    } else {
        /* four rows of Y at a time: y[i+r][:] += A[i+r][k] * B[k][:] */
        int64_t i = 0;
        for (; i < M; i += 4) {
            const int64_t rows = M - i < 4 ? M - i : 4;
            float *y0 = y + i * N;
            float *y1 = rows > 1 ? y0 + N : y0, *y2 = rows > 2 ? y0 + 2 * N : y0, *y3 = rows > 3 ? y0 + 3 * N : y0;
            for (int64_t j = 0; j < rows * N; j++)
                y0[j] = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                const float *br = b + k * N;
                const float a0 = a[i * K + k];
                const float a1 = rows > 1 ? a[(i + 1) * K + k] : 0.0f;
                const float a2 = rows > 2 ? a[(i + 2) * K + k] : 0.0f;
                const float a3 = rows > 3 ? a[(i + 3) * K + k] : 0.0f;
                if (rows == 4) {
                    /* chunks of 8 with a constant trip count: vectorised at -O2 too */
                    float *restrict r0 = y0, *restrict r1 = y1, *restrict r2 = y2, *restrict r3 = y3;
                    const float *restrict bk = br;
                    int64_t j = 0;
                    for (; j + 8 <= N; j += 8)
                        for (int l = 0; l < 8; l++) {
                            const float bv = bk[j + l];
                            r0[j + l] += a0 * bv;
                            r1[j + l] += a1 * bv;
                            r2[j + l] += a2 * bv;
                            r3[j + l] += a3 * bv;
                        }
                    for (; j < N; j++) {
                        r0[j] += a0 * bk[j];
                        r1[j] += a1 * bk[j];
                        r2[j] += a2 * bk[j];
                        r3[j] += a3 * bk[j];
                    }
                } else {
                    for (int64_t j = 0; j < N; j++)
                        y0[j] += a0 * br[j];
                    if (rows > 1)
                        for (int64_t j = 0; j < N; j++)
                            y1[j] += a1 * br[j];
                    if (rows > 2)
                        for (int64_t j = 0; j < N; j++)
                            y2[j] += a2 * br[j];
                }
            }
        }
    }
    gemm_epilogue(p, c, y);
}

void nncc_gemm_ref_f32(const nncc_gemm_params *p, const float *a, const float *b,
                   const float *c, float *y)
{
    const int64_t M = p->m, N = p->n, K = p->k;
    for (int64_t i = 0; i < M; i++) {
        float *yr = y + i * N;
        if (p->trans_b) {
            /* B stored (N,K): y[i][j] = sum_k A[i][k] * B[j][k] */
            for (int64_t j = 0; j < N; j++) {
                const float *br = b + j * K;
                float s = 0.0f;
                for (int64_t k = 0; k < K; k++)
                    s += (p->trans_a ? a[k * M + i] : a[i * K + k]) * br[k];
                yr[j] = s;
            }
        } else {
            for (int64_t j = 0; j < N; j++)
                yr[j] = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                const float av = p->trans_a ? a[k * M + i] : a[i * K + k];
                const float *br = b + k * N;
                for (int64_t j = 0; j < N; j++)
                    yr[j] += av * br[j];
            }
        }
        for (int64_t j = 0; j < N; j++) {
            float v = p->alpha * yr[j];
            switch (p->bias) {
            case NNCC_BIAS_SCALAR: v += p->beta * c[0]; break;
            case NNCC_BIAS_ROW:    v += p->beta * c[j]; break;
            case NNCC_BIAS_COL:    v += p->beta * c[i]; break;
            case NNCC_BIAS_FULL:   v += p->beta * c[i * N + j]; break;
            default: break;
            }
            yr[j] = v;
        }
    }
    nncc_act_f32(&p->act, M * N, y);
}

void nncc_matmul_f32(const nncc_matmul_params *p, const float *a, const float *b, float *y)
{
    nncc_gemm_params g = { p->m, p->n, p->k, 0, 0, 1.0f, 0.0f, NNCC_BIAS_NONE,
                           { NNCC_ACT_NONE, 0.0f, 0.0f } };
    int64_t idx[NNCC_RT_MAX_RANK] = { 0 };
    for (int64_t t = 0; t < p->batch; t++) {
        int64_t ao, bo;
        nncc_batch_next(p->rank, p->dims, p->a_step, p->b_step, idx, &ao, &bo);
        nncc_gemm_f32(&g, a + ao, b + bo, 0, y + t * p->m * p->n);
    }
}
