/*
 * fold_bn.c - BatchNormalization folded into the Conv or Gemm before it.
 *
 * With s[c] = scale[c] / sqrt(var[c] + eps), BN(y) = s*y + (B - mean*s), so
 *   Conv: W'[m,...] = W[m,...] * s[m],      b'[m] = (b[m] - mean[m]) * s[m] + B[m]
 *   Gemm: column j of op(B) scaled by s[j], bias'[j] = (bias[j]*beta - mean[j]) * s[j] + B[j]
 * New constants are created (weights may be shared with other nodes); the
 * BN node disappears. Preconditions: the BN parameters and the weights are
 * constant, the Conv/Gemm output has BN as its only reader and is not a graph
 * output, no activation has been fused yet (fold-bn runs before fuse).
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

static int new_const(nncc_graph *g, const char *base, const nncc_shape *s, const float *data)
{
    int t = nncc_tensor_new_unique(g, base);
    if (t < 0 || nncc_tensor_set_data(g, t, NNCC_DT_F32, s, data) != NNCC_OK)
        return -1;
    return t;
}

/* Folds bn into producer p; returns 1 if done, 0 if not applicable, -1 on OOM. */
static int fold(nncc_graph *g, nncc_node *p, nncc_node *bn)
{
    nncc_tensor *w = nncc_in(g, p, 1), *b = nncc_in(g, p, 2);
    nncc_tensor *sc = nncc_in(g, bn, 1), *bb = nncc_in(g, bn, 2), *mu = nncc_in(g, bn, 3), *var = nncc_in(g, bn, 4);
    if (!w || !w->data || w->dtype != NNCC_DT_F32 || (b && !b->data) || !sc->data || !bb->data || !mu->data ||
        !var->data || p->act.kind || p->fused_add >= 0)
        return 0;
    float eps = nncc_attr_float(g, bn, "epsilon", 1e-5f);
    int64_t C = nncc_shape_count(&sc->shape);
    float *s = nncc_alloc_array(g->ctx, (size_t)C, sizeof(float));
    float *nb = nncc_alloc_array(g->ctx, (size_t)C, sizeof(float));
    float *nw = nncc_alloc_array(g->ctx, (size_t)nncc_shape_count(&w->shape), sizeof(float));
    if (!s || !nb || !nw)
        return -1;
    const float *S = sc->data, *B = bb->data, *M = mu->data, *V = var->data, *W = w->data;
    for (int64_t c = 0; c < C; c++)
        s[c] = S[c] / sqrtf(V[c] + eps);
    int64_t wn = nncc_shape_count(&w->shape);
    if (p->op == NNCC_OP_Conv) {
        if (w->shape.d[0] != C)
            return 0;
        int64_t per = wn / C;
        for (int64_t i = 0; i < wn; i++)
            nw[i] = W[i] * s[i / per];
        for (int64_t c = 0; c < C; c++)
            nb[c] = ((b ? ((const float *)b->data)[c] : 0.0f) - M[c]) * s[c] + B[c];
    } else { /* Gemm: output (M, N) with N == C */
        int64_t transB = nncc_attr_int(g, p, "transB", 0);
        float alpha = nncc_attr_float(g, p, "alpha", 1.0f), beta = nncc_attr_float(g, p, "beta", 1.0f);
        int64_t N = nncc_out(g, p, 0)->shape.d[1];
        if (N != C || w->shape.rank != 2)
            return 0;
        /* bias must be per column (or scalar) to stay a row after folding */
        if (b) {
            int64_t bc = nncc_shape_count(&b->shape);
            if (!(bc == 1 || (bc == N && (b->shape.rank == 1 || b->shape.d[0] == 1))))
                return 0;
        }
        for (int64_t i = 0; i < wn; i++) {
            int64_t j = transB ? i / w->shape.d[1] : i % w->shape.d[1];
            nw[i] = W[i] * s[j] * alpha;
        }
        for (int64_t c = 0; c < C; c++) {
            float bias = 0.0f;
            if (b)
                bias = beta * ((const float *)b->data)[nncc_shape_count(&b->shape) == 1 ? 0 : c];
            nb[c] = (bias - M[c]) * s[c] + B[c];
        }
        /* alpha is now inside the weights, beta inside the bias */
        for (int k = 0; k < p->n_attr; k++) {
            if (!strcmp(p->attr[k].name, "alpha"))
                p->attr[k].f = 1.0f;
            if (!strcmp(p->attr[k].name, "beta"))
                p->attr[k].f = 1.0f;
        }
    }
    nncc_shape cs = { 1, { C } };
    int tw = new_const(g, nncc_fmt(g->ctx, "%s.folded", w->name), &w->shape, nw);
    int tb = new_const(g, nncc_fmt(g->ctx, "%s.bias_folded", p->name), &cs, nb);
    if (tw < 0 || tb < 0)
        return -1;
    if (p->n_in < 3 && nncc_node_resize_inputs(g, p, 3) != NNCC_OK) /* room for the bias input */
        return -1;
    p->in[1] = tw;
    p->in[2] = tb;
    p->out[0] = bn->out[0];
    nncc_note_fused(g, p, bn);
    bn->dead = true;
    return 1;
}

nncc_status nncc_pass_fold_bn(nncc_graph *g, const nncc_options *o)
{
    (void)o;
    int folded = 0;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *bn = &g->n[i];
        if (bn->dead || bn->op != NNCC_OP_BatchNormalization)
            continue;
        int x = bn->in[0];
        int pi = g->t[x].producer;
        if (pi < 0 || g->t[x].is_output || nncc_tensor_uses(g, x) != 1)
            continue;
        nncc_node *p = &g->n[pi];
        if (p->dead || (p->op != NNCC_OP_Conv && p->op != NNCC_OP_Gemm))
            continue;
        int r = fold(g, p, bn);
        if (r < 0)
            return NNCC_ERR_NOMEM;
        folded += r;
    }
    nncc_graph_compact(g);
    if (folded)
        nncc_report(g, "fold-bn", "%d BatchNormalization folded into Conv/Gemm", folded);
    return NNCC_OK;
}
