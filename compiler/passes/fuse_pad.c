/*
 * fuse_pad.c - a constant Pad folded into the pads of the Conv or pooling
 * node that reads it.
 *
 *   Pad(x, spatial pads q, value 0) -> Conv(pads p)       Conv(x, pads p + q)
 *   Pad(x, q, 0) -> AveragePool(pads p, count_include_pad=1, or p = 0)
 *                                       AveragePool(x, p + q, count_include_pad=1)
 *   Pad(x, q, v) -> MaxPool(pads p)     MaxPool(x, p + q), when v = -inf, or
 *                                       v = 0 and x is known non-negative
 *
 * Conditions: the Pad is constant mode, float32, with a compile-time value,
 * pads >= 0 and none on the batch and channel dims; its output has one reader
 * and is not a graph output (nncc_sole_reader); the reader takes explicit
 * pads (auto_pad NOTSET). For the pools, ceil_mode 0 (so every window lies
 * in the padded input, the window arithmetic of the two forms agrees).
 *
 * Why each is exact: Conv's pads are zeros, so adding zeros explicitly or
 * as pads is the same sum. AveragePool with count_include_pad=1 divides by
 * the whole window whether the zeros are real or pads; its own pads with
 * count_include_pad=0 would not count the explicit zeros, so that case stays.
 * MaxPool ignores its pads, which is a pad of -inf, and a pad of 0 is the
 * same when no value is negative; both need every window to hold at least
 * one real element (dilation 1 and each pad smaller than the kernel). Non-negative
 * means: the producer is a Relu (or Sigmoid, HardSigmoid, Softplus, Exp,
 * Abs, Clip with min >= 0), or a node with such an activation fused (a
 * Conv + Relu from the fuse pass, which runs before this one).
 *
 * Precondition: shapes inferred, nodes in topological order, fuse has run.
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

/* Whether every value of tensor t is >= 0 (or NaN), as far as its producer shows. */
static bool non_negative(nncc_graph *g, int t)
{
    int pi = g->t[t].producer;
    if (pi < 0 || g->t[t].data)
        return false;
    nncc_node *p = &g->n[pi];
    if (p->dead || p->out[0] != t)
        return false;
    switch (p->act.kind) {
    case NNCC_ACT_RELU: case NNCC_ACT_SIGMOID: case NNCC_ACT_HARD_SIGMOID:
        return true;
    case NNCC_ACT_CLIP:
        return p->act.alpha >= 0.0f;
    default:
        break;
    }
    int code;
    float a, b;
    if (p->act.kind != NNCC_ACT_NONE || p->fused_add >= 0 || !nncc_unary_step(g, p, &code, &a, &b))
        return false;
    return code == NNCC_UN_RELU || code == NNCC_UN_SIGMOID || code == NNCC_UN_HARD_SIGMOID ||
           code == NNCC_UN_SOFTPLUS || code == NNCC_UN_EXP || code == NNCC_UN_ABS ||
           (code == NNCC_UN_CLIP && a >= 0.0f);
}

/* Reads INTS attribute `name` of n into v (count entries, default `def`). */
static void ints_or(nncc_node *n, const char *name, int64_t *v, int count, int64_t def)
{
    nncc_attr *a = nncc_attr_find(n, name);
    for (int i = 0; i < count; i++)
        v[i] = a && a->type == NNCC_ATTR_INTS && a->n == count ? a->ints[i] : def;
}

static int64_t int_or(nncc_node *n, const char *name, int64_t def)
{
    nncc_attr *a = nncc_attr_find(n, name);
    return a && a->type == NNCC_ATTR_INT ? a->i : def;
}

/* Whether reader r can take the Pad's spatial pads q (before q[0..sp),
 * after q[sp..2sp)) with pad value v on input x. */
static bool can_take(nncc_graph *g, nncc_node *r, int x, const int64_t *q, int sp, float v)
{
    nncc_attr *ap = nncc_attr_find(r, "auto_pad");
    if (ap && (ap->type != NNCC_ATTR_STRING || strcmp(ap->s, "NOTSET")))
        return false;
    int64_t p[2 * NNCC_MAX_RANK];
    ints_or(r, "pads", p, 2 * sp, 0);
    if (r->op == NNCC_OP_Conv)
        return v == 0.0f;
    if (int_or(r, "ceil_mode", 0) != 0)
        return false;
    if (r->op == NNCC_OP_AveragePool) {
        bool own = false;
        for (int i = 0; i < 2 * sp; i++)
            own |= p[i] != 0;
        return v == 0.0f && (int_or(r, "count_include_pad", 0) == 1 || !own);
    }
    if (r->op != NNCC_OP_MaxPool || (r->n_out > 1 && r->out[1] >= 0))
        return false; /* Indices would point into the padded tensor */
    if (v != -INFINITY && !(v == 0.0f && non_negative(g, x)))
        return false;
    int64_t k[NNCC_MAX_RANK], d[NNCC_MAX_RANK];
    ints_or(r, "kernel_shape", k, sp, 1);
    ints_or(r, "dilations", d, sp, 1);
    for (int i = 0; i < sp; i++)
        if (d[i] != 1 || p[i] + q[i] >= k[i] || p[sp + i] + q[sp + i] >= k[i])
            return false;
    return true;
}

nncc_status nncc_pass_fuse_pad(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int into[3] = { 0, 0, 0 }; /* Conv, AveragePool, MaxPool */
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->op != NNCC_OP_Pad || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
            continue;
        nncc_tensor *x = nncc_in(g, n, 0);
        int r = x->shape.rank, sp = r - 2, mode;
        int64_t before[NNCC_MAX_RANK], after[NNCC_MAX_RANK];
        bool known;
        float v;
        if (x->dtype != NNCC_DT_F32 || r < 3 || nncc_pad_spec(g, n, &mode, before, after, &known, &v) != NNCC_OK ||
            mode != NNCC_PAD_CONSTANT || !known || before[0] || before[1] || after[0] || after[1])
            continue;
        int64_t q[2 * NNCC_MAX_RANK];
        bool ok = true;
        for (int k = 0; k < sp; k++) {
            q[k] = before[2 + k];
            q[sp + k] = after[2 + k];
            ok &= q[k] >= 0 && q[sp + k] >= 0;
        }
        nncc_node *rd = nncc_sole_reader(g, n->out[0]);
        if (!ok || !rd || rd->in[0] != n->out[0] || !(rd->op == NNCC_OP_Conv || rd->op == NNCC_OP_AveragePool ||
                                                     rd->op == NNCC_OP_MaxPool) ||
            !can_take(g, rd, n->in[0], q, sp, v))
            continue;
        int64_t p[2 * NNCC_MAX_RANK];
        ints_or(rd, "pads", p, 2 * sp, 0);
        for (int k = 0; k < 2 * sp; k++)
            p[k] += q[k];
        nncc_shape ys = nncc_out(g, rd, 0)->shape;
        if (nncc_attr_set_ints(g, rd, "pads", p, 2 * sp) != NNCC_OK ||
            (rd->op == NNCC_OP_AveragePool && nncc_attr_set_int(g, rd, "count_include_pad", 1) != NNCC_OK))
            return NNCC_ERR_NOMEM;
        rd->in[0] = n->in[0];
        /* the reader's output is what it was: same sizes by construction */
        NNCC_ASSERT(nncc_ops[rd->op]->infer(g, rd) == NNCC_OK && nncc_shape_eq(&nncc_out(g, rd, 0)->shape, &ys));
        nncc_note_fused(g, rd, n);
        n->dead = true;
        into[rd->op == NNCC_OP_Conv ? 0 : rd->op == NNCC_OP_AveragePool ? 1 : 2]++;
    }
    nncc_graph_compact(g);
    if (into[0] || into[1] || into[2])
        nncc_report(g, "fuse-pad", "%d Pad fused into Conv, %d into AveragePool, %d into MaxPool", into[0], into[1],
                    into[2]);
    return NNCC_OK;
}
