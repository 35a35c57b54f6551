/*
 * verify.c - the IR checker run between passes. It catches compiler bugs
 * (a pass that broke the graph), so its failures are internal errors that
 * name the pass, not user errors.
 */
#include "nncc-impl.h"

static nncc_status bad(nncc_graph *g, const char *pass, const nncc_node *n, const char *what)
{
    nncc_error(g, n, "internal error: IR invalid after pass '%s': %s", pass, what);
    return NNCC_ERR_INPUT;
}

nncc_status nncc_graph_verify(nncc_graph *g, const char *pass)
{
    bool *ready = nncc_alloc_array(g->ctx, (size_t)g->n_t + 1, sizeof(bool));
    if (!ready)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < g->n_t; t++)
        ready[t] = g->t[t].is_input || g->t[t].data;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            return bad(g, pass, n, "dead node left in the graph");
        if (n->op < 0 || n->op >= NNCC_OP_COUNT)
            return bad(g, pass, n, "op out of range");
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t < -1 || t >= g->n_t)
                return bad(g, pass, n, "input index out of range");
            if (t >= 0 && !ready[t])
                return bad(g, pass, n, "reads a tensor before it is written (order broken)");
        }
        for (int k = 0; k < n->n_out; k++) {
            int t = n->out[k];
            if (t < -1 || t >= g->n_t)
                return bad(g, pass, n, "output index out of range");
            if (t >= 0) {
                if (!g->t[t].has_shape)
                    return bad(g, pass, n, "output without shape");
                ready[t] = true;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!ready[g->outputs[i]])
            return bad(g, pass, NULL, "a graph output is never written");
    /* shared storage (memplan): each alias_of chain ends (at most n_t links)
     * and each tensor lies inside what it aliases */
    for (int t = 0; t < g->n_t; t++) {
        int u = t, links = 0;
        for (; g->t[u].alias_of >= 0 && links <= g->n_t; links++) {
            const nncc_tensor *x = &g->t[u], *up = x->alias_of < g->n_t ? &g->t[x->alias_of] : NULL;
            if (!up)
                return bad(g, pass, NULL, "alias_of out of range");
            int64_t xb = x->has_shape ? nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype) : 0;
            int64_t ub = up->has_shape ? nncc_shape_count(&up->shape) * (int64_t)nncc_dtype_size(up->dtype) : 0;
            if (x->alias_offset < 0 || x->alias_offset + xb > ub)
                return bad(g, pass, NULL, nncc_fmt(g->ctx, "'%s' lies outside '%s', which it aliases", x->name,
                                                  up->name));
            u = x->alias_of;
        }
        if (links > g->n_t)
            return bad(g, pass, NULL, nncc_fmt(g->ctx, "alias_of of '%s' loops", g->t[t].name));
    }
    return NNCC_OK;
}
