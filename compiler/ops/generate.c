/*
 * generate.c - ops whose output is generated rather than computed from
 * data: Range (start, limit, delta constant: the length is decided at
 * compile time).
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

/* ---- Range: y = start + i * delta, i < max(ceil((limit - start) / delta), 0) ---- */

static nncc_status range_count(nncc_graph *g, nncc_node *n, int64_t *count)
{
    double v[3];
    for (int i = 0; i < 3; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (!t->data || nncc_shape_count(&t->shape) != 1)
            return nncc_unsupported(g, n, "a %s computed at run time (the length must be known at compile time)",
                                    i == 0 ? "start" : i == 1 ? "limit" : "delta");
        nncc_cast((int32_t)t->dtype, NNCC_RT_F64, 1, t->data, &v[i]);
    }
    if (v[2] == 0 || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
        nncc_error(g, n, "delta is 0 or a bound is not finite");
        return NNCC_ERR_INPUT;
    }
    double c = ceil((v[1] - v[0]) / v[2]);
    if (c > (double)NNCC_MAX_ELEMS) {
        nncc_error(g, n, "%g elements", c);
        return NNCC_ERR_INPUT;
    }
    *count = c > 0 ? (int64_t)c : 0;
    return NNCC_OK;
}

static nncc_status range_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 3))
        return NNCC_ERR_INPUT;
    nncc_dtype dt = nncc_in(g, n, 0)->dtype;
    if (!nncc_dtype_is_float(dt) && !nncc_dtype_is_int(dt))
        return nncc_unsupported(g, n, "Range of %s", nncc_dtype_name(dt));
    for (int i = 1; i < 3; i++)
        if (nncc_in(g, n, i)->dtype != dt) {
            nncc_error(g, n, "start, limit and delta must have one type");
            return NNCC_ERR_INPUT;
        }
    int64_t cnt = 0;
    if (range_count(g, n, &cnt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = { 1, { cnt } };
    nncc_set_out(g, n, 0, dt, &s);
    return NNCC_OK;
}

static nncc_status range_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_range((int32_t)nncc_in(g, n, 0)->dtype, in[0], in[2], nncc_shape_count(&nncc_out(g, n, 0)->shape), out[0]);
    return NNCC_OK;
}

static void range_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    fprintf(e->f, "    nncc_range(%d, %s, %s, %lld, %s);\n", (int)nncc_in(g, n, 0)->dtype,
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[2]),
            (long long)nncc_shape_count(&nncc_out(g, n, 0)->shape), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Range = { .name = "Range", .infer = range_infer, .eval = range_eval, .emit_c = range_emit_c };
