/*
 * schedule.c - memory-aware node order. A branching graph (Inception,
 * DenseNet, U-Net, a residual block's two paths) can run its nodes in many
 * topological orders, and the bytes live at the peak depend on the order.
 *
 * The pass builds a few candidate orders with list scheduling (Kahn's
 * algorithm, choosing among the ready nodes by a rule), plans the arena for
 * each with the greedy planner (nncc_memplan_try) and keeps the order with
 * the smallest arena; the model's own order wins ties, so a chain is never
 * touched. The rules:
 *
 *   freed bytes   the ready node that frees the most bytes net of what it
 *                 allocates (greedy by freed bytes)
 *   depth first   the ready node that reads what was computed last, so a
 *                 branch is finished before the next one starts
 *
 * Neither is optimal (that is NP-hard in general); both are cheap and fix
 * the common case of a model file listing all branches breadth first.
 * Precondition: the graph is in a topological order; it stays in one.
 */
#include "nncc-impl.h"

#include <string.h>

enum { RULE_FREED, RULE_DEPTH, N_RULES };
static const char *const rule_names[N_RULES] = { "freed bytes", "depth first" };

/* Bytes a tensor takes in the arena when it is computed (0: not in the arena). */
static int64_t arena_bytes(const nncc_graph *g, int t)
{
    const nncc_tensor *x = &g->t[t];
    if (x->data || x->is_input || x->is_output || !x->has_shape)
        return 0;
    return nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
}

/* One list schedule: writes node indices into order[]. */
static nncc_status list_schedule(nncc_graph *g, int rule, int *order)
{
    nncc_ctx *ctx = g->ctx;
    int N = g->n_n, T = g->n_t;
    int *pending = nncc_alloc_array(ctx, (size_t)N + 1, sizeof(int));    /* unmet inputs per node */
    int *readers = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));    /* unscheduled readers per tensor */
    int *made_at = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));    /* step that computed it, -1 */
    bool *done = nncc_alloc_array(ctx, (size_t)N + 1, sizeof(bool));
    bool *avail = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(bool));
    if (!pending || !readers || !made_at || !done || !avail)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < T; t++) {
        made_at[t] = -1;
        avail[t] = g->t[t].producer < 0;
    }
    for (int i = 0; i < N; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t >= 0) {
                readers[t]++;
                pending[i] += !avail[t];
            }
        }
    }
    for (int s = 0; s < N; s++) {
        int best = -1;
        int64_t best_key = 0;
        for (int i = 0; i < N; i++) {
            if (done[i] || pending[i])
                continue;
            nncc_node *n = &g->n[i];
            int64_t key = 0;
            if (rule == RULE_FREED) {
                for (int k = 0; k < n->n_out; k++)
                    if (n->out[k] >= 0)
                        key -= arena_bytes(g, n->out[k]);
                for (int k = 0; k <= n->n_in; k++) {
                    int t = k < n->n_in ? n->in[k] : n->fused_add;
                    /* freed when this is its last reader (counting repeats once) */
                    int uses = 0;
                    for (int j = 0; j <= n->n_in; j++)
                        uses += (j < n->n_in ? n->in[j] : n->fused_add) == t;
                    bool first_mention = true;
                    for (int j = 0; j < k; j++)
                        first_mention &= n->in[j] != t;
                    if (t >= 0 && first_mention && readers[t] == uses)
                        key += arena_bytes(g, t);
                }
            } else {
                for (int k = 0; k <= n->n_in; k++) {
                    int t = k < n->n_in ? n->in[k] : n->fused_add;
                    if (t >= 0 && made_at[t] > key)
                        key = made_at[t];
                }
            }
            if (best < 0 || key > best_key) {
                best = i;
                best_key = key;
            }
        }
        NNCC_ASSERT(best >= 0); /* the graph is acyclic: something is always ready */
        nncc_node *n = &g->n[best];
        done[best] = true;
        order[s] = best;
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t >= 0)
                readers[t]--;
        }
        for (int k = 0; k < n->n_out; k++) {
            int t = n->out[k];
            if (t < 0 || avail[t])
                continue;
            avail[t] = true;
            made_at[t] = s + 1;
            for (int i = 0; i < N; i++) {
                nncc_node *m = &g->n[i];
                for (int j = 0; j <= m->n_in; j++)
                    if ((j < m->n_in ? m->in[j] : m->fused_add) == t)
                        pending[i]--;
            }
        }
    }
    return NNCC_OK;
}

nncc_status nncc_pass_schedule(nncc_graph *g, const nncc_options *o)
{
    int N = g->n_n;
    if (N < 3)
        return NNCC_OK;
    int *order = nncc_alloc_array(g->ctx, (size_t)N, sizeof(int));
    int *best_order = nncc_alloc_array(g->ctx, (size_t)N, sizeof(int));
    if (!order || !best_order)
        return NNCC_ERR_NOMEM;
    int64_t arena0, bound0, best, bound;
    nncc_status st = nncc_memplan_try(g, o, NULL, &arena0, &bound0);
    if (st != NNCC_OK)
        return st;
    best = arena0;
    int best_rule = -1;
    for (int r = 0; r < N_RULES; r++) {
        st = list_schedule(g, r, order);
        if (st != NNCC_OK)
            return st;
        bool same = true;
        for (int i = 0; i < N && same; i++)
            same = order[i] == i;
        if (same)
            continue;
        int64_t a;
        st = nncc_memplan_try(g, o, order, &a, &bound);
        if (st != NNCC_OK)
            return st;
        if (a < best) {
            best = a;
            best_rule = r;
            memcpy(best_order, order, (size_t)N * sizeof *order);
        }
    }
    if (best_rule < 0) {
        nncc_report(g, "schedule", "kept the model's order (greedy arena %lld bytes, lower bound %lld)",
                    (long long)arena0, (long long)bound0);
        return NNCC_OK;
    }
    nncc_node *sorted = nncc_alloc_array(g->ctx, (size_t)g->cap_n, sizeof(nncc_node));
    if (!sorted)
        return NNCC_ERR_NOMEM;
    for (int i = 0; i < N; i++)
        sorted[i] = g->n[best_order[i]];
    memcpy(g->n, sorted, (size_t)N * sizeof *sorted);
    nncc_graph_compact(g); /* recomputes the producers */
    nncc_report(g, "schedule", "reordered by %s: greedy arena %lld -> %lld bytes (lower bound of the model's order %lld)",
                rule_names[best_rule], (long long)arena0, (long long)best, (long long)bound0);
    return NNCC_OK;
}
