/*
 * int8.c - QDQ patterns to int8 kernels.
 *
 * A QDQ graph (as ONNX Runtime's quantize_static writes it, or as
 * passes/quantize.c makes from calibration) marks what may run in int8 with
 * QuantizeLinear/DequantizeLinear pairs around float ops:
 *
 *   xq -> DequantizeLinear -> x -> Conv/Gemm(x, W, B) [+ Relu/Clip] -> y -> QuantizeLinear -> yq
 *     becomes  xq -> Int8Conv/Int8Gemm(xq, Wq, Bq, mult, rshift) -> yq
 *   xq -> DequantizeLinear -> MaxPool/Flatten/Reshape -> QuantizeLinear(same scale, zp) -> yq
 *     becomes  xq -> Int8MaxPool/Flatten/Reshape -> yq
 *   aq, bq -> DequantizeLinear -> Add [+ Relu/Clip] -> QuantizeLinear -> yq (same shapes)
 *     becomes  aq, bq -> Int8Add -> yq
 *
 * xq and yq must be int8 with one scale and zero point each; W and B float
 * constants (a folded DequantizeLinear of int8 weights keeps its scales in
 * W->quant, so its integers come back exactly; other weights are quantised
 * here, symmetric per output channel, scale max|w| / 127). The bias becomes
 * int32 with scale alpha * x_scale * w_scale[m] (beta folded in), and each
 * output channel gets the fixed-point multiplier of
 * alpha * x_scale * w_scale[m] / y_scale. A fused Relu/Clip narrows the
 * output clamp. What does not match stays as it is: float ops between
 * QuantizeLinear/DequantizeLinear kernels, which is what the QDQ graph means.
 * DequantizeLinear nodes left without readers go in the next dce.
 *
 * uint8 activations (QuantizeLinear to uint8 read only by DequantizeLinear)
 * first become int8 with their zero points less 128 (u8_to_i8).
 *
 * With --int8-io, a graph input read only by a QuantizeLinear becomes an
 * int8 input, and a graph output made by a DequantizeLinear of an int8
 * tensor becomes that int8 tensor (their scales are in --report).
 *
 * Precondition: shapes inferred, constants folded, activations fused.
 */
#include "nncc-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static nncc_node *producer(nncc_graph *g, int t)
{
    for (int i = 0; i < g->n_n; i++) {
        if (g->n[i].dead)
            continue;
        for (int k = 0; k < g->n[i].n_out; k++)
            if (g->n[i].out[k] == t)
                return &g->n[i];
    }
    return NULL;
}

static bool per_tensor_i8(const nncc_tensor *t)
{
    return t->dtype == NNCC_DT_I8 && t->quant && t->quant->n == 1 && t->quant->scale[0] > 0;
}

/* The int8 tensor a DequantizeLinear turns into tensor t, or -1. */
static int dq_source(nncc_graph *g, int t)
{
    nncc_node *d = producer(g, t);
    if (!d || d->op != NNCC_OP_DequantizeLinear || !per_tensor_i8(&g->t[d->in[0]]))
        return -1;
    return d->in[0];
}

/* The int8 tensor the sole QuantizeLinear reading t makes, or -1 (and *q). */
static int q_dest(nncc_graph *g, int t, nncc_node **q)
{
    nncc_node *r = nncc_sole_reader(g, t);
    if (!r || r->op != NNCC_OP_QuantizeLinear || !per_tensor_i8(&g->t[r->out[0]]))
        return -1;
    *q = r;
    return r->out[0];
}

static int new_const(nncc_graph *g, const char *base, nncc_dtype dt, const nncc_shape *s, const void *data)
{
    int t = nncc_tensor_new_unique(g, base);
    if (t < 0 || nncc_tensor_set_data(g, t, dt, s, data) != NNCC_OK)
        return -1;
    g->t[t].producer = -1;
    return t;
}

static double fmin_arr(const nncc_quant *q)
{
    double v = q->scale[0];
    for (int i = 1; i < q->n; i++)
        v = fmin(v, q->scale[i]);
    return v;
}

static double fmax_arr(const nncc_quant *q)
{
    double v = q->scale[0];
    for (int i = 1; i < q->n; i++)
        v = fmax(v, q->scale[i]);
    return v;
}

typedef struct {
    int convs, gemms, views, adds;
    int64_t wbytes_f32, wbytes_i8;   /* weights before/after (W, B; then Wq, Bq, mult, rshift) */
} stats;

/* Conv/Gemm between DequantizeLinear and QuantizeLinear -> Int8Conv/Int8Gemm. */
static nncc_status lower_mm(nncc_graph *g, int ni, stats *st)
{
    nncc_node *n = &g->n[ni];
    bool conv = n->op == NNCC_OP_Conv;
    if (n->fused_add >= 0 || (n->act.kind != NNCC_ACT_NONE && n->act.kind != NNCC_ACT_RELU &&
                              n->act.kind != NNCC_ACT_CLIP))
        return NNCC_OK;
    nncc_node *q = NULL;
    int xq = dq_source(g, n->in[0]), yq = q_dest(g, n->out[0], &q);
    nncc_tensor *W = nncc_in(g, n, 1), *B = n->n_in > 2 ? nncc_in(g, n, 2) : NULL;
    if (xq < 0 || yq < 0 || !W->data || W->dtype != NNCC_DT_F32 || (B && (!B->data || B->dtype != NNCC_DT_F32)))
        return NNCC_OK;
    float alpha = 1, beta = 1;
    int64_t M, K, wax = 0; /* output channels, reduction length per channel, channel axis of W */
    if (conv) {
        if (W->shape.rank != 4 || nncc_in(g, n, 0)->shape.rank != 4)
            return NNCC_OK;
        M = W->shape.d[0];
        K = W->shape.d[1] * W->shape.d[2] * W->shape.d[3];
    } else {
        nncc_attr *a;
        if ((a = nncc_attr_find(n, "transA")) && a->i)
            return NNCC_OK;
        if ((a = nncc_attr_find(n, "transB")))
            wax = a->i ? 0 : 1;
        else
            wax = 1;
        if ((a = nncc_attr_find(n, "alpha")))
            alpha = a->f;
        if ((a = nncc_attr_find(n, "beta")))
            beta = a->f;
        M = W->shape.d[wax];
        K = W->shape.d[1 - wax];
    }
    if (!(alpha > 0) || K > 32000)
        return NNCC_OK;
    if (B && nncc_shape_count(&B->shape) != M && nncc_shape_count(&B->shape) != 1)
        return NNCC_OK; /* a bias that varies along M rows of a Gemm */
    int64_t bn = B ? nncc_shape_count(&B->shape) : 0;
    const float *w = W->data, *b = B ? B->data : NULL;
    double sx = g->t[xq].quant->scale[0], sy = g->t[yq].quant->scale[0];
    int8_t *wq = malloc((size_t)(M * K));
    int32_t *bq = malloc((size_t)M * 4), *mq = malloc((size_t)M * 4), *rq = malloc((size_t)M * 4);
    nncc_quant *wquant = nncc_quant_new(g->ctx, (int)M, 0);
    nncc_status status = wq && bq && mq && rq && wquant ? NNCC_OK : NNCC_ERR_NOMEM;
    bool ok = status == NNCC_OK;
    /* W->quant: the folded DequantizeLinear of QDQ int8 weights, per channel along wax */
    const nncc_quant *wqd = W->quant && W->quant->axis == wax && W->quant->n == M ? W->quant : NULL;
    for (int64_t m = 0; ok && m < M; m++) {
        /* element k of channel m */
#define WAT(k) (conv ? w[m * K + (k)] : wax == 0 ? w[m * K + (k)] : w[(k) * M + m])
        double s;
        if (wqd && wqd->zp[m] == 0) {
            s = wqd->scale[m];
        } else {
            double amax = 0;
            for (int64_t k = 0; k < K; k++)
                amax = fmax(amax, fabs(WAT(k)));
            s = amax > 0 ? amax / 127.0 : 1.0;
        }
        for (int64_t k = 0; k < K; k++) {
            double v = nearbyint(WAT(k) / s);
            wq[m * K + k] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
#undef WAT
        double acc_scale = alpha * sx * s, bv = b ? beta * (double)b[bn == 1 ? 0 : m] / acc_scale : 0;
        ok = fabs(bv) < 2147483000.0 && nncc_quant_multiplier(acc_scale / sy, &mq[m], &rq[m]);
        bq[m] = ok ? (int32_t)nearbyint(bv) : 0;
        wquant->scale[m] = (float)s;
    }
    if (ok && conv) {
        /* Int8Conv's packed weights, and the bias that folds in the zero
         * point of the unsigned input the kernel reads (nncc_runtime.h) */
        nncc_conv2d_i8_params cp;
        memset(&cp, 0, sizeof cp);
        int8_t *pk = malloc((size_t)(M * K));
        if (!pk) {
            status = NNCC_ERR_NOMEM;
            ok = false;
        } else if (nncc_conv_params(g, n, &cp.c) != NNCC_OK) {
            status = NNCC_ERR_INPUT;
            ok = false;
        } else {
            cp.x_zp = g->t[xq].quant->zp[0];
            ok = nncc_conv2d_i8_pack(&cp, wq, B ? bq : NULL, pk, bq) == 0;
            memcpy(wq, pk, (size_t)(M * K));
        }
        free(pk);
    }
    if (ok) {
        nncc_shape ws = W->shape, vs = { 1, { M } };
        if (!conv)
            ws.d[0] = M, ws.d[1] = K;
        /* adding tensors may move g->t: W and B are not used past here */
        const char *base = W->name, *bname = B ? B->name : nncc_fmt(g->ctx, "%s_bias", W->name);
        int64_t fbytes = nncc_shape_count(&W->shape) * 4 + bn * 4;
        int twq = new_const(g, nncc_fmt(g->ctx, "%s_int8", base), NNCC_DT_I8, &ws, wq);
        int tbq = B || conv ? new_const(g, nncc_fmt(g->ctx, "%s_int32", bname), NNCC_DT_I32, &vs, bq) : -1;
        int tmq = new_const(g, nncc_fmt(g->ctx, "%s_mult", base), NNCC_DT_I32, &vs, mq);
        int trq = new_const(g, nncc_fmt(g->ctx, "%s_rshift", base), NNCC_DT_I32, &vs, rq);
        int *in = nncc_alloc_array(g->ctx, 5, sizeof(int));
        if (twq < 0 || ((B || conv) && tbq < 0) || tmq < 0 || trq < 0 || !in) {
            status = NNCC_ERR_NOMEM;
        } else {
            n = &g->n[ni]; /* tensors may have moved, nodes not */
            g->t[twq].quant = wquant;
            in[0] = xq, in[1] = twq, in[2] = tbq, in[3] = tmq, in[4] = trq;
            const char *from = nncc_fmt(g->ctx, "'%s' (%s)", q->name, nncc_ops[q->op]->name);
            n->fused_from = n->fused_from ? nncc_fmt(g->ctx, "%s + %s", n->fused_from, from) : from;
            nncc_report(g, "int8", "node '%s' (%s -> Int8%s): x scale %.6g zp %d, y scale %.6g zp %d, "
                        "w scales %.3g..%.3g (%lld channels), weights %lld -> %lld bytes",
                        n->name, conv ? "Conv" : "Gemm", conv ? "Conv" : "Gemm", sx, (int)g->t[xq].quant->zp[0],
                        sy, (int)g->t[yq].quant->zp[0], fmin_arr(wquant), fmax_arr(wquant), (long long)M,
                        (long long)fbytes, (long long)(M * K + (B || conv ? M * 4 : 0) + M * 8));
            st->wbytes_f32 += fbytes;
            st->wbytes_i8 += M * K + (B || conv ? M * 4 : 0) + M * 8;
            n->op = conv ? NNCC_OP_Int8Conv : NNCC_OP_Int8Gemm;
            n->in = in;
            n->n_in = 5;
            if (!conv)
                n->n_attr = 0; /* alpha, beta, transA/B are folded in */
            n->out[0] = yq;
            g->t[yq].producer = ni;
            q->dead = true;
            for (int k = 0; k < n->n_attr; k++)
                n->attr[k].used = false;
            status = nncc_ops[n->op]->infer(g, n);
            *(conv ? &st->convs : &st->gemms) += 1;
        }
    }
    free(wq);
    free(bq);
    free(mq);
    free(rq);
    return status;
}

/* Value i of a constant scale or zero point (one value: every i). */
static double const_at(const nncc_tensor *t, int64_t i)
{
    if (!t)
        return 0;
    if (nncc_shape_count(&t->shape) == 1)
        i = 0;
    switch (t->dtype) {
    case NNCC_DT_F32: return ((const float *)t->data)[i];
    case NNCC_DT_I8: return ((const int8_t *)t->data)[i];
    case NNCC_DT_U8: return ((const uint8_t *)t->data)[i];
    default: return 0;
    }
}

/* QLinearConv (QOperator format) of int8 x and y with constant int8
 * weights (zero point 0), constant scales and zero points and an optional
 * constant int32 bias: the same Int8Conv as the QDQ pattern. Its inputs
 * x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B become x, the packed
 * w, the folded bias, mult, rshift; x and y get their nncc_quant. (uint8
 * x or y, and uint8 weights, stay with the reference kernel.) */
static nncc_status lower_qlinearconv(nncc_graph *g, int ni, stats *st)
{
    nncc_node *n = &g->n[ni];
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0), *W = nncc_in(g, n, 3);
    nncc_tensor *B = n->n_in > 8 ? nncc_in(g, n, 8) : NULL;
    for (int i = 1; i < 8; i++)
        if (i != 3 && (!nncc_in(g, n, i) || !nncc_in(g, n, i)->data) && !(i == 2 || i == 5 || i == 7))
            return NNCC_OK;
    for (int i = 2; i < 8; i += 3) /* zero points, when given, constant */
        if (nncc_in(g, n, i) && !nncc_in(g, n, i)->data)
            return NNCC_OK;
    if (x->dtype != NNCC_DT_I8 || y->dtype != NNCC_DT_I8 || !W->data || W->dtype != NNCC_DT_I8 ||
        W->shape.rank != 4 || x->shape.rank != 4 || (B && !B->data) || y->is_output)
        return NNCC_OK;
    const int64_t M = W->shape.d[0], K = W->shape.d[1] * W->shape.d[2] * W->shape.d[3];
    if (K > 32000)
        return NNCC_OK;
    for (int64_t m = 0; m < M; m++)
        if (const_at(nncc_in(g, n, 5), m) != 0)
            return NNCC_OK;
    const double sx = const_at(nncc_in(g, n, 1), 0), sy = const_at(nncc_in(g, n, 6), 0);
    nncc_quant *xq = nncc_quant_new(g->ctx, 1, -1), *yq = nncc_quant_new(g->ctx, 1, -1);
    nncc_quant *wquant = nncc_quant_new(g->ctx, (int)M, 0);
    int8_t *pk = malloc((size_t)(M * K));
    int32_t *bq = malloc((size_t)M * 4), *mq = malloc((size_t)M * 4), *rq = malloc((size_t)M * 4);
    nncc_status status = xq && yq && wquant && pk && bq && mq && rq ? NNCC_OK : NNCC_ERR_NOMEM;
    bool ok = status == NNCC_OK && sx > 0 && sy > 0;
    for (int64_t m = 0; ok && m < M; m++) {
        wquant->scale[m] = (float)const_at(nncc_in(g, n, 4), m);
        ok = wquant->scale[m] > 0 && nncc_quant_multiplier(sx * wquant->scale[m] / sy, &mq[m], &rq[m]);
    }
    if (ok) {
        xq->scale[0] = (float)sx, xq->zp[0] = (int32_t)const_at(nncc_in(g, n, 2), 0);
        yq->scale[0] = (float)sy, yq->zp[0] = (int32_t)const_at(nncc_in(g, n, 7), 0);
        /* the packing wants Conv's inputs (x, W, B): rewire first */
        int *in = nncc_alloc_array(g->ctx, 5, sizeof(int));
        if (!in) {
            status = NNCC_ERR_NOMEM;
            goto done;
        }
        in[0] = n->in[0], in[1] = n->in[3], in[2] = B ? n->in[8] : -1, in[3] = in[4] = -1;
        int *old_in = n->in, old_n = n->n_in;
        n->in = in, n->n_in = 3;
        nncc_conv2d_i8_params cp;
        memset(&cp, 0, sizeof cp);
        if (nncc_conv_params(g, n, &cp.c) != NNCC_OK) {
            n->in = old_in, n->n_in = old_n;
            status = NNCC_ERR_INPUT;
            goto done;
        }
        cp.x_zp = xq->zp[0];
        if (nncc_conv2d_i8_pack(&cp, W->data, B ? B->data : NULL, pk, bq) != 0) {
            n->in = old_in, n->n_in = old_n;
            goto done;
        }
        nncc_shape ws = W->shape, vs = { 1, { M } };
        const char *base = W->name;
        int twq = new_const(g, nncc_fmt(g->ctx, "%s_packed", base), NNCC_DT_I8, &ws, pk);
        int tbq = new_const(g, nncc_fmt(g->ctx, "%s_bias_int32", base), NNCC_DT_I32, &vs, bq);
        int tmq = new_const(g, nncc_fmt(g->ctx, "%s_mult", base), NNCC_DT_I32, &vs, mq);
        int trq = new_const(g, nncc_fmt(g->ctx, "%s_rshift", base), NNCC_DT_I32, &vs, rq);
        if (twq < 0 || tbq < 0 || tmq < 0 || trq < 0) {
            status = NNCC_ERR_NOMEM;
            goto done;
        }
        n = &g->n[ni];
        in[1] = twq, in[2] = tbq, in[3] = tmq, in[4] = trq;
        n->n_in = 5;
        g->t[twq].quant = wquant;
        if (!g->t[n->in[0]].quant)
            g->t[n->in[0]].quant = xq;
        g->t[n->out[0]].quant = yq;
        n->op = NNCC_OP_Int8Conv;
        for (int k = 0; k < n->n_attr; k++)
            n->attr[k].used = false;
        nncc_report(g, "int8", "node '%s' (QLinearConv -> Int8Conv): x scale %.6g zp %d, y scale %.6g zp %d, "
                    "w scales %.3g..%.3g (%lld channels)", n->name, sx, (int)xq->zp[0], sy, (int)yq->zp[0],
                    fmin_arr(wquant), fmax_arr(wquant), (long long)M);
        st->convs++;
        status = nncc_ops[n->op]->infer(g, n);
    }
done:
    free(pk);
    free(bq);
    free(mq);
    free(rq);
    return status;
}

/* QLinearMatMul (QOperator format) of an int8 (M,K) a and y with a constant
 * int8 (K,N) b (zero point 0) and constant per-tensor scales and zero
 * points: Int8Gemm on b transposed (no bias); a and y get their nncc_quant. */
static nncc_status lower_qlinearmatmul(nncc_graph *g, int ni, stats *st)
{
    nncc_node *n = &g->n[ni];
    nncc_tensor *a = nncc_in(g, n, 0), *y = nncc_out(g, n, 0), *b = nncc_in(g, n, 3);
    for (int i = 1; i < 8; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        bool zp = i == 2 || i == 5 || i == 7;
        if (i != 3 && ((!t && !zp) || (t && (!t->data || nncc_shape_count(&t->shape) != 1 ||
                                             (!zp && t->dtype != NNCC_DT_F32)))))
            return NNCC_OK;
    }
    if (a->dtype != NNCC_DT_I8 || y->dtype != NNCC_DT_I8 || a->shape.rank != 2 || !b->data || b->dtype != NNCC_DT_I8 ||
        b->shape.rank != 2 || y->is_output || const_at(nncc_in(g, n, 5), 0) != 0)
        return NNCC_OK;
    const int64_t K = b->shape.d[0], N = b->shape.d[1];
    const double sa = const_at(nncc_in(g, n, 1), 0), sb = const_at(nncc_in(g, n, 4), 0), sy = const_at(nncc_in(g, n, 6), 0);
    if (K > 32000 || !(sa > 0) || !(sb > 0) || !(sy > 0))
        return NNCC_OK;
    int32_t mult, rshift;
    if (!nncc_quant_multiplier(sa * sb / sy, &mult, &rshift))
        return NNCC_OK;
    nncc_quant *aq = nncc_quant_new(g->ctx, 1, -1), *yq = nncc_quant_new(g->ctx, 1, -1);
    nncc_quant *wquant = nncc_quant_new(g->ctx, (int)N, 0);
    int8_t *wt = malloc((size_t)(N * K));
    int32_t *mq = malloc((size_t)N * 4), *rq = malloc((size_t)N * 4);
    int *in = nncc_alloc_array(g->ctx, 5, sizeof(int));
    nncc_status status = aq && yq && wquant && wt && mq && rq && in ? NNCC_OK : NNCC_ERR_NOMEM;
    if (status == NNCC_OK) {
        const int8_t *bd = b->data;
        for (int64_t j = 0; j < N; j++) {
            for (int64_t k = 0; k < K; k++)
                wt[j * K + k] = bd[k * N + j];
            mq[j] = mult, rq[j] = rshift, wquant->scale[j] = (float)sb;
        }
        aq->scale[0] = (float)sa, aq->zp[0] = (int32_t)const_at(nncc_in(g, n, 2), 0);
        yq->scale[0] = (float)sy, yq->zp[0] = (int32_t)const_at(nncc_in(g, n, 7), 0);
        nncc_shape ws = { 2, { N, K } }, vs = { 1, { N } };
        const char *base = b->name;
        int twq = new_const(g, nncc_fmt(g->ctx, "%s_transposed", base), NNCC_DT_I8, &ws, wt);
        int tmq = new_const(g, nncc_fmt(g->ctx, "%s_mult", base), NNCC_DT_I32, &vs, mq);
        int trq = new_const(g, nncc_fmt(g->ctx, "%s_rshift", base), NNCC_DT_I32, &vs, rq);
        if (twq < 0 || tmq < 0 || trq < 0) {
            status = NNCC_ERR_NOMEM;
        } else {
            n = &g->n[ni];
            in[0] = n->in[0], in[1] = twq, in[2] = -1, in[3] = tmq, in[4] = trq;
            n->in = in, n->n_in = 5, n->n_attr = 0;
            g->t[twq].quant = wquant;
            if (!g->t[in[0]].quant)
                g->t[in[0]].quant = aq;
            g->t[n->out[0]].quant = yq;
            n->op = NNCC_OP_Int8Gemm;
            nncc_report(g, "int8", "node '%s' (QLinearMatMul -> Int8Gemm): a scale %.6g zp %d, y scale %.6g zp %d, "
                        "b scale %.3g", n->name, sa, (int)aq->zp[0], sy, (int)yq->zp[0], sb);
            st->gemms++;
            status = nncc_ops[n->op]->infer(g, n);
        }
    }
    free(wt);
    free(mq);
    free(rq);
    return status;
}

/* MaxPool/Flatten/Reshape between DequantizeLinear and QuantizeLinear with
 * the same scale and zero point: the same op on the int8 tensor. */
static nncc_status lower_view(nncc_graph *g, int ni, stats *st)
{
    nncc_node *n = &g->n[ni], *q = NULL;
    int xq = dq_source(g, n->in[0]), yq = q_dest(g, n->out[0], &q);
    if (xq < 0 || yq < 0 || (n->n_out > 1 && n->out[1] >= 0))
        return NNCC_OK;
    const nncc_quant *a = g->t[xq].quant, *b = g->t[yq].quant;
    if (a->scale[0] != b->scale[0] || a->zp[0] != b->zp[0])
        return NNCC_OK;
    if (n->op == NNCC_OP_MaxPool) {
        if (g->t[xq].shape.rank != 4)
            return NNCC_OK;
        n->op = NNCC_OP_Int8MaxPool;
    }
    n->in[0] = xq;
    n->out[0] = yq;
    g->t[yq].producer = ni;
    q->dead = true;
    const char *from = nncc_fmt(g->ctx, "'%s' (%s)", q->name, nncc_ops[q->op]->name);
    n->fused_from = n->fused_from ? nncc_fmt(g->ctx, "%s + %s", n->fused_from, from) : from;
    for (int k = 0; k < n->n_attr; k++)
        n->attr[k].used = false;
    st->views++;
    nncc_quant *keep = g->t[yq].quant;
    nncc_status s = nncc_ops[n->op]->infer(g, n);
    g->t[yq].quant = keep;
    return s;
}

/* Add of two dequantised int8 tensors, quantised after: Int8Add. */
static nncc_status lower_add(nncc_graph *g, int ni, stats *st)
{
    nncc_node *n = &g->n[ni], *q = NULL;
    if (n->n_in != 2 || n->fused_add >= 0 || nncc_out(g, n, 0)->dtype != NNCC_DT_F32 ||
        (n->act.kind != NNCC_ACT_NONE && n->act.kind != NNCC_ACT_RELU && n->act.kind != NNCC_ACT_CLIP))
        return NNCC_OK;
    int aq = dq_source(g, n->in[0]), bq = dq_source(g, n->in[1]), yq = q_dest(g, n->out[0], &q);
    if (aq < 0 || bq < 0 || yq < 0 || !nncc_shape_eq(&g->t[aq].shape, &g->t[bq].shape) ||
        !nncc_shape_eq(&g->t[aq].shape, &g->t[yq].shape))
        return NNCC_OK;
    n->op = NNCC_OP_Int8Add;
    n->in[0] = aq, n->in[1] = bq;
    n->out[0] = yq;
    g->t[yq].producer = ni;
    q->dead = true;
    const char *from = nncc_fmt(g->ctx, "'%s' (%s)", q->name, nncc_ops[q->op]->name);
    n->fused_from = n->fused_from ? nncc_fmt(g->ctx, "%s + %s", n->fused_from, from) : from;
    st->adds++;
    return nncc_ops[n->op]->infer(g, n);
}

/* --int8-io: int8 graph inputs and outputs where a QuantizeLinear /
 * DequantizeLinear sits at the edge. */
static void int8_io(nncc_graph *g)
{
    for (int i = 0; i < g->n_inputs; i++) {
        int x = g->inputs[i];
        nncc_node *q = nncc_sole_reader(g, x);
        if (!q || q->op != NNCC_OP_QuantizeLinear || q->in[0] != x || !per_tensor_i8(&g->t[q->out[0]]))
            continue;
        int xq = q->out[0];
        for (int k = 0; k < g->n_n; k++)
            for (int j = 0; j < g->n[k].n_in; j++)
                if (g->n[k].in[j] == xq)
                    g->n[k].in[j] = x;
        g->t[x].dtype = NNCC_DT_I8;
        g->t[x].quant = g->t[xq].quant;
        if (g->t[xq].is_output) /* the quantised input is also an output: keep it written */
            continue;
        q->dead = true;
        nncc_report(g, "int8", "input '%s' is int8: real = (q - %d) * %.9g", g->t[x].name, (int)g->t[x].quant->zp[0],
                    (double)g->t[x].quant->scale[0]);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int y = g->outputs[i];
        nncc_node *d = producer(g, y);
        if (!d || d->op != NNCC_OP_DequantizeLinear || !per_tensor_i8(&g->t[d->in[0]]) || g->t[d->in[0]].is_input ||
            g->t[d->in[0]].data || nncc_tensor_uses(g, y) > 1)
            continue;
        int yq = d->in[0];
        g->t[y].is_output = false;
        g->t[yq].is_output = true;
        /* compile.c's batch check names outputs by the model's tensor names and
         * does not know this one: a symbolic batch is always dim 0 */
        g->t[yq].batch_dim = g->batch_symbolic ? 0 : -1;
        g->outputs[i] = yq;
        d->dead = true;
        nncc_report(g, "int8", "output '%s' is int8 ('%s'): real = (q - %d) * %.9g", g->t[y].name, g->t[yq].name,
                    (int)g->t[yq].quant->zp[0], (double)g->t[yq].quant->scale[0]);
    }
}

/* Constant tensors a and b hold the same values (same type and count). */
static bool same_values(const nncc_tensor *a, const nncc_tensor *b)
{
    return a == b || (a->data && b->data && a->dtype == b->dtype &&
                      nncc_shape_count(&a->shape) == nncc_shape_count(&b->shape) &&
                      !memcmp(a->data, b->data, (size_t)nncc_shape_count(&a->shape) * nncc_dtype_size(a->dtype)));
}

/* uint8 activations (ONNX Runtime's default, QUInt8): a uint8 tensor that a
 * QuantizeLinear makes and only DequantizeLinears of the same scale and
 * zero point read holds q_u = q_s + 128 of the int8 tensor q_s with zero
 * point zp - 128 (the saturation bounds move with it, so the bytes are the
 * same up to that shift): the pair becomes int8, which the int8 kernels take. */
static nncc_status u8_to_i8(nncc_graph *g, int *count)
{
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *q = &g->n[i];
        if (q->dead || q->op != NNCC_OP_QuantizeLinear || q->n_in < 3 || q->in[2] < 0)
            continue;
        const int y = q->out[0];
        nncc_tensor *z = nncc_in(g, q, 2);
        if (g->t[y].dtype != NNCC_DT_U8 || g->t[y].is_output || !z->data || z->dtype != NNCC_DT_U8)
            continue;
        bool ok = true;
        int readers = 0;
        for (int k = 0; k < g->n_n && ok; k++) {
            nncc_node *r = &g->n[k];
            if (r->dead)
                continue;
            for (int j = 0; j < r->n_in && ok; j++) {
                if (r->in[j] != y)
                    continue;
                ok = r->op == NNCC_OP_DequantizeLinear && j == 0 && r->n_in > 2 && r->in[2] >= 0 &&
                     same_values(nncc_in(g, r, 1), nncc_in(g, q, 1)) && same_values(nncc_in(g, r, 2), z);
                readers++;
            }
        }
        if (!ok || !readers)
            continue;
        int64_t nz = nncc_shape_count(&z->shape);
        int8_t *v = malloc((size_t)nz);
        if (!v)
            return NNCC_ERR_NOMEM;
        for (int64_t k = 0; k < nz; k++)
            v[k] = (int8_t)(((const uint8_t *)z->data)[k] - 128);
        nncc_shape zs = z->shape;
        int z8 = new_const(g, nncc_fmt(g->ctx, "%s_int8", z->name), NNCC_DT_I8, &zs, v);
        free(v);
        if (z8 < 0)
            return NNCC_ERR_NOMEM;
        q = &g->n[i];
        q->in[2] = z8;
        nncc_status st = nncc_ops[q->op]->infer(g, q);
        for (int k = 0; k < g->n_n && st == NNCC_OK; k++) {
            nncc_node *r = &g->n[k];
            if (!r->dead && r->op == NNCC_OP_DequantizeLinear && r->in[0] == y) {
                r->in[2] = z8;
                st = nncc_ops[r->op]->infer(g, r);
            }
        }
        if (st != NNCC_OK)
            return st;
        ++*count;
    }
    return NNCC_OK;
}

nncc_status nncc_pass_int8(nncc_graph *g, const nncc_options *o)
{
    stats st;
    memset(&st, 0, sizeof st);
    int u8 = 0;
    nncc_status us = u8_to_i8(g, &u8);
    if (us != NNCC_OK)
        return us;
    if (u8)
        nncc_report(g, "int8", "%d uint8 QuantizeLinear/DequantizeLinear pairs run as int8 (zero points - 128)", u8);
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            continue;
        nncc_status s = NNCC_OK;
        if (n->op == NNCC_OP_Conv || n->op == NNCC_OP_Gemm)
            s = lower_mm(g, i, &st);
        else if (n->op == NNCC_OP_QLinearConv)
            s = lower_qlinearconv(g, i, &st);
        else if (n->op == NNCC_OP_QLinearMatMul)
            s = lower_qlinearmatmul(g, i, &st);
        else if (n->op == NNCC_OP_MaxPool || n->op == NNCC_OP_Flatten || n->op == NNCC_OP_Reshape)
            s = lower_view(g, i, &st);
        else if (n->op == NNCC_OP_Add)
            s = lower_add(g, i, &st);
        if (s != NNCC_OK)
            return s;
    }
    if (o->int8_io)
        int8_io(g);
    nncc_graph_compact(g);
    if (st.convs + st.gemms + st.views + st.adds)
        nncc_report(g, "int8", "%d Conv, %d Gemm and %d Add to int8 kernels, %d pooling/reshape ops on int8; "
                    "their weights %lld -> %lld bytes (%.1f%%, int32 bias, multipliers and shifts included)",
                    st.convs, st.gemms, st.adds, st.views, (long long)st.wbytes_f32, (long long)st.wbytes_i8,
                    st.wbytes_f32 ? 100.0 * (double)st.wbytes_i8 / (double)st.wbytes_f32 : 0.0);
    return NNCC_OK;
}
