/*
 * kernel_test_util.h - what the runtime kernel tests (test_kernels.c,
 * test_kernels_gemm.c) share: a seeded generator, buffers with canary floats
 * after their end, and the relative error against a reference. Static
 * functions, included by each test (and by their AArch64 cross builds).
 * Define KT_SEED before including it for another sequence.
 */
#ifndef NNCC_KERNEL_TEST_UTIL_H
#define NNCC_KERNEL_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef KT_SEED
#define KT_SEED 12345
#endif

#define CANARY 16
static const float canary_value = -12345.5f;

static uint32_t rng_state = KT_SEED;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / (float)(1u << 23) - 1.0f;
}

static float *rand_buf(int64_t n)
{
    float *p = malloc(((size_t)n + CANARY) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    for (int i = 0; i < CANARY; i++)
        p[n + i] = canary_value;
    return p;
}

static void check_canary(const float *p, int64_t n, const char *what)
{
    for (int i = 0; i < CANARY; i++)
        if (p[n + i] != canary_value)
            fail_msg("%s: written past its end", what);
}

/* max |got - ref| / max(|ref|, 1) */
static double rel_err(const float *got, const float *ref, int64_t n)
{
    double err = 0.0, scale = 1.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > err || d != d)
            err = d;
        if (fabs(ref[i]) > scale)
            scale = fabs(ref[i]);
    }
    return err / scale;
}

/* 77 (CTest's skip) when the build targets instructions this CPU lacks
 * (NNCC_TEST_AVX2, NNCC_TEST_AVX512), saying so; else 0. */
static int kt_cpu_lacks_target(void)
{
#if defined(NNCC_TEST_AVX2) && (defined(__GNUC__) || defined(__clang__))
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("SKIPPED: this CPU has no AVX2+FMA\n");
        return 77;
    }
#endif
#if defined(NNCC_TEST_AVX512) && (defined(__GNUC__) || defined(__clang__))
    if (!__builtin_cpu_supports("avx512f")) {
        printf("SKIPPED: this CPU has no AVX-512F\n");
        return 77;
    }
#endif
    return 0;
}

#endif
