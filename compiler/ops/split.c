/*
 * split.c - Split along an axis: sizes from the `split` input (opset 13+) or
 * attribute (before 13), or equal parts (num_outputs from opset 18; the last
 * part may be smaller). Each output is a set of row copies.
 */
#include "nncc-impl.h"

#define MAX_SPLIT 256

/* Fills sizes[n->n_out]; returns the axis or -1 on error. */
static int split_sizes(nncc_graph *g, nncc_node *n, int64_t *sizes)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t axis = nncc_attr_int(g, n, "axis", 0);
    if (nncc_axis(g, n, &axis, x->shape.rank) != NNCC_OK)
        return -1;
    int no = n->n_out, ns = -1;
    if (no > MAX_SPLIT) {
        nncc_unsupported(g, n, "more than %d outputs", MAX_SPLIT);
        return -1;
    }
    if (n->opset >= 18)
        nncc_attr_int(g, n, "num_outputs", no);
    if (n->opset < 13) {
        ns = nncc_attr_ints(g, n, "split", sizes, MAX_SPLIT);
    } else if (n->n_in > 1 && n->in[1] >= 0) {
        ns = nncc_const_ints(g, n, 1, sizes, MAX_SPLIT);
        if (ns < 0) {
            nncc_unsupported(g, n, "split sizes computed at run time");
            return -1;
        }
    }
    int64_t dim = x->shape.d[axis], total = 0;
    if (ns < 0) {
        int64_t part = (dim + no - 1) / no;
        for (int i = 0; i < no; i++) {
            sizes[i] = dim - total < part ? dim - total : part;
            total += sizes[i];
        }
    } else {
        if (ns != no) {
            nncc_error(g, n, "split has %d sizes for %d outputs", ns, no);
            return -1;
        }
        for (int i = 0; i < no; i++) {
            if (sizes[i] < 0) {
                nncc_error(g, n, "negative split size");
                return -1;
            }
            total += sizes[i];
        }
    }
    if (total != dim) {
        nncc_error(g, n, "split sizes add up to %lld, axis %lld has %lld", (long long)total, (long long)axis,
                   (long long)dim);
        return -1;
    }
    return (int)axis;
}

static nncc_status split_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 2))
        return NNCC_ERR_INPUT;
    int64_t sizes[MAX_SPLIT];
    int axis = split_sizes(g, n, sizes);
    if (axis < 0)
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    for (int i = 0; i < n->n_out; i++) {
        nncc_shape s = x->shape;
        s.d[axis] = sizes[i];
        nncc_set_out(g, n, i, x->dtype, &s);
    }
    return NNCC_OK;
}

/* outer rows; each output takes sizes[i]*inner elements of each row. */
static void split_rows(nncc_graph *g, nncc_node *n, int axis, int64_t *outer, size_t *inner_bytes, size_t *row)
{
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t o = 1, in = 1;
    for (int i = 0; i < x->shape.rank; i++) {
        if (i < axis)
            o *= x->shape.d[i];
        else if (i > axis)
            in *= x->shape.d[i];
    }
    *outer = o;
    *inner_bytes = (size_t)in * nncc_dtype_size(x->dtype);
    *row = (size_t)x->shape.d[axis] * *inner_bytes;
}

static nncc_status split_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t sizes[MAX_SPLIT], outer;
    size_t inner, row, off = 0;
    int axis = split_sizes(g, n, sizes);
    if (axis < 0)
        return NNCC_ERR_INPUT;
    split_rows(g, n, axis, &outer, &inner, &row);
    for (int i = 0; i < n->n_out; i++) {
        size_t len = (size_t)sizes[i] * inner;
        if (out[i])
            nncc_copy_rows(outer, len, row, len, (const char *)in[0] + off, out[i]);
        off += len;
    }
    return NNCC_OK;
}

static void split_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    int64_t sizes[MAX_SPLIT], outer;
    size_t inner, row, off = 0;
    int axis = split_sizes(g, n, sizes);
    if (axis < 0)
        return;
    split_rows(g, n, axis, &outer, &inner, &row);
    for (int i = 0; i < n->n_out; i++) {
        size_t len = (size_t)sizes[i] * inner;
        if (n->out[i] >= 0 && len)
            fprintf(e->f, "    nncc_copy_rows(%lld, %zu, %zu, %zu, (const unsigned char *)%s + %zu, %s);\n",
                    (long long)outer, len, row, len, nncc_emit_ref(e, g, n->in[0]), off, nncc_emit_ref(e, g, n->out[i]));
        off += len;
    }
}

const nncc_op nncc_op_Split = { .name = "Split", .infer = split_infer, .eval = split_eval, .emit_c = split_emit_c };
