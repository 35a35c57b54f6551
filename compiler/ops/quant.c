/*
 * quant.c - QuantizeLinear and DequantizeLinear (float32 <-> int8, uint8,
 * int16, uint16, and int32 for dequantisation), with a scale per tensor
 * (scalar), per axis (1-D along `axis`) or per block (`block_size` along
 * `axis`, the scale of x's rank). The zero point, when given, has the
 * scale's shape and the quantised type; it decides QuantizeLinear's output
 * type (else output_dtype, else uint8). DynamicQuantizeLinear computes
 * its uint8 scale and zero point from the data's range at run time.
 * QLinearMatMul: 8-bit a (...,M,K) and b (...,K,N) (or 2-D b) with
 * per-tensor float32 or float16 scales and zero points.
 */
#include "nncc-impl.h"

#include <string.h>

static bool qtype_ok(nncc_dtype t, bool deq)
{
    return t == NNCC_DT_I8 || t == NNCC_DT_U8 || t == NNCC_DT_I16 || t == NNCC_DT_U16 || (deq && t == NNCC_DT_I32);
}

/* Fills the walk parameters; *qt receives the quantised type. */
static nncc_status quant_params(nncc_graph *g, nncc_node *n, nncc_quant_params *p, nncc_dtype *qt)
{
    bool deq = n->op == NNCC_OP_DequantizeLinear;
    nncc_tensor *x = nncc_in(g, n, 0), *sc = nncc_in(g, n, 1), *zp = nncc_in(g, n, 2);
    int64_t axis = nncc_attr_int(g, n, "axis", 1), block = nncc_attr_int(g, n, "block_size", 0);
    int64_t odt = nncc_attr_int(g, n, "output_dtype", 0);
    nncc_attr_int(g, n, "saturate", 1); /* float8 only */
    nncc_attr_int(g, n, "precision", 0);
    *qt = deq ? x->dtype : zp ? zp->dtype : odt ? (nncc_dtype)odt : NNCC_DT_U8;
    if (!qtype_ok(*qt, deq) || (deq && odt && odt != NNCC_DT_F32) || sc->dtype != NNCC_DT_F32 ||
        (!deq && x->dtype != NNCC_DT_F32))
        return nncc_unsupported(g, n, "%s between %s and %s with a %s scale", nncc_ops[n->op]->name,
                                nncc_dtype_name(x->dtype), nncc_dtype_name(*qt), nncc_dtype_name(sc->dtype));
    /* a scalar and a 1-element vector are the same per-tensor parameter
     * (ONNX Runtime's quantize_static writes a [1] scale with a scalar zero point) */
    if (zp && (zp->dtype != *qt || (!nncc_shape_eq(&zp->shape, &sc->shape) &&
                                    !(nncc_shape_count(&zp->shape) == 1 && nncc_shape_count(&sc->shape) == 1)))) {
        nncc_error(g, n, "the zero point must have the scale's shape and the quantised type");
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank;
    memset(p, 0, sizeof *p);
    p->outer = p->inner = p->block = 1;
    p->len = nncc_shape_count(&x->shape);
    int64_t sc_count = nncc_shape_count(&sc->shape);
    if (sc->shape.rank == 0 || (sc_count == 1 && block == 0 && sc->shape.rank == 1))
        return NNCC_OK; /* per tensor */
    if (r == 0 || nncc_axis(g, n, &axis, r) != NNCC_OK)
        return NNCC_ERR_INPUT;
    p->len = x->shape.d[axis];
    for (int i = 0; i < r; i++) {
        if (i < axis)
            p->outer *= x->shape.d[i];
        else if (i > axis)
            p->inner *= x->shape.d[i];
    }
    if (block == 0) {
        if (sc->shape.rank != 1 || sc->shape.d[0] != p->len) {
            nncc_error(g, n, "a per-axis scale must be (%lld), not %s", (long long)p->len,
                       nncc_shape_str(g->ctx, &sc->shape));
            return NNCC_ERR_INPUT;
        }
        p->s_axis = 1;
        return NNCC_OK;
    }
    bool ok = block > 0 && sc->shape.rank == r;
    for (int i = 0; i < r && ok; i++)
        ok = sc->shape.d[i] == (i == axis ? (x->shape.d[i] + block - 1) / block : x->shape.d[i]);
    if (!ok) {
        nncc_error(g, n, "a blocked scale %s does not fit the input %s with block_size %lld",
                   nncc_shape_str(g->ctx, &sc->shape), nncc_shape_str(g->ctx, &x->shape), (long long)block);
        return NNCC_ERR_INPUT;
    }
    p->block = block;
    p->s_inner = 1;
    p->s_axis = p->inner;
    p->s_outer = sc->shape.d[axis] * p->inner;
    return NNCC_OK;
}

/* QuantizeLinear's output, and a DequantizeLinear folded from a constant,
 * carry their scale and zero point for the int8 pass (int8.c). */
static nncc_status attach_quant(nncc_graph *g, nncc_node *n, nncc_tensor *t)
{
    nncc_quant *q;
    if (!nncc_qdq_has_quant(g, n))
        return NNCC_OK;
    if (nncc_qdq_quant(g, n, &q) != NNCC_OK)
        return NNCC_ERR_INPUT;
    t->quant = q;
    return NNCC_OK;
}

static nncc_status quant_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3))
        return NNCC_ERR_INPUT;
    nncc_quant_params p;
    nncc_dtype qt;
    if (quant_params(g, n, &p, &qt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, n->op == NNCC_OP_DequantizeLinear ? NNCC_DT_F32 : qt, &nncc_in(g, n, 0)->shape);
    return n->op == NNCC_OP_QuantizeLinear ? attach_quant(g, n, nncc_out(g, n, 0)) : NNCC_OK;
}

static nncc_status quant_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_quant_params p;
    nncc_dtype qt;
    if (quant_params(g, n, &p, &qt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    const void *zp = n->n_in > 2 ? in[2] : NULL;
    if (n->op == NNCC_OP_DequantizeLinear)
        nncc_dequantize(&p, (int32_t)qt, in[0], in[1], zp, out[0]);
    else
        nncc_quantize(&p, (int32_t)qt, in[0], in[1], zp, out[0]);
    /* a folded weight remembers the integers it came from (passes/int8.c) */
    if (n->op == NNCC_OP_DequantizeLinear && nncc_in(g, n, 0)->data)
        return attach_quant(g, n, nncc_out(g, n, 0));
    return NNCC_OK;
}

static void quant_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_quant_params p;
    nncc_dtype qt;
    if (quant_params(g, n, &p, &qt) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_quant_params");
    fprintf(e->pf, "{ .outer = %lld, .len = %lld, .inner = %lld, .block = %lld, .s_outer = %lld, .s_axis = %lld, "
                   ".s_inner = %lld };\n",
            (long long)p.outer, (long long)p.len, (long long)p.inner, (long long)p.block, (long long)p.s_outer,
            (long long)p.s_axis, (long long)p.s_inner);
    fprintf(e->f, "    nncc_%s(&%s, %d, %s, %s, %s, %s);\n",
            n->op == NNCC_OP_DequantizeLinear ? "dequantize" : "quantize", name, (int)qt, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_QuantizeLinear = { .name = "QuantizeLinear", .infer = quant_infer, .eval = quant_eval,
                                         .emit_c = quant_emit_c };
const nncc_op nncc_op_DequantizeLinear = { .name = "DequantizeLinear", .infer = quant_infer, .eval = quant_eval,
                                           .emit_c = quant_emit_c };

/* ---- DynamicQuantizeLinear: x float32 -> y uint8 (x's shape), scale, zero point (scalars) ---- */

static nncc_status dql_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    if (n->n_out != 3) {
        nncc_error(g, n, "has %d outputs, expected 3", n->n_out);
        return NNCC_ERR_INPUT;
    }
    nncc_shape sc = { 0, { 0 } };
    nncc_set_out(g, n, 0, NNCC_DT_U8, &nncc_in(g, n, 0)->shape);
    nncc_set_out(g, n, 1, NNCC_DT_F32, &sc);
    nncc_set_out(g, n, 2, NNCC_DT_U8, &sc);
    return NNCC_OK;
}

static nncc_status dql_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    uint8_t zp;
    float s;
    nncc_dynamic_quantize_f32(nncc_shape_count(&nncc_in(g, n, 0)->shape), in[0], out[0], out[1] ? out[1] : (void *)&s,
                              out[2] ? out[2] : (void *)&zp);
    return NNCC_OK;
}

static void dql_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    fprintf(e->f, "    nncc_dynamic_quantize_f32(%lld, %s, %s, %s, %s);\n",
            (long long)nncc_shape_count(&nncc_in(g, n, 0)->shape), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->out[1]), nncc_emit_ref(e, g, n->out[2]));
}

const nncc_op nncc_op_DynamicQuantizeLinear = { .name = "DynamicQuantizeLinear", .infer = dql_infer,
                                                .eval = dql_eval, .emit_c = dql_emit_c };

/* ---- QLinearMatMul ---- */

static bool is8(nncc_dtype t) { return t == NNCC_DT_I8 || t == NNCC_DT_U8; }

static nncc_status qmm_params(nncc_graph *g, nncc_node *n, nncc_qmatmul_params *p, nncc_shape *out)
{
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 3), *ys = nncc_in(g, n, 6), *yzp = nncc_in(g, n, 7);
    memset(p, 0, sizeof *p);
    p->ta = (int32_t)a->dtype, p->tb = (int32_t)b->dtype;
    p->ty = yzp ? (int32_t)yzp->dtype : p->ta;
    p->scale_type = (int32_t)ys->dtype;
    if (!is8(a->dtype) || !is8(b->dtype) || !is8((nncc_dtype)p->ty) ||
        (ys->dtype != NNCC_DT_F32 && ys->dtype != NNCC_DT_F16))
        return nncc_unsupported(g, n, "QLinearMatMul of %s x %s", nncc_dtype_name(a->dtype), nncc_dtype_name(b->dtype));
    for (int i = 1; i < 8; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (i == 3 || !t)
            continue;
        if (nncc_shape_count(&t->shape) != 1)
            return nncc_unsupported(g, n, "per-row or per-column quantisation");
        bool scale = i == 1 || i == 4 || i == 6;
        nncc_dtype want = scale ? ys->dtype : i == 2 ? a->dtype : i == 5 ? b->dtype : (nncc_dtype)p->ty;
        if (t->dtype != want) {
            nncc_error(g, n, "input %d has type %s, expected %s", i, nncc_dtype_name(t->dtype), nncc_dtype_name(want));
            return NNCC_ERR_INPUT;
        }
    }
    int ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 2 || rb < 2 || a->shape.d[ra - 1] != b->shape.d[rb - 2] || (rb > 2 && rb != ra)) {
        nncc_error(g, n, "a %s and b %s do not multiply", nncc_shape_str(g->ctx, &a->shape),
                   nncc_shape_str(g->ctx, &b->shape));
        return NNCC_ERR_INPUT;
    }
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
    return NNCC_OK;
}

static nncc_status qmm_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 8, 8))
        return NNCC_ERR_INPUT;
    nncc_qmatmul_params p;
    nncc_shape s;
    if (qmm_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, (nncc_dtype)p.ty, &s);
    return NNCC_OK;
}

static nncc_status qmm_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_qmatmul_params p;
    nncc_shape s;
    if (qmm_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_qlinear_matmul(&p, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], out[0]);
    return NNCC_OK;
}

static void qmm_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_qmatmul_params p;
    nncc_shape s;
    if (qmm_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_qmatmul_params");
    fprintf(e->pf, "{ .batch = %lld, .m = %lld, .k = %lld, .n = %lld, .b_step = %lld, .ta = %d, .tb = %d, .ty = %d, "
                   ".scale_type = %d };\n",
            (long long)p.batch, (long long)p.m, (long long)p.k, (long long)p.n, (long long)p.b_step, (int)p.ta,
            (int)p.tb, (int)p.ty, (int)p.scale_type);
    fprintf(e->f, "    nncc_qlinear_matmul(&%s", name);
    for (int i = 0; i < 8; i++)
        fprintf(e->f, ", %s", nncc_emit_ref(e, g, n->in[i]));
    fprintf(e->f, ", %s);\n", nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_QLinearMatMul = { .name = "QLinearMatMul", .infer = qmm_infer, .eval = qmm_eval,
                                        .emit_c = qmm_emit_c };
