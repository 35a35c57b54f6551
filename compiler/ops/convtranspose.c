/*
 * convtranspose.c - ConvTranspose (1-D and 2-D, NCHW): groups, strides,
 * dilations, pads, output_padding, output_shape and auto_pad.
 *
 * Per spatial dim, with total = s*(in-1) + output_padding + d*(k-1) + 1 - out:
 *   explicit pads: out = s*(in-1) + output_padding + d*(k-1) + 1 - pad_begin - pad_end
 *   output_shape given (or auto_pad SAME_*: out = in * s): the padding is
 *   `total`, split begin = total/2 for SAME_UPPER, begin = total - total/2
 *   otherwise (the ONNX operator text).
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_status convt_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 1), *b = nncc_in(g, n, 2);
    int r = x->shape.rank;
    if (r < 3 || r > 4)
        return nncc_unsupported(g, n, "%d-D transposed convolution; nncc supports 1-D and 2-D", r - 2);
    if (w->shape.rank != r) {
        nncc_error(g, n, "weight has %d dims, input has %d", w->shape.rank, r);
        return NNCC_ERR_INPUT;
    }
    int sp = r - 2;
    int64_t ks[2], st[2] = { 1, 1 }, dl[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 }, op[2] = { 0, 0 }, os[4];
    int nk = nncc_attr_ints(g, n, "kernel_shape", ks, 2);
    int ns = nncc_attr_ints(g, n, "strides", st, 2);
    int nd = nncc_attr_ints(g, n, "dilations", dl, 2);
    int np = nncc_attr_ints(g, n, "pads", pads, 4);
    int nop = nncc_attr_ints(g, n, "output_padding", op, 2);
    int nos = nncc_attr_ints(g, n, "output_shape", os, 4);
    int64_t group = nncc_attr_int(g, n, "group", 1);
    const char *ap = nncc_attr_str(g, n, "auto_pad", "NOTSET");
    if ((nk >= 0 && nk != sp) || (ns >= 0 && ns != sp) || (nd >= 0 && nd != sp) || (np >= 0 && np != 2 * sp) ||
        (nop >= 0 && nop != sp)) {
        nncc_error(g, n, "kernel_shape/strides/dilations/pads/output_padding do not match %d spatial dims", sp);
        return NNCC_ERR_INPUT;
    }
    if (nos >= 0 && nos != sp) {
        if (nos == r) /* full shape given: keep the spatial part */
            memmove(os, os + 2, (size_t)sp * sizeof os[0]);
        else {
            nncc_error(g, n, "output_shape has %d entries", nos);
            return NNCC_ERR_INPUT;
        }
    }
    int64_t C = x->shape.d[1];
    if (group < 1 || w->shape.d[0] != C || C % group) {
        nncc_error(g, n, "input has %lld channels, weight %s and group %lld do not fit", (long long)C,
                   nncc_shape_str(g->ctx, &w->shape), (long long)group);
        return NNCC_ERR_INPUT;
    }
    int64_t M = w->shape.d[1] * group;
    if (b && nncc_shape_count(&b->shape) != M) {
        nncc_error(g, n, "bias has shape %s, expected %lld", nncc_shape_str(g->ctx, &b->shape), (long long)M);
        return NNCC_ERR_INPUT;
    }
    memset(p, 0, sizeof *p);
    p->n = x->shape.d[0], p->c = C, p->m = M, p->group = group;
    int64_t in[2] = { 1, 1 }, K[2] = { 1, 1 }, S[2] = { 1, 1 }, D[2] = { 1, 1 }, PB[2] = { 0, 0 }, out[2] = { 1, 1 };
    for (int i = 0; i < sp; i++) {
        int j = i + 2 - sp; /* 1-D: the width */
        in[j] = x->shape.d[2 + i], K[j] = w->shape.d[2 + i], S[j] = st[i], D[j] = dl[i];
        if (nk >= 0 && ks[i] != K[j]) {
            nncc_error(g, n, "kernel_shape does not match the weight");
            return NNCC_ERR_INPUT;
        }
        if (S[j] < 1 || D[j] < 1) {
            nncc_error(g, n, "strides and dilations must be positive");
            return NNCC_ERR_INPUT;
        }
        int64_t full = S[j] * (in[j] - 1) + op[i] + D[j] * (K[j] - 1) + 1;
        bool same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
        if (nos >= 0 || same) {
            out[j] = nos >= 0 ? os[i] : in[j] * S[j];
            int64_t total = full - out[j];
            if (total < 0)
                return nncc_unsupported(g, n, "an output_shape larger than the full transposed convolution");
            PB[j] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
        } else {
            PB[j] = pads[i];
            out[j] = full - pads[i] - pads[i + sp];
        }
        if (out[j] < 1) {
            nncc_error(g, n, "the output would be empty");
            return NNCC_ERR_INPUT;
        }
    }
    p->h = in[0], p->w = in[1], p->kh = K[0], p->kw = K[1], p->sh = S[0], p->sw = S[1];
    p->dh = D[0], p->dw = D[1], p->pt = PB[0], p->pl = PB[1], p->oh = out[0], p->ow = out[1];
    p->act = n->act;
    return NNCC_OK;
}

static nncc_status convt_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_conv2d_params p;
    if (convt_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_conv_out_shape(&nncc_in(g, n, 0)->shape, &p);
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status convt_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_conv2d_params p;
    if (convt_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_conv_transpose2d_f32(&p, in[0], in[1], n->n_in > 2 ? in[2] : NULL, out[0]);
    return NNCC_OK;
}

static void convt_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (convt_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_conv2d_params(e, &p);
    fprintf(e->f, "    nncc_conv_transpose2d_f32(&%s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->out[0]));
}

static int64_t convt_macs(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (convt_params(g, n, &p) != NNCC_OK)
        return 0;
    return p.n * p.c * p.h * p.w * (p.m / p.group) * p.kh * p.kw;
}

const nncc_op nncc_op_ConvTranspose = {
    .name = "ConvTranspose",
    .infer = convt_infer,
    .eval = convt_eval,
    .emit_c = convt_emit_c,
    .macs = convt_macs,
};
