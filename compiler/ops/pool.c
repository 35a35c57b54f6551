/*
 * pool.c - MaxPool, AveragePool, LpPool (1-D, 2-D and 3-D, NC..., pads, auto_pad,
 * strides, dilations, ceil_mode, count_include_pad), GlobalAveragePool and
 * GlobalMaxPool (any rank >= 3).
 *
 * Output size as for Conv (see conv.c), with ceil_mode rounding up; a window
 * that would start in the right padding is dropped. MaxPool's Indices output
 * holds flat input indices, row-major or (storage_order 1, up to 2-D)
 * column-major within each (n, c) plane.
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_status pool_params(nncc_graph *g, nncc_node *n, nncc_pool2d_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    if (r < 3 || r > 5)
        return nncc_unsupported(g, n, "%d-D pooling (input %s); nncc supports 1-D to 3-D", r - 2,
                                nncc_shape_str(g->ctx, &x->shape));
    bool want_idx = n->op == NNCC_OP_MaxPool && n->n_out > 1 && n->out[1] >= 0;
    if (n->n_out > (n->op == NNCC_OP_MaxPool ? 2 : 1)) {
        nncc_error(g, n, "has %d outputs", n->n_out);
        return NNCC_ERR_INPUT;
    }
    int sp = r - 2;
    int64_t ks[3] = { 1, 1, 1 }, st[3] = { 1, 1, 1 }, dl[3] = { 1, 1, 1 }, pads[6] = { 0, 0, 0, 0, 0, 0 };
    int nk = nncc_attr_ints(g, n, "kernel_shape", ks, 3);
    int ns = nncc_attr_ints(g, n, "strides", st, 3);
    int nd = nncc_attr_ints(g, n, "dilations", dl, 3);
    int np = nncc_attr_ints(g, n, "pads", pads, 6);
    const char *ap = nncc_attr_str(g, n, "auto_pad", "NOTSET");
    int ceil_mode = (int)nncc_attr_int(g, n, "ceil_mode", 0);
    int cip = n->op == NNCC_OP_AveragePool ? (int)nncc_attr_int(g, n, "count_include_pad", 0) : 0;
    int64_t order = n->op == NNCC_OP_MaxPool ? nncc_attr_int(g, n, "storage_order", 0) : 0;
    if (order && want_idx && r == 5)
        return nncc_unsupported(g, n, "3-D Indices in column-major storage_order");
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
    p->kind = n->op == NNCC_OP_MaxPool ? NNCC_POOL_MAX : n->op == NNCC_OP_LpPool ? NNCC_POOL_LP : NNCC_POOL_AVG;
    p->p = n->op == NNCC_OP_LpPool ? nncc_attr_int(g, n, "p", 2) : 0;
    if (n->op == NNCC_OP_LpPool && p->p < 1) {
        nncc_error(g, n, "p must be positive");
        return NNCC_ERR_INPUT;
    }
    p->count_include_pad = cip;
    p->col_major = order != 0;
    p->n = x->shape.d[0];
    p->c = x->shape.d[1];
    /* spatial dims right-aligned into (depth, height, width), missing ones 1 */
    int64_t in[3] = { 1, 1, 1 }, K[3] = { 1, 1, 1 }, S[3] = { 1, 1, 1 }, D[3] = { 1, 1, 1 };
    int64_t PB[3] = { 0, 0, 0 }, PE[3] = { 0, 0, 0 }, out[3] = { 1, 1, 1 };
    for (int i = 0; i < sp; i++) {
        int k = 3 - sp + i;
        in[k] = x->shape.d[2 + i], K[k] = ks[i], S[k] = st[i], D[k] = dl[i];
        PB[k] = pads[i], PE[k] = pads[i + sp];
    }
    for (int i = 3 - sp; i < 3; i++) {
        out[i] = nncc_window_out(ap, in[i], K[i], S[i], D[i], &PB[i], &PE[i], ceil_mode);
        if (out[i] < 1) {
            nncc_error(g, n, "the pooling window is larger than the padded input");
            return NNCC_ERR_INPUT;
        }
    }
    p->d = in[0], p->od = out[0], p->kd = K[0], p->sd = S[0], p->dd = D[0], p->pf = PB[0], p->pk = PE[0];
    p->h = in[1], p->w = in[2], p->oh = out[1], p->ow = out[2];
    p->kh = K[1], p->kw = K[2], p->sh = S[1], p->sw = S[2], p->dh = D[1], p->dw = D[2];
    p->pt = PB[1], p->pl = PB[2], p->pb = PE[1], p->pr = PE[2];
    p->threads = g->ctx->opt.threads > 1 ? g->ctx->opt.threads : 0; /* nncc_pool2d_fast_f32 only */
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
    if (s.rank == 5)
        s.d[2] = p.od, s.d[3] = p.oh, s.d[4] = p.ow;
    else if (s.rank == 4)
        s.d[2] = p.oh, s.d[3] = p.ow;
    else
        s.d[2] = p.ow;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    if (n->n_out > 1)
        nncc_set_out(g, n, 1, NNCC_DT_I64, &s);
    return NNCC_OK;
}

static nncc_status pool_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_pool2d_params p;
    if (pool_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_pool2d_f32(&p, in[0], out[0], n->n_out > 1 ? out[1] : NULL);
    return NNCC_OK;
}

const char *nncc_emit_pool2d_params(nncc_emit *e, const nncc_pool2d_params *pp)
{
    const nncc_pool2d_params p = *pp;
    const char *name = nncc_emit_param(e, "nncc_pool2d_params");
    fprintf(e->pf, "{\n    .kind = %d, .count_include_pad = %d, .n = %lld, .c = %lld, .h = %lld, .w = %lld,\n"
                   "    .oh = %lld, .ow = %lld, .kh = %lld, .kw = %lld, .sh = %lld, .sw = %lld, .dh = %lld, .dw = %lld,\n"
                   "    .pt = %lld, .pl = %lld, .pb = %lld, .pr = %lld, .p = %lld,\n"
                   "    .d = %lld, .od = %lld, .kd = %lld, .sd = %lld, .dd = %lld, .pf = %lld, .pk = %lld, .col_major = %d",
            (int)p.kind, (int)p.count_include_pad, (long long)p.n, (long long)p.c, (long long)p.h, (long long)p.w,
            (long long)p.oh, (long long)p.ow, (long long)p.kh, (long long)p.kw, (long long)p.sh, (long long)p.sw,
            (long long)p.dh, (long long)p.dw, (long long)p.pt, (long long)p.pl, (long long)p.pb, (long long)p.pr,
            (long long)p.p, (long long)p.d, (long long)p.od, (long long)p.kd, (long long)p.sd, (long long)p.dd,
            (long long)p.pf, (long long)p.pk, (int)p.col_major);
    if (p.threads > 1)
        fprintf(e->pf, ", .threads = %lld", (long long)p.threads);
    fprintf(e->pf, "\n};\n");
    return name;
}

static void pool_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_pool2d_params p;
    if (pool_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_pool2d_params(e, &p);
    /* from -O1 on, the vectorised kernel where it applies (2-D max/average,
     * no dilation, no indices), its planes shared by --threads threads;
     * -O0 keeps the reference */
    if (g->ctx->opt.opt_level >= 1 && (n->n_out < 2 || n->out[1] < 0) && nncc_pool2d_fast_ok(&p)) {
        fprintf(e->f, "    nncc_pool2d_fast_f32(&%s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
                nncc_emit_ref(e, g, n->out[0]));
        return;
    }
    fprintf(e->f, "    nncc_pool2d_f32(&%s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->n_out > 1 ? n->out[1] : -1));
}

const nncc_op nncc_op_MaxPool = { .name = "MaxPool", .infer = pool_infer, .eval = pool_eval, .emit_c = pool_emit_c };
const nncc_op nncc_op_AveragePool = { .name = "AveragePool", .infer = pool_infer, .eval = pool_eval, .emit_c = pool_emit_c };
const nncc_op nncc_op_LpPool = { .name = "LpPool", .infer = pool_infer, .eval = pool_eval, .emit_c = pool_emit_c };

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

/* (N*C, HW) of the input */
static void global_sizes(nncc_graph *g, nncc_node *n, int64_t *nc, int64_t *hw)
{
    int64_t N, C;
    nncc_nc_split(g, n, &N, &C, hw);
    *nc = N * C;
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
        /* from -O1 on, vector sums with the rows shared by --threads threads */
        if (g->ctx->opt.opt_level >= 1)
            fprintf(e->f, "    nncc_global_avgpool_fast_f32(%lld, %lld, %d, %s, %s);\n", (long long)nc, (long long)hw,
                    g->ctx->opt.threads > 1 ? g->ctx->opt.threads : 1, nncc_emit_ref(e, g, n->in[0]),
                    nncc_emit_ref(e, g, n->out[0]));
        else
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
