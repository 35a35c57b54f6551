/*
 * test_alloc_fail.c - out-of-memory paths: with the context told to fail its
 * Nth arena allocation, for every N up to the number a full compile makes,
 * nncc_compile_file must return an error status (never crash, never report
 * success with a half-built graph) and free everything (checked by ASan's
 * leak detector in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model_builder.h"
#include "nncc-impl.h"

#include <stdlib.h>
#include <string.h>

#define T "alloc_fail"
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), (int64_t[]){ __VA_ARGS__ }

/* A model touching most of the pipeline: shape folding, BN folding, fusion,
 * a Pad into the MaxPool, a Transpose pair, views, an elementwise chain, a
 * symbolic batch (so the batch-2 probe compile runs too). */
static void write_model(const char *path, int symbolic)
{
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(symbolic ? -1 : 1, 2, 6, 6));
    float w[4 * 2 * 3 * 3], p[4];
    for (int i = 0; i < 72; i++)
        w[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < 4; i++)
        p[i] = 1.0f + (float)i;
    mb_init_f32(m, "w", DIMS(4, 2, 3, 3), w);
    mb_init_f32(m, "s", DIMS(4), p);
    mb_init_f32(m, "b", DIMS(4), p);
    mb_init_f32(m, "mu", DIMS(4), p);
    mb_init_f32(m, "var", DIMS(4), p);
    Onnx__NodeProto *n = mb_node(m, "Conv", "conv", "x,w", "c");
    mb_attr_ints(m, n, "pads", DIMS(1, 1, 1, 1));
    mb_node(m, "BatchNormalization", "bn", "c,s,b,mu,var", "bn_out");
    mb_node(m, "Relu", "relu", "bn_out", "r");
    int64_t pads[8] = { 0, 0, 0, 0, 0, 0, 1, 1 };
    mb_init_i64(m, "pads", DIMS(8), pads);
    mb_node(m, "Pad", "pad", "r,pads", "rp");
    n = mb_node(m, "MaxPool", "pool", "rp", "pl0");
    mb_attr_ints(m, n, "kernel_shape", DIMS(2, 2));
    mb_attr_ints(m, n, "strides", DIMS(2, 2));
    n = mb_node(m, "Transpose", "nhwc", "pl0", "plt");
    mb_attr_ints(m, n, "perm", DIMS(0, 2, 3, 1));
    n = mb_node(m, "Transpose", "nchw", "plt", "pl");
    mb_attr_ints(m, n, "perm", DIMS(0, 3, 1, 2));
    mb_node(m, "Shape", "shape", "pl", "shp");
    int64_t idx = 0, ax = 0, m1 = -1;
    mb_init_i64(m, "i0", 0, NULL, &idx);
    mb_init_i64(m, "ax", DIMS(1), &ax);
    mb_init_i64(m, "m1", DIMS(1), &m1);
    mb_node(m, "Gather", "gather", "shp,i0", "n0");
    mb_node(m, "Unsqueeze", "unsq", "n0,ax", "n1");
    n = mb_node(m, "Concat", "cat", "n1,m1", "newshape");
    mb_attr_int(m, n, "axis", 0);
    mb_node(m, "Reshape", "flat", "pl,newshape", "f");
    float gw[36 * 3];
    for (int i = 0; i < 108; i++)
        gw[i] = (float)(i % 5) * 0.25f;
    mb_init_f32(m, "gw", DIMS(36, 3), gw);
    mb_node(m, "Gemm", "fc", "f,gw", "g");
    float half = 0.5f;
    mb_init_f32(m, "half", 0, NULL, &half);
    mb_node(m, "Mul", "scale", "g,half", "gs");
    mb_node(m, "Sigmoid", "sig", "gs", "y");
    mb_output(m, "y");
    assert_int_equal(mb_write(m, path), 0);
    mb_free(m);
}

static void sweep(const char *file, int symbolic)
{
    char path[4096], out[4096];
    ut_path(path, sizeof path, T, file);
    write_model(path, symbolic);
    snprintf(out, sizeof out, "%s/out_%d.c", ut_dir(T), symbolic);
    FILE *sink = tmpfile();
    assert_non_null(sink);

    /* a clean compile, to count the allocations it makes */
    nncc_options o;
    nncc_options_init(&o);
    o.diag = sink;
    nncc_ctx *ctx = nncc_ctx_new(&o);
    nncc_status st = nncc_compile_file(ctx, path, out);
    if (st != NNCC_OK) {
        char *t = ut_slurp(sink);
        fprintf(stderr, "%s", t);
        free(t);
    }
    assert_int_equal(st, NNCC_OK);
    long total = ctx->n_allocs;
    nncc_ctx_free(ctx);
    assert_true(total > 20);

    for (long n = 1; n <= total; n++) {
        o.fail_alloc_after = n;
        ctx = nncc_ctx_new(&o);
        assert_non_null(ctx);
        st = nncc_compile_file(ctx, path, out);
        if (st == NNCC_OK)
            fprintf(stderr, "allocation %ld of %ld failed, yet the compile reported success\n", n, total);
        assert_int_not_equal(st, NNCC_OK);
        assert_true(nncc_error_count(ctx) > 0);
        nncc_ctx_free(ctx);
        rewind(sink); /* keep the sink small */
    }
    /* one past the last allocation: nothing fails */
    o.fail_alloc_after = total + 1;
    ctx = nncc_ctx_new(&o);
    assert_int_equal(nncc_compile_file(ctx, path, out), NNCC_OK);
    nncc_ctx_free(ctx);
    fclose(sink);
}

static void test_every_allocation_fails_cleanly(void **state)
{
    (void)state;
    sweep("model.onnx", 0);
}

static void test_symbolic_batch(void **state)
{
    (void)state;
    sweep("model_batch.onnx", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_cleanly),
        cmocka_unit_test(test_symbolic_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
