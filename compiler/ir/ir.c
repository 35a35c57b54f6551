/*
 * ir.c - building and querying the graph: tensors, nodes, attributes,
 * dtypes and shapes, topological order.
 *
 * Tensors are found by name through an open-addressing hash table; nodes are
 * kept in an array in topological order (nncc_graph_toposort).
 */
#include "nncc-impl.h"

#include <string.h>

static const struct {
    size_t size;
    const char *name, *c;
} dtypes[] = {
    [NNCC_DT_F32] = { 4, "float32", "float" },
    [NNCC_DT_U8] = { 1, "uint8", "uint8_t" },
    [NNCC_DT_I8] = { 1, "int8", "int8_t" },
    [NNCC_DT_U16] = { 2, "uint16", "uint16_t" },
    [NNCC_DT_I16] = { 2, "int16", "int16_t" },
    [NNCC_DT_I32] = { 4, "int32", "int32_t" },
    [NNCC_DT_I64] = { 8, "int64", "int64_t" },
    [NNCC_DT_STRING] = { 0, "string", NULL },
    [NNCC_DT_BOOL] = { 1, "bool", "uint8_t" },
    [NNCC_DT_F16] = { 2, "float16", "uint16_t" }, /* the bits: only moved and cast */
    [NNCC_DT_F64] = { 8, "float64", "double" },
    [NNCC_DT_U32] = { 4, "uint32", "uint32_t" },
    [NNCC_DT_U64] = { 8, "uint64", "uint64_t" },
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

size_t nncc_dtype_size(nncc_dtype t)
{
    return t > 0 && t < N_DTYPES ? dtypes[t].size : 0;
}

const char *nncc_dtype_name(nncc_dtype t)
{
    return t > 0 && t < N_DTYPES && dtypes[t].name ? dtypes[t].name : "unknown";
}

bool nncc_dtype_is_float(nncc_dtype t) { return t == NNCC_DT_F32 || t == NNCC_DT_F64; }

bool nncc_dtype_is_int(nncc_dtype t)
{
    switch (t) {
    case NNCC_DT_I8: case NNCC_DT_U8: case NNCC_DT_I16: case NNCC_DT_U16:
    case NNCC_DT_I32: case NNCC_DT_U32: case NNCC_DT_I64: case NNCC_DT_U64: return true;
    default: return false;
    }
}

const char *nncc_dtype_c(nncc_dtype t)
{
    return t > 0 && t < N_DTYPES && dtypes[t].c ? dtypes[t].c : "void";
}

nncc_dtype nncc_dtype_from_name(const char *s)
{
    for (int i = 1; i < N_DTYPES; i++)
        if (dtypes[i].name && strcmp(dtypes[i].name, s) == 0)
            return (nncc_dtype)i;
    return NNCC_DT_UNDEF;
}

int64_t nncc_shape_count(const nncc_shape *s)
{
    /* saturates instead of overflowing, so size checks on absurd shapes
     * (2^40 x 2^40) see a huge count rather than a wrapped one */
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        if (__builtin_mul_overflow(n, s->d[i], &n))
            return INT64_MAX;
    return n;
}

bool nncc_shape_eq(const nncc_shape *a, const nncc_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i])
            return false;
    return true;
}

const char *nncc_shape_str(nncc_ctx *ctx, const nncc_shape *s)
{
    char buf[256];
    size_t k = 0;
    if (s->rank == 0)
        return "scalar";
    for (int i = 0; i < s->rank && k < sizeof buf - 24; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, i ? "x%lld" : "%lld", (long long)s->d[i]);
    return nncc_strdup(ctx, buf);
}

nncc_graph *nncc_graph_new(nncc_ctx *ctx)
{
    nncc_graph *g = nncc_alloc(ctx, sizeof *g);
    if (g) {
        g->ctx = ctx;
        g->name = "model";
    }
    return g;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool hash_grow(nncc_graph *g)
{
    int cap = g->hash_cap ? g->hash_cap * 2 : 256;
    int *h = nncc_alloc_array(g->ctx, (size_t)cap, sizeof *h);
    if (!h)
        return false;
    for (int i = 0; i < cap; i++)
        h[i] = -1;
    for (int t = 0; t < g->n_t; t++) {
        uint32_t k = hash_str(g->t[t].name) & (uint32_t)(cap - 1);
        while (h[k] >= 0)
            k = (k + 1) & (uint32_t)(cap - 1);
        h[k] = t;
    }
    g->hash = h;
    g->hash_cap = cap;
    return true;
}

int nncc_tensor_find(const nncc_graph *g, const char *name)
{
    if (!g->hash_cap)
        return -1;
    uint32_t k = hash_str(name) & (uint32_t)(g->hash_cap - 1);
    while (g->hash[k] >= 0) {
        if (strcmp(g->t[g->hash[k]].name, name) == 0)
            return g->hash[k];
        k = (k + 1) & (uint32_t)(g->hash_cap - 1);
    }
    return -1;
}

int nncc_tensor_add(nncc_graph *g, const char *name)
{
    int t = nncc_tensor_find(g, name);
    if (t >= 0)
        return t;
    if (g->n_t == g->cap_t) {
        int cap = g->cap_t ? g->cap_t * 2 : 64;
        nncc_tensor *nt = nncc_alloc_array(g->ctx, (size_t)cap, sizeof *nt);
        if (!nt)
            return -1;
        if (g->n_t)
            memcpy(nt, g->t, (size_t)g->n_t * sizeof *nt);
        g->t = nt;
        g->cap_t = cap;
    }
    if ((g->n_t + 1) * 2 > g->hash_cap && !hash_grow(g))
        return -1;
    t = g->n_t++;
    nncc_tensor *x = &g->t[t];
    memset(x, 0, sizeof *x);
    x->name = nncc_strdup(g->ctx, name);
    if (!x->name)
        return -1;
    x->producer = -1;
    x->offset = -1;
    x->alias_of = -1;
    x->alias_offset = 0;
    x->live_first = x->live_last = -1;
    x->batch_dim = -1;
    uint32_t k = hash_str(name) & (uint32_t)(g->hash_cap - 1);
    while (g->hash[k] >= 0)
        k = (k + 1) & (uint32_t)(g->hash_cap - 1);
    g->hash[k] = t;
    return t;
}

int nncc_tensor_new_unique(nncc_graph *g, const char *base)
{
    const char *name = base;
    for (int i = 1; name && nncc_tensor_find(g, name) >= 0; i++)
        name = nncc_fmt(g->ctx, "%s_%d", base, i);
    return name ? nncc_tensor_add(g, name) : -1;
}

nncc_node *nncc_node_add(nncc_graph *g, int op, const char *name, int n_in, int n_out)
{
    if (g->n_n == g->cap_n) {
        int cap = g->cap_n ? g->cap_n * 2 : 64;
        nncc_node *nn = nncc_alloc_array(g->ctx, (size_t)cap, sizeof *nn);
        if (!nn)
            return NULL;
        if (g->n_n)
            memcpy(nn, g->n, (size_t)g->n_n * sizeof *nn);
        g->n = nn;
        g->cap_n = cap;
    }
    nncc_node *n = &g->n[g->n_n];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->fused_add = -1;
    n->scratch_offset = -1;
    n->opset = (int)g->opset;
    n->in = nncc_alloc_array(g->ctx, (size_t)(n_in ? n_in : 1), sizeof(int));
    n->out = nncc_alloc_array(g->ctx, (size_t)(n_out ? n_out : 1), sizeof(int));
    if (!n->in || !n->out)
        return NULL;
    n->n_in = n_in;
    n->n_out = n_out;
    for (int i = 0; i < n_in; i++)
        n->in[i] = -1;
    g->n_synth++;
    if (name && *name)
        n->name = nncc_strdup(g->ctx, name);
    else /* nodes without a name are numbered per graph, as they appear */
        n->name = nncc_fmt(g->ctx, "#%d:%s", g->n_n, op >= 0 ? nncc_ops[op]->name : "?");
    g->n_n++;
    return n;
}

static void set_producers(nncc_graph *g)
{
    for (int t = 0; t < g->n_t; t++)
        g->t[t].producer = -1;
    for (int i = 0; i < g->n_n; i++)
        for (int o = 0; o < g->n[i].n_out; o++)
            if (g->n[i].out[o] >= 0)
                g->t[g->n[i].out[o]].producer = i;
}

void nncc_graph_compact(nncc_graph *g)
{
    int k = 0;
    for (int i = 0; i < g->n_n; i++)
        if (!g->n[i].dead)
            g->n[k++] = g->n[i];
    g->n_n = k;
    set_producers(g);
}

/* Kahn's algorithm, stable: among ready nodes the one earliest in the file goes first. */
nncc_status nncc_graph_toposort(nncc_graph *g)
{
    nncc_ctx *ctx = g->ctx;
    int N = g->n_n;
    if (N == 0)
        return NNCC_OK;
    int *prod = nncc_alloc_array(ctx, (size_t)g->n_t, sizeof(int));
    int *pending = nncc_alloc_array(ctx, (size_t)N, sizeof(int));
    int *order = nncc_alloc_array(ctx, (size_t)N, sizeof(int));
    bool *done = nncc_alloc_array(ctx, (size_t)N, sizeof(bool));
    nncc_node *sorted = nncc_alloc_array(ctx, (size_t)g->cap_n, sizeof(nncc_node));
    if (!prod || !pending || !order || !done || !sorted)
        return NNCC_ERR_NOMEM;
    for (int t = 0; t < g->n_t; t++)
        prod[t] = -1;
    for (int i = 0; i < N; i++) {
        for (int o = 0; o < g->n[i].n_out; o++) {
            int t = g->n[i].out[o];
            if (t < 0)
                continue;
            if (prod[t] >= 0 || g->t[t].is_input || g->t[t].data) {
                nncc_error(g, &g->n[i], "output '%s' is also %s", g->t[t].name,
                           prod[t] >= 0 ? "written by another node" : "a graph input or initializer");
                return NNCC_ERR_INPUT;
            }
            prod[t] = i;
        }
    }
    /* pending[i]: inputs of i produced by nodes not yet placed */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < g->n[i].n_in; k++)
            if (g->n[i].in[k] >= 0 && prod[g->n[i].in[k]] >= 0)
                pending[i]++;
    int placed = 0;
    /* O(N^2) in the worst case, which is fine at the sizes models have;
     * a graph that is already in order (the usual case) takes one sweep. */
    for (int start = 0; placed < N;) {
        int pick = -1;
        for (int i = start; i < N; i++)
            if (!done[i] && pending[i] == 0) {
                pick = i;
                break;
            }
        if (pick < 0 && start > 0) {
            start = 0;
            continue;
        }
        if (pick < 0)
            break;
        done[pick] = true;
        order[placed++] = pick;
        start = pick;
        for (int o = 0; o < g->n[pick].n_out; o++) {
            int t = g->n[pick].out[o];
            if (t < 0)
                continue;
            for (int j = 0; j < N; j++)
                for (int k = 0; k < g->n[j].n_in; k++)
                    if (g->n[j].in[k] == t) {
                        pending[j]--;
                        if (j < start)
                            start = j;
                    }
        }
    }
    if (placed < N) {
        for (int i = 0; i < N; i++)
            if (!done[i]) {
                nncc_error(g, &g->n[i], "the graph has a cycle through this node");
                return NNCC_ERR_INPUT;
            }
    }
    for (int i = 0; i < N; i++)
        sorted[i] = g->n[order[i]];
    g->n = sorted;
    set_producers(g);
    return NNCC_OK;
}

/* The single node reading tensor t, or NULL (none, several, or a graph output). */
nncc_node *nncc_sole_reader(nncc_graph *g, int t)
{
    if (g->t[t].is_output)
        return NULL;
    nncc_node *r = NULL;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            continue;
        int uses = n->fused_add == t;
        for (int k = 0; k < n->n_in; k++)
            uses += n->in[k] == t;
        if (uses == 0)
            continue;
        if (r || uses > 1)
            return NULL;
        r = n;
    }
    return r;
}

int nncc_tensor_storage(const nncc_graph *g, int t, int64_t *offset)
{
    int64_t off = 0;
    while (g->t[t].alias_of >= 0) {
        off += g->t[t].alias_offset;
        t = g->t[t].alias_of;
    }
    if (offset)
        *offset = off;
    return t;
}

int nncc_tensor_uses(const nncc_graph *g, int ti)
{
    int uses = g->t[ti].is_output ? 1 : 0;
    for (int i = 0; i < g->n_n; i++) {
        if (g->n[i].dead)
            continue;
        for (int k = 0; k < g->n[i].n_in; k++)
            uses += g->n[i].in[k] == ti;
        uses += g->n[i].fused_add == ti;
    }
    return uses;
}

nncc_status nncc_tensor_set_data(nncc_graph *g, int ti, nncc_dtype dt,
                                 const nncc_shape *s, const void *data)
{
    nncc_tensor *t = &g->t[ti];
    size_t bytes = (size_t)nncc_shape_count(s) * nncc_dtype_size(dt);
    void *p = nncc_alloc(g->ctx, bytes);
    if (!p)
        return NNCC_ERR_NOMEM;
    if (bytes)
        memcpy(p, data, bytes);
    t->data = p;
    t->dtype = dt;
    t->shape = *s;
    t->has_shape = true;
    return NNCC_OK;
}

nncc_attr *nncc_attr_find(nncc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    return NULL;
}

void nncc_replace_uses(nncc_graph *g, int from, int to)
{
    for (int i = 0; i < g->n_n; i++) {
        for (int k = 0; k < g->n[i].n_in; k++)
            if (g->n[i].in[k] == from)
                g->n[i].in[k] = to;
        if (g->n[i].fused_add == from)
            g->n[i].fused_add = to;
    }
}

nncc_status nncc_node_resize_inputs(nncc_graph *g, nncc_node *n, int n_in)
{
    if (n_in > n->n_in) {
        int *in = nncc_alloc_array(g->ctx, (size_t)n_in, sizeof(int));
        if (!in)
            return NNCC_ERR_NOMEM;
        for (int i = 0; i < n_in; i++)
            in[i] = i < n->n_in ? n->in[i] : -1;
        n->in = in;
    }
    n->n_in = n_in;
    return NNCC_OK;
}

/* The attribute `name` of n, added (zeroed, type unset) if absent. */
static nncc_attr *attr_put(nncc_graph *g, nncc_node *n, const char *name)
{
    nncc_attr *a = nncc_attr_find(n, name);
    if (a)
        return a;
    nncc_attr *na = nncc_alloc_array(g->ctx, (size_t)n->n_attr + 1, sizeof(nncc_attr));
    const char *nm = nncc_strdup(g->ctx, name);
    if (!na || !nm)
        return NULL;
    if (n->n_attr)
        memcpy(na, n->attr, (size_t)n->n_attr * sizeof(nncc_attr));
    n->attr = na;
    a = &n->attr[n->n_attr++];
    a->name = nm;
    a->tensor = -1;
    return a;
}

nncc_status nncc_attr_set_ints(nncc_graph *g, nncc_node *n, const char *name, const int64_t *v, int count)
{
    int64_t *copy = nncc_alloc_array(g->ctx, (size_t)(count ? count : 1), sizeof(int64_t));
    nncc_attr *a = copy ? attr_put(g, n, name) : NULL;
    if (!a)
        return NNCC_ERR_NOMEM;
    if (count)
        memcpy(copy, v, (size_t)count * sizeof(int64_t));
    a->type = NNCC_ATTR_INTS;
    a->ints = copy;
    a->n = count;
    return NNCC_OK;
}

nncc_status nncc_attr_set_int(nncc_graph *g, nncc_node *n, const char *name, int64_t v)
{
    nncc_attr *a = attr_put(g, n, name);
    if (!a)
        return NNCC_ERR_NOMEM;
    a->type = NNCC_ATTR_INT;
    a->i = v;
    return NNCC_OK;
}

void nncc_note_fused(nncc_graph *g, nncc_node *into, const nncc_node *from)
{
    const char *f = nncc_fmt(g->ctx, "'%s' (%s)", from->name, nncc_ops[from->op]->name);
    if (from->fused_from)
        f = nncc_fmt(g->ctx, "%s + %s", from->fused_from, f);
    into->fused_from = into->fused_from ? nncc_fmt(g->ctx, "%s + %s", into->fused_from, f) : f;
}

int nncc_kernel_calls(const nncc_graph *g)
{
    int calls = 0;
    for (int i = 0; i < g->n_n; i++) {
        const nncc_node *n = &g->n[i];
        calls += !((nncc_ops[n->op]->flags & NNCC_OPF_VIEW) && n->n_out > 0 && n->out[0] >= 0 &&
                   g->t[n->out[0]].alias_of >= 0);
    }
    return calls;
}
