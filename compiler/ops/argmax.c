/*
 * argmax.c - ArgMax and ArgMin along one axis (keepdims, select_last_index),
 * any numeric input (float32/64, integers), int64 output.
 */
#include "nncc-impl.h"

typedef struct {
    int64_t outer, len, inner;
    int32_t last;
} arg_info;

static nncc_status arg_params(nncc_graph *g, nncc_node *n, arg_info *a, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", 0);
    int keep = (int)nncc_attr_int(g, n, "keepdims", 1);
    a->last = (int32_t)nncc_attr_int(g, n, "select_last_index", 0);
    if (nncc_axis(g, n, &axis, x->shape.rank) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (x->shape.d[axis] == 0) {
        nncc_error(g, n, "axis %lld is empty", (long long)axis);
        return NNCC_ERR_INPUT;
    }
    a->outer = a->inner = 1;
    out->rank = 0;
    for (int i = 0; i < x->shape.rank; i++) {
        if (i < axis)
            a->outer *= x->shape.d[i];
        else if (i > axis)
            a->inner *= x->shape.d[i];
        if (i != axis || keep)
            out->d[out->rank++] = i == axis ? 1 : x->shape.d[i];
    }
    a->len = x->shape.d[axis];
    return NNCC_OK;
}

static nncc_status arg_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    if (!nncc_dtype_is_float(x->dtype) && !nncc_dtype_is_int(x->dtype))
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(x->dtype));
    arg_info a;
    nncc_shape s;
    if (arg_params(g, n, &a, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_I64, &s);
    return NNCC_OK;
}

static nncc_status arg_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    arg_info a;
    nncc_shape s;
    if (arg_params(g, n, &a, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_argmax(a.outer, a.len, a.inner, n->op == NNCC_OP_ArgMin, a.last, (int32_t)nncc_in(g, n, 0)->dtype, in[0],
                out[0]);
    return NNCC_OK;
}

static void arg_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    arg_info a;
    nncc_shape s;
    if (arg_params(g, n, &a, &s) != NNCC_OK)
        return;
    fprintf(e->f, "    nncc_argmax(%lld, %lld, %lld, %d, %d, %d, %s, %s);\n", (long long)a.outer, (long long)a.len,
            (long long)a.inner, n->op == NNCC_OP_ArgMin, (int)a.last, (int)nncc_in(g, n, 0)->dtype,
            nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_ArgMax = { .name = "ArgMax", .infer = arg_infer, .eval = arg_eval, .emit_c = arg_emit_c };
const nncc_op nncc_op_ArgMin = { .name = "ArgMin", .infer = arg_infer, .eval = arg_eval, .emit_c = arg_emit_c };
