/*
 * qlinearconv.c - QLinearConv: 1-D/2-D convolution of int8/uint8 x and w
 * with Conv's attributes; x and y scale and zero point per tensor, w's per
 * tensor or per output channel, optional int32 bias (M). The output
 * (y_zero_point's type) is rounded half to even and saturated. Kernel:
 * nncc_qlinear_conv in runtime/nncc_rt_intconv.c.
 */
#include "nncc-impl.h"

#include <string.h>

static bool is8(nncc_dtype t) { return t == NNCC_DT_I8 || t == NNCC_DT_U8; }

/* inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B */
static nncc_status qc_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p, int32_t *wper, nncc_dtype *ty)
{
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 3), *yzp = nncc_in(g, n, 7), *b = nncc_in(g, n, 8);
    *ty = yzp ? yzp->dtype : x->dtype;
    if (!is8(x->dtype) || !is8(w->dtype) || !is8(*ty))
        return nncc_unsupported(g, n, "QLinearConv of %s and %s to %s", nncc_dtype_name(x->dtype),
                                nncc_dtype_name(w->dtype), nncc_dtype_name(*ty));
    if (!nncc_in(g, n, 1) || !nncc_in(g, n, 2) || !nncc_in(g, n, 4) || !nncc_in(g, n, 6)) {
        nncc_error(g, n, "needs x_scale, x_zero_point, w_scale and y_scale");
        return NNCC_ERR_INPUT;
    }
    nncc_node v = *n;
    int ins[2] = { n->in[0], n->in[3] };
    v.in = ins, v.n_in = 2;
    memset(&v.act, 0, sizeof v.act);
    if (nncc_conv_params(g, &v, p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int64_t wc = nncc_shape_count(&nncc_in(g, n, 4)->shape);
    *wper = wc != 1;
    if (wc != 1 && (nncc_in(g, n, 4)->shape.rank != 1 || wc != p->m))
        return nncc_unsupported(g, n, "w_scale of shape %s", nncc_shape_str(g->ctx, &nncc_in(g, n, 4)->shape));
    for (int i = 1; i < 8; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (i == 3 || !t)
            continue;
        bool scale = i == 1 || i == 4 || i == 6;
        nncc_dtype want = scale ? NNCC_DT_F32 : i == 2 ? x->dtype : i == 5 ? w->dtype : *ty;
        if (t->dtype != want) {
            if (scale)
                return nncc_unsupported(g, n, "%s scales", nncc_dtype_name(t->dtype));
            nncc_error(g, n, "input %d has type %s, expected %s", i, nncc_dtype_name(t->dtype), nncc_dtype_name(want));
            return NNCC_ERR_INPUT;
        }
        int64_t c = nncc_shape_count(&t->shape);
        if (i == 5 && c != 1 && (t->shape.rank != 1 || c != p->m || !*wper))
            return nncc_unsupported(g, n, "w_zero_point of shape %s with w_scale %s",
                                    nncc_shape_str(g->ctx, &t->shape),
                                    nncc_shape_str(g->ctx, &nncc_in(g, n, 4)->shape));
        if (i != 4 && i != 5 && (c != 1 || t->shape.rank > 1))
            return nncc_unsupported(g, n, "input %d of shape %s (per-tensor only)", i, nncc_shape_str(g->ctx, &t->shape));
    }
    if (b && (b->dtype != NNCC_DT_I32 || b->shape.rank != 1 || b->shape.d[0] != p->m)) {
        nncc_error(g, n, "bias must be int32 (%lld)", (long long)p->m);
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static nncc_status qc_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 8, 9))
        return NNCC_ERR_INPUT;
    nncc_conv2d_params p;
    int32_t wper;
    nncc_dtype ty;
    if (qc_params(g, n, &p, &wper, &ty) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_conv_out_shape(&nncc_in(g, n, 0)->shape, &p);
    nncc_set_out(g, n, 0, ty, &s);
    return NNCC_OK;
}

static nncc_status qc_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_conv2d_params p;
    int32_t wper;
    nncc_dtype ty;
    if (qc_params(g, n, &p, &wper, &ty) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_qlinear_conv(&p, (int32_t)nncc_in(g, n, 0)->dtype, (int32_t)nncc_in(g, n, 3)->dtype, (int32_t)ty, wper,
                      in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], n->n_in > 8 ? in[8] : NULL, out[0]);
    return NNCC_OK;
}

static void qc_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    int32_t wper;
    nncc_dtype ty;
    if (qc_params(g, n, &p, &wper, &ty) != NNCC_OK)
        return;
    const char *name = nncc_emit_conv2d_params(e, &p);
    fprintf(e->f, "    nncc_qlinear_conv(&%s, %d, %d, %d, %d", name, (int)nncc_in(g, n, 0)->dtype,
            (int)nncc_in(g, n, 3)->dtype, (int)ty, (int)wper);
    for (int i = 0; i < 9; i++)
        fprintf(e->f, ", %s", nncc_emit_ref(e, g, i < n->n_in ? n->in[i] : -1));
    fprintf(e->f, ", %s);\n", nncc_emit_ref(e, g, n->out[0]));
}

static int64_t qc_macs(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    int32_t wper;
    nncc_dtype ty;
    if (qc_params(g, n, &p, &wper, &ty) != NNCC_OK)
        return 0;
    return p.n * p.m * p.oh * p.ow * (p.c / p.group) * p.kh * p.kw;
}

const nncc_op nncc_op_QLinearConv = { .name = "QLinearConv", .infer = qc_infer, .eval = qc_eval,
                                      .emit_c = qc_emit_c, .macs = qc_macs };
