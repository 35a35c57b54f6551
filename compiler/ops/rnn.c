/*
 * rnn.c - RNN, GRU and LSTM (forward, reverse, bidirectional; layout 0 and
 * 1; clip; GRU linear_before_reset; LSTM peepholes; sequence_lens, initial
 * state) with the default activations: others are refused.
 *
 *   layout 0: X (S,B,I) -> Y (S,D,B,H), Y_h (D,B,H), Y_c (D,B,H)
 *   layout 1: X (B,S,I) -> Y (B,S,D,H), Y_h (B,D,H), Y_c (B,D,H)
 *
 * The kernel keeps its state in Y, Y_h and (LSTM) Y_c, so when the model
 * leaves one of them out, infer gives the node an internal tensor for it,
 * planned in the arena like any intermediate (the only scratch nncc uses).
 */
#include "nncc-impl.h"

#include <string.h>

static int n_state_outs(const nncc_node *n) { return n->op == NNCC_OP_LSTM ? 3 : 2; }

static nncc_status rnn_params(nncc_graph *g, nncc_node *n, nncc_rnn_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 1), *r = nncc_in(g, n, 2);
    const char *dir = nncc_attr_str(g, n, "direction", "forward");
    int64_t hidden = nncc_attr_int(g, n, "hidden_size", 0), layout = nncc_attr_int(g, n, "layout", 0);
    memset(p, 0, sizeof *p);
    p->kind = n->op == NNCC_OP_LSTM ? NNCC_RNN_LSTM : n->op == NNCC_OP_GRU ? NNCC_RNN_GRU : NNCC_RNN_SIMPLE;
    p->clip = nncc_attr_float(g, n, "clip", 0.0f);
    if (n->op == NNCC_OP_GRU)
        p->linear_before_reset = (int32_t)nncc_attr_int(g, n, "linear_before_reset", 0);
    if (n->op == NNCC_OP_LSTM && nncc_attr_int(g, n, "input_forget", 0))
        return nncc_unsupported(g, n, "input_forget=1");
    p->dirs = !strcmp(dir, "bidirectional") ? 2 : 1;
    p->reverse = !strcmp(dir, "reverse");
    if (strcmp(dir, "forward") && strcmp(dir, "reverse") && strcmp(dir, "bidirectional")) {
        nncc_error(g, n, "unknown direction '%s'", dir);
        return NNCC_ERR_INPUT;
    }
    int64_t G = p->kind == NNCC_RNN_LSTM ? 4 : p->kind == NNCC_RNN_GRU ? 3 : 1;
    if (x->shape.rank != 3 || hidden <= 0 || (layout != 0 && layout != 1)) {
        nncc_error(g, n, "needs a 3-D X, a positive hidden_size and layout 0 or 1");
        return NNCC_ERR_INPUT;
    }
    p->seq = x->shape.d[layout ? 1 : 0];
    p->batch = x->shape.d[layout ? 0 : 1];
    p->input = x->shape.d[2];
    p->hidden = hidden;
    nncc_shape ws = { 3, { p->dirs, G * hidden, p->input } }, rs = { 3, { p->dirs, G * hidden, hidden } };
    if (!nncc_shape_eq(&w->shape, &ws) || !nncc_shape_eq(&r->shape, &rs)) {
        nncc_error(g, n, "W %s or R %s does not fit", nncc_shape_str(g->ctx, &w->shape),
                   nncc_shape_str(g->ctx, &r->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_tensor *b = nncc_in(g, n, 3), *sl = nncc_in(g, n, 4), *h0 = nncc_in(g, n, 5);
    nncc_tensor *c0 = n->op == NNCC_OP_LSTM ? nncc_in(g, n, 6) : NULL, *pp = n->op == NNCC_OP_LSTM ? nncc_in(g, n, 7) : NULL;
    nncc_shape bs = { 2, { p->dirs, 2 * G * hidden } }, sls = { 1, { p->batch } };
    nncc_shape hs = layout ? (nncc_shape){ 3, { p->batch, p->dirs, hidden } } : (nncc_shape){ 3, { p->dirs, p->batch, hidden } };
    nncc_shape ps = { 2, { p->dirs, 3 * hidden } };
    if ((b && !nncc_shape_eq(&b->shape, &bs)) || (sl && !nncc_shape_eq(&sl->shape, &sls)) ||
        (h0 && !nncc_shape_eq(&h0->shape, &hs)) || (c0 && !nncc_shape_eq(&c0->shape, &hs)) ||
        (pp && !nncc_shape_eq(&pp->shape, &ps))) {
        nncc_error(g, n, "B, sequence_lens, initial_h, initial_c or P has the wrong shape");
        return NNCC_ERR_INPUT;
    }
    if (layout == 0) {
        p->xs[0] = p->batch * p->input, p->xs[1] = p->input;
        p->ys[0] = p->dirs * p->batch * hidden, p->ys[1] = p->batch * hidden, p->ys[2] = hidden;
        p->hs[0] = p->batch * hidden, p->hs[1] = hidden;
    } else {
        p->xs[0] = p->input, p->xs[1] = p->seq * p->input;
        p->ys[0] = p->dirs * hidden, p->ys[1] = hidden, p->ys[2] = p->seq * p->dirs * hidden;
        p->hs[0] = hidden, p->hs[1] = p->dirs * hidden;
    }
    return NNCC_OK;
}

static nncc_status rnn_infer(nncc_graph *g, nncc_node *n)
{
    int max_in = n->op == NNCC_OP_LSTM ? 8 : 6;
    if (nncc_check_inputs(g, n, 3, max_in))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < max_in; i++)
        if (nncc_check_dtype(g, n, i, i == 4 ? NNCC_DT_I32 : NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    if (n->n_out > n_state_outs(n)) {
        nncc_error(g, n, "has %d outputs, at most %d", n->n_out, n_state_outs(n));
        return NNCC_ERR_INPUT;
    }
    nncc_rnn_params p;
    if (rnn_params(g, n, &p) != NNCC_OK || nncc_node_materialize_outputs(g, (int)(n - g->n), n_state_outs(n)) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int64_t layout = nncc_attr_int(g, n, "layout", 0);
    nncc_shape ys = layout ? (nncc_shape){ 4, { p.batch, p.seq, p.dirs, p.hidden } }
                           : (nncc_shape){ 4, { p.seq, p.dirs, p.batch, p.hidden } };
    nncc_shape hs = layout ? (nncc_shape){ 3, { p.batch, p.dirs, p.hidden } } : (nncc_shape){ 3, { p.dirs, p.batch, p.hidden } };
    nncc_set_out(g, n, 0, NNCC_DT_F32, &ys);
    for (int i = 1; i < n->n_out; i++)
        nncc_set_out(g, n, i, NNCC_DT_F32, &hs);
    return NNCC_OK;
}

static const void *in_or_null(nncc_node *n, const void **in, int i) { return i < n->n_in ? in[i] : NULL; }

static nncc_status rnn_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_rnn_params p;
    if (rnn_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    bool lstm = n->op == NNCC_OP_LSTM;
    nncc_rnn_f32(&p, in[0], in[1], in[2], in_or_null(n, in, 3), in_or_null(n, in, 4), in_or_null(n, in, 5),
                 lstm ? in_or_null(n, in, 6) : NULL, lstm ? in_or_null(n, in, 7) : NULL, out[0], out[1],
                 lstm ? out[2] : NULL);
    return NNCC_OK;
}

static void rnn_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_rnn_params p;
    if (rnn_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_rnn_params");
    fprintf(e->pf, "{\n    .kind = %d, .seq = %lld, .batch = %lld, .input = %lld, .hidden = %lld, .dirs = %lld,\n"
                   "    .reverse = %d, .linear_before_reset = %d, .clip = %s, .xs = ",
            (int)p.kind, (long long)p.seq, (long long)p.batch, (long long)p.input, (long long)p.hidden,
            (long long)p.dirs, (int)p.reverse, (int)p.linear_before_reset, nncc_float_c(g->ctx, p.clip));
    nncc_emit_i64s(e, p.xs, 2);
    fprintf(e->pf, ", .ys = ");
    nncc_emit_i64s(e, p.ys, 3);
    fprintf(e->pf, ", .hs = ");
    nncc_emit_i64s(e, p.hs, 2);
    fprintf(e->pf, "\n};\n");
    bool lstm = n->op == NNCC_OP_LSTM;
    const char *a[8];
    for (int i = 0; i < 8; i++)
        a[i] = nncc_emit_ref(e, g, i < n->n_in && (lstm || i < 6) ? n->in[i] : -1);
    fprintf(e->f, "    nncc_rnn_f32(&%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n", name, a[0], a[1], a[2], a[3],
            a[4], a[5], a[6], a[7], nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->out[1]),
            nncc_emit_ref(e, g, lstm ? n->out[2] : -1));
}

const nncc_op nncc_op_RNN = { .name = "RNN", .infer = rnn_infer, .eval = rnn_eval, .emit_c = rnn_emit_c };
const nncc_op nncc_op_GRU = { .name = "GRU", .infer = rnn_infer, .eval = rnn_eval, .emit_c = rnn_emit_c };
const nncc_op nncc_op_LSTM = { .name = "LSTM", .infer = rnn_infer, .eval = rnn_eval, .emit_c = rnn_emit_c };
