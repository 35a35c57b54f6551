/*
 * data.c - data movement for any dtype: Transpose, Concat, Gather, Expand,
 * Pad, Cast, CastLike, BitCast, Slice, DepthToSpace, SpaceToDepth. The kernels move elements of the dtype's size, so one
 * implementation serves every type.
 *
 * Inputs that decide shapes (Expand's shape, Pad's pads, Slice's starts and
 * ends) must be constant: nncc decides every shape at compile time.
 */
#include "nncc-impl.h"

#include <string.h>

static size_t esize(nncc_graph *g, nncc_node *n) { return nncc_dtype_size(nncc_in(g, n, 0)->dtype); }

/* ---- Transpose ---- */

nncc_status nncc_transpose_perm(nncc_graph *g, nncc_node *n, int64_t *perm)
{
    int r = nncc_in(g, n, 0)->shape.rank;
    int np = nncc_attr_ints(g, n, "perm", perm, NNCC_MAX_RANK);
    if (np < 0) {
        np = r;
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
    }
    bool seen[NNCC_MAX_RANK] = { false };
    if (np != r) {
        nncc_error(g, n, "perm has %d entries for a tensor of rank %d", np, r);
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < r; i++) {
        if (perm[i] < 0)
            perm[i] += r;
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]) {
            nncc_error(g, n, "perm is not a permutation of 0..%d", r - 1);
            return NNCC_ERR_INPUT;
        }
        seen[perm[i]] = true;
    }
    return NNCC_OK;
}

static nncc_status transpose_params(nncc_graph *g, nncc_node *n, nncc_transpose_params *p, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    int64_t perm[NNCC_MAX_RANK];
    if (nncc_transpose_perm(g, n, perm) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int64_t st[NNCC_MAX_RANK], s = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = s;
        s *= x->shape.d[i];
    }
    memset(p, 0, sizeof *p);
    p->rank = r ? r : 1;
    p->dims[0] = 1;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        p->dims[i] = out->d[i] = x->shape.d[perm[i]];
        p->istride[i] = st[perm[i]];
    }
    return NNCC_OK;
}

static nncc_status transpose_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_transpose_params p;
    nncc_shape s;
    if (transpose_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &s);
    return NNCC_OK;
}

static nncc_status transpose_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_transpose_params p;
    nncc_shape s;
    if (transpose_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_transpose(&p, esize(g, n), in[0], out[0]);
    return NNCC_OK;
}

static void emit_transpose(nncc_emit *e, nncc_graph *g, nncc_node *n, const nncc_transpose_params *p)
{
    const char *name = nncc_emit_param(e, "nncc_transpose_params");
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)p->rank);
    nncc_emit_i64s(e, p->dims, (int)p->rank);
    fprintf(e->pf, ",\n    .istride = ");
    nncc_emit_i64s(e, p->istride, (int)p->rank);
    fprintf(e->pf, "\n};\n");
    fprintf(e->f, "    nncc_transpose(&%s, %zu, %s, %s);\n", name, esize(g, n), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

static void transpose_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_transpose_params p;
    nncc_shape s;
    if (transpose_params(g, n, &p, &s) != NNCC_OK)
        return;
    emit_transpose(e, g, n, &p);
}

const nncc_op nncc_op_Transpose = { .name = "Transpose", .infer = transpose_infer, .eval = transpose_eval,
                                    .emit_c = transpose_emit_c };

/* ---- DepthToSpace, SpaceToDepth: a transpose of a 6-D view ----
 *   DepthToSpace DCR: (N,C,H,W) as (N,b,b,C/b2,H,W), perm (0,3,4,1,5,2)
 *   DepthToSpace CRD: (N,C,H,W) as (N,C/b2,b,b,H,W), perm (0,1,4,2,5,3)
 *   SpaceToDepth DCR: (N,C,H,W) as (N,C,H/b,b,W/b,b), perm (0,3,5,1,2,4)
 *   SpaceToDepth CRD: the same view, perm (0,1,3,5,2,4)                     */

static nncc_status d2s_params(nncc_graph *g, nncc_node *n, nncc_transpose_params *p, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t b = nncc_attr_int(g, n, "blocksize", 0);
    bool d2s = n->op == NNCC_OP_DepthToSpace;
    const char *mode = nncc_attr_str(g, n, "mode", "DCR");
    if (x->shape.rank != 4 || b <= 0) {
        nncc_error(g, n, "needs a 4-D input and a positive blocksize");
        return NNCC_ERR_INPUT;
    }
    int64_t N = x->shape.d[0], C = x->shape.d[1], H = x->shape.d[2], W = x->shape.d[3];
    bool crd = !strcmp(mode, "CRD");
    if ((!crd && strcmp(mode, "DCR")) || (d2s ? C % (b * b) : (H % b || W % b))) {
        nncc_error(g, n, "mode '%s' or blocksize %lld does not fit %s", mode, (long long)b,
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    int64_t v[6], perm[6];
    if (d2s && !crd) {
        int64_t vv[6] = { N, b, b, C / (b * b), H, W }, pp[6] = { 0, 3, 4, 1, 5, 2 };
        memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    } else if (d2s) {
        int64_t vv[6] = { N, C / (b * b), b, b, H, W }, pp[6] = { 0, 1, 4, 2, 5, 3 };
        memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    } else if (!crd) {
        int64_t vv[6] = { N, C, H / b, b, W / b, b }, pp[6] = { 0, 3, 5, 1, 2, 4 };
        memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    } else {
        int64_t vv[6] = { N, C, H / b, b, W / b, b }, pp[6] = { 0, 1, 3, 5, 2, 4 };
        memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    }
    int64_t st[6], s = 1;
    for (int i = 5; i >= 0; i--) {
        st[i] = s;
        s *= v[i];
    }
    memset(p, 0, sizeof *p);
    p->rank = 6;
    for (int i = 0; i < 6; i++) {
        p->dims[i] = v[perm[i]];
        p->istride[i] = st[perm[i]];
    }
    *out = d2s ? (nncc_shape){ 4, { N, C / (b * b), H * b, W * b } } : (nncc_shape){ 4, { N, C * b * b, H / b, W / b } };
    return NNCC_OK;
}

static nncc_status d2s_infer(nncc_graph *g, nncc_node *n)
{
    nncc_transpose_params p;
    nncc_shape s;
    if (nncc_check_inputs(g, n, 1, 1) || d2s_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &s);
    return NNCC_OK;
}

static nncc_status d2s_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_transpose_params p;
    nncc_shape s;
    if (d2s_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_transpose(&p, esize(g, n), in[0], out[0]);
    return NNCC_OK;
}

static void d2s_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_transpose_params p;
    nncc_shape s;
    if (d2s_params(g, n, &p, &s) == NNCC_OK)
        emit_transpose(e, g, n, &p);
}

const nncc_op nncc_op_DepthToSpace = { .name = "DepthToSpace", .infer = d2s_infer, .eval = d2s_eval,
                                       .emit_c = d2s_emit_c };
const nncc_op nncc_op_SpaceToDepth = { .name = "SpaceToDepth", .infer = d2s_infer, .eval = d2s_eval,
                                       .emit_c = d2s_emit_c };

/* ---- Concat: each input is `outer` rows of (its axis size * inner) elements ---- */

static nncc_status concat_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1 << 20))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", n->opset < 4 ? 1 : 0x7fffffff);
    if (axis == 0x7fffffff) {
        nncc_error(g, n, "attribute 'axis' is required");
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank;
    if (nncc_axis(g, n, &axis, r) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = x->shape;
    s.d[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        nncc_tensor *t = nncc_in(g, n, i);
        if (!t)
            continue;
        bool ok = t->shape.rank == r && t->dtype == x->dtype;
        for (int k = 0; k < r && ok; k++)
            ok = k == axis || t->shape.d[k] == x->shape.d[k];
        if (!ok) {
            nncc_error(g, n, "input '%s' %s[%s] does not match '%s' %s[%s] outside axis %lld", t->name,
                       nncc_dtype_name(t->dtype), nncc_shape_str(g->ctx, &t->shape), x->name,
                       nncc_dtype_name(x->dtype), nncc_shape_str(g->ctx, &x->shape), (long long)axis);
            return NNCC_ERR_INPUT;
        }
        s.d[axis] += t->shape.d[axis];
    }
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

/* Outer count and the output row length in bytes. */
static void concat_sizes(nncc_graph *g, nncc_node *n, int64_t *outer, size_t *orow, int *axis)
{
    nncc_tensor *y = nncc_out(g, n, 0);
    int64_t a = nncc_attr_int(g, n, "axis", 1);
    if (a < 0)
        a += y->shape.rank;
    *axis = (int)a;
    *outer = 1;
    for (int i = 0; i < a; i++)
        *outer *= y->shape.d[i];
    *orow = (size_t)(nncc_shape_count(&y->shape) / (*outer ? *outer : 1)) * esize(g, n);
}

static size_t concat_row(nncc_graph *g, nncc_node *n, int i, int64_t outer)
{
    nncc_tensor *t = nncc_in(g, n, i);
    return (size_t)(nncc_shape_count(&t->shape) / (outer ? outer : 1)) * esize(g, n);
}

static nncc_status concat_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t outer;
    size_t orow, off = 0;
    int axis;
    concat_sizes(g, n, &outer, &orow, &axis);
    for (int i = 0; i < n->n_in; i++) {
        if (!in[i])
            continue;
        size_t row = concat_row(g, n, i, outer);
        nncc_copy_rows(outer, row, row, orow, in[i], (char *)out[0] + off);
        off += row;
    }
    return NNCC_OK;
}

/* With one outer row (nothing but 1s before the axis, as in a batch-1 NCHW
 * concat on channels), input i is one run of bytes in the output. */
static int64_t concat_in_slice(nncc_graph *g, nncc_node *n, int i)
{
    int64_t outer;
    size_t orow, off = 0;
    int axis;
    concat_sizes(g, n, &outer, &orow, &axis);
    if (outer != 1 || n->in[i] < 0)
        return -1;
    for (int k = 0; k < i; k++)
        if (n->in[k] >= 0)
            off += concat_row(g, n, k, outer);
    return (int64_t)off;
}

/* Copies each input into its place, except an input memplan already put
 * there (its producer wrote it into its slice of the output). */
static void concat_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t outer, yoff;
    size_t orow, off = 0;
    int axis, y = nncc_tensor_storage(g, n->out[0], &yoff);
    concat_sizes(g, n, &outer, &orow, &axis);
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            continue;
        size_t row = concat_row(g, n, i, outer);
        int64_t xoff;
        int x = nncc_tensor_storage(g, n->in[i], &xoff);
        if (row && outer == 1 && x == y && xoff == yoff + (int64_t)off)
            fprintf(e->f, "    /* '%s' was written in place, bytes [%zu, %zu) of '%s' */\n",
                    nncc_emit_comment(g, g->t[n->in[i]].name), off, off + row, nncc_emit_comment(g, nncc_out(g, n, 0)->name));
        else if (row) {
            /* with --threads, parts of the rows (or, with fewer rows than
             * threads, of each row's bytes) on each thread */
            int64_t bounds[NNCC_EMIT_MAX_PARTS + 1];
            const bool by_rows = outer >= g->ctx->opt.threads;
            const int parts = nncc_emit_parts(e, g, by_rows ? outer : (int64_t)row, outer * (int64_t)row / 4, bounds);
            for (int k = 0; k < parts; k++) {
                const int64_t b0 = bounds[k], cnt = bounds[k + 1] - bounds[k];
                const size_t xo = by_rows ? (size_t)b0 * row : (size_t)b0, yo = by_rows ? (size_t)b0 * orow : (size_t)b0;
                nncc_emit_part(e, parts);
                fprintf(e->f, "    nncc_copy_rows(%lld, %zu, %zu, %zu, %s, (unsigned char *)%s + %zu);\n",
                        (long long)(by_rows ? cnt : outer), by_rows ? row : (size_t)cnt, row, orow,
                        xo ? nncc_fmt(g->ctx, "(const unsigned char *)%s + %zu", nncc_emit_ref(e, g, n->in[i]), xo)
                           : nncc_emit_ref(e, g, n->in[i]),
                        nncc_emit_ref(e, g, n->out[0]), off + yo);
            }
            if (parts)
                nncc_emit_parts_end(e, parts);
        }
        off += row;
    }
}

const nncc_op nncc_op_Concat = { .name = "Concat", .infer = concat_infer, .eval = concat_eval, .emit_c = concat_emit_c,
                                 .in_slice = concat_in_slice };

/* ---- Gather: y = x indexed along axis by int64/int32 indices ---- */

static nncc_status gather_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_I32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *idx = nncc_in(g, n, 1);
    if (idx->dtype == NNCC_DT_I32 && !idx->data)
        return nncc_unsupported(g, n, "int32 indices computed at run time");
    int64_t axis = nncc_attr_int(g, n, "axis", 0);
    if (x->shape.rank == 0) {
        nncc_error(g, n, "cannot gather from a scalar");
        return NNCC_ERR_INPUT;
    }
    if (nncc_axis(g, n, &axis, x->shape.rank) != NNCC_OK)
        return NNCC_ERR_INPUT;
    int r = x->shape.rank - 1 + idx->shape.rank;
    if (r > NNCC_MAX_RANK)
        return nncc_unsupported(g, n, "rank %d", r);
    if (idx->data) { /* check constant indices now */
        int64_t cnt = nncc_shape_count(&idx->shape), len = x->shape.d[axis];
        for (int64_t i = 0; i < cnt; i++) {
            int64_t v = idx->dtype == NNCC_DT_I64 ? ((const int64_t *)idx->data)[i] : ((const int32_t *)idx->data)[i];
            if (v < -len || v >= len) {
                nncc_error(g, n, "index %lld is out of range for axis %lld of size %lld", (long long)v,
                           (long long)axis, (long long)len);
                return NNCC_ERR_INPUT;
            }
        }
    }
    nncc_shape s = { 0, { 0 } };
    for (int i = 0; i < axis; i++)
        s.d[s.rank++] = x->shape.d[i];
    for (int i = 0; i < idx->shape.rank; i++)
        s.d[s.rank++] = idx->shape.d[i];
    for (int i = (int)axis + 1; i < x->shape.rank; i++)
        s.d[s.rank++] = x->shape.d[i];
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static void gather_sizes(nncc_graph *g, nncc_node *n, int64_t *outer, int64_t *len, int64_t *inner, int64_t *cnt)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", 0);
    if (axis < 0)
        axis += x->shape.rank;
    *outer = *inner = 1;
    for (int i = 0; i < x->shape.rank; i++) {
        if (i < axis)
            *outer *= x->shape.d[i];
        else if (i > axis)
            *inner *= x->shape.d[i];
    }
    *len = x->shape.d[axis];
    *cnt = nncc_shape_count(&nncc_in(g, n, 1)->shape);
}

static nncc_status gather_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t outer, len, inner, cnt;
    gather_sizes(g, n, &outer, &len, &inner, &cnt);
    nncc_tensor *idx = nncc_in(g, n, 1);
    const int64_t *iv = in[1];
    int64_t *tmp = NULL;
    if (idx->dtype == NNCC_DT_I32) {
        tmp = nncc_alloc_array(g->ctx, (size_t)cnt + 1, sizeof(int64_t));
        if (!tmp)
            return NNCC_ERR_NOMEM;
        for (int64_t i = 0; i < cnt; i++)
            tmp[i] = ((const int32_t *)in[1])[i];
        iv = tmp;
    }
    if (nncc_gather(outer, len, inner, esize(g, n), in[0], cnt, iv, out[0])) {
        nncc_error(g, n, "an index is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void gather_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t outer, len, inner, cnt;
    gather_sizes(g, n, &outer, &len, &inner, &cnt);
    nncc_tensor *idx = nncc_in(g, n, 1);
    const char *iref = nncc_emit_ref(e, g, n->in[1]);
    if (idx->dtype == NNCC_DT_I32) {
        /* constant int32 indices: written out as int64 */
        iref = nncc_emit_name(e, "idx");
        fprintf(e->pf, "static const int64_t %s[%lld] = { ", iref, (long long)(cnt ? cnt : 1));
        for (int64_t i = 0; i < cnt; i++)
            fprintf(e->pf, "%s%ld", i ? ", " : "", (long)((const int32_t *)idx->data)[i]);
        fprintf(e->pf, "%s };\n", cnt ? "" : "0");
    }
    fprintf(e->f, "    if (nncc_gather(%lld, %lld, %lld, %zu, %s, %lld, %s, %s))\n        return 1; /* index out of range */\n",
            (long long)outer, (long long)len, (long long)inner, esize(g, n), nncc_emit_ref(e, g, n->in[0]),
            (long long)cnt, iref, nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Gather = { .name = "Gather", .infer = gather_infer, .eval = gather_eval, .emit_c = gather_emit_c };

/* ---- Expand: broadcast to a constant shape ---- */

static nncc_status expand_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2))
        return NNCC_ERR_INPUT;
    int64_t dims[NNCC_MAX_RANK + 1];
    int nd = nncc_const_ints(g, n, 1, dims, NNCC_MAX_RANK + 1);
    if (nd < 0)
        return nncc_unsupported(g, n, "a target shape computed from input values at run time");
    if (nd > NNCC_MAX_RANK)
        return nncc_unsupported(g, n, "rank %d", nd);
    nncc_shape want = { nd, { 0 } }, s;
    for (int i = 0; i < nd; i++)
        want.d[i] = dims[i];
    nncc_tensor *x = nncc_in(g, n, 0);
    if (nncc_broadcast_shape(g, n, &x->shape, &want, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static nncc_status expand_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_bcast bc;
    nncc_bcast_fill(&bc, &nncc_out(g, n, 0)->shape, &nncc_in(g, n, 0)->shape, NULL, NULL);
    nncc_broadcast_copy(&bc, esize(g, n), in[0], out[0]);
    return NNCC_OK;
}

static void expand_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_bcast bc;
    nncc_bcast_fill(&bc, &nncc_out(g, n, 0)->shape, &nncc_in(g, n, 0)->shape, NULL, NULL);
    const char *name = nncc_emit_param(e, "nncc_bcast");
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)bc.rank);
    nncc_emit_i64s(e, bc.dims, (int)bc.rank);
    fprintf(e->pf, ",\n    .sa = ");
    nncc_emit_i64s(e, bc.sa, (int)bc.rank);
    fprintf(e->pf, "\n};\n");
    fprintf(e->f, "    nncc_broadcast_copy(&%s, %zu, %s, %s);\n", name, esize(g, n), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Expand = { .name = "Expand", .infer = expand_infer, .eval = expand_eval, .emit_c = expand_emit_c };

/* ---- Pad ---- */

typedef struct {
    nncc_pad_params p;
    unsigned char value[8];      /* the constant, in the input's dtype */
} pad_info;

static nncc_status pad_params(nncc_graph *g, nncc_node *n, pad_info *pi, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    int64_t pads[2 * NNCC_MAX_RANK], axes[NNCC_MAX_RANK];
    int np, na = -1;
    const char *mode = nncc_attr_str(g, n, "mode", "constant");
    float fval = 0.0f;
    memset(pi, 0, sizeof *pi);
    if (n->opset < 11) {
        np = nncc_attr_ints(g, n, n->opset < 2 ? "paddings" : "pads", pads, 2 * NNCC_MAX_RANK);
        fval = nncc_attr_float(g, n, "value", 0.0f);
        if (x->dtype == NNCC_DT_F32)
            memcpy(pi->value, &fval, 4);
    } else {
        np = nncc_const_ints(g, n, 1, pads, 2 * NNCC_MAX_RANK);
        if (np < 0)
            return nncc_unsupported(g, n, "pads computed at run time");
        nncc_tensor *cv = nncc_in(g, n, 2);
        if (cv) {
            if (nncc_shape_count(&cv->shape) != 1) {
                nncc_error(g, n, "constant_value must be one value");
                return NNCC_ERR_INPUT;
            }
            if (cv->dtype != x->dtype) {
                nncc_error(g, n, "constant_value has type %s, the input %s", nncc_dtype_name(cv->dtype),
                           nncc_dtype_name(x->dtype));
                return NNCC_ERR_INPUT;
            }
            if (cv->data) /* else read at run time: the emitter passes the tensor */
                memcpy(pi->value, cv->data, nncc_dtype_size(cv->dtype));
        }
        if (n->n_in > 3 && n->in[3] >= 0) {
            na = nncc_const_ints(g, n, 3, axes, NNCC_MAX_RANK);
            if (na < 0)
                return nncc_unsupported(g, n, "axes computed at run time");
        }
    }
    int count = na >= 0 ? na : r;
    if (np != 2 * count) {
        nncc_error(g, n, "pads has %d entries, expected %d", np, 2 * count);
        return NNCC_ERR_INPUT;
    }
    if (na < 0)
        for (int i = 0; i < r; i++)
            axes[i] = i;
    if (!strcmp(mode, "constant")) pi->p.mode = NNCC_PAD_CONSTANT;
    else if (!strcmp(mode, "reflect")) pi->p.mode = NNCC_PAD_REFLECT;
    else if (!strcmp(mode, "edge")) pi->p.mode = NNCC_PAD_EDGE;
    else if (!strcmp(mode, "wrap")) pi->p.mode = NNCC_PAD_WRAP;
    else {
        nncc_error(g, n, "unknown mode '%s'", mode);
        return NNCC_ERR_INPUT;
    }
    pi->p.rank = r ? r : 1;
    pi->p.idims[0] = pi->p.odims[0] = 1;
    *out = x->shape;
    int64_t after[NNCC_MAX_RANK] = { 0 };
    for (int i = 0; i < count; i++) {
        int64_t a = axes[i];
        if (nncc_axis(g, n, &a, r) != NNCC_OK)
            return NNCC_ERR_INPUT;
        pi->p.before[a] = pads[i];
        after[a] = pads[i + count];
    }
    for (int i = 0; i < r; i++) {
        pi->p.idims[i] = x->shape.d[i];
        out->d[i] = x->shape.d[i] + pi->p.before[i] + after[i];
        if (out->d[i] < 0) {
            nncc_error(g, n, "negative pads crop axis %d below zero", i);
            return NNCC_ERR_INPUT;
        }
        if (pi->p.mode == NNCC_PAD_REFLECT && x->shape.d[i] > 0 &&
            (pi->p.before[i] >= x->shape.d[i] || after[i] >= x->shape.d[i]) && x->shape.d[i] > 1) {
            /* the runtime handles it by folding repeatedly, as numpy does */
        }
        pi->p.odims[i] = out->d[i];
    }
    return NNCC_OK;
}

static nncc_status pad_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, n->opset < 11 ? 1 : 2, 4))
        return NNCC_ERR_INPUT;
    pad_info pi;
    nncc_shape s;
    if (pad_params(g, n, &pi, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &s);
    return NNCC_OK;
}

static nncc_status pad_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    pad_info pi;
    nncc_shape s;
    if (pad_params(g, n, &pi, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_pad(&pi.p, esize(g, n), n->opset >= 11 && n->n_in > 2 && in[2] ? in[2] : pi.value, in[0], out[0]);
    return NNCC_OK;
}

static void pad_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    pad_info pi;
    nncc_shape s;
    if (pad_params(g, n, &pi, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_pad_params");
    fprintf(e->pf, "{\n    .mode = %d, .rank = %lld, .idims = ", (int)pi.p.mode, (long long)pi.p.rank);
    nncc_emit_i64s(e, pi.p.idims, (int)pi.p.rank);
    fprintf(e->pf, ",\n    .odims = ");
    nncc_emit_i64s(e, pi.p.odims, (int)pi.p.rank);
    fprintf(e->pf, ",\n    .before = ");
    nncc_emit_i64s(e, pi.p.before, (int)pi.p.rank);
    fprintf(e->pf, "\n};\n");
    /* the pad value as bytes, so any dtype works; a constant_value computed
     * at run time is passed as it is */
    nncc_tensor *cv = n->opset >= 11 ? nncc_in(g, n, 2) : NULL;
    const char *vname = cv && !cv->data ? nncc_emit_ref(e, g, n->in[2]) : nncc_emit_name(e, "value");
    if (!cv || cv->data) {
        fprintf(e->pf, "static const unsigned char %s[8] = { ", vname);
        for (int i = 0; i < 8; i++)
            fprintf(e->pf, "%s%u", i ? ", " : "", pi.value[i]);
        fprintf(e->pf, " };\n");
    }
    fprintf(e->f, "    nncc_pad(&%s, %zu, %s, %s, %s);\n", name, esize(g, n), vname, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Pad = { .name = "Pad", .infer = pad_infer, .eval = pad_eval, .emit_c = pad_emit_c };

nncc_status nncc_pad_spec(nncc_graph *g, nncc_node *n, int *mode, int64_t *before, int64_t *after,
                          bool *value_known, float *value)
{
    pad_info pi;
    nncc_shape s;
    if (pad_params(g, n, &pi, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0), *cv = n->opset >= 11 ? nncc_in(g, n, 2) : NULL;
    *mode = (int)pi.p.mode;
    for (int i = 0; i < x->shape.rank; i++) {
        before[i] = pi.p.before[i];
        after[i] = s.d[i] - x->shape.d[i] - pi.p.before[i];
    }
    *value_known = x->dtype == NNCC_DT_F32 && (!cv || cv->data);
    *value = 0.0f;
    if (*value_known)
        memcpy(value, pi.value, sizeof *value);
    return NNCC_OK;
}

/* ---- Cast ---- */

/* CastLike: the target type is the second input's. */
static nncc_status cast_infer(nncc_graph *g, nncc_node *n)
{
    bool like = n->op == NNCC_OP_CastLike;
    if (nncc_check_inputs(g, n, like ? 2 : 1, like ? 2 : 1))
        return NNCC_ERR_INPUT;
    int64_t to = like ? (int64_t)nncc_in(g, n, 1)->dtype : nncc_attr_int(g, n, "to", 0);
    nncc_attr_int(g, n, "saturate", 1); /* only for float8 targets */
    const char *rm = nncc_attr_str(g, n, "round_mode", "up"); /* only for float8e8m0 targets */
    if (strcmp(rm, "up") && strcmp(rm, "down") && strcmp(rm, "nearest")) {
        nncc_error(g, n, "unknown round_mode '%s'", rm);
        return NNCC_ERR_INPUT;
    }
    nncc_tensor *x = nncc_in(g, n, 0);
    if (nncc_dtype_size((nncc_dtype)to) == 0 || nncc_dtype_size(x->dtype) == 0)
        return nncc_unsupported(g, n, "cast from %s to %s", nncc_dtype_name(x->dtype), nncc_dtype_name((nncc_dtype)to));
    nncc_set_out(g, n, 0, (nncc_dtype)to, &x->shape);
    return NNCC_OK;
}

static nncc_status cast_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0);
    nncc_cast((int32_t)x->dtype, (int32_t)y->dtype, nncc_shape_count(&x->shape), in[0], out[0]);
    return NNCC_OK;
}

static void cast_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0);
    fprintf(e->f, "    nncc_cast(%d, %d, %lld, %s, %s);\n", (int)x->dtype, (int)y->dtype,
            (long long)nncc_shape_count(&x->shape), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Cast = { .name = "Cast", .infer = cast_infer, .eval = cast_eval, .emit_c = cast_emit_c };
const nncc_op nncc_op_CastLike = { .name = "CastLike", .infer = cast_infer, .eval = cast_eval, .emit_c = cast_emit_c };

/* ---- BitCast: the same bytes read as another type of the same size (a copy) ---- */

static nncc_status bitcast_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    nncc_dtype to = (nncc_dtype)nncc_attr_int(g, n, "to", 0);
    size_t sz = nncc_dtype_size(to);
    if (sz == 0 || nncc_dtype_size(x->dtype) == 0)
        return nncc_unsupported(g, n, "bitcast from %s to %s", nncc_dtype_name(x->dtype), nncc_dtype_name(to));
    if (sz != nncc_dtype_size(x->dtype)) {
        nncc_error(g, n, "%s and %s differ in size", nncc_dtype_name(x->dtype), nncc_dtype_name(to));
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, to, &x->shape);
    return NNCC_OK;
}

static size_t bitcast_bytes(nncc_graph *g, nncc_node *n)
{
    return (size_t)nncc_shape_count(&nncc_in(g, n, 0)->shape) * esize(g, n);
}

static nncc_status bitcast_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    size_t b = bitcast_bytes(g, n);
    nncc_copy_rows(1, b, b, b, in[0], out[0]);
    return NNCC_OK;
}

static void bitcast_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    size_t b = bitcast_bytes(g, n);
    if (b)
        fprintf(e->f, "    nncc_copy_rows(1, %zu, %zu, %zu, %s, %s);\n", b, b, b, nncc_emit_ref(e, g, n->in[0]),
                nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_BitCast = { .name = "BitCast", .infer = bitcast_infer, .eval = bitcast_eval,
                                  .emit_c = bitcast_emit_c };

/* ---- Slice: starts/ends/axes/steps clamped as the ONNX spec says ---- */

static nncc_status slice_params(nncc_graph *g, nncc_node *n, nncc_slice_params *p, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int r = x->shape.rank;
    int64_t st[NNCC_MAX_RANK], en[NNCC_MAX_RANK], ax[NNCC_MAX_RANK], sp[NNCC_MAX_RANK];
    int ns, ne, na = -1, nsp = -1;
    if (n->opset < 10) {
        ns = nncc_attr_ints(g, n, "starts", st, NNCC_MAX_RANK);
        ne = nncc_attr_ints(g, n, "ends", en, NNCC_MAX_RANK);
        na = nncc_attr_ints(g, n, "axes", ax, NNCC_MAX_RANK);
    } else {
        ns = nncc_const_ints(g, n, 1, st, NNCC_MAX_RANK);
        ne = nncc_const_ints(g, n, 2, en, NNCC_MAX_RANK);
        if (n->n_in > 3 && n->in[3] >= 0 && (na = nncc_const_ints(g, n, 3, ax, NNCC_MAX_RANK)) < 0)
            return nncc_unsupported(g, n, "axes computed at run time");
        if (n->n_in > 4 && n->in[4] >= 0 && (nsp = nncc_const_ints(g, n, 4, sp, NNCC_MAX_RANK)) < 0)
            return nncc_unsupported(g, n, "steps computed at run time");
    }
    if (ns < 0 || ne < 0)
        return nncc_unsupported(g, n, "starts/ends computed at run time");
    if (ns != ne || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns) || ns > r) {
        nncc_error(g, n, "starts, ends, axes and steps must have the same length (at most the rank %d)", r);
        return NNCC_ERR_INPUT;
    }
    memset(p, 0, sizeof *p);
    p->rank = r ? r : 1;
    p->dims[0] = 1;
    p->step[0] = 1;
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        p->dims[i] = x->shape.d[i];
        p->step[i] = 1;
        p->istride[i] = s;
        s *= x->shape.d[i];
    }
    bool seen[NNCC_MAX_RANK] = { false };
    for (int i = 0; i < ns; i++) {
        int64_t a = na >= 0 ? ax[i] : i, step = nsp >= 0 ? sp[i] : 1;
        if (nncc_axis(g, n, &a, r) != NNCC_OK)
            return NNCC_ERR_INPUT;
        if (seen[a] || step == 0) {
            nncc_error(g, n, "axis %lld repeated or step 0", (long long)a);
            return NNCC_ERR_INPUT;
        }
        seen[a] = true;
        int64_t dim = x->shape.d[a], b = st[i], e = en[i];
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        if (step > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        /* b and e are clamped to [-1, dim]; the step may be anything (INT64_MIN too) */
        uint64_t mag = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
        int64_t span = step > 0 ? e - b : b - e;
        int64_t cnt = span > 0 ? (int64_t)((uint64_t)(span - 1) / mag) + 1 : 0;
        p->start[a] = cnt ? b : 0;
        p->step[a] = cnt > 1 ? step : 1; /* one element: any step; keeps INT64_MIN out of the emitted C */
        p->dims[a] = cnt;
    }
    out->rank = r;
    for (int i = 0; i < r; i++)
        out->d[i] = p->dims[i];
    return NNCC_OK;
}

static nncc_status slice_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, n->opset < 10 ? 1 : 3, 5))
        return NNCC_ERR_INPUT;
    nncc_slice_params p;
    nncc_shape s;
    if (slice_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &s);
    return NNCC_OK;
}

static nncc_status slice_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_slice_params p;
    nncc_shape s;
    if (slice_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_slice(&p, esize(g, n), in[0], out[0]);
    return NNCC_OK;
}

static void slice_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_slice_params p;
    nncc_shape s;
    if (slice_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_slice_params");
    fprintf(e->pf, "{\n    .rank = %lld, .dims = ", (long long)p.rank);
    nncc_emit_i64s(e, p.dims, (int)p.rank);
    fprintf(e->pf, ",\n    .start = ");
    nncc_emit_i64s(e, p.start, (int)p.rank);
    fprintf(e->pf, ",\n    .step = ");
    nncc_emit_i64s(e, p.step, (int)p.rank);
    fprintf(e->pf, ",\n    .istride = ");
    nncc_emit_i64s(e, p.istride, (int)p.rank);
    fprintf(e->pf, "\n};\n");
    fprintf(e->f, "    nncc_slice(&%s, %zu, %s, %s);\n", name, esize(g, n), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Slice = { .name = "Slice", .infer = slice_infer, .eval = slice_eval, .emit_c = slice_emit_c };
