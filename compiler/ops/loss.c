/*
 * loss.c - NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: inference
 * ops of models that compute their own loss (no gradients here).
 *
 *   NLL: input (N,C,d1..dk) log-probabilities, target (N,d1..dk) int64,
 *        weight (C) optional -> loss (N,d1..dk) or a scalar (sum, mean)
 *   SCE: scores (N,C,d1..dk), labels, weights as above -> loss, and the
 *        optional second output log_prob = log_softmax(scores, axis 1)
 *
 * One runtime kernel, nncc_nll_loss_f32, serves both (SCE takes the log
 * softmax on the fly, one class row at a time: no scratch memory).
 */
#include "nncc-impl.h"

#include <string.h>

typedef struct {
    int64_t n, c, d;             /* x is (N,C,D) */
    int32_t reduction;           /* 0 none, 1 sum, 2 mean */
    int32_t has_ignore;
    int64_t ignore;              /* ignore_index */
} loss_info;

static nncc_status loss_params(nncc_graph *g, nncc_node *n, loss_info *li)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    const char *red = nncc_attr_str(g, n, "reduction", "mean");
    memset(li, 0, sizeof *li);
    if (!strcmp(red, "none")) li->reduction = 0;
    else if (!strcmp(red, "sum")) li->reduction = 1;
    else if (!strcmp(red, "mean")) li->reduction = 2;
    else {
        nncc_error(g, n, "reduction must be 'none', 'sum' or 'mean', not '%s'", red);
        return NNCC_ERR_INPUT;
    }
    nncc_attr *ia = nncc_attr_find(n, "ignore_index");
    li->has_ignore = ia != NULL;
    li->ignore = nncc_attr_int(g, n, "ignore_index", 0);
    if (x->shape.rank < 2) {
        nncc_error(g, n, "input %s needs at least the dims (N, C)", nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    li->n = x->shape.d[0];
    li->c = x->shape.d[1];
    li->d = 1;
    for (int i = 2; i < x->shape.rank; i++)
        li->d *= x->shape.d[i];
    return NNCC_OK;
}

static nncc_status loss_infer(nncc_graph *g, nncc_node *n)
{
    bool sce = n->op == NNCC_OP_SoftmaxCrossEntropyLoss;
    if (nncc_check_inputs(g, n, 2, 3) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_UNDEF) || nncc_check_dtype(g, n, 2, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    if (n->n_out > (sce ? 2 : 1)) {
        nncc_error(g, n, "has %d outputs, expected at most %d", n->n_out, sce ? 2 : 1);
        return NNCC_ERR_INPUT;
    }
    loss_info li;
    if (loss_params(g, n, &li) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *t = nncc_in(g, n, 1), *w = nncc_in(g, n, 2);
    bool ok = t->shape.rank == x->shape.rank - 1 && t->shape.d[0] == li.n;
    for (int i = 2; i < x->shape.rank && ok; i++)
        ok = t->shape.d[i - 1] == x->shape.d[i];
    if (!ok || (w && (w->shape.rank != 1 || w->shape.d[0] != li.c))) {
        nncc_error(g, n, "target %s or weight does not fit the input %s", nncc_shape_str(g->ctx, &t->shape),
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_shape s = { 0, { 0 } };
    if (li.reduction == 0)
        s = t->shape;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    if (n->n_out > 1)
        nncc_set_out(g, n, 1, NNCC_DT_F32, &x->shape);
    return NNCC_OK;
}

static nncc_status loss_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    loss_info li;
    if (loss_params(g, n, &li) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (nncc_nll_loss_f32(li.n, li.c, li.d, li.reduction, n->op == NNCC_OP_SoftmaxCrossEntropyLoss, li.has_ignore,
                          li.ignore, in[0], in[1], n->n_in > 2 ? in[2] : NULL, out[0],
                          n->n_out > 1 ? out[1] : NULL)) {
        nncc_error(g, n, "a class index is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void loss_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    loss_info li;
    if (loss_params(g, n, &li) != NNCC_OK)
        return;
    fprintf(e->f, "    if (nncc_nll_loss_f32(%lld, %lld, %lld, %d, %d, %d, %lldLL, %s, %s, %s, %s, %s))\n"
                  "        return 1; /* class index out of range */\n",
            (long long)li.n, (long long)li.c, (long long)li.d, (int)li.reduction,
            n->op == NNCC_OP_SoftmaxCrossEntropyLoss, (int)li.has_ignore, (long long)li.ignore,
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]),
            nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1), nncc_emit_ref(e, g, n->out[0]),
            nncc_emit_ref(e, g, n->n_out > 1 ? n->out[1] : -1));
}

const nncc_op nncc_op_NegativeLogLikelihoodLoss = {
    .name = "NegativeLogLikelihoodLoss", .infer = loss_infer, .eval = loss_eval, .emit_c = loss_emit_c };
const nncc_op nncc_op_SoftmaxCrossEntropyLoss = {
    .name = "SoftmaxCrossEntropyLoss", .infer = loss_infer, .eval = loss_eval, .emit_c = loss_emit_c };
