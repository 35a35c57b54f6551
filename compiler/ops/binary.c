/*
 * binary.c - elementwise functions of two inputs with numpy broadcasting:
 * Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu, BitShift, BitwiseAnd/Or/Xor,
 * and the variadic Sum and Mean; every type of the runtime's typed lists
 * (float32 calls nncc_binary_f32, the others the typed nncc_binary).
 *
 * Variadic ops (Max, Min, Sum, Mean) run as a chain of binary steps into
 * the output, each broadcast to the final shape: y = x0 op x1, y = y op x2,
 * ...; Mean then divides by the count; one input is a copy. Fusion passes
 * may set n->act (float32 only), applied after the operation.
 *
 * SwiGLU(a, b) = swish(a, alpha) * b (same shapes) runs as the unary Swish
 * into the output, then Mul by b in place.
 */
#include "nncc-impl.h"

#include <string.h>

static const int codes[NNCC_OP_COUNT] = {
    [NNCC_OP_Add] = NNCC_BIN_ADD, [NNCC_OP_Sub] = NNCC_BIN_SUB, [NNCC_OP_Mul] = NNCC_BIN_MUL,
    [NNCC_OP_Div] = NNCC_BIN_DIV, [NNCC_OP_Pow] = NNCC_BIN_POW, [NNCC_OP_Max] = NNCC_BIN_MAX,
    [NNCC_OP_Min] = NNCC_BIN_MIN, [NNCC_OP_Mod] = NNCC_BIN_MOD, [NNCC_OP_PRelu] = NNCC_BIN_PRELU,
    [NNCC_OP_BitwiseAnd] = NNCC_BIN_AND, [NNCC_OP_BitwiseOr] = NNCC_BIN_OR, [NNCC_OP_BitwiseXor] = NNCC_BIN_XOR,
    [NNCC_OP_Sum] = NNCC_BIN_ADD, [NNCC_OP_Mean] = NNCC_BIN_ADD,
};

static bool is_variadic(const nncc_node *n)
{
    return n->op == NNCC_OP_Max || n->op == NNCC_OP_Min || n->op == NNCC_OP_Sum || n->op == NNCC_OP_Mean;
}

static bool is_bitwise(const nncc_node *n)
{
    return n->op == NNCC_OP_BitShift || n->op == NNCC_OP_BitwiseAnd || n->op == NNCC_OP_BitwiseOr ||
           n->op == NNCC_OP_BitwiseXor;
}

static int bin_code(nncc_graph *g, nncc_node *n)
{
    if (n->op == NNCC_OP_Mod)
        return nncc_attr_int(g, n, "fmod", 0) ? NNCC_BIN_FMOD : NNCC_BIN_MOD;
    if (n->op == NNCC_OP_BitShift) {
        const char *d = nncc_attr_str(g, n, "direction", "");
        if (strcmp(d, "LEFT") && strcmp(d, "RIGHT")) {
            nncc_error(g, n, "direction must be 'LEFT' or 'RIGHT', not '%s'", d);
            return -1;
        }
        return d[0] == 'L' ? NNCC_BIN_SHL : NNCC_BIN_SHR;
    }
    if (n->n_in == 1) /* a variadic op of one input: a copy, as max(x, x) */
        return NNCC_BIN_MAX;
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
    bool variadic = is_variadic(n);
    if (nncc_check_inputs(g, n, variadic ? 1 : 2, variadic ? 1 << 20 : 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *a = nncc_in(g, n, 0);
    for (int i = 1; i < n->n_in; i++) {
        nncc_tensor *b = nncc_in(g, n, i);
        if (!b) {
            nncc_error(g, n, "input %d is required", i);
            return NNCC_ERR_INPUT;
        }
        if (a->dtype != b->dtype)
            return nncc_unsupported(g, n, "inputs of different types (%s and %s)", nncc_dtype_name(a->dtype),
                                    nncc_dtype_name(b->dtype));
    }
    bool fl = nncc_dtype_is_float(a->dtype) || (a->dtype == NNCC_DT_F16 && n->op != NNCC_OP_Mean);
    bool in = nncc_dtype_is_int(a->dtype);
    if (!(fl || in) || (is_bitwise(n) && !in) || (n->op == NNCC_OP_Mean && !fl))
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(a->dtype));
    if (bin_code(g, n) < 0)
        return NNCC_ERR_INPUT;
    nncc_shape s = a->shape;
    for (int i = 1; i < n->n_in; i++) {
        nncc_shape bs = b_shape(g, n), t = s;
        if (n->n_in > 2)
            bs = nncc_in(g, n, i)->shape;
        if (nncc_broadcast_shape(g, n, &t, &bs, &s) != NNCC_OK)
            return NNCC_ERR_INPUT;
    }
    if (n->op == NNCC_OP_PRelu && !nncc_shape_eq(&s, &a->shape)) {
        nncc_error(g, n, "slope %s does not broadcast to the input %s", nncc_shape_str(g->ctx, &nncc_in(g, n, 1)->shape),
                   nncc_shape_str(g->ctx, &a->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, a->dtype, &s);
    return NNCC_OK;
}

/* The broadcast of step k (1 <= k < max(n_in, 2)): step 1 reads x0 and x1,
 * later steps the output so far and x_k. */
static void fill(nncc_graph *g, nncc_node *n, int k, nncc_bcast *bc)
{
    const nncc_shape *o = &nncc_out(g, n, 0)->shape;
    nncc_shape bs = n->n_in > 2 ? g->t[n->in[k]].shape : b_shape(g, n);
    nncc_bcast_fill(bc, o, k == 1 ? &nncc_in(g, n, 0)->shape : o, &bs, NULL);
}

static int n_steps(nncc_node *n) { return n->n_in > 1 ? n->n_in - 1 : 1; }

/* Runs step k (or, k == 0, Mean's division by the count) on host buffers. */
static void run_step(nncc_graph *g, nncc_node *n, int code, const nncc_bcast *bc, const void *a, const void *b,
                     void *y, bool act)
{
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    if (dt == NNCC_DT_F32)
        nncc_binary_f32(code, bc, act && n->act.kind ? &n->act : NULL, a, b, y);
    else
        nncc_binary(code, (int32_t)dt, bc, a, b, y);
}

static nncc_status binary_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_bcast bc;
    int code = bin_code(g, n), steps = n_steps(n);
    for (int k = 1; k <= steps; k++) {
        fill(g, n, k, &bc);
        run_step(g, n, code, &bc, k == 1 ? in[0] : out[0], n->n_in > 1 ? in[k] : in[0], out[0],
                 k == steps && n->op != NNCC_OP_Mean);
    }
    if (n->op == NNCC_OP_Mean) { /* y = y / count */
        const nncc_shape one = { 0, { 0 } };
        double cd = (double)n->n_in;
        float cf = (float)n->n_in;
        nncc_bcast_fill(&bc, &nncc_out(g, n, 0)->shape, &nncc_out(g, n, 0)->shape, &one, NULL);
        run_step(g, n, NNCC_BIN_DIV, &bc, out[0], nncc_in(g, n, 0)->dtype == NNCC_DT_F32 ? (void *)&cf : (void *)&cd,
                 out[0], true);
    }
    return NNCC_OK;
}

static const char *emit_bcast(nncc_emit *e, const nncc_bcast *bc)
{
    const char *name = nncc_emit_param(e, "nncc_bcast");
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)bc->rank);
    nncc_emit_i64s(e, bc->dims, (int)bc->rank);
    fprintf(e->pf, ",\n    .sa = ");
    nncc_emit_i64s(e, bc->sa, (int)bc->rank);
    fprintf(e->pf, ",\n    .sb = ");
    nncc_emit_i64s(e, bc->sb, (int)bc->rank);
    fprintf(e->pf, "\n};\n");
    return name;
}

static void emit_step(nncc_emit *e, nncc_graph *g, nncc_node *n, int code, const nncc_bcast *bc, const char *a,
                      const char *b, bool act)
{
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    const char *y = nncc_emit_ref(e, g, n->out[0]);
    if (dt != NNCC_DT_F32) {
        const char *name = emit_bcast(e, bc);
        fprintf(e->f, "    nncc_binary(%d, %d, &%s, %s, %s, %s);\n", code, (int)dt, name, a, b, y);
        return;
    }
    /* with --threads, parts of the outermost dim above 1 on each thread */
    int d = 0;
    while (d < bc->rank - 1 && bc->dims[d] == 1)
        d++;
    int64_t inner = 1, bounds[NNCC_EMIT_MAX_PARTS + 1];
    for (int i = d + 1; i < bc->rank; i++)
        inner *= bc->dims[i];
    const int parts = nncc_emit_parts(e, g, bc->dims[d], bc->dims[d] * inner, bounds);
    const char *ap = "0";
    for (int i = 0; i < parts; i++) {
        nncc_bcast pb = *bc;
        pb.dims[d] = bounds[i + 1] - bounds[i];
        const char *name = emit_bcast(e, &pb);
        if (i == 0 && act && n->act.kind) {
            ap = nncc_emit_param(e, "nncc_act_params");
            nncc_emit_act(e, &n->act);
            fprintf(e->pf, ";\n");
            ap = nncc_fmt(g->ctx, "&%s", ap);
        }
        nncc_emit_part(e, parts);
        fprintf(e->f, "    nncc_binary_f32(%d, &%s, %s, %s, %s, %s);\n", code, name, ap,
                nncc_emit_at(e, a, bounds[i] * bc->sa[d]), nncc_emit_at(e, b, bounds[i] * bc->sb[d]),
                nncc_emit_at(e, y, bounds[i] * inner));
    }
    nncc_emit_parts_end(e, parts);
}

static void binary_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_bcast bc;
    int code = bin_code(g, n), steps = n_steps(n);
    for (int k = 1; k <= steps; k++) {
        fill(g, n, k, &bc);
        emit_step(e, g, n, code, &bc, nncc_emit_ref(e, g, k == 1 ? n->in[0] : n->out[0]),
                  nncc_emit_ref(e, g, n->n_in > 1 ? n->in[k] : n->in[0]), k == steps && n->op != NNCC_OP_Mean);
    }
    if (n->op == NNCC_OP_Mean) { /* y = y / count */
        const nncc_shape one = { 0, { 0 } };
        nncc_dtype dt = nncc_in(g, n, 0)->dtype;
        const char *cnt = nncc_emit_name(e, "count");
        fprintf(e->pf, "static const %s %s = %d;\n", nncc_dtype_c(dt), cnt, n->n_in);
        nncc_bcast_fill(&bc, &nncc_out(g, n, 0)->shape, &nncc_out(g, n, 0)->shape, &one, NULL);
        const char *y = nncc_emit_ref(e, g, n->out[0]);
        emit_step(e, g, n, NNCC_BIN_DIV, &bc, y, nncc_fmt(g->ctx, "&%s", cnt), true);
    }
}

int nncc_binary_step(nncc_graph *g, nncc_node *n)
{
    if (n->op < 0 || n->op >= NNCC_OP_COUNT || nncc_ops[n->op]->infer != binary_infer || n->n_in != 2 ||
        is_bitwise(n) || n->op == NNCC_OP_Sum || n->op == NNCC_OP_Mean || (n->op == NNCC_OP_PRelu && n->opset < 7))
        return -1;
    return bin_code(g, n);
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
BINARY(BitShift);
BINARY(BitwiseAnd);
BINARY(BitwiseOr);
BINARY(BitwiseXor);
BINARY(Sum);
BINARY(Mean);

/* ---- SwiGLU ---- */

static nncc_status swiglu_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1);
    nncc_attr_float(g, n, "alpha", 1.0f);
    if (a->dtype != b->dtype || !nncc_shape_eq(&a->shape, &b->shape)) {
        nncc_error(g, n, "A and B must have one shape and type");
        return NNCC_ERR_INPUT;
    }
    if (!nncc_dtype_is_float(a->dtype) && a->dtype != NNCC_DT_F16)
        return nncc_unsupported(g, n, "SwiGLU of %s", nncc_dtype_name(a->dtype));
    nncc_set_out(g, n, 0, a->dtype, &a->shape);
    return NNCC_OK;
}

static nncc_status swiglu_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_tensor *a = nncc_in(g, n, 0);
    nncc_bcast bc;
    nncc_bcast_fill(&bc, &a->shape, &a->shape, &a->shape, NULL);
    float alpha = nncc_attr_float(g, n, "alpha", 1.0f);
    int64_t cnt = nncc_shape_count(&a->shape);
    if (a->dtype == NNCC_DT_F32) {
        nncc_unary_f32(NNCC_UN_SWISH, alpha, 0.0f, cnt, in[0], out[0]);
        nncc_binary_f32(NNCC_BIN_MUL, &bc, NULL, out[0], in[1], out[0]);
    } else {
        nncc_unary(NNCC_UN_SWISH, (int32_t)a->dtype, alpha, 0.0, cnt, in[0], out[0]);
        nncc_binary(NNCC_BIN_MUL, (int32_t)a->dtype, &bc, out[0], in[1], out[0]);
    }
    return NNCC_OK;
}

static void swiglu_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_tensor *a = nncc_in(g, n, 0);
    nncc_bcast bc;
    nncc_bcast_fill(&bc, &a->shape, &a->shape, &a->shape, NULL);
    float alpha = nncc_attr_float(g, n, "alpha", 1.0f);
    const char *y = nncc_emit_ref(e, g, n->out[0]);
    long long cnt = (long long)nncc_shape_count(&a->shape);
    if (a->dtype == NNCC_DT_F32)
        fprintf(e->f, "    nncc_unary_f32(%d, %s, 0.0f, %lld, %s, %s);\n", NNCC_UN_SWISH, nncc_float_c(g->ctx, alpha), cnt,
                nncc_emit_ref(e, g, n->in[0]), y);
    else
        fprintf(e->f, "    nncc_unary(%d, %d, %s, 0.0, %lld, %s, %s);\n", NNCC_UN_SWISH, (int)a->dtype,
                nncc_double_c(g->ctx, alpha), cnt, nncc_emit_ref(e, g, n->in[0]), y);
    emit_step(e, g, n, NNCC_BIN_MUL, &bc, y, nncc_emit_ref(e, g, n->in[1]), false);
}

const nncc_op nncc_op_SwiGLU = { .name = "SwiGLU", .infer = swiglu_infer, .eval = swiglu_eval,
                                 .emit_c = swiglu_emit_c };
