/*
 * tile.c - Tile: repeats the input `repeats[d]` times along each dim d; the
 * repeats (an int64 input) must be constant, since they decide the shape.
 * Any element type. Kernel: runtime/nncc_rt_tile.c.
 */
#include "nncc-impl.h"

static nncc_status tile_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 1, NNCC_DT_I64, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int64_t rep[NNCC_MAX_RANK + 1];
    int nr = nncc_const_ints(g, n, 1, rep, NNCC_MAX_RANK + 1);
    if (nr < 0)
        return nncc_unsupported(g, n, "repeats computed at run time (they decide the output shape)");
    if (nr != x->shape.rank || x->shape.rank == 0) {
        nncc_error(g, n, "repeats has %d entries for an input of rank %d", nr, x->shape.rank);
        return NNCC_ERR_INPUT;
    }
    nncc_shape s = x->shape;
    for (int i = 0; i < nr; i++) {
        if (rep[i] < 0 || (x->shape.d[i] && rep[i] > NNCC_MAX_ELEMS / x->shape.d[i])) {
            nncc_error(g, n, "repeat %lld of dim %d is negative or absurd", (long long)rep[i], i);
            return NNCC_ERR_INPUT;
        }
        s.d[i] *= rep[i];
    }
    nncc_set_out(g, n, 0, x->dtype, &s);
    return NNCC_OK;
}

static nncc_status tile_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0);
    nncc_tile(x->shape.rank, x->shape.d, y->shape.d, nncc_dtype_size(x->dtype), in[0], out[0]);
    return NNCC_OK;
}

static void tile_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_tensor *x = nncc_in(g, n, 0), *y = nncc_out(g, n, 0);
    const char *iname = nncc_emit_name(e, "idims"), *oname = nncc_emit_name(e, "odims");
    fprintf(e->pf, "static const int64_t %s[%d] = ", iname, x->shape.rank);
    nncc_emit_i64s(e, x->shape.d, x->shape.rank);
    fprintf(e->pf, ";\nstatic const int64_t %s[%d] = ", oname, y->shape.rank);
    nncc_emit_i64s(e, y->shape.d, y->shape.rank);
    fprintf(e->pf, ";\n");
    fprintf(e->f, "    nncc_tile(%d, %s, %s, %zu, %s, %s);\n", x->shape.rank, iname, oname,
            nncc_dtype_size(x->dtype), nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Tile = { .name = "Tile", .infer = tile_infer, .eval = tile_eval, .emit_c = tile_emit_c };
