/*
 * index.c - indexed reads and writes with indices known only at run time:
 * GatherElements, ScatterElements (and the older Scatter), GatherND,
 * ScatterND. Any element type; scatter reductions other than 'none' take
 * float32 only. The generated code returns 1 when an index is out of range.
 *
 *   GatherElements: data (r dims), indices (same rank) -> y (indices' shape)
 *   ScatterElements: data, indices, updates (indices' shape) -> y (data's shape)
 *   GatherND: data, indices (..., k) -> y = indices.shape[:-1] + data.shape[b+k:]
 *   ScatterND: data, indices (..., k), updates -> y (data's shape)
 *   TensorScatter: cache (B,...,max,...), update (B,...,len,...), write
 *     indices (B) -> y (cache's shape), linear or circular
 *   ReverseSequence: x (T,B,...) or (B,T,...), lengths (B) -> y (x's shape)
 */
#include "nncc-impl.h"

#include <string.h>

static int scatter_reduction(nncc_graph *g, nncc_node *n)
{
    static const char *names[] = { "none", "add", "mul", "max", "min" };
    const char *r = nncc_attr_str(g, n, "reduction", "none");
    for (int i = 0; i < 5; i++)
        if (!strcmp(r, names[i]))
            return i;
    nncc_error(g, n, "unknown reduction '%s'", r);
    return -1;
}

static bool is_scatter(const nncc_node *n)
{
    return n->op == NNCC_OP_ScatterElements || n->op == NNCC_OP_Scatter || n->op == NNCC_OP_ScatterND;
}

/* ---- GatherElements, ScatterElements ---- */

static nncc_status elem_params(nncc_graph *g, nncc_node *n, nncc_elements_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0), *idx = nncc_in(g, n, 1);
    int64_t axis = nncc_attr_int(g, n, "axis", 0);
    int r = x->shape.rank;
    if (r == 0 || idx->shape.rank != r) {
        nncc_error(g, n, "indices %s must have the rank of the data %s", nncc_shape_str(g->ctx, &idx->shape),
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    if (nncc_axis(g, n, &axis, r) != NNCC_OK)
        return NNCC_ERR_INPUT;
    memset(p, 0, sizeof *p);
    p->rank = r;
    p->axis = axis;
    p->axis_len = x->shape.d[axis];
    int64_t st = 1;
    for (int i = r - 1; i >= 0; i--) {
        p->dims[i] = idx->shape.d[i];
        p->xstride[i] = st;
        st *= x->shape.d[i];
        if (i != axis && idx->shape.d[i] > x->shape.d[i]) {
            nncc_error(g, n, "indices %s exceed the data %s outside the axis", nncc_shape_str(g->ctx, &idx->shape),
                       nncc_shape_str(g->ctx, &x->shape));
            return NNCC_ERR_INPUT;
        }
    }
    return NNCC_OK;
}

static nncc_status idx_check(nncc_graph *g, nncc_node *n, bool int32_ok)
{
    if (int32_ok)
        return nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_I32, NNCC_DT_UNDEF);
    return nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_UNDEF);
}

static nncc_status elem_infer(nncc_graph *g, nncc_node *n)
{
    bool sc = is_scatter(n);
    if (nncc_check_inputs(g, n, sc ? 3 : 2, sc ? 3 : 2) || idx_check(g, n, true))
        return NNCC_ERR_INPUT;
    nncc_elements_params p;
    if (elem_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *idx = nncc_in(g, n, 1);
    if (sc) {
        int red = n->op == NNCC_OP_Scatter ? 0 : scatter_reduction(g, n);
        nncc_tensor *u = nncc_in(g, n, 2);
        if (red < 0)
            return NNCC_ERR_INPUT;
        if (red && x->dtype != NNCC_DT_F32)
            return nncc_unsupported(g, n, "reduction on %s (float32 only)", nncc_dtype_name(x->dtype));
        if (!nncc_shape_eq(&u->shape, &idx->shape) || u->dtype != x->dtype) {
            nncc_error(g, n, "updates must have the indices' shape and the data's type");
            return NNCC_ERR_INPUT;
        }
        nncc_set_out(g, n, 0, x->dtype, &x->shape);
    } else {
        nncc_set_out(g, n, 0, x->dtype, &idx->shape);
    }
    return NNCC_OK;
}

static size_t esize(nncc_graph *g, nncc_node *n) { return nncc_dtype_size(nncc_in(g, n, 0)->dtype); }
static size_t isize(nncc_graph *g, nncc_node *n) { return nncc_dtype_size(nncc_in(g, n, 1)->dtype); }
static size_t xbytes(nncc_graph *g, nncc_node *n)
{
    return (size_t)nncc_shape_count(&nncc_in(g, n, 0)->shape) * esize(g, n);
}

static nncc_status elem_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_elements_params p;
    if (elem_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int bad;
    if (is_scatter(n)) {
        memcpy(out[0], in[0], xbytes(g, n));
        bad = nncc_scatter_elements(&p, n->op == NNCC_OP_Scatter ? 0 : scatter_reduction(g, n), esize(g, n), in[1],
                                    isize(g, n), in[2], out[0]);
    } else {
        bad = nncc_gather_elements(&p, esize(g, n), in[0], in[1], isize(g, n), out[0]);
    }
    if (bad) {
        nncc_error(g, n, "an index is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

/* Copies the data into the output (scatter ops start from it). */
static void emit_copy(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    size_t bytes = xbytes(g, n);
    if (bytes)
        fprintf(e->f, "    nncc_copy_rows(1, %zu, %zu, %zu, %s, %s);\n", bytes, bytes, bytes,
                nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

static void elem_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_elements_params p;
    if (elem_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_elements_params");
    fprintf(e->pf, "{\n    .rank = %lld, .axis = %lld, .dims = ", (long long)p.rank, (long long)p.axis);
    nncc_emit_i64s(e, p.dims, (int)p.rank);
    fprintf(e->pf, ",\n    .xstride = ");
    nncc_emit_i64s(e, p.xstride, (int)p.rank);
    fprintf(e->pf, ",\n    .axis_len = %lld\n};\n", (long long)p.axis_len);
    if (is_scatter(n)) {
        emit_copy(e, g, n);
        fprintf(e->f, "    if (nncc_scatter_elements(&%s, %d, %zu, %s, %zu, %s, %s))\n", name,
                n->op == NNCC_OP_Scatter ? 0 : scatter_reduction(g, n), esize(g, n), nncc_emit_ref(e, g, n->in[1]),
                isize(g, n), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->out[0]));
    } else {
        fprintf(e->f, "    if (nncc_gather_elements(&%s, %zu, %s, %s, %zu, %s))\n", name, esize(g, n),
                nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]), isize(g, n),
                nncc_emit_ref(e, g, n->out[0]));
    }
    fprintf(e->f, "        return 1; /* index out of range */\n");
}

const nncc_op nncc_op_GatherElements = { .name = "GatherElements", .infer = elem_infer, .eval = elem_eval,
                                         .emit_c = elem_emit_c };
const nncc_op nncc_op_ScatterElements = { .name = "ScatterElements", .infer = elem_infer, .eval = elem_eval,
                                          .emit_c = elem_emit_c };
const nncc_op nncc_op_Scatter = { .name = "Scatter", .infer = elem_infer, .eval = elem_eval, .emit_c = elem_emit_c };

/* ---- GatherND, ScatterND ---- */

typedef struct {
    int64_t batch, batch_stride, count, k, slice;
    int64_t xdims[NNCC_MAX_RANK];
} nd_info;

static nncc_status nd_params(nncc_graph *g, nncc_node *n, nd_info *d, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0), *idx = nncc_in(g, n, 1);
    int64_t b = n->op == NNCC_OP_GatherND ? nncc_attr_int(g, n, "batch_dims", 0) : 0;
    int q = idx->shape.rank, r = x->shape.rank;
    if (q < 1 || b < 0 || b >= q || b > r) {
        nncc_error(g, n, "indices %s do not fit batch_dims %lld", nncc_shape_str(g->ctx, &idx->shape), (long long)b);
        return NNCC_ERR_INPUT;
    }
    d->k = idx->shape.d[q - 1];
    if (d->k < 1 || b + d->k > r) {
        nncc_error(g, n, "index tuples of %lld for data of rank %d", (long long)d->k, r);
        return NNCC_ERR_INPUT;
    }
    d->batch = d->count = d->slice = d->batch_stride = 1;
    for (int i = 0; i < b; i++) {
        d->batch *= x->shape.d[i];
        if (idx->shape.d[i] != x->shape.d[i]) {
            nncc_error(g, n, "batch dims of indices and data differ");
            return NNCC_ERR_INPUT;
        }
    }
    for (int i = (int)b; i < q - 1; i++)
        d->count *= idx->shape.d[i];
    for (int i = (int)b; i < r; i++) {
        d->batch_stride *= x->shape.d[i];
        if (i >= b + d->k)
            d->slice *= x->shape.d[i];
        else
            d->xdims[i - b] = x->shape.d[i];
    }
    out->rank = 0;
    for (int i = 0; i < q - 1; i++)
        out->d[out->rank++] = idx->shape.d[i];
    for (int i = (int)(b + d->k); i < r; i++) {
        if (out->rank >= NNCC_MAX_RANK)
            return nncc_unsupported(g, n, "an output of rank above %d", NNCC_MAX_RANK);
        out->d[out->rank++] = x->shape.d[i];
    }
    return NNCC_OK;
}

static nncc_status nd_infer(nncc_graph *g, nncc_node *n)
{
    bool sc = is_scatter(n);
    if (nncc_check_inputs(g, n, sc ? 3 : 2, sc ? 3 : 2) || idx_check(g, n, false))
        return NNCC_ERR_INPUT;
    nd_info d;
    nncc_shape s;
    if (nd_params(g, n, &d, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    if (sc) {
        int red = scatter_reduction(g, n);
        nncc_tensor *u = nncc_in(g, n, 2);
        if (red < 0)
            return NNCC_ERR_INPUT;
        if (red && x->dtype != NNCC_DT_F32)
            return nncc_unsupported(g, n, "reduction on %s (float32 only)", nncc_dtype_name(x->dtype));
        if (!nncc_shape_eq(&u->shape, &s) || u->dtype != x->dtype) {
            nncc_error(g, n, "updates %s must be %s, of the data's type", nncc_shape_str(g->ctx, &u->shape),
                       nncc_shape_str(g->ctx, &s));
            return NNCC_ERR_INPUT;
        }
        nncc_set_out(g, n, 0, x->dtype, &x->shape);
    } else {
        nncc_set_out(g, n, 0, x->dtype, &s);
    }
    return NNCC_OK;
}

static nncc_status nd_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nd_info d;
    nncc_shape s;
    if (nd_params(g, n, &d, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int bad;
    if (is_scatter(n)) {
        memcpy(out[0], in[0], xbytes(g, n));
        bad = nncc_scatter_nd(d.count, d.k, d.xdims, d.slice, scatter_reduction(g, n), esize(g, n), in[1], in[2],
                              out[0]);
    } else {
        bad = nncc_gather_nd(d.batch, d.batch_stride, d.count, d.k, d.xdims, d.slice, esize(g, n), in[0], in[1],
                             out[0]);
    }
    if (bad) {
        nncc_error(g, n, "an index is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void nd_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nd_info d;
    nncc_shape s;
    if (nd_params(g, n, &d, &s) != NNCC_OK)
        return;
    const char *dims = nncc_emit_name(e, "xdims");
    fprintf(e->pf, "static const int64_t %s[%lld] = ", dims, (long long)d.k);
    nncc_emit_i64s(e, d.xdims, (int)d.k);
    fprintf(e->pf, ";\n");
    if (is_scatter(n)) {
        emit_copy(e, g, n);
        fprintf(e->f, "    if (nncc_scatter_nd(%lld, %lld, %s, %lld, %d, %zu, %s, %s, %s))\n", (long long)d.count,
                (long long)d.k, dims, (long long)d.slice, scatter_reduction(g, n), esize(g, n),
                nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->out[0]));
    } else {
        fprintf(e->f, "    if (nncc_gather_nd(%lld, %lld, %lld, %lld, %s, %lld, %zu, %s, %s, %s))\n",
                (long long)d.batch, (long long)d.batch_stride, (long long)d.count, (long long)d.k, dims,
                (long long)d.slice, esize(g, n), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]),
                nncc_emit_ref(e, g, n->out[0]));
    }
    fprintf(e->f, "        return 1; /* index out of range */\n");
}

const nncc_op nncc_op_GatherND = { .name = "GatherND", .infer = nd_infer, .eval = nd_eval, .emit_c = nd_emit_c };
const nncc_op nncc_op_ScatterND = { .name = "ScatterND", .infer = nd_infer, .eval = nd_eval, .emit_c = nd_emit_c };

/* ---- TensorScatter ---- */

typedef struct {
    int64_t batch, outer, max_len, len, inner;
    int32_t circular;
} ts_info;

static nncc_status ts_params(nncc_graph *g, nncc_node *n, ts_info *t)
{
    nncc_tensor *c = nncc_in(g, n, 0), *u = nncc_in(g, n, 1), *wi = nncc_in(g, n, 2);
    const char *mode = nncc_attr_str(g, n, "mode", "linear");
    int64_t axis = nncc_attr_int(g, n, "axis", -2);
    int r = c->shape.rank;
    if (strcmp(mode, "linear") && strcmp(mode, "circular")) {
        nncc_error(g, n, "unknown mode '%s'", mode);
        return NNCC_ERR_INPUT;
    }
    if (r < 2 || nncc_axis(g, n, &axis, r) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (axis == 0) {
        nncc_error(g, n, "axis 0 is the batch, not a sequence dim");
        return NNCC_ERR_INPUT;
    }
    bool ok = u->shape.rank == r && u->dtype == c->dtype;
    for (int i = 0; i < r && ok; i++)
        ok = i == axis ? u->shape.d[i] <= c->shape.d[i] : u->shape.d[i] == c->shape.d[i];
    if (!ok || (wi && (wi->shape.rank != 1 || wi->shape.d[0] != c->shape.d[0]))) {
        nncc_error(g, n, "update %s or write_indices does not fit the cache %s", nncc_shape_str(g->ctx, &u->shape),
                   nncc_shape_str(g->ctx, &c->shape));
        return NNCC_ERR_INPUT;
    }
    t->circular = mode[0] == 'c';
    t->batch = c->shape.d[0];
    t->outer = t->inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis)
            t->outer *= c->shape.d[i];
        else if (i > axis)
            t->inner *= c->shape.d[i];
    }
    t->max_len = c->shape.d[axis];
    t->len = u->shape.d[axis];
    return NNCC_OK;
}

static nncc_status ts_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3) || nncc_check_dtype(g, n, 2, NNCC_DT_I64, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    ts_info t;
    if (ts_params(g, n, &t) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

static nncc_status ts_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    ts_info t;
    if (ts_params(g, n, &t) != NNCC_OK)
        return NNCC_ERR_INPUT;
    memcpy(out[0], in[0], xbytes(g, n));
    if (nncc_tensor_scatter(t.batch, t.outer, t.max_len, t.len, t.inner, t.circular, esize(g, n), in[1],
                            n->n_in > 2 ? in[2] : NULL, out[0])) {
        nncc_error(g, n, "a write index is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void ts_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    ts_info t;
    if (ts_params(g, n, &t) != NNCC_OK)
        return;
    emit_copy(e, g, n);
    fprintf(e->f, "    if (nncc_tensor_scatter(%lld, %lld, %lld, %lld, %lld, %d, %zu, %s, %s, %s))\n"
                  "        return 1; /* write index out of range */\n",
            (long long)t.batch, (long long)t.outer, (long long)t.max_len, (long long)t.len, (long long)t.inner,
            (int)t.circular, esize(g, n), nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_TensorScatter = { .name = "TensorScatter", .infer = ts_infer, .eval = ts_eval,
                                        .emit_c = ts_emit_c };

/* ---- ReverseSequence ---- */

static nncc_status rs_params(nncc_graph *g, nncc_node *n, int64_t *d0, int64_t *d1, int64_t *inner, int *time)
{
    nncc_tensor *x = nncc_in(g, n, 0), *l = nncc_in(g, n, 1);
    int64_t ba = nncc_attr_int(g, n, "batch_axis", 1), ta = nncc_attr_int(g, n, "time_axis", 0);
    if (x->shape.rank < 2 || !((ba == 0 && ta == 1) || (ba == 1 && ta == 0)) || l->shape.rank != 1 ||
        l->shape.d[0] != x->shape.d[ba]) {
        nncc_error(g, n, "batch_axis/time_axis must be 0 and 1 and sequence_lens one per batch");
        return NNCC_ERR_INPUT;
    }
    *d0 = x->shape.d[0];
    *d1 = x->shape.d[1];
    *inner = *d0 > 0 && *d1 > 0 ? nncc_shape_count(&x->shape) / (*d0 * *d1) : 0;
    *time = (int)ta;
    return NNCC_OK;
}

static nncc_status rs_infer(nncc_graph *g, nncc_node *n)
{
    int64_t d0, d1, inner;
    int time;
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_UNDEF) ||
        rs_params(g, n, &d0, &d1, &inner, &time) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

static nncc_status rs_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t d0, d1, inner;
    int time;
    if (rs_params(g, n, &d0, &d1, &inner, &time) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (nncc_reverse_sequence(d0, d1, inner, time, esize(g, n), in[0], in[1], out[0])) {
        nncc_error(g, n, "a sequence length is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void rs_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t d0, d1, inner;
    int time;
    if (rs_params(g, n, &d0, &d1, &inner, &time) != NNCC_OK)
        return;
    fprintf(e->f, "    if (nncc_reverse_sequence(%lld, %lld, %lld, %d, %zu, %s, %s, %s))\n"
                  "        return 1; /* sequence length out of range */\n",
            (long long)d0, (long long)d1, (long long)inner, time, esize(g, n), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_ReverseSequence = { .name = "ReverseSequence", .infer = rs_infer, .eval = rs_eval,
                                          .emit_c = rs_emit_c };
