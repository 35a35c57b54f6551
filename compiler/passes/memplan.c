/*
 * memplan.c - static memory planning: every intermediate tensor gets an
 * offset in one arena, decided at compile time. See memplan.h for the
 * algorithm and its limits.
 *
 * The graph pass computes lifetimes over the node order: a tensor is live
 * from the step of its producer to the step of its last reader. Views
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity) share their input's
 * storage, so the storage lives until the last reader of any view. Graph
 * inputs and outputs are the caller's buffers and are not in the arena;
 * constants are weights. An output that is a view of an input, a constant or
 * another output is copied instead (the node gets alias_of = -1).
 */
#include "memplan.h"
#include "nncc-impl.h"

#include <stdlib.h>
#include <string.h>

void nncc_plan_init(nncc_plan *p, int64_t align)
{
    memset(p, 0, sizeof *p);
    p->align = align > 0 ? align : 16;
}

void nncc_plan_free(nncc_plan *p)
{
    free(p->b);
    memset(p, 0, sizeof *p);
}

int nncc_plan_add(nncc_plan *p, int64_t size, int first, int last)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        nncc_plan_buf *b = realloc(p->b, (size_t)cap * sizeof *b);
        if (!b)
            return -1;
        p->b = b;
        p->cap = cap;
    }
    nncc_plan_buf *b = &p->b[p->n];
    b->size = (size + p->align - 1) & ~(p->align - 1);
    b->first = first;
    b->last = last;
    b->offset = -1;
    return p->n++;
}

static bool lives_overlap(const nncc_plan_buf *a, const nncc_plan_buf *b)
{
    return a->first <= b->last && b->first <= a->last;
}

static int by_size_desc(const void *x, const void *y)
{
    const nncc_plan_buf *a = *(const nncc_plan_buf *const *)x, *b = *(const nncc_plan_buf *const *)y;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int by_offset(const void *x, const void *y)
{
    const nncc_plan_buf *a = *(const nncc_plan_buf *const *)x, *b = *(const nncc_plan_buf *const *)y;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return a < b ? -1 : a > b;
}

bool nncc_plan_solve(nncc_plan *p)
{
    nncc_plan_buf **order = malloc(((size_t)p->n + 1) * sizeof *order);
    nncc_plan_buf **placed = malloc(((size_t)p->n + 1) * sizeof *placed);
    if (!order || !placed) {
        free(order);
        free(placed);
        return false;
    }
    for (int i = 0; i < p->n; i++) {
        order[i] = &p->b[i];
        p->b[i].offset = -1;
    }
    qsort(order, (size_t)p->n, sizeof *order, by_size_desc);
    p->arena = 0;
    for (int i = 0; i < p->n; i++) {
        nncc_plan_buf *b = order[i];
        int np = 0;
        for (int j = 0; j < i; j++)
            if (lives_overlap(order[j], b))
                placed[np++] = order[j];
        qsort(placed, (size_t)np, sizeof *placed, by_offset);
        /* best fit: the smallest gap that holds b; else the end */
        int64_t best = -1, best_gap = INT64_MAX, cur = 0;
        for (int j = 0; j < np; j++) {
            int64_t gap = placed[j]->offset - cur;
            if (gap >= b->size && gap < best_gap) {
                best = cur;
                best_gap = gap;
            }
            int64_t end = placed[j]->offset + placed[j]->size;
            if (end > cur)
                cur = end;
        }
        b->offset = best >= 0 ? best : cur;
        if (b->offset + b->size > p->arena)
            p->arena = b->offset + b->size;
    }
    free(order);
    free(placed);
    return true;
}

int64_t nncc_plan_lower_bound(const nncc_plan *p)
{
    int steps = 0;
    for (int i = 0; i < p->n; i++)
        if (p->b[i].last + 1 > steps)
            steps = p->b[i].last + 1;
    int64_t best = 0;
    for (int s = 0; s < steps; s++) {
        int64_t live = 0;
        for (int i = 0; i < p->n; i++)
            if (p->b[i].first <= s && s <= p->b[i].last)
                live += p->b[i].size;
        if (live > best)
            best = live;
    }
    return best;
}

bool nncc_plan_any_overlap(const nncc_plan *p)
{
    for (int i = 0; i < p->n; i++)
        for (int j = i + 1; j < p->n; j++) {
            const nncc_plan_buf *a = &p->b[i], *b = &p->b[j];
            if (lives_overlap(a, b) && a->size && b->size && a->offset < b->offset + b->size &&
                b->offset < a->offset + a->size)
                return true;
        }
    return false;
}

/* Storage root of a tensor: follows views. */
static int root_of(const nncc_graph *g, int t)
{
    while (g->t[t].alias_of >= 0)
        t = g->t[t].alias_of;
    return t;
}

nncc_status nncc_pass_memplan(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int T = g->n_t;
    for (int t = 0; t < T; t++) {
        g->t[t].alias_of = -1;
        g->t[t].offset = -1;
    }
    /* views share storage, except where an output would alias something the
     * caller owns or another output: then the view node copies */
    bool *claimed = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(bool));
    int *first = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int *last = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    if (!claimed || !first || !last)
        return NNCC_ERR_NOMEM;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (!(nncc_ops[n->op]->flags & NNCC_OPF_VIEW) || n->in[0] < 0 || n->out[0] < 0)
            continue;
        int y = n->out[0], r = root_of(g, n->in[0]);
        if (g->t[y].is_output) {
            nncc_tensor *rt = &g->t[r];
            if (rt->is_input || rt->is_output || rt->data || claimed[r])
                continue; /* copy */
            claimed[r] = true;
        }
        g->t[y].alias_of = n->in[0];
    }
    for (int t = 0; t < T; t++) {
        first[t] = -1;
        last[t] = -1;
    }
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) {
                int r = root_of(g, n->out[k]);
                if (first[r] < 0)
                    first[r] = i;
                if (last[r] < i)
                    last[r] = i;
            }
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t >= 0) {
                int r = root_of(g, t);
                if (last[r] < i)
                    last[r] = i;
            }
        }
    }
    nncc_plan plan;
    nncc_plan_init(&plan, 16);
    int *buf = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int *sbuf = nncc_alloc_array(g->ctx, (size_t)g->n_n + 1, sizeof(int));
    if (!buf || !sbuf)
        return NNCC_ERR_NOMEM;
    /* kernels' scratch memory: live during its node only */
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        int64_t bytes = nncc_ops[n->op]->scratch ? nncc_ops[n->op]->scratch(g, n) : 0;
        n->scratch_offset = -1;
        sbuf[i] = bytes > 0 ? nncc_plan_add(&plan, bytes, i, i) : -1;
        if (bytes > 0 && sbuf[i] < 0) {
            nncc_plan_free(&plan);
            return NNCC_ERR_NOMEM;
        }
    }
    /* a root that is a view of an output (claimed) lives in the caller's buffer */
    int64_t naive = 0;
    for (int t = 0; t < T; t++) {
        nncc_tensor *x = &g->t[t];
        buf[t] = -1;
        if (x->alias_of >= 0 || x->data || x->is_input || x->is_output || first[t] < 0 || claimed[t])
            continue;
        int64_t bytes = nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
        naive += bytes;
        buf[t] = nncc_plan_add(&plan, bytes, first[t], last[t]);
        if (buf[t] < 0) {
            nncc_plan_free(&plan);
            return NNCC_ERR_NOMEM;
        }
    }
    if (!nncc_plan_solve(&plan)) {
        nncc_plan_free(&plan);
        return NNCC_ERR_NOMEM;
    }
    for (int t = 0; t < T; t++)
        if (buf[t] >= 0)
            g->t[t].offset = plan.b[buf[t]].offset;
    for (int i = 0; i < g->n_n; i++)
        if (sbuf[i] >= 0)
            g->n[i].scratch_offset = plan.b[sbuf[i]].offset;
    /* claimed roots: stored in the output that views them */
    for (int t = 0; t < T; t++) {
        if (g->t[t].is_output && g->t[t].alias_of >= 0) {
            int r = root_of(g, t);
            g->t[r].alias_of = t;   /* the root now lives in the output's buffer */
            g->t[t].alias_of = -1;
        }
    }
    g->arena_size = plan.arena;
    nncc_report(g, "memplan", "arena %lld bytes (lower bound %lld, sum of intermediates %lld)",
                (long long)plan.arena, (long long)nncc_plan_lower_bound(&plan), (long long)naive);
    nncc_plan_free(&plan);
    return NNCC_OK;
}
