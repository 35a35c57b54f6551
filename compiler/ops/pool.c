/*
 * pool.c - MaxPool, AveragePool (1-D and 2-D, NCHW, pads, auto_pad,
 * strides, dilations, ceil_mode, count_include_pad), GlobalAveragePool and
 * GlobalMaxPool (any rank >= 3).
 *
 * Output size as for Conv (see conv.c), with ceil_mode rounding up; a window
 * that would start in the right padding is dropped. MaxPool's Indices output
 * is not supported.
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_status pool_params(nncc_graph *g, nncc_node *n, nncc_pool2d_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    if (r < 3 || r > 4)
        return nncc_unsupported(g, n, "%d-D pooling (input %s); nncc supports 1-D and 2-D", r - 2,
                                nncc_shape_str(g->ctx, &x->shape));
    if (n->n_out > 1 && n->out[1] >= 0)
        return nncc_unsupported(g, n, "the Indices output of MaxPool");
    int sp = r - 2;
    int64_t ks[2] = { 1, 1 }, st[2] = { 1, 1 }, dl[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 };
    int nk = nncc_attr_ints(g, n, "kernel_shape", ks, 2);
    int ns = nncc_attr_ints(g, n, "strides", st, 2);
    int nd = nncc_attr_ints(g, n, "dilations", dl, 2);
    int np = nncc_attr_ints(g, n, "pads", pads, 4);
    const char *ap = nncc_attr_str(g, n, "auto_pad", "NOTSET");
    int ceil_mode = (int)nncc_attr_int(g, n, "ceil_mode", 0);
    int cip = n->op == NNCC_OP_AveragePool ? (int)nncc_attr_int(g, n, "count_include_pad", 0) : 0;
    if (n->op == NNCC_OP_MaxPool)
        nncc_attr_int(g, n, "storage_order", 0); /* only affects Indices */
    if (nk != sp || (ns >= 0 && ns != sp) || (nd >= 0 && nd != sp) || (np >= 0 && np != 2 * sp)) {
        nncc_error(g, n, "kernel_shape is required and kernel_shape/strides/dilations/pads must match the %d spatial dims",
                   sp);
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < sp; i++)
        if (ks[i] < 1 || st[i] < 1 || dl[i] < 1 || pads[i] < 0 || pads[i + sp] < 0) {
            nncc_error(g, n, "kernel_shape, strides and dilations must be positive, pads non-negative");
            return NNCC_ERR_INPUT;
        }
    memset(p, 0, sizeof *p);
    p->kind = n->op == NNCC_OP_MaxPool ? NNCC_POOL_MAX : NNCC_POOL_AVG;
    p->count_include_pad = cip;
    p->n = x->shape.d[0];
    p->c = x->shape.d[1];
    int64_t in[2] = { 1, x->shape.d[2] }, K[2] = { 1, ks[0] }, S[2] = { 1, st[0] }, D[2] = { 1, dl[0] };
    int64_t PB[2] = { 0, pads[0] }, PE[2] = { 0, pads[1] }, out[2] = { 1, 1 };
    if (sp == 2) {
        in[0] = x->shape.d[2], in[1] = x->shape.d[3];
        K[0] = ks[0], K[1] = ks[1], S[0] = st[0], S[1] = st[1], D[0] = dl[0], D[1] = dl[1];
        PB[0] = pads[0], PB[1] = pads[1], PE[0] = pads[2], PE[1] = pads[3];
    }
    for (int i = 2 - sp; i < 2; i++) {
        out[i] = nncc_window_out(ap, in[i], K[i], S[i], D[i], &PB[i], &PE[i], ceil_mode);
        if (out[i] < 1) {
            nncc_error(g, n, "the pooling window is larger than the padded input");
            return NNCC_ERR_INPUT;
        }
    }
    p->h = in[0], p->w = in[1], p->oh = out[0], p->ow = out[1];
    p->kh = K[0], p->kw = K[1], p->sh = S[0], p->sw = S[1], p->dh = D[0], p->dw = D[1];
    p->pt = PB[0], p->pl = PB[1], p->pb = PE[0], p->pr = PE[1];
    return NNCC_OK;
}

static nncc_status pool_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_pool2d_params p;
    if (pool_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_in(g, n, 0)->shape;
    if (s.rank == 4)
        s.d[2] = p.oh, s.d[3] = p.ow;
    else
        s.d[2] = p.ow;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status pool_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_pool2d_params p;
    if (pool_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_pool2d_f32(&p, in[0], out[0]);
    return NNCC_OK;
}

static void pool_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_pool2d_params p;
    if (pool_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_pool2d_params");
    fprintf(e->pf, "{\n    .kind = %d, .count_include_pad = %d, .n = %lld, .c = %lld, .h = %lld, .w = %lld,\n"
                   "    .oh = %lld, .ow = %lld, .kh = %lld, .kw = %lld, .sh = %lld, .sw = %lld, .dh = %lld, .dw = %lld,\n"
                   "    .pt = %lld, .pl = %lld, .pb = %lld, .pr = %lld\n};\n",
            (int)p.kind, (int)p.count_include_pad, (long long)p.n, (long long)p.c, (long long)p.h, (long long)p.w,
            (long long)p.oh, (long long)p.ow, (long long)p.kh, (long long)p.kw, (long long)p.sh, (long long)p.sw,
            (long long)p.dh, (long long)p.dw, (long long)p.pt, (long long)p.pl, (long long)p.pb, (long long)p.pr);
    fprintf(e->f, "    nncc_pool2d_f32(&%s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_MaxPool = { .name = "MaxPool", .infer = pool_infer, .eval = pool_eval, .emit_c = pool_emit_c };
const nncc_op nncc_op_AveragePool = { .name = "AveragePool", .infer = pool_infer, .eval = pool_eval, .emit_c = pool_emit_c };

/* Global pools: y(N,C,1,...,1) from x(N,C,...). */
static nncc_status global_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_in(g, n, 0)->shape;
    if (s.rank < 3) {
        nncc_error(g, n, "input has rank %d; expected (N,C,...) with at least one spatial dim", s.rank);
        return NNCC_ERR_INPUT;
    }
    for (int i = 2; i < s.rank; i++)
        s.d[i] = 1;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static void global_sizes(nncc_graph *g, nncc_node *n, int64_t *nc, int64_t *hw)
{
    nncc_shape *s = &nncc_in(g, n, 0)->shape;
    *nc = s->d[0] * s->d[1];
    *hw = nncc_shape_count(s) / (*nc ? *nc : 1);
}

static nncc_status global_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t nc, hw;
    global_sizes(g, n, &nc, &hw);
    if (n->op == NNCC_OP_GlobalAveragePool) {
        nncc_global_avgpool_f32(nc, hw, in[0], out[0]);
    } else {
        nncc_reduce_params p = { NNCC_RED_MAX, 2, { nc, hw }, { 1, 0 }, nc, hw };
        nncc_reduce_f32(&p, in[0], out[0]);
    }
    return NNCC_OK;
}

static void global_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t nc, hw;
    global_sizes(g, n, &nc, &hw);
    if (n->op == NNCC_OP_GlobalAveragePool) {
        fprintf(e->f, "    nncc_global_avgpool_f32(%lld, %lld, %s, %s);\n", (long long)nc, (long long)hw,
                nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
        return;
    }
    const char *name = nncc_emit_param(e, "nncc_reduce_params");
    fprintf(e->pf, "{ .op = NNCC_RED_MAX, .rank = 2, .dims = { %lld, %lld }, .ostride = { 1, 0 }, "
                   ".out_count = %lld, .red_count = %lld };\n",
            (long long)nc, (long long)hw, (long long)nc, (long long)hw);
    fprintf(e->f, "    nncc_reduce_f32(&%s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_GlobalAveragePool = {
    .name = "GlobalAveragePool", .infer = global_infer, .eval = global_eval, .emit_c = global_emit_c };
const nncc_op nncc_op_GlobalMaxPool = {
    .name = "GlobalMaxPool", .infer = global_infer, .eval = global_eval, .emit_c = global_emit_c };

nncc_status nncc_pool_params(nncc_graph *g, nncc_node *n, nncc_pool2d_params *p)
{
    return pool_params(g, n, p);
}
