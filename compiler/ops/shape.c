/*
 * shape.c - ops that relabel a shape without touching the data (Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity, Dropout at inference) and ops that
 * produce constants (Shape, Size, Constant, ConstantOfShape).
 *
 * The views share their input's storage (the memory planner aliases them);
 * when they cannot (a graph output over a graph input, say) they copy.
 * Shape and Size depend only on shapes, so they are always folded.
 */
#include "nncc-impl.h"

#include <string.h>

/* ---- views: output 0 = input 0 with a new shape ---- */

static nncc_status view_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_tensor *y = nncc_out(g, n, 0);
    size_t bytes = (size_t)nncc_shape_count(&y->shape) * nncc_dtype_size(y->dtype);
    if (bytes)
        memcpy(out[0], in[0], bytes);
    /* Dropout's mask output: all true at inference */
    if (n->n_out > 1 && n->out[1] >= 0)
        memset(out[1], 1, (size_t)nncc_shape_count(&nncc_out(g, n, 1)->shape));
    return NNCC_OK;
}

static void view_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_tensor *y = nncc_out(g, n, 0);
    const char *src = nncc_emit_ref(e, g, n->in[0]), *dst = nncc_emit_ref(e, g, n->out[0]);
    size_t bytes = (size_t)nncc_shape_count(&y->shape) * nncc_dtype_size(y->dtype);
    if (strcmp(src, dst) == 0 || bytes == 0)
        fprintf(e->f, "    /* a view: shares its input's storage, no code */\n");
    else
        fprintf(e->f, "    memmove(%s, %s, %zu);\n", dst, src, bytes);
    if (n->n_out > 1 && n->out[1] >= 0)
        fprintf(e->f, "    memset(%s, 1, %lld); /* mask: all kept at inference */\n",
                nncc_emit_ref(e, g, n->out[1]), (long long)nncc_shape_count(&nncc_out(g, n, 1)->shape));
}

static nncc_status reshape_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, n->opset < 5 ? 1 : 2, 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t want[NNCC_MAX_RANK + 1];
    int nw;
    if (n->opset < 5)
        nw = nncc_attr_ints(g, n, "shape", want, NNCC_MAX_RANK + 1);
    else
        nw = nncc_const_ints(g, n, 1, want, NNCC_MAX_RANK + 1);
    int allowzero = (int)nncc_attr_int(g, n, "allowzero", 0);
    if (nw < 0)
        return nncc_unsupported(g, n, "the target shape is computed from input values at run time");
    if (nw > NNCC_MAX_RANK)
        return nncc_unsupported(g, n, "rank %d (at most %d)", nw, NNCC_MAX_RANK);
    nncc_shape s = { nw, { 0 } };
    int infer_at = -1;
    int64_t known = 1, total = nncc_shape_count(&x->shape);
    for (int i = 0; i < nw; i++) {
        int64_t d = want[i];
        if (d == 0 && !allowzero) {
            if (i >= x->shape.rank) {
                nncc_error(g, n, "shape entry %d is 0 (copy) but the input has only %d dims", i, x->shape.rank);
                return NNCC_ERR_INPUT;
            }
            d = x->shape.d[i];
        }
        if (d == -1) {
            if (infer_at >= 0) {
                nncc_error(g, n, "more than one -1 in the target shape");
                return NNCC_ERR_INPUT;
            }
            infer_at = i;
            d = 1;
        } else if (d < 0) {
            nncc_error(g, n, "invalid dim %lld in the target shape", (long long)d);
            return NNCC_ERR_INPUT;
        }
        s.d[i] = d;
        if (__builtin_mul_overflow(known, d, &known)) {
            nncc_error(g, n, "the target shape has an absurdly large element count");
            return NNCC_ERR_INPUT;
        }
    }
    if (infer_at >= 0) {
        if (known == 0 || total % known) {
            nncc_error(g, n, "cannot reshape %s (%lld elements) with a -1 dim", nncc_shape_str(g->ctx, &x->shape),
                       (long long)total);
            return NNCC_ERR_INPUT;
        }
        s.d[infer_at] = total / known;
    }
    if (nncc_shape_count(&s) != total) {
        nncc_error(g, n, "cannot reshape %s into %s", nncc_shape_str(g->ctx, &x->shape), nncc_shape_str(g->ctx, &s));
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static nncc_status flatten_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", 1);
    int r = x->shape.rank;
    if (axis < -r || axis > r) {
        nncc_error(g, n, "axis %lld is out of range for rank %d", (long long)axis, r);
        return NNCC_ERR_INPUT;
    }
    if (axis < 0)
        axis += r;
    nncc_shape s = { 2, { 1, 1 } };
    for (int i = 0; i < r; i++)
        s.d[i < axis ? 0 : 1] *= x->shape.d[i];
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

/* Squeeze/Unsqueeze axes: attribute before opset 13, constant input after. */
static int read_axes(nncc_graph *g, nncc_node *n, int64_t *axes)
{
    if (n->opset < 13)
        return nncc_attr_ints(g, n, "axes", axes, NNCC_MAX_RANK);
    if (n->n_in < 2 || n->in[1] < 0)
        return -1;
    int na = nncc_const_ints(g, n, 1, axes, NNCC_MAX_RANK);
    if (na < 0)
        return -2;
    return na;
}

static nncc_status squeeze_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axes[NNCC_MAX_RANK];
    int na = read_axes(g, n, axes);
    if (na == -2)
        return nncc_unsupported(g, n, "axes computed at run time");
    bool drop[NNCC_MAX_RANK] = { false };
    int r = x->shape.rank;
    if (na > r) {
        nncc_error(g, n, "%d axes for rank %d", na, r);
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < na; i++) {
        if (nncc_axis(g, n, &axes[i], r) != NNCC_OK)
            return NNCC_ERR_INPUT;
        if (x->shape.d[axes[i]] != 1) {
            nncc_error(g, n, "cannot squeeze axis %lld of size %lld", (long long)axes[i],
                       (long long)x->shape.d[axes[i]]);
            return NNCC_ERR_INPUT;
        }
        drop[axes[i]] = true;
    }
    nncc_shape s = { 0, { 0 } };
    for (int i = 0; i < r; i++)
        if (!(na < 0 ? x->shape.d[i] == 1 : drop[i]))
            s.d[s.rank++] = x->shape.d[i];
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static nncc_status unsqueeze_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, n->opset < 13 ? 1 : 2, 2))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axes[NNCC_MAX_RANK];
    int na = read_axes(g, n, axes);
    if (na == -2)
        return nncc_unsupported(g, n, "axes computed at run time");
    if (na < 0) {
        nncc_error(g, n, "axes are required");
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank + na;
    if (r > NNCC_MAX_RANK)
        return nncc_unsupported(g, n, "rank %d (at most %d)", r, NNCC_MAX_RANK);
    bool ins[NNCC_MAX_RANK] = { false };
    for (int i = 0; i < na; i++) {
        if (nncc_axis(g, n, &axes[i], r) != NNCC_OK)
            return NNCC_ERR_INPUT;
        if (ins[axes[i]]) {
            nncc_error(g, n, "axis %lld is repeated", (long long)axes[i]);
            return NNCC_ERR_INPUT;
        }
        ins[axes[i]] = true;
    }
    nncc_shape s = { r, { 0 } };
    for (int i = 0, k = 0; i < r; i++)
        s.d[i] = ins[i] ? 1 : x->shape.d[k++];
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static nncc_status identity_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_set_out(g, n, 0, x->dtype, &x->shape);
    return NNCC_OK;
}

static nncc_status dropout_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 3))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *tm = nncc_in(g, n, 2);
    nncc_attr_float(g, n, "ratio", 0.5f);  /* before opset 12; irrelevant at inference */
    nncc_attr_int(g, n, "seed", 0);
    if (n->opset < 7)
        nncc_attr_int(g, n, "is_test", 1);
    if (tm && (!tm->data || ((const uint8_t *)tm->data)[0]))
        return nncc_unsupported(g, n, "training_mode that is true or not constant (nncc compiles inference)");
    nncc_set_out(g, n, 0, x->dtype, &x->shape);
    nncc_set_out(g, n, 1, NNCC_DT_BOOL, &x->shape);
    return NNCC_OK;
}

#define VIEW(NAME, INFER) \
    const nncc_op nncc_op_##NAME = { .name = #NAME, .flags = NNCC_OPF_VIEW, .infer = INFER, \
                                     .eval = view_eval, .emit_c = view_emit_c }
VIEW(Reshape, reshape_infer);
VIEW(Flatten, flatten_infer);
VIEW(Squeeze, squeeze_infer);
VIEW(Unsqueeze, unsqueeze_infer);
VIEW(Identity, identity_infer);
VIEW(Dropout, dropout_infer);

/* ---- constants ---- */

static void no_emit(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    (void)e, (void)g, (void)n; /* always folded before emission */
}

static nncc_status shape_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_shape s = { 1, { 1 } };
    if (n->op == NNCC_OP_Shape) {
        int r = x->shape.rank;
        int64_t start = nncc_attr_int(g, n, "start", 0), end = nncc_attr_int(g, n, "end", r);
        start = start < 0 ? start + r : start;
        end = end < 0 ? end + r : end;
        start = start < 0 ? 0 : start > r ? r : start;
        end = end < 0 ? 0 : end > r ? r : end;
        s.d[0] = end > start ? end - start : 0;
    } else {
        s.rank = 0;
    }
    nncc_set_out(g, n, 0, NNCC_DT_I64, &s);
    return NNCC_OK;
}

static nncc_status shape_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    (void)in;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t *y = out[0];
    if (n->op == NNCC_OP_Size) {
        y[0] = nncc_shape_count(&x->shape);
        return NNCC_OK;
    }
    int r = x->shape.rank;
    int64_t start = nncc_attr_int(g, n, "start", 0);
    start = start < 0 ? start + r : start;
    start = start < 0 ? 0 : start > r ? r : start;
    for (int64_t i = 0; i < nncc_out(g, n, 0)->shape.d[0]; i++)
        y[i] = x->shape.d[start + i];
    return NNCC_OK;
}

const nncc_op nncc_op_Shape = { .name = "Shape", .flags = NNCC_OPF_SHAPE_ONLY, .infer = shape_infer,
                                .eval = shape_eval, .emit_c = no_emit };
const nncc_op nncc_op_Size = { .name = "Size", .flags = NNCC_OPF_SHAPE_ONLY, .infer = shape_infer,
                               .eval = shape_eval, .emit_c = no_emit };

/* Constant: exactly one of value, value_float(s), value_int(s) (strings and sparse unsupported). */
static nncc_status constant_value(nncc_graph *g, nncc_node *n, nncc_tensor *tmp, const void **data)
{
    nncc_attr *a;
    memset(tmp, 0, sizeof *tmp);
    if ((a = nncc_attr_find(n, "value")) != NULL) {
        a->used = true;
        if (a->type != NNCC_ATTR_TENSOR) {
            nncc_error(g, n, "attribute 'value' is not a tensor");
            return NNCC_ERR_INPUT;
        }
        *tmp = g->t[a->tensor];
        *data = tmp->data;
        return NNCC_OK;
    }
    if ((a = nncc_attr_find(n, "value_float")) != NULL) {
        a->used = true;
        tmp->dtype = NNCC_DT_F32, tmp->shape.rank = 0, *data = &a->f;
    } else if ((a = nncc_attr_find(n, "value_int")) != NULL) {
        a->used = true;
        tmp->dtype = NNCC_DT_I64, tmp->shape.rank = 0, *data = &a->i;
    } else if ((a = nncc_attr_find(n, "value_floats")) != NULL) {
        a->used = true;
        tmp->dtype = NNCC_DT_F32, tmp->shape.rank = 1, tmp->shape.d[0] = a->n, *data = a->floats;
    } else if ((a = nncc_attr_find(n, "value_ints")) != NULL) {
        a->used = true;
        tmp->dtype = NNCC_DT_I64, tmp->shape.rank = 1, tmp->shape.d[0] = a->n, *data = a->ints;
    } else {
        return nncc_unsupported(g, n, "a Constant without a numeric value (strings, sparse tensors)");
    }
    return NNCC_OK;
}

static nncc_status constant_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 0, 0))
        return NNCC_ERR_INPUT;
    nncc_tensor tmp;
    const void *d;
    if (constant_value(g, n, &tmp, &d) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, tmp.dtype, &tmp.shape);
    return NNCC_OK;
}

static nncc_status constant_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    (void)in;
    nncc_tensor tmp;
    const void *d;
    if (constant_value(g, n, &tmp, &d) != NNCC_OK)
        return NNCC_ERR_INPUT;
    size_t bytes = (size_t)nncc_shape_count(&tmp.shape) * nncc_dtype_size(tmp.dtype);
    if (bytes)
        memcpy(out[0], d, bytes);
    return NNCC_OK;
}

const nncc_op nncc_op_Constant = { .name = "Constant", .flags = NNCC_OPF_NOKERNEL, .infer = constant_infer,
                                   .eval = constant_eval, .emit_c = no_emit };

/* ConstantOfShape: shape from a constant input, filled with `value` (default float 0). */
static nncc_status cos_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    int64_t dims[NNCC_MAX_RANK + 1];
    int nd = nncc_const_ints(g, n, 0, dims, NNCC_MAX_RANK + 1);
    if (nd < 0)
        return nncc_unsupported(g, n, "a shape computed from input values at run time");
    if (nd > NNCC_MAX_RANK)
        return nncc_unsupported(g, n, "rank %d", nd);
    nncc_shape s = { nd, { 0 } };
    for (int i = 0; i < nd; i++) {
        if (dims[i] < 0) {
            nncc_error(g, n, "negative dim %lld", (long long)dims[i]);
            return NNCC_ERR_INPUT;
        }
        s.d[i] = dims[i];
    }
    nncc_dtype dt = NNCC_DT_F32;
    nncc_attr *a = nncc_attr_find(n, "value");
    if (a) {
        a->used = true;
        if (a->type != NNCC_ATTR_TENSOR || nncc_shape_count(&g->t[a->tensor].shape) != 1) {
            nncc_error(g, n, "value must be a one-element tensor");
            return NNCC_ERR_INPUT;
        }
        dt = g->t[a->tensor].dtype;
    }
    nncc_set_out(g, n, 0, dt, &s);
    return NNCC_OK;
}

static nncc_status cos_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    (void)in;
    nncc_tensor *y = nncc_out(g, n, 0);
    size_t es = nncc_dtype_size(y->dtype);
    nncc_attr *a = nncc_attr_find(n, "value");
    static const float zero = 0.0f;
    const void *v = a ? g->t[a->tensor].data : &zero;
    for (int64_t i = 0; i < nncc_shape_count(&y->shape); i++)
        memcpy((char *)out[0] + (size_t)i * es, v, es);
    return NNCC_OK;
}

const nncc_op nncc_op_ConstantOfShape = { .name = "ConstantOfShape", .flags = NNCC_OPF_NOKERNEL, .infer = cos_infer, .eval = cos_eval,
                                          .emit_c = no_emit };
