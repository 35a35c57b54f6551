/*
 * compare.c - comparisons (Equal, Less, LessOrEqual, Greater,
 * GreaterOrEqual) giving bool, logical ops on bool (And, Or, Xor, Not), and
 * Where (select by a bool condition), all with numpy broadcasting; the
 * predicates IsNaN and IsInf.
 */
#include "nncc-impl.h"

static const int cmp_codes[NNCC_OP_COUNT] = {
    [NNCC_OP_Equal] = NNCC_CMP_EQ, [NNCC_OP_Less] = NNCC_CMP_LT, [NNCC_OP_LessOrEqual] = NNCC_CMP_LE,
    [NNCC_OP_Greater] = NNCC_CMP_GT, [NNCC_OP_GreaterOrEqual] = NNCC_CMP_GE,
    [NNCC_OP_And] = NNCC_LOGIC_AND, [NNCC_OP_Or] = NNCC_LOGIC_OR, [NNCC_OP_Xor] = NNCC_LOGIC_XOR,
    [NNCC_OP_Not] = NNCC_LOGIC_NOT,
};

static bool is_logic(nncc_node *n)
{
    return n->op == NNCC_OP_And || n->op == NNCC_OP_Or || n->op == NNCC_OP_Xor || n->op == NNCC_OP_Not;
}

static nncc_status cmp_infer(nncc_graph *g, nncc_node *n)
{
    int arity = n->op == NNCC_OP_Not ? 1 : 2;
    if (nncc_check_inputs(g, n, arity, arity))
        return NNCC_ERR_INPUT;
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, arity - 1);
    if (is_logic(n)) {
        if (nncc_check_dtype(g, n, 0, NNCC_DT_BOOL, NNCC_DT_UNDEF) ||
            nncc_check_dtype(g, n, arity - 1, NNCC_DT_BOOL, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    } else {
        if (!nncc_dtype_is_float(a->dtype) && !nncc_dtype_is_int(a->dtype) && a->dtype != NNCC_DT_BOOL &&
            a->dtype != NNCC_DT_F16)
            return nncc_unsupported(g, n, "comparing %s", nncc_dtype_name(a->dtype));
        if (a->dtype != b->dtype) {
            nncc_error(g, n, "inputs have different types (%s and %s)", nncc_dtype_name(a->dtype),
                       nncc_dtype_name(b->dtype));
            return NNCC_ERR_INPUT;
        }
    }
    nncc_shape s;
    if (nncc_broadcast_shape(g, n, &a->shape, &b->shape, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_BOOL, &s);
    return NNCC_OK;
}

static void cmp_fill(nncc_graph *g, nncc_node *n, nncc_bcast *bc)
{
    nncc_bcast_fill(bc, &nncc_out(g, n, 0)->shape, &nncc_in(g, n, 0)->shape,
                    &g->t[n->in[n->n_in > 1 ? 1 : 0]].shape, NULL);
}

static nncc_status cmp_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_bcast bc;
    cmp_fill(g, n, &bc);
    if (is_logic(n))
        nncc_logical(cmp_codes[n->op], &bc, in[0], n->n_in > 1 ? in[1] : NULL, out[0]);
    else
        nncc_compare(cmp_codes[n->op], (int32_t)nncc_in(g, n, 0)->dtype, &bc, in[0], in[1], out[0]);
    return NNCC_OK;
}

static void emit_bcast(nncc_emit *e, const nncc_bcast *bc, const char *name, bool c)
{
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)bc->rank);
    nncc_emit_i64s(e, bc->dims, (int)bc->rank);
    fprintf(e->pf, ",\n    .sa = ");
    nncc_emit_i64s(e, bc->sa, (int)bc->rank);
    fprintf(e->pf, ",\n    .sb = ");
    nncc_emit_i64s(e, bc->sb, (int)bc->rank);
    if (c) {
        fprintf(e->pf, ",\n    .sc = ");
        nncc_emit_i64s(e, bc->sc, (int)bc->rank);
    }
    fprintf(e->pf, "\n};\n");
    (void)name;
}

static void cmp_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_bcast bc;
    cmp_fill(g, n, &bc);
    const char *name = nncc_emit_param(e, "nncc_bcast");
    emit_bcast(e, &bc, name, false);
    if (is_logic(n))
        fprintf(e->f, "    nncc_logical(%d, &%s, %s, %s, %s);\n", cmp_codes[n->op], name, nncc_emit_ref(e, g, n->in[0]),
                n->n_in > 1 ? nncc_emit_ref(e, g, n->in[1]) : "0", nncc_emit_ref(e, g, n->out[0]));
    else
        fprintf(e->f, "    nncc_compare(%d, %d, &%s, %s, %s, %s);\n", cmp_codes[n->op], (int)nncc_in(g, n, 0)->dtype,
                name, nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->out[0]));
}

#define CMP(NAME) \
    const nncc_op nncc_op_##NAME = { .name = #NAME, .infer = cmp_infer, .eval = cmp_eval, .emit_c = cmp_emit_c }
CMP(Equal);
CMP(Less);
CMP(LessOrEqual);
CMP(Greater);
CMP(GreaterOrEqual);
CMP(And);
CMP(Or);
CMP(Xor);
CMP(Not);

/* ---- Where(cond, x, z) ---- */

static nncc_status where_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 3) || nncc_check_dtype(g, n, 0, NNCC_DT_BOOL, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *c = nncc_in(g, n, 0), *x = nncc_in(g, n, 1), *z = nncc_in(g, n, 2);
    if (x->dtype != z->dtype) {
        nncc_error(g, n, "X and Y have different types (%s and %s)", nncc_dtype_name(x->dtype),
                   nncc_dtype_name(z->dtype));
        return NNCC_ERR_INPUT;
    }
    nncc_shape s1, s;
    if (nncc_broadcast_shape(g, n, &c->shape, &x->shape, &s1) != NNCC_OK ||
        nncc_broadcast_shape(g, n, &s1, &z->shape, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static void where_fill(nncc_graph *g, nncc_node *n, nncc_bcast *bc)
{
    nncc_bcast_fill(bc, &nncc_out(g, n, 0)->shape, &nncc_in(g, n, 0)->shape, &nncc_in(g, n, 1)->shape,
                    &nncc_in(g, n, 2)->shape);
}

static nncc_status where_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_bcast bc;
    where_fill(g, n, &bc);
    nncc_where(&bc, nncc_dtype_size(nncc_out(g, n, 0)->dtype), in[0], in[1], in[2], out[0]);
    return NNCC_OK;
}

static void where_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_bcast bc;
    where_fill(g, n, &bc);
    const char *name = nncc_emit_param(e, "nncc_bcast");
    emit_bcast(e, &bc, name, true);
    fprintf(e->f, "    nncc_where(&%s, %zu, %s, %s, %s, %s);\n", name, nncc_dtype_size(nncc_out(g, n, 0)->dtype),
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Where = { .name = "Where", .infer = where_infer, .eval = where_eval, .emit_c = where_emit_c };

/* ---- IsNaN, IsInf (detect_positive, detect_negative) ---- */

static void isinf_args(nncc_graph *g, nncc_node *n, int *nan, int *pos, int *neg)
{
    *nan = n->op == NNCC_OP_IsNaN;
    *pos = *nan ? 0 : (int)nncc_attr_int(g, n, "detect_positive", 1);
    *neg = *nan ? 0 : (int)nncc_attr_int(g, n, "detect_negative", 1);
}

static nncc_status isinf_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    if (!nncc_dtype_is_float(x->dtype) && x->dtype != NNCC_DT_F16)
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(x->dtype));
    int nan, pos, neg;
    isinf_args(g, n, &nan, &pos, &neg);
    nncc_set_out(g, n, 0, NNCC_DT_BOOL, &x->shape);
    return NNCC_OK;
}

static nncc_status isinf_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int nan, pos, neg;
    isinf_args(g, n, &nan, &pos, &neg);
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_isinf((int32_t)x->dtype, nan, pos, neg, nncc_shape_count(&x->shape), in[0], out[0]);
    return NNCC_OK;
}

static void isinf_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int nan, pos, neg;
    isinf_args(g, n, &nan, &pos, &neg);
    nncc_tensor *x = nncc_in(g, n, 0);
    fprintf(e->f, "    nncc_isinf(%d, %d, %d, %d, %lld, %s, %s);\n", (int)x->dtype, nan, pos, neg,
            (long long)nncc_shape_count(&x->shape), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_IsNaN = { .name = "IsNaN", .infer = isinf_infer, .eval = isinf_eval, .emit_c = isinf_emit_c };
const nncc_op nncc_op_IsInf = { .name = "IsInf", .infer = isinf_infer, .eval = isinf_eval, .emit_c = isinf_emit_c };
