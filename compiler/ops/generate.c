/*
 * generate.c - ops whose output is generated rather than computed from
 * data: Range (start, limit, delta constant: the length is decided at
 * compile time), EyeLike (ones on diagonal k of the input's shape: decided
 * by the shape alone, so always folded), Trilu (keeps the upper or lower
 * triangle of the last two dims; k may be computed at run time).
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

/* ---- EyeLike: y(rows, cols) = (j - i == k), of dtype or the input's type ---- */

static nncc_status eye_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_dtype dt = (nncc_dtype)nncc_attr_int(g, n, "dtype", x->dtype);
    nncc_attr_int(g, n, "k", 0);
    if (x->shape.rank != 2) {
        nncc_error(g, n, "input %s is not 2-D", nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    if (!nncc_dtype_is_float(dt) && !nncc_dtype_is_int(dt) && dt != NNCC_DT_BOOL)
        return nncc_unsupported(g, n, "EyeLike of %s", nncc_dtype_name(dt));
    nncc_set_out(g, n, 0, dt, &x->shape);
    return NNCC_OK;
}

static nncc_status eye_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    (void)in;
    nncc_tensor *y = nncc_out(g, n, 0);
    int64_t k = nncc_attr_int(g, n, "k", 0), rows = y->shape.d[0], cols = y->shape.d[1];
    const double one = 1.0;
    size_t es = nncc_dtype_size(y->dtype);
    memset(out[0], 0, (size_t)(rows * cols) * es);
    for (int64_t i = 0; i < rows; i++)
        if (i + k >= 0 && i + k < cols)
            nncc_cast(NNCC_RT_F64, (int32_t)y->dtype, 1, &one, (char *)out[0] + (size_t)(i * cols + i + k) * es);
    return NNCC_OK;
}

const nncc_op nncc_op_EyeLike = { .name = "EyeLike", .flags = NNCC_OPF_SHAPE_ONLY, .infer = eye_infer,
                                  .eval = eye_eval };

/* ---- Trilu: x (..., rows, cols), k (default 0) ---- */

/* k: a constant, or (runtime != NULL) a tensor read at run time; it decides no shape. */
static nncc_status trilu_k(nncc_graph *g, nncc_node *n, int64_t *k, bool *runtime)
{
    *k = 0;
    *runtime = false;
    nncc_tensor *t = n->n_in > 1 ? nncc_in(g, n, 1) : NULL;
    if (!t)
        return NNCC_OK;
    if (t->dtype != NNCC_DT_I64 || nncc_shape_count(&t->shape) != 1) {
        nncc_error(g, n, "k must be one int64");
        return NNCC_ERR_INPUT;
    }
    if (t->data)
        *k = *(const int64_t *)t->data;
    else
        *runtime = true;
    return NNCC_OK;
}

static void trilu_dims(nncc_graph *g, nncc_node *n, int64_t *batch, int64_t *rows, int64_t *cols)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    *rows = s->d[s->rank - 2];
    *cols = s->d[s->rank - 1];
    *batch = *rows > 0 && *cols > 0 ? nncc_shape_count(s) / (*rows * *cols) : 0;
}

static nncc_status trilu_infer(nncc_graph *g, nncc_node *n)
{
    int64_t k;
    bool rt;
    if (nncc_check_inputs(g, n, 1, 2) || trilu_k(g, n, &k, &rt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_attr_int(g, n, "upper", 1);
    if (x->shape.rank < 2) {
        nncc_error(g, n, "input %s has fewer than 2 dims", nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, x->dtype, &x->shape);
    return NNCC_OK;
}

static nncc_status trilu_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t k, b, r, c;
    bool rt;
    if (trilu_k(g, n, &k, &rt) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (in[1])
        k = *(const int64_t *)in[1];
    trilu_dims(g, n, &b, &r, &c);
    nncc_trilu(b, r, c, k, (int32_t)nncc_attr_int(g, n, "upper", 1), nncc_dtype_size(nncc_in(g, n, 0)->dtype), in[0],
               out[0]);
    return NNCC_OK;
}

static void trilu_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t k, b, r, c;
    bool rt;
    if (trilu_k(g, n, &k, &rt) != NNCC_OK)
        return;
    trilu_dims(g, n, &b, &r, &c);
    const char *kc = rt ? nncc_fmt(g->ctx, "%s[0]", nncc_emit_ref(e, g, n->in[1])) : nncc_fmt(g->ctx, "%lldLL", (long long)k);
    fprintf(e->f, "    nncc_trilu(%lld, %lld, %lld, %s, %d, %zu, %s, %s);\n", (long long)b, (long long)r, (long long)c,
            kc, (int)nncc_attr_int(g, n, "upper", 1), nncc_dtype_size(nncc_in(g, n, 0)->dtype),
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Trilu = { .name = "Trilu", .infer = trilu_infer, .eval = trilu_eval, .emit_c = trilu_emit_c };
