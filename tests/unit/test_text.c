/*
 * test_text.c - the text format: the parser (compiler/frontend/text.c) on
 * each construct, each error with its message and line:column, the writer
 * (compiler/backend/text.c) reading back to the same IR bit for bit, and
 * bad input that must never crash.
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

#define T "text"

/* A parse of `src` as file "t.nng" in the test's folder (for file()/npy()). */
typedef struct {
    nncc_ctx *ctx;
    FILE *diag;
    nncc_graph *g;
    nncc_status st;
    char *text;   /* diagnostics */
} parsed;

static void parse(parsed *P, const char *src)
{
    nncc_options o;
    nncc_options_init(&o);
    P->diag = tmpfile();
    assert_non_null(P->diag);
    o.diag = P->diag;
    P->ctx = nncc_ctx_new(&o);
    assert_non_null(P->ctx);
    P->ctx->file = "t.nng";
    P->g = NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/", ut_dir(T));
    P->st = nncc_parse_text(P->ctx, src, strlen(src), dir, &P->g);
    P->text = ut_slurp(P->diag);
}

static void unparse(parsed *P)
{
    nncc_ctx_free(P->ctx);
    fclose(P->diag);
    free(P->text);
}

/* Parses src, expecting failure with `msg` among the diagnostics. */
static void expect_error(const char *src, const char *msg)
{
    parsed P;
    parse(&P, src);
    if (P.st == NNCC_OK || !strstr(P.text, msg))
        fail_msg("expected error \"%s\" for:\n%s\ngot status %d:\n%s", msg, src, P.st, P.text);
    unparse(&P);
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

static void write_in_dir(const char *file, const void *data, size_t len)
{
    char path[4096];
    ut_path(path, sizeof path, T, file);
    assert_int_equal(ut_write_file(path, data, len), 0);
}

/* ---- constructs ---- */

static void test_minimal(void **state)
{
    (void)state;
    parsed P;
    parse(&P, "input x: float32[1, 4]\ny = Relu(x)\noutput y\n");
    assert_int_equal(P.st, NNCC_OK);
    assert_string_equal(P.text, "");
    nncc_graph *g = P.g;
    assert_string_equal(g->name, "model");
    assert_int_equal(g->opset, 17); /* the documented default */
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->n_outputs, 1);
    assert_int_equal(g->n_n, 1);
    assert_string_equal(g->n[0].name, "#0:Relu"); /* synthesised as for ONNX */
    assert_int_equal(g->n[0].op, NNCC_OP_Relu);
    assert_int_equal(g->n[0].line, 2);
    assert_int_equal(g->n[0].col, 5);
    nncc_tensor *x = tensor_named(g, "x");
    assert_true(x->is_input);
    assert_int_equal(x->dtype, NNCC_DT_F32);
    assert_int_equal(x->shape.rank, 2);
    assert_int_equal(x->shape.d[1], 4);
    assert_true(tensor_named(g, "y")->is_output);
    unparse(&P);
}

static void test_everything(void **state)
{
    (void)state;
    /* a raw file with two float32 tensors, and a .npy file */
    float raw[6] = { 1, 2, 3, 4, 5, 6 };
    write_in_dir("w.bin", raw, sizeof raw);
    const char npy_hdr[] = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }";
    unsigned char npy[256];
    size_t hl = sizeof npy_hdr - 1;
    memcpy(npy, "\x93NUMPY\x01\x00", 8);
    npy[8] = (unsigned char)(hl + 1), npy[9] = 0;
    memcpy(npy + 10, npy_hdr, hl);
    npy[10 + hl] = '\n';
    int64_t iv[4] = { 7, -8, 9, 1LL << 40 };
    memcpy(npy + 11 + hl, iv, sizeof iv);
    write_in_dir("w.npy", npy, 11 + hl + sizeof iv);

    parsed P;
    parse(&P,
          "# a comment line\n"
          "graph \"my net\"   # a trailing comment\n"
          "opset 13\n"
          "\n"
          "input x: float32[N, 3, \"h w\", ?]\n"
          "input \"1\": int64[]\n"
          "weight w: float32[2, 2] = [[1, 2.5],\n"
          "                           [-3e2, 0x1p-3]]\n"
          "weight r: float32[2] = file(\"w.bin\", offset=16)\n"
          "weight n: int64[2, 2] = npy(\"w.npy\")\n"
          "weight s: float64[] = 0.1\n"
          "weight b: bool[3] = [true, 0, 1]\n"
          "weight u: uint64[1] = [18446744073709551615]\n"
          "y, _ = Dropout(x, _, _) {seed=-5} @d1\n"
          "input = Relu(y)\n"
          "z = Conv(input, w) {strides=[1, 1], pads=[], alpha=0.1, beta=-inf, mode=\"a\\\"b\\x41\",\n"
          "                    scales=[1, 2.0], empty=floats[], ints=ints[3], t=tensor int32[2] [5, -6]} @\"c/1\"\n"
          "output z: float32[1, 2]\n"
          "output input\n");
    if (P.st != NNCC_OK)
        fail_msg("%s", P.text);
    nncc_graph *g = P.g;
    assert_string_equal(g->name, "my net");
    assert_int_equal(g->opset, 13);
    nncc_tensor *x = tensor_named(g, "x");
    assert_int_equal(x->shape.rank, 4);
    assert_int_equal(x->shape.d[0], -1);
    assert_string_equal(x->sym[0], "N");
    assert_int_equal(x->shape.d[1], 3);
    assert_null(x->sym[1]);
    assert_string_equal(x->sym[2], "h w");
    assert_string_equal(x->sym[3], "?");
    assert_int_equal(tensor_named(g, "1")->shape.rank, 0);
    assert_int_equal(g->n_inputs, 2);

    const float *w = tensor_named(g, "w")->data;
    assert_true(w[0] == 1.0f && w[1] == 2.5f && w[2] == -300.0f && w[3] == 0.125f);
    const float *r = tensor_named(g, "r")->data;
    assert_true(r[0] == 5.0f && r[1] == 6.0f);
    const int64_t *n = tensor_named(g, "n")->data;
    assert_true(n[0] == 7 && n[1] == -8 && n[3] == 1LL << 40);
    assert_true(*(const double *)tensor_named(g, "s")->data == 0.1);
    const uint8_t *b = tensor_named(g, "b")->data;
    assert_true(b[0] == 1 && b[1] == 0 && b[2] == 1);
    assert_true(*(const uint64_t *)tensor_named(g, "u")->data == UINT64_MAX);

    nncc_node *d = node_named(g, "d1");
    assert_non_null(d);
    assert_int_equal(d->n_in, 3);
    assert_int_equal(d->in[1], -1);
    assert_int_equal(d->n_out, 2);
    assert_int_equal(d->out[1], -1);
    assert_int_equal(d->attr[0].type, NNCC_ATTR_INT);
    assert_int_equal(d->attr[0].i, -5);

    nncc_node *c = node_named(g, "c/1");
    assert_non_null(c);
    assert_int_equal(c->line, 16);
    assert_int_equal(c->col, 5);
    assert_int_equal(c->n_attr, 9);
    nncc_attr *a = nncc_attr_find(c, "strides");
    assert_int_equal(a->type, NNCC_ATTR_INTS);
    assert_int_equal(a->n, 2);
    a = nncc_attr_find(c, "pads");
    assert_int_equal(a->type, NNCC_ATTR_INTS);
    assert_int_equal(a->n, 0);
    a = nncc_attr_find(c, "alpha");
    assert_int_equal(a->type, NNCC_ATTR_FLOAT);
    assert_true(a->f == 0.1f);
    assert_true(isinf(nncc_attr_find(c, "beta")->f) && nncc_attr_find(c, "beta")->f < 0);
    a = nncc_attr_find(c, "mode");
    assert_int_equal(a->type, NNCC_ATTR_STRING);
    assert_string_equal(a->s, "a\"bA");
    a = nncc_attr_find(c, "scales");
    assert_int_equal(a->type, NNCC_ATTR_FLOATS);
    assert_true(a->floats[0] == 1.0f && a->floats[1] == 2.0f);
    a = nncc_attr_find(c, "empty");
    assert_int_equal(a->type, NNCC_ATTR_FLOATS);
    assert_int_equal(a->n, 0);
    a = nncc_attr_find(c, "ints");
    assert_int_equal(a->type, NNCC_ATTR_INTS);
    assert_int_equal(a->ints[0], 3);
    a = nncc_attr_find(c, "t");
    assert_int_equal(a->type, NNCC_ATTR_TENSOR);
    nncc_tensor *t = &g->t[a->tensor];
    assert_string_equal(t->name, "c/1.t"); /* named NODE.ATTR, as the ONNX frontend names it */
    assert_int_equal(t->dtype, NNCC_DT_I32);
    assert_int_equal(((const int32_t *)t->data)[1], -6);

    /* outputs in statement order; a keyword used as a tensor name */
    assert_int_equal(g->n_outputs, 2);
    assert_string_equal(g->t[g->outputs[0]].name, "z");
    assert_string_equal(g->t[g->outputs[1]].name, "input");
    assert_int_equal(node_named(g, "#1:Relu")->op, NNCC_OP_Relu);
    unparse(&P);
}

static void test_out_of_order(void **state)
{
    (void)state;
    /* declarations may come in any order; the parser resolves names at the end */
    parsed P;
    parse(&P, "output z\nz = Add(y, b)\ny = Relu(x)\nweight b: float32[1] = 1\ninput x: float32[2]\n");
    if (P.st != NNCC_OK)
        fail_msg("%s", P.text);
    assert_int_equal(P.g->n_n, 2);
    assert_int_equal(nncc_graph_toposort(P.g), NNCC_OK);
    assert_int_equal(P.g->n[0].op, NNCC_OP_Relu);
    unparse(&P);
}

/* ---- the writer: the text it writes reads back to the same IR, bit for bit ---- */

static void test_write_read_back(void **state)
{
    (void)state;
    const char *src =
        "graph g\nopset 11\n"
        "weight big: float32[20] = [1e-45, -0.0, 0.1, 3.40282347e38, 1.17549435e-38, 16777217, -1.5, 2, 3, 4,\n"
        "                           5, 6, 7, 8, 9, 10, 11, 12, 13, nan]\n"
        "weight d: float64[2] = [0.1, 1e308]\n"
        "weight i8: int8[3] = [-128, 0, 127]\n"
        "input \"in put\": float32[batch, 20]\n"
        "y = Add(\"in put\", big)\n"
        "c = Constant() {value=tensor float32[2] [0.3, -7e-39]}\n"
        "z = Mul(y, c) {f=1e-7, fs=[0.1, -0.0], s=\"tab\\there\"} @\"#0:Add\"\n"
        "output z\n";
    parsed A, B;
    parse(&A, src);
    if (A.st != NNCC_OK)
        fail_msg("%s", A.text);
    char path[4096];
    ut_path(path, sizeof path, T, "rt.nng");
    assert_int_equal(nncc_write_text(A.g, path), NNCC_OK);
    size_t len;
    char *text = ut_read_file(path, &len);
    assert_non_null(text);
    parse(&B, text);
    if (B.st != NNCC_OK)
        fail_msg("%s\n%s", B.text, text);
    nncc_graph *a = A.g, *b = B.g;
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->opset, b->opset);
    assert_int_equal(a->n_t, b->n_t);
    for (int t = 0; t < a->n_t; t++) {
        assert_string_equal(a->t[t].name, b->t[t].name); /* same names in the same order */
        assert_int_equal(a->t[t].dtype, b->t[t].dtype);
        assert_true(nncc_shape_eq(&a->t[t].shape, &b->t[t].shape));
        assert_int_equal(!!a->t[t].data, !!b->t[t].data);
        if (a->t[t].data)
            assert_memory_equal(a->t[t].data, b->t[t].data,
                                (size_t)nncc_shape_count(&a->t[t].shape) * nncc_dtype_size(a->t[t].dtype));
        for (int k = 0; k < a->t[t].shape.rank; k++)
            assert_true((!a->t[t].sym[k] && !b->t[t].sym[k]) || !strcmp(a->t[t].sym[k], b->t[t].sym[k]));
    }
    assert_int_equal(a->n_n, b->n_n);
    for (int i = 0; i < a->n_n; i++) {
        nncc_node *x = &a->n[i], *y = &b->n[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->n_attr, y->n_attr);
        for (int k = 0; k < x->n_attr; k++) {
            nncc_attr *p = &x->attr[k], *q = &y->attr[k];
            assert_string_equal(p->name, q->name);
            assert_int_equal(p->type, q->type);
            assert_memory_equal(&p->f, &q->f, sizeof p->f);
            if (p->type == NNCC_ATTR_FLOATS)
                assert_memory_equal(p->floats, q->floats, (size_t)p->n * sizeof(float));
            if (p->type == NNCC_ATTR_STRING)
                assert_string_equal(p->s, q->s);
        }
    }
    /* the NaN and the 20 values went to the side file, the rest inline */
    assert_non_null(strstr(text, "file(\"rt.nng.bin\", offset=0)"));
    assert_non_null(strstr(text, "[0.10000000000000001, 1e+308]"));
    free(text);
    unparse(&A);
    unparse(&B);
}

/* ---- errors: message and position ---- */

static void test_unknown_op(void **state)
{
    (void)state;
    expect_error("input x: float32[1, 3, 8, 8]\nweight w: float32[1, 3, 1, 1] = npy(\"none.npy\")\n"
                 "y = Cnov(x, w)\noutput y\n",
                 "t.nng:3:5: error: unknown op 'Cnov' (did you mean 'Conv'?)");
    expect_error("input x: float32[1]\ny = Frobnicate(x)\noutput y\n", "t.nng:2:5: error: unknown op 'Frobnicate'\n");
}

static void test_all_errors_at_once(void **state)
{
    (void)state;
    parsed P;
    parse(&P, "input x: float32[2]\n"
              "y = Rleu(x)\n"               /* 2: unknown op */
              "weight w: float32[2, 3] = [1, 2, 3]\n"  /* 3: wrong shape */
              "z = Add(x x)\n"              /* 4: syntax */
              "weight q: int8[1] = [300]\n" /* 5: out of range */
              "output y\n");
    assert_int_equal(P.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(P.text, "t.nng:2:5: error: unknown op 'Rleu' (did you mean 'Relu'?)"));
    assert_non_null(strstr(P.text, "t.nng:3:27: error: 'w' is declared float32[2x3] (6 values), its data has "
                                   "shape 3 (3 values)"));
    assert_non_null(strstr(P.text, "t.nng:4:11: error: expected ',' or ')' between the inputs, found 'x'"));
    assert_non_null(strstr(P.text, "t.nng:5:22: error: '300' is not a valid int8"));
    assert_int_equal(nncc_error_count(P.ctx), 4); /* nothing reported twice, no follow-on errors */
    unparse(&P);
}

static void test_shape_errors(void **state)
{
    (void)state;
    expect_error("weight w: float32[2, 2] = [[1, 2, 3], [4, 5, 6]]\n",
                 "t.nng:1:27: error: 'w' is declared float32[2x2] (4 values), its data has shape 2x3 (6 values)");
    expect_error("weight w: float32[2, 2] = [[1, 2], [3]]\n", "t.nng:1:36: error: this list has 1 values, an earlier "
                                                            "one at the same depth 2 (the data is not regular)");
    expect_error("weight w: float32[2] = [[1], 2]\n", "t.nng:1:30: error: this number sits at nesting depth 1");
    expect_error("weight w: float32[4000000000, 4000000000] = []\n",
                 "t.nng:1:18: error: shape has more than 17179869184 elements");
    expect_error("weight w: float32[1, 2, 3, 4, 5, 6, 7, 8, 9] = 0\n", "more than 8 dims");
    expect_error("weight w: float32[-1] = 0\n", "t.nng:1:19: error: dim -1 is negative");
    expect_error("weight w: float32[N] = 0\n", "t.nng:1:19: error: expected a dim (an integer), found 'N'");
    expect_error("weight w: flaot32[1] = 0\n", "t.nng:1:11: error: unknown element type 'flaot32'");
    expect_error("weight w: string[1] = 0\n", "unsupported: element type string");
}

static void test_value_errors(void **state)
{
    (void)state;
    expect_error("weight w: int64[1] = [1.5]\n", "t.nng:1:23: error: expected an integer for int64 data, found '1.5'");
    expect_error("weight w: float32[1] = [1e99]\n", "t.nng:1:25: error: 1e99 is out of range for float32");
    expect_error("weight w: float32[1] = [1.2.3]\n", "t.nng:1:25: error: '1.2.3' is not a number");
    expect_error("weight w: uint8[1] = [-1]\n", "'-1' is not a valid uint8");
    expect_error("weight w: int64[1] = [99999999999999999999]\n", "'99999999999999999999' is not a valid int64");
    expect_error("weight w: uint64[1] = [-1]\n", "-1 is not a uint64");
    expect_error("weight w: float32[1] = foo\n",
                 "t.nng:1:24: error: expected data ([...], file(...) or npy(...)), found 'foo'");
    expect_error("x = Relu(y) {alpha=\"abc}\n", "t.nng:1:20: error: unterminated string");
    expect_error("x = Relu(y) {alpha=\"a\\qb\"}\n", "t.nng:1:22: error: unknown escape");
    expect_error("x = Relu(y) {alpha=\"a\\x00\"}\n", "strings cannot hold a NUL byte");
    expect_error("x = Relu(y) {alpha=1, alpha=2}\n", "t.nng:1:23: error: attribute 'alpha' is given twice");
    expect_error("x = Relu(y) {alpha=ints[1.5]}\n", "t.nng:1:25: error: '1.5' in an ints[...] list");
    expect_error("x = Relu(y) {alpha=}\n", "t.nng:1:20: error: expected an attribute value");
    expect_error("opset 0\n", "t.nng:1:7: error: opset 0 is not an ONNX opset version");
    expect_error("source \"a.onnx\"\nsource \"b.onnx\"\n", "t.nng:2:1: error: the source is given twice");
    expect_error("source a.onnx\n", "t.nng:1:8:");
}

static void test_declaration_errors(void **state)
{
    (void)state;
    expect_error("weight w: float32[1] = 1\nweight w: float32[1] = 2\n",
                 "t.nng:2:8: error: 'w' is already declared as a weight on line 1");
    expect_error("input x: float32[1]\nx = Relu(x)\n", "t.nng:2:1: error: 'x' is already declared as a graph input on "
                                                  "line 1");
    expect_error("input x: float32[1]\ny = Relu(x)\ny = Relu(x)\noutput y\n",
                 "t.nng:3:1: error: 'y' is already declared as the output of a node on line 2");
    expect_error("input x: float32[1]\ny = Relu(q)\noutput y\n",
                 "t.nng:2:5: error: input 'q' of this Relu is not declared");
    expect_error("input x: float32[1]\ny = Relu(x)\noutput yy\n",
                 "t.nng:3:8: error: graph output 'yy' is not computed by any node");
    expect_error("input x: float32[1]\ny = Relu(x)\n", "the graph has no output");
    expect_error("input x: float32[1]\ny = Relu(x)\nopset 12\noutput y\n",
                 "t.nng:3:1: error: the opset must come before the first node");
    expect_error("graph a\ngraph b\n", "t.nng:2:1: error: the graph is named twice");
    expect_error("y = Relu(x) extra\n", "t.nng:1:13: error: expected the end of the line after the node, found 'extra'");
    expect_error("input x: float32[1] extra\n", "t.nng:1:21: error: expected the end of the line, found 'extra'");
    expect_error("= Relu(x)\n", "t.nng:1:1: error: expected a statement");
    expect_error("y = Relu(x) @\n", "t.nng:1:14: error: expected the node's name after '@', found end of line");
    expect_error("y Relu(x)\n", "t.nng:1:3: error: expected '=' after the node's outputs");
}

static void test_file_errors(void **state)
{
    (void)state;
    float raw[4] = { 0 };
    write_in_dir("small.bin", raw, sizeof raw);
    expect_error("weight w: float32[2] = file(\"small.bin\", offset=12)\n",
                 "t.nng:1:24: error: 'w' needs 8 bytes at offset 12, but 'small.bin' has 16 bytes");
    expect_error("weight w: float32[2] = file(\"small.bin\", offset=99999999999999)\n",
                 "'w' needs 8 bytes at offset 99999999999999, but 'small.bin' has 16 bytes");
    expect_error("weight w: float32[2] = file(\"small.bin\", offset=-1)\n", "t.nng:1:49: error: offset -1 is negative");
    expect_error("weight w: float32[2] = file(\"/etc/passwd\")\n",
                 "t.nng:1:24: error: '/etc/passwd': data files must be relative paths inside the graph file's folder");
    expect_error("weight w: float32[2] = file(\"../x.bin\")\n", "data files must be relative paths");
    expect_error("weight w: float32[2] = file(\"missing.bin\")\n", "t.nng:1:24: error: cannot open");
    expect_error("weight w: float32[2] = file(\"small.bin\", length=3)\n", "t.nng:1:42: error: expected 'offset'");
    expect_error("weight w: float32[2] = npy(\"small.bin\")\n", "t.nng:1:24: error: 'small.bin' is not a .npy file");

    const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
    unsigned char npy[128];
    memcpy(npy, "\x93NUMPY\x01\x00", 8);
    npy[8] = (unsigned char)(sizeof hdr - 1), npy[9] = 0;
    memcpy(npy + 10, hdr, sizeof hdr - 1);
    memset(npy + 10 + sizeof hdr - 1, 0, 12);
    write_in_dir("three.npy", npy, 10 + sizeof hdr - 1 + 12);
    expect_error("weight w: float32[2, 2] = npy(\"three.npy\")\n",
                 "t.nng:1:27: error: 'w' is declared float32[2x2], 'three.npy' holds shape 3");
    expect_error("weight w: int32[3] = npy(\"three.npy\")\n", "'three.npy' holds dtype '<f4', 'w' is declared int32");
    write_in_dir("short.npy", npy, 10 + sizeof hdr - 1 + 8);
    expect_error("weight w: float32[3] = npy(\"short.npy\")\n", "'short.npy' is shorter than its header says");

    /* without a folder (a buffer, as the fuzzer parses) data files are refused */
    nncc_ctx *ctx = nncc_ctx_new(NULL);
    FILE *diag = tmpfile();
    ctx->opt.diag = diag;
    nncc_graph *g = NULL;
    const char *src = "weight w: float32[1] = file(\"small.bin\")\n";
    assert_int_equal(nncc_parse_text(ctx, src, strlen(src), NULL, &g), NNCC_ERR_INPUT);
    char *text = ut_slurp(diag);
    assert_non_null(strstr(text, "file() and npy() are not available here"));
    free(text);
    fclose(diag);
    nncc_ctx_free(ctx);
}

static void test_garbage(void **state)
{
    (void)state;
    /* bytes that are no token, unbalanced brackets, a NUL, a line of noise per line: never a crash */
    static const char *const srcs[] = {
        "\x01\x02\x03", "[[[[[[[[[[", "]]]]", "y = Relu(", "y = Relu(x) {", "weight w: float32[2] = [1,",
        "input x: float32[", "\"", "y = Relu(x) @\"", "weight", "graph", "opset", "output", "input",
        "y, = Relu(x)", ",", "@", "y = (x)", "weight w: float32[1] = [-]", "weight w: bool[1] = [maybe]",
        "weight w: float32[1] = [.]", "weight w: float32[1] = [0x]", "weight w: float32[1] = [1e]",
    };
    for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
        parsed P;
        parse(&P, srcs[i]);
        if (P.st != NNCC_ERR_INPUT || !strstr(P.text, "t.nng:1:"))
            fail_msg("source %zu (%s): status %d, diagnostics:\n%s", i, srcs[i], P.st, P.text);
        unparse(&P);
    }
    /* a NUL byte inside the text */
    nncc_ctx *ctx = nncc_ctx_new(NULL);
    FILE *diag = tmpfile();
    ctx->opt.diag = diag;
    nncc_graph *g = NULL;
    assert_int_equal(nncc_parse_text(ctx, "input\0x", 7, NULL, &g), NNCC_ERR_INPUT);
    fclose(diag);
    nncc_ctx_free(ctx);
    /* an unclosed bracket swallows newlines; recovery resumes on the next line */
    parsed P;
    parse(&P, "weight w: float32[2] = [1, 2\ninput x: float32[2]\ny = Relu(x)\noutput y\n");
    assert_int_equal(P.st, NNCC_ERR_INPUT);
    assert_non_null(strstr(P.text, "t.nng:2:1: error: expected ',' or ']' in the data, found 'input'"));
    unparse(&P);
    /* many errors: stops after 50 */
    char many[2048] = "";
    for (int i = 0; i < 60; i++)
        strcat(many, "!\n");
    parse(&P, many);
    assert_non_null(strstr(P.text, "t.nng:50:1: error: too many errors; stopping"));
    assert_null(strstr(P.text, "t.nng:51:1"));
    unparse(&P);
}

/* Errors found later (inference) point at the node's line and column. */
static void test_node_positions(void **state)
{
    (void)state;
    char path[4096];
    ut_path(path, sizeof path, T, "pos.nng");
    const char *src = "input x: float32[1, 3, 8, 8]\nweight w: float32[4, 3, 3, 3] = file(\"w.bin\")\n"
                      "\n  y = Conv(x, w) {kernel_shape=[5, 5]} @conv1\noutput y\n";
    float zeros[108] = { 0 };
    write_in_dir("w.bin", zeros, sizeof zeros);
    assert_int_equal(ut_write_file(path, src, strlen(src)), 0);
    nncc_options o;
    nncc_options_init(&o);
    FILE *diag = tmpfile();
    o.diag = diag;
    nncc_ctx *ctx = nncc_ctx_new(&o);
    assert_int_equal(nncc_compile_file(ctx, path, NULL), NNCC_ERR_INPUT);
    char *text = ut_slurp(diag);
    char want[4200];
    snprintf(want, sizeof want, "%s:4:7: node 'conv1' (Conv): error: ", path);
    if (!strstr(text, want))
        fail_msg("expected '%s' in:\n%s", want, text);
    free(text);
    fclose(diag);
    nncc_ctx_free(ctx);
}

/* Every allocation of a parse failing in turn: an error status, never a crash. */
static void test_alloc_fail(void **state)
{
    (void)state;
    const char *src = "graph g\ninput x: float32[N, 4]\nweight w: float32[2, 2] = [[1, 2], [3, 4]]\n"
                      "y, _ = Dropout(x) @d\nc = Constant() {value=tensor int64[2] [1, 2]}\n"
                      "z = Conv(y, w) {pads=[1, 1], alpha=0.5, s=\"a\", f=[1.5]}\noutput z\n";
    bool ok_seen = false;
    for (long n = 1; n < 400 && !ok_seen; n++) {
        nncc_options o;
        nncc_options_init(&o);
        FILE *diag = tmpfile();
        o.diag = diag;
        o.fail_alloc_after = n;
        nncc_ctx *ctx = nncc_ctx_new(&o);
        ctx->file = "t.nng";
        nncc_graph *g = NULL;
        nncc_status st = nncc_parse_text(ctx, src, strlen(src), NULL, &g);
        if (st == NNCC_OK)
            ok_seen = true;
        else
            assert_int_equal(st, NNCC_ERR_NOMEM);
        nncc_ctx_free(ctx);
        fclose(diag);
    }
    assert_true(ok_seen); /* and with enough allocations it parses */
}

int main(void)
{
    ut_dir(T);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_write_read_back),
        cmocka_unit_test(test_unknown_op),
        cmocka_unit_test(test_all_errors_at_once),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_declaration_errors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_node_positions),
        cmocka_unit_test(test_alloc_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
