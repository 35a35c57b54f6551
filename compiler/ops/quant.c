/*
 * quant.c - QuantizeLinear and DequantizeLinear (float32 <-> int8, uint8,
 * int16, uint16, and int32 for dequantisation), with a scale per tensor
 * (scalar), per axis (1-D along `axis`) or per block (`block_size` along
 * `axis`, the scale of x's rank). The zero point, when given, has the
 * scale's shape and the quantised type; it decides QuantizeLinear's output
 * type (else output_dtype, else uint8). DynamicQuantizeLinear computes
 * its uint8 scale and zero point from the data's range at run time.
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
    if (zp && (zp->dtype != *qt || !nncc_shape_eq(&zp->shape, &sc->shape))) {
        nncc_error(g, n, "the zero point must have the scale's shape and the quantised type");
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank;
    memset(p, 0, sizeof *p);
    p->outer = p->inner = p->block = 1;
    p->len = nncc_shape_count(&x->shape);
    int64_t sc_count = nncc_shape_count(&sc->shape);
    if (sc->shape.rank == 0 || (sc_count == 1 && block == 0 && sc->shape.rank == 1 && r != 1))
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

static nncc_status quant_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3))
        return NNCC_ERR_INPUT;
    nncc_quant_params p;
    nncc_dtype qt;
    if (quant_params(g, n, &p, &qt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, n->op == NNCC_OP_DequantizeLinear ? NNCC_DT_F32 : qt, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
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
