/*
 * bench_util.h - what the C benchmarks (gemm.c, window.c) share: a clock and
 * a filled buffer. Header-only, static functions; the includer defines
 * _POSIX_C_SOURCE before any include.
 */
#ifndef NNCC_BENCH_UTIL_H
#define NNCC_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* seconds on `clock` (CLOCK_MONOTONIC: wall time; CLOCK_THREAD_CPUTIME_ID:
 * the calling thread's CPU time, steadier on a shared machine) */
static double bench_seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* n floats in [-0.5, 0.5), the same on every run; exits 3 when out of memory */
static float *bench_buf(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p)
        exit(3);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    return p;
}

#endif
