/*
 * fold.c - constant folding: every node whose inputs are all constant is
 * evaluated with the runtime's reference kernels, and its outputs become
 * constants. Weight transforms in the graph (WeightNorm's scale * W / |W|,
 * a Transpose of a weight, a Cast of a constant) disappear here.
 *
 * Precondition: shapes inferred. Runs in order, so chains fold in one sweep.
 */
#include "nncc-impl.h"

nncc_status nncc_pass_fold(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int folded = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || !nncc_ops[n->op]->eval)
            continue;
        bool all = true;
        for (int k = 0; k < n->n_in && all; k++)
            all = n->in[k] < 0 || g->t[n->in[k]].data;
        if (!all)
            continue;
        nncc_status st = nncc_fold_node(g, n);
        if (st != NNCC_OK)
            return st;
        folded++;
    }
    nncc_graph_compact(g);
    if (folded)
        nncc_report(g, "fold", "%d node%s with constant inputs evaluated", folded, folded == 1 ? "" : "s");
    return NNCC_OK;
}
