/*
 * fuse.c - fusion of elementwise work into the kernel that produces its input.
 *
 *   Conv/Gemm -> activation          the activation runs in the epilogue
 *   Conv -> Add(other) [-> Relu]     the residual add (and Relu) run in the epilogue
 *   Conv [-> act] -> MaxPool/AveragePool (2-D)
 *                                    one kernel: the convolution's channels pooled
 *                                    a few at a time from a buffer in cache, its
 *                                    full map never written (not with --quantize)
 *   Add -> activation                the activation runs in the binary kernel
 *
 * Fused activations: Relu, LeakyRelu, Clip (constant bounds), Sigmoid, Tanh,
 * HardSigmoid, HardSwish. A rewrite needs the intermediate tensor to have
 * exactly one reader and not be a graph output; the surviving node records
 * the fusion in n->act / n->fused_add and takes over the last output.
 *
 * Longer runs of elementwise nodes (Mul -> Add -> Relu) become one loop in
 * the eltwise pass (passes/eltwise.c), which takes an Add's fused
 * activation as one of its steps; a lone Add + activation stays here.
 *
 * Precondition: shapes inferred, nodes in topological order.
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

/* The activation a node computes, if it is one the kernels can fuse. */
static bool as_activation(nncc_graph *g, nncc_node *n, nncc_act_params *a)
{
    memset(a, 0, sizeof *a);
    switch (n->op) {
    case NNCC_OP_Relu: a->kind = NNCC_ACT_RELU; return true;
    case NNCC_OP_Sigmoid: a->kind = NNCC_ACT_SIGMOID; return true;
    case NNCC_OP_Tanh: a->kind = NNCC_ACT_TANH; return true;
    case NNCC_OP_HardSwish: a->kind = NNCC_ACT_HARD_SWISH; return true;
    case NNCC_OP_LeakyRelu:
        a->kind = NNCC_ACT_LEAKY_RELU;
        a->alpha = nncc_attr_float(g, n, "alpha", 0.01f);
        return true;
    case NNCC_OP_HardSigmoid:
        a->kind = NNCC_ACT_HARD_SIGMOID;
        a->alpha = nncc_attr_float(g, n, "alpha", 0.2f);
        a->beta = nncc_attr_float(g, n, "beta", 0.5f);
        return true;
    case NNCC_OP_Clip: {
        a->kind = NNCC_ACT_CLIP;
        a->alpha = -INFINITY;
        a->beta = INFINITY;
        if (n->opset < 11) {
            a->alpha = nncc_attr_float(g, n, "min", -INFINITY);
            a->beta = nncc_attr_float(g, n, "max", INFINITY);
            return true;
        }
        for (int i = 1; i < n->n_in && i < 3; i++) {
            nncc_tensor *t = nncc_in(g, n, i);
            if (!t)
                continue;
            if (!t->data || t->dtype != NNCC_DT_F32 || nncc_shape_count(&t->shape) != 1)
                return false;
            *(i == 1 ? &a->alpha : &a->beta) = *(const float *)t->data;
        }
        return true;
    }
    default:
        return false;
    }
}

/* Conv n's output pooled in the same kernel, where nncc_conv_pool_fusable
 * says it can be: n takes over the pool's output. */
static bool fuse_pool(nncc_graph *g, nncc_node *n, nncc_node *r)
{
    if (!r || (r->op != NNCC_OP_MaxPool && r->op != NNCC_OP_AveragePool) || (r->n_out > 1 && r->out[1] >= 0) ||
        r->in[0] != n->out[0])
        return false;
    nncc_pool2d_params q;
    if (nncc_pool_params(g, r, &q) != NNCC_OK || !nncc_conv_pool_fusable(g, n, &q))
        return false;
    nncc_pool2d_params *keep = nncc_alloc(g->ctx, sizeof *keep);
    if (!keep)
        return false;
    *keep = q;
    n->fused_pool = keep;
    return true;
}

static void absorb(nncc_graph *g, nncc_node *into, nncc_node *from)
{
    into->out[0] = from->out[0];
    nncc_note_fused(g, into, from);
    from->dead = true;
}

nncc_status nncc_pass_fuse(nncc_graph *g, const nncc_options *o)
{
    int acts = 0, adds = 0, pools = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->n_out < 1 || n->out[0] < 0)
            continue;
        bool conv = n->op == NNCC_OP_Conv, gemm = n->op == NNCC_OP_Gemm;
        bool add = n->op == NNCC_OP_Add && nncc_out(g, n, 0)->dtype == NNCC_DT_F32;
        if (!conv && !gemm && !add)
            continue;
        /* Conv -> Add(y, other) with the same shape: residual in the epilogue */
        nncc_node *r = nncc_sole_reader(g, n->out[0]);
        if (conv && r && r->op == NNCC_OP_Add && n->fused_add < 0 && n->act.kind == NNCC_ACT_NONE && r->n_in == 2) {
            int other = r->in[0] == n->out[0] ? r->in[1] : r->in[0];
            if (other >= 0 && nncc_shape_eq(&g->t[other].shape, &nncc_out(g, n, 0)->shape) &&
                g->t[other].dtype == NNCC_DT_F32 && r->act.kind == NNCC_ACT_NONE &&
                (g->t[other].producer < i || g->t[other].data || g->t[other].is_input)) {
                n->fused_add = other;
                absorb(g, n, r);
                adds++;
                r = nncc_sole_reader(g, n->out[0]);
            }
        }
        nncc_act_params a;
        if (r && n->act.kind == NNCC_ACT_NONE && as_activation(g, r, &a) &&
            nncc_out(g, r, 0)->dtype == NNCC_DT_F32) {
            n->act = a;
            absorb(g, n, r);
            acts++;
            r = nncc_sole_reader(g, n->out[0]);
        }
        if (conv && !o->quantize && fuse_pool(g, n, r)) {
            absorb(g, n, r);
            pools++;
        }
    }
    nncc_graph_compact(g);
    if (acts || adds || pools)
        nncc_report(g, "fuse", "%d activation%s, %d residual Add%s and %d pool%s fused into the producing kernel", acts,
                    acts == 1 ? "" : "s", adds, adds == 1 ? "" : "s", pools, pools == 1 ? "" : "s");
    return NNCC_OK;
}
