/*
 * test_int8_kernels.c - the fast int8 kernels against the plain ones, bit
 * for bit: nncc_conv2d_i8 (packed weights, folded bias) against
 * nncc_conv2d_i8_ref, int8 max pooling, Add and the 8-bit
 * QuantizeLinear/DequantizeLinear against plain loops written here, on odd shapes (channels not a multiple of the 8-channel
 * block, reductions not a multiple of 4, pixel counts not a multiple of the
 * vector, several pixel tiles, padding, strides, dilation, groups,
 * depthwise) and random multipliers (shifts below and above 32).
 *
 * Built several times (tests/unit/CMakeLists.txt) with the runtime compiled
 * in: default flags (portable micro-kernel), -mavx2 (vpmaddubsw/vpmaddwd),
 * -mavx2 -mavxvnni (AVX-VNNI) and -mavx512vnni (AVX-512 VNNI); each exits
 * 77 (skipped) on a CPU without its instructions. Where an AArch64 cross
 * compiler and qemu-aarch64 are found, also for AArch64 NEON with and
 * without dot products (tests/unit/cmocka_min/cmocka.h stands in for CMocka there). Canary bytes after the
 * output and the scratch catch writes past them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nncc_runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static int32_t rnd(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}

enum { CANARY = 64 };

static void *canary_alloc(size_t n)
{
    unsigned char *p = malloc(n + CANARY);
    assert_non_null(p);
    memset(p + n, 0xA5, CANARY);
    return p;
}

static void canary_check(const void *p, size_t n)
{
    for (size_t i = 0; i < CANARY; i++)
        assert_int_equal(((const unsigned char *)p)[n + i], 0xA5);
}

typedef struct {
    int n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
} conv_case;

static void run_conv(const conv_case *k)
{
    nncc_conv2d_i8_params p;
    memset(&p, 0, sizeof p);
    nncc_conv2d_params *c = &p.c;
    c->n = k->n, c->c = k->c, c->h = k->h, c->w = k->w, c->m = k->m, c->kh = k->kh, c->kw = k->kw;
    c->sh = k->sh, c->sw = k->sw, c->dh = k->dh, c->dw = k->dw, c->pt = k->pt, c->pl = k->pl, c->group = k->group;
    c->oh = (k->h + k->pt + k->pb - k->dh * (k->kh - 1) - 1) / k->sh + 1;
    c->ow = (k->w + k->pl + k->pr - k->dw * (k->kw - 1) - 1) / k->sw + 1;
    p.x_zp = rnd(-128, 127), p.y_zp = rnd(-20, 20);
    p.y_min = rnd(-128, -60), p.y_max = rnd(60, 127);
    const size_t nx = (size_t)(c->n * c->c * c->h * c->w), nw = (size_t)(c->m * (c->c / c->group) * c->kh * c->kw);
    const size_t ny = (size_t)(c->n * c->m * c->oh * c->ow);
    int8_t *x = malloc(nx), *w = malloc(nw), *wp = canary_alloc(nw), *y = canary_alloc(ny), *yr = malloc(ny);
    int32_t *bias = malloc((size_t)c->m * 4), *bp = malloc((size_t)c->m * 4), *mult = malloc((size_t)c->m * 4);
    int32_t *rsh = malloc((size_t)c->m * 4);
    assert_true(x && w && yr && bias && bp && mult && rsh);
    for (size_t i = 0; i < nx; i++)
        x[i] = (int8_t)rnd(-128, 127);
    for (size_t i = 0; i < nw; i++)
        w[i] = (int8_t)rnd(-128, 127);
    const int32_t K = (int32_t)(c->c / c->group * c->kh * c->kw);
    for (int64_t m = 0; m < c->m; m++) {
        bias[m] = rnd(-5000, 5000);
        mult[m] = (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu));
        /* outputs around +-100: the accumulator is about sqrt(K) * 128 * 74; some shifts below 32 */
        rsh[m] = m % 5 == 0 ? rnd(20, 31) : rnd(32, 40);
        if (m % 7 == 3)
            mult[m] = 0;
    }
    (void)K;
    assert_int_equal(nncc_conv2d_i8_pack(&p, w, bias, wp, bp), 0);
    canary_check(wp, nw);
    const size_t ns = (size_t)nncc_conv2d_i8_scratch_size(&p);
    unsigned char *scratch = canary_alloc(ns);
    nncc_conv2d_i8_ref(&p, x, w, bias, mult, rsh, yr);
    nncc_conv2d_i8(&p, x, wp, bp, mult, rsh, y, scratch);
    canary_check(y, ny);
    canary_check(scratch, ns);
    for (size_t i = 0; i < ny; i++)
        if (y[i] != yr[i])
            fail_msg("conv n%d c%d %dx%d m%d k%dx%d s%d,%d d%d,%d g%d: y[%zu] = %d, reference %d", k->n, k->c, k->h,
                     k->w, k->m, k->kh, k->kw, k->sh, k->sw, k->dh, k->dw, k->group, i, y[i], yr[i]);
    free(x), free(w), free(wp), free(y), free(yr), free(bias), free(bp), free(mult), free(rsh), free(scratch);
}

static void test_conv(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        /* n  c   h   w   m  kh kw sh sw dh dw pt pl pb pr group */
        { 1, 3, 17, 19, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1 },    /* K = 27, M = 13: partial block and quad */
        { 2, 16, 9, 11, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1 },    /* 1x1 direct, 99 pixels, batch 2 */
        { 1, 8, 15, 15, 8, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1 },     /* 1x1 stride 2: gathered */
        { 1, 5, 23, 21, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1 },    /* stride 2, pad 1 */
        { 1, 3, 30, 29, 9, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1 },     /* ResNet's stem shape */
        { 1, 6, 13, 12, 12, 3, 2, 1, 1, 2, 3, 2, 1, 0, 3, 3 },    /* dilation, asymmetric pads, 3 groups */
        { 1, 64, 40, 41, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1 },   /* K = 576: several pixel tiles */
        { 1, 260, 7, 7, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1 },    /* K = 2340, 49 pixels */
        { 1, 1, 5, 40, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1 },      /* one channel */
        { 1, 21, 19, 18, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 21 },  /* depthwise */
        { 2, 10, 33, 35, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 10 },  /* depthwise stride 2, 35 wide */
        { 1, 4, 9, 70, 4, 5, 5, 1, 2, 2, 1, 4, 2, 4, 2, 4 },      /* depthwise 5x5, mixed stride and dilation */
        { 1, 4, 6, 6, 8, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 2 },       /* stride 3, two groups of 2 -> 4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_conv(&cases[i]);
}

static void test_maxpool(void **state)
{
    (void)state;
    static const int cases[][10] = {
        /* h, w, kh, kw, s, d, pt, pl, pb, pr */
        { 112, 112, 3, 3, 2, 1, 1, 1, 1, 1 }, { 17, 300, 2, 2, 2, 1, 0, 0, 0, 0 }, { 9, 13, 3, 3, 1, 2, 2, 2, 2, 2 },
        { 5, 7, 5, 7, 1, 1, 0, 0, 0, 0 }, { 32, 32, 2, 2, 2, 1, 0, 0, 0, 0 }, { 9, 37, 2, 2, 2, 1, 0, 0, 0, 0 },
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int *k = cases[t];
        nncc_pool2d_params p;
        memset(&p, 0, sizeof p);
        p.n = 1, p.c = 3, p.h = k[0], p.w = k[1], p.kh = k[2], p.kw = k[3], p.sh = p.sw = k[4], p.dh = p.dw = k[5];
        p.pt = k[6], p.pl = k[7], p.pb = k[8], p.pr = k[9];
        p.oh = (p.h + p.pt + p.pb - p.dh * (p.kh - 1) - 1) / p.sh + 1;
        p.ow = (p.w + p.pl + p.pr - p.dw * (p.kw - 1) - 1) / p.sw + 1;
        const size_t nx = (size_t)(p.c * p.h * p.w), ny = (size_t)(p.c * p.oh * p.ow);
        int8_t *x = malloc(nx), *y = canary_alloc(ny);
        assert_non_null(x);
        for (size_t i = 0; i < nx; i++)
            x[i] = (int8_t)rnd(-128, 127);
        nncc_maxpool2d_i8(&p, x, y);
        canary_check(y, ny);
        for (int64_t c = 0; c < p.c; c++)
            for (int64_t oy = 0; oy < p.oh; oy++)
                for (int64_t ox = 0; ox < p.ow; ox++) {
                    int v = -128;
                    for (int64_t ky = 0; ky < p.kh; ky++)
                        for (int64_t kx = 0; kx < p.kw; kx++) {
                            int64_t iy = oy * p.sh + ky * p.dh - p.pt, ix = ox * p.sw + kx * p.dw - p.pl;
                            if (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w && x[(c * p.h + iy) * p.w + ix] > v)
                                v = x[(c * p.h + iy) * p.w + ix];
                        }
                    assert_int_equal(y[(c * p.oh + oy) * p.ow + ox], v);
                }
        free(x), free(y);
    }
}

static void test_add(void **state)
{
    (void)state;
    enum { N = 1000 };
    int8_t a[N], b[N], y[N];
    for (int t = 0; t < 50; t++) {
        nncc_add_i8_params p = { .n = N - t, .a_zp = rnd(-128, 127), .b_zp = rnd(-128, 127), .y_zp = rnd(-128, 127),
                                 .a_mult = (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu)), .a_rshift = rnd(31, 33),
                                 .b_mult = (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu)), .b_rshift = rnd(31, 33),
                                 .y_mult = (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu)), .y_rshift = rnd(48, 52),
                                 .y_min = rnd(-128, 0), .y_max = 127 };
        for (int i = 0; i < N; i++)
            a[i] = (int8_t)rnd(-128, 127), b[i] = (int8_t)rnd(-128, 127);
        nncc_add_i8(&p, a, b, y);
        for (int i = 0; i < p.n; i++) {
            int32_t va = nncc_requant((a[i] - p.a_zp) * (1 << 20), p.a_mult, p.a_rshift);
            int32_t vb = nncc_requant((b[i] - p.b_zp) * (1 << 20), p.b_mult, p.b_rshift);
            int32_t r = p.y_zp + nncc_requant(va + vb, p.y_mult, p.y_rshift);
            assert_int_equal(y[i], r < p.y_min ? p.y_min : r > p.y_max ? p.y_max : r);
        }
    }
}

/* The per-tensor 8-bit QuantizeLinear/DequantizeLinear loops (AVX2 in some
 * builds) against the formula: rint of the float quotient, plus the zero
 * point, saturated; ties and out-of-range values included. */
static void test_quantize(void **state)
{
    (void)state;
    enum { N = 1003 };
    static float x[N], back[N];
    static uint8_t q[N];
    for (int t = 0; t < 2; t++) {
        const int32_t qt = t ? NNCC_RT_U8 : NNCC_RT_I8;
        const float s = 0.0625f;
        const int32_t z = t ? 131 : -7;
        const uint8_t zu = (uint8_t)z;
        const int8_t zs = (int8_t)z;
        for (int i = 0; i < N; i++)
            x[i] = i % 3 == 0 ? (float)rnd(-300, 300) * 0.03125f /* halves of a step: ties */
                              : (float)rnd(-2000000, 2000000) * 1e-5f;
        const nncc_quant_params p = { .outer = 1, .len = N, .inner = 1, .block = 1 };
        nncc_quantize(&p, qt, x, &s, t ? (const void *)&zu : (const void *)&zs, q);
        for (int i = 0; i < N; i++) {
            double v = rint((double)(x[i] / s)) + z, lo = t ? 0 : -128, hi = t ? 255 : 127;
            v = v < lo ? lo : v > hi ? hi : v;
            assert_int_equal(t ? (int)q[i] : (int)(int8_t)q[i], (int)v);
        }
        nncc_dequantize(&p, qt, q, &s, t ? (const void *)&zu : (const void *)&zs, back);
        for (int i = 0; i < N; i++)
            assert_true(back[i] == (float)((t ? (int)q[i] : (int)(int8_t)q[i]) - z) * s);
    }
}

int main(void)
{
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#if defined(NNCC_TEST_AVX512VNNI)
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl"))
        return 77;
#elif defined(NNCC_TEST_AVXVNNI)
    if (!__builtin_cpu_supports("avxvnni"))
        return 77;
#elif defined(NNCC_TEST_AVX2)
    if (!__builtin_cpu_supports("avx2"))
        return 77;
#endif
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_quantize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
