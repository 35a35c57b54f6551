/*
 * eltwise.c - FusedElementwise: nncc's own op for a chain of float32
 * elementwise nodes that passes/eltwise.c merged into one loop. Not an ONNX
 * op: a model that names it is refused.
 *
 * Input 0 is the chain's input x; the other inputs are the operands its
 * binary steps read (n->ew says which, and how each is indexed). For each
 * element i: v = x[i], then each step, then y[i] = v. The generated C is
 * that loop, written out with one line per step (a comment names the model
 * node it came from); each line calls nncc_unary1_f32 / nncc_binary1_f32,
 * the static inline scalar functions of runtime/nncc_runtime.h that the
 * unfused kernels use too, with constant op codes, so the C compiler turns
 * them into plain arithmetic and the numbers are those of the unfused ops.
 * eval (constant folding, nncc's interpreter) runs the same steps.
 */
#include "nncc-impl.h"

static nncc_status ew_infer(nncc_graph *g, nncc_node *n)
{
    if (!n->ew) {
        nncc_error(g, n, "FusedElementwise is nncc's internal op (made by its elementwise fusion), not a model op");
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, NNCC_DT_F32, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

static nncc_status ew_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    const nncc_ew_chain *c = n->ew;
    const float *x = in[0];
    float *y = out[0];
    int64_t total = nncc_shape_count(&nncc_in(g, n, 0)->shape);
    for (int64_t i = 0; i < total; i++) {
        float v = x[i];
        for (int k = 0; k < c->n; k++) {
            const nncc_ew_step *s = &c->step[k];
            if (!s->binary) {
                v = nncc_unary1_f32(s->code, s->alpha, s->beta, v);
                continue;
            }
            const float *o = in[s->operand];
            float b = s->bcast == NNCC_EW_SAME     ? o[i]
                      : s->bcast == NNCC_EW_SCALAR ? o[0]
                      : s->bcast == NNCC_EW_SELF   ? v
                                                   : o[(i / c->inner) % c->channels];
            v = s->swap ? nncc_binary1_f32(s->code, b, v) : nncc_binary1_f32(s->code, v, b);
        }
        y[i] = v;
    }
    return NNCC_OK;
}

/* The C expression of step s's operand inside the loop. */
static const char *operand_c(nncc_emit *e, nncc_graph *g, nncc_node *n, const nncc_ew_step *s, int *n_ch)
{
    if (s->bcast == NNCC_EW_SELF)
        return "ew_v";
    if (s->operand == 0 && s->bcast == NNCC_EW_SAME)
        return "ew_x[ew_i]";
    nncc_tensor *t = nncc_in(g, n, s->operand);
    if (s->bcast == NNCC_EW_CHANNEL)
        return nncc_fmt(g->ctx, "ew_c[%d]", (*n_ch)++);
    if (s->bcast == NNCC_EW_SCALAR && t->data) /* a constant is written as a literal */
        return nncc_float_c(g->ctx, ((const float *)t->data)[0]);
    return nncc_fmt(g->ctx, "(%s)[%s]", nncc_emit_ref(e, g, n->in[s->operand]),
                    s->bcast == NNCC_EW_SAME ? "ew_i" : "0");
}

/* One block computing rows [r0, r1) (per-channel chains) or elements [r0, r1). */
static void ew_emit_range(nncc_emit *e, nncc_graph *g, nncc_node *n, int n_ch, int64_t r0, int64_t r1)
{
    const nncc_ew_chain *c = n->ew;
    const char *ind = c->channels ? "                " : "            ";
    fprintf(e->f, "    {\n        const float *ew_x = %s;\n        float *ew_y = %s;\n", nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
    if (c->channels) {
        /* per-channel operands: the values of row ew_r, hoisted out of the inner loop */
        fprintf(e->f, "        int64_t ew_i = %lld;\n        for (int64_t ew_r = %lld; ew_r < %lld; ew_r++) {\n",
                (long long)(r0 * c->inner), (long long)r0, (long long)r1);
        fprintf(e->f, "            const float ew_c[%d] = { ", n_ch);
        for (int k = 0, j = 0; k < c->n; k++) {
            const nncc_ew_step *s = &c->step[k];
            if (s->binary && s->bcast == NNCC_EW_CHANNEL)
                fprintf(e->f, "%s(%s)[ew_r %% %lld]", j++ ? ", " : "", nncc_emit_ref(e, g, n->in[s->operand]),
                        (long long)c->channels);
        }
        fprintf(e->f, " };\n            for (int64_t ew_j = 0; ew_j < %lld; ew_j++, ew_i++) {\n", (long long)c->inner);
    } else {
        fprintf(e->f, "        for (int64_t ew_i = %lld; ew_i < %lld; ew_i++) {\n", (long long)r0, (long long)r1);
    }
    fprintf(e->f, "%sfloat ew_v = ew_x[ew_i];\n", ind);
    int ch = 0;
    for (int k = 0; k < c->n; k++) {
        const nncc_ew_step *s = &c->step[k];
        const char *what = nncc_emit_comment(g, s->from);
        if (!s->binary) {
            fprintf(e->f, "%sew_v = nncc_unary1_f32(%d, %s, %s, ew_v); /* %s */\n", ind, s->code,
                    nncc_float_c(g->ctx, s->alpha), nncc_float_c(g->ctx, s->beta), what);
            continue;
        }
        const char *b = operand_c(e, g, n, s, &ch);
        fprintf(e->f, "%sew_v = nncc_binary1_f32(%d, %s, %s); /* %s */\n", ind, s->code, s->swap ? b : "ew_v",
                s->swap ? "ew_v" : b, what);
    }
    fprintf(e->f, "%sew_y[ew_i] = ew_v;\n", ind);
    if (c->channels)
        fprintf(e->f, "            }\n");
    fprintf(e->f, "        }\n    }\n");
}

/* One loop over the elements (rows of per-channel chains), in --threads
 * parts when the work is large enough. */
static void ew_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    const nncc_ew_chain *c = n->ew;
    int64_t total = nncc_shape_count(&nncc_in(g, n, 0)->shape);
    int n_ch = 0;
    for (int k = 0; k < c->n; k++)
        n_ch += c->step[k].binary && c->step[k].bcast == NNCC_EW_CHANNEL;
    int64_t bounds[NNCC_EMIT_MAX_PARTS + 1];
    const int parts = nncc_emit_parts(e, g, c->channels ? total / c->inner : total, total * c->n, bounds);
    for (int k = 0; k < parts; k++) {
        nncc_emit_part(e, parts);
        ew_emit_range(e, g, n, n_ch, bounds[k], bounds[k + 1]);
    }
    nncc_emit_parts_end(e, parts);
}

const nncc_op nncc_op_FusedElementwise = { .name = "FusedElementwise", .flags = NNCC_OPF_INPLACE, .infer = ew_infer,
                                           .eval = ew_eval, .emit_c = ew_emit_c };
