/*
 * peak.c - measures this CPU's fp32 multiply-add throughput on one core: the
 * peak that bench/compare.py divides achieved GFLOP/s by.
 *
 *   cc -O2 -march=native bench/peak.c -o peak && ./peak
 *   prints: peak_gflops: 123.4 (AVX2+FMA, 8 lanes x 12 chains)
 *
 * With AVX2+FMA (or AVX-512F) available at compile time it runs 12
 * independent chains of vector FMAs (enough to hide the FMA latency on
 * current x86 cores); otherwise 12 chains of 8-float vectors written in plain
 * C that the compiler vectorises as it can (the portable micro-kernel's
 * ceiling, not the hardware's). Best of 5 runs of about 0.2 s each.
 * Not a test: nothing here is asserted.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <time.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static volatile float sink;

/* twelve named chains, so every compiler keeps them in registers */
#define CHAINS12(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)

#if defined(__AVX512F__)
#define KIND "AVX-512F, 16 lanes x 12 chains"
#define LANES 16
static void chains(long iters)
{
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 s = _mm512_setzero_ps();
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)i);
#define STEP(i) c##i = _mm512_fmadd_ps(c##i, a, b);
#define SUM(i) s = _mm512_add_ps(s, c##i);
    CHAINS12(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS12(STEP)
    }
    CHAINS12(SUM)
    sink = _mm512_reduce_add_ps(s);
}
#elif defined(__AVX2__) && defined(__FMA__)
#define KIND "AVX2+FMA, 8 lanes x 12 chains"
#define LANES 8
static void chains(long iters)
{
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    __m256 s = _mm256_setzero_ps();
    float out[8];
#define DECL(i) __m256 c##i = _mm256_set1_ps((float)i);
#define STEP(i) c##i = _mm256_fmadd_ps(c##i, a, b);
#define SUM(i) s = _mm256_add_ps(s, c##i);
    CHAINS12(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS12(STEP)
    }
    CHAINS12(SUM)
    _mm256_storeu_ps(out, s);
    sink = out[0] + out[7];
}
#else
#define KIND "portable C, 8 lanes x 12 chains"
#define LANES 8
static void chains(long iters)
{
    float c[12][8];
    for (int i = 0; i < 12; i++)
        for (int l = 0; l < 8; l++)
            c[i][l] = (float)(i + l);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++)
            for (int l = 0; l < 8; l++)
                c[i][l] = c[i][l] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int i = 0; i < 12; i++)
        for (int l = 0; l < 8; l++)
            s += c[i][l];
    sink = s;
}
#endif

int main(void)
{
    long iters = 1000000;
    double t;
    /* grow until one run takes about 0.2 s */
    for (;;) {
        double t0 = now();
        chains(iters);
        t = now() - t0;
        if (t > 0.05)
            break;
        iters *= 4;
    }
    iters = (long)((double)iters * 0.2 / t) + 1;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        chains(iters);
        t = now() - t0;
        if (t < best)
            best = t;
    }
    /* one FMA = 2 flops per lane */
    double gflops = (double)iters * 12.0 * LANES * 2.0 / best * 1e-9;
    printf("peak_gflops: %.1f (%s)\n", gflops, KIND);
    return 0;
}
