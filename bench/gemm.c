/*
 * gemm.c - single-thread throughput of the runtime's packed kernels: a 1x1
 * convolution (M x C weight, C x P input) is the matrix product
 * Y(M,P) = W(M,C) X(C,P), run through the implicit GEMM with the weight
 * packed as nncc packs it, and through nncc_sgemm_f32 (the Gemm/MatMul
 * kernel); then convolution layers through the kernel -O2 picks for them
 * (Winograd, implicit GEMM, the implicit GEMM over a strided layer's phase
 * planes), with im2col and the reference direct convolution for comparison;
 * `resnet` times ResNet-18's stride-1 3x3 layers through the implicit GEMM
 * and Winograd. GFLOP/s count the direct convolution's multiply-adds, so
 * Winograd's figure may pass the machine's peak; the inputs and weights stay
 * in cache between the timed calls (in a model the weights come from memory).
 *
 *   cc -O2 -march=native -Iruntime bench/gemm.c runtime/nncc_rt_*.c -lm -o gemm
 *   ./gemm            # 512x512x512 and a few conv layers; GFLOP/s, best of 7
 *   ./gemm M K N      # one GEMM of that size
 *   ./gemm resnet [T] # implicit vs Winograd on ResNet-18's 3x3 stride-1 layers
 *                     # (T threads: build with -fopenmp)
 *   ./gemm small [T]  # implicit vs its transposed form on small maps (7x7 to
 *                     # 14x14 of MobileNetV2, SqueezeNet, ResNet-18), and larger
 *                     # maps where the transposed one loses
 * Compare with bench/peak.c built with the same flags. Not a test.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncc_runtime.h"
#include "bench_util.h"

static double now(void)
{
    return bench_seconds(CLOCK_MONOTONIC);
}


enum { ALGO_GEMM, ALGO_REF, ALGO_IMPLICIT, ALGO_WINOGRAD, ALGO_IMPLICIT_T };
static int64_t threads = 1;

/* times one conv layer through `algo`; returns GFLOP/s (best of 7 after a warm-up) */
static double conv_case(const char *what, int64_t c, int64_t h, int64_t w, int64_t m, int64_t k, int64_t s, int algo)
{
    nncc_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.n = 1, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = p.kw = k, p.sh = p.sw = s, p.dh = p.dw = 1;
    p.pt = p.pl = k / 2, p.group = 1;
    p.oh = (h + 2 * (k / 2) - k) / s + 1, p.ow = (w + 2 * (k / 2) - k) / s + 1;
    p.act.kind = NNCC_ACT_RELU;
    p.threads = threads;
    const int wino = algo == ALGO_WINOGRAD, tr = algo == ALGO_IMPLICIT_T;
    const int64_t nwp = wino ? nncc_conv2d_winograd_packed_size(&p)
                        : tr ? nncc_conv2d_implicit_t_packed_size(&p)
                             : nncc_conv2d_packed_size(&p);
    const int64_t ns = wino                   ? nncc_conv2d_winograd_scratch_size(&p)
                       : tr                    ? nncc_conv2d_implicit_t_scratch_size(&p)
                       : algo == ALGO_IMPLICIT ? nncc_conv2d_implicit_scratch_size(&p)
                                               : nncc_conv2d_scratch_size(&p);
    float *x = bench_buf(c * h * w), *wt = bench_buf(m * c * k * k), *b = bench_buf(m), *y = bench_buf(m * p.oh * p.ow);
    float *wp = bench_buf(nwp), *scratch = bench_buf(ns);
    if (wino)
        nncc_conv2d_winograd_pack_f32(&p, wt, wp);
    else if (tr)
        nncc_conv2d_implicit_t_pack_f32(&p, wt, wp);
    else
        nncc_conv2d_pack_f32(&p, wt, wp);
    const double flops = 2.0 * (double)(m * p.oh * p.ow * c * k * k);
    int reps = (int)(2e8 / flops) + 1;
    double best = 1e30;
    for (int r = 0; r < 8; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) {
            if (algo == ALGO_REF)
                nncc_conv2d_f32(&p, x, wt, b, NULL, y);
            else if (algo == ALGO_IMPLICIT)
                nncc_conv2d_implicit_f32(&p, x, wp, b, NULL, y, scratch);
            else if (wino)
                nncc_conv2d_winograd_f32(&p, x, wp, b, NULL, y, scratch);
            else if (tr)
                nncc_conv2d_implicit_t_f32(&p, x, wp, b, NULL, y, scratch);
            else
                nncc_conv2d_gemm_f32(&p, x, wp, b, NULL, y, scratch);
        }
        double t = (now() - t0) / reps;
        if (r > 0 && t < best)
            best = t;
    }
    double gf = flops / best * 1e-9;
    printf("%-46s %9.1f us  %7.2f GFLOP/s\n", what, best * 1e6, gf);
    free(x), free(wt), free(b), free(y), free(wp), free(scratch);
    return gf;
}

/* times Y(M,N) = A(M,K) B(K,N) through nncc_sgemm_f32 (the Gemm/MatMul
 * kernel, B packed as nncc packs a constant weight); returns GFLOP/s */
static double sgemm_case(const char *what, int64_t m, int64_t k, int64_t n)
{
    nncc_sgemm_params p;
    memset(&p, 0, sizeof p);
    p.m = m, p.n = n, p.k = k, p.batch = 1;
    float *a = bench_buf(m * k), *b = bench_buf(k * n), *y = bench_buf(m * n);
    float *bp = bench_buf(nncc_sgemm_packed_size(k, n)), *scratch = bench_buf(nncc_sgemm_scratch_size(&p));
    nncc_sgemm_pack_b_f32(k, n, 0, 1.0f, b, bp);
    const double flops = 2.0 * (double)(m * n * k);
    int reps = (int)(2e8 / flops) + 1;
    double best = 1e30;
    for (int r = 0; r < 8; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++)
            nncc_sgemm_f32(&p, a, bp, NULL, y, scratch);
        double t = (now() - t0) / reps;
        if (r > 0 && t < best)
            best = t;
    }
    double gf = flops / best * 1e-9;
    printf("%-46s %9.1f us  %7.2f GFLOP/s (%s)\n", what, best * 1e6, gf, nncc_sgemm_kernel());
    free(a), free(b), free(y), free(bp), free(scratch);
    return gf;
}

int main(int argc, char **argv)
{
    if (argc == 4) {
        int64_t M = atol(argv[1]), K = atol(argv[2]), N = atol(argv[3]);
        char what[64];
        snprintf(what, sizeof what, "GEMM %lldx%lldx%lld", (long long)M, (long long)K, (long long)N);
        conv_case(what, K, 1, N, M, 1, 1, ALGO_GEMM);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "small")) {
        /* small maps: the implicit GEMM against its transposed form */
        static const int64_t layers[][4] = { { 160, 960, 7, 1 }, { 960, 160, 7, 1 }, { 320, 1280, 7, 1 },
                                             { 960, 320, 7, 1 }, { 96, 576, 14, 1 }, { 576, 96, 14, 1 },
                                             { 64, 384, 14, 1 }, { 384, 64, 14, 1 }, { 512, 1000, 13, 1 },
                                             { 64, 256, 13, 1 }, { 64, 256, 13, 3 }, { 512, 512, 7, 3 },
                                             { 32, 192, 28, 1 }, { 144, 24, 56, 1 }, { 32, 16, 112, 1 } };
        threads = argc > 2 ? atol(argv[2]) : 1;
        for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
            const int64_t c = layers[i][0], m = layers[i][1], hw = layers[i][2], k = layers[i][3];
            char what[64];
            snprintf(what, sizeof what, "conv %lldx%lld %lld->%lld %lldx%lld implicit", (long long)k, (long long)k,
                     (long long)c, (long long)m, (long long)hw, (long long)hw);
            conv_case(what, c, hw, hw, m, k, 1, ALGO_IMPLICIT);
            snprintf(what, sizeof what, "conv %lldx%lld %lld->%lld %lldx%lld transposed", (long long)k, (long long)k,
                     (long long)c, (long long)m, (long long)hw, (long long)hw);
            conv_case(what, c, hw, hw, m, k, 1, ALGO_IMPLICIT_T);
        }
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "resnet")) {
        static const int64_t layers[][2] = { { 64, 56 }, { 128, 28 }, { 256, 14 }, { 512, 7 } };
        threads = argc > 2 ? atol(argv[2]) : 1;
        for (int i = 0; i < 4; i++) {
            const int64_t c = layers[i][0], hw = layers[i][1];
            char what[64];
            snprintf(what, sizeof what, "conv 3x3 %lld->%lld %lldx%lld implicit", (long long)c, (long long)c,
                     (long long)hw, (long long)hw);
            conv_case(what, c, hw, hw, c, 3, 1, ALGO_IMPLICIT);
            snprintf(what, sizeof what, "conv 3x3 %lld->%lld %lldx%lld Winograd", (long long)c, (long long)c,
                     (long long)hw, (long long)hw);
            conv_case(what, c, hw, hw, c, 3, 1, ALGO_WINOGRAD);
        }
        return 0;
    }
    conv_case("GEMM 512x512x512 (1x1 conv, implicit GEMM)", 512, 16, 32, 512, 1, 1, ALGO_IMPLICIT);
    sgemm_case("GEMM 512x512x512 (nncc_sgemm_f32)", 512, 512, 512);
    sgemm_case("Gemm 1x512 x 512x1000 (fc at batch 1)", 1, 512, 1000);
    conv_case("conv 3x3 64->64 56x56 (Winograd)", 64, 56, 56, 64, 3, 1, ALGO_WINOGRAD);
    conv_case("conv 3x3 64->64 56x56 (implicit GEMM)", 64, 56, 56, 64, 3, 1, ALGO_IMPLICIT);
    conv_case("conv 3x3 64->64 56x56 (im2col + packed GEMM)", 64, 56, 56, 64, 3, 1, ALGO_GEMM);
    conv_case("conv 3x3 64->64 56x56 (reference direct)", 64, 56, 56, 64, 3, 1, ALGO_REF);
    conv_case("conv 3x3 256->256 14x14 (Winograd)", 256, 14, 14, 256, 3, 1, ALGO_WINOGRAD);
    conv_case("conv 3x3 512->512 7x7 (implicit GEMM)", 512, 7, 7, 512, 3, 1, ALGO_IMPLICIT);
    conv_case("conv 3x3/2 128->256 28x28 (implicit, phases)", 128, 28, 28, 256, 3, 2, ALGO_IMPLICIT);
    conv_case("conv 7x7/2 3->64 224x224 (implicit, phases)", 3, 224, 224, 64, 7, 2, ALGO_IMPLICIT);
    return 0;
}
