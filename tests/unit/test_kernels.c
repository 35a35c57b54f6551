/*
 * test_kernels.c - the fast kernels against the reference ones, on random
 * data and shapes chosen to hit every edge of the blocking: channel counts
 * that are not multiples of the micro-kernel's rows, pixel counts that are
 * not multiples of its columns, K deeper than one packed block, more pixels
 * than one block, groups, strides, dilations, asymmetric padding, 1-D, every
 * fused epilogue (bias, residual add, Relu/Clip in the tile, other
 * activations after).
 *
 *   nncc_conv2d_gemm_f32 (packed GEMM)  vs  nncc_conv2d_f32 (direct)
 *   nncc_conv2d_implicit_f32            vs  nncc_conv2d_f32
 *   nncc_conv2d_implicit_t_f32          vs  nncc_conv2d_f32
 *   nncc_conv2d_implicit_pool_f32       vs  nncc_conv2d_f32 + nncc_pool2d_f32
 *   nncc_conv2d_winograd_f32 (3x3/1)    vs  nncc_conv2d_f32
 *   nncc_conv2d_depthwise_f32 (group C) vs  nncc_conv2d_f32
 *   nncc_pool2d_fast_f32 (max, average) vs  nncc_pool2d_f32
 *   nncc_global_avgpool_fast_f32        vs  nncc_global_avgpool_f32
 *   nncc_gemm_f32 (blocked)             vs  nncc_gemm_ref_f32 (plain loops)
 *   nncc_par_take (the threads' work sharing): every unit once, own run
 *   first; in the OpenMP builds, a thread that comes late finds its run
 *   taken
 *
 * Built twice by CMake: as test_kernels (the target's default flags, so the
 * portable micro-kernel) and, where the compiler takes -mavx2 -mfma, as
 * test_kernels_avx2 (the AVX2+FMA micro-kernel; skipped on a CPU without it)
 * and test_kernels_avx512 (adds the AVX-512 6x32 one and the masked-load
 * window kernels); and with OpenMP as test_kernels_omp (3 threads sharing the
 * pixel blocks, the pooled planes and the depthwise channels), also with
 * -mavx512f as test_kernels_avx512_omp.
 * Canary values after the output and the scratch catch writes past the end.
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

#include "kernel_test_util.h"

/* The two kernels sum the same products in another order (and may contract
 * a*b+c into an FMA or not). In fp32 over K terms of size O(1) the rounding
 * difference grows about as sqrt(K) * eps * |terms|: up to 1.04e-5 of the
 * largest output was seen at K = 1152, the deepest case here; 3e-5 leaves a
 * margin. A wrong index or a lost block gives errors of order 1. */
#define TOL 3e-5
/* Winograd F(4x4, 3x3) scales the input by up to 5 along each axis (B^T)
 * and the weights by 1/24 .. 1 (G) before the products, and the sums by up
 * to 8 (A^T) after: its rounding error is larger, up to 7.3e-5 of the
 * largest output over these cases (F(2x2): within TOL) */
#define TOL4 2e-4

typedef struct {
    int64_t n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
    int act;            /* nncc_act */
    int bias, add;
} conv_case;

typedef void conv_kernel(const nncc_conv2d_params *p, const float *x, const float *w, const float *b,
                         const float *add, float *y, float *scratch);

/* Runs `fn` (weight w as it wants it, ns floats of scratch) into a fresh
 * output, checks the canaries after the output and the scratch, and returns
 * the output's relative error against ref. */
static double try_conv(conv_kernel *fn, const char *what, const nncc_conv2d_params *p, const float *x,
                       const float *w, const float *b, const float *add, const float *ref, int64_t ns)
{
    const int64_t ny = p->n * p->m * p->oh * p->ow;
    float *y = rand_buf(ny), *scratch = rand_buf(ns);
    fn(p, x, w, b, add, y, scratch);
    char name[64];
    snprintf(name, sizeof name, "%s output", what);
    check_canary(y, ny, name);
    snprintf(name, sizeof name, "%s scratch", what);
    check_canary(scratch, ns, name);
    const double e = rel_err(y, ref, ny);
    free(y), free(scratch);
    return e;
}

/* try_conv for a kernel with its own weight layout: packs w with `pack`
 * (its `size` floats, canary checked) first */
static double try_packed(conv_kernel *fn, const char *what, int64_t (*size)(const nncc_conv2d_params *),
                         void (*pack)(const nncc_conv2d_params *, const float *, float *), const nncc_conv2d_params *p,
                         const float *x, const float *w, const float *b, const float *add, const float *ref, int64_t ns)
{
    const int64_t nw = size(p);
    float *wp = rand_buf(nw);
    pack(p, w, wp);
    char name[64];
    snprintf(name, sizeof name, "%s weight", what);
    check_canary(wp, nw, name);
    const double e = try_conv(fn, what, p, x, wp, b, add, ref, ns);
    free(wp);
    return e;
}

static void run_conv(const conv_case *k)
{
    nncc_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.n = k->n, p.c = k->c, p.h = k->h, p.w = k->w, p.m = k->m;
    p.kh = k->kh, p.kw = k->kw, p.sh = k->sh, p.sw = k->sw, p.dh = k->dh, p.dw = k->dw;
    p.pt = k->pt, p.pl = k->pl, p.group = k->group;
    p.oh = (k->h + k->pt + k->pb - k->dh * (k->kh - 1) - 1) / k->sh + 1;
    p.ow = (k->w + k->pl + k->pr - k->dw * (k->kw - 1) - 1) / k->sw + 1;
    p.act.kind = k->act;
#ifdef NNCC_TEST_THREADS
    p.threads = NNCC_TEST_THREADS; /* the OpenMP build: blocks shared by threads */
#endif
    p.act.alpha = k->act == NNCC_ACT_CLIP ? -0.25f : 0.1f;
    p.act.beta = k->act == NNCC_ACT_CLIP ? 0.5f : 0.2f;
    const int64_t nx = p.n * p.c * p.h * p.w, nw = p.m * (p.c / p.group) * p.kh * p.kw;
    const int64_t ny = p.n * p.m * p.oh * p.ow;
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf(p.m), *add = rand_buf(ny);
    float *ref = rand_buf(ny);
    const int64_t np = nncc_conv2d_packed_size(&p);
    float *wp = rand_buf(np);
    nncc_conv2d_pack_f32(&p, w, wp);
    check_canary(wp, np, "packed weight");
    const float *bb = k->bias ? b : NULL, *aa = k->add ? add : NULL;
    nncc_conv2d_f32(&p, x, w, bb, aa, ref);
    /* each fast kernel in turn, until one is off */
    const char *kernel = "packed GEMM";
    double tol = TOL;
    double e = try_conv(nncc_conv2d_gemm_f32, "packed GEMM", &p, x, wp, bb, aa, ref, nncc_conv2d_scratch_size(&p));
    if (e <= TOL) {
        kernel = "implicit GEMM";
        e = try_conv(nncc_conv2d_implicit_f32, kernel, &p, x, wp, bb, aa, ref, nncc_conv2d_implicit_scratch_size(&p));
    }
    if (e <= TOL) {
        kernel = "transposed implicit GEMM";
        e = try_packed(nncc_conv2d_implicit_t_f32, kernel, nncc_conv2d_implicit_t_packed_size,
                       nncc_conv2d_implicit_t_pack_f32, &p, x, w, bb, aa, ref, nncc_conv2d_implicit_t_scratch_size(&p));
    }
    if (e <= TOL && p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 && p.group == 1) {
        kernel = "Winograd";
        e = try_packed(nncc_conv2d_winograd_f32, kernel, nncc_conv2d_winograd_packed_size, nncc_conv2d_winograd_pack_f32,
                       &p, x, w, bb, aa, ref, nncc_conv2d_winograd_scratch_size(&p));
        if (e <= TOL) {
            kernel = "Winograd F(4x4)", tol = TOL4;
            e = try_packed(nncc_conv2d_winograd4_f32, kernel, nncc_conv2d_winograd4_packed_size,
                           nncc_conv2d_winograd4_pack_f32, &p, x, w, bb, aa, ref, nncc_conv2d_winograd4_scratch_size(&p));
        }
    }
    if (e <= tol && p.group == p.c) {
        kernel = "depthwise", tol = TOL;
        e = try_conv(nncc_conv2d_depthwise_f32, kernel, &p, x, w, bb, aa, ref, nncc_conv2d_depthwise_scratch_size(&p));
    }
    if (!(e <= tol))
        fail_msg("%s: conv n%lld c%lld %lldx%lld m%lld k%lldx%lld s%lld,%lld d%lld,%lld pads %lld,%lld,%lld,%lld "
                 "group %lld act %d: relative error %g",
                 kernel, (long long)k->n, (long long)k->c, (long long)k->h, (long long)k->w, (long long)k->m, (long long)k->kh,
                 (long long)k->kw, (long long)k->sh, (long long)k->sw, (long long)k->dh, (long long)k->dw,
                 (long long)k->pt, (long long)k->pl, (long long)k->pb, (long long)k->pr, (long long)k->group, k->act,
                 e);
    free(x), free(w), free(b), free(add), free(ref), free(wp);
}

static void test_conv_fixed(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        /* n  c   h   w   m  kh kw sh sw dh dw pt pl pb pr g  act                   bias add */
        { 1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 0 },
        { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_NONE, 0, 0 },
        { 2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_NONE, 1, 1 },
        { 1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },   /* K = 576: 3 K blocks */
        { 1, 128, 7, 9, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 0 },    /* K = 1152 */
        { 1, 3, 40, 37, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, NNCC_ACT_RELU, 1, 0 },     /* stem-like */
        { 1, 16, 20, 20, 12, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_NONE, 1, 1 },   /* 1x1: 400 pixels */
        { 1, 16, 20, 20, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_NONE, 1, 0 },   /* 1x1 stride 2 */
        { 1, 8, 17, 19, 10, 3, 3, 1, 2, 2, 1, 2, 0, 1, 3, 2, NNCC_ACT_LEAKY_RELU, 1, 1 },
        { 3, 6, 1, 50, 9, 1, 5, 1, 1, 1, 3, 0, 2, 0, 4, 3, NNCC_ACT_SIGMOID, 0, 1 },   /* 1-D, groups */
        { 1, 4, 5, 5, 6, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_TANH, 1, 0 },      /* 1 pixel */
        { 1, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4, 1, NNCC_ACT_RELU, 1, 0 },      /* pads > kernel */
        { 1, 19, 23, 29, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19, NNCC_ACT_CLIP, 1, 1 },  /* depthwise 3x3 */
        { 2, 13, 31, 37, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 13, NNCC_ACT_RELU, 1, 0 },  /* depthwise stride 2 */
        { 1, 7, 30, 41, 7, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, 7, NNCC_ACT_CLIP, 1, 1 },     /* asymmetric pads */
        { 1, 6, 17, 40, 12, 5, 5, 1, 3, 2, 1, 2, 2, 2, 2, 6, NNCC_ACT_TANH, 0, 1 },    /* multiplier 2, stride 3 */
        { 1, 8, 9, 45, 8, 1, 7, 1, 1, 1, 2, 0, 6, 0, 6, 8, NNCC_ACT_NONE, 1, 0 },      /* 1x7 dilated */
        { 1, 3, 9, 600, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, NNCC_ACT_CLIP, 1, 1 },     /* depthwise, rows of 38 blocks */
        { 1, 2, 8, 1100, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, NNCC_ACT_RELU, 1, 1 },    /* stride 2, 35 blocks */
        { 1, 5, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, NNCC_ACT_CLIP, 1, 1 },       /* mobilenet's 7x7 */
        { 1, 4, 14, 14, 4, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 4, NNCC_ACT_CLIP, 1, 0 },     /* TF-style pads, stride 2 */
        { 1, 3, 2, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, NNCC_ACT_NONE, 1, 0 },       /* fewer rows than the kernel */
        { 1, 4, 12, 33, 8, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 4, NNCC_ACT_HARD_SWISH, 1, 1 }, /* 5x5 stride 2, multiplier 2 */
        { 1, 3, 11, 21, 3, 3, 5, 1, 1, 2, 2, 2, 4, 2, 4, 3, NNCC_ACT_RELU, 0, 1 },     /* dilated depthwise */
        { 1, 40, 28, 28, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_NONE, 1, 1 },   /* 1x1, in place: 784 pixels */
        { 1, 24, 15, 15, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_CLIP, 1, 0 },   /* 1x1, partial tail tile */
        { 2, 8, 7, 7, 12, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, NNCC_ACT_CLIP, 1, 1 },      /* 1x1 7x7 in place, groups:
                                                                                            * one row of 49 pixels */
        { 1, 40, 13, 13, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_RELU, 1, 1 },    /* 1x1 13x13: 169 in tiles of 13 */
        { 1, 64, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },     /* 7x7 grid of width 9 */
        { 1, 3, 33, 35, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, NNCC_ACT_RELU, 0, 0 },     /* dilated, padded */
        { 1, 5, 8, 8, 9, 1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 1, NNCC_ACT_NONE, 1, 1 },       /* 1x1 with pads */
        { 1, 128, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 }, /* resnet layer2, K = 1152 */
        { 2, 33, 37, 35, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 1 },   /* odd output sizes */
        { 1, 7, 40, 33, 13, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 1, NNCC_ACT_SIGMOID, 1, 0 }, /* asymmetric pads */
        /* strided, through the implicit kernel's phase planes */
        { 1, 64, 56, 56, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },  /* resnet layer2.0 */
        { 1, 256, 14, 14, 70, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },  /* 7x7 out, K = 2304 */
        { 1, 5, 11, 13, 7, 4, 4, 3, 3, 1, 1, 2, 1, 0, 2, 1, NNCC_ACT_NONE, 1, 0 },      /* stride 3, 4x4 */
        { 1, 6, 15, 16, 9, 2, 3, 3, 2, 2, 3, 1, 0, 1, 2, 1, NNCC_ACT_CLIP, 1, 1 },      /* stride and dilation */
        { 1, 9, 12, 10, 11, 1, 1, 2, 3, 1, 1, 1, 0, 0, 1, 1, NNCC_ACT_RELU, 0, 1 },     /* 1x1, stride 2x3, pads */
        { 1, 3, 64, 61, 32, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, NNCC_ACT_RELU, 1, 0 },     /* 7x7/2 stem, odd width */
        /* grid tiles by rows (a row's output columns fill whole tiles within
         * the grid's width): 62 = 32 + 30 columns in a grid of 64, 28 of 32 */
        { 1, 6, 9, 62, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },
        { 2, 4, 7, 28, 8, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, NNCC_ACT_CLIP, 1, 0 },
        /* the transposed kernel: rows of 1 to 14 pixels (one or two 8-row
         * transposes), rows split evenly (29 = 10 + 10 + 9), channel panels
         * of 32 full, partial in either 16-channel half */
        { 1, 160, 7, 7, 96, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_CLIP, 1, 1 },    /* mobilenet's 7x7 1x1 */
        { 1, 37, 13, 13, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_RELU, 1, 1 },    /* 13 rows, 20 channels */
        { 1, 16, 9, 29, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },     /* 3 tiles a row, 6 left */
        { 1, 24, 14, 14, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, NNCC_ACT_CLIP, 1, 1 },    /* strided, 2 groups */
        { 2, 12, 5, 1, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_NONE, 0, 1 },      /* rows of 1 pixel */
        { 1, 8, 11, 12, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_SIGMOID, 1, 0 },  /* 12 rows, 17 channels */
        /* a 1x1 that copies its tiles (K >= 128, 32+ panels): 33 panels (one
         * alone), 63 pixels (a partial tile); two images of two groups */
        { 1, 130, 9, 7, 197, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, NNCC_ACT_CLIP, 1, 1 },
        { 2, 256, 5, 8, 384, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, NNCC_ACT_RELU, 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_conv(&cases[i]);
}

static int64_t rnd(int64_t lo, int64_t hi)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (int64_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}

/* A random case's plane grown to one window where the padded plane is
 * smaller than the (dilated) kernel */
static void fit_window(conv_case *k)
{
    if (k->h + k->pt + k->pb < k->dh * (k->kh - 1) + 1)
        k->h = k->dh * (k->kh - 1) + 1;
    if (k->w + k->pl + k->pr < k->dw * (k->kw - 1) + 1)
        k->w = k->dw * (k->kw - 1) + 1;
}

static void test_conv_random(void **state)
{
    (void)state;
    for (int t = 0; t < 150; t++) {
        conv_case k;
        k.group = rnd(1, 3);
        k.c = k.group * rnd(1, 12);
        k.m = k.group * rnd(1, 15);
        k.n = rnd(1, 2);
        k.kh = rnd(1, 4), k.kw = rnd(1, 4);
        k.sh = rnd(1, 3), k.sw = rnd(1, 3), k.dh = rnd(1, 2), k.dw = rnd(1, 2);
        k.pt = rnd(0, 2), k.pl = rnd(0, 2), k.pb = rnd(0, 2), k.pr = rnd(0, 2);
        k.h = rnd(1, 20), k.w = rnd(1, 30);
        fit_window(&k);
        k.act = (int)rnd(0, 3);
        k.bias = (int)rnd(0, 1), k.add = (int)rnd(0, 1);
        if (t % 3 == 0) { /* depthwise: one input channel per group */
            k.group = k.c;
            k.m = k.c * rnd(1, 2);
            k.w += rnd(0, 20);
        }
        run_conv(&k);
    }
}

/* Winograd's tile blocking (nncc_rt_sgemm.c): blocks of 64 tiles of 2x2
 * outputs (32 where the map has at most 64 tiles) cut across tile rows, the last block partial (fewer tiles than
 * one 32-column micro-kernel tile, or between one and two), rows of more
 * than 16 tiles (several vectors of the AVX-512 transform per row, the
 * left-edge shift with padding 1 and 2), rows of one tile, padding larger
 * than the patch (tile rows entirely outside the input), odd output sizes,
 * output channels that fill no panel pair, several images; and, in the
 * OpenMP build, few blocks for 3 threads (output panels split). */
static void test_winograd_blocks(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        /* n  c   h   w   m  kh kw sh sw dh dw pt pl pb pr g  act                   bias add */
        { 1, 8, 16, 16, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },   /* 64 tiles: two blocks of 32 */
        { 1, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 0 },  /* feature_extractor's conv */
        { 1, 8, 14, 18, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 1 },   /* 63 tiles: 32 and 31 */
        { 1, 8, 18, 16, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },   /* 72: a block of 8 */
        { 1, 5, 19, 17, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 1 },    /* 90: a block of 26 */
        { 1, 3, 5, 80, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_NONE, 1, 1 },    /* 40 tiles a row */
        { 2, 6, 9, 70, 5, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1, NNCC_ACT_RELU, 0, 1 },     /* pads 2, rows of 37 */
        { 1, 4, 40, 2, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 0 },     /* one tile a row */
        { 1, 4, 3, 3, 6, 3, 3, 1, 1, 1, 1, 4, 3, 5, 4, 1, NNCC_ACT_RELU, 1, 1 },      /* pads > patch */
        { 3, 7, 13, 11, 19, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 1, NNCC_ACT_SIGMOID, 1, 1 },/* asymmetric, 3 images */
        { 1, 1, 7, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_NONE, 0, 0 },      /* one channel */
        { 1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 1 },  /* resnet layer1 */
        { 1, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_RELU, 1, 0 },/* resnet layer3 */
        { 1, 40, 8, 8, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NNCC_ACT_CLIP, 1, 1 },    /* 16 tiles, 5 panels */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_conv(&cases[i]);
    /* random 3x3 stride-1 shapes, which the random test above meets rarely */
    for (int t = 0; t < 60; t++) {
        conv_case k;
        memset(&k, 0, sizeof k);
        k.n = rnd(1, 2), k.c = rnd(1, 24), k.m = rnd(1, 30), k.group = 1;
        k.kh = k.kw = 3, k.sh = k.sw = k.dh = k.dw = 1;
        k.pt = rnd(0, 3), k.pl = rnd(0, 3), k.pb = rnd(0, 3), k.pr = rnd(0, 3);
        k.h = rnd(1, 40), k.w = rnd(1, 90);
        fit_window(&k);
        k.act = (int)rnd(0, 3);
        k.bias = (int)rnd(0, 1), k.add = (int)rnd(0, 1);
        run_conv(&k);
    }
}

/* The AVX-512 depthwise kernels' shapes (nncc_rt_window.c), which the
 * random test above meets rarely: 3x3 stride 2 (each input row split into
 * even and odd columns, each block carrying the column before it, two
 * output rows sharing an input row; stride 2 across only, down only), the
 * narrow planes (rows of at most 7: stride 1 with padding 1 two rows to a
 * vector, stride 2 two output rows by permutes), odd and even sizes,
 * planes of 1x1 to 8x8, rows of more than one chunk of blocks, channel
 * counts not a multiple of 16, multiplier 2, the residual add, Relu and
 * Clip; in the OpenMP build enough work for the threads to share. */
static void test_depthwise(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        /* n  c   h   w   m  kh kw sh sw dh dw pt pl pb pr g  act                   bias add */
        { 1, 96, 112, 112, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 96, NNCC_ACT_CLIP, 1, 0 }, /* MobileNetV2's */
        { 1, 144, 56, 56, 144, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 144, NNCC_ACT_CLIP, 1, 0 },
        { 1, 576, 14, 14, 576, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 576, NNCC_ACT_CLIP, 1, 1 }, /* 7x7 out: pairs */
        { 1, 960, 7, 7, 960, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 960, NNCC_ACT_CLIP, 1, 1 },   /* narrow */
        { 1, 17, 15, 15, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 17, NNCC_ACT_RELU, 1, 1 },    /* odd: 8x8 out */
        { 1, 5, 16, 16, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, NNCC_ACT_CLIP, 0, 1 },       /* 8 wide: rows */
        { 1, 5, 16, 16, 5, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 5, NNCC_ACT_RELU, 1, 0 },       /* TF pads: 8 wide */
        { 2, 7, 9, 13, 14, 3, 3, 2, 2, 1, 1, 0, 2, 1, 0, 7, NNCC_ACT_CLIP, 1, 1 },       /* multiplier 2 */
        { 1, 9, 8, 8, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9, NNCC_ACT_NONE, 1, 1 },         /* 4x4 out */
        { 1, 6, 9, 14, 6, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 6, NNCC_ACT_CLIP, 1, 1 },        /* across only: pairs */
        { 1, 6, 9, 40, 12, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 6, NNCC_ACT_RELU, 1, 1 },       /* across only: rows */
        { 1, 6, 17, 40, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 6, NNCC_ACT_CLIP, 1, 1 },       /* down only */
        { 1, 3, 5, 1100, 3, 3, 3, 2, 2, 1, 1, 2, 2, 2, 2, 3, NNCC_ACT_CLIP, 0, 1 },      /* 2 chunks, pads 2 */
        { 1, 3, 6, 1100, 6, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 3, NNCC_ACT_RELU, 1, 1 },      /* 2 chunks, no pads */
        { 1, 33, 1, 1, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 33, NNCC_ACT_CLIP, 1, 1 },      /* 1x1 narrow */
        { 1, 4, 1, 1, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, NNCC_ACT_RELU, 1, 1 },         /* 1x1 pairs */
        { 2, 20, 5, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 20, NNCC_ACT_TANH, 1, 1 },      /* odd rows, other act */
        { 1, 64, 28, 28, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 64, NNCC_ACT_RELU, 0, 1 },    /* threads share */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_conv(&cases[i]);
    for (int t = 0; t < 200; t++) {
        conv_case k;
        memset(&k, 0, sizeof k);
        k.n = rnd(1, 2), k.c = rnd(1, 40), k.group = k.c, k.m = k.c * rnd(1, 2);
        k.kh = k.kw = 3, k.dh = k.dw = 1;
        k.sh = rnd(1, 2), k.sw = rnd(1, 2);
        k.pt = rnd(0, 2), k.pl = rnd(0, 2), k.pb = rnd(0, 2), k.pr = rnd(0, 2);
        k.h = rnd(1, 18), k.w = t % 2 ? rnd(1, 9) : rnd(1, 70);
        if (t % 3 == 0) /* the narrow stride-1 shape */
            k.sh = k.sw = 1, k.pt = k.pl = k.pb = k.pr = 1, k.w = rnd(1, 8);
        fit_window(&k);
        k.act = (int)rnd(0, 3);
        k.bias = (int)rnd(0, 1), k.add = (int)rnd(0, 1);
        run_conv(&k);
    }
}

/* ---- pooling ---- */

static void run_pool(int kind, int incl, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                     int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t pb, int64_t pr, int ceil_mode, int nans)
{
    nncc_pool2d_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind, p.count_include_pad = incl;
    p.n = n, p.c = c, p.h = h, p.w = w, p.kh = kh, p.kw = kw, p.sh = sh, p.sw = sw, p.dh = 1, p.dw = 1;
    p.pt = pt, p.pl = pl, p.pb = pb, p.pr = pr;
#ifdef NNCC_TEST_THREADS
    p.threads = NNCC_TEST_THREADS; /* the OpenMP build: planes shared by threads */
#endif
    const int64_t sy = h + pt + pb - kh, sx = w + pl + pr - kw;
    p.oh = (ceil_mode ? (sy + sh - 1) / sh : sy / sh) + 1;
    p.ow = (ceil_mode ? (sx + sw - 1) / sw : sx / sw) + 1;
    if (ceil_mode && (p.oh - 1) * sh >= h + pt)
        p.oh--;
    if (ceil_mode && (p.ow - 1) * sw >= w + pl)
        p.ow--;
    const int64_t nx = n * c * h * w, ny = n * c * p.oh * p.ow;
    float *x = rand_buf(nx), *ref = rand_buf(ny), *got = rand_buf(ny);
    for (int i = 0; i < nans; i++)
        x[(i * 7919) % nx] = NAN;
    /* nans < 0: -nans infinities of both signs instead (the 3x3/2 max
     * kernel's NaN test is a sum, which they turn to NaN: the plane then
     * takes the exact path, which must give the same) */
    for (int i = 0; i < -nans; i++)
        x[(i * 7919) % nx] = i % 2 ? -INFINITY : INFINITY;
    nncc_pool2d_f32(&p, x, ref, NULL);
    nncc_pool2d_fast_f32(&p, x, got);
    check_canary(got, ny, "pool output");
    if (nans < 0) {
        for (int64_t i = 0; i < ny; i++)
            if (!(got[i] == ref[i]))
                fail_msg("pool kind %d with infinities: output %lld is %g, not %g", kind, (long long)i, got[i], ref[i]);
        free(x), free(ref), free(got);
        return;
    }
    for (int64_t i = 0; i < ny; i++)
        if (isnan(ref[i]) != isnan(got[i]))
            fail_msg("pool kind %d: NaN at %lld differs", kind, (long long)i);
    /* NaN-free outputs: max is exact, average sums in another order */
    for (int64_t i = 0; i < ny; i++)
        if (isnan(ref[i]))
            ref[i] = got[i] = 0.0f;
    double e = rel_err(got, ref, ny);
    if (!(kind == NNCC_POOL_MAX ? e == 0.0 : e <= 1e-6))
        fail_msg("pool kind %d incl %d n%lld c%lld %lldx%lld k%lldx%lld s%lld,%lld pads %lld,%lld,%lld,%lld ceil %d: "
                 "relative error %g",
                 kind, incl, (long long)n, (long long)c, (long long)h, (long long)w, (long long)kh, (long long)kw,
                 (long long)sh, (long long)sw, (long long)pt, (long long)pl, (long long)pb, (long long)pr, ceil_mode, e);
    free(x), free(ref), free(got);
}

static void test_pool(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        run_pool(kind, 0, 1, 32, 32, 32, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0);     /* feature_extractor */
        run_pool(kind, 0, 1, 5, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0);    /* resnet stem */
        run_pool(kind, 1, 2, 3, 35, 37, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0);      /* 3x3 stride 1, pads counted */
        run_pool(kind, 1, 1, 3, 33, 29, 3, 2, 2, 3, 1, 0, 2, 1, 1, 0);      /* ceil mode, asymmetric */
        run_pool(kind, 0, 1, 2, 20, 50, 5, 4, 3, 3, 2, 1, 2, 3, 1, 0);
        run_pool(kind, 0, 1, 4, 64, 64, 2, 2, 2, 2, 0, 0, 0, 0, 0, 5);      /* NaNs */
        run_pool(kind, 0, 1, 2, 40, 41, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3);
        run_pool(kind, 0, 1, 3, 111, 111, 3, 3, 2, 2, 0, 0, 1, 1, 1, 0);   /* squeezenet, ceil mode */
        run_pool(kind, 0, 1, 5, 55, 55, 3, 3, 2, 2, 0, 0, 1, 1, 1, 0);
        run_pool(kind, 0, 1, 17, 27, 27, 3, 3, 2, 2, 0, 0, 1, 1, 1, 2);   /* NaNs in some planes */
        if (kind == NNCC_POOL_MAX)
            run_pool(kind, 0, 1, 6, 55, 55, 3, 3, 2, 2, 0, 0, 1, 1, 1, -8); /* infinities */
        run_pool(kind, 1, 1, 2, 9, 700, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0);    /* rows of many blocks */
        run_pool(kind, 0, 2, 2, 13, 601, 4, 4, 2, 2, 2, 3, 1, 2, 1, 0);
        run_pool(kind, 1, 1, 2, 31, 33, 3, 3, 2, 2, 1, 1, 2, 2, 1, 0);    /* ceil mode past the pads */
        run_pool(kind, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0);      /* one pixel */
        run_pool(kind, 1, 1, 3, 7, 17, 2, 5, 1, 2, 1, 4, 0, 4, 1, 1);     /* window wider than the row's part */
    }
    for (int t = 0; t < 200; t++) {
        const int64_t kh = rnd(1, 4), kw = rnd(1, 4), pt = rnd(0, kh - 1), pl = rnd(0, kw - 1);
        const int64_t pb = rnd(0, kh - 1), pr = rnd(0, kw - 1);
        int64_t h = rnd(1, 20), w = rnd(1, 45);
        if (h + pt + pb < kh)
            h = kh;
        if (w + pl + pr < kw)
            w = kw;
        run_pool((int)rnd(0, 1), (int)rnd(0, 1), rnd(1, 2), rnd(1, 3), h, w, kh, kw, rnd(1, 3), rnd(1, 3), pt, pl, pb,
                 pr, (int)rnd(0, 1), (int)rnd(0, 1));
    }
}

/* nncc_conv2d_implicit_pool_f32 (the convolution pooled a panel pair of
 * channels at a time) against the reference convolution, then the
 * reference pool: stems (7x7/2 + MaxPool 3x3/2 pad 1, 3x3/2 + MaxPool ceil),
 * channel counts that leave a partial group and a partial panel, a 1x1
 * read in place, average pools, activations applied in the tile and after,
 * two images; in the OpenMP build the pooled rows split among 3 threads
 * (the conv rows under a seam computed by both), and fewer rows than
 * threads. */
static void run_conv_pool(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t k, int64_t s, int64_t pad,
                          int act, int kind, int64_t pk, int64_t ps, int64_t ppad, int ceil_mode)
{
    nncc_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = p.kw = k, p.sh = p.sw = s, p.dh = p.dw = 1;
    p.pt = p.pl = pad, p.group = 1, p.act.kind = act, p.act.alpha = -0.25f, p.act.beta = 0.5f;
    p.oh = (h + 2 * pad - k) / s + 1, p.ow = (w + 2 * pad - k) / s + 1;
    nncc_pool2d_params q;
    memset(&q, 0, sizeof q);
    q.kind = kind, q.n = n, q.c = m, q.h = p.oh, q.w = p.ow, q.kh = q.kw = pk, q.sh = q.sw = ps, q.dh = q.dw = 1;
    q.pt = q.pl = q.pb = q.pr = ppad;
    const int64_t span = p.oh + 2 * ppad - pk;
    q.oh = q.ow = (ceil_mode ? (span + ps - 1) / ps : span / ps) + 1;
    if (ceil_mode && (q.oh - 1) * ps >= p.oh + ppad)
        q.oh = --q.ow;
#ifdef NNCC_TEST_THREADS
    p.threads = q.threads = NNCC_TEST_THREADS;
#endif
    const int64_t nx = n * c * h * w, nyc = n * m * p.oh * p.ow, ny = n * m * q.oh * q.ow;
    float *x = rand_buf(nx), *wt = rand_buf(m * c * k * k), *b = rand_buf(m), *conv = rand_buf(nyc);
    float *ref = rand_buf(ny), *got = rand_buf(ny);
    const int64_t np = nncc_conv2d_packed_size(&p), ns = nncc_conv2d_implicit_pool_scratch_size(&p);
    float *wp = rand_buf(np), *scratch = rand_buf(ns);
    nncc_conv2d_pack_f32(&p, wt, wp);
    nncc_conv2d_f32(&p, x, wt, b, NULL, conv);
    nncc_pool2d_f32(&q, conv, ref, NULL);
    nncc_conv2d_implicit_pool_f32(&p, &q, x, wp, b, got, scratch);
    check_canary(got, ny, "conv+pool output");
    check_canary(scratch, ns, "conv+pool scratch");
    const double e = rel_err(got, ref, ny);
    if (!(e <= TOL))
        fail_msg("conv+pool: n%lld c%lld %lldx%lld m%lld k%lld s%lld, pool %d %lld/%lld: relative error %g",
                 (long long)n, (long long)c, (long long)h, (long long)w, (long long)m, (long long)k, (long long)s, kind,
                 (long long)pk, (long long)ps, e);
    free(x), free(wt), free(b), free(conv), free(ref), free(got), free(wp), free(scratch);
}

static void test_conv_pool(void **state)
{
    (void)state;
    run_conv_pool(1, 3, 64, 64, 64, 7, 2, 3, NNCC_ACT_RELU, NNCC_POOL_MAX, 3, 2, 1, 0);  /* resnet stem */
    run_conv_pool(1, 3, 47, 47, 64, 3, 2, 0, NNCC_ACT_RELU, NNCC_POOL_MAX, 3, 2, 0, 1);  /* squeezenet, ceil */
    run_conv_pool(2, 5, 20, 20, 29, 3, 1, 1, NNCC_ACT_CLIP, NNCC_POOL_MAX, 2, 2, 0, 0);  /* partial group */
    run_conv_pool(1, 16, 9, 9, 20, 1, 1, 0, NNCC_ACT_NONE, NNCC_POOL_AVG, 3, 2, 1, 0);   /* 1x1 in place */
    run_conv_pool(1, 4, 16, 16, 7, 3, 1, 1, NNCC_ACT_SIGMOID, NNCC_POOL_AVG, 2, 2, 0, 0); /* act after */
    run_conv_pool(1, 3, 32, 32, 32, 3, 1, 1, NNCC_ACT_RELU, NNCC_POOL_MAX, 2, 2, 0, 0);  /* feature_extractor */
    run_conv_pool(2, 3, 4, 4, 8, 3, 1, 1, NNCC_ACT_RELU, NNCC_POOL_MAX, 3, 2, 1, 0);     /* 2 pooled rows: threads idle */
}

/* GlobalAveragePool: nncc_global_avgpool_fast_f32 sums in vector lanes,
 * the reference in order. Means of hw values in [-1, 1]: the two differ by a
 * few float roundings of partial sums at most 1 * hw, divided by hw, so
 * about 1e-7 absolute; 1e-6 against a scale of at least 1 leaves a margin. */
static void test_global_avgpool(void **state)
{
    (void)state;
    static const int64_t hws[] = { 1, 7, 15, 16, 17, 31, 32, 33, 49, 169, 1000 };
    for (size_t i = 0; i < sizeof hws / sizeof hws[0]; i++)
        for (int64_t nc = 1; nc <= 300; nc += 299) {
            const int64_t hw = hws[i];
            float *x = rand_buf(nc * hw), *ref = rand_buf(nc), *got = rand_buf(nc);
            int64_t threads = 1;
#ifdef NNCC_TEST_THREADS
            threads = NNCC_TEST_THREADS;
#endif
            nncc_global_avgpool_f32(nc, hw, x, ref);
            nncc_global_avgpool_fast_f32(nc, hw, threads, x, got);
            check_canary(got, nc, "global average pool output");
            const double e = rel_err(got, ref, nc);
            if (!(e <= 1e-6))
                fail_msg("global average pool nc %lld hw %lld: error %g", (long long)nc, (long long)hw, e);
            free(x), free(ref), free(got);
        }
}

static void run_gemm(int64_t m, int64_t n, int64_t k, int ta, int tb, int bias, int act)
{
    nncc_gemm_params p;
    memset(&p, 0, sizeof p);
    p.m = m, p.n = n, p.k = k, p.trans_a = ta, p.trans_b = tb;
    p.alpha = 0.75f, p.beta = 1.5f, p.bias = bias;
    p.act.kind = act;
    p.act.alpha = 0.1f;
    int64_t nc = bias == NNCC_BIAS_FULL ? m * n : bias == NNCC_BIAS_ROW ? n : bias == NNCC_BIAS_COL ? m : 1;
    float *a = rand_buf(m * k), *b = rand_buf(k * n), *c = rand_buf(nc);
    float *ref = rand_buf(m * n), *got = rand_buf(m * n);
    nncc_gemm_ref_f32(&p, a, b, c, ref);
    nncc_gemm_f32(&p, a, b, c, got);
    check_canary(got, m * n, "gemm output");
    double e = rel_err(got, ref, m * n);
    if (!(e <= TOL))
        fail_msg("gemm %lldx%lldx%lld transA %d transB %d bias %d act %d: relative error %g", (long long)m,
                 (long long)n, (long long)k, ta, tb, bias, act, e);
    free(a), free(b), free(c), free(ref), free(got);
}

static void test_gemm(void **state)
{
    (void)state;
    static const int64_t sizes[] = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100 };
    const int ns = (int)(sizeof sizes / sizeof sizes[0]);
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < ns; j += 2)
            for (int l = 0; l < ns; l += 3)
                for (int t = 0; t < 4; t++)
                    run_gemm(sizes[i], sizes[j], sizes[l], t & 1, t >> 1, (i + j + l + t) % 5, (i + t) % 2);
    run_gemm(1, 1000, 512, 0, 1, NNCC_BIAS_ROW, NNCC_ACT_NONE); /* a fully connected layer */
    run_gemm(1, 10, 4096, 0, 1, NNCC_BIAS_ROW, NNCC_ACT_NONE);  /* a narrow head: 2 groups of 4 rows of B, 1 of 2 */
    run_gemm(2, 5, 47, 0, 1, NNCC_BIAS_COL, NNCC_ACT_RELU);     /* K: a vector pair, a vector and a tail */
    run_gemm(64, 300, 200, 0, 0, NNCC_BIAS_FULL, NNCC_ACT_RELU);
}

/* One thread alone takes every unit once: with OpenMP its own run in
 * order, then the other runs' from the next thread on (units 10 in runs of
 * 3, 3, 4); without, there is one run (NNCC_PAR_MAX 1) */
static void test_par_order(void **state)
{
    (void)state;
#if NNCC_PAR_MAX >= 4
    static const int64_t want[3][10] = { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 },
                                         { 3, 4, 5, 6, 7, 8, 9, 0, 1, 2 },
                                         { 6, 7, 8, 9, 0, 1, 2, 3, 4, 5 } };
#else
    static const int64_t want[3][10] = { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 },
                                         { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 },
                                         { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 } };
#endif
    for (int64_t me = 0; me < 3; me++) {
        nncc_par s;
        nncc_par_init(&s, 3, 10);
        int64_t k = 0;
        for (int i = 0; i < 10; i++)
            assert_int_equal(nncc_par_take(&s, me, &k), want[me][i]);
        assert_int_equal(nncc_par_take(&s, me, &k), -1);
    }
    nncc_par s; /* fewer units than runs ([0,0) [0,1) [1,1) [1,2)): the empty ones give nothing */
    nncc_par_init(&s, 4, 2);
    int64_t k = 0;
    assert_int_equal(nncc_par_take(&s, 3, &k), NNCC_PAR_MAX >= 4 ? 1 : 0);
    assert_int_equal(nncc_par_take(&s, 3, &k), NNCC_PAR_MAX >= 4 ? 0 : 1);
    assert_int_equal(nncc_par_take(&s, 3, &k), -1);
}

#ifdef _OPENMP
/* With OpenMP: 3 threads share 3000 units; thread 2 starts only after the
 * other two have finished, so they must have taken its whole run, and
 * every unit goes to exactly one thread (with fewer threads than asked
 * for, the others take the missing thread's run all the same) */
static void test_par_late_thread(void **state)
{
    (void)state;
    enum { UNITS = 3000 };
    static int taken[UNITS];
    int done = 0, got2 = 0;
    nncc_par s;
    nncc_par_init(&s, 3, UNITS);
    memset(taken, 0, sizeof taken);
#pragma omp parallel num_threads(3)
    {
        const int64_t me = nncc_par_me();
        for (int d = 0; me == 2 && d < 2;) { /* no barrier: the others never wait for this one */
#pragma omp atomic read
            d = done;
        }
        int n = 0;
        for (int64_t u, k = 0; (u = nncc_par_take(&s, me, &k)) >= 0; n++) {
#pragma omp atomic update
            taken[u]++;
        }
        if (me < 2) {
#pragma omp atomic update
            done++;
        } else
            got2 = n;
    }
    for (int u = 0; u < UNITS; u++)
        assert_int_equal(taken[u], 1);
    assert_int_equal(got2, 0);
}
#endif

int main(void)
{
    if (kt_cpu_lacks_target())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_fixed),
        cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_winograd_blocks),
        cmocka_unit_test(test_depthwise),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_conv_pool),
        cmocka_unit_test(test_global_avgpool),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_par_order),
#ifdef _OPENMP
        cmocka_unit_test(test_par_late_thread),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
