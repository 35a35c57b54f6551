/*
 * window.c - per-layer time of the runtime's sliding-window kernels at the
 * shapes of the bench models (tests/e2e/model_zoo.py): the pools of
 * ResNet-18 and SqueezeNet 1.1, SqueezeNet's GlobalAveragePool and
 * MobileNetV2's depthwise 3x3 convolutions (bias, Clip 0..6 fused), with the
 * MB each reads and writes once for comparison with memory bandwidth.
 *
 *   cc -O2 -march=native -fopenmp -Iruntime bench/window.c runtime/nncc_rt_*.c -lm -o window
 *   ./window [THREADS]     # microseconds, best of 7 after a warm-up (one thread:
 *                          # its CPU time, steadier on a shared machine)
 * Not a test.
 */
#define _POSIX_C_SOURCE 200112L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncc_runtime.h"
#include "bench_util.h"

/* one thread: its CPU time (steadier on a shared machine); more: wall time */
static int use_cpu_time;

static double now(void)
{
    return bench_seconds(use_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC);
}


enum { K_POOL, K_GAP, K_DW };

typedef struct {
    const char *what;
    int kind;
    int64_t c, h, w, k, s, pad, ceil; /* ceil: ceil_mode (pools) */
    int pool;                         /* NNCC_POOL_MAX / NNCC_POOL_AVG */
} layer;

static double best_us(const layer *l, int64_t threads, double *mb)
{
    int64_t oh, ow;
    if (l->kind == K_GAP)
        oh = ow = 1;
    else {
        const int64_t span = l->h + 2 * l->pad - l->k, spanw = l->w + 2 * l->pad - l->k;
        oh = (l->ceil ? span + l->s - 1 : span) / l->s + 1;
        ow = (l->ceil ? spanw + l->s - 1 : spanw) / l->s + 1;
    }
    float *x = bench_buf(l->c * l->h * l->w), *y = bench_buf(l->c * oh * ow);
    float *wt = bench_buf(l->c * 9), *b = bench_buf(l->c);
    nncc_pool2d_params pp;
    nncc_conv2d_params cp;
    float *scratch = NULL;
    memset(&pp, 0, sizeof pp);
    memset(&cp, 0, sizeof cp);
    if (l->kind == K_POOL) {
        pp.kind = l->pool, pp.n = 1, pp.c = l->c, pp.h = l->h, pp.w = l->w, pp.oh = oh, pp.ow = ow;
        pp.kh = pp.kw = l->k, pp.sh = pp.sw = l->s, pp.dh = pp.dw = 1, pp.pt = pp.pl = l->pad;
        pp.pb = (oh - 1) * l->s + l->k - l->h - l->pad, pp.pr = (ow - 1) * l->s + l->k - l->w - l->pad;
        pp.d = pp.od = pp.kd = pp.sd = pp.dd = 1, pp.threads = threads;
    } else if (l->kind == K_DW) {
        cp.n = 1, cp.c = cp.m = cp.group = l->c, cp.h = l->h, cp.w = l->w, cp.oh = oh, cp.ow = ow;
        cp.kh = cp.kw = l->k, cp.sh = cp.sw = l->s, cp.dh = cp.dw = 1, cp.pt = cp.pl = l->pad;
        cp.act.kind = NNCC_ACT_CLIP, cp.act.alpha = 0.0f, cp.act.beta = 6.0f, cp.threads = threads;
        scratch = bench_buf(nncc_conv2d_depthwise_scratch_size(&cp));
    }
    *mb = (double)(l->c * (l->h * l->w + oh * ow)) * 4e-6;
    double best = 1e30;
    for (int r = 0; r < 8; r++) {
        const int reps = 20;
        double t0 = now();
        for (int i = 0; i < reps; i++) {
            if (l->kind == K_POOL)
                nncc_pool2d_fast_f32(&pp, x, y);
            else if (l->kind == K_GAP)
                nncc_global_avgpool_fast_f32(l->c, l->h * l->w, threads, x, y);
            else
                nncc_conv2d_depthwise_f32(&cp, x, wt, b, NULL, y, scratch);
        }
        double t = (now() - t0) / reps;
        if (r > 0 && t < best)
            best = t;
    }
    free(x), free(y), free(wt), free(b), free(scratch);
    return best * 1e6;
}

int main(int argc, char **argv)
{
    const int64_t threads = argc > 1 ? atoll(argv[1]) : 1;
    use_cpu_time = threads <= 1;
    static const layer layers[] = {
        { "resnet18 maxpool 64x112x112 3/2 p1", K_POOL, 64, 112, 112, 3, 2, 1, 0, NNCC_POOL_MAX },
        { "squeezenet maxpool 64x111x111 3/2 ceil", K_POOL, 64, 111, 111, 3, 2, 0, 1, NNCC_POOL_MAX },
        { "squeezenet maxpool 128x55x55 3/2 ceil", K_POOL, 128, 55, 55, 3, 2, 0, 1, NNCC_POOL_MAX },
        { "squeezenet maxpool 256x27x27 3/2 ceil", K_POOL, 256, 27, 27, 3, 2, 0, 1, NNCC_POOL_MAX },
        { "avgpool 64x56x56 3/1 p1", K_POOL, 64, 56, 56, 3, 1, 1, 0, NNCC_POOL_AVG },
        { "avgpool 64x56x56 2/2", K_POOL, 64, 56, 56, 2, 2, 0, 0, NNCC_POOL_AVG },
        { "squeezenet global avgpool 1000x13x13", K_GAP, 1000, 13, 13, 0, 0, 0, 0, 0 },
        { "resnet18 global avgpool 512x7x7", K_GAP, 512, 7, 7, 0, 0, 0, 0, 0 },
        { "mbv2 dw 32x112x112 s1", K_DW, 32, 112, 112, 3, 1, 1, 0, 0 },
        { "mbv2 dw 96x112x112 s2", K_DW, 96, 112, 112, 3, 2, 1, 0, 0 },
        { "mbv2 dw 144x56x56 s1", K_DW, 144, 56, 56, 3, 1, 1, 0, 0 },
        { "mbv2 dw 144x56x56 s2", K_DW, 144, 56, 56, 3, 2, 1, 0, 0 },
        { "mbv2 dw 192x28x28 s1", K_DW, 192, 28, 28, 3, 1, 1, 0, 0 },
        { "mbv2 dw 192x28x28 s2", K_DW, 192, 28, 28, 3, 2, 1, 0, 0 },
        { "mbv2 dw 384x14x14 s1", K_DW, 384, 14, 14, 3, 1, 1, 0, 0 },
        { "mbv2 dw 576x14x14 s1", K_DW, 576, 14, 14, 3, 1, 1, 0, 0 },
        { "mbv2 dw 576x14x14 s2", K_DW, 576, 14, 14, 3, 2, 1, 0, 0 },
        { "mbv2 dw 960x7x7 s1", K_DW, 960, 7, 7, 3, 1, 1, 0, 0 },
    };
    printf("%-42s %9s %8s   (threads %lld)\n", "layer", "us", "MB r+w", (long long)threads);
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        double mb;
        const double us = best_us(&layers[i], threads, &mb);
        printf("%-42s %9.1f %8.2f\n", layers[i].what, us, mb);
    }
    return 0;
}
