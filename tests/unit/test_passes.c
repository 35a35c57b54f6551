/*
 * test_passes.c - the optimisation passes through nncc_run_pipeline:
 * BatchNorm folding and fusion must remove nodes AND keep the numbers (each
 * graph is interpreted node by node with nncc_fold_node, i.e. the runtime's
 * reference kernels, at -O0 and -O2, and the outputs compared); dead-code
 * elimination; Identity/Dropout bypass; constant folding; Transpose and
 * Reshape chains (reshape), Pad into Conv/pooling (fuse-pad) and
 * elementwise chains into one loop (eltwise): each checks the rewritten
 * graph, and the numbers of -O2 against -O0; memplan puts a Concat's inputs
 * in their slices of its output where it may.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model_builder.h"
#include "nncc-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T "passes"
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), (int64_t[]){ __VA_ARGS__ }

typedef struct {
    nncc_ctx *ctx;
    FILE *diag;
    nncc_graph *g;
} compiled;

static int file_no;
static uint32_t seed = 12345;

static float frand(float lo, float hi)
{
    seed = seed * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(seed >> 8) / (float)(1u << 24);
}

static void rand_init(mb *m, const char *name, int rank, const int64_t *d, float lo, float hi)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)d[i];
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        v[i] = frand(lo, hi);
    mb_init_f32(m, name, rank, d, v);
    free(v);
}

/* Loads the model and runs the whole pipeline at -O<level>. */
static void compile(compiled *C, mb *m, int level)
{
    char path[4096], name[64];
    snprintf(name, sizeof name, "m%d.onnx", file_no++);
    ut_path(path, sizeof path, T, name);
    assert_int_equal(mb_write(m, path), 0);
    nncc_options o;
    nncc_options_init(&o);
    o.opt_level = level;
    C->diag = tmpfile();
    assert_non_null(C->diag);
    o.diag = C->diag;
    C->ctx = nncc_ctx_new(&o);
    assert_non_null(C->ctx);
    nncc_status st = nncc_load_onnx(C->ctx, path, &C->g);
    if (st == NNCC_OK)
        st = nncc_graph_toposort(C->g);
    if (st == NNCC_OK)
        st = nncc_run_pipeline(C->g, &o);
    if (st != NNCC_OK) {
        char *t = ut_slurp(C->diag);
        fprintf(stderr, "compile failed:\n%s", t);
        free(t);
    }
    assert_int_equal(st, NNCC_OK);
}

static void release(compiled *C)
{
    nncc_ctx_free(C->ctx);
    fclose(C->diag);
}

static int count_op(nncc_graph *g, int op)
{
    int c = 0;
    for (int i = 0; i < g->n_n; i++)
        c += g->n[i].op == op;
    return c;
}

static nncc_node *find_node(nncc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_n; i++)
        if (!strcmp(g->n[i].name, name))
            return &g->n[i];
    return NULL;
}

/* Interprets the planned graph: inputs get the given data, every node runs
 * through its op's eval (the runtime's reference kernel). Returns output data. */
static const float *interpret(compiled *C, int n_in, const char **names, float **data, const char *out)
{
    nncc_graph *g = C->g;
    for (int i = 0; i < n_in; i++) {
        int ti = nncc_tensor_find(g, names[i]);
        assert_true(ti >= 0);
        g->t[ti].data = data[i];
    }
    for (int i = 0; i < g->n_n; i++) {
        assert_int_equal(nncc_fold_node(g, &g->n[i]), NNCC_OK);
        for (int k = 0; k < g->n[i].n_out; k++)
            if (g->n[i].out[k] >= 0)
                assert_non_null(g->t[g->n[i].out[k]].data);
    }
    int ti = nncc_tensor_find(g, out);
    assert_true(ti >= 0);
    assert_non_null(g->t[ti].data);
    return g->t[ti].data;
}

/* Folding BN into the weights reassociates (w*x summed, then scaled, versus
 * w scaled, then summed): a few float32 ulps of the partial sums. With
 * |values| <= ~10 and 18-term sums, 1e-4 relative to (1 + |ref|) is far above
 * that rounding (~1e-6) and far below any real error (a wrong channel,
 * a missed epsilon: >= 1e-2). */
static void assert_close(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float tol = 1e-4f * (1.0f + fabsf(b[i]));
        if (fabsf(a[i] - b[i]) > tol)
            fprintf(stderr, "element %zu: %.9g vs %.9g\n", i, (double)a[i], (double)b[i]);
        assert_true(fabsf(a[i] - b[i]) <= tol);
    }
}

/* x -> Conv(+bias) -> BatchNormalization -> Relu -> y */
static mb *conv_bn_relu(void)
{
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 5, 5));
    rand_init(m, "w", DIMS(3, 2, 3, 3), -1.0f, 1.0f);
    rand_init(m, "b", DIMS(3), -0.5f, 0.5f);
    rand_init(m, "scale", DIMS(3), 0.5f, 2.0f);
    rand_init(m, "shift", DIMS(3), -1.0f, 1.0f);
    rand_init(m, "mean", DIMS(3), -0.5f, 0.5f);
    rand_init(m, "var", DIMS(3), 0.1f, 3.0f);
    Onnx__NodeProto *n = mb_node(m, "Conv", "conv1", "x,w,b", "c");
    mb_attr_ints(m, n, "pads", DIMS(1, 1, 1, 1));
    n = mb_node(m, "BatchNormalization", "bn1", "c,scale,shift,mean,var", "n");
    mb_attr_float(m, n, "epsilon", 1e-3f);
    mb_node(m, "Relu", "relu1", "n", "y");
    mb_output(m, "y");
    return m;
}

static void test_fold_bn_keeps_numbers(void **state)
{
    (void)state;
    mb *m = conv_bn_relu();
    compiled c0, c2;
    compile(&c0, m, 0);
    compile(&c2, m, 2);
    /* -O0 keeps every node; -O2 leaves one Conv with the Relu in its epilogue */
    assert_int_equal(c0.g->n_n, 3);
    assert_int_equal(count_op(c0.g, NNCC_OP_BatchNormalization), 1);
    assert_int_equal(c2.g->n_n, 1);
    assert_int_equal(count_op(c2.g, NNCC_OP_BatchNormalization), 0);
    assert_int_equal(count_op(c2.g, NNCC_OP_Relu), 0);
    nncc_node *conv = &c2.g->n[0];
    assert_int_equal(conv->op, NNCC_OP_Conv);
    assert_int_equal(conv->act.kind, NNCC_ACT_RELU);
    assert_non_null(conv->fused_from);
    assert_non_null(strstr(conv->fused_from, "bn1"));
    assert_non_null(strstr(conv->fused_from, "relu1"));
    assert_string_equal(c2.g->t[conv->out[0]].name, "y");
    /* the folded weights are new constants, not the originals rewritten */
    assert_int_not_equal(conv->in[1], nncc_tensor_find(c2.g, "w"));

    /* inputs of both signs, so the Relu clips some outputs and not others */
    float x[50];
    for (int i = 0; i < 50; i++)
        x[i] = frand(-2.0f, 2.0f);
    const char *names[] = { "x" };
    float *xs[] = { x };
    const float *y0 = interpret(&c0, 1, names, xs, "y");
    const float *y2 = interpret(&c2, 1, names, xs, "y");
    int pos = 0, zero = 0;
    for (int i = 0; i < 75; i++) {
        pos += y0[i] > 0;
        zero += y0[i] == 0;
    }
    assert_true(pos > 5 && zero > 5); /* the data exercises both sides of the Relu */
    assert_close(y2, y0, 75);
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* A Conv output read twice cannot absorb the BN (the other reader needs the
 * unnormalised values). */
static void test_fold_bn_needs_single_reader(void **state)
{
    (void)state;
    mb *m = conv_bn_relu();
    mb_output(m, "c");
    compiled c2;
    compile(&c2, m, 2);
    assert_int_equal(count_op(c2.g, NNCC_OP_BatchNormalization), 1);
    release(&c2);
    mb_free(m);
}

static void test_fuse_conv_add_relu(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 4, 4));
    mb_input(m, "r", F32, DIMS(1, 3, 4, 4));
    rand_init(m, "w", DIMS(3, 2, 3, 3), -1.0f, 1.0f);
    Onnx__NodeProto *n = mb_node(m, "Conv", "conv1", "x,w", "c");
    mb_attr_str(m, n, "auto_pad", "SAME_UPPER");
    mb_node(m, "Add", "add1", "c,r", "s");
    mb_node(m, "Relu", "relu1", "s", "y");
    mb_output(m, "y");
    compiled c0, c2;
    compile(&c0, m, 0);
    compile(&c2, m, 2);
    assert_int_equal(c0.g->n_n, 3);
    assert_int_equal(c2.g->n_n, 1);
    nncc_node *conv = find_node(c2.g, "conv1");
    assert_non_null(conv);
    assert_int_equal(conv->act.kind, NNCC_ACT_RELU);
    assert_int_equal(conv->fused_add, nncc_tensor_find(c2.g, "r"));
    assert_non_null(strstr(conv->fused_from, "add1"));
    float x[32], r[48];
    for (int i = 0; i < 32; i++)
        x[i] = frand(-1.0f, 1.0f);
    for (int i = 0; i < 48; i++)
        r[i] = frand(-3.0f, 3.0f);
    const char *names[] = { "x", "r" };
    float *xs[] = { x, r };
    const float *y0 = interpret(&c0, 2, names, xs, "y");
    const float *y2 = interpret(&c2, 2, names, xs, "y");
    /* the same sums in the same order, then the add and the max: bit-exact
     * unless the epilogue does something else (a tolerance would hide that) */
    assert_memory_equal(y0, y2, 48 * sizeof(float));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* Add -> Relu: the activation goes into the binary kernel */
static void test_fuse_add_relu(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "a", F32, DIMS(2, 3));
    mb_input(m, "b", F32, DIMS(2, 3));
    mb_node(m, "Add", "add1", "a,b", "s");
    mb_node(m, "Relu", "relu1", "s", "y");
    mb_output(m, "y");
    compiled c2;
    compile(&c2, m, 2);
    assert_int_equal(c2.g->n_n, 1);
    assert_int_equal(c2.g->n[0].op, NNCC_OP_Add);
    assert_int_equal(c2.g->n[0].act.kind, NNCC_ACT_RELU);
    release(&c2);
    mb_free(m);
}

static void test_dce_and_bypass(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 4));
    mb_node(m, "Identity", "id1", "x", "a");
    mb_node(m, "Relu", "relu1", "a", "y");
    mb_node(m, "Sigmoid", "unused1", "x", "u");
    mb_node(m, "Tanh", "unused2", "u", "u2"); /* a dead chain: both go */
    mb_node(m, "Dropout", "drop1", "x", "d");
    mb_node(m, "Neg", "neg1", "d", "y2");
    mb_node(m, "Identity", "id_out", "x", "y3"); /* writes a graph output: stays */
    mb_output(m, "y");
    mb_output(m, "y2");
    mb_output(m, "y3");
    compiled c0, c1;
    compile(&c0, m, 0);
    compile(&c1, m, 1);
    assert_int_equal(c0.g->n_n, 7);
    assert_int_equal(c1.g->n_n, 3);
    assert_null(find_node(c1.g, "id1"));
    assert_null(find_node(c1.g, "unused1"));
    assert_null(find_node(c1.g, "unused2"));
    assert_null(find_node(c1.g, "drop1"));
    int x = nncc_tensor_find(c1.g, "x");
    nncc_node *r = find_node(c1.g, "relu1"), *ng = find_node(c1.g, "neg1");
    assert_non_null(r);
    assert_non_null(ng);
    assert_int_equal(r->in[0], x);  /* reads x directly now */
    assert_int_equal(ng->in[0], x);
    assert_non_null(find_node(c1.g, "id_out"));
    release(&c0);
    release(&c1);
    mb_free(m);
}

/* Constant subgraphs: evaluated by the fold pass at -O1, kept at -O0 when
 * they are float work on more than 64 elements (infer folds only small ones). */
static void test_constant_folding(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(100));
    float c1[100], c2[100];
    for (int i = 0; i < 100; i++) {
        c1[i] = (float)i;
        c2[i] = 0.5f;
    }
    mb_init_f32(m, "c1", DIMS(100), c1);
    mb_init_f32(m, "c2", DIMS(100), c2);
    mb_node(m, "Add", "cadd", "c1,c2", "k");
    mb_node(m, "Mul", "mul1", "x,k", "y");
    mb_output(m, "y");
    compiled c0, c1c;
    compile(&c0, m, 0);
    compile(&c1c, m, 1);
    assert_int_equal(c0.g->n_n, 2);
    assert_int_equal(c1c.g->n_n, 1);
    assert_non_null(find_node(c1c.g, "mul1"));
    nncc_tensor *k = &c1c.g->t[nncc_tensor_find(c1c.g, "k")];
    assert_non_null(k->data);
    for (int i = 0; i < 100; i++)
        assert_true(((const float *)k->data)[i] == (float)i + 0.5f); /* exact: halves of small ints */
    release(&c0);
    release(&c1c);
    mb_free(m);
}

/* torch-style shape subgraph Shape -> Gather -> Unsqueeze -> Concat -> Reshape
 * disappears even at -O0 */
static void test_shape_subgraph_folds_at_O0(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    int64_t zero = 0, minus1 = -1, ax0 = 0;
    mb_init_i64(m, "i0", 0, NULL, &zero);
    mb_init_i64(m, "m1", DIMS(1), &minus1);
    mb_init_i64(m, "ax", DIMS(1), &ax0);
    mb_node(m, "Shape", "shape", "x", "s");
    mb_node(m, "Gather", "gather", "s,i0", "n");
    mb_node(m, "Unsqueeze", "unsq", "n,ax", "n1");
    Onnx__NodeProto *n = mb_node(m, "Concat", "cat", "n1,m1", "shp");
    mb_attr_int(m, n, "axis", 0);
    mb_node(m, "Reshape", "reshape", "x,shp", "y");
    mb_output(m, "y");
    compiled c0;
    compile(&c0, m, 0);
    assert_int_equal(c0.g->n_n, 1);
    assert_int_equal(c0.g->n[0].op, NNCC_OP_Reshape);
    nncc_tensor *y = &c0.g->t[nncc_tensor_find(c0.g, "y")];
    assert_int_equal(y->shape.rank, 2);
    assert_int_equal(y->shape.d[0], 2);
    assert_int_equal(y->shape.d[1], 12);
    release(&c0);
    mb_free(m);
}

/* The storage of tensor `name`: its root's name and its offset from the root. */
static const char *storage_of(nncc_graph *g, const char *name, int64_t *off)
{
    int t = nncc_tensor_find(g, name);
    assert_true(t >= 0);
    return g->t[nncc_tensor_storage(g, t, off)].name;
}

/* x[1,2,4,4] -> a = Relu, b = Sigmoid, c = Tanh; y = Concat(a, b, c) on
 * the channels, z = Concat(x, a2) (a graph input: copied), w = Concat(b2, c2)
 * on the last axis (4 rows each: not one run, copied), v = Concat(d, d)
 * (twice: copied). a, b, c must lie at 0, 128 and 256 bytes of y (2x4x4
 * floats each), with y's own offset plus theirs as their arena offsets. */
static void test_concat_slices(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 4, 4));
    mb_node(m, "Relu", "relu", "x", "a");
    mb_node(m, "Sigmoid", "sigmoid", "x", "b");
    mb_node(m, "Tanh", "tanh", "x", "c");
    mb_attr_int(m, mb_node(m, "Concat", "cat", "a,b,c", "y"), "axis", 1);
    mb_node(m, "Tanh", "tanh_y", "y", "out1");
    mb_node(m, "Relu", "relu2", "x", "a2");
    mb_attr_int(m, mb_node(m, "Concat", "cat_input", "x,a2", "z"), "axis", 1);
    mb_node(m, "Tanh", "tanh_z", "z", "out2");
    mb_node(m, "Sigmoid", "sigmoid2", "x", "b2");
    mb_node(m, "Tanh", "tanh2", "x", "c2");
    mb_attr_int(m, mb_node(m, "Concat", "cat_last", "b2,c2", "w"), "axis", -1);
    mb_node(m, "Tanh", "tanh_w", "w", "out3");
    mb_node(m, "Relu", "relu3", "x", "d");
    mb_attr_int(m, mb_node(m, "Concat", "cat_twice", "d,d", "v"), "axis", 1);
    mb_node(m, "Tanh", "tanh_v", "v", "out4");
    mb_output(m, "out1");
    mb_output(m, "out2");
    mb_output(m, "out3");
    mb_output(m, "out4");
    for (int level = 0; level <= 2; level += 2) {
        compiled c;
        compile(&c, m, level);
        nncc_graph *g = c.g;
        int64_t off, yoff = g->t[nncc_tensor_find(g, "y")].offset;
        const char *y = storage_of(g, "y", &off);
        assert_string_equal(y, "y");
        assert_true(yoff >= 0);
        static const char *const in_y[] = { "a", "b", "c" };
        for (int i = 0; i < 3; i++) {
            assert_string_equal(storage_of(g, in_y[i], &off), "y");
            assert_int_equal(off, 128 * i);
            assert_int_equal(g->t[nncc_tensor_find(g, in_y[i])].offset, yoff + 128 * i);
        }
        /* x is the caller's: a2 alone goes in place, at z's second half */
        assert_string_equal(storage_of(g, "x", &off), "x");
        assert_string_equal(storage_of(g, "a2", &off), "z");
        assert_int_equal(off, 128);
        /* the last axis: b2, c2 are 8 rows each of w, not one run */
        assert_string_equal(storage_of(g, "b2", &off), "b2");
        assert_string_equal(storage_of(g, "c2", &off), "c2");
        assert_string_equal(storage_of(g, "d", &off), "d");
        release(&c);
    }
    mb_free(m);
}

/* ---- reshape: Transpose and Reshape chains ---- */

/* Random input for graph input `name` of n floats (the caller frees). */
static float *rand_input(size_t n, float lo, float hi)
{
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        v[i] = frand(lo, hi);
    return v;
}

/* Compiles m at -O0 and -O2, runs both on the same random input x (n_x
 * floats) and checks output `out` (n_out floats) is the same; leaves both
 * compiled graphs for the caller to inspect. Exact: the rewrites tested with
 * it move no arithmetic (views, permutations, pads) or do the same float
 * operations in the same order (the fused loop calls the same scalar
 * functions as the unfused kernels). */
static void same_numbers(mb *m, compiled *c0, compiled *c2, size_t n_x, const char *out, size_t n_out)
{
    compile(c0, m, 0);
    compile(c2, m, 2);
    float *x = rand_input(n_x, -2.0f, 2.0f);
    const char *names[] = { "x" };
    float *xs[] = { x };
    const float *y0 = interpret(c0, 1, names, xs, out);
    const float *y2 = interpret(c2, 1, names, xs, out);
    assert_memory_equal(y0, y2, n_out * sizeof(float));
    free(x);
}

static int64_t perm_at(nncc_node *n, int i)
{
    nncc_attr *a = nncc_attr_find(n, "perm");
    assert_non_null(a);
    return a->ints[i];
}

/* NCHW -> NHWC -> NCHW: both Transposes go, the Relu reads x */
static void test_transpose_pair_cancels(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 3, 4));
    Onnx__NodeProto *n = mb_node(m, "Transpose", "t1", "x", "a");
    mb_attr_ints(m, n, "perm", DIMS(0, 2, 3, 1));
    n = mb_node(m, "Transpose", "t2", "a", "b");
    mb_attr_ints(m, n, "perm", DIMS(0, 3, 1, 2));
    mb_node(m, "Relu", "relu1", "b", "y");
    mb_output(m, "y");
    compiled c0, c2;
    same_numbers(m, &c0, &c2, 24, "y", 24);
    assert_int_equal(count_op(c0.g, NNCC_OP_Transpose), 2);
    assert_int_equal(c2.g->n_n, 1);
    assert_int_equal(find_node(c2.g, "relu1")->in[0], nncc_tensor_find(c2.g, "x"));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* (0,2,3,1) then (0,1,3,2) is one Transpose (0,2,1,3); a third one that
 * moves the result back cancels with it */
static void test_transpose_pair_composes(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4, 5));
    Onnx__NodeProto *n = mb_node(m, "Transpose", "t1", "x", "a");
    mb_attr_ints(m, n, "perm", DIMS(0, 2, 3, 1));
    n = mb_node(m, "Transpose", "t2", "a", "b");
    mb_attr_ints(m, n, "perm", DIMS(0, 1, 3, 2));
    mb_node(m, "Neg", "neg1", "b", "y");
    /* a second chain: three Transposes whose composition is the identity,
     * ending in a graph output (which must still be written: a copy) */
    n = mb_node(m, "Transpose", "u1", "x", "c");
    mb_attr_ints(m, n, "perm", DIMS(1, 0, 2, 3));
    n = mb_node(m, "Transpose", "u2", "c", "d");
    mb_attr_ints(m, n, "perm", DIMS(0, 1, 3, 2));
    n = mb_node(m, "Transpose", "u3", "d", "z");
    mb_attr_ints(m, n, "perm", DIMS(1, 0, 3, 2));
    mb_output(m, "y");
    mb_output(m, "z");
    compiled c0, c2;
    same_numbers(m, &c0, &c2, 120, "y", 120);
    const char *names[] = { "x" };
    float *x = rand_input(120, -1.0f, 1.0f);
    float *xs[] = { x };
    const float *z = interpret(&c2, 1, names, xs, "z");
    assert_memory_equal(z, x, 120 * sizeof(float)); /* the identity, bit for bit */
    free(x);
    assert_int_equal(count_op(c2.g, NNCC_OP_Transpose), 1);
    nncc_node *t = find_node(c2.g, "t2");
    assert_non_null(t);
    assert_int_equal(t->in[0], nncc_tensor_find(c2.g, "x"));
    int64_t want[4] = { 0, 2, 1, 3 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(perm_at(t, i), want[i]);
    assert_non_null(strstr(t->fused_from, "'t1' (Transpose)"));
    nncc_node *u = find_node(c2.g, "u3");
    assert_non_null(u);
    assert_int_equal(u->op, NNCC_OP_Identity);
    assert_int_equal(u->in[0], nncc_tensor_find(c2.g, "x"));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* An intermediate with a second reader (or that is a graph output) keeps both */
static void test_transpose_needs_sole_reader(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3));
    Onnx__NodeProto *n = mb_node(m, "Transpose", "t1", "x", "a");
    mb_attr_ints(m, n, "perm", DIMS(1, 0));
    n = mb_node(m, "Transpose", "t2", "a", "y");
    mb_attr_ints(m, n, "perm", DIMS(1, 0));
    mb_node(m, "Relu", "relu1", "a", "y2");
    mb_output(m, "y");
    mb_output(m, "y2");
    compiled c2;
    compile(&c2, m, 2);
    assert_int_equal(count_op(c2.g, NNCC_OP_Transpose), 2);
    release(&c2);
    mb_free(m);
}

/* Flatten -> Unsqueeze -> Reshape -> Squeeze: one Reshape; Unsqueeze ->
 * Squeeze back to the input shape: nothing at all */
static void test_reshape_chain_merges(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    int64_t ax0[1] = { 0 }, ax2[1] = { 2 }, shp[3] = { 4, 1, 6 }, ax1[1] = { 1 };
    mb_init_i64(m, "ax0", DIMS(1), ax0);
    mb_init_i64(m, "ax2", DIMS(1), ax2);
    mb_init_i64(m, "shp", DIMS(3), shp);
    mb_init_i64(m, "ax1", DIMS(1), ax1);
    mb_node(m, "Flatten", "flat", "x", "a");           /* 2x12 */
    mb_node(m, "Unsqueeze", "unsq", "a,ax0", "b");     /* 1x2x12 */
    mb_node(m, "Reshape", "resh", "b,shp", "c");       /* 4x1x6 */
    mb_node(m, "Squeeze", "sq", "c,ax1", "d");         /* 4x6 */
    mb_node(m, "Sigmoid", "sig", "d", "y");
    mb_node(m, "Unsqueeze", "unsq2", "x,ax2", "e");    /* 2x3x1x4 */
    mb_node(m, "Squeeze", "sq2", "e,ax2", "f");        /* 2x3x4 */
    mb_node(m, "Neg", "neg", "f", "y2");
    mb_output(m, "y");
    mb_output(m, "y2");
    compiled c0, c2;
    same_numbers(m, &c0, &c2, 24, "y", 24);
    assert_int_equal(c0.g->n_n, 8);
    assert_int_equal(c2.g->n_n, 3); /* Reshape, Sigmoid, Neg */
    nncc_node *r = find_node(c2.g, "sq");
    assert_non_null(r);
    assert_int_equal(r->op, NNCC_OP_Reshape);
    assert_int_equal(r->in[0], nncc_tensor_find(c2.g, "x"));
    nncc_tensor *d = &c2.g->t[r->out[0]];
    assert_int_equal(d->shape.rank, 2);
    assert_int_equal(d->shape.d[0], 4);
    assert_int_equal(d->shape.d[1], 6);
    assert_non_null(strstr(r->fused_from, "'flat' (Flatten) + 'unsq' (Unsqueeze) + 'resh' (Reshape)"));
    assert_int_equal(find_node(c2.g, "neg")->in[0], nncc_tensor_find(c2.g, "x"));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* A reshape whose output is a graph output stays (it is written); one whose
 * input is a graph output cannot take over its producer's input */
static void test_reshape_graph_outputs(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3));
    int64_t shp[2] = { 3, 2 };
    mb_init_i64(m, "shp", DIMS(2), shp);
    mb_node(m, "Flatten", "flat", "x", "a"); /* 2x3: changes nothing, but writes an output */
    mb_node(m, "Reshape", "resh", "a,shp", "b");
    mb_output(m, "a");
    mb_output(m, "b");
    compiled c2;
    compile(&c2, m, 2);
    assert_int_equal(c2.g->n_n, 2);
    assert_int_equal(find_node(c2.g, "resh")->in[0], nncc_tensor_find(c2.g, "a"));
    release(&c2);
    mb_free(m);
}

/* A Transpose that moves only a dim of size 1 is a Reshape (no copy) */
static void test_transpose_of_ones_is_reshape(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(3, 1, 4));
    Onnx__NodeProto *n = mb_node(m, "Transpose", "t1", "x", "a");
    mb_attr_ints(m, n, "perm", DIMS(0, 2, 1)); /* 3x4x1: the 1 moves, 3 and 4 keep their order */
    mb_node(m, "Exp", "exp1", "a", "y");
    n = mb_node(m, "Transpose", "t2", "x", "b");
    mb_attr_ints(m, n, "perm", DIMS(2, 1, 0)); /* 4x1x3: a real transpose */
    mb_node(m, "Exp", "exp2", "b", "y2");
    mb_output(m, "y");
    mb_output(m, "y2");
    compiled c0, c2;
    same_numbers(m, &c0, &c2, 12, "y", 12);
    assert_int_equal(find_node(c2.g, "t1")->op, NNCC_OP_Reshape);
    assert_int_equal(find_node(c2.g, "t2")->op, NNCC_OP_Transpose);
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* ---- fuse-pad ---- */

static int64_t ints_at(nncc_node *n, const char *name, int i)
{
    nncc_attr *a = nncc_attr_find(n, name);
    assert_non_null(a);
    assert_true(i < a->n);
    return a->ints[i];
}

/* x -> Pad(pads) -> OP(attrs by the caller) -> y, on 1x2x5x6 */
static mb *pad_then(const char *op, const int64_t *pads, Onnx__NodeProto **reader, bool relu_first, float value)
{
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 5, 6));
    mb_init_i64(m, "pads", 1, (int64_t[]){ 8 }, pads);
    mb_init_f32(m, "value", 0, NULL, &value);
    if (relu_first)
        mb_node(m, "Relu", "relu1", "x", "r");
    mb_node(m, "Pad", "pad1", relu_first ? "r,pads,value" : "x,pads,value", "p");
    if (!strcmp(op, "Conv")) {
        rand_init(m, "w", DIMS(3, 2, 3, 3), -1.0f, 1.0f);
        *reader = mb_node(m, op, "reader", "p,w", "y");
    } else {
        *reader = mb_node(m, op, "reader", "p", "y");
        mb_attr_ints(m, *reader, "kernel_shape", DIMS(3, 3));
    }
    mb_output(m, "y");
    return m;
}

/* Compiles at -O0 and -O2, compares y (n floats) within 1e-5 relative
 * (the same kernel with the zeros as pads or as data: the same sums, but the
 * reference conv may skip the padded taps instead of adding 0 * w, which
 * can only differ in the last bit); returns whether -O2 fused the Pad. */
static bool pad_case(mb *m, size_t n)
{
    compiled c0, c2;
    compile(&c0, m, 0);
    compile(&c2, m, 2);
    float *x = rand_input(60, -2.0f, 2.0f);
    const char *names[] = { "x" };
    float *xs[] = { x };
    const float *y0 = interpret(&c0, 1, names, xs, "y");
    const float *y2 = interpret(&c2, 1, names, xs, "y");
    for (size_t i = 0; i < n; i++)
        assert_true(fabsf(y0[i] - y2[i]) <= 1e-5f * (1.0f + fabsf(y0[i])));
    bool fused = count_op(c2.g, NNCC_OP_Pad) == 0;
    if (fused) {
        nncc_node *r = find_node(c2.g, "reader");
        assert_non_null(r);
        assert_int_equal(r->in[0], nncc_tensor_find(c2.g, find_node(c2.g, "relu1") ? "r" : "x"));
        assert_non_null(strstr(r->fused_from, "'pad1' (Pad)"));
    }
    free(x);
    release(&c0);
    release(&c2);
    return fused;
}

static void test_pad_into_conv(void **state)
{
    (void)state;
    /* pads (N, C, H, W) begins then ends: H 1/2, W 2/0 on top of the Conv's 1,0,1,1 */
    const int64_t pads[8] = { 0, 0, 1, 2, 0, 0, 2, 0 };
    Onnx__NodeProto *r;
    mb *m = pad_then("Conv", pads, &r, false, 0.0f);
    mb_attr_ints(m, r, "pads", DIMS(1, 0, 1, 1));
    compiled c2;
    compile(&c2, m, 2);
    nncc_node *conv = find_node(c2.g, "reader");
    int64_t want[4] = { 2, 2, 3, 1 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(ints_at(conv, "pads", i), want[i]);
    release(&c2);
    assert_true(pad_case(m, 3 * 7 * 7));
    mb_free(m);
    /* a pad value other than 0 is data the Conv's pads cannot make */
    m = pad_then("Conv", pads, &r, false, 1.0f);
    assert_false(pad_case(m, 3 * 6 * 6));
    mb_free(m);
    /* pads on the channel dim are not spatial */
    const int64_t cpads[8] = { 0, 1, 1, 1, 0, 0, 1, 1 };
    m = pad_then("Conv", cpads, &r, false, 0.0f);
    rand_init(m, "w3", DIMS(3, 3, 3, 3), -1.0f, 1.0f);
    r->input[1] = "w3";
    compiled cc;
    compile(&cc, m, 2);
    assert_int_equal(count_op(cc.g, NNCC_OP_Pad), 1);
    release(&cc);
    mb_free(m);
}

static void test_pad_into_avgpool(void **state)
{
    (void)state;
    const int64_t pads[8] = { 0, 0, 1, 1, 0, 0, 1, 1 };
    Onnx__NodeProto *r;
    /* no pads of its own: takes the Pad, counting the zeros (count_include_pad=1) */
    mb *m = pad_then("AveragePool", pads, &r, false, 0.0f);
    assert_true(pad_case(m, 2 * 5 * 6));
    compiled c2;
    compile(&c2, m, 2);
    nncc_attr *cip = nncc_attr_find(find_node(c2.g, "reader"), "count_include_pad");
    assert_non_null(cip);
    assert_int_equal(cip->i, 1);
    release(&c2);
    mb_free(m);
    /* own pads not counted (count_include_pad=0) while the Pad's zeros are: stays */
    m = pad_then("AveragePool", pads, &r, false, 0.0f);
    mb_attr_ints(m, r, "pads", DIMS(1, 1, 1, 1));
    assert_false(pad_case(m, 2 * 7 * 8));
    mb_free(m);
    /* own pads counted too: takes it */
    m = pad_then("AveragePool", pads, &r, false, 0.0f);
    mb_attr_ints(m, r, "pads", DIMS(1, 1, 1, 1));
    mb_attr_int(m, r, "count_include_pad", 1);
    assert_true(pad_case(m, 2 * 7 * 8));
    mb_free(m);
}

static void test_pad_into_maxpool(void **state)
{
    (void)state;
    const int64_t pads[8] = { 0, 0, 1, 1, 0, 0, 1, 1 };
    Onnx__NodeProto *r;
    /* after a Relu, zeros are never above a real value: fused */
    mb *m = pad_then("MaxPool", pads, &r, true, 0.0f);
    assert_true(pad_case(m, 2 * 5 * 6));
    mb_free(m);
    /* without it the zeros would win over negative inputs: stays */
    m = pad_then("MaxPool", pads, &r, false, 0.0f);
    assert_false(pad_case(m, 2 * 5 * 6));
    mb_free(m);
    /* a pad of -inf is what MaxPool's own pads mean: fused */
    m = pad_then("MaxPool", pads, &r, false, -INFINITY);
    assert_true(pad_case(m, 2 * 5 * 6));
    mb_free(m);
    /* a pad as wide as the kernel would make windows of padding only: stays */
    const int64_t wide[8] = { 0, 0, 3, 0, 0, 0, 0, 0 };
    m = pad_then("MaxPool", wide, &r, true, 0.0f);
    assert_false(pad_case(m, 2 * 6 * 4));
    mb_free(m);
}

/* ---- eltwise ---- */

static void test_eltwise_chain(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 3, 2, 4));
    mb_input(m, "r", F32, DIMS(1, 3, 2, 4));
    float half = 0.5f;
    mb_init_f32(m, "half", 0, NULL, &half);
    rand_init(m, "bias", DIMS(3, 1, 1), -1.0f, 1.0f);
    rand_init(m, "div", DIMS(1, 3, 1, 1), 0.5f, 2.0f);
    mb_node(m, "Mul", "mul1", "x,half", "a");   /* scalar */
    mb_node(m, "Add", "add1", "bias,a", "b");   /* per channel, chain value second */
    mb_node(m, "Relu", "relu1", "b", "c");      /* fuse puts it into the Add first */
    mb_node(m, "Sub", "sub1", "r,c", "d");      /* same shape, swapped: r - c */
    mb_node(m, "Div", "div1", "d,div", "e");    /* per channel */
    mb_node(m, "Sigmoid", "sig1", "e", "f");
    mb_node(m, "Mul", "silu1", "e,f", "y");     /* SiLU: e was read twice, so a new chain */
    mb_output(m, "y");
    compiled c0, c2;
    compile(&c0, m, 0);
    compile(&c2, m, 2);
    assert_int_equal(c0.g->n_n, 7);
    assert_int_equal(c2.g->n_n, 2);
    nncc_node *a = find_node(c2.g, "div1"), *b = find_node(c2.g, "silu1");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->op, NNCC_OP_FusedElementwise);
    assert_int_equal(a->in[0], nncc_tensor_find(c2.g, "x"));
    assert_int_equal(a->ew->n, 5); /* Mul, Add, Relu, Sub, Div */
    assert_int_equal(a->ew->step[2].code, NNCC_UN_RELU);
    assert_false(a->ew->step[2].binary);
    assert_true(a->ew->step[1].swap && a->ew->step[3].swap && !a->ew->step[4].swap);
    assert_int_equal(a->ew->step[0].bcast, NNCC_EW_SCALAR);
    assert_int_equal(a->ew->step[1].bcast, NNCC_EW_CHANNEL);
    assert_int_equal(a->ew->step[3].bcast, NNCC_EW_SAME);
    assert_int_equal(a->ew->channels, 3);
    assert_int_equal(a->ew->inner, 8);
    assert_non_null(strstr(a->fused_from, "'mul1' (Mul) + 'add1' (Add) + 'relu1' (Relu) + 'sub1' (Sub)"));
    assert_int_equal(b->op, NNCC_OP_FusedElementwise);
    assert_int_equal(b->ew->n, 2);
    assert_int_equal(b->ew->step[1].operand, 0); /* x * sigmoid(x): the chain's own input */
    float x[24], r[24];
    for (int i = 0; i < 24; i++) {
        x[i] = frand(-3.0f, 3.0f);
        r[i] = frand(-1.0f, 1.0f);
    }
    const char *names[] = { "x", "r" };
    float *xs[] = { x, r };
    const float *y0 = interpret(&c0, 2, names, xs, "y");
    const float *y2 = interpret(&c2, 2, names, xs, "y");
    /* the same scalar functions in the same order: bit for bit */
    assert_memory_equal(y0, y2, 24 * sizeof(float));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* An intermediate that is a graph output, or read by two nodes, ends a
 * chain; a broadcast operand that is neither one value nor per channel, or
 * an input smaller than the output, is not fused */
static void test_eltwise_limits(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(2, 3, 4));
    rand_init(m, "row", DIMS(3, 4), -1.0f, 1.0f);   /* varies along two axes */
    rand_init(m, "small", DIMS(4), -1.0f, 1.0f);
    mb_node(m, "Exp", "exp1", "x", "a");
    mb_node(m, "Neg", "neg1", "a", "b");              /* b is a graph output: chain ends */
    mb_node(m, "Abs", "abs1", "b", "c");
    mb_node(m, "Mul", "mul1", "c,row", "d");          /* not fusable */
    mb_node(m, "Tanh", "tanh1", "d", "e");
    mb_node(m, "Add", "add1", "small,small", "s");    /* folded: constants */
    mb_node(m, "Sub", "sub1", "s,e", "y");            /* its input 0 is smaller than y */
    mb_output(m, "b");
    mb_output(m, "y");
    compiled c0, c2;
    same_numbers(m, &c0, &c2, 24, "y", 24);
    assert_int_equal(find_node(c2.g, "neg1")->op, NNCC_OP_FusedElementwise); /* Exp, Neg */
    assert_int_equal(find_node(c2.g, "abs1")->op, NNCC_OP_Abs);
    assert_int_equal(find_node(c2.g, "mul1")->op, NNCC_OP_Mul);
    /* Tanh -> Sub (e second, s broadcast): Sub reads e as its chain value */
    nncc_node *f = find_node(c2.g, "sub1");
    assert_int_equal(f->op, NNCC_OP_FusedElementwise);
    assert_int_equal(f->in[0], nncc_tensor_find(c2.g, "d"));
    release(&c0);
    release(&c2);
    mb_free(m);
}

/* The generated C of a fused chain: one loop, one line per step, each
 * naming its model node */
static void test_eltwise_emits_one_loop(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(4, 5));
    float k = 2.0f;
    mb_init_f32(m, "k", 0, NULL, &k);
    mb_node(m, "Sub", "sub1", "x,k", "a");
    mb_node(m, "Div", "div1", "a,k", "b");
    mb_node(m, "Tanh", "tanh1", "b", "y");
    mb_output(m, "y");
    char path[4096], out[4096];
    ut_path(path, sizeof path, T, "eltwise.onnx");
    ut_path(out, sizeof out, T, "eltwise.c");
    assert_int_equal(mb_write(m, path), 0);
    nncc_options o;
    nncc_options_init(&o);
    FILE *diag = tmpfile();
    o.diag = diag;
    nncc_ctx *ctx = nncc_ctx_new(&o);
    assert_int_equal(nncc_compile_file(ctx, path, out), NNCC_OK);
    char *c = ut_read_file(out, NULL);
    assert_non_null(c);
    int loops = 0;
    for (const char *p = c; (p = strstr(p, "for (")); p++)
        loops++;
    assert_int_equal(loops, 1);
    assert_non_null(strstr(c, "ew_v = nncc_binary1_f32(1, ew_v, 2.0f); /* 'sub1' (Sub) */"));
    assert_non_null(strstr(c, "ew_v = nncc_binary1_f32(3, ew_v, 2.0f); /* 'div1' (Div) */"));
    assert_non_null(strstr(c, "ew_v = nncc_unary1_f32(5, 0.0f, 0.0f, ew_v); /* 'tanh1' (Tanh) */"));
    assert_null(strstr(c, "nncc_binary_f32(")); /* no kernel call left */
    free(c);
    nncc_ctx_free(ctx);
    fclose(diag);
    mb_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_slices),
        cmocka_unit_test(test_fold_bn_keeps_numbers),
        cmocka_unit_test(test_fold_bn_needs_single_reader),
        cmocka_unit_test(test_fuse_conv_add_relu),
        cmocka_unit_test(test_fuse_add_relu),
        cmocka_unit_test(test_dce_and_bypass),
        cmocka_unit_test(test_constant_folding),
        cmocka_unit_test(test_shape_subgraph_folds_at_O0),
        cmocka_unit_test(test_transpose_pair_cancels),
        cmocka_unit_test(test_transpose_pair_composes),
        cmocka_unit_test(test_transpose_needs_sole_reader),
        cmocka_unit_test(test_reshape_chain_merges),
        cmocka_unit_test(test_reshape_graph_outputs),
        cmocka_unit_test(test_transpose_of_ones_is_reshape),
        cmocka_unit_test(test_pad_into_conv),
        cmocka_unit_test(test_pad_into_avgpool),
        cmocka_unit_test(test_pad_into_maxpool),
        cmocka_unit_test(test_eltwise_chain),
        cmocka_unit_test(test_eltwise_limits),
        cmocka_unit_test(test_eltwise_emits_one_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
