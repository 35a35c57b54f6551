/*
 * test_emit.c - the C backend through nncc_compile_file: what the generated
 * files contain (banners naming nodes, the reentrant entry point, hex
 * weights, the arena macro, the --name prefix), what they must not contain
 * (malloc, stdio), and that the same model gives byte-identical files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model_builder.h"
#include "nncc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T "emit"
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), (int64_t[]){ __VA_ARGS__ }

static char model_path[4096];

/* x[1,2,4,4] -> Conv 'stem_conv' (weights 1.0, 2.0, ...) -> Relu 'stem_relu' -> y */
static void write_model(void)
{
    mb *m = mb_new(13);
    mb_input(m, "x", F32, DIMS(1, 2, 4, 4));
    float w[3 * 2 * 3 * 3];
    for (int i = 0; i < 54; i++)
        w[i] = (float)(i + 1);
    mb_init_f32(m, "w", DIMS(3, 2, 3, 3), w);
    Onnx__NodeProto *n = mb_node(m, "Conv", "stem_conv", "x,w", "c");
    mb_attr_ints(m, n, "pads", DIMS(1, 1, 1, 1));
    mb_node(m, "Relu", "stem_relu", "c", "y");
    mb_output(m, "y");
    ut_path(model_path, sizeof model_path, T, "tiny.onnx");
    assert_int_equal(mb_write(m, model_path), 0);
    mb_free(m);
}

/* Compiles into unit_tmp/emit/<dir>/<file>; returns the .c and .h text. */
static void compile_to(const char *dir, const char *file, int level, const char *name, char **c, char **h)
{
    char d[2048], out[4096], hp[4096];
    ut_path(d, sizeof d, T, dir);
    mkdir(d, 0777);
    snprintf(out, sizeof out, "%s/%s.c", d, file);
    snprintf(hp, sizeof hp, "%s/%s.h", d, file);
    remove(out);
    remove(hp);
    nncc_options o;
    nncc_options_init(&o);
    o.opt_level = level;
    o.name = name;
    o.diag = tmpfile();
    assert_non_null(o.diag);
    nncc_ctx *ctx = nncc_ctx_new(&o);
    nncc_status st = nncc_compile_file(ctx, model_path, out);
    if (st != NNCC_OK) {
        char *t = ut_slurp(o.diag);
        fprintf(stderr, "%s", t);
        free(t);
    }
    assert_int_equal(st, NNCC_OK);
    nncc_ctx_free(ctx);
    fclose(o.diag);
    *c = ut_read_file(out, NULL);
    *h = ut_read_file(hp, NULL);
    assert_non_null(*c);
    assert_non_null(*h);
    /* the runtime goes next to the model */
    char rt[4096];
    snprintf(rt, sizeof rt, "%s/nncc_runtime.h", d);
    struct stat sb;
    assert_int_equal(stat(rt, &sb), 0);
}

static void test_contents(void **state)
{
    (void)state;
    char *c, *h;
    compile_to("o2", "model", 2, NULL, &c, &h);
    /* a banner names the node and its op; the fused Relu is named too */
    assert_non_null(strstr(c, "node 'stem_conv' (Conv)"));
    assert_non_null(strstr(c, "'stem_relu' (Relu)"));
    assert_non_null(strstr(c, "model_run_ws("));
    assert_non_null(strstr(h, "int model_run_ws("));
    assert_non_null(strstr(h, "size_t model_workspace_size(void)"));
    assert_null(strstr(c, "malloc"));
    assert_null(strstr(c, "printf"));
    assert_null(strstr(c, "stdio"));
    /* weights as IEEE-754 hex: 1.0f, 2.0f and 54.0f */
    assert_non_null(strstr(c, "0x3f800000"));
    assert_non_null(strstr(c, "0x40000000"));
    assert_non_null(strstr(c, "0x42580000"));
    assert_non_null(strstr(h, "#define MODEL_ARENA_SIZE "));
    /* no build date or absolute path in the output */
    assert_null(strstr(c, UNIT_TMP_ROOT));
    assert_null(strstr(h, UNIT_TMP_ROOT));
    free(c);
    free(h);
}

/* At -O0 the Conv output is an intermediate in the arena: 1x3x4x4 floats */
static void test_arena_macro_O0(void **state)
{
    (void)state;
    char *c, *h;
    compile_to("o0", "model", 0, NULL, &c, &h);
    assert_non_null(strstr(h, "#define MODEL_ARENA_SIZE 192u"));
    assert_non_null(strstr(c, "node 'stem_relu' (Relu)"));
    assert_non_null(strstr(c, "@ws+0"));
    free(c);
    free(h);
}

static void test_deterministic(void **state)
{
    (void)state;
    char *c1, *h1, *c2, *h2;
    compile_to("det1", "model", 2, NULL, &c1, &h1);
    compile_to("det2", "model", 2, NULL, &c2, &h2);
    assert_string_equal(c1, c2);
    assert_string_equal(h1, h2);
    free(c1);
    free(h1);
    free(c2);
    free(h2);
}

static void test_name_prefix(void **state)
{
    (void)state;
    char *c, *h;
    compile_to("named", "model", 2, "edge_net", &c, &h);
    assert_non_null(strstr(c, "edge_net_run_ws("));
    assert_non_null(strstr(h, "int edge_net_run("));
    assert_non_null(strstr(h, "EDGE_NET_ARENA_SIZE"));
    assert_null(strstr(c, "model_run"));
    free(c);
    free(h);
    /* without --name the prefix comes from the output file, sanitised */
    compile_to("stem", "my-net.v2", 2, NULL, &c, &h);
    assert_non_null(strstr(c, "my_net_v2_run_ws("));
    free(c);
    free(h);
}

int main(void)
{
    write_model();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contents),
        cmocka_unit_test(test_arena_macro_O0),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_name_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
