/*
 * sample.c - GridSample: x (N,C,D1..Dk) sampled at grid (N,O1..Ok,k) ->
 * y (N,C,O1..Ok), k = 1..3; modes linear/bilinear, nearest, cubic/bicubic;
 * padding zeros, border, reflection; align_corners. float32.
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_status gs_params(nncc_graph *g, nncc_node *n, nncc_grid_sample_params *p, nncc_shape *out)
{
    nncc_tensor *x = nncc_in(g, n, 0), *grid = nncc_in(g, n, 1);
    const char *mode = nncc_attr_str(g, n, "mode", n->opset < 20 ? "bilinear" : "linear");
    const char *pad = nncc_attr_str(g, n, "padding_mode", "zeros");
    memset(p, 0, sizeof *p);
    p->align_corners = (int32_t)nncc_attr_int(g, n, "align_corners", 0);
    if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) p->mode = NNCC_GS_LINEAR;
    else if (!strcmp(mode, "nearest")) p->mode = NNCC_GS_NEAREST;
    else if (!strcmp(mode, "cubic") || !strcmp(mode, "bicubic")) p->mode = NNCC_GS_CUBIC;
    else {
        nncc_error(g, n, "unknown mode '%s'", mode);
        return NNCC_ERR_INPUT;
    }
    if (!strcmp(pad, "zeros")) p->padding = NNCC_GS_ZEROS;
    else if (!strcmp(pad, "border")) p->padding = NNCC_GS_BORDER;
    else if (!strcmp(pad, "reflection")) p->padding = NNCC_GS_REFLECTION;
    else {
        nncc_error(g, n, "unknown padding_mode '%s'", pad);
        return NNCC_ERR_INPUT;
    }
    int r = x->shape.rank;
    if (r < 3 || r > 5)
        return nncc_unsupported(g, n, "%d spatial dims (nncc takes 1 to 3)", r - 2);
    if (grid->shape.rank != r || grid->shape.d[0] != x->shape.d[0] || grid->shape.d[r - 1] != r - 2) {
        nncc_error(g, n, "grid %s does not fit the input %s", nncc_shape_str(g->ctx, &grid->shape),
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    p->n = x->shape.d[0];
    p->c = x->shape.d[1];
    p->nd = r - 2;
    p->out_count = 1;
    out->rank = r;
    out->d[0] = p->n;
    out->d[1] = p->c;
    for (int i = 0; i < r - 2; i++) {
        p->in[i] = x->shape.d[i + 2];
        out->d[i + 2] = grid->shape.d[i + 1];
        p->out_count *= grid->shape.d[i + 1];
    }
    return NNCC_OK;
}

static nncc_status gs_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_grid_sample_params p;
    nncc_shape s;
    if (gs_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status gs_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_grid_sample_params p;
    nncc_shape s;
    if (gs_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_grid_sample_f32(&p, in[0], in[1], out[0]);
    return NNCC_OK;
}

static void gs_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_grid_sample_params p;
    nncc_shape s;
    if (gs_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_grid_sample_params");
    fprintf(e->pf, "{\n    .n = %lld, .c = %lld, .nd = %lld, .in = { %lld, %lld, %lld }, .out_count = %lld,\n"
                   "    .mode = %d, .padding = %d, .align_corners = %d\n};\n",
            (long long)p.n, (long long)p.c, (long long)p.nd, (long long)p.in[0], (long long)p.in[1],
            (long long)p.in[2], (long long)p.out_count, (int)p.mode, (int)p.padding, (int)p.align_corners);
    fprintf(e->f, "    nncc_grid_sample_f32(&%s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_GridSample = { .name = "GridSample", .infer = gs_infer, .eval = gs_eval, .emit_c = gs_emit_c };
