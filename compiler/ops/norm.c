/*
 * norm.c - BatchNormalization (inference form), LpNormalization, Softmax,
 * LogSoftmax and Hardmax.
 *
 * Softmax before opset 13 coerces the input to 2-D at `axis` (default 1) and
 * normalises over everything from axis on; from opset 13 it normalises over
 * the single `axis` (default -1). Both map onto the kernel's (outer, len, inner).
 */
#include "nncc-impl.h"

/* ---- BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + B ---- */

static nncc_status bn_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 5, 5))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 5; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_attr_float(g, n, "epsilon", 1e-5f);
    nncc_attr_float(g, n, "momentum", 0.9f); /* training only */
    if (n->opset < 9)
        nncc_attr_int(g, n, "spatial", 1);
    if (n->opset < 7)
        nncc_attr_ints(g, n, "consumed_inputs", NULL, 0);
    if (nncc_attr_int(g, n, "training_mode", 0) != 0)
        return nncc_unsupported(g, n, "training_mode=1 (nncc compiles inference graphs)");
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0)
            return nncc_unsupported(g, n, "the training outputs (running mean/var) of BatchNormalization");
    nncc_tensor *x = nncc_in(g, n, 0);
    if (x->shape.rank < 2) {
        nncc_error(g, n, "input %s has no channel dim", nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    int64_t C = x->shape.d[1];
    for (int i = 1; i < 5; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (nncc_shape_count(&t->shape) != C || t->shape.rank != 1) {
            nncc_error(g, n, "input '%s' has shape %s, expected %lld (the channels)", t->name,
                       nncc_shape_str(g->ctx, &t->shape), (long long)C);
            return NNCC_ERR_INPUT;
        }
    }
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x->shape);
    return NNCC_OK;
}

static nncc_status bn_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    nncc_batchnorm_f32(N, C, HW, nncc_attr_float(g, n, "epsilon", 1e-5f), in[1], in[2], in[3], in[4], in[0], out[0]);
    return NNCC_OK;
}

static void bn_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    fprintf(e->f, "    nncc_batchnorm_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %s);\n", (long long)N, (long long)C,
            (long long)HW, nncc_float_c(g->ctx, nncc_attr_float(g, n, "epsilon", 1e-5f)),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->in[3]),
            nncc_emit_ref(e, g, n->in[4]), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_BatchNormalization = {
    .name = "BatchNormalization", .flags = NNCC_OPF_INPLACE, .infer = bn_infer, .eval = bn_eval, .emit_c = bn_emit_c };

/* ---- (outer, len, inner) around an axis ---- */

typedef struct {
    int64_t outer, len, inner;
    int32_t p;                   /* LpNormalization: 1 or 2 */
} axis_split;

static nncc_status split_at(nncc_graph *g, nncc_node *n, axis_split *s)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    bool legacy = (n->op == NNCC_OP_Softmax || n->op == NNCC_OP_LogSoftmax || n->op == NNCC_OP_Hardmax) &&
                  n->opset < 13;
    int64_t axis = nncc_attr_int(g, n, "axis", legacy ? 1 : -1);
    s->p = n->op == NNCC_OP_LpNormalization ? (int32_t)nncc_attr_int(g, n, "p", 2) : 0;
    if (n->op == NNCC_OP_LpNormalization && s->p != 1 && s->p != 2) {
        nncc_error(g, n, "p must be 1 or 2, not %d", (int)s->p);
        return NNCC_ERR_INPUT;
    }
    if (r == 0) {
        s->outer = s->len = s->inner = 1;
        return NNCC_OK;
    }
    if (nncc_axis(g, n, &axis, r) != NNCC_OK)
        return NNCC_ERR_INPUT;
    s->outer = s->len = s->inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis)
            s->outer *= x->shape.d[i];
        else if (i == axis || legacy)
            s->len *= x->shape.d[i];
        else
            s->inner *= x->shape.d[i];
    }
    return NNCC_OK;
}

static nncc_status axis_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    axis_split s;
    if (split_at(g, n, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

static nncc_status axis_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    axis_split s;
    if (split_at(g, n, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (n->op == NNCC_OP_LpNormalization)
        nncc_lpnorm_f32(s.outer, s.len, s.inner, s.p, in[0], out[0]);
    else if (n->op == NNCC_OP_Hardmax)
        nncc_hardmax_f32(s.outer, s.len, s.inner, in[0], out[0]);
    else
        nncc_softmax_f32(s.outer, s.len, s.inner, n->op == NNCC_OP_LogSoftmax, in[0], out[0]);
    return NNCC_OK;
}

static void axis_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    axis_split s;
    if (split_at(g, n, &s) != NNCC_OK)
        return;
    if (n->op == NNCC_OP_LpNormalization)
        fprintf(e->f, "    nncc_lpnorm_f32(%lld, %lld, %lld, %d, %s, %s);\n", (long long)s.outer, (long long)s.len,
                (long long)s.inner, (int)s.p, nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
    else if (n->op == NNCC_OP_Hardmax)
        fprintf(e->f, "    nncc_hardmax_f32(%lld, %lld, %lld, %s, %s);\n", (long long)s.outer, (long long)s.len,
                (long long)s.inner, nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
    else {
        /* with --threads, parts of the outer rows on each thread */
        int64_t bounds[NNCC_EMIT_MAX_PARTS + 1];
        const int64_t row = s.len * s.inner;
        const int parts = nncc_emit_parts(e, g, s.outer, s.outer * row, bounds);
        for (int i = 0; i < parts; i++) {
            nncc_emit_part(e, parts);
            fprintf(e->f, "    nncc_softmax_f32(%lld, %lld, %lld, %d, %s, %s);\n", (long long)(bounds[i + 1] - bounds[i]),
                    (long long)s.len, (long long)s.inner, n->op == NNCC_OP_LogSoftmax,
                    nncc_emit_at(e, nncc_emit_ref(e, g, n->in[0]), bounds[i] * row),
                    nncc_emit_at(e, nncc_emit_ref(e, g, n->out[0]), bounds[i] * row));
        }
        nncc_emit_parts_end(e, parts);
    }
}

const nncc_op nncc_op_LpNormalization = {
    .name = "LpNormalization", .infer = axis_infer, .eval = axis_eval, .emit_c = axis_emit_c };
const nncc_op nncc_op_Softmax = { .name = "Softmax", .infer = axis_infer, .eval = axis_eval, .emit_c = axis_emit_c };
const nncc_op nncc_op_LogSoftmax = {
    .name = "LogSoftmax", .infer = axis_infer, .eval = axis_eval, .emit_c = axis_emit_c };
const nncc_op nncc_op_Hardmax = { .name = "Hardmax", .infer = axis_infer, .eval = axis_eval, .emit_c = axis_emit_c };
