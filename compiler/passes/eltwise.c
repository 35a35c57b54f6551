/*
 * eltwise.c - chains of elementwise nodes fused into one loop.
 *
 *   x -> Mul(k) -> Add(b) -> Relu -> y       one FusedElementwise(x, ...) -> y
 *   x -> Sigmoid -> Mul(x, .)                (SiLU)
 *   x -> Sub(m) -> Div(s)                    ...
 *
 * Without fusion each node is a kernel call that reads and writes the whole
 * tensor; fused, every element is loaded once, goes through all the steps in
 * registers and is stored once (ops/eltwise.c writes the loop).
 *
 * A chain is a run of float32 nodes, each the only reader of the one before
 * (nncc_sole_reader: the intermediate is not a graph output), all of one
 * shape: unary ops with compile-time parameters (nncc_unary_step: Relu,
 * Sigmoid, Clip with constant bounds, Exp, ...) and two-input arithmetic
 * (nncc_binary_step: Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu) whose
 * other operand is the chain's value itself, a tensor of the chain's shape
 * (the chain's own input included: SiLU), one value, or one value per
 * channel (varying along a single axis; one such axis per chain). An
 * activation the fuse pass put into an Add (n->act) becomes one more step.
 * The chain needs at least two nodes: a lone Add + Relu stays the binary
 * kernel with its fused activation (fuse.c), which the int8 pass knows.
 *
 * The fused node takes the place of the chain's last node (so every operand
 * is computed before it) and records every merged node for the comments.
 *
 * Precondition: shapes inferred, nodes in topological order; runs after fuse
 * and int8, so those see the plain nodes.
 */
#include "nncc-impl.h"

#include <string.h>

#define MAX_STEPS 32
#define MAX_OPERANDS 16

typedef struct {
    nncc_shape s;                     /* the chain's shape */
    int src;                          /* tensor the chain starts from (node input 0) */
    nncc_ew_step step[MAX_STEPS];
    int n_steps;
    int operand[MAX_OPERANDS];        /* node inputs 1.. (tensor indices) */
    int n_operands;
    int64_t channels, inner;          /* see nncc_ew_chain */
    nncc_node *node[MAX_STEPS];       /* the merged nodes, in order */
    int n_nodes;
} chain;

/* The unary step of the activation fused into node r (fuse.c). */
static bool act_step(nncc_graph *g, const nncc_node *r, nncc_ew_step *s)
{
    static const struct {
        int code, op;
    } acts[] = {
        [NNCC_ACT_RELU] = { NNCC_UN_RELU, NNCC_OP_Relu },
        [NNCC_ACT_LEAKY_RELU] = { NNCC_UN_LEAKY_RELU, NNCC_OP_LeakyRelu },
        [NNCC_ACT_CLIP] = { NNCC_UN_CLIP, NNCC_OP_Clip },
        [NNCC_ACT_SIGMOID] = { NNCC_UN_SIGMOID, NNCC_OP_Sigmoid },
        [NNCC_ACT_TANH] = { NNCC_UN_TANH, NNCC_OP_Tanh },
        [NNCC_ACT_HARD_SIGMOID] = { NNCC_UN_HARD_SIGMOID, NNCC_OP_HardSigmoid },
        [NNCC_ACT_HARD_SWISH] = { NNCC_UN_HARD_SWISH, NNCC_OP_HardSwish },
    };
    const nncc_act_params *a = &r->act;
    if (a->kind <= NNCC_ACT_NONE || a->kind >= (int)(sizeof acts / sizeof acts[0]))
        return false;
    s->binary = false;
    s->code = acts[a->kind].code;
    s->src_op = acts[a->kind].op;
    s->alpha = a->alpha;
    s->beta = a->beta;
    /* the activation node fuse.c merged into r, as it recorded it */
    s->from = r->fused_from ? r->fused_from
                            : nncc_fmt(g->ctx, "%s fused into '%s'", nncc_ops[s->src_op]->name, r->name);
    return true;
}

/* How the chain can read tensor t as an operand: sets *bcast, *slot (node
 * input index) and, for a per-channel operand, *ch and *inner. False: it cannot. */
static bool classify(nncc_graph *g, const chain *c, int t, int *bcast, int *slot, int64_t *ch, int64_t *inner)
{
    nncc_tensor *o = &g->t[t];
    int R = c->s.rank, orank = o->shape.rank;
    if (o->dtype != NNCC_DT_F32 || !o->has_shape || orank > R)
        return false;
    int64_t ad[NNCC_MAX_RANK];
    bool same = true;
    int axis = -1, varying = 0;
    for (int k = 0; k < R; k++) {
        ad[k] = k < R - orank ? 1 : o->shape.d[k - (R - orank)];
        same &= ad[k] == c->s.d[k];
        if (ad[k] != 1) {
            axis = k;
            varying++;
        }
    }
    *ch = c->channels;
    *inner = c->inner;
    if (same) {
        *bcast = NNCC_EW_SAME;
    } else if (nncc_shape_count(&o->shape) == 1) {
        *bcast = NNCC_EW_SCALAR;
    } else if (varying == 1 && ad[axis] == c->s.d[axis]) {
        int64_t in = 1;
        for (int k = axis + 1; k < R; k++)
            in *= c->s.d[k];
        if (c->channels && (c->channels != ad[axis] || c->inner != in))
            return false; /* a second channel axis */
        *bcast = NNCC_EW_CHANNEL;
        *ch = ad[axis];
        *inner = in;
    } else {
        return false;
    }
    if (t == c->src) {
        *slot = 0;
        return true;
    }
    for (int k = 0; k < c->n_operands; k++)
        if (c->operand[k] == t) {
            *slot = 1 + k;
            return true;
        }
    *slot = 1 + c->n_operands;
    return c->n_operands < MAX_OPERANDS;
}

/* Appends node r, which reads the chain's current value cv, if it fits;
 * changes nothing otherwise. */
static bool add_node(nncc_graph *g, chain *c, nncc_node *r, int cv)
{
    if (r->dead || r->n_out != 1 || r->out[0] < 0 || r->fused_add >= 0 || c->n_nodes >= MAX_STEPS)
        return false;
    nncc_tensor *y = nncc_out(g, r, 0);
    if (y->dtype != NNCC_DT_F32 || !nncc_shape_eq(&y->shape, &c->s))
        return false;
    for (int k = 0; k < r->n_in; k++)
        if (r->in[k] >= 0 && g->t[r->in[k]].dtype != NNCC_DT_F32)
            return false;
    nncc_ew_step s[2];
    memset(s, 0, sizeof s);
    int n_new = 1, slot = -1;
    int64_t ch = c->channels, inner = c->inner;
    int code;
    float a, b;
    if (nncc_unary_step(g, r, &code, &a, &b)) {
        if (r->in[0] != cv || r->act.kind != NNCC_ACT_NONE)
            return false;
        s[0].code = code;
        s[0].alpha = a;
        s[0].beta = b;
    } else if ((code = nncc_binary_step(g, r)) >= 0) {
        int k = r->in[0] == cv ? 0 : r->in[1] == cv ? 1 : -1;
        if (k < 0)
            return false;
        int other = r->in[1 - k];
        s[0].binary = true;
        s[0].code = code;
        s[0].swap = k == 1;
        if (other == cv)
            s[0].bcast = NNCC_EW_SELF;
        else if (!classify(g, c, other, &s[0].bcast, &slot, &ch, &inner))
            return false;
        s[0].operand = slot < 0 ? 0 : slot;
        if (r->act.kind != NNCC_ACT_NONE) {
            if (!act_step(g, r, &s[1]))
                return false;
            n_new = 2;
        }
    } else {
        return false;
    }
    if (c->n_steps + n_new > MAX_STEPS)
        return false;
    /* commit */
    if (slot > c->n_operands)
        c->operand[c->n_operands++] = r->in[s[0].swap ? 0 : 1];
    c->channels = ch;
    c->inner = inner;
    s[0].from = nncc_fmt(g->ctx, "'%s' (%s)", r->name, nncc_ops[r->op]->name);
    s[0].src_op = r->op;
    for (int k = 0; k < n_new; k++)
        c->step[c->n_steps++] = s[k];
    c->node[c->n_nodes++] = r;
    return true;
}

/* Replaces the chain's nodes by one FusedElementwise in the last one's place. */
static nncc_status build(nncc_graph *g, const chain *c)
{
    nncc_node *last = c->node[c->n_nodes - 1];
    nncc_ew_chain *ec = nncc_alloc(g->ctx, sizeof *ec);
    nncc_ew_step *st = nncc_alloc_array(g->ctx, (size_t)c->n_steps, sizeof *st);
    if (!ec || !st || nncc_node_resize_inputs(g, last, 1 + c->n_operands) != NNCC_OK)
        return NNCC_ERR_NOMEM;
    memcpy(st, c->step, (size_t)c->n_steps * sizeof *st);
    ec->step = st;
    ec->n = c->n_steps;
    ec->channels = c->channels;
    ec->inner = c->inner;
    last->in[0] = c->src;
    for (int k = 0; k < c->n_operands; k++)
        last->in[1 + k] = c->operand[k];
    /* the merged nodes in chain order, each followed by the activation
     * fuse.c had merged into it */
    const char *from = NULL;
    for (int k = 0; k < c->n_nodes; k++) {
        nncc_node *r = c->node[k];
        const char *me = k < c->n_nodes - 1 ? nncc_fmt(g->ctx, "'%s' (%s)", r->name, nncc_ops[r->op]->name) : NULL;
        if (r->fused_from)
            me = me ? nncc_fmt(g->ctx, "%s + %s", me, r->fused_from) : r->fused_from;
        if (me)
            from = from ? nncc_fmt(g->ctx, "%s + %s", from, me) : me;
        if (k < c->n_nodes - 1)
            r->dead = true;
    }
    last->fused_from = from;
    last->op = NNCC_OP_FusedElementwise;
    last->ew = ec;
    last->n_attr = 0;
    memset(&last->act, 0, sizeof last->act);
    return NNCC_OK;
}

nncc_status nncc_pass_eltwise(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int chains = 0, nodes = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
            continue;
        /* the chain's input: input 0, or for a binary start input 1 (x - y read as y: swapped) */
        chain c;
        bool started = false;
        for (int k = 0; k < 2 && k < n->n_in && !started; k++) {
            if (n->in[k] < 0 || (k == 1 && nncc_binary_step(g, n) < 0) ||
                !nncc_shape_eq(&g->t[n->in[k]].shape, &nncc_out(g, n, 0)->shape))
                continue; /* the input must have the chain's shape (not be broadcast) */
            memset(&c, 0, sizeof c);
            c.src = n->in[k];
            c.s = nncc_out(g, n, 0)->shape;
            started = add_node(g, &c, n, c.src);
        }
        if (!started)
            continue;
        int cv = n->out[0];
        for (nncc_node *r; (r = nncc_sole_reader(g, cv)) && add_node(g, &c, r, cv);)
            cv = r->out[0];
        if (c.n_nodes < 2)
            continue;
        nncc_status st = build(g, &c);
        if (st != NNCC_OK)
            return st;
        chains++;
        nodes += c.n_nodes;
    }
    nncc_graph_compact(g);
    if (chains)
        nncc_report(g, "eltwise", "%d chain%s of elementwise nodes (%d nodes) fused into one loop each", chains,
                    chains == 1 ? "" : "s", nodes);
    return NNCC_OK;
}
