/*
 * interp.c - runs a graph on the host, node by node, with each op's eval
 * (the runtime kernels linked into the compiler): the graph interpreter
 * that int8 calibration (passes/quantize.c) runs the float model with.
 *
 * Every computed tensor gets a malloc'd buffer, made visible to eval through
 * the tensor's `data` for the duration of the run (so fused inputs such as
 * Conv's residual add are found as in folding), and set back to NULL after.
 * Not fast and not frugal: every intermediate lives until the end of a run.
 */
#include "nncc-impl.h"

#include <stdlib.h>
#include <string.h>

nncc_status nncc_interp(nncc_graph *g, const void *const *inputs, nncc_interp_visit visit, void *user)
{
    void **bufs = calloc((size_t)g->n_t + 1, sizeof *bufs);
    bool *set = calloc((size_t)g->n_t + 1, sizeof *set);
    nncc_status st = bufs && set ? NNCC_OK : NNCC_ERR_NOMEM;
    for (int i = 0; i < g->n_inputs && st == NNCC_OK; i++) {
        g->t[g->inputs[i]].data = (void *)inputs[i];
        set[g->inputs[i]] = true;
    }
    for (int i = 0; i < g->n_n && st == NNCC_OK; i++) {
        nncc_node *n = &g->n[i];
        const nncc_op *op = nncc_ops[n->op];
        if (!op->eval || n->n_in > 16 || n->n_out > 16) {
            st = nncc_unsupported(g, n, "running %s on the host (calibration)", op->name);
            break;
        }
        const void *in[16] = { 0 };
        void *out[16] = { 0 };
        for (int k = 0; k < n->n_in; k++)
            in[k] = n->in[k] >= 0 ? g->t[n->in[k]].data : NULL;
        for (int k = 0; k < n->n_out && st == NNCC_OK; k++) {
            nncc_tensor *t = nncc_out(g, n, k);
            if (!t)
                continue;
            size_t bytes = (size_t)nncc_shape_count(&t->shape) * nncc_dtype_size(t->dtype);
            out[k] = bufs[n->out[k]] = calloc(bytes ? bytes : 1, 1);
            if (!out[k])
                st = NNCC_ERR_NOMEM;
        }
        if (st == NNCC_OK)
            st = op->eval(g, n, in, out);
        for (int k = 0; k < n->n_out && st == NNCC_OK; k++) {
            if (n->out[k] < 0)
                continue;
            g->t[n->out[k]].data = out[k];
            set[n->out[k]] = true;
            if (visit)
                visit(g, n->out[k], out[k], user);
        }
    }
    for (int t = 0; t < g->n_t && set; t++) {
        if (set[t])
            g->t[t].data = NULL;
        if (bufs)
            free(bufs[t]);
    }
    free(bufs);
    free(set);
    return st;
}
