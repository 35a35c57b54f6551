/*
 * nncc_rt_gemm.c - Gemm and MatMul, the portable reference.
 *
 * Y = alpha * op(A) op(B) + beta * C in the i-k-j loop order, so the inner
 * loop runs along a row of B and a row of Y (contiguous when B is not
 * transposed). Transposed B uses a dot product along K instead.
 */
#include "nncc_runtime.h"

void nncc_gemm_f32(const nncc_gemm_params *p, const float *a, const float *b,
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
        int64_t ao = 0, bo = 0;
        for (int64_t d = 0; d < p->rank; d++) {
            ao += idx[d] * p->a_step[d];
            bo += idx[d] * p->b_step[d];
        }
        nncc_gemm_f32(&g, a + ao, b + bo, 0, y + t * p->m * p->n);
        for (int64_t d = p->rank - 1; d >= 0; d--) {
            if (++idx[d] < p->dims[d])
                break;
            idx[d] = 0;
        }
    }
}
