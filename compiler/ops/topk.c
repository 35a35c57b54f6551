/*
 * topk.c - TopK with a constant K (the `k` attribute before opset 10):
 * values and int64 indices of the K largest or smallest along `axis`,
 * sorted (sorted=0 gives the same order). Kernel: runtime/nncc_rt_topk.c.
 */
#include "nncc-impl.h"

typedef struct {
    int64_t outer, len, inner, k;
    int32_t largest;
    nncc_shape out;
} topk_params;

static nncc_status topk_params_get(nncc_graph *g, nncc_node *n, topk_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", -1);
    p->largest = n->opset >= 11 ? (int32_t)nncc_attr_int(g, n, "largest", 1) : 1;
    if (n->opset >= 11)
        nncc_attr_int(g, n, "sorted", 1);
    if (x->dtype == NNCC_DT_F16 || x->dtype == NNCC_DT_BOOL || x->dtype == NNCC_DT_STRING)
        return nncc_unsupported(g, n, "TopK of %s", nncc_dtype_name(x->dtype));
    int r = x->shape.rank;
    if (r == 0 || nncc_axis(g, n, &axis, r) != NNCC_OK) {
        nncc_error(g, n, "needs an input of rank >= 1 and an axis in range");
        return NNCC_ERR_INPUT;
    }
    if (n->opset < 10) {
        p->k = nncc_attr_int(g, n, "k", -1);
    } else {
        int64_t k[2];
        if (nncc_const_ints(g, n, 1, k, 2) != 1)
            return nncc_unsupported(g, n, "a K that is not a constant of one value");
        p->k = k[0];
    }
    p->len = x->shape.d[axis];
    if (p->k < 0 || p->k > p->len) {
        nncc_error(g, n, "K %lld is not in [0, %lld]", (long long)p->k, (long long)p->len);
        return NNCC_ERR_INPUT;
    }
    p->outer = p->inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis)
            p->outer *= x->shape.d[i];
        else if (i > axis)
            p->inner *= x->shape.d[i];
    }
    p->out = x->shape;
    p->out.d[axis] = p->k;
    return NNCC_OK;
}

static nncc_status topk_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, n->opset < 10 ? 1 : 2, n->opset < 10 ? 1 : 2))
        return NNCC_ERR_INPUT;
    if (n->n_out < 1 || n->n_out > 2) {
        nncc_error(g, n, "has %d outputs, expected 2", n->n_out);
        return NNCC_ERR_INPUT;
    }
    topk_params p;
    /* the kernel writes both outputs: one the model leaves out gets a tensor */
    if (topk_params_get(g, n, &p) != NNCC_OK || nncc_node_materialize_outputs(g, (int)(n - g->n), 2) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &p.out);
    nncc_set_out(g, n, 1, NNCC_DT_I64, &p.out);
    return NNCC_OK;
}

static nncc_status topk_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    topk_params p;
    if (topk_params_get(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_dtype t = nncc_in(g, n, 0)->dtype;
    nncc_topk((int32_t)t, nncc_dtype_size(t), p.outer, p.len, p.inner, p.k, p.largest, in[0], out[0], out[1]);
    return NNCC_OK;
}

static void topk_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    topk_params p;
    if (topk_params_get(g, n, &p) != NNCC_OK)
        return;
    nncc_dtype t = nncc_in(g, n, 0)->dtype;
    fprintf(e->f, "    nncc_topk(%d, %d, %lld, %lld, %lld, %lld, %d, %s, %s, %s);\n", (int)t, (int)nncc_dtype_size(t),
            (long long)p.outer, (long long)p.len, (long long)p.inner, (long long)p.k, (int)p.largest,
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->out[1]));
}

const nncc_op nncc_op_TopK = { .name = "TopK", .infer = topk_infer, .eval = topk_eval, .emit_c = topk_emit_c };
