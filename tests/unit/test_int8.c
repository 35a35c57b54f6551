/*
 * test_int8.c - int8 requantisation and kernels.
 *
 * The fixed-point multiplier (nncc_quant_multiplier, in the compiler) and
 * nncc_requant (in the runtime) against a double reference over many random
 * scales and accumulators; the int8 reference conv and the gemm kernel
 * against a plain double implementation of the same formula (the fast conv
 * is checked against the reference in test_int8_kernels.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nncc-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)next() / 4294967296.0;
}

/* round(acc * r), halves up: what nncc_requant approximates */
static double ref_requant(int32_t acc, double r)
{
    return floor((double)acc * r + 0.5);
}

static void test_multiplier_edges(void **state)
{
    (void)state;
    int32_t m, s;
    assert_true(nncc_quant_multiplier(1.0, &m, &s));
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, 30);
    assert_int_equal(nncc_requant(12345, m, s), 12345);
    assert_int_equal(nncc_requant(-12345, m, s), -12345);
    assert_true(nncc_quant_multiplier(0.0, &m, &s));
    assert_int_equal(nncc_requant(1 << 30, m, s), 0);
    assert_true(nncc_quant_multiplier(1e-12, &m, &s)); /* below 2^-31: zero */
    assert_int_equal(m, 0);
    assert_int_equal(nncc_requant(INT32_MAX, m, s), 0);
    assert_false(nncc_quant_multiplier(2e9, &m, &s)); /* too large to shift right */
    assert_false(nncc_quant_multiplier(-0.5, &m, &s));
    /* 0.5 rounds half up: 3 * 0.5 = 1.5 -> 2, -3 * 0.5 = -1.5 -> -1 */
    assert_true(nncc_quant_multiplier(0.5, &m, &s));
    assert_int_equal(nncc_requant(3, m, s), 2);
    assert_int_equal(nncc_requant(-3, m, s), -1);
}

/* 10^6 random (multiplier, accumulator) pairs, multipliers log-uniform over
 * [2^-24, 2^8): the result equals round(acc * r) except where acc * r lies
 * within 2^-10 of a half (the 31-bit multiplier's relative error is 2^-31,
 * and |acc * r| < 2^20 here), and is never off by more than one. */
static void test_requant_random(void **state)
{
    (void)state;
    long exact = 0, near_tie = 0;
    for (int i = 0; i < 1000000; i++) {
        double r = ldexp(1.0, -24) * pow(2.0, uniform(0, 32));
        int32_t m, s;
        assert_true(nncc_quant_multiplier(r, &m, &s));
        assert_true(m == 0 || (m >= (1 << 30) && s >= 1 && s <= 62));
        double lim = fmin(2147483000.0, ldexp(1.0, 20) / r);
        int32_t acc = (int32_t)uniform(-lim, lim);
        double ref = ref_requant(acc, r);
        int32_t got = nncc_requant(acc, m, s);
        double frac = (double)acc * r - floor((double)acc * r);
        if (fabs(frac - 0.5) < ldexp(1.0, -10)) {
            near_tie++;
            assert_true(fabs(got - ref) <= 1);
            continue;
        }
        if (got != ref)
            fail_msg("r %.17g acc %ld: got %ld, want %.0f (mult %ld, shift %ld)", r, (long)acc, (long)got, ref,
                     (long)m, (long)s);
        exact++;
    }
    assert_true(exact > 990000);
    (void)near_tie;
}

static int32_t clampi(double v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* Int8 reference conv (stride 2, pad 1, groups 2) and gemm against double references. */
static void test_kernels(void **state)
{
    (void)state;
    enum { N = 2, C = 4, H = 7, W = 9, M = 6, KH = 3, KW = 3, G = 2 };
    nncc_conv2d_i8_params p;
    memset(&p, 0, sizeof p);
    p.c = (nncc_conv2d_params){ .n = N, .c = C, .h = H, .w = W, .m = M, .kh = KH, .kw = KW, .sh = 2, .sw = 2,
                                .dh = 1, .dw = 1, .pt = 1, .pl = 1, .group = G };
    p.c.oh = (H + 2 - KH) / 2 + 1;
    p.c.ow = (W + 2 - KW) / 2 + 1;
    p.x_zp = -7, p.y_zp = 5, p.y_min = -100, p.y_max = 120;
    static int8_t x[N * C * H * W], w[M * (C / G) * KH * KW], y[N * M * 4 * 5];
    int32_t bias[M], mult[M], rsh[M];
    double real[M];
    for (size_t i = 0; i < sizeof x; i++)
        x[i] = (int8_t)(next() % 256 - 128);
    for (size_t i = 0; i < sizeof w; i++)
        w[i] = (int8_t)(next() % 255 - 127);
    for (int m = 0; m < M; m++) {
        bias[m] = (int32_t)(next() % 2001) - 1000;
        real[m] = uniform(0.001, 0.02);
        assert_true(nncc_quant_multiplier(real[m], &mult[m], &rsh[m]));
        real[m] = mult[m] * ldexp(1.0, -rsh[m]); /* the multiplier the kernel has */
    }
    nncc_conv2d_i8_ref(&p, x, w, bias, mult, rsh, y);
    const int cg = C / G, mg = M / G;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++)
            for (int oy = 0; oy < p.c.oh; oy++)
                for (int ox = 0; ox < p.c.ow; ox++) {
                    int64_t acc = bias[m];
                    for (int c = 0; c < cg; c++)
                        for (int ky = 0; ky < KH; ky++)
                            for (int kx = 0; kx < KW; kx++) {
                                int iy = oy * 2 + ky - 1, ix = ox * 2 + kx - 1;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                int ci = (m / mg) * cg + c;
                                acc += (x[((n * C + ci) * H + iy) * W + ix] - p.x_zp) *
                                       w[((m * cg + c) * KH + ky) * KW + kx];
                            }
                    int32_t want = clampi(p.y_zp + ref_requant((int32_t)acc, real[m]), p.y_min, p.y_max);
                    assert_int_equal(y[((n * M + m) * p.c.oh + oy) * p.c.ow + ox], want);
                }

    enum { GM = 3, GN = 5, GK = 37 };
    nncc_gemm_i8_params q = { .m = GM, .n = GN, .k = GK, .a_zp = 11, .y_zp = -3, .y_min = -128, .y_max = 127 };
    static int8_t a[GM * GK], b[GN * GK], yy[GM * GN];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (int8_t)(next() % 256 - 128);
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (int8_t)(next() % 255 - 127);
    nncc_gemm_i8(&q, a, b, bias, mult, rsh, yy);
    for (int i = 0; i < GM; i++)
        for (int j = 0; j < GN; j++) {
            int64_t acc = bias[j];
            for (int k = 0; k < GK; k++)
                acc += (a[i * GK + k] - q.a_zp) * b[j * GK + k];
            assert_int_equal(yy[i * GN + j], clampi(q.y_zp + ref_requant((int32_t)acc, real[j]), -128, 127));
        }
}

/* QuantizeLinear rounds half to even and saturates; DequantizeLinear inverts it on the grid. */
static void test_quantize(void **state)
{
    (void)state;
    const float s = 0.5f;
    const int32_t z = -3;
    float x[] = { 0.25f, 0.75f, -0.25f, 1000.0f, -1000.0f, 1.0f };
    int8_t q[6];
    float back[6];
    const nncc_quant_params qp = { .outer = 1, .len = 6, .inner = 1, .block = 1 };
    const int8_t zq = (int8_t)z;
    nncc_quantize(&qp, NNCC_RT_I8, x, &s, &zq, q);
    int8_t want[] = { -3, -1, -3, 127, -128, -1 }; /* 0.5 -> 0, 1.5 -> 2, -0.5 -> -0 */
    assert_memory_equal(q, want, sizeof want);
    nncc_dequantize(&qp, NNCC_RT_I8, q, &s, &zq, back);
    assert_true(back[5] == 1.0f && back[3] == 65.0f);
}

/* Int8Add against double arithmetic: within one step (the kernel rounds
 * three times, each within half a step of its own scale), exact on most. */
static void test_add(void **state)
{
    (void)state;
    int exact = 0;
    for (int trial = 0; trial < 200; trial++) {
        double sa = uniform(0.001, 0.1), sb = uniform(0.001, 0.1), sy = uniform(0.002, 0.2);
        nncc_add_i8_params p = { .n = 64, .a_zp = (int32_t)(next() % 256) - 128, .b_zp = (int32_t)(next() % 256) - 128,
                                 .y_zp = (int32_t)(next() % 256) - 128, .y_min = -128, .y_max = 127 };
        double m2 = 2 * fmax(sa, sb);
        assert_true(nncc_quant_multiplier(sa / m2, &p.a_mult, &p.a_rshift));
        assert_true(nncc_quant_multiplier(sb / m2, &p.b_mult, &p.b_rshift));
        assert_true(nncc_quant_multiplier(m2 / (1048576.0 * sy), &p.y_mult, &p.y_rshift));
        int8_t a[64], b[64], y[64];
        for (int i = 0; i < 64; i++)
            a[i] = (int8_t)(next() % 256 - 128), b[i] = (int8_t)(next() % 256 - 128);
        nncc_add_i8(&p, a, b, y);
        for (int i = 0; i < 64; i++) {
            double real = (a[i] - p.a_zp) * sa + (b[i] - p.b_zp) * sb;
            int32_t want = clampi(p.y_zp + floor(real / sy + 0.5), -128, 127);
            assert_true(abs(y[i] - want) <= 1);
            exact += y[i] == want;
        }
    }
    assert_true(exact > 200 * 64 * 95 / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiplier_edges),
        cmocka_unit_test(test_requant_random),
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_quantize),
        cmocka_unit_test(test_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
