/*
 * int8.c - nncc's own int8 ops, and the quantisation parameters (nncc_quant)
 * that the ONNX QuantizeLinear/DequantizeLinear ops (quant.c) attach to
 * their tensors for the int8 pass:
 *
 *   Int8Conv           nncc's own: Conv on int8 tensors with int32 bias and
 *                      per-channel requantisation (inputs: x, w, bias, mult, rshift);
 *                      w has the Conv weight's shape (M,C/group,KH,KW) but
 *                      holds it packed as nncc_conv2d_i8 reads it, and the
 *                      bias is nncc_conv2d_i8_pack's (the input zero point folded in)
 *   Int8Gemm           nncc's own: (M,K) x (N,K)^T on int8, same inputs
 *   Int8MaxPool        nncc's own: MaxPool on int8 (scale and zero point pass through)
 *   Int8Add            nncc's own: Add of two int8 tensors of one shape, each
 *                      with its own scale, fused Relu/Clip as a clamp
 *
 * The Int8 ops are made by passes/int8.c from QDQ patterns; they read the
 * scales and zero points of their input and output from the tensors'
 * nncc_quant. A Q/DQ node has an nncc_quant when its scale and zero point
 * are constants, per tensor or per axis (not blocked).
 */
#include "nncc-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nncc_quant *nncc_quant_new(nncc_ctx *ctx, int n, int axis)
{
    nncc_quant *q = nncc_alloc(ctx, sizeof *q);
    if (!q)
        return NULL;
    q->n = n;
    q->axis = axis;
    q->scale = nncc_alloc_array(ctx, (size_t)n, sizeof(float));
    q->zp = nncc_alloc_array(ctx, (size_t)n, sizeof(int32_t));
    return q->scale && q->zp ? q : NULL;
}

bool nncc_quant_multiplier(double r, int32_t *mult, int32_t *rshift)
{
    *mult = 0;
    *rshift = 31;
    if (!(r > 0))
        return r == 0;
    int e;
    double f = frexp(r, &e); /* r = f * 2^e, f in [0.5, 1) */
    int64_t m = (int64_t)llround(f * 2147483648.0);
    if (m == 2147483648LL) {
        m /= 2;
        e++;
    }
    int sh = 31 - e; /* r = m * 2^-(31 - e) */
    if (sh < 1)
        return false;
    if (sh > 62) /* below 2^-31: every int32 accumulator gives 0 */
        return true;
    *mult = (int32_t)m;
    *rshift = sh;
    return true;
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

/* Scale (input 1) and zero point (input 2) of a Q/DQ node as an nncc_quant,
 * and the (outer, len, inner) split of input 0 along the axis. */
static nncc_status qdq_params(nncc_graph *g, nncc_node *n, nncc_quant **qp, int64_t *outer, int64_t *len,
                              int64_t *inner)
{
    nncc_tensor *x = nncc_in(g, n, 0), *s = nncc_in(g, n, 1), *z = nncc_in(g, n, 2);
    int64_t axis = nncc_attr_int(g, n, "axis", 1);
    if (n->opset >= 19)
        nncc_attr_int(g, n, "saturate", 1); /* float8 only */
    if (n->opset >= 21 && nncc_attr_int(g, n, "block_size", 0) != 0)
        return nncc_unsupported(g, n, "blocked quantisation (block_size)");
    if (!s->data || s->dtype != NNCC_DT_F32)
        return nncc_unsupported(g, n, "a scale that is not a float32 constant");
    if (z && !z->data)
        return nncc_unsupported(g, n, "a zero point that is not a constant");
    int64_t count = nncc_shape_count(&s->shape);
    if (s->shape.rank > 1 || count < 1 || (z && nncc_shape_count(&z->shape) != count)) {
        nncc_error(g, n, "scale %s and zero point must be scalars or 1-D of the same size",
                   nncc_shape_str(g->ctx, &s->shape));
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank;
    /* one scale, as a scalar or a 1-element vector: per tensor (as ONNX Runtime reads it) */
    if (count > 1) {
        /* ONNX Runtime's quantize_static writes the default axis 1 on 1-D
         * tensors (biases) with one scale per element, and runs them: so do we */
        if (r == 1 && (axis == 1 || axis == -2) && x->shape.d[0] == count)
            axis = 0;
        if (nncc_axis(g, n, &axis, r) != NNCC_OK)
            return NNCC_ERR_INPUT;
        if (x->shape.d[axis] != count) {
            nncc_error(g, n, "%lld scales for axis %lld of size %lld", (long long)count, (long long)axis,
                       (long long)x->shape.d[axis]);
            return NNCC_ERR_INPUT;
        }
    } else {
        axis = -1;
    }
    nncc_quant *q = nncc_quant_new(g->ctx, (int)count, (int)axis);
    if (!q)
        return NNCC_ERR_NOMEM;
    for (int64_t i = 0; i < count; i++) {
        q->scale[i] = ((const float *)s->data)[i];
        if (z) {
            switch (z->dtype) {
            case NNCC_DT_I8: q->zp[i] = ((const int8_t *)z->data)[i]; break;
            case NNCC_DT_U8: q->zp[i] = ((const uint8_t *)z->data)[i]; break;
            case NNCC_DT_I32: q->zp[i] = ((const int32_t *)z->data)[i]; break;
            default: return nncc_unsupported(g, n, "zero point of type %s", nncc_dtype_name(z->dtype));
            }
        }
    }
    *outer = 1, *len = 1, *inner = 1;
    for (int i = 0; i < r; i++) {
        if (axis < 0 || i < axis)
            *outer *= x->shape.d[i];
        else if (i == axis)
            *len = x->shape.d[i];
        else
            *inner *= x->shape.d[i];
    }
    *qp = q;
    return NNCC_OK;
}

nncc_status nncc_qdq_quant(nncc_graph *g, nncc_node *n, nncc_quant **q)
{
    int64_t o, l, i;
    return qdq_params(g, n, q, &o, &l, &i);
}

bool nncc_qdq_has_quant(nncc_graph *g, nncc_node *n)
{
    nncc_tensor *s = nncc_in(g, n, 1), *z = nncc_in(g, n, 2);
    nncc_attr *bs = nncc_attr_find(n, "block_size");
    return s && s->data && s->dtype == NNCC_DT_F32 && s->shape.rank <= 1 && (!bs || bs->i == 0) &&
           (!z || (z->data && (z->dtype == NNCC_DT_I8 || z->dtype == NNCC_DT_U8 || z->dtype == NNCC_DT_I32)));
}

/* ---- Int8Conv, Int8Gemm: inputs x, w, bias (or absent), mult, rshift ---- */

/* Checks the int8 op's inputs: x and w int8 with per-tensor / per-channel
 * quantisation, the output's quantisation set, bias/mult/rshift int32 (M). */
static nncc_status int8_check(nncc_graph *g, nncc_node *n, int64_t m)
{
    if (n->n_in != 5) {
        nncc_error(g, n, "expects 5 inputs (x, w, bias or nothing, mult, rshift), has %d", n->n_in);
        return NNCC_ERR_INPUT;
    }
    if (nncc_check_inputs(g, n, 2, 5) || nncc_check_dtype(g, n, 0, NNCC_DT_I8, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_I8, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0);
    if (!x->quant || x->quant->n != 1 || !y || !y->quant || y->quant->n != 1) {
        nncc_error(g, n, "input and output need a per-tensor scale and zero point");
        return NNCC_ERR_INPUT;
    }
    for (int i = 1; i < 5; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (i == 2 && !t)
            continue;
        if (!t || !t->data || (i > 1 && (t->dtype != NNCC_DT_I32 || nncc_shape_count(&t->shape) != m))) {
            nncc_error(g, n, "input %d must be a constant%s", i, i > 1 ? " int32 vector, one per output channel" : "");
            return NNCC_ERR_INPUT;
        }
    }
    return NNCC_OK;
}

/* Output clamp: the int8 range, narrowed by a fused Relu/Clip. */
static void int8_clamp(nncc_graph *g, nncc_node *n, int32_t *lo, int32_t *hi)
{
    const nncc_quant *q = nncc_out(g, n, 0)->quant;
    double s = q->scale[0], z = q->zp[0], a = -INFINITY, b = INFINITY;
    if (n->act.kind == NNCC_ACT_RELU)
        a = 0;
    else if (n->act.kind == NNCC_ACT_CLIP)
        a = n->act.alpha, b = n->act.beta;
    double l = fmax(-128.0, z + nearbyint(a / s)), h = fmin(127.0, z + nearbyint(b / s));
    *lo = (int32_t)l;
    *hi = (int32_t)(h < l ? l : h);
}

static nncc_status int8conv_params(nncc_graph *g, nncc_node *n, nncc_conv2d_i8_params *p)
{
    memset(p, 0, sizeof *p);
    if (nncc_conv_params(g, n, &p->c) != NNCC_OK)
        return NNCC_ERR_INPUT;
    p->x_zp = nncc_in(g, n, 0)->quant->zp[0];
    p->y_zp = nncc_out(g, n, 0)->quant->zp[0];
    int8_clamp(g, n, &p->y_min, &p->y_max);
    return NNCC_OK;
}

static nncc_status int8conv_infer(nncc_graph *g, nncc_node *n)
{
    nncc_tensor *w = nncc_in(g, n, 1);
    if (nncc_check_inputs(g, n, 2, 5) || int8_check(g, n, w->shape.d[0]))
        return NNCC_ERR_INPUT;
    nncc_conv2d_params p;
    if (nncc_conv_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (nncc_in(g, n, 0)->shape.rank != 4)
        return nncc_unsupported(g, n, "int8 1-D convolution");
    nncc_shape s = nncc_conv_out_shape(&nncc_in(g, n, 0)->shape, &p);
    nncc_quant *q = nncc_out(g, n, 0)->quant;
    nncc_set_out(g, n, 0, NNCC_DT_I8, &s);
    nncc_out(g, n, 0)->quant = q;
    return NNCC_OK;
}

static nncc_status int8conv_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_conv2d_i8_params p;
    if (int8conv_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    void *scratch = malloc((size_t)nncc_conv2d_i8_scratch_size(&p));
    if (!scratch)
        return NNCC_ERR_NOMEM;
    nncc_conv2d_i8(&p, in[0], in[1], in[2], in[3], in[4], out[0], scratch);
    free(scratch);
    return NNCC_OK;
}

static int64_t int8conv_scratch(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_i8_params p;
    return int8conv_params(g, n, &p) == NNCC_OK ? nncc_conv2d_i8_scratch_size(&p) : 0;
}

static void int8conv_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_i8_params p;
    if (int8conv_params(g, n, &p) != NNCC_OK)
        return;
    const nncc_conv2d_params *c = &p.c;
    const char *name = nncc_emit_param(e, "nncc_conv2d_i8_params");
    fprintf(e->pf, "{\n    .c = { .n = %lld, .c = %lld, .h = %lld, .w = %lld, .m = %lld, .oh = %lld, .ow = %lld,\n"
                   "           .kh = %lld, .kw = %lld, .sh = %lld, .sw = %lld, .dh = %lld, .dw = %lld,\n"
                   "           .pt = %lld, .pl = %lld, .group = %lld },\n"
                   "    .x_zp = %ld, .y_zp = %ld, .y_min = %ld, .y_max = %ld\n};\n",
            (long long)c->n, (long long)c->c, (long long)c->h, (long long)c->w, (long long)c->m, (long long)c->oh,
            (long long)c->ow, (long long)c->kh, (long long)c->kw, (long long)c->sh, (long long)c->sw,
            (long long)c->dh, (long long)c->dw, (long long)c->pt, (long long)c->pl, (long long)c->group,
            (long)p.x_zp, (long)p.y_zp, (long)p.y_min, (long)p.y_max);
    fprintf(e->f, "    nncc_conv2d_i8(&%s, %s, %s, %s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->in[3]),
            nncc_emit_ref(e, g, n->in[4]), nncc_emit_ref(e, g, n->out[0]), nncc_emit_scratch(e, g, n));
}

static int64_t int8conv_macs(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (nncc_conv_params(g, n, &p) != NNCC_OK)
        return 0;
    return p.n * p.m * p.oh * p.ow * (p.c / p.group) * p.kh * p.kw;
}

const nncc_op nncc_op_Int8Conv = { .name = "Int8Conv", .infer = int8conv_infer, .eval = int8conv_eval,
                                   .emit_c = int8conv_emit_c, .macs = int8conv_macs,
                                   .scratch = int8conv_scratch };

static nncc_status int8gemm_params(nncc_graph *g, nncc_node *n, nncc_gemm_i8_params *p)
{
    nncc_tensor *a = nncc_in(g, n, 0), *w = nncc_in(g, n, 1);
    memset(p, 0, sizeof *p);
    if (a->shape.rank != 2 || w->shape.rank != 2 || a->shape.d[1] != w->shape.d[1]) {
        nncc_error(g, n, "A (M,K) and W (N,K) do not fit: %s and %s", nncc_shape_str(g->ctx, &a->shape),
                   nncc_shape_str(g->ctx, &w->shape));
        return NNCC_ERR_INPUT;
    }
    p->m = a->shape.d[0], p->k = a->shape.d[1], p->n = w->shape.d[0];
    p->a_zp = a->quant ? a->quant->zp[0] : 0;
    nncc_tensor *y = nncc_out(g, n, 0);
    p->y_zp = y && y->quant ? y->quant->zp[0] : 0;
    if (y && y->quant)
        int8_clamp(g, n, &p->y_min, &p->y_max);
    return NNCC_OK;
}

static nncc_status int8gemm_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 5) || int8_check(g, n, nncc_in(g, n, 1)->shape.d[0]))
        return NNCC_ERR_INPUT;
    nncc_gemm_i8_params p;
    if (int8gemm_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = { 2, { p.m, p.n } };
    nncc_quant *q = nncc_out(g, n, 0)->quant;
    nncc_set_out(g, n, 0, NNCC_DT_I8, &s);
    nncc_out(g, n, 0)->quant = q;
    return NNCC_OK;
}

static nncc_status int8gemm_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_gemm_i8_params p;
    if (int8gemm_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_gemm_i8(&p, in[0], in[1], in[2], in[3], in[4], out[0]);
    return NNCC_OK;
}

static void int8gemm_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_gemm_i8_params p;
    if (int8gemm_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_gemm_i8_params");
    fprintf(e->pf, "{\n    .m = %lld, .n = %lld, .k = %lld, .a_zp = %ld, .y_zp = %ld, .y_min = %ld, .y_max = %ld\n};\n",
            (long long)p.m, (long long)p.n, (long long)p.k, (long)p.a_zp, (long)p.y_zp, (long)p.y_min,
            (long)p.y_max);
    fprintf(e->f, "    nncc_gemm_i8(&%s, %s, %s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->in[3]),
            nncc_emit_ref(e, g, n->in[4]), nncc_emit_ref(e, g, n->out[0]));
}

static int64_t int8gemm_macs(nncc_graph *g, nncc_node *n)
{
    nncc_gemm_i8_params p;
    return int8gemm_params(g, n, &p) == NNCC_OK ? p.m * p.n * p.k : 0;
}

const nncc_op nncc_op_Int8Gemm = { .name = "Int8Gemm", .infer = int8gemm_infer, .eval = int8gemm_eval,
                                   .emit_c = int8gemm_emit_c, .macs = int8gemm_macs };

/* ---- Int8MaxPool: MaxPool's attributes ---- */

static nncc_status int8pool_params(nncc_graph *g, nncc_node *n, nncc_pool2d_params *p)
{
    nncc_attr_int(g, n, "storage_order", 0); /* only affects Indices */
    return nncc_pool_params(g, n, p);
}

static nncc_status int8pool_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_I8, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_pool2d_params p;
    if (int8pool_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_in(g, n, 0)->shape;
    if (s.rank != 4)
        return nncc_unsupported(g, n, "int8 1-D pooling");
    s.d[2] = p.oh, s.d[3] = p.ow;
    nncc_set_out(g, n, 0, NNCC_DT_I8, &s);
    nncc_out(g, n, 0)->quant = nncc_in(g, n, 0)->quant;
    return NNCC_OK;
}

static nncc_status int8pool_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_pool2d_params p;
    if (int8pool_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_maxpool2d_i8(&p, in[0], out[0]);
    return NNCC_OK;
}

static void int8pool_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_pool2d_params p;
    if (int8pool_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_pool2d_params");
    fprintf(e->pf, "{\n    .kind = 0, .count_include_pad = 0, .n = %lld, .c = %lld, .h = %lld, .w = %lld,\n"
                   "    .oh = %lld, .ow = %lld, .kh = %lld, .kw = %lld, .sh = %lld, .sw = %lld, .dh = %lld, .dw = %lld,\n"
                   "    .pt = %lld, .pl = %lld, .pb = %lld, .pr = %lld\n};\n",
            (long long)p.n, (long long)p.c, (long long)p.h, (long long)p.w, (long long)p.oh, (long long)p.ow,
            (long long)p.kh, (long long)p.kw, (long long)p.sh, (long long)p.sw, (long long)p.dh, (long long)p.dw,
            (long long)p.pt, (long long)p.pl, (long long)p.pb, (long long)p.pr);
    fprintf(e->f, "    nncc_maxpool2d_i8(&%s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Int8MaxPool = { .name = "Int8MaxPool", .infer = int8pool_infer, .eval = int8pool_eval,
                                      .emit_c = int8pool_emit_c };

/* ---- Int8Add: a + b, same shapes, scales from the tensors ---- */

static nncc_status int8add_params(nncc_graph *g, nncc_node *n, nncc_add_i8_params *p)
{
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1), *y = nncc_out(g, n, 0);
    memset(p, 0, sizeof *p);
    if (!a->quant || !b->quant || !y->quant || a->quant->n != 1 || b->quant->n != 1 || y->quant->n != 1) {
        nncc_error(g, n, "inputs and output need a per-tensor scale and zero point");
        return NNCC_ERR_INPUT;
    }
    double sa = a->quant->scale[0], sb = b->quant->scale[0], sy = y->quant->scale[0];
    double m2 = 2 * fmax(sa, sb);
    p->n = nncc_shape_count(&a->shape);
    p->a_zp = a->quant->zp[0], p->b_zp = b->quant->zp[0], p->y_zp = y->quant->zp[0];
    if (!nncc_quant_multiplier(sa / m2, &p->a_mult, &p->a_rshift) ||
        !nncc_quant_multiplier(sb / m2, &p->b_mult, &p->b_rshift) ||
        !nncc_quant_multiplier(m2 / (1048576.0 * sy), &p->y_mult, &p->y_rshift)) {
        nncc_error(g, n, "scales %g, %g -> %g cannot be requantised", sa, sb, sy);
        return NNCC_ERR_INPUT;
    }
    int8_clamp(g, n, &p->y_min, &p->y_max);
    return NNCC_OK;
}

static nncc_status int8add_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 0, NNCC_DT_I8, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_I8, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1);
    if (!nncc_shape_eq(&a->shape, &b->shape)) {
        nncc_error(g, n, "inputs must have the same shape, not %s and %s", nncc_shape_str(g->ctx, &a->shape),
                   nncc_shape_str(g->ctx, &b->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_quant *q = nncc_out(g, n, 0)->quant;
    nncc_set_out(g, n, 0, NNCC_DT_I8, &a->shape);
    nncc_out(g, n, 0)->quant = q;
    nncc_add_i8_params p;
    return int8add_params(g, n, &p);
}

static nncc_status int8add_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_add_i8_params p;
    if (int8add_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_add_i8(&p, in[0], in[1], out[0]);
    return NNCC_OK;
}

static void int8add_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_add_i8_params p;
    if (int8add_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_add_i8_params");
    fprintf(e->pf, "{\n    .n = %lld, .a_zp = %ld, .b_zp = %ld, .y_zp = %ld,\n    .a_mult = %ld, .a_rshift = %ld, "
                   ".b_mult = %ld, .b_rshift = %ld, .y_mult = %ld, .y_rshift = %ld,\n    .y_min = %ld, .y_max = %ld\n};\n",
            (long long)p.n, (long)p.a_zp, (long)p.b_zp, (long)p.y_zp, (long)p.a_mult, (long)p.a_rshift,
            (long)p.b_mult, (long)p.b_rshift, (long)p.y_mult, (long)p.y_rshift, (long)p.y_min, (long)p.y_max);
    fprintf(e->f, "    nncc_add_i8(&%s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Int8Add = { .name = "Int8Add", .infer = int8add_infer, .eval = int8add_eval,
                                  .emit_c = int8add_emit_c };
