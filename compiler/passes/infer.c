/*
 * infer.c - shape inference, in topological order, with the folding that
 * shapes depend on.
 *
 * Each node's op descriptor checks its attributes and inputs and sets its
 * output dtypes and shapes. A node is evaluated on the spot (its outputs
 * become constants) when its output depends only on input shapes (Shape,
 * Size) or when all its inputs are constant and it produces integers or is a
 * Constant: that is how torch's shape subgraphs (Shape -> Gather -> Unsqueeze
 * -> Concat -> Reshape) disappear even at -O0. So do small float constants
 * (at most 64 elements: an epsilon cast to float, a Clip bound), which other
 * ops need as compile-time parameters. Float arithmetic on weights is left to
 * the fold pass, so -O0 keeps every ONNX node that computes on data.
 *
 * Precondition: nodes in topological order; graph inputs have concrete shapes.
 */
#include "nncc-impl.h"

#include <string.h>

static bool all_inputs_const(nncc_graph *g, nncc_node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !g->t[n->in[i]].data)
            return false;
    return true;
}

static bool inputs_have_shapes(nncc_graph *g, nncc_node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !g->t[n->in[i]].has_shape)
            return false;
    return true;
}

nncc_status nncc_fold_node(nncc_graph *g, nncc_node *n)
{
    const nncc_op *op = nncc_ops[n->op];
    const void *in[16] = { 0 };
    void *out[16] = { 0 };
    if (n->n_in > 16 || n->n_out > 16 || !op->eval)
        return NNCC_OK;
    for (int i = 0; i < n->n_in; i++)
        in[i] = n->in[i] >= 0 ? g->t[n->in[i]].data : NULL;
    for (int i = 0; i < n->n_out; i++) {
        nncc_tensor *t = nncc_out(g, n, i);
        if (!t)
            continue;
        size_t bytes = (size_t)nncc_shape_count(&t->shape) * nncc_dtype_size(t->dtype);
        out[i] = nncc_alloc(g->ctx, bytes ? bytes : 1);
        if (!out[i])
            return NNCC_ERR_NOMEM;
    }
    nncc_status st = op->eval(g, n, in, out);
    if (st != NNCC_OK)
        return st;
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] >= 0)
            g->t[n->out[i]].data = out[i];
    n->dead = true;
    return NNCC_OK;
}

nncc_status nncc_pass_infer(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    nncc_status st = NNCC_OK;
    int folded = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            continue;
        if (!inputs_have_shapes(g, n))
            continue; /* an earlier error left an input without shape */
        for (int k = 0; k < n->n_attr; k++)
            n->attr[k].used = false;
        const nncc_op *op = nncc_ops[n->op];
        /* attribute readers report a wrong type as an error and return the default */
        int errors = g->ctx->n_errors;
        if (op->infer(g, n) != NNCC_OK || nncc_attrs_done(g, n) != NNCC_OK || g->ctx->n_errors > errors) {
            st = NNCC_ERR_INPUT;
            continue;
        }
        for (int k = 0; k < n->n_out; k++) {
            nncc_tensor *t = nncc_out(g, n, k);
            if (t && nncc_shape_count(&t->shape) > NNCC_MAX_ELEMS) {
                nncc_error(g, n, "output '%s' would have %s elements", t->name,
                           nncc_shape_str(g->ctx, &t->shape));
                return NNCC_ERR_INPUT;
            }
        }
        bool fold = (op->flags & (NNCC_OPF_SHAPE_ONLY | NNCC_OPF_NOKERNEL)) != 0;
        if (!fold && all_inputs_const(g, n) && op->eval) {
            fold = true;
            for (int k = 0; k < n->n_out; k++) {
                nncc_tensor *t = nncc_out(g, n, k);
                if (t && (t->dtype == NNCC_DT_F32 || t->dtype == NNCC_DT_F64) && nncc_shape_count(&t->shape) > 64)
                    fold = false; /* float work on weights is the fold pass's job */
            }
        }
        if (fold) {
            nncc_status fs = nncc_fold_node(g, n);
            if (fs != NNCC_OK)
                return fs;
            folded++;
        }
    }
    if (st == NNCC_OK) {
        nncc_graph_compact(g);
        nncc_report(g, "infer", "%d shape computations evaluated at compile time", folded);
    }
    return st;
}
