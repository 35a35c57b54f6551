/*
 * reduce.c - ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp.
 *
 * Axes come from the `axes` attribute (ReduceSum before opset 13, the others
 * before 18) or from the second input, which must be constant. No axes:
 * reduce everything, unless noop_with_empty_axes=1 (then a copy).
 * float32 calls nncc_reduce_f32; float64 and integers the typed nncc_reduce
 * (integers: the ops without a logarithm or square root; bool: Max, Min).
 */
#include "nncc-impl.h"

#include <string.h>

static const int codes[NNCC_OP_COUNT] = {
    [NNCC_OP_ReduceSum] = NNCC_RED_SUM, [NNCC_OP_ReduceMean] = NNCC_RED_MEAN,
    [NNCC_OP_ReduceMax] = NNCC_RED_MAX, [NNCC_OP_ReduceMin] = NNCC_RED_MIN,
    [NNCC_OP_ReduceProd] = NNCC_RED_PROD, [NNCC_OP_ReduceL1] = NNCC_RED_L1,
    [NNCC_OP_ReduceL2] = NNCC_RED_L2, [NNCC_OP_ReduceSumSquare] = NNCC_RED_SUM_SQUARE,
    [NNCC_OP_ReduceLogSum] = NNCC_RED_LOG_SUM, [NNCC_OP_ReduceLogSumExp] = NNCC_RED_LOG_SUM_EXP,
};

/* Fills the kernel parameters and the output shape. */
static nncc_status reduce_params(nncc_graph *g, nncc_node *n, nncc_reduce_params *p, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    bool axes_input = n->op == NNCC_OP_ReduceSum ? n->opset >= 13 : n->opset >= 18;
    int64_t axes[NNCC_MAX_RANK];
    int na = -1;
    int keep = (int)nncc_attr_int(g, n, "keepdims", 1);
    int noop = axes_input ? (int)nncc_attr_int(g, n, "noop_with_empty_axes", 0) : 0;
    if (axes_input) {
        if (n->n_in > 1 && n->in[1] >= 0) {
            na = nncc_const_ints(g, n, 1, axes, NNCC_MAX_RANK);
            if (na < 0 && nncc_shape_count(&nncc_in(g, n, 1)->shape) == 0)
                na = 0; /* a run-time input known to be empty: no axes */
            if (na < 0)
                return nncc_unsupported(g, n, "axes computed at run time (they must be constant)");
        }
    } else {
        na = nncc_attr_ints(g, n, "axes", axes, NNCC_MAX_RANK);
    }
    if (na > r) {
        nncc_error(g, n, "%d axes for a tensor of rank %d", na, r);
        return NNCC_ERR_INPUT;
    }
    bool red[NNCC_MAX_RANK] = { false };
    if (na <= 0) {
        for (int i = 0; i < r; i++)
            red[i] = !noop;
    } else {
        for (int i = 0; i < na; i++) {
            if (nncc_axis(g, n, &axes[i], r) != NNCC_OK)
                return NNCC_ERR_INPUT;
            red[axes[i]] = true;
        }
    }
    memset(p, 0, sizeof *p);
    p->op = codes[n->op];
    out->rank = 0;
    p->rank = r ? r : 1;
    p->dims[0] = 1;
    int64_t stride = 1;
    for (int i = r - 1; i >= 0; i--) {
        p->dims[i] = x->shape.d[i];
        p->ostride[i] = red[i] ? 0 : stride;
        if (!red[i])
            stride *= x->shape.d[i];
    }
    p->out_count = stride;
    p->red_count = 1;
    for (int i = 0; i < r; i++) {
        if (red[i])
            p->red_count *= x->shape.d[i];
        if (!red[i] || keep)
            out->d[out->rank++] = red[i] ? 1 : x->shape.d[i];
    }
    return NNCC_OK;
}

static nncc_status reduce_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 2))
        return NNCC_ERR_INPUT;
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    int code = codes[n->op];
    bool exact = code != NNCC_RED_L2 && code != NNCC_RED_LOG_SUM && code != NNCC_RED_LOG_SUM_EXP;
    bool ok = nncc_dtype_is_float(dt) || (nncc_dtype_is_int(dt) && exact) ||
              (dt == NNCC_DT_BOOL && (code == NNCC_RED_MAX || code == NNCC_RED_MIN));
    if (!ok)
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(dt));
    nncc_reduce_params p;
    nncc_shape s;
    if (reduce_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, dt, &s);
    return NNCC_OK;
}

static nncc_status reduce_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_reduce_params p;
    nncc_shape s;
    if (reduce_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    if (dt == NNCC_DT_F32)
        nncc_reduce_f32(&p, in[0], out[0]);
    else
        nncc_reduce(&p, (int32_t)dt, in[0], out[0]);
    return NNCC_OK;
}

static void reduce_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_reduce_params p;
    nncc_shape s;
    if (reduce_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_reduce_params");
    fprintf(e->pf, "{\n    .op = %d, .rank = %lld, .dims = ", (int)p.op, (long long)p.rank);
    nncc_emit_i64s(e, p.dims, (int)p.rank);
    fprintf(e->pf, ",\n    .ostride = ");
    nncc_emit_i64s(e, p.ostride, (int)p.rank);
    fprintf(e->pf, ",\n    .out_count = %lld, .red_count = %lld\n};\n", (long long)p.out_count,
            (long long)p.red_count);
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    if (dt == NNCC_DT_F32)
        fprintf(e->f, "    nncc_reduce_f32(&%s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
                nncc_emit_ref(e, g, n->out[0]));
    else
        fprintf(e->f, "    nncc_reduce(&%s, %d, %s, %s);\n", name, (int)dt, nncc_emit_ref(e, g, n->in[0]),
                nncc_emit_ref(e, g, n->out[0]));
}

#define REDUCE(NAME) \
    const nncc_op nncc_op_##NAME = { .name = #NAME, .infer = reduce_infer, .eval = reduce_eval, .emit_c = reduce_emit_c }
REDUCE(ReduceSum);
REDUCE(ReduceMean);
REDUCE(ReduceMax);
REDUCE(ReduceMin);
REDUCE(ReduceProd);
REDUCE(ReduceL1);
REDUCE(ReduceL2);
REDUCE(ReduceSumSquare);
REDUCE(ReduceLogSum);
REDUCE(ReduceLogSumExp);
