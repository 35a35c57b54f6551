/*
 * reshape.c - Transpose and Reshape chains that cancel or merge.
 *
 *   Transpose(p1) -> Transpose(p2)     one Transpose with the composed perm
 *                                      p[i] = p1[p2[i]]; none if that is the
 *                                      identity
 *   Transpose with the identity perm   removed
 *   Transpose that moves only dims of size 1
 *                                      a Reshape (the bytes keep their order);
 *                                      not with a symbolic batch (see below)
 *   Reshape/Flatten/Squeeze/Unsqueeze -> Reshape/Flatten/Squeeze/Unsqueeze
 *                                      one Reshape to the last one's shape
 *   any of those whose output shape equals its input shape
 *                                      removed
 *
 * One sweep in topological order: a node that absorbs its producer is looked
 * at again as the producer of the next one, so chains of any length
 * collapse. A rewrite needs the intermediate tensor to have one reader and
 * not be a graph output (nncc_sole_reader). A removed node's readers read
 * its input instead; when its output is a graph output (which must be
 * written), a Transpose becomes an Identity (a copy) and a reshape stays.
 *
 * Symbolic batch: the model is compiled for one sample (compile.c), so these
 * rewrites are made at batch 1. Merged Reshapes and composed Transposes
 * compute exactly what the chain did, at any batch; compile.c's batch check,
 * which compares the optimised graph's tensors with the model inferred at
 * batch 2, still sees every tensor that remains. A Transpose moving dims of
 * size 1 could move the batch dim (size 1 here, not at run time), so that
 * one is not turned into a Reshape when the batch is symbolic.
 *
 * Precondition: shapes inferred, nodes in topological order.
 */
#include "nncc-impl.h"

#include <string.h>

static bool is_reshape_like(const nncc_node *n)
{
    return n->op == NNCC_OP_Reshape || n->op == NNCC_OP_Flatten || n->op == NNCC_OP_Squeeze ||
           n->op == NNCC_OP_Unsqueeze;
}

static bool is_identity(const int64_t *perm, int r)
{
    for (int i = 0; i < r; i++)
        if (perm[i] != i)
            return false;
    return true;
}

/* Makes n a Reshape of tensor x to n's own output shape (a new int64
 * constant); the output shape must not change. Returns 1 if done, 0 if the
 * shape cannot be written as a Reshape target (empty tensors, where a 0
 * would mean "copy this dim"), -1 on OOM. */
static int make_reshape(nncc_graph *g, nncc_node *n, int x)
{
    nncc_shape ys = nncc_out(g, n, 0)->shape;
    if (nncc_shape_count(&ys) == 0 || ys.rank == 0)
        return 0;
    nncc_shape s = { 1, { ys.rank } };
    const char *name = nncc_fmt(g->ctx, "%s.shape", n->name);
    int t = name ? nncc_tensor_new_unique(g, name) : -1;
    if (t < 0 || nncc_tensor_set_data(g, t, NNCC_DT_I64, &s, ys.d) != NNCC_OK ||
        nncc_node_resize_inputs(g, n, 2) != NNCC_OK)
        return -1;
    n->op = NNCC_OP_Reshape;
    n->opset = n->opset < 14 ? 14 : n->opset; /* shape as an input (opset >= 5), allowzero = 0 */
    n->n_attr = 0;
    n->in[0] = x;
    n->in[1] = t;
    NNCC_ASSERT(nncc_ops[n->op]->infer(g, n) == NNCC_OK && nncc_shape_eq(&nncc_out(g, n, 0)->shape, &ys));
    return 1;
}

/* Removes n (a Transpose or reshape whose output equals its input): its
 * readers read its input. A graph output must still be written: a
 * Transpose becomes an Identity (a copy), a reshape stays (it is one).
 * Returns whether n changed. */
static bool bypass(nncc_graph *g, nncc_node *n)
{
    if (nncc_out(g, n, 0)->is_output) {
        if (n->op != NNCC_OP_Transpose)
            return false;
        n->op = NNCC_OP_Identity;
        n->n_in = 1;
        n->n_attr = 0;
        return true;
    }
    nncc_replace_uses(g, n->out[0], n->in[0]);
    n->dead = true;
    return true;
}

/* The producer of n's input 0 if it is live, of op kind `want` (NULL: any
 * reshape), and n is the only reader of the tensor between them. */
static nncc_node *chain_producer(nncc_graph *g, nncc_node *n, int want)
{
    int x = n->in[0], pi = g->t[x].producer;
    if (pi < 0 || g->n[pi].dead || g->n[pi].n_out != 1 || g->n[pi].out[0] != x || nncc_sole_reader(g, x) != n)
        return NULL;
    nncc_node *p = &g->n[pi];
    return (want >= 0 ? p->op == want : is_reshape_like(p)) ? p : NULL;
}

/* Whether perm moves only dims of size 1 (the others keep their order). */
static bool moves_only_ones(const nncc_shape *x, const int64_t *perm)
{
    int64_t last = -1;
    for (int i = 0; i < x->rank; i++) {
        if (x->d[perm[i]] == 1)
            continue;
        if (perm[i] < last)
            return false;
        last = perm[i];
    }
    return true;
}

nncc_status nncc_pass_reshape(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int cancelled = 0, composed = 0, ident = 0, to_reshape = 0, merged = 0, noop = 0;
    int *orig = nncc_alloc_array(g->ctx, (size_t)g->n_n + 1, sizeof(int));
    if (!orig)
        return NNCC_ERR_NOMEM;
    for (int i = 0; i < g->n_n; i++)
        orig[i] = g->n[i].op; /* ops as in the model, for the notes of what merged */
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
            continue;
        if (n->op == NNCC_OP_Transpose) {
            int r = nncc_in(g, n, 0)->shape.rank;
            int64_t perm[NNCC_MAX_RANK];
            if (nncc_transpose_perm(g, n, perm) != NNCC_OK)
                return NNCC_ERR_INPUT;
            nncc_node *p = chain_producer(g, n, NNCC_OP_Transpose);
            int64_t p1[NNCC_MAX_RANK];
            if (p && nncc_transpose_perm(g, p, p1) == NNCC_OK) {
                for (int k = 0; k < r; k++)
                    perm[k] = p1[perm[k]];
                n->in[0] = p->in[0];
                if (nncc_attr_set_ints(g, n, "perm", perm, r) != NNCC_OK)
                    return NNCC_ERR_NOMEM;
                nncc_note_fused(g, n, p);
                p->dead = true;
                if (is_identity(perm, r))
                    cancelled++;
                else
                    composed++;
            }
            if (is_identity(perm, r)) {
                if (bypass(g, n) && !p)
                    ident++;
                continue;
            }
            if (g->batch_symbolic || !moves_only_ones(&nncc_in(g, n, 0)->shape, perm))
                continue;
            int done = make_reshape(g, n, n->in[0]);
            if (done < 0)
                return NNCC_ERR_NOMEM;
            to_reshape += done;
            if (!done)
                continue;
        }
        if (!is_reshape_like(n))
            continue;
        nncc_node *p = chain_producer(g, n, -1);
        if (p) {
            int done = make_reshape(g, n, p->in[0]);
            if (done < 0)
                return NNCC_ERR_NOMEM;
            if (done) {
                p->op = orig[p - g->n]; /* dead from here on: named by its model op */
                nncc_note_fused(g, n, p);
                p->dead = true;
                merged++;
            }
        }
        if (nncc_shape_eq(&nncc_in(g, n, 0)->shape, &nncc_out(g, n, 0)->shape) && bypass(g, n))
            noop++;
    }
    nncc_graph_compact(g);
    if (cancelled || composed || ident)
        nncc_report(g, "reshape", "%d Transpose pair%s cancelled, %d composed into one Transpose, %d identity "
                    "Transpose%s removed", cancelled, cancelled == 1 ? "" : "s", composed, ident,
                    ident == 1 ? "" : "s");
    if (to_reshape)
        nncc_report(g, "reshape", "%d Transpose%s of size-1 dims made a Reshape (no copy)", to_reshape,
                    to_reshape == 1 ? "" : "s");
    if (merged || noop)
        nncc_report(g, "reshape", "%d Reshape/Flatten/Squeeze/Unsqueeze merged into the next one, %d "
                    "that changed no shape removed", merged, noop);
    return NNCC_OK;
}
