/*
 * cumulative.c - CumSum and CumProd along one axis (exclusive, reverse),
 * any numeric type. The axis decides no shape, so it may be computed at run
 * time: the kernel then checks it (the generated code returns 1 when it is
 * out of range).
 */
#include "nncc-impl.h"

static nncc_status cum_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_I32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *ax = nncc_in(g, n, 1);
    nncc_attr_int(g, n, "exclusive", 0);
    nncc_attr_int(g, n, "reverse", 0);
    if (!nncc_dtype_is_float(x->dtype) && !nncc_dtype_is_int(x->dtype))
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(x->dtype));
    if (nncc_shape_count(&ax->shape) != 1 || x->shape.rank == 0) {
        nncc_error(g, n, "axis must be one value and the input at least 1-D");
        return NNCC_ERR_INPUT;
    }
    int64_t a;
    if (nncc_const_ints(g, n, 1, &a, 1) == 1 && nncc_axis(g, n, &a, x->shape.rank) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, x->dtype, &x->shape);
    return NNCC_OK;
}

static nncc_status cum_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_tensor *x = nncc_in(g, n, 0), *ax = nncc_in(g, n, 1);
    int64_t a = ax->dtype == NNCC_DT_I64 ? *(const int64_t *)in[1] : *(const int32_t *)in[1];
    if (nncc_cumulative((int32_t)x->dtype, n->op == NNCC_OP_CumProd, x->shape.rank, x->shape.d, a,
                        (int32_t)nncc_attr_int(g, n, "exclusive", 0), (int32_t)nncc_attr_int(g, n, "reverse", 0),
                        in[0], out[0])) {
        nncc_error(g, n, "axis %lld is out of range", (long long)a);
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void cum_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    const char *dims = nncc_emit_name(e, "dims");
    fprintf(e->pf, "static const int64_t %s[%d] = ", dims, x->shape.rank);
    nncc_emit_i64s(e, x->shape.d, x->shape.rank);
    fprintf(e->pf, ";\n");
    fprintf(e->f, "    if (nncc_cumulative(%d, %d, %d, %s, (int64_t)%s[0], %d, %d, %s, %s))\n"
                  "        return 1; /* axis out of range */\n",
            (int)x->dtype, n->op == NNCC_OP_CumProd, x->shape.rank, dims, nncc_emit_ref(e, g, n->in[1]),
            (int)nncc_attr_int(g, n, "exclusive", 0), (int)nncc_attr_int(g, n, "reverse", 0),
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_CumSum = { .name = "CumSum", .infer = cum_infer, .eval = cum_eval, .emit_c = cum_emit_c };
const nncc_op nncc_op_CumProd = { .name = "CumProd", .infer = cum_infer, .eval = cum_eval, .emit_c = cum_emit_c };
