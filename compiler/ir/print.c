/*
 * print.c - the graph as readable text (--print-graph, --dump-after):
 *
 *   input  x: float32[1x3x32x32]
 *   const  conv1.weight: float32[32x3x3x3]
 *   y1: float32[1x32x32x32] = Conv(x, conv1.weight) {relu}   # conv1 @0
 *   y2: float32[1x32x32x32] = FusedElementwise(y1, k) {Mul(k), Relu}   # relu2 + 'mul2' (Mul)
 *   output y: float32[1x10]
 */
#include "nncc-impl.h"

static void print_tensor(const nncc_graph *g, int t, FILE *f)
{
    const nncc_tensor *x = &g->t[t];
    fprintf(f, "%s: %s[%s]", x->name, nncc_dtype_name(x->dtype),
            x->has_shape ? nncc_shape_str(g->ctx, &x->shape) : "?");
}

static const char *act_names[] = { "", "relu", "leaky_relu", "clip", "sigmoid", "tanh",
                                   "hard_sigmoid", "hard_swish" };

void nncc_graph_print(const nncc_graph *g, FILE *f)
{
    fprintf(f, "graph %s\n", g->name);
    for (int i = 0; i < g->n_inputs; i++) {
        fprintf(f, "  input  ");
        print_tensor(g, g->inputs[i], f);
        fputc('\n', f);
    }
    for (int i = 0; i < g->n_n; i++) {
        const nncc_node *n = &g->n[i];
        fprintf(f, "  ");
        for (int k = 0; k < n->n_out; k++) {
            if (k)
                fprintf(f, ", ");
            if (n->out[k] >= 0)
                print_tensor(g, n->out[k], f);
            else
                fprintf(f, "_");
        }
        fprintf(f, " = %s(", nncc_ops[n->op]->name);
        for (int k = 0; k < n->n_in; k++)
            fprintf(f, "%s%s", k ? ", " : "", n->in[k] >= 0 ? g->t[n->in[k]].name : "");
        fprintf(f, ")");
        if (n->act.kind != NNCC_ACT_NONE || n->fused_add >= 0) {
            fprintf(f, " {");
            if (n->fused_add >= 0)
                fprintf(f, "+%s%s", g->t[n->fused_add].name, n->act.kind ? ", " : "");
            if (n->act.kind > 0 && n->act.kind < (int)(sizeof act_names / sizeof *act_names))
                fprintf(f, "%s", act_names[n->act.kind]);
            fprintf(f, "}");
        }
        if (n->fused_pool) /* a pool of the output, in the same kernel */
            fprintf(f, " {then %s %lldx%lld stride %lld,%lld}", n->fused_pool->kind == NNCC_POOL_MAX ? "MaxPool" : "AveragePool",
                    (long long)n->fused_pool->kh, (long long)n->fused_pool->kw, (long long)n->fused_pool->sh,
                    (long long)n->fused_pool->sw);
        for (int k = 0; n->ew && k < n->ew->n; k++) { /* FusedElementwise: its steps */
            const nncc_ew_step *st = &n->ew->step[k];
            fprintf(f, "%s%s", k ? ", " : " {", nncc_ops[st->src_op]->name);
            if (st->binary && st->bcast == NNCC_EW_SELF)
                fprintf(f, "(self)");
            else if (st->binary)
                fprintf(f, "(%s)", g->t[n->in[st->operand]].name);
            fprintf(f, "%s", k == n->ew->n - 1 ? "}" : "");
        }
        fprintf(f, "   # %s", n->name);
        if (n->fused_from)
            fprintf(f, " + %s", n->fused_from);
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && g->t[n->out[k]].offset >= 0)
                fprintf(f, " @%lld", (long long)g->t[n->out[k]].offset);
        fputc('\n', f);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        fprintf(f, "  output ");
        print_tensor(g, g->outputs[i], f);
        fputc('\n', f);
    }
}
