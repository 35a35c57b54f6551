/*
 * test_frontend.c - the ONNX frontend (compiler/frontend/onnx.c): attributes
 * of every kind, initializers in every storage field, external data, and
 * the errors a bad file must produce (never a crash, never a huge allocation).
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

#define T "frontend"
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT

/* A context whose diagnostics go to a tmpfile the test can read. */
typedef struct {
    nncc_ctx *ctx;
    FILE *diag;
    nncc_graph *g;
    nncc_status st;
    char *text;   /* diagnostics after the load */
} loaded;

static void load_path(loaded *L, const char *path)
{
    nncc_options o;
    nncc_options_init(&o);
    L->diag = tmpfile();
    assert_non_null(L->diag);
    o.diag = L->diag;
    L->ctx = nncc_ctx_new(&o);
    assert_non_null(L->ctx);
    L->g = NULL;
    L->st = nncc_load_onnx(L->ctx, path, &L->g);
    L->text = ut_slurp(L->diag);
}

static void load_model(loaded *L, mb *m, const char *file)
{
    char path[4096];
    ut_path(path, sizeof path, T, file);
    assert_int_equal(mb_write(m, path), 0);
    load_path(L, path);
}

static void unload(loaded *L)
{
    nncc_ctx_free(L->ctx);
    fclose(L->diag);
    free(L->text);
}

/* x -> Relu -> y with a 1x4 float input: the skeleton most cases extend. */
static mb *relu_model(void)
{
    mb *m = mb_new(13);
    int64_t d[] = { 1, 4 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "Relu", "relu1", "x", "y");
    mb_output(m, "y");
    return m;
}

static nncc_node *node_named(nncc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_n; i++)
        if (strcmp(g->n[i].name, name) == 0)
            return &g->n[i];
    return NULL;
}

static nncc_tensor *tensor_named(nncc_graph *g, const char *name)
{
    int t = nncc_tensor_find(g, name);
    return t >= 0 ? &g->t[t] : NULL;
}

static void test_attribute_kinds(void **state)
{
    (void)state;
    mb *m = relu_model();
    Onnx__NodeProto *n = mb_graph(m)->node[0];
    int64_t ints[] = { 3, -1, 1LL << 40 };
    float floats[] = { 0.5f, -2.25f };
    float tv[] = { 1.5f, 2.5f, -3.5f };
    int64_t td[] = { 3 };
    Onnx__TensorProto *tp = mb_tensor(m, "tv", F32, 1, td);
    tp->n_float_data = 3;
    tp->float_data = mb_alloc(m, sizeof tv);
    memcpy(tp->float_data, tv, sizeof tv);
    mb_attr_int(m, n, "an_int", -7);
    mb_attr_float(m, n, "a_float", 0.125f);
    mb_attr_str(m, n, "a_string", "SAME_UPPER");
    mb_attr_ints(m, n, "some_ints", 3, ints);
    mb_attr_floats(m, n, "some_floats", 2, floats);
    mb_attr_tensor(m, n, "a_tensor", tp);
    loaded L;
    load_model(&L, m, "attrs.onnx");
    assert_int_equal(L.st, NNCC_OK);
    nncc_node *r = node_named(L.g, "relu1");
    assert_non_null(r);
    assert_int_equal(r->n_attr, 6);
    nncc_attr *a = nncc_attr_find(r, "an_int");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_INT);
    assert_int_equal(a->i, -7);
    a = nncc_attr_find(r, "a_float");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_FLOAT);
    assert_true(a->f == 0.125f); /* exactly representable: no tolerance */
    a = nncc_attr_find(r, "a_string");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_STRING);
    assert_string_equal(a->s, "SAME_UPPER");
    a = nncc_attr_find(r, "some_ints");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_INTS);
    assert_int_equal(a->n, 3);
    assert_int_equal(a->ints[0], 3);
    assert_int_equal(a->ints[1], -1);
    assert_true(a->ints[2] == (1LL << 40));
    a = nncc_attr_find(r, "some_floats");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_FLOATS);
    assert_int_equal(a->n, 2);
    assert_true(a->floats[0] == 0.5f && a->floats[1] == -2.25f); /* exact binary fractions */
    a = nncc_attr_find(r, "a_tensor");
    assert_non_null(a);
    assert_int_equal(a->type, NNCC_ATTR_TENSOR);
    assert_in_range(a->tensor, 0, L.g->n_t - 1);
    nncc_tensor *t = &L.g->t[a->tensor];
    assert_int_equal(t->dtype, NNCC_DT_F32);
    assert_int_equal(t->shape.rank, 1);
    assert_int_equal(t->shape.d[0], 3);
    assert_non_null(t->data);
    assert_memory_equal(t->data, tv, sizeof tv);
    assert_null(nncc_attr_find(r, "absent"));
    unload(&L);
    mb_free(m);
}

static void test_initializer_fields(void **state)
{
    (void)state;
    mb *m = relu_model();
    /* raw_data float32 */
    float rf[] = { 1.0f, -0.0f, 3.4028235e38f, 1e-45f };
    int64_t d4[] = { 2, 2 }, d3[] = { 3 }, d1[] = { 1 };
    mb_init_f32(m, "raw_f32", 2, d4, rf);
    /* float_data */
    Onnx__TensorProto *t = mb_tensor(m, "fd_f32", F32, 1, d3);
    float fd[] = { 0.25f, -8.0f, 100.5f };
    t->n_float_data = 3;
    t->float_data = mb_alloc(m, sizeof fd);
    memcpy(t->float_data, fd, sizeof fd);
    mb_add_init(m, t);
    /* int64_data (extremes survive) */
    int64_t i64[] = { INT64_MIN, -1, INT64_MAX };
    mb_init_i64(m, "i64", 1, d3, i64);
    /* int32_data holding int8, uint8 and bool */
    int32_t i8v[] = { -128, -5, 127 }, u8v[] = { 0, 200, 255 }, bv[] = { 1, 0, 1 };
    struct { const char *name; int dt; int32_t *v; } small[] = {
        { "i8", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, i8v },
        { "u8", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, u8v },
        { "b", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, bv },
    };
    for (int i = 0; i < 3; i++) {
        t = mb_tensor(m, small[i].name, small[i].dt, 1, d3);
        t->n_int32_data = 3;
        t->int32_data = mb_alloc(m, 3 * sizeof(int32_t));
        memcpy(t->int32_data, small[i].v, 3 * sizeof(int32_t));
        mb_add_init(m, t);
    }
    /* int32 proper */
    t = mb_tensor(m, "i32", ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, d1);
    t->n_int32_data = 1;
    t->int32_data = mb_alloc(m, sizeof(int32_t));
    t->int32_data[0] = -123456789;
    mb_add_init(m, t);
    /* a scalar (rank 0) */
    float one = 42.0f;
    mb_init_f32(m, "scalar", 0, NULL, &one);

    loaded L;
    load_model(&L, m, "inits.onnx");
    assert_int_equal(L.st, NNCC_OK);
    nncc_tensor *x = tensor_named(L.g, "raw_f32");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_F32);
    assert_int_equal(x->shape.rank, 2);
    assert_int_equal(x->shape.d[0], 2);
    assert_int_equal(x->shape.d[1], 2);
    assert_memory_equal(x->data, rf, sizeof rf); /* bit-exact, including -0 and the denormal */
    x = tensor_named(L.g, "fd_f32");
    assert_non_null(x);
    assert_memory_equal(x->data, fd, sizeof fd);
    x = tensor_named(L.g, "i64");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_I64);
    assert_memory_equal(x->data, i64, sizeof i64);
    x = tensor_named(L.g, "i8");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_I8);
    const int8_t *p8 = x->data;
    assert_int_equal(p8[0], -128);
    assert_int_equal(p8[1], -5);
    assert_int_equal(p8[2], 127);
    x = tensor_named(L.g, "u8");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_U8);
    const uint8_t *pu = x->data;
    assert_int_equal(pu[0], 0);
    assert_int_equal(pu[1], 200);
    assert_int_equal(pu[2], 255);
    x = tensor_named(L.g, "b");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_BOOL);
    pu = x->data;
    assert_int_equal(pu[0], 1);
    assert_int_equal(pu[1], 0);
    assert_int_equal(pu[2], 1);
    x = tensor_named(L.g, "i32");
    assert_non_null(x);
    assert_int_equal(x->dtype, NNCC_DT_I32);
    assert_int_equal(*(const int32_t *)x->data, -123456789);
    x = tensor_named(L.g, "scalar");
    assert_non_null(x);
    assert_int_equal(x->shape.rank, 0);
    assert_true(*(const float *)x->data == 42.0f);
    unload(&L);
    mb_free(m);
}

/* external_data: location/offset/length entries of a tensor */
static Onnx__TensorProto *ext_tensor(mb *m, const char *loc, const char *off, const char *len)
{
    int64_t d[] = { 4 };
    Onnx__TensorProto *t = mb_tensor(m, "w_ext", F32, 1, d);
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *kv[3][2] = { { "location", loc }, { "offset", off }, { "length", len } };
    t->external_data = mb_alloc(m, 3 * sizeof *t->external_data);
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1])
            continue;
        Onnx__StringStringEntryProto *e = mb_alloc(m, sizeof *e);
        Onnx__StringStringEntryProto ei = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        *e = ei;
        e->key = mb_str(m, kv[i][0]);
        e->value = mb_str(m, kv[i][1]);
        t->external_data[t->n_external_data++] = e;
    }
    mb_add_init(m, t);
    return t;
}

static void test_external_data(void **state)
{
    (void)state;
    /* side file: 12 bytes of junk, then the 4 floats */
    unsigned char side[12 + 16];
    memset(side, 0xAB, sizeof side);
    float w[] = { 1.0f, 2.0f, -0.5f, 1e30f };
    memcpy(side + 12, w, sizeof w);
    char path[4096];
    ut_path(path, sizeof path, T, "weights.bin");
    assert_int_equal(ut_write_file(path, side, sizeof side), 0);

    mb *m = relu_model();
    ext_tensor(m, "weights.bin", "12", "16");
    loaded L;
    load_model(&L, m, "ext_ok.onnx");
    assert_int_equal(L.st, NNCC_OK);
    nncc_tensor *t = tensor_named(L.g, "w_ext");
    assert_non_null(t);
    assert_non_null(t->data);
    assert_memory_equal(t->data, w, sizeof w);
    unload(&L);
    mb_free(m);

    /* paths that leave the model's folder are refused before opening anything */
    const char *bad[] = { "../weights.bin", "/etc/passwd", "sub/../../weights.bin" };
    for (int i = 0; i < 3; i++) {
        m = relu_model();
        ext_tensor(m, bad[i], "0", NULL);
        load_model(&L, m, "ext_bad.onnx");
        assert_int_not_equal(L.st, NNCC_OK);
        assert_non_null(strstr(L.text, "w_ext"));
        assert_non_null(strstr(L.text, "relative path"));
        unload(&L);
        mb_free(m);
    }

    /* the file is shorter than offset + bytes */
    m = relu_model();
    ext_tensor(m, "weights.bin", "16", NULL);
    load_model(&L, m, "ext_short.onnx");
    assert_int_not_equal(L.st, NNCC_OK);
    assert_non_null(strstr(L.text, "shorter"));
    unload(&L);
    mb_free(m);

    /* a declared length that does not match the shape */
    m = relu_model();
    ext_tensor(m, "weights.bin", "0", "8");
    load_model(&L, m, "ext_len.onnx");
    assert_int_not_equal(L.st, NNCC_OK);
    assert_non_null(strstr(L.text, "w_ext"));
    unload(&L);
    mb_free(m);

    /* a missing side file */
    m = relu_model();
    ext_tensor(m, "no_such_file.bin", NULL, NULL);
    load_model(&L, m, "ext_missing.onnx");
    assert_int_not_equal(L.st, NNCC_OK);
    assert_non_null(strstr(L.text, "no_such_file.bin"));
    unload(&L);
    mb_free(m);
}

static void test_bad_files(void **state)
{
    (void)state;
    loaded L;
    char path[4096];
    /* missing */
    ut_path(path, sizeof path, T, "does_not_exist.onnx");
    remove(path);
    load_path(&L, path);
    assert_int_equal(L.st, NNCC_ERR_IO);
    assert_non_null(strstr(L.text, "cannot open"));
    unload(&L);
    /* empty */
    ut_path(path, sizeof path, T, "empty.onnx");
    assert_int_equal(ut_write_file(path, "", 0), 0);
    load_path(&L, path);
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "empty"));
    unload(&L);
    /* a directory */
    load_path(&L, ut_dir(T));
    assert_int_not_equal(L.st, NNCC_OK);
    unload(&L);
    /* truncated: every proper prefix that cuts into the trailing opset_import
     * submessage or the graph must fail to parse */
    mb *m = relu_model();
    size_t len;
    unsigned char *buf = mb_pack(m, &len);
    assert_true(len > 8);
    ut_path(path, sizeof path, T, "truncated.onnx");
    for (size_t cut = 1; cut <= 3; cut++) {
        assert_int_equal(ut_write_file(path, buf, len - cut), 0);
        load_path(&L, path);
        assert_int_equal(L.st, NNCC_ERR_INPUT);
        assert_non_null(strstr(L.text, "not a valid ONNX model"));
        unload(&L);
    }
    free(buf);
    mb_free(m);
    /* no graph */
    m = relu_model();
    mb_model(m)->graph = NULL;
    load_model(&L, m, "nograph.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "no graph"));
    unload(&L);
    mb_free(m);
}

static void test_bad_tensors(void **state)
{
    (void)state;
    loaded L;
    /* raw_data shorter than the shape needs */
    mb *m = relu_model();
    int64_t d[] = { 2, 3 };
    float six[6] = { 0 };
    Onnx__TensorProto *t = mb_init_f32(m, "w_short", 2, d, six);
    t->raw_data.len = 20;
    load_model(&L, m, "rawlen.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "w_short"));
    assert_non_null(strstr(L.text, "24 bytes"));
    assert_non_null(strstr(L.text, "raw_data has 20"));
    unload(&L);
    mb_free(m);
    /* float_data with the wrong count */
    m = relu_model();
    t = mb_tensor(m, "w_count", F32, 2, d);
    t->n_float_data = 5;
    t->float_data = mb_alloc(m, 5 * sizeof(float));
    mb_add_init(m, t);
    load_model(&L, m, "countbad.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "w_count"));
    unload(&L);
    mb_free(m);
    /* a negative dim */
    m = relu_model();
    int64_t neg[] = { 2, -3 };
    mb_add_init(m, mb_tensor(m, "w_neg", F32, 2, neg));
    load_model(&L, m, "negdim.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "w_neg"));
    unload(&L);
    mb_free(m);
    /* 2^40 x 2^40: rejected from the header alone. fail_alloc_after would not
     * help here; an attempt to allocate 2^82 bytes fails under ASan/malloc
     * anyway, so the status and message are what prove the check ran first. */
    m = relu_model();
    int64_t huge[] = { 1LL << 40, 1LL << 40 };
    t = mb_tensor(m, "w_huge", F32, 2, huge);
    t->has_raw_data = 1; /* empty raw_data: a loader that trusts dims would read past it */
    mb_add_init(m, t);
    load_model(&L, m, "huge.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "w_huge"));
    assert_non_null(strstr(L.text, "large"));
    unload(&L);
    mb_free(m);
    /* more dims than nncc supports */
    m = relu_model();
    int64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    mb_add_init(m, mb_tensor(m, "w_rank9", F32, 9, nine));
    load_model(&L, m, "rank9.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "w_rank9"));
    unload(&L);
    mb_free(m);
}

/* A graph input of 2^40 x 2^40 compiles to an error, not an overflow. */
static void test_huge_input(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    int64_t d[] = { 1LL << 40, 1LL << 40 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "Relu", "relu1", "x", "y");
    mb_output(m, "y");
    char path[4096];
    ut_path(path, sizeof path, T, "huge_input.onnx");
    assert_int_equal(mb_write(m, path), 0);
    nncc_options o;
    nncc_options_init(&o);
    o.diag = tmpfile();
    assert_non_null(o.diag);
    nncc_ctx *ctx = nncc_ctx_new(&o);
    nncc_status st = nncc_compile_file(ctx, path, NULL);
    char *text = ut_slurp(o.diag);
    assert_int_equal(st, NNCC_ERR_INPUT);
    assert_non_null(strstr(text, "'x'"));
    free(text);
    nncc_ctx_free(ctx);
    fclose(o.diag);
    mb_free(m);
}

static void test_undefined_tensor(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    int64_t d[] = { 1, 4 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "Add", "add1", "x,ghost", "y");
    mb_output(m, "y");
    loaded L;
    load_model(&L, m, "undef.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "add1"));
    assert_non_null(strstr(L.text, "ghost"));
    unload(&L);
    mb_free(m);
    /* a graph output nobody computes */
    m = relu_model();
    mb_output(m, "nobody");
    load_model(&L, m, "undef_out.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "nobody"));
    unload(&L);
    mb_free(m);
}

static void test_unknown_ops_all_reported(void **state)
{
    (void)state;
    mb *m = mb_new(17);
    int64_t d[] = { 1, 4 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "FrobnicateOp", "first_bad", "x", "a");
    mb_node(m, "Relu", "ok", "a", "b");
    mb_node(m, "Cnov", "second_bad", "b", "y");
    mb_output(m, "y");
    loaded L;
    load_model(&L, m, "unknown.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "first_bad"));
    assert_non_null(strstr(L.text, "FrobnicateOp"));
    assert_non_null(strstr(L.text, "second_bad"));
    assert_non_null(strstr(L.text, "Cnov"));
    assert_non_null(strstr(L.text, "opset 17"));
    assert_non_null(strstr(L.text, "did you mean 'Conv'"));
    assert_non_null(strstr(L.text, "2 nodes"));
    assert_int_equal(nncc_error_count(L.ctx), 3);
    unload(&L);
    mb_free(m);
    /* an op of another domain is unknown even if its name is known */
    m = mb_new(13);
    mb_input(m, "x", F32, 2, d);
    Onnx__NodeProto *n = mb_node(m, "Relu", "ms_relu", "x", "y");
    n->domain = mb_str(m, "com.microsoft");
    mb_output(m, "y");
    load_model(&L, m, "domain.onnx");
    assert_int_equal(L.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "com.microsoft.Relu"));
    unload(&L);
    mb_free(m);
}

static void test_cycle(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    int64_t d[] = { 1, 4 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "Add", "loop_a", "x,b", "a");
    mb_node(m, "Relu", "loop_b", "a", "b");
    mb_node(m, "Relu", "out", "a", "y");
    mb_output(m, "y");
    loaded L;
    load_model(&L, m, "cycle.onnx");
    assert_int_equal(L.st, NNCC_OK); /* every tensor has a producer: loading is fine */
    free(L.text);
    nncc_status st = nncc_graph_toposort(L.g);
    L.text = ut_slurp(L.diag);
    assert_int_equal(st, NNCC_ERR_INPUT);
    assert_non_null(strstr(L.text, "cycle"));
    assert_true(strstr(L.text, "loop_a") || strstr(L.text, "loop_b"));
    unload(&L);
    mb_free(m);
}

/* Nodes out of order in the file are sorted; unnamed nodes get "#i:Op" names. */
static void test_toposort_and_names(void **state)
{
    (void)state;
    mb *m = mb_new(13);
    int64_t d[] = { 1, 4 };
    mb_input(m, "x", F32, 2, d);
    mb_node(m, "Relu", "second", "a", "y");
    mb_node(m, "Sigmoid", NULL, "x", "a");
    mb_output(m, "y");
    loaded L;
    load_model(&L, m, "order.onnx");
    assert_int_equal(L.st, NNCC_OK);
    assert_int_equal(nncc_graph_toposort(L.g), NNCC_OK);
    assert_int_equal(L.g->n_n, 2);
    assert_string_equal(L.g->n[0].name, "#1:Sigmoid");
    assert_string_equal(L.g->n[1].name, "second");
    assert_int_equal(L.g->t[L.g->n[1].in[0]].producer, 0);
    unload(&L);
    mb_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attribute_kinds),
        cmocka_unit_test(test_initializer_fields),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_huge_input),
        cmocka_unit_test(test_undefined_tensor),
        cmocka_unit_test(test_unknown_ops_all_reported),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_toposort_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
