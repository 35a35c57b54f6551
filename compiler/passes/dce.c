/*
 * dce.c - dead-code elimination and removal of no-op nodes.
 *
 * Identity and Dropout (inference) nodes are bypassed: their consumers read
 * the input directly. A no-op whose output is a graph output stays (the
 * output must be written). Then nodes none of whose outputs are read (by a
 * node or as a graph output) are removed, back to front.
 */
#include "nncc-impl.h"

nncc_status nncc_pass_dce(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int bypassed = 0, removed = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || (n->op != NNCC_OP_Identity && n->op != NNCC_OP_Dropout))
            continue;
        nncc_tensor *y = nncc_out(g, n, 0);
        bool mask_used = n->n_out > 1 && n->out[1] >= 0 && nncc_tensor_uses(g, n->out[1]) > 0;
        if (!y || y->is_output || mask_used || n->in[0] < 0)
            continue;
        nncc_replace_uses(g, n->out[0], n->in[0]);
        n->dead = true;
        bypassed++;
    }
    /* back to front: a node is live if any output is used by a live node */
    int *uses = nncc_alloc_array(g->ctx, (size_t)g->n_t + 1, sizeof(int));
    if (!uses)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < g->n_t; t++)
        uses[t] = g->t[t].is_output;
    for (int i = g->n_n - 1; i >= 0; i--) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            continue;
        bool live = false;
        for (int k = 0; k < n->n_out; k++)
            live |= n->out[k] >= 0 && uses[n->out[k]] > 0;
        if (!live) {
            n->dead = true;
            removed++;
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                uses[n->in[k]]++;
        if (n->fused_add >= 0)
            uses[n->fused_add]++;
    }
    nncc_graph_compact(g);
    if (bypassed || removed)
        nncc_report(g, "dce", "%d Identity/Dropout bypassed, %d unused node%s removed", bypassed, removed,
                    removed == 1 ? "" : "s");
    return NNCC_OK;
}
