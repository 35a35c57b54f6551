/*
 * intconv.c - MatMulInteger and ConvInteger: int8/uint8 inputs with
 * optional zero points, int32 output. MatMulInteger: a (...,M,K) times b
 * (...,K,N) (same batch dims) or b (K,N); a's zero point per tensor or per
 * row (M), b's per tensor or per column (N). ConvInteger: 1-D/2-D with
 * Conv's attributes; x's zero point per tensor, w's per tensor or per
 * output channel. Kernels in runtime/nncc_rt_intconv.c.
 */
#include "nncc-impl.h"

#include <string.h>

static bool is8(nncc_dtype t) { return t == NNCC_DT_I8 || t == NNCC_DT_U8; }

/* zero point input i of n: absent (*per = 0, ok), one value, or `len` values
 * (*per = 1); the type must be `want`. */
static nncc_status zp_check(nncc_graph *g, nncc_node *n, int i, nncc_dtype want, int64_t len, int32_t *per,
                            const char *what)
{
    nncc_tensor *z = nncc_in(g, n, i);
    *per = 0;
    if (!z)
        return NNCC_OK;
    if (z->dtype != want) {
        nncc_error(g, n, "%s zero point has type %s, expected %s", what, nncc_dtype_name(z->dtype),
                   nncc_dtype_name(want));
        return NNCC_ERR_INPUT;
    }
    int64_t c = nncc_shape_count(&z->shape);
    if (c == 1 && z->shape.rank <= 1)
        return NNCC_OK;
    if (len > 0 && z->shape.rank == 1 && c == len) {
        *per = 1;
        return NNCC_OK;
    }
    return nncc_unsupported(g, n, "%s zero point of shape %s", what, nncc_shape_str(g->ctx, &z->shape));
}

/* ---- MatMulInteger ---- */

static nncc_status mmi_params(nncc_graph *g, nncc_node *n, nncc_matmul_int_params *p, nncc_shape *out)
{
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1);
    memset(p, 0, sizeof *p);
    if (!is8(a->dtype) || !is8(b->dtype))
        return nncc_unsupported(g, n, "MatMulInteger of %s x %s", nncc_dtype_name(a->dtype), nncc_dtype_name(b->dtype));
    p->ta = (int32_t)a->dtype, p->tb = (int32_t)b->dtype;
    int ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 2 || rb < 2)
        return nncc_unsupported(g, n, "MatMulInteger with a 1-D operand");
    if (a->shape.d[ra - 1] != b->shape.d[rb - 2]) {
        nncc_error(g, n, "a %s and b %s do not multiply", nncc_shape_str(g->ctx, &a->shape),
                   nncc_shape_str(g->ctx, &b->shape));
        return NNCC_ERR_INPUT;
    }
    if (rb > 2 && rb != ra)
        return nncc_unsupported(g, n, "broadcast batch dims");
    p->m = a->shape.d[ra - 2], p->k = a->shape.d[ra - 1], p->n = b->shape.d[rb - 1];
    p->batch = 1;
    *out = a->shape;
    out->d[ra - 1] = p->n;
    for (int i = 0; i < ra - 2; i++) {
        p->batch *= a->shape.d[i];
        if (rb > 2 && b->shape.d[i] != a->shape.d[i])
            return nncc_unsupported(g, n, "broadcast batch dims");
    }
    p->b_step = rb > 2 ? p->k * p->n : 0;
    if (zp_check(g, n, 2, a->dtype, p->m, &p->a_zp_per_row, "a's") ||
        zp_check(g, n, 3, b->dtype, p->n, &p->b_zp_per_col, "b's"))
        return NNCC_ERR_INPUT;
    return NNCC_OK;
}

static nncc_status mmi_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 4))
        return NNCC_ERR_INPUT;
    nncc_matmul_int_params p;
    nncc_shape s;
    if (mmi_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_I32, &s);
    return NNCC_OK;
}

static nncc_status mmi_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_matmul_int_params p;
    nncc_shape s;
    if (mmi_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_matmul_integer(&p, in[0], in[1], n->n_in > 2 ? in[2] : NULL, n->n_in > 3 ? in[3] : NULL, out[0]);
    return NNCC_OK;
}

static void mmi_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_matmul_int_params p;
    nncc_shape s;
    if (mmi_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_matmul_int_params");
    fprintf(e->pf, "{ .batch = %lld, .m = %lld, .k = %lld, .n = %lld, .b_step = %lld, .ta = %d, .tb = %d, "
                   ".a_zp_per_row = %d, .b_zp_per_col = %d };\n",
            (long long)p.batch, (long long)p.m, (long long)p.k, (long long)p.n, (long long)p.b_step, (int)p.ta,
            (int)p.tb, (int)p.a_zp_per_row, (int)p.b_zp_per_col);
    fprintf(e->f, "    nncc_matmul_integer(&%s, %s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->n_in > 3 ? n->in[3] : -1), nncc_emit_ref(e, g, n->out[0]));
}

static int64_t mmi_macs(nncc_graph *g, nncc_node *n)
{
    nncc_matmul_int_params p;
    nncc_shape s;
    if (mmi_params(g, n, &p, &s) != NNCC_OK)
        return 0;
    return p.batch * p.m * p.k * p.n;
}

const nncc_op nncc_op_MatMulInteger = { .name = "MatMulInteger", .infer = mmi_infer, .eval = mmi_eval,
                                        .emit_c = mmi_emit_c, .macs = mmi_macs };

/* ---- ConvInteger: x, w, x_zero_point, w_zero_point ---- */

static nncc_status ci_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p, int32_t *wper)
{
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 1);
    if (!is8(x->dtype) || !is8(w->dtype))
        return nncc_unsupported(g, n, "ConvInteger of %s and %s", nncc_dtype_name(x->dtype), nncc_dtype_name(w->dtype));
    /* Conv's attribute parser, on a view of the node with inputs x and w only */
    nncc_node v = *n;
    int ins[2] = { n->in[0], n->in[1] };
    v.in = ins, v.n_in = 2;
    memset(&v.act, 0, sizeof v.act);
    if (nncc_conv_params(g, &v, p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int32_t xper;
    if (zp_check(g, n, 2, x->dtype, 0, &xper, "x's") || zp_check(g, n, 3, w->dtype, p->m, wper, "w's"))
        return NNCC_ERR_INPUT;
    return NNCC_OK;
}

static nncc_status ci_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 4))
        return NNCC_ERR_INPUT;
    nncc_conv2d_params p;
    int32_t wper;
    if (ci_params(g, n, &p, &wper) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_conv_out_shape(&nncc_in(g, n, 0)->shape, &p);
    nncc_set_out(g, n, 0, NNCC_DT_I32, &s);
    return NNCC_OK;
}

static nncc_status ci_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_conv2d_params p;
    int32_t wper;
    if (ci_params(g, n, &p, &wper) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_conv_integer(&p, (int32_t)nncc_in(g, n, 0)->dtype, (int32_t)nncc_in(g, n, 1)->dtype, wper, in[0], in[1],
                      n->n_in > 2 ? in[2] : NULL, n->n_in > 3 ? in[3] : NULL, out[0]);
    return NNCC_OK;
}

static void ci_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    int32_t wper;
    if (ci_params(g, n, &p, &wper) != NNCC_OK)
        return;
    const char *name = nncc_emit_conv2d_params(e, &p);
    fprintf(e->f, "    nncc_conv_integer(&%s, %d, %d, %d, %s, %s, %s, %s, %s);\n", name, (int)nncc_in(g, n, 0)->dtype,
            (int)nncc_in(g, n, 1)->dtype, (int)wper, nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]),
            nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1), nncc_emit_ref(e, g, n->n_in > 3 ? n->in[3] : -1),
            nncc_emit_ref(e, g, n->out[0]));
}

static int64_t ci_macs(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    int32_t wper;
    if (ci_params(g, n, &p, &wper) != NNCC_OK)
        return 0;
    return p.n * p.m * p.oh * p.ow * (p.c / p.group) * p.kh * p.kw;
}

const nncc_op nncc_op_ConvInteger = { .name = "ConvInteger", .infer = ci_infer, .eval = ci_eval,
                                      .emit_c = ci_emit_c, .macs = ci_macs };
