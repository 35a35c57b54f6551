/*
 * binary.c - elementwise functions of two inputs with numpy broadcasting:
 * Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu; float32, int32 and int64.
 *
 * Max and Min are variadic in ONNX; nncc takes one or two inputs. Fusion
 * passes may set n->act (float32 only), applied after the operation.
 */
#include "nncc-impl.h"

#include <string.h>

static const int codes[NNCC_OP_COUNT] = {
    [NNCC_OP_Add] = NNCC_BIN_ADD, [NNCC_OP_Sub] = NNCC_BIN_SUB, [NNCC_OP_Mul] = NNCC_BIN_MUL,
    [NNCC_OP_Div] = NNCC_BIN_DIV, [NNCC_OP_Pow] = NNCC_BIN_POW, [NNCC_OP_Max] = NNCC_BIN_MAX,
    [NNCC_OP_Min] = NNCC_BIN_MIN, [NNCC_OP_Mod] = NNCC_BIN_MOD, [NNCC_OP_PRelu] = NNCC_BIN_PRELU,
};

static int bin_code(nncc_graph *g, nncc_node *n)
{
    if (n->op == NNCC_OP_Mod)
        return nncc_attr_int(g, n, "fmod", 0) ? NNCC_BIN_FMOD : NNCC_BIN_MOD;
    return codes[n->op];
}

/* One input (Max/Min of a single tensor) is a copy: b = a, same shape. */
static int in_b(nncc_node *n) { return n->n_in > 1 ? n->in[1] : n->in[0]; }

/* b's shape for broadcasting. PRelu before opset 7 has a per-channel slope
 * of shape (C) for an input (N, C, ...): it broadcasts as (C, 1, ..., 1). */
static nncc_shape b_shape(nncc_graph *g, nncc_node *n)
{
    nncc_shape s = g->t[in_b(n)].shape;
    const nncc_shape *a = &nncc_in(g, n, 0)->shape;
    if (n->op == NNCC_OP_PRelu && n->opset < 7 && s.rank == 1 && a->rank > 2 && s.d[0] == a->d[1]) {
        s.rank = a->rank - 1;
        for (int i = 1; i < s.rank; i++)
            s.d[i] = 1;
    }
    return s;
}

static nncc_status binary_infer(nncc_graph *g, nncc_node *n)
{
    bool variadic = n->op == NNCC_OP_Max || n->op == NNCC_OP_Min;
    if (variadic && n->n_in > 2)
        return nncc_unsupported(g, n, "%s of %d inputs (nncc takes one or two)", nncc_ops[n->op]->name, n->n_in);
    if (nncc_check_inputs(g, n, variadic ? 1 : 2, 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *a = nncc_in(g, n, 0), *b = &g->t[in_b(n)];
    if (nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_I64, NNCC_DT_I32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    if (a->dtype != b->dtype) {
        return nncc_unsupported(g, n, "inputs of different types (%s and %s)", nncc_dtype_name(a->dtype),
                                nncc_dtype_name(b->dtype));
    }
    if (a->dtype != NNCC_DT_F32 && n->op == NNCC_OP_PRelu)
        return nncc_unsupported(g, n, "PRelu on %s", nncc_dtype_name(a->dtype));
    (void)bin_code(g, n);
    nncc_shape s, bs = b_shape(g, n);
    if (nncc_broadcast_shape(g, n, &a->shape, &bs, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (n->op == NNCC_OP_PRelu && !nncc_shape_eq(&s, &a->shape)) {
        nncc_error(g, n, "slope %s does not broadcast to the input %s", nncc_shape_str(g->ctx, &b->shape),
                   nncc_shape_str(g->ctx, &a->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, a->dtype, &s);
    return NNCC_OK;
}

static void fill(nncc_graph *g, nncc_node *n, nncc_bcast *bc)
{
    nncc_shape bs = b_shape(g, n);
    nncc_bcast_fill(bc, &nncc_out(g, n, 0)->shape, &nncc_in(g, n, 0)->shape, &bs, NULL);
}

static nncc_status binary_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_bcast bc;
    fill(g, n, &bc);
    int code = bin_code(g, n);
    const void *b = n->n_in > 1 ? in[1] : in[0];
    switch (nncc_in(g, n, 0)->dtype) {
    case NNCC_DT_F32:
        nncc_binary_f32(code, &bc, n->act.kind ? &n->act : NULL, in[0], b, out[0]);
        break;
    case NNCC_DT_I64: nncc_binary_i64(code, &bc, in[0], b, out[0]); break;
    default: nncc_binary_i32(code, &bc, in[0], b, out[0]); break;
    }
    return NNCC_OK;
}

static void binary_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_bcast bc;
    fill(g, n, &bc);
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    const char *name = nncc_emit_param(e, "nncc_bcast");
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)bc.rank);
    nncc_emit_i64s(e, bc.dims, (int)bc.rank);
    fprintf(e->pf, ",\n    .sa = ");
    nncc_emit_i64s(e, bc.sa, (int)bc.rank);
    fprintf(e->pf, ",\n    .sb = ");
    nncc_emit_i64s(e, bc.sb, (int)bc.rank);
    fprintf(e->pf, "\n};\n");
    const char *act = "0";
    if (dt == NNCC_DT_F32 && n->act.kind) {
        act = nncc_emit_param(e, "nncc_act_params");
        nncc_emit_act(e, &n->act);
        fprintf(e->pf, ";\n");
        act = nncc_fmt(g->ctx, "&%s", act);
    }
    const char *fn = dt == NNCC_DT_F32 ? "nncc_binary_f32" : dt == NNCC_DT_I64 ? "nncc_binary_i64" : "nncc_binary_i32";
    fprintf(e->f, "    %s(%d, &%s, %s%s%s, %s, %s);\n", fn, bin_code(g, n), name, dt == NNCC_DT_F32 ? act : "",
            dt == NNCC_DT_F32 ? ", " : "", nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, in_b(n)),
            nncc_emit_ref(e, g, n->out[0]));
}

#define BINARY(NAME) \
    const nncc_op nncc_op_##NAME = { .name = #NAME, .flags = NNCC_OPF_INPLACE, .infer = binary_infer, \
                                     .eval = binary_eval, .emit_c = binary_emit_c }
BINARY(Add);
BINARY(Sub);
BINARY(Mul);
BINARY(Div);
BINARY(Pow);
BINARY(Max);
BINARY(Min);
BINARY(Mod);
BINARY(PRelu);
