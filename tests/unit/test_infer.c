/*
 * test_infer.c - shape inference (passes/infer.c and each op's infer) on
 * small ONNX graphs built in C: output shapes per op and attribute variant,
 * and the errors for inputs that do not fit.
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

#define T "infer"
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define DIMS(...) (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), (int64_t[]){ __VA_ARGS__ }

typedef struct {
    nncc_ctx *ctx;
    FILE *diag;
    nncc_graph *g;
    nncc_status st;   /* of the infer pass */
    char *text;       /* diagnostics */
} run;

static int file_no;

/* Writes, loads, sorts and infers; loading and sorting must succeed. */
static void infer(run *R, mb *m)
{
    char path[4096], name[64];
    snprintf(name, sizeof name, "m%d.onnx", file_no++);
    ut_path(path, sizeof path, T, name);
    assert_int_equal(mb_write(m, path), 0);
    nncc_options o;
    nncc_options_init(&o);
    R->diag = tmpfile();
    assert_non_null(R->diag);
    o.diag = R->diag;
    R->ctx = nncc_ctx_new(&o);
    assert_non_null(R->ctx);
    R->g = NULL;
    nncc_status st = nncc_load_onnx(R->ctx, path, &R->g);
    if (st != NNCC_OK) {
        char *t = ut_slurp(R->diag);
        fprintf(stderr, "load failed: %s\n", t);
        free(t);
    }
    assert_int_equal(st, NNCC_OK);
    assert_int_equal(nncc_graph_toposort(R->g), NNCC_OK);
    R->st = nncc_pass_infer(R->g, &o);
    R->text = ut_slurp(R->diag);
}

static void done(run *R)
{
    nncc_ctx_free(R->ctx);
    fclose(R->diag);
    free(R->text);
}

static void expect_shape(run *R, const char *name, int rank, const int64_t *d)
{
    if (R->st != NNCC_OK)
        fprintf(stderr, "diagnostics:\n%s", R->text);
    assert_int_equal(R->st, NNCC_OK);
    int ti = nncc_tensor_find(R->g, name);
    assert_true(ti >= 0);
    nncc_tensor *t = &R->g->t[ti];
    assert_true(t->has_shape);
    if (t->shape.rank != rank)
        fprintf(stderr, "'%s' is %s\n", name, nncc_shape_str(R->ctx, &t->shape));
    assert_int_equal(t->shape.rank, rank);
    for (int i = 0; i < rank; i++) {
        if (t->shape.d[i] != d[i])
            fprintf(stderr, "'%s' is %s\n", name, nncc_shape_str(R->ctx, &t->shape));
        assert_int_equal(t->shape.d[i], d[i]);
    }
}

static void expect_error(run *R, const char *a, const char *b)
{
    assert_int_not_equal(R->st, NNCC_OK);
    if (a && !strstr(R->text, a))
        fprintf(stderr, "expected '%s' in:\n%s", a, R->text);
    if (a)
        assert_non_null(strstr(R->text, a));
    if (b && !strstr(R->text, b))
        fprintf(stderr, "expected '%s' in:\n%s", b, R->text);
    if (b)
        assert_non_null(strstr(R->text, b));
}

/* A float initializer of the given shape, all zeros. */
static void zeros(mb *m, const char *name, int rank, const int64_t *d)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)d[i];
    float *z = calloc(n ? n : 1, sizeof(float));
    mb_init_f32(m, name, rank, d, z);
    free(z);
}

static void ints(mb *m, const char *name, int n, const int64_t *v)
{
    int64_t d[] = { n };
    mb_init_i64(m, name, 1, d, v);
}

/* ---- Conv ---- */

static void test_conv(void **state)
{
    (void)state;
    run R;
    /* groups, strides, dilations, asymmetric pads, bias */
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4, 9, 9));
    zeros(m, "w", DIMS(8, 2, 3, 3));
    zeros(m, "b", DIMS(8));
    Onnx__NodeProto *n = mb_node(m, "Conv", "conv", "x,w,b", "y");
    mb_attr_int(m, n, "group", 2);
    mb_attr_ints(m, n, "kernel_shape", DIMS(3, 3));
    mb_attr_ints(m, n, "strides", DIMS(2, 1));
    mb_attr_ints(m, n, "dilations", DIMS(1, 2));
    mb_attr_ints(m, n, "pads", DIMS(1, 2, 1, 0)); /* top, left, bottom, right */
    mb_output(m, "y");
    infer(&R, m);
    /* H: (9+1+1-3)/2+1 = 5; W: (9+2+0-(2*2+1))/1+1 = 7 */
    expect_shape(&R, "y", DIMS(1, 8, 5, 7));
    done(&R);
    mb_free(m);

    /* auto_pad SAME_UPPER / SAME_LOWER with stride 2: ceil(8/2) = 4 either way */
    const char *modes[] = { "SAME_UPPER", "SAME_LOWER", "VALID" };
    int64_t want[] = { 4, 4, 3 };
    for (int i = 0; i < 3; i++) {
        m = mb_new(13);
        mb_input(m, "x", F32, DIMS(1, 1, 8, 8));
        zeros(m, "w", DIMS(2, 1, 3, 3));
        n = mb_node(m, "Conv", "conv", "x,w", "y");
        mb_attr_str(m, n, "auto_pad", modes[i]);
        mb_attr_ints(m, n, "strides", DIMS(2, 2));
        mb_output(m, "y");
        infer(&R, m);
        expect_shape(&R, "y", DIMS(1, 2, want[i], want[i]));
        done(&R);
        mb_free(m);
    }
    /* where the odd padding pixel goes: total (4-1)*2+3-8 = 1 */
    int64_t pb = 0, pe = 0;
    assert_int_equal(nncc_window_out("SAME_UPPER", 8, 3, 2, 1, &pb, &pe, 0), 4);
    assert_int_equal(pb, 0);
    assert_int_equal(pe, 1);
    assert_int_equal(nncc_window_out("SAME_LOWER", 8, 3, 2, 1, &pb, &pe, 0), 4);
    assert_int_equal(pb, 1);
    assert_int_equal(pe, 0);
    /* dilation 2: extent 5, total (4-1)*2+5-8 = 3 */
    assert_int_equal(nncc_window_out("SAME_UPPER", 8, 3, 2, 2, &pb, &pe, 0), 4);
    assert_int_equal(pb, 1);
    assert_int_equal(pe, 2);
    assert_int_equal(nncc_window_out("SAME_LOWER", 8, 3, 2, 2, &pb, &pe, 0), 4);
    assert_int_equal(pb, 2);
    assert_int_equal(pe, 1);

    /* 1-D convolution */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 10));
    zeros(m, "w", DIMS(3, 2, 3));
    n = mb_node(m, "Conv", "conv1d", "x,w", "y");
    mb_attr_ints(m, n, "strides", DIMS(3));
    mb_output(m, "y");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(1, 3, 3)); /* (10-3)/3+1 */
    done(&R);
    mb_free(m);
}

static void test_conv_errors(void **state)
{
    (void)state;
    run R;
    /* weight rank differs from the input's */
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4, 9, 9));
    zeros(m, "w", DIMS(8, 4, 3));
    mb_node(m, "Conv", "conv_bad", "x,w", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "conv_bad", "weight has 3 dims");
    done(&R);
    mb_free(m);
    /* channels do not fit the group */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4, 9, 9));
    zeros(m, "w", DIMS(8, 3, 3, 3));
    mb_node(m, "Conv", "conv_grp", "x,w", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "conv_grp", "channels");
    done(&R);
    /* kernel larger than the input */
    mb_free(m);
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 1, 2, 2));
    zeros(m, "w", DIMS(1, 1, 3, 3));
    mb_node(m, "Conv", "conv_big", "x,w", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "conv_big", "larger");
    done(&R);
    mb_free(m);
}

/* ---- pooling ---- */

static void test_maxpool_ceil(void **state)
{
    (void)state;
    run R;
    for (int ceil = 0; ceil <= 1; ceil++) {
        mb *m = mb_new(13);
        mb_input(m, "x", F32, DIMS(1, 1, 6, 6));
        Onnx__NodeProto *n = mb_node(m, "MaxPool", "pool", "x", "y");
        mb_attr_ints(m, n, "kernel_shape", DIMS(3, 3));
        mb_attr_ints(m, n, "strides", DIMS(2, 2));
        mb_attr_int(m, n, "ceil_mode", ceil);
        mb_output(m, "y");
        infer(&R, m);
        /* (6-3)/2 = 1.5: floor 1 + 1 = 2, ceil 2 + 1 = 3 */
        expect_shape(&R, "y", DIMS(1, 1, 2 + ceil, 2 + ceil));
        done(&R);
        mb_free(m);
    }
    /* ceil mode never starts a window in the right padding:
     * in 5, k 2, s 2, pads 1+1: ceil(5/2)+1 = 4, but window 3 starts at 6 >= 5+1 */
    int64_t pb = 1, pe = 1;
    assert_int_equal(nncc_window_out("NOTSET", 5, 2, 2, 1, &pb, &pe, 1), 3);
    pb = pe = 0;
    assert_int_equal(nncc_window_out("NOTSET", 5, 2, 2, 1, &pb, &pe, 1), 3);
    pb = pe = 0;
    assert_int_equal(nncc_window_out("NOTSET", 5, 2, 2, 1, &pb, &pe, 0), 2);
}

/* ---- Gemm and MatMul ---- */

static void test_gemm(void **state)
{
    (void)state;
    run R;
    /* transB */
    mb *m = mb_new(13);
    mb_input(m, "a", F32, DIMS(3, 4));
    zeros(m, "b", DIMS(5, 4));
    Onnx__NodeProto *n = mb_node(m, "Gemm", "g", "a,b", "y");
    mb_attr_int(m, n, "transB", 1);
    mb_output(m, "y");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(3, 5));
    done(&R);
    mb_free(m);
    /* transA */
    m = mb_new(13);
    mb_input(m, "a", F32, DIMS(4, 3));
    zeros(m, "b", DIMS(4, 5));
    n = mb_node(m, "Gemm", "g", "a,b", "y");
    mb_attr_int(m, n, "transA", 1);
    mb_output(m, "y");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(3, 5));
    done(&R);
    mb_free(m);
    /* every bias shape that broadcasts to 3x5 */
    struct { int rank; int64_t d[2]; } cs[] = { { 0, { 0 } }, { 1, { 5 } }, { 1, { 1 } }, { 2, { 1, 5 } },
                                                { 2, { 3, 1 } }, { 2, { 3, 5 } } };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        m = mb_new(13);
        mb_input(m, "a", F32, DIMS(3, 4));
        zeros(m, "b", DIMS(4, 5));
        zeros(m, "c", cs[i].rank, cs[i].d);
        mb_node(m, "Gemm", "g", "a,b,c", "y");
        mb_output(m, "y");
        infer(&R, m);
        expect_shape(&R, "y", DIMS(3, 5));
        done(&R);
        mb_free(m);
    }
    /* a bias that does not broadcast, and inner dims that differ */
    m = mb_new(13);
    mb_input(m, "a", F32, DIMS(3, 4));
    zeros(m, "b", DIMS(4, 5));
    zeros(m, "c", DIMS(4));
    mb_node(m, "Gemm", "g_bias", "a,b,c", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "g_bias", "C has shape 4");
    done(&R);
    mb_free(m);
    m = mb_new(13);
    mb_input(m, "a", F32, DIMS(3, 4));
    zeros(m, "b", DIMS(5, 4));
    mb_node(m, "Gemm", "g_inner", "a,b", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "g_inner", "inner");
    done(&R);
    mb_free(m);
}

static void matmul_case(int ra, const int64_t *a, int rb, const int64_t *b, int ry, const int64_t *y)
{
    run R;
    mb *m = mb_new(13);
    mb_input(m, "a", F32, ra, a);
    mb_input(m, "b", F32, rb, b);
    mb_node(m, "MatMul", "mm", "a,b", "y");
    mb_output(m, "y");
    infer(&R, m);
    if (ry >= 0)
        expect_shape(&R, "y", ry, y);
    else
        expect_error(&R, "mm", NULL);
    done(&R);
    mb_free(m);
}

static void test_matmul(void **state)
{
    (void)state;
    matmul_case(DIMS(4), DIMS(4, 5), DIMS(5));                   /* 1-D A: prepended 1 removed */
    matmul_case(DIMS(2, 3, 4), DIMS(4), DIMS(2, 3));             /* 1-D B: appended 1 removed */
    matmul_case(DIMS(4), DIMS(4), 0, NULL);                      /* dot product: a scalar */
    matmul_case(DIMS(2, 1, 3, 4), DIMS(5, 4, 6), DIMS(2, 5, 3, 6)); /* batch dims broadcast */
    matmul_case(DIMS(2, 3), DIMS(4, 5), -1, NULL);               /* inner dims differ */
    matmul_case(DIMS(2, 2, 3), DIMS(3, 3, 4), -1, NULL);         /* batch 2 vs 3 */
}

/* ---- shape ops ---- */

static void reshape_case(int nshape, const int64_t *shape, int ry, const int64_t *y, const char *err)
{
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    ints(m, "shape", nshape, shape);
    mb_node(m, "Reshape", "rs", "x,shape", "y");
    mb_output(m, "y");
    infer(&R, m);
    if (err)
        expect_error(&R, "rs", err);
    else
        expect_shape(&R, "y", ry, y);
    done(&R);
    mb_free(m);
}

static void test_reshape_flatten(void **state)
{
    (void)state;
    reshape_case(DIMS(0, -1), DIMS(2, 12), NULL);
    reshape_case(DIMS(4, 0, -1), DIMS(4, 3, 2), NULL);
    reshape_case(DIMS(-1), DIMS(24), NULL);
    reshape_case(DIMS(-1, -1), 0, NULL, "more than one -1");
    reshape_case(DIMS(5, -1), 0, NULL, "-1");
    reshape_case(DIMS(2, 3, 5), 0, NULL, "cannot reshape");
    struct { int64_t axis; int64_t d0, d1; } fl[] = { { 2, 6, 20 }, { 0, 1, 120 }, { -1, 24, 5 }, { 4, 120, 1 } };
    for (int i = 0; i < 4; i++) {
        run R;
        mb *m = mb_new(13);
        mb_input(m, "x", F32, DIMS(2, 3, 4, 5));
        Onnx__NodeProto *n = mb_node(m, "Flatten", "fl", "x", "y");
        mb_attr_int(m, n, "axis", fl[i].axis);
        mb_output(m, "y");
        infer(&R, m);
        expect_shape(&R, "y", DIMS(fl[i].d0, fl[i].d1));
        done(&R);
        mb_free(m);
    }
}

static void test_squeeze_unsqueeze(void **state)
{
    (void)state;
    run R;
    /* opset 11: axes are an attribute */
    mb *m = mb_new(11);
    mb_input(m, "x", F32, DIMS(2, 1, 3, 1));
    mb_input(m, "z", F32, DIMS(2, 3));
    Onnx__NodeProto *n = mb_node(m, "Squeeze", "sq1", "x", "y1");
    mb_attr_ints(m, n, "axes", DIMS(1));
    mb_node(m, "Squeeze", "sq_all", "x", "y2");
    n = mb_node(m, "Unsqueeze", "usq", "z", "y3");
    mb_attr_ints(m, n, "axes", DIMS(0, 3));
    mb_output(m, "y1");
    mb_output(m, "y2");
    mb_output(m, "y3");
    infer(&R, m);
    expect_shape(&R, "y1", DIMS(2, 3, 1));
    expect_shape(&R, "y2", DIMS(2, 3));
    expect_shape(&R, "y3", DIMS(1, 2, 3, 1));
    done(&R);
    mb_free(m);
    /* opset 13: axes are an input */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 1, 3, 1));
    mb_input(m, "z", F32, DIMS(2, 3));
    ints(m, "ax_last", DIMS(-1));
    ints(m, "ax_ends", DIMS(0, -1));
    mb_node(m, "Squeeze", "sq1", "x,ax_last", "y1");
    mb_node(m, "Unsqueeze", "usq", "z,ax_ends", "y3");
    mb_output(m, "y1");
    mb_output(m, "y3");
    infer(&R, m);
    expect_shape(&R, "y1", DIMS(2, 1, 3));
    expect_shape(&R, "y3", DIMS(1, 2, 3, 1));
    done(&R);
    mb_free(m);
    /* opset 13 with the old attribute: an unknown attribute there */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 1, 3, 1));
    n = mb_node(m, "Squeeze", "sq_old", "x", "y");
    mb_attr_ints(m, n, "axes", DIMS(1));
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "sq_old", "unsupported: attribute 'axes'");
    done(&R);
    mb_free(m);
    /* squeezing a dim that is not 1 */
    m = mb_new(11);
    mb_input(m, "x", F32, DIMS(2, 1, 3, 1));
    n = mb_node(m, "Squeeze", "sq_bad", "x", "y");
    mb_attr_ints(m, n, "axes", DIMS(0));
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "sq_bad", "cannot squeeze");
    done(&R);
    mb_free(m);
}

static void test_concat_gather_transpose(void **state)
{
    (void)state;
    run R;
    mb *m = mb_new(13);
    mb_input(m, "a", F32, DIMS(2, 3));
    mb_input(m, "b", F32, DIMS(2, 5));
    mb_input(m, "d", F32, DIMS(5, 4, 3));
    mb_input(m, "t", F32, DIMS(2, 3, 4));
    Onnx__NodeProto *n = mb_node(m, "Concat", "cat1", "a,b", "c1");
    mb_attr_int(m, n, "axis", 1);
    n = mb_node(m, "Concat", "cat2", "a,b,a", "c2");
    mb_attr_int(m, n, "axis", -1);
    int64_t idx[] = { 0, 1, 3, -1 };
    mb_init_i64(m, "idx", DIMS(2, 2), idx);
    n = mb_node(m, "Gather", "ga", "d,idx", "g1");
    mb_attr_int(m, n, "axis", 1);
    mb_node(m, "Gather", "ga0", "d,idx", "g0");
    n = mb_node(m, "Transpose", "tr", "t", "t1");
    mb_attr_ints(m, n, "perm", DIMS(2, 0, 1));
    mb_node(m, "Transpose", "tr_default", "t", "t2");
    const char *outs[] = { "c1", "c2", "g1", "g0", "t1", "t2" };
    for (int i = 0; i < 6; i++)
        mb_output(m, outs[i]);
    infer(&R, m);
    expect_shape(&R, "c1", DIMS(2, 8));
    expect_shape(&R, "c2", DIMS(2, 11));
    expect_shape(&R, "g1", DIMS(5, 2, 2, 3));
    expect_shape(&R, "g0", DIMS(2, 2, 4, 3));
    expect_shape(&R, "t1", DIMS(4, 2, 3));
    expect_shape(&R, "t2", DIMS(4, 3, 2));
    done(&R);
    mb_free(m);
    /* errors */
    m = mb_new(13);
    mb_input(m, "a", F32, DIMS(2, 3));
    mb_input(m, "b", F32, DIMS(3, 5));
    n = mb_node(m, "Concat", "cat_bad", "a,b", "y");
    mb_attr_int(m, n, "axis", 1);
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "cat_bad", "2x3");
    done(&R);
    mb_free(m);
    m = mb_new(13);
    mb_input(m, "d", F32, DIMS(5, 4));
    int64_t bad[] = { 4 };
    mb_init_i64(m, "idx", DIMS(1), bad);
    n = mb_node(m, "Gather", "ga_bad", "d,idx", "y");
    mb_attr_int(m, n, "axis", 1);
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "ga_bad", "out of range");
    done(&R);
    mb_free(m);
    m = mb_new(13);
    mb_input(m, "t", F32, DIMS(2, 3, 4));
    n = mb_node(m, "Transpose", "tr_bad", "t", "y");
    mb_attr_ints(m, n, "perm", DIMS(0, 0, 1));
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "tr_bad", "permutation");
    done(&R);
    mb_free(m);
}

static void slice_case(int n, const int64_t *st, const int64_t *en, const int64_t *ax, const int64_t *sp,
                       int64_t d0, int64_t d1)
{
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(10, 6));
    ints(m, "st", n, st);
    ints(m, "en", n, en);
    ints(m, "ax", n, ax);
    if (sp)
        ints(m, "sp", n, sp);
    mb_node(m, "Slice", "sl", sp ? "x,st,en,ax,sp" : "x,st,en,ax", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(d0, d1));
    done(&R);
    mb_free(m);
}

static void test_slice(void **state)
{
    (void)state;
    /* 8, 6, 4, 2 */
    slice_case(1, (int64_t[]){ 8 }, (int64_t[]){ 1 }, (int64_t[]){ 0 }, (int64_t[]){ -2 }, 4, 6);
    /* the usual "reverse" idiom: -1 .. INT64_MIN step -1 */
    slice_case(1, (int64_t[]){ -1 }, (int64_t[]){ INT64_MIN }, (int64_t[]){ 1 }, (int64_t[]){ -1 }, 10, 6);
    /* negative step from beyond the end: clamped to the last element; 5, 2 */
    slice_case(1, (int64_t[]){ 100 }, (int64_t[]){ 0 }, (int64_t[]){ 1 }, (int64_t[]){ -3 }, 10, 2);
    /* ends clamped, negative axis, no steps */
    slice_case(1, (int64_t[]){ 1 }, (int64_t[]){ 1000 }, (int64_t[]){ -1 }, NULL, 10, 5);
    /* empty */
    slice_case(1, (int64_t[]){ 5 }, (int64_t[]){ 2 }, (int64_t[]){ 0 }, (int64_t[]){ 1 }, 0, 6);
    /* both axes: rows 1,4,7 and cols 5..1 step -2: 5, 3, 1 */
    slice_case(2, (int64_t[]){ 1, -1 }, (int64_t[]){ 9, 0 }, (int64_t[]){ 0, 1 }, (int64_t[]){ 3, -2 }, 3, 3);
}

static void test_pad(void **state)
{
    (void)state;
    run R;
    /* opset 13: pads are an input [begin..., end...] */
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    ints(m, "pads", DIMS(0, 1, 2, 0, 3, 4));
    ints(m, "crop", DIMS(0, -1, 0, 0, -1, 0));
    mb_node(m, "Pad", "pad", "x,pads", "y");
    mb_node(m, "Pad", "pad_crop", "x,crop", "y2");
    mb_output(m, "y");
    mb_output(m, "y2");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(2, 7, 10));
    expect_shape(&R, "y2", DIMS(2, 1, 4));
    done(&R);
    mb_free(m);
    /* opset 2: pads are an attribute */
    m = mb_new(2);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    Onnx__NodeProto *n = mb_node(m, "Pad", "pad", "x", "y");
    mb_attr_ints(m, n, "pads", DIMS(0, 1, 2, 0, 3, 4));
    mb_output(m, "y");
    infer(&R, m);
    expect_shape(&R, "y", DIMS(2, 7, 10));
    done(&R);
    mb_free(m);
    /* wrong count */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    ints(m, "pads", DIMS(1, 1));
    mb_node(m, "Pad", "pad_bad", "x,pads", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "pad_bad", "pads has 2 entries");
    done(&R);
    mb_free(m);
}

static void test_reduce(void **state)
{
    (void)state;
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    Onnx__NodeProto *n = mb_node(m, "ReduceMean", "rm1", "x", "k1");
    mb_attr_ints(m, n, "axes", DIMS(1));
    n = mb_node(m, "ReduceMean", "rm0", "x", "k0");
    mb_attr_ints(m, n, "axes", DIMS(1));
    mb_attr_int(m, n, "keepdims", 0);
    ints(m, "axes", DIMS(0, -1));
    n = mb_node(m, "ReduceSum", "rs0", "x,axes", "s0"); /* opset 13: axes input */
    mb_attr_int(m, n, "keepdims", 0);
    mb_node(m, "ReduceMax", "rall", "x", "all");
    const char *outs[] = { "k1", "k0", "s0", "all" };
    for (int i = 0; i < 4; i++)
        mb_output(m, outs[i]);
    infer(&R, m);
    expect_shape(&R, "k1", DIMS(2, 1, 4));
    expect_shape(&R, "k0", DIMS(2, 4));
    expect_shape(&R, "s0", DIMS(3));
    expect_shape(&R, "all", DIMS(1, 1, 1));
    done(&R);
    mb_free(m);
}

static void test_expand_broadcast(void **state)
{
    (void)state;
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(3, 1));
    mb_input(m, "a", F32, DIMS(2, 1, 4));
    mb_input(m, "s", F32, 0, NULL);
    mb_input(m, "v", F32, DIMS(5));
    ints(m, "shape", DIMS(2, 1, 4));
    ints(m, "shape2", DIMS(2));
    mb_node(m, "Expand", "ex", "x,shape", "e1");
    mb_node(m, "Expand", "ex2", "x,shape2", "e2");
    mb_node(m, "Add", "add", "a,x", "b1");
    mb_node(m, "Mul", "mul", "s,v", "b2");
    const char *outs[] = { "e1", "e2", "b1", "b2" };
    for (int i = 0; i < 4; i++)
        mb_output(m, outs[i]);
    infer(&R, m);
    expect_shape(&R, "e1", DIMS(2, 3, 4));
    expect_shape(&R, "e2", DIMS(3, 2));
    expect_shape(&R, "b1", DIMS(2, 3, 4));
    expect_shape(&R, "b2", DIMS(5));
    done(&R);
    mb_free(m);
}

static void test_broadcast_error_names_both_shapes(void **state)
{
    (void)state;
    run R;
    mb *m = mb_new(13);
    mb_input(m, "a", F32, DIMS(2, 3));
    mb_input(m, "b", F32, DIMS(4, 3));
    mb_node(m, "Add", "add_bad", "a,b", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "2x3", "4x3");
    assert_non_null(strstr(R.text, "add_bad"));
    done(&R);
    mb_free(m);
}

static void test_unknown_attribute(void **state)
{
    (void)state;
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4));
    Onnx__NodeProto *n = mb_node(m, "Relu", "relu_attr", "x", "y");
    mb_attr_int(m, n, "frobnicate", 1);
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "unsupported: attribute", "frobnicate");
    assert_non_null(strstr(R.text, "relu_attr"));
    done(&R);
    mb_free(m);
    /* an attribute of the wrong type */
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4));
    n = mb_node(m, "Flatten", "fl_type", "x", "y");
    mb_attr_str(m, n, "axis", "one");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "fl_type", "wrong type");
    done(&R);
    mb_free(m);
}


/* Values from the file that would overflow int64 arithmetic are errors (the
 * sanitizer build turns any overflow into a failure). */
static void test_absurd_values(void **state)
{
    (void)state;
    reshape_case(DIMS(1LL << 40, 1LL << 40, -1), 0, NULL, "rs");
    reshape_case(DIMS(1LL << 40, 1LL << 40, 1LL << 40), 0, NULL, "rs");
    run R;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(10, 6));
    ints(m, "st", DIMS(0));
    ints(m, "en", DIMS(10));
    ints(m, "ax", DIMS(0));
    ints(m, "sp", DIMS(INT64_MIN));
    ints(m, "sp2", DIMS(INT64_MAX));
    mb_node(m, "Slice", "sl_min", "x,en,st,ax,sp", "y");
    mb_node(m, "Slice", "sl_max", "x,st,en,ax,sp2", "y2");
    mb_output(m, "y");
    mb_output(m, "y2");
    infer(&R, m);
    /* a step of INT64_MIN from 10 towards 0 takes one element; INT64_MAX from 0 one */
    expect_shape(&R, "y", DIMS(1, 6));
    expect_shape(&R, "y2", DIMS(1, 6));
    done(&R);
    mb_free(m);
    m = mb_new(13);
    mb_input(m, "x", F32, DIMS(3, 1));
    ints(m, "shape", DIMS(1LL << 40, 1LL << 40, 3, 1));
    mb_node(m, "Expand", "ex_huge", "x,shape", "y");
    mb_output(m, "y");
    infer(&R, m);
    expect_error(&R, "ex_huge", NULL);
    done(&R);
    mb_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_maxpool_ceil),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_reshape_flatten),
        cmocka_unit_test(test_squeeze_unsqueeze),
        cmocka_unit_test(test_concat_gather_transpose),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_reduce),
        cmocka_unit_test(test_expand_broadcast),
        cmocka_unit_test(test_broadcast_error_names_both_shapes),
        cmocka_unit_test(test_unknown_attribute),
        cmocka_unit_test(test_absurd_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
