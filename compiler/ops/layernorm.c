/*
 * layernorm.c - LayerNormalization (normalise over axis..rank-1, scale and
 * bias of that trailing shape; optional outputs Mean and InvStdDev, of the
 * input's shape with 1 from axis on), RMSNormalization (the same without
 * the mean, no bias), InstanceNormalization (over the spatial dims per
 * (n, c), scale and bias per channel), GroupNormalization (over groups of
 * channels, scale and bias per channel) and LRN (across nearby channels).
 */
#include "nncc-impl.h"

static nncc_status ln_sizes(nncc_graph *g, nncc_node *n, int64_t *rows, int64_t *len)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", -1);
    if (nncc_axis(g, n, &axis, x->shape.rank) != NNCC_OK)
        return NNCC_ERR_INPUT;
    *rows = *len = 1;
    for (int i = 0; i < x->shape.rank; i++)
        *(i < axis ? rows : len) *= x->shape.d[i];
    return NNCC_OK;
}

static nncc_status ln_infer(nncc_graph *g, nncc_node *n)
{
    bool rms = n->op == NNCC_OP_RMSNormalization;
    if (nncc_check_inputs(g, n, 2, rms ? 2 : 3))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_attr_float(g, n, "epsilon", 1e-5f);
    nncc_attr_int(g, n, "stash_type", 1); /* float32 statistics either way */
    if (rms && n->n_out > 1) {
        nncc_error(g, n, "has %d outputs; RMSNormalization has one", n->n_out);
        return NNCC_ERR_INPUT;
    }
    int64_t rows, len;
    if (ln_sizes(g, n, &rows, &len) != NNCC_OK)
        return NNCC_ERR_INPUT;
    for (int i = 1; i < n->n_in; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (t && nncc_shape_count(&t->shape) != len)
            return nncc_unsupported(g, n, "%s of shape %s (nncc needs the full normalised shape, %lld elements)",
                                    i == 1 ? "Scale" : "B", nncc_shape_str(g->ctx, &t->shape), (long long)len);
    }
    nncc_shape x = nncc_in(g, n, 0)->shape, st = x;
    int64_t axis = nncc_attr_int(g, n, "axis", -1);
    if (axis < 0)
        axis += x.rank;
    for (int i = (int)axis; i < x.rank; i++)
        st.d[i] = 1;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x);
    for (int i = 1; i < n->n_out && i < 3; i++)
        nncc_set_out(g, n, i, NNCC_DT_F32, &st);
    return NNCC_OK;
}

static nncc_status ln_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t rows, len;
    if (ln_sizes(g, n, &rows, &len) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_layernorm_f32(rows, len, nncc_attr_float(g, n, "epsilon", 1e-5f), n->op == NNCC_OP_RMSNormalization, in[1],
                       n->n_in > 2 ? in[2] : NULL, in[0], out[0], n->n_out > 1 ? out[1] : NULL,
                       n->n_out > 2 ? out[2] : NULL);
    return NNCC_OK;
}

static void ln_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t rows, len;
    if (ln_sizes(g, n, &rows, &len) != NNCC_OK)
        return;
    fprintf(e->f, "    nncc_layernorm_f32(%lld, %lld, %s, %d, %s, %s, %s, %s, %s, %s);\n", (long long)rows,
            (long long)len, nncc_float_c(g->ctx, nncc_attr_float(g, n, "epsilon", 1e-5f)),
            n->op == NNCC_OP_RMSNormalization, nncc_emit_ref(e, g, n->in[1]),
            nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->n_out > 1 ? n->out[1] : -1),
            nncc_emit_ref(e, g, n->n_out > 2 ? n->out[2] : -1));
}

const nncc_op nncc_op_LayerNormalization = {
    .name = "LayerNormalization", .infer = ln_infer, .eval = ln_eval, .emit_c = ln_emit_c };
const nncc_op nncc_op_RMSNormalization = {
    .name = "RMSNormalization", .infer = ln_infer, .eval = ln_eval, .emit_c = ln_emit_c };

/* Inputs 1 and 2 (scale, bias) hold one value per channel of input 0. */
static nncc_status per_channel(nncc_graph *g, nncc_node *n)
{
    int64_t C = nncc_in(g, n, 0)->shape.d[1];
    for (int i = 1; i < 3; i++)
        if (nncc_shape_count(&nncc_in(g, n, i)->shape) != C) {
            nncc_error(g, n, "scale and bias must have one value per channel (%lld)", (long long)C);
            return NNCC_ERR_INPUT;
        }
    return NNCC_OK;
}

/* ---- InstanceNormalization ---- */

static nncc_status in_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 3))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_attr_float(g, n, "epsilon", 1e-5f);
    nncc_tensor *x = nncc_in(g, n, 0);
    if (x->shape.rank < 3) {
        nncc_error(g, n, "input %s has no spatial dims", nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    if (per_channel(g, n) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x->shape);
    return NNCC_OK;
}

static nncc_status in_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    nncc_instancenorm_f32(N, C, HW, nncc_attr_float(g, n, "epsilon", 1e-5f), in[1], in[2], in[0], out[0]);
    return NNCC_OK;
}

static void in_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    fprintf(e->f, "    nncc_instancenorm_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s);\n", (long long)N, (long long)C,
            (long long)HW, nncc_float_c(g->ctx, nncc_attr_float(g, n, "epsilon", 1e-5f)),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_InstanceNormalization = {
    .name = "InstanceNormalization", .infer = in_infer, .eval = in_eval, .emit_c = in_emit_c };

/* ---- GroupNormalization: x (N,C,...), scale (C), bias (C), num_groups ---- */

static nncc_status gn_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 3))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_attr_float(g, n, "epsilon", 1e-5f);
    nncc_attr_int(g, n, "stash_type", 1);
    int64_t groups = nncc_attr_int(g, n, "num_groups", 0);
    nncc_tensor *x = nncc_in(g, n, 0);
    if (x->shape.rank < 2 || groups <= 0 || x->shape.d[1] % groups) {
        nncc_error(g, n, "num_groups %lld does not divide the channels of %s", (long long)groups,
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    if (per_channel(g, n) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x->shape);
    return NNCC_OK;
}

static nncc_status gn_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    nncc_groupnorm_f32(N, C, HW, nncc_attr_int(g, n, "num_groups", 1), nncc_attr_float(g, n, "epsilon", 1e-5f), in[1],
                       in[2], in[0], out[0]);
    return NNCC_OK;
}

static void gn_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    fprintf(e->f, "    nncc_groupnorm_f32(%lld, %lld, %lld, %lld, %s, %s, %s, %s, %s);\n", (long long)N, (long long)C,
            (long long)HW, (long long)nncc_attr_int(g, n, "num_groups", 1),
            nncc_float_c(g->ctx, nncc_attr_float(g, n, "epsilon", 1e-5f)), nncc_emit_ref(e, g, n->in[1]),
            nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_GroupNormalization = {
    .name = "GroupNormalization", .infer = gn_infer, .eval = gn_eval, .emit_c = gn_emit_c };

/* ---- LRN: x (N,C,...), size, alpha, beta, bias ---- */

static nncc_status lrn_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_attr_float(g, n, "alpha", 1e-4f);
    nncc_attr_float(g, n, "beta", 0.75f);
    nncc_attr_float(g, n, "bias", 1.0f);
    if (nncc_attr_int(g, n, "size", 0) <= 0 || x->shape.rank < 2) {
        nncc_error(g, n, "needs a positive size and an (N,C,...) input");
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x->shape);
    return NNCC_OK;
}

static nncc_status lrn_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    nncc_lrn_f32(N, C, HW, nncc_attr_int(g, n, "size", 1), nncc_attr_float(g, n, "alpha", 1e-4f),
                 nncc_attr_float(g, n, "beta", 0.75f), nncc_attr_float(g, n, "bias", 1.0f), in[0], out[0]);
    return NNCC_OK;
}

static void lrn_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t N, C, HW;
    nncc_nc_split(g, n, &N, &C, &HW);
    fprintf(e->f, "    nncc_lrn_f32(%lld, %lld, %lld, %lld, %s, %s, %s, %s, %s);\n", (long long)N, (long long)C,
            (long long)HW, (long long)nncc_attr_int(g, n, "size", 1),
            nncc_float_c(g->ctx, nncc_attr_float(g, n, "alpha", 1e-4f)),
            nncc_float_c(g->ctx, nncc_attr_float(g, n, "beta", 0.75f)),
            nncc_float_c(g->ctx, nncc_attr_float(g, n, "bias", 1.0f)), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_LRN = { .name = "LRN", .infer = lrn_infer, .eval = lrn_eval, .emit_c = lrn_emit_c };
