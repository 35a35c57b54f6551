/*
 * memplan.c - static memory planning: every intermediate tensor gets an
 * offset in one arena, decided at compile time. The planner's algorithm is
 * described in memplan.h; the graph pass is at the end of this file.
 *
 * The graph pass computes lifetimes over the node order: a tensor is live
 * from the step of its producer to the step of its last reader. Views
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity) share their input's
 * storage, so the storage lives until the last reader of any view. An
 * elementwise op (NNCC_OPF_INPLACE) writes its output over input 0 when
 * that is input 0's last use and both have the same type and size (the
 * kernels read element i before writing element i). Graph inputs and
 * outputs are the caller's buffers and are not in the arena; constants are
 * weights; neither is ever written in place. An output that is a view of an
 * input, a constant or another output is copied instead (the node gets
 * alias_of = -1).
 *
 * A Concat input whose bytes are one run in the output is written straight
 * into its slice (plan_slices: alias_of = the output, alias_offset = the
 * slice's start), so the Concat copies nothing for it. The output's storage
 * then lives from the first slice's producer to its last reader (a
 * sub-range of the output's buffer in the planner, for the memory map and
 * the checks); since that can cost more than the copies, the plan is made
 * both ways and the smaller arena kept (plan_order). After planning, two
 * checks independent of the planner: no two storages overlap while both
 * live, and inside one storage no two tensors overlap while both are needed
 * unless one is the other's value (a view, a slice).
 */
#include "memplan.h"
#include "nncc-impl.h"

#include <stdlib.h>
#include <string.h>

void nncc_plan_init(nncc_plan *p, int64_t align)
{
    memset(p, 0, sizeof *p);
    p->align = align > 0 ? align : 16;
    p->method = "none";
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
    b->parent = -1;
    b->rel = 0;
    b->offset = -1;
    return p->n++;
}

int nncc_plan_add_sub(nncc_plan *p, int parent, int64_t rel, int64_t size, int first, int last)
{
    if (parent < 0 || parent >= p->n || rel < 0 || rel % p->align || size < 0 || rel + size > p->b[parent].size)
        return -2;
    int id = nncc_plan_add(p, 0, first, last);
    if (id < 0)
        return -1;
    p->b[id].size = size;
    p->b[id].parent = parent;
    p->b[id].rel = rel;
    for (int q = parent; q >= 0; q = p->b[q].parent) {
        if (p->b[q].first > first)
            p->b[q].first = first;
        if (p->b[q].last < last)
            p->b[q].last = last;
    }
    return id;
}

/* Whether buffer a lies inside buffer b (a sub-range of it, at any depth). */
static bool inside(const nncc_plan *p, int a, int b)
{
    for (int q = p->b[a].parent; q >= 0; q = p->b[q].parent)
        if (q == b)
            return true;
    return false;
}

static bool lives_overlap(const nncc_plan_buf *a, const nncc_plan_buf *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* ---- greedy placement ---- */

typedef struct {
    int64_t k1, k2, k3;     /* sort keys, all descending */
    int idx;                /* buffer */
} order_item;

static int by_keys(const void *x, const void *y)
{
    const order_item *a = x, *b = y;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? 1 : -1;
    if (a->k2 != b->k2)
        return a->k2 < b->k2 ? 1 : -1;
    if (a->k3 != b->k3)
        return a->k3 < b->k3 ? 1 : -1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

typedef struct {
    int64_t off, end;       /* a placed buffer's bytes [off, end) */
} span;

static int by_offset(const void *x, const void *y)
{
    const span *a = x, *b = y;
    if (a->off != b->off)
        return a->off < b->off ? -1 : 1;
    return (a->end > b->end) - (a->end < b->end);
}

/* Places buffers in `order`, each in the smallest gap among the buffers live
 * with it (best fit), else on top. Writes off[]; returns the arena. */
static int64_t greedy(const nncc_plan *p, const order_item *order, int64_t *off, span *tmp)
{
    int64_t arena = 0;
    for (int k = 0; k < p->n; k++) {
        int i = order[k].idx;
        const nncc_plan_buf *b = &p->b[i];
        if (b->size == 0) {
            off[i] = 0;
            continue;
        }
        int ns = 0;
        for (int j2 = 0; j2 < k; j2++) {
            int j = order[j2].idx;
            if (p->b[j].size && lives_overlap(&p->b[j], b))
                tmp[ns++] = (span){ off[j], off[j] + p->b[j].size };
        }
        qsort(tmp, (size_t)ns, sizeof *tmp, by_offset);
        int64_t best = -1, best_gap = INT64_MAX, cur = 0;
        for (int j = 0; j < ns; j++) {
            int64_t gap = tmp[j].off - cur;
            if (gap >= b->size && gap < best_gap) {
                best = cur;
                best_gap = gap;
            }
            if (tmp[j].end > cur)
                cur = tmp[j].end;
        }
        off[i] = best >= 0 ? best : cur;
        if (off[i] + b->size > arena)
            arena = off[i] + b->size;
    }
    return arena;
}

/* ---- exact search (see memplan.h) ---- */

typedef uint64_t mask;     /* one bit per search buffer: at most 64 */

typedef struct {
    int n;                  /* buffers in the search (the non-empty ones) */
    int64_t *size;          /* per search buffer */
    mask *conf;             /* per search buffer: the buffers live with it */
    mask *live;             /* per event step: the buffers live then */
    int n_evt;
    int64_t *off;           /* current offsets */
    int64_t *floor;         /* (n + 1) x n: per depth, the top of the placed buffers each is live with */
    int *cand;              /* (n + 1) x n: per depth, candidates */
    int64_t best;           /* best arena so far */
    int64_t *best_off;
    long nodes, budget;
    bool stopped;           /* budget used up */
} search;

static int ctz64(mask m)
{
    int k = 0;
    while (!(m & 1)) {
        m >>= 1;
        k++;
    }
    return k;
}

static void dfs(search *s, int depth, mask placed, int64_t L, int lastk, int64_t maxtop)
{
    int n = s->n;
    if (depth == n) {
        if (maxtop < s->best) {
            s->best = maxtop;
            memcpy(s->best_off, s->off, (size_t)n * sizeof *s->off);
        }
        return;
    }
    if (s->stopped)
        return;
    if (++s->nodes > s->budget) {
        s->stopped = true;
        return;
    }
    const int64_t *fl = s->floor + (size_t)depth * (size_t)n;
    mask unplaced = ~placed & (n == 64 ? ~(mask)0 : (((mask)1 << n) - 1));
    /* bound: each unplaced buffer ends at least at max(floor, L) + size ... */
    int64_t bound = maxtop;
    for (mask m = unplaced; m; m &= m - 1) {
        int k = ctz64(m);
        int64_t v = (fl[k] > L ? fl[k] : L) + s->size[k];
        if (v > bound)
            bound = v;
        /* a buffer below L with nothing left to lift it can never be placed */
        if (fl[k] < L && !(s->conf[k] & unplaced))
            return;
    }
    /* ... and at every step, the unplaced bytes live there stack above L */
    for (int e = 0; e < s->n_evt && bound < s->best; e++) {
        int64_t sum = L;
        for (mask m = s->live[e]; m; m &= m - 1) {
            int k = ctz64(m);
            if (unplaced >> k & 1)
                sum += s->size[k];
            else if (s->off[k] + s->size[k] > L)
                sum += s->off[k] + s->size[k] - L;
        }
        if (sum > bound)
            bound = sum;
    }
    if (bound >= s->best)
        return;
    /* candidates: offsets non-decreasing, ties in index order */
    int *cand = s->cand + (size_t)depth * (size_t)n, nc = 0;
    for (mask m = unplaced; m; m &= m - 1) {
        int k = ctz64(m);
        if (fl[k] > L || (fl[k] == L && k > lastk))
            cand[nc++] = k;
    }
    /* lowest first, then largest (insertion sort: n is small) */
    for (int a = 1; a < nc; a++) {
        int k = cand[a], b = a - 1;
        while (b >= 0 && (fl[cand[b]] > fl[k] || (fl[cand[b]] == fl[k] && s->size[cand[b]] < s->size[k]))) {
            cand[b + 1] = cand[b];
            b--;
        }
        cand[b + 1] = k;
    }
    int64_t *nf = s->floor + (size_t)(depth + 1) * (size_t)n;
    for (int c = 0; c < nc && !s->stopped; c++) {
        int k = cand[c];
        int64_t top = fl[k] + s->size[k];
        if (top >= s->best)
            continue;
        s->off[k] = fl[k];
        memcpy(nf, fl, (size_t)n * sizeof *nf);
        for (mask m = s->conf[k] & unplaced; m; m &= m - 1) {
            int j = ctz64(m);
            if (nf[j] < top)
                nf[j] = top;
        }
        dfs(s, depth + 1, placed | (mask)1 << k, fl[k], k, top > maxtop ? top : maxtop);
    }
}

/* Runs the exact search over the non-empty buffers, improving off[] and
 * returning the arena; *proven: the search finished. false: out of memory. */
static bool exact(nncc_plan *p, int64_t *off, int64_t *arena, bool *proven)
{
    int n = 0, *id = malloc(((size_t)p->n + 1) * sizeof *id);
    if (!id)
        return false;
    for (int i = 0; i < p->n; i++)
        if (p->b[i].size)
            id[n++] = i;
    search s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.size = malloc(((size_t)n + 1) * sizeof *s.size);
    s.conf = calloc((size_t)n + 1, sizeof *s.conf);
    s.live = calloc((size_t)n + 1, sizeof *s.live);
    s.off = calloc((size_t)n + 1, sizeof *s.off);
    s.best_off = calloc((size_t)n + 1, sizeof *s.best_off);
    s.floor = calloc(((size_t)n + 1) * ((size_t)n + 1), sizeof *s.floor);
    s.cand = calloc(((size_t)n + 1) * ((size_t)n + 1), sizeof *s.cand);
    bool ok = s.size && s.conf && s.live && s.off && s.best_off && s.floor && s.cand;
    if (ok) {
        for (int a = 0; a < n; a++) {
            const nncc_plan_buf *ba = &p->b[id[a]];
            s.size[a] = ba->size;
            for (int b = 0; b < n; b++)
                if (b != a && lives_overlap(ba, &p->b[id[b]]))
                    s.conf[a] |= (mask)1 << b;
            /* the live set is largest at some buffer's first step */
            mask lv = 0;
            for (int b = 0; b < n; b++)
                if (p->b[id[b]].first <= ba->first && ba->first <= p->b[id[b]].last)
                    lv |= (mask)1 << b;
            bool dup = false;
            for (int e = 0; e < s.n_evt && !dup; e++)
                dup = s.live[e] == lv;
            if (!dup)
                s.live[s.n_evt++] = lv;
        }
        s.best = *arena;
        s.budget = p->budget;
        dfs(&s, 0, 0, 0, -1, 0);
        if (s.best < *arena) {
            *arena = s.best;
            for (int a = 0; a < n; a++)
                off[id[a]] = s.best_off[a];
        }
        *proven = !s.stopped;
        p->nodes = s.nodes;
    }
    free(s.size);
    free(s.conf);
    free(s.live);
    free(s.off);
    free(s.best_off);
    free(s.floor);
    free(s.cand);
    free(id);
    return ok;
}

/* Plans buffers none of which is a sub-range. */
static bool solve_tops(nncc_plan *p)
{
    static const char *const names[] = { "greedy by size", "greedy by conflicts", "greedy by start",
                                          "greedy by lifetime" };
    int n = p->n;
    order_item *order = malloc(((size_t)n + 1) * sizeof *order);
    span *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
    int64_t *off = malloc(((size_t)n + 1) * sizeof *off), *conflict = calloc((size_t)n + 1, sizeof *conflict);
    bool ok = order && tmp && off && conflict;
    p->arena = 0;
    p->optimal = n == 0;
    p->method = "none";
    p->nodes = 0;
    for (int i = 0; ok && i < n; i++) {
        p->b[i].offset = 0;
        for (int j = 0; j < n; j++)
            if (lives_overlap(&p->b[i], &p->b[j]))
                conflict[i] += p->b[j].size;
    }
    int64_t best = INT64_MAX;
    for (int h = 0; ok && n && h < (int)(sizeof names / sizeof names[0]); h++) {
        for (int i = 0; i < n; i++) {
            const nncc_plan_buf *b = &p->b[i];
            order_item it = { b->size, 0, 0, i };
            if (h == 1)
                it = (order_item){ conflict[i], b->size, 0, i };
            else if (h == 2)
                it = (order_item){ -(int64_t)b->first, b->size, 0, i };
            else if (h == 3)
                it = (order_item){ b->last - b->first, b->size, 0, i };
            order[i] = it;
        }
        qsort(order, (size_t)n, sizeof *order, by_keys);
        int64_t a = greedy(p, order, off, tmp);
        if (a < best) {
            best = a;
            p->method = names[h];
            for (int i = 0; i < n; i++)
                p->b[i].offset = off[i];
        }
    }
    if (ok && n) {
        p->arena = p->greedy_arena = best;
        int64_t bound = nncc_plan_lower_bound(p);
        p->optimal = best == bound;
        int nonempty = 0;
        for (int i = 0; i < n; i++)
            nonempty += p->b[i].size > 0;
        if (!p->optimal && p->budget > 0 && nonempty <= NNCC_PLAN_EXACT_MAX) {
            for (int i = 0; i < n; i++)
                off[i] = p->b[i].offset;
            int64_t a = best;
            bool proven = false;
            ok = exact(p, off, &a, &proven);
            if (ok) {
                p->optimal = proven;
                if (a < best) {
                    p->method = "exact search";
                    p->arena = a;
                    for (int i = 0; i < n; i++)
                        p->b[i].offset = off[i];
                }
            }
        }
    }
    free(order);
    free(tmp);
    free(off);
    free(conflict);
    return ok;
}

/* Plans the outermost buffers (in a plan of their own when there are
 * sub-ranges), then puts each sub-range at its parent's offset plus rel. */
bool nncc_plan_solve(nncc_plan *p)
{
    int subs = 0;
    for (int i = 0; i < p->n; i++)
        subs += p->b[i].parent >= 0;
    if (!subs)
        return solve_tops(p);
    nncc_plan q = *p;
    q.b = malloc(((size_t)p->n + 1) * sizeof *q.b);
    if (!q.b)
        return false;
    q.n = q.cap = 0;
    for (int i = 0; i < p->n; i++)
        if (p->b[i].parent < 0)
            q.b[q.n++] = p->b[i];
    bool ok = solve_tops(&q);
    for (int i = 0, k = 0; ok && i < p->n; i++)
        p->b[i].offset = p->b[i].parent < 0 ? q.b[k++].offset : p->b[p->b[i].parent].offset + p->b[i].rel;
    p->arena = q.arena;
    p->optimal = q.optimal;
    p->method = q.method;
    p->nodes = q.nodes;
    p->greedy_arena = q.greedy_arena;
    free(q.b);
    return ok;
}

int64_t nncc_plan_lower_bound_at(const nncc_plan *p, int *step)
{
    int64_t best = 0;
    int at = -1;
    /* the live total is largest at some buffer's first step */
    for (int i = 0; i < p->n; i++) {
        int s = p->b[i].first;
        int64_t live = 0;
        for (int j = 0; j < p->n; j++)
            if (p->b[j].parent < 0 && p->b[j].first <= s && s <= p->b[j].last)
                live += p->b[j].size;
        if (live > best || (live == best && at >= 0 && s < at)) {
            best = live;
            at = s;
        }
    }
    if (step)
        *step = at;
    return best;
}

int64_t nncc_plan_lower_bound(const nncc_plan *p)
{
    return nncc_plan_lower_bound_at(p, NULL);
}

bool nncc_plan_any_overlap(const nncc_plan *p)
{
    for (int i = 0; i < p->n; i++) {
        const nncc_plan_buf *a = &p->b[i];
        if (a->parent >= 0) {
            const nncc_plan_buf *up = &p->b[a->parent];
            if (a->rel % p->align || a->offset != up->offset + a->rel || a->rel + a->size > up->size ||
                a->first < up->first || a->last > up->last)
                return true;
        }
        for (int j = i + 1; j < p->n; j++) {
            const nncc_plan_buf *b = &p->b[j];
            if (lives_overlap(a, b) && a->size && b->size && a->offset < b->offset + b->size &&
                b->offset < a->offset + a->size && !inside(p, i, j) && !inside(p, j, i))
                return true;
        }
    }
    return false;
}

/* ---- the graph pass ---- */

/* The plan of a graph in one node order, before it is written into the graph. */
typedef struct {
    const int *order;      /* node indices in run order; NULL: the graph's order */
    bool slices;           /* put Concat inputs into their slice of the output */
    int *alias;            /* per tensor: tensor whose storage it shares, -1 none */
    int64_t *aoff;         /* per tensor: bytes from its alias's start to its own (a slice), else 0 */
    bool *slice;           /* per tensor: alias is the Concat output it is written into */
    bool *claimed;         /* per tensor: a root stored in the graph output that views it */
    int *made;             /* per tensor: the step that writes it, -1 none */
    int *first, *last;     /* per root: live steps (positions in the order), inclusive */
    int *buf;              /* per tensor: its buffer in the plan, -1 none */
    int *sub;              /* per slice: its sub-range of the Concat output's buffer, -1 none */
    int *sbuf;             /* per step: the node's kernel scratch buffer in the plan, -1 none */
    int64_t *bytes;        /* per tensor: bytes it holds */
    int64_t naive;         /* sum of the bytes of every arena tensor and scratch */
    int n_inplace;         /* elementwise outputs written over their input */
    int n_slices;          /* Concat inputs written into their slice of the output */
    nncc_plan plan;
} gplan;

static int root_in(const int *alias, int t)
{
    while (alias[t] >= 0)
        t = alias[t];
    return t;
}

static nncc_node *node_at(nncc_graph *g, const gplan *p, int step)
{
    return &g->n[p->order ? p->order[step] : step];
}

/* The root of t's storage and, in *off, t's bytes from the root's start. */
static int root_off(const gplan *p, int t, int64_t *off)
{
    *off = 0;
    while (p->alias[t] >= 0) {
        *off += p->aoff[t];
        t = p->alias[t];
    }
    return t;
}

/* Concat inputs into their slice of the output (when the op says the slice
 * is one run of bytes: nothing but 1s before the axis, so also for a
 * batch-symbolic model, planned per sample). An input qualifies when its
 * storage's root is written by a node (no graph input or constant), is no
 * graph output nor stored in one, holds exactly the input's bytes (itself
 * or what the input is a view of), is not already in the output's storage,
 * the input appears once in the Concat and its slice starts on the
 * alignment. The root then moves into the output's storage. In node order,
 * so a Concat's output is still its own root when its Concat comes, and a
 * Concat of Concats (DenseNet) nests. Done before the lifetimes, so the
 * output's storage lives from its first slice's producer to its last
 * reader, and in-place ops see a slice's true last use. */
static void plan_slices(nncc_graph *g, const nncc_options *o, gplan *p)
{
    for (int s = 0; s < g->n_n; s++) {
        nncc_node *n = node_at(g, p, s);
        if (!nncc_ops[n->op]->in_slice || n->n_out < 1 || n->out[0] < 0)
            continue;
        int y = n->out[0], ry = root_in(p->alias, y);
        if (g->t[ry].data || g->t[ry].is_input)
            continue;
        for (int i = 0; i < n->n_in; i++) {
            int x = n->in[i], uses = 0;
            int64_t at = x >= 0 ? nncc_ops[n->op]->in_slice(g, n, i) : -1, xo;
            if (at < 0 || at % o->align || p->bytes[x] == 0)
                continue;
            for (int k = 0; k < n->n_in; k++)
                uses += n->in[k] == x;
            int r = root_off(p, x, &xo);
            nncc_tensor *tr = &g->t[r];
            if (uses != 1 || xo != 0 || p->bytes[r] != p->bytes[x] || r == ry || tr->producer < 0 || tr->data ||
                tr->is_input || tr->is_output || p->claimed[r])
                continue;
            p->alias[r] = y;
            p->aoff[r] = at;
            p->slice[r] = true;
            p->n_slices++;
        }
    }
}

/* The sub-range buffer of slice t (a tensor in p->slice), made on first use:
 * inside its Concat output's buffer, live from the first write into it to
 * the root's last use. -1: the output is not in the arena; -2: out of memory. */
static int slice_buf(nncc_graph *g, gplan *p, int t, int64_t guard)
{
    if (!p->slice[t])
        return p->buf[t];
    if (p->sub[t] >= 0)
        return p->sub[t];
    int up = slice_buf(g, p, p->alias[t], guard);
    if (up < 0)
        return up;
    int first = p->made[t];
    for (int u = 0; u < g->n_t; u++) {
        int v = u; /* does u's storage chain pass through t? */
        while (v != t && p->alias[v] >= 0)
            v = p->alias[v];
        if (v == t && p->made[u] >= 0 && p->made[u] < first)
            first = p->made[u];
    }
    int64_t rel = p->aoff[t] + (p->slice[p->alias[t]] ? 0 : guard);
    p->sub[t] = nncc_plan_add_sub(&p->plan, up, rel, p->bytes[t], first, p->last[root_in(p->alias, t)]);
    NNCC_ASSERT(p->sub[t] != -2);
    return p->sub[t] >= 0 ? p->sub[t] : -2;
}

/* Views, in-place outputs, lifetimes and the buffers: everything but the offsets. */
static nncc_status plan_lifetimes(nncc_graph *g, const nncc_options *o, gplan *p)
{
    int T = g->n_t;
    nncc_ctx *ctx = g->ctx;
    p->alias = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->aoff = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int64_t));
    p->slice = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(bool));
    p->claimed = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(bool));
    p->made = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->first = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->last = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->buf = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->sub = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int));
    p->bytes = nncc_alloc_array(ctx, (size_t)T + 1, sizeof(int64_t));
    if (!p->alias || !p->aoff || !p->slice || !p->claimed || !p->made || !p->first || !p->last || !p->buf ||
        !p->sub || !p->bytes)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < T; t++) {
        p->alias[t] = p->made[t] = p->first[t] = p->last[t] = p->buf[t] = p->sub[t] = -1;
        p->bytes[t] = g->t[t].has_shape ? nncc_shape_count(&g->t[t].shape) * (int64_t)nncc_dtype_size(g->t[t].dtype) : 0;
    }
    /* views share storage, except where an output would alias something the
     * caller owns or another output: then the view node copies */
    for (int s = 0; s < g->n_n; s++) {
        nncc_node *n = node_at(g, p, s);
        if (!(nncc_ops[n->op]->flags & NNCC_OPF_VIEW) || n->in[0] < 0 || n->out[0] < 0)
            continue;
        int y = n->out[0], r = root_in(p->alias, n->in[0]);
        if (g->t[y].is_output) {
            nncc_tensor *rt = &g->t[r];
            if (rt->is_input || rt->is_output || rt->data || p->claimed[r])
                continue; /* copy */
            p->claimed[r] = true;
        }
        p->alias[y] = n->in[0];
    }
    if (p->slices)
        plan_slices(g, o, p);
    for (int s = 0; s < g->n_n; s++) {
        nncc_node *n = node_at(g, p, s);
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) {
                int r = root_in(p->alias, n->out[k]);
                p->made[n->out[k]] = s;
                if (p->first[r] < 0)
                    p->first[r] = s;
                if (p->last[r] < s)
                    p->last[r] = s;
            }
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t >= 0) {
                int r = root_in(p->alias, t);
                if (p->last[r] < s)
                    p->last[r] = s;
            }
        }
    }
    /* in place: y = f(x, ...) over x when this node is x's storage's last
     * use, both are arena tensors of one type and size, and no residual is
     * fused in (its kernel reads another tensor after writing). Where y is a
     * Concat slice, x (if it is its own storage) goes into y's slice
     * instead: Conv -> Relu -> Concat at -O0 writes the Conv there too. */
    for (int s = 0; s < g->n_n; s++) {
        nncc_node *n = node_at(g, p, s);
        if (!(nncc_ops[n->op]->flags & NNCC_OPF_INPLACE) || n->n_in < 1 || n->n_out < 1 || n->in[0] < 0 ||
            n->out[0] < 0 || n->fused_add >= 0)
            continue;
        int x = n->in[0], y = n->out[0], rx = root_in(p->alias, x);
        nncc_tensor *tx = &g->t[rx], *ty = &g->t[y];
        if (p->slice[y] && rx == x && !tx->data && !tx->is_input && !tx->is_output && !p->claimed[x] &&
            p->first[x] >= 0 && p->last[x] == s && tx->dtype == ty->dtype && p->bytes[x] == p->bytes[y] &&
            root_in(p->alias, y) != x) {
            int ry = root_in(p->alias, y);
            p->alias[x] = y;
            if (p->first[x] < p->first[ry])
                p->first[ry] = p->first[x];
            p->first[x] = p->last[x] = -1;
            p->n_inplace++;
            continue;
        }
        if (tx->data || tx->is_input || tx->is_output || p->claimed[rx] || ty->is_output || p->claimed[y] ||
            p->alias[y] >= 0 || rx == y || p->last[rx] != s || g->t[x].dtype != ty->dtype ||
            p->bytes[x] != p->bytes[y] || p->bytes[rx] < p->bytes[y])
            continue;
        p->alias[y] = x;
        if (p->last[y] > p->last[rx])
            p->last[rx] = p->last[y];
        p->first[y] = p->last[y] = -1;
        p->n_inplace++;
    }
    int64_t guard = o->canary ? (o->align > 16 ? o->align : 16) : 0;
    nncc_plan_init(&p->plan, o->align);
    p->naive = 0;
    /* kernels' scratch memory (im2col blocks, ...): live during its node only */
    p->sbuf = nncc_alloc_array(ctx, (size_t)g->n_n + 1, sizeof(int));
    if (!p->sbuf)
        return NNCC_ERR_NOMEM;
    for (int s = 0; s < g->n_n; s++) {
        nncc_node *n = node_at(g, p, s);
        int64_t bytes = nncc_ops[n->op]->scratch ? nncc_ops[n->op]->scratch(g, n) : 0;
        p->sbuf[s] = -1;
        if (bytes > 0 && (p->sbuf[s] = nncc_plan_add(&p->plan, bytes, s, s)) < 0)
            return NNCC_ERR_NOMEM;
        if (bytes > 0) /* without reuse, each scratch has its own bytes too */
            p->naive += (bytes + o->align - 1) / o->align * o->align;
    }
    for (int t = 0; t < T; t++) {
        nncc_tensor *x = &g->t[t];
        if (p->alias[t] >= 0 || x->data || x->is_input || x->is_output || p->first[t] < 0 || p->claimed[t])
            continue;
        int64_t b = (p->bytes[t] + o->align - 1) / o->align * o->align;
        p->naive += b;
        p->buf[t] = nncc_plan_add(&p->plan, b + 2 * guard, p->first[t], p->last[t]);
        if (p->buf[t] < 0)
            return NNCC_ERR_NOMEM;
    }
    for (int t = 0; t < T; t++)
        if (p->slice[t] && slice_buf(g, p, t, guard) == -2)
            return NNCC_ERR_NOMEM;
    return NNCC_OK;
}

/* Plans the arena in one node order twice, with Concat inputs in their
 * slices and with every Concat copying, and keeps the smaller arena (the
 * slices on a tie: no copies). A slice makes its Concat output's storage
 * live from the slice's producer on, which in a rare order costs more than
 * the copy saves. *other: the arena of the plan not kept (-1: no slices). */
static nncc_status plan_order(nncc_graph *g, const nncc_options *o, const int *order, long budget, gplan *out,
                              int64_t *other)
{
    gplan a, b;
    memset(&a, 0, sizeof a);
    a.order = order;
    a.slices = true;
    nncc_status st = plan_lifetimes(g, o, &a);
    a.plan.budget = budget;
    if (st == NNCC_OK && !nncc_plan_solve(&a.plan))
        st = NNCC_ERR_NOMEM;
    *other = -1;
    if (st != NNCC_OK || a.n_slices == 0) {
        *out = a;
        return st;
    }
    memset(&b, 0, sizeof b);
    b.order = order;
    st = plan_lifetimes(g, o, &b);
    b.plan.budget = budget;
    if (st == NNCC_OK && !nncc_plan_solve(&b.plan))
        st = NNCC_ERR_NOMEM;
    bool keep_b = st == NNCC_OK && b.plan.arena < a.plan.arena;
    *other = keep_b ? a.plan.arena : b.plan.arena;
    nncc_plan_free(keep_b ? &a.plan : &b.plan);
    *out = keep_b ? b : a;
    return st;
}

nncc_status nncc_memplan_try(nncc_graph *g, const nncc_options *o, const int *order, int64_t *arena,
                             int64_t *bound)
{
    gplan p;
    int64_t other;
    nncc_status st = plan_order(g, o, order, 0, &p, &other);
    *arena = p.plan.arena;
    *bound = nncc_plan_lower_bound(&p.plan);
    nncc_plan_free(&p.plan);
    return st;
}

/* Tensors (roots) live at `step`, as "name (N bytes)" separated by commas. */
static const char *live_at(nncc_graph *g, const gplan *p, int step)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return "";
    int k = 0;
    for (int t = 0; t < g->n_t; t++)
        if (p->buf[t] >= 0 && p->first[t] <= step && step <= p->last[t])
            fprintf(f, "%s'%s' (%lld)", k++ ? ", " : "", g->t[t].name, (long long)p->bytes[t]);
    fclose(f);
    const char *r = nncc_strdup(g->ctx, s ? s : "");
    free(s);
    return r ? r : "";
}

static char map_label(int b)
{
    static const char labels[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return labels[b % (int)(sizeof labels - 1)];
}

/* --memory-map: a table of every arena tensor and the arena over time. */
static void memory_map(nncc_graph *g, const gplan *p, FILE *f)
{
    const nncc_plan *pl = &p->plan;
    fprintf(f, "memory map of '%s': arena %lld bytes, %d buffers (aligned to %lld)\n", g->name ? g->name : "",
            (long long)pl->arena, pl->n, (long long)pl->align);
    fprintf(f, "  %-3s %10s %10s  %-11s %s\n", "id", "offset", "bytes", "steps",
            "tensor (shares: views, in-place; a Concat input: in OUTPUT+bytes)");
    for (int t = 0; t < g->n_t; t++) {
        int b = p->buf[t] >= 0 ? p->buf[t] : p->sub[t];
        if (b < 0)
            continue;
        fprintf(f, "  %c   %10lld %10lld  %4d..%-5d '%s'", map_label(b),
                (long long)(pl->b[b].offset + (pl->b[b].parent < 0 ? g->canary_guard : 0)), (long long)p->bytes[t],
                pl->b[b].first, pl->b[b].last, g->t[t].name);
        if (p->slice[t])
            fprintf(f, " in '%s'+%lld", g->t[p->alias[t]].name, (long long)p->aoff[t]);
        for (int u = 0; u < g->n_t; u++) { /* what shares t's bytes and is no slice of its own */
            int v = u;
            while (v != t && p->alias[v] >= 0 && !p->slice[v])
                v = p->alias[v];
            if (u != t && v == t && !p->slice[u])
                fprintf(f, " '%s'", g->t[u].name);
        }
        fputc('\n', f);
    }
    enum { W = 64 };
    fprintf(f, "arena over time: one row per step, %d columns of %lld bytes each; letters are the ids above "
            "(a Concat input over its output)\n", W, (long long)(pl->arena + W - 1) / W);
    int64_t col = pl->arena > 0 ? (pl->arena + W - 1) / W : 1;
    for (int s = 0; s < g->n_n; s++) {
        char row[W + 1];
        for (int c = 0; c < W; c++) {
            int64_t lo = c * col, hi = lo + col;
            row[c] = lo < pl->arena ? '.' : ' ';
            int depth = -1; /* the innermost buffer there */
            for (int b = 0; b < pl->n; b++) {
                const nncc_plan_buf *x = &pl->b[b];
                int d = 0;
                for (int q = x->parent; q >= 0; q = pl->b[q].parent)
                    d++;
                if (x->size && x->first <= s && s <= x->last && x->offset < hi && lo < x->offset + x->size &&
                    d > depth) {
                    row[c] = map_label(b);
                    depth = d;
                }
            }
        }
        row[W] = 0;
        nncc_node *n = node_at(g, p, s);
        fprintf(f, "  %4d |%s| %s (%s)\n", s, row, n->name, nncc_ops[n->op]->name);
    }
}

/* Whether node n (an index, -1: none) wrote `over` in place into `under`'s bytes. */
static bool wrote_over(nncc_graph *g, int n, int under)
{
    return n >= 0 && (nncc_ops[g->n[n].op]->flags & NNCC_OPF_INPLACE) && g->n[n].n_in > 0 &&
           g->n[n].in[0] == under;
}

/* Whether tensor a reaches tensor b along alias_of links that keep the
 * value (views, slices), not through an in-place link: an output written
 * over its input, or an input put in the slice its output goes to. */
static bool same_value(nncc_graph *g, const int *writer, int a, int b)
{
    while (a != b && g->t[a].alias_of >= 0) {
        int up = g->t[a].alias_of;
        if (wrote_over(g, writer[a], up) || (writer[up] >= 0 && wrote_over(g, writer[up], a)))
            return false;
        a = up;
    }
    return a == b;
}

/* Inside one storage (a root and what lies in it: views, in-place outputs,
 * Concat slices): each tensor starts on the alignment, and two tensors
 * whose bytes overlap are not both needed at once unless one is the other's
 * value (a view, a slice). A tensor is needed from the node writing it to
 * its last reader (a graph output: to the end); an in-place output may take
 * over its input's bytes at the input's last read, when the node is
 * elementwise and both start at the same byte. */
static nncc_status check_shared_storage(nncc_graph *g, const nncc_options *o)
{
    int T = g->n_t;
    int *writer = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int *rd = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int *root = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int64_t *off = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int64_t));
    if (!writer || !rd || !root || !off)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < T; t++) {
        writer[t] = rd[t] = -1;
        root[t] = nncc_tensor_storage(g, t, &off[t]);
    }
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k <= n->n_in; k++) {
            int t = k < n->n_in ? n->in[k] : n->fused_add;
            if (t >= 0)
                rd[t] = i;
        }
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                writer[n->out[k]] = i;
    }
    for (int t = 0; t < T; t++)
        if (g->t[t].is_output)
            rd[t] = g->n_n;
    for (int a = 0; a < T; a++) {
        nncc_tensor *x = &g->t[a];
        int64_t xb = x->has_shape ? nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype) : 0;
        if (x->alias_of >= 0 && x->offset >= 0 && x->offset % o->align) { /* inside: nncc_graph_verify */
            nncc_error(g, NULL, "internal error: memplan put '%s' at +%lld in '%s', off the alignment", x->name,
                       (long long)x->alias_offset, g->t[x->alias_of].name);
            return NNCC_ERR_INPUT;
        }
        if (writer[a] < 0 || xb == 0 || root[a] == a)
            continue;
        for (int b = 0; b < T; b++) {
            nncc_tensor *y = &g->t[b];
            if (b == a || root[b] != root[a] || writer[b] < 0)
                continue;
            int64_t yb = nncc_shape_count(&y->shape) * (int64_t)nncc_dtype_size(y->dtype);
            bool bytes = off[a] < off[b] + yb && off[b] < off[a] + xb && yb > 0;
            bool time = writer[a] < rd[b] && writer[b] < rd[a];
            /* handed over at one step: the node there reads one and writes
             * the other, which only an elementwise kernel may do, and only
             * with both at the same address */
            int at = writer[b] == rd[a] ? rd[a] : writer[a] == rd[b] ? rd[b] : -1;
            bool handoff = at >= 0 && (nncc_ops[g->n[at].op]->flags & NNCC_OPF_INPLACE) && off[a] == off[b];
            if (bytes && (time || (at >= 0 && !handoff)) && !same_value(g, writer, a, b) &&
                !same_value(g, writer, b, a)) {
                nncc_error(g, NULL, "internal error: memplan put '%s' over '%s' while both are needed", x->name,
                           y->name);
                return NNCC_ERR_INPUT;
            }
        }
    }
    return NNCC_OK;
}

/* The overlap check on the graph itself: lifetimes recomputed from the nodes
 * and the written alias_of/offset fields, independent of the planner. */
static nncc_status check_graph_plan(nncc_graph *g, const nncc_options *o)
{
    int T = g->n_t;
    int *first = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    int *last = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(int));
    if (!first || !last)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < T; t++)
        first[t] = last[t] = -1;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k <= n->n_in + n->n_out; k++) {
            int t = k < n->n_in ? n->in[k] : k == n->n_in ? n->fused_add : n->out[k - n->n_in - 1];
            if (t < 0)
                continue;
            while (g->t[t].alias_of >= 0)
                t = g->t[t].alias_of;
            if (first[t] < 0)
                first[t] = i;
            last[t] = i;
        }
    }
    for (int a = 0; a < T; a++) {
        nncc_tensor *x = &g->t[a];
        if (x->alias_of >= 0 || x->offset < 0 || first[a] < 0)
            continue;
        int64_t xa = x->offset, xb = xa + nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
        if (xa % o->align || xb + g->canary_guard > g->arena_size) {
            nncc_error(g, NULL, "internal error: memplan put '%s' at %lld, misaligned or outside the arena",
                       x->name, (long long)xa);
            return NNCC_ERR_INPUT;
        }
        for (int b = a + 1; b < T; b++) {
            nncc_tensor *y = &g->t[b];
            if (y->alias_of >= 0 || y->offset < 0 || first[b] < 0)
                continue;
            int64_t ya = y->offset, yb = ya + nncc_shape_count(&y->shape) * (int64_t)nncc_dtype_size(y->dtype);
            if (first[a] <= last[b] && first[b] <= last[a] && xa < yb && ya < xb && xa < xb && ya < yb) {
                nncc_error(g, NULL, "internal error: memplan overlaps '%s' and '%s', live at the same time", x->name,
                           y->name);
                return NNCC_ERR_INPUT;
            }
        }
    }
    return NNCC_OK;
}

nncc_status nncc_pass_memplan(nncc_graph *g, const nncc_options *o)
{
    gplan p;
    int64_t other;
    nncc_status st = plan_order(g, o, NULL, (long)(o->plan_time * (double)NNCC_PLAN_NODES_PER_SECOND), &p, &other);
    if (st != NNCC_OK) {
        nncc_plan_free(&p.plan);
        return st;
    }
    int T = g->n_t;
    g->canary_guard = o->canary ? (o->align > 16 ? o->align : 16) : 0;
    for (int t = 0; t < T; t++) {
        nncc_tensor *x = &g->t[t];
        x->alias_of = p.alias[t];
        x->alias_offset = p.aoff[t];
        x->offset = -1;
        x->live_first = x->live_last = -1;
        if (p.buf[t] >= 0) {
            x->offset = p.plan.b[p.buf[t]].offset + g->canary_guard;
            x->live_first = p.first[t];
            x->live_last = p.last[t];
        }
    }
    for (int i = 0; i < g->n_n; i++)
        g->n[i].scratch_offset = p.sbuf[i] >= 0 ? p.plan.b[p.sbuf[i]].offset : -1;
    /* claimed roots: stored in the output that views them */
    for (int t = 0; t < T; t++) {
        if (g->t[t].is_output && g->t[t].alias_of >= 0) {
            int r = root_in(p.alias, t);
            g->t[r].alias_of = t;   /* the root now lives in the output's buffer */
            g->t[t].alias_of = -1;
        }
    }
    /* views, in-place outputs and slices show where they are in the arena */
    for (int t = 0; t < T; t++)
        if (g->t[t].alias_of >= 0) {
            int64_t off;
            int r = nncc_tensor_storage(g, t, &off);
            g->t[t].offset = g->t[r].offset >= 0 ? g->t[r].offset + off : -1;
        }
    g->arena_size = p.plan.arena;
    int peak = -1;
    int64_t bound = nncc_plan_lower_bound_at(&p.plan, &peak);
    int64_t weights = 0;
    bool *seen = nncc_alloc_array(g->ctx, (size_t)T + 1, sizeof(bool));
    for (int i = 0; seen && i < g->n_n; i++)
        for (int k = 0; k <= g->n[i].n_in; k++) {
            int t = k < g->n[i].n_in ? g->n[i].in[k] : g->n[i].fused_add;
            if (t >= 0 && g->t[t].data && !seen[t]) {
                seen[t] = true;
                weights += p.bytes[t];
            }
        }
    nncc_report(g, "memplan", "arena %lld bytes, lower bound %lld for this order (ratio %.3f), %s (%s%s), "
                "naive sum %lld, weights %lld bytes; %d in place, %d Concat inputs written into their slice%s, "
                "align %lld",
                (long long)p.plan.arena, (long long)bound,
                bound ? (double)p.plan.arena / (double)bound : 1.0,
                p.plan.optimal ? "proven optimal" : "not proven optimal", p.plan.method,
                p.plan.nodes ? nncc_fmt(g->ctx, ", %ld search steps", p.plan.nodes) : "", (long long)p.naive,
                (long long)weights, p.n_inplace, p.n_slices,
                other < 0 ? "" : p.slices ? nncc_fmt(g->ctx, " (all Concats copying: arena %lld)", (long long)other)
                                          : nncc_fmt(g->ctx, " (kept the copies; with slices: arena %lld)", (long long)other),
                (long long)o->align);
    if (peak >= 0)
        nncc_report(g, "memplan", "peak at step %d, node '%s' (%s): %s", peak, g->n[peak].name,
                    nncc_ops[g->n[peak].op]->name, live_at(g, &p, peak));
    if (o->memory_map)
        memory_map(g, &p, o->out ? o->out : stdout);
    if (o->max_arena > 0 && p.plan.arena > o->max_arena) {
        nncc_error(g, peak >= 0 ? &g->n[peak] : NULL,
                   "the arena needs %lld bytes, more than --max-arena %lld; the peak is at step %d, where "
                   "%lld bytes are live: %s",
                   (long long)p.plan.arena, (long long)o->max_arena, peak, (long long)bound,
                   peak >= 0 ? live_at(g, &p, peak) : "");
        st = NNCC_ERR_INPUT;
    }
    nncc_plan_free(&p.plan);
    if (st == NNCC_OK)
        st = check_graph_plan(g, o);
    if (st == NNCC_OK)
        st = check_shared_storage(g, o);
    return st;
}
