/*
 * util.c - what the op files share: attribute readers that remember which
 * attributes were used (so unknown ones are errors), input checks, axis
 * normalisation and numpy broadcasting.
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_attr *attr_get(nncc_graph *g, nncc_node *n, const char *name, nncc_attr_type want)
{
    nncc_attr *a = nncc_attr_find(n, name);
    if (!a)
        return NULL;
    a->used = true;
    /* ONNX writers sometimes store a single int list as INTS of one; accept INT for INTS too */
    if (a->type != want && !(want == NNCC_ATTR_INTS && a->type == NNCC_ATTR_INT) &&
        !(want == NNCC_ATTR_FLOAT && a->type == NNCC_ATTR_INT)) {
        nncc_error(g, n, "attribute '%s' has the wrong type (%d, expected %d)", name,
                   (int)a->type, (int)want);
        return NULL;
    }
    return a;
}

int64_t nncc_attr_int(nncc_graph *g, nncc_node *n, const char *name, int64_t def)
{
    nncc_attr *a = attr_get(g, n, name, NNCC_ATTR_INT);
    return a ? a->i : def;
}

float nncc_attr_float(nncc_graph *g, nncc_node *n, const char *name, float def)
{
    nncc_attr *a = attr_get(g, n, name, NNCC_ATTR_FLOAT);
    if (!a)
        return def;
    return a->type == NNCC_ATTR_INT ? (float)a->i : a->f;
}

const char *nncc_attr_str(nncc_graph *g, nncc_node *n, const char *name, const char *def)
{
    nncc_attr *a = attr_get(g, n, name, NNCC_ATTR_STRING);
    return a ? a->s : def;
}

int nncc_attr_ints(nncc_graph *g, nncc_node *n, const char *name, int64_t *v, int max)
{
    nncc_attr *a = attr_get(g, n, name, NNCC_ATTR_INTS);
    if (!a)
        return -1;
    if (a->type == NNCC_ATTR_INT) {
        if (max > 0)
            v[0] = a->i;
        return 1;
    }
    for (int i = 0; i < a->n && i < max; i++)
        v[i] = a->ints[i];
    return a->n;
}

int nncc_attr_floats(nncc_graph *g, nncc_node *n, const char *name, float *v, int max)
{
    nncc_attr *a = attr_get(g, n, name, NNCC_ATTR_FLOATS);
    if (!a)
        return -1;
    for (int i = 0; i < a->n && i < max; i++)
        v[i] = a->floats[i];
    return a->n;
}

nncc_status nncc_attrs_done(nncc_graph *g, nncc_node *n)
{
    nncc_status st = NNCC_OK;
    for (int i = 0; i < n->n_attr; i++) {
        if (!n->attr[i].used) {
            nncc_error(g, n, "unsupported: attribute '%s' is not known for %s (opset %d)",
                       n->attr[i].name, nncc_ops[n->op]->name, n->opset);
            st = NNCC_ERR_INPUT;
        }
    }
    return st;
}

nncc_tensor *nncc_in(nncc_graph *g, nncc_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 ? &g->t[n->in[i]] : NULL;
}

nncc_tensor *nncc_out(nncc_graph *g, nncc_node *n, int i)
{
    return i < n->n_out && n->out[i] >= 0 ? &g->t[n->out[i]] : NULL;
}

nncc_status nncc_check_inputs(nncc_graph *g, nncc_node *n, int lo, int hi)
{
    if (n->n_in < lo || n->n_in > hi) {
        if (lo == hi)
            nncc_error(g, n, "expects %d inputs, has %d", lo, n->n_in);
        else
            nncc_error(g, n, "expects %d to %d inputs, has %d", lo, hi, n->n_in);
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < lo; i++) {
        if (n->in[i] < 0) {
            nncc_error(g, n, "input %d is required", i);
            return NNCC_ERR_INPUT;
        }
    }
    for (int i = 0; i < n->n_in; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (t && !t->has_shape) {
            nncc_error(g, n, "input '%s' has no known shape", t->name);
            return NNCC_ERR_INPUT;
        }
    }
    return NNCC_OK;
}

nncc_status nncc_check_dtype(nncc_graph *g, nncc_node *n, int i, ...)
{
    nncc_tensor *t = nncc_in(g, n, i);
    if (!t)
        return NNCC_OK;
    va_list ap;
    va_start(ap, i);
    for (int dt; (dt = va_arg(ap, int)) != NNCC_DT_UNDEF;) {
        if ((int)t->dtype == dt) {
            va_end(ap);
            return NNCC_OK;
        }
    }
    va_end(ap);
    return nncc_unsupported(g, n, "input '%s' has type %s, which this op does not support",
                            t->name, nncc_dtype_name(t->dtype));
}

void nncc_set_out(nncc_graph *g, nncc_node *n, int i, nncc_dtype dt, const nncc_shape *s)
{
    nncc_tensor *t = nncc_out(g, n, i);
    if (!t)
        return;
    t->dtype = dt;
    t->shape = *s;
    t->has_shape = true;
}

nncc_status nncc_axis(nncc_graph *g, nncc_node *n, int64_t *axis, int rank)
{
    if (*axis < -rank || *axis >= (rank ? rank : 1)) {
        nncc_error(g, n, "axis %lld is out of range for rank %d", (long long)*axis, rank);
        return NNCC_ERR_INPUT;
    }
    if (*axis < 0)
        *axis += rank;
    return NNCC_OK;
}

int nncc_const_ints(nncc_graph *g, nncc_node *n, int i, int64_t *v, int max)
{
    nncc_tensor *t = nncc_in(g, n, i);
    if (!t || !t->data)
        return -1;
    int64_t cnt = nncc_shape_count(&t->shape);
    for (int64_t k = 0; k < cnt && k < max; k++) {
        if (t->dtype == NNCC_DT_I64)
            v[k] = ((const int64_t *)t->data)[k];
        else if (t->dtype == NNCC_DT_I32)
            v[k] = ((const int32_t *)t->data)[k];
        else
            return -1;
    }
    return (int)(cnt > 1 << 20 ? 1 << 20 : cnt);
}

nncc_status nncc_broadcast_shape(nncc_graph *g, nncc_node *n, const nncc_shape *a,
                                 const nncc_shape *b, nncc_shape *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            nncc_error(g, n, "shapes %s and %s cannot be broadcast together",
                       nncc_shape_str(g->ctx, a), nncc_shape_str(g->ctx, b));
            return NNCC_ERR_INPUT;
        }
        out->d[i] = da == 1 ? db : da;
    }
    return NNCC_OK;
}

void nncc_bcast_strides(const nncc_shape *in, const nncc_shape *out, int64_t *strides)
{
    int64_t s = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int k = i - (out->rank - in->rank);
        if (k < 0 || in->d[k] == 1) {
            strides[i] = 0;
        } else {
            strides[i] = s;
        }
        if (k >= 0)
            s *= in->d[k];
    }
}

void nncc_bcast_fill(nncc_bcast *bc, const nncc_shape *o, const nncc_shape *a,
                     const nncc_shape *b, const nncc_shape *c)
{
    memset(bc, 0, sizeof *bc);
    /* a scalar output is a rank-1 walk of one element */
    nncc_shape one = { 1, { 1 } };
    if (o->rank == 0)
        o = &one;
    bc->rank = o->rank;
    for (int i = 0; i < o->rank; i++)
        bc->dims[i] = o->d[i];
    nncc_bcast_strides(a, o, bc->sa);
    if (b)
        nncc_bcast_strides(b, o, bc->sb);
    if (c)
        nncc_bcast_strides(c, o, bc->sc);
}

nncc_status nncc_unsupported(nncc_graph *g, nncc_node *n, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    nncc_error(g, n, "unsupported: %s", buf);
    return NNCC_ERR_INPUT;
}

nncc_status nncc_node_materialize_outputs(nncc_graph *g, int ni, int count)
{
    nncc_node *n = &g->n[ni];
    if (n->n_out < count) {
        int *o = nncc_alloc_array(g->ctx, (size_t)count, sizeof(int));
        if (!o)
            return NNCC_ERR_NOMEM;
        for (int i = 0; i < count; i++)
            o[i] = i < n->n_out ? n->out[i] : -1;
        n->out = o;
        n->n_out = count;
    }
    for (int i = 0; i < count; i++) {
        if (n->out[i] >= 0)
            continue;
        int t = nncc_tensor_new_unique(g, nncc_fmt(g->ctx, "%s:state%d", n->name, i));
        if (t < 0)
            return NNCC_ERR_NOMEM;
        n->out[i] = t;
        g->t[t].producer = ni;
    }
    return NNCC_OK;
}

void nncc_nc_split(nncc_graph *g, nncc_node *n, int64_t *N, int64_t *C, int64_t *HW)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    *N = s->d[0];
    *C = s->d[1];
    *HW = (*N > 0 && *C > 0) ? nncc_shape_count(s) / (*N * *C) : 0;
}
