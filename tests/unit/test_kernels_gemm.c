/*
 * test_kernels_gemm.c - the packed Gemm/MatMul kernel (nncc_sgemm_f32, B
 * packed as nncc packs a constant weight) against the reference
 * nncc_gemm_ref_f32, on shapes that hit every edge of the blocking: M, N not
 * multiples of the micro-kernel's rows and columns, M <= 2 (the
 * matrix-vector path), M deeper than one packed A block (MC = 96 rows), K
 * deeper than one K block (KC = 256), transposed A and B, alpha and beta,
 * every bias kind, Relu/Clip in the tile and other activations after; and
 * MatMul with batch dims, B broadcast or not, A broadcast.
 *
 * Built like test_kernels.c: portable (test_kernels_gemm), AVX2+FMA,
 * AVX-512, OpenMP (3 threads sharing the column panels), and for AArch64
 * under qemu (tests/neon/). Canary values after the output and the packed
 * buffers catch writes past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncc_runtime.h"

#define KT_SEED 4321
#include "kernel_test_util.h"

/* The kernels sum the same products in another order (and alpha is folded
 * into the packed B, so alpha * sum(a b) becomes sum(a (alpha b))): in fp32
 * over K <= 600 terms of size O(1) that differs by about sqrt(K) * eps of
 * the largest output; 3e-5 leaves a margin (as in test_kernels.c). A wrong
 * index or a lost block gives errors of order 1. */
#define TOL 3e-5

#ifndef NNCC_TEST_THREADS
#define NNCC_TEST_THREADS 0
#endif

static void run_sgemm(int64_t m, int64_t n, int64_t k, int ta, int tb, int bias, int act)
{
    nncc_gemm_params r;
    memset(&r, 0, sizeof r);
    r.m = m, r.n = n, r.k = k, r.trans_a = ta, r.trans_b = tb;
    r.alpha = 0.75f, r.beta = 1.5f, r.bias = bias;
    r.act.kind = act;
    r.act.alpha = act == NNCC_ACT_CLIP ? -0.25f : 0.1f;
    r.act.beta = act == NNCC_ACT_CLIP ? 0.5f : 0.2f;
    nncc_sgemm_params p;
    memset(&p, 0, sizeof p);
    p.m = m, p.n = n, p.k = k, p.trans_a = ta, p.bias = bias, p.beta = r.beta, p.act = r.act;
    p.batch = 1, p.threads = NNCC_TEST_THREADS;
    int64_t nc = bias == NNCC_BIAS_FULL ? m * n : bias == NNCC_BIAS_ROW ? n : bias == NNCC_BIAS_COL ? m : 1;
    float *a = rand_buf(m * k), *b = rand_buf(k * n), *c = rand_buf(nc);
    float *ref = rand_buf(m * n), *got = rand_buf(m * n);
    const int64_t np = nncc_sgemm_packed_size(k, n), ns = nncc_sgemm_scratch_size(&p);
    float *bp = rand_buf(np), *scratch = rand_buf(ns);
    nncc_sgemm_pack_b_f32(k, n, tb, r.alpha, b, bp);
    check_canary(bp, np, "packed B");
    nncc_gemm_ref_f32(&r, a, b, c, ref);
    nncc_sgemm_f32(&p, a, bp, c, got, scratch);
    check_canary(got, m * n, "sgemm output");
    check_canary(scratch, ns, "sgemm scratch");
    double e = rel_err(got, ref, m * n);
    if (!(e <= TOL))
        fail_msg("sgemm %lldx%lldx%lld transA %d transB %d bias %d act %d: relative error %g", (long long)m,
                 (long long)n, (long long)k, ta, tb, bias, act, e);
    free(a), free(b), free(c), free(ref), free(got), free(bp), free(scratch);
}

static void test_sgemm_shapes(void **state)
{
    (void)state;
    static const int64_t sizes[] = { 1, 2, 3, 5, 6, 7, 13, 16, 17, 33, 100 };
    static const int acts[] = { NNCC_ACT_NONE, NNCC_ACT_RELU, NNCC_ACT_CLIP, NNCC_ACT_SIGMOID };
    const int ns = (int)(sizeof sizes / sizeof sizes[0]);
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < ns; j += 2)
            for (int l = 0; l < ns; l += 3)
                for (int t = 0; t < 4; t++)
                    run_sgemm(sizes[i], sizes[j], sizes[l], t & 1, t >> 1, (i + j + l + t) % 5, acts[(i + l + t) % 4]);
}

static void test_sgemm_blocks(void **state)
{
    (void)state;
    run_sgemm(1, 1000, 512, 0, 1, NNCC_BIAS_ROW, NNCC_ACT_NONE);  /* resnet18's fc at batch 1 */
    /* matrix-vector in groups of up to 4 panels: 5 = 4 + 1, 19 = 4 x 4 + 3
     * panels; odd K; B of 1.2 MB (prefetched) */
    run_sgemm(1, 80, 33, 0, 0, NNCC_BIAS_ROW, NNCC_ACT_RELU);
    run_sgemm(2, 290, 77, 1, 1, NNCC_BIAS_COL, NNCC_ACT_NONE);
    run_sgemm(1, 600, 513, 0, 1, NNCC_BIAS_NONE, NNCC_ACT_CLIP);
    run_sgemm(2, 37, 300, 1, 0, NNCC_BIAS_FULL, NNCC_ACT_RELU);   /* matrix-vector, transposed A, 2 K blocks */
    run_sgemm(200, 45, 600, 0, 1, NNCC_BIAS_COL, NNCC_ACT_CLIP);  /* 3 A blocks, 3 K blocks */
    run_sgemm(97, 64, 257, 1, 1, NNCC_BIAS_SCALAR, NNCC_ACT_RELU); /* one row and one k past a block */
    run_sgemm(64, 300, 200, 0, 0, NNCC_BIAS_FULL, NNCC_ACT_TANH);
    run_sgemm(5, 3, 0, 0, 0, NNCC_BIAS_ROW, NNCC_ACT_NONE);       /* K = 0: y = beta * C */
    run_sgemm(4, 3, 0, 0, 0, NNCC_BIAS_NONE, NNCC_ACT_NONE);
}

/* MatMul (batch dims (2,3)): a (2|1, 3, M, K) x b (1|2, 3|1, K, N) */
static void run_batched(int64_t m, int64_t n, int64_t k, int a_bcast0, int b_bcast0, int b_bcast1)
{
    const int64_t d0 = 2, d1 = 3;
    const int64_t na = (a_bcast0 ? 1 : d0) * d1, nb = (b_bcast0 ? 1 : d0) * (b_bcast1 ? 1 : d1);
    const int64_t ps = nncc_sgemm_packed_size(k, n);
    nncc_sgemm_params p;
    memset(&p, 0, sizeof p);
    p.m = m, p.n = n, p.k = k, p.batch = d0 * d1, p.rank = 2, p.threads = NNCC_TEST_THREADS;
    p.dims[0] = d0, p.dims[1] = d1;
    p.a_step[0] = a_bcast0 ? 0 : d1 * m * k, p.a_step[1] = m * k;
    p.b_step[1] = b_bcast1 ? 0 : ps;
    p.b_step[0] = b_bcast0 ? 0 : (b_bcast1 ? 1 : d1) * ps;
    float *a = rand_buf(na * m * k), *b = rand_buf(nb * k * n), *bp = rand_buf(nb * ps);
    float *ref = rand_buf(d0 * d1 * m * n), *got = rand_buf(d0 * d1 * m * n);
    const int64_t ns = nncc_sgemm_scratch_size(&p);
    float *scratch = rand_buf(ns);
    for (int64_t t = 0; t < nb; t++)
        nncc_sgemm_pack_b_f32(k, n, 0, 1.0f, b + t * k * n, bp + t * ps);
    nncc_gemm_params r;
    memset(&r, 0, sizeof r);
    r.m = m, r.n = n, r.k = k, r.alpha = 1.0f;
    for (int64_t i0 = 0; i0 < d0; i0++)
        for (int64_t i1 = 0; i1 < d1; i1++) {
            const int64_t ai = (a_bcast0 ? 0 : i0) * d1 + i1;
            const int64_t bi = (b_bcast0 ? 0 : i0) * (b_bcast1 ? 1 : d1) + (b_bcast1 ? 0 : i1);
            nncc_gemm_ref_f32(&r, a + ai * m * k, b + bi * k * n, NULL, ref + (i0 * d1 + i1) * m * n);
        }
    nncc_sgemm_f32(&p, a, bp, NULL, got, scratch);
    check_canary(got, d0 * d1 * m * n, "batched output");
    check_canary(scratch, ns, "batched scratch");
    double e = rel_err(got, ref, d0 * d1 * m * n);
    if (!(e <= TOL))
        fail_msg("matmul 2x3 batches of %lldx%lldx%lld (broadcast a %d, b %d,%d): relative error %g", (long long)m,
                 (long long)n, (long long)k, a_bcast0, b_bcast0, b_bcast1, e);
    free(a), free(b), free(bp), free(ref), free(got), free(scratch);
}

static void test_sgemm_batched(void **state)
{
    (void)state;
    for (int t = 0; t < 8; t++) {
        run_batched(1, 19, 23, t & 1, (t >> 1) & 1, t >> 2);
        run_batched(7, 33, 40, t & 1, (t >> 1) & 1, t >> 2);
    }
}

int main(void)
{
    if (kt_cpu_lacks_target())
        return 77;
#ifdef NNCC_TEST_EXPECT_KERNEL
    /* the build that is meant to run a given micro-kernel really runs it */
    if (strcmp(nncc_sgemm_kernel(), NNCC_TEST_EXPECT_KERNEL) != 0) {
        printf("FAIL: the runtime runs the %s micro-kernel, not %s\n", nncc_sgemm_kernel(), NNCC_TEST_EXPECT_KERNEL);
        return 1;
    }
#endif
    printf("micro-kernel: %s\n", nncc_sgemm_kernel());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_shapes),
        cmocka_unit_test(test_sgemm_blocks),
        cmocka_unit_test(test_sgemm_batched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
