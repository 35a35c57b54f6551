/*
 * resize.c - Resize (opset 11+) with constant scales or sizes: mode
 * nearest (any type; nearest_mode round_prefer_floor, round_prefer_ceil,
 * floor, ceil) or linear (float32, N-D over the resized axes);
 * coordinate_transformation_mode half_pixel, half_pixel_symmetric,
 * asymmetric, align_corners, pytorch_half_pixel; `axes`;
 * keep_aspect_ratio_policy for sizes. Refused: cubic, tf_crop_and_resize,
 * antialias. Kernel: runtime/nncc_rt_resize.c.
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static nncc_status resize_params(nncc_graph *g, nncc_node *n, nncc_resize_params *p, nncc_shape *out)
{
    static const char *const coords[] = { "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                          "half_pixel_symmetric" };
    static const char *const nearests[] = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" };
    nncc_tensor *x = nncc_in(g, n, 0), *sc = nncc_in(g, n, 2), *sz = nncc_in(g, n, 3);
    const char *mode = nncc_attr_str(g, n, "mode", "nearest");
    const char *ctm = nncc_attr_str(g, n, "coordinate_transformation_mode", "half_pixel");
    const char *nm = nncc_attr_str(g, n, "nearest_mode", "round_prefer_floor");
    const char *pol = nncc_attr_str(g, n, "keep_aspect_ratio_policy", "stretch");
    int64_t antialias = nncc_attr_int(g, n, "antialias", 0);
    nncc_attr_float(g, n, "cubic_coeff_a", -0.75f);     /* cubic only */
    nncc_attr_int(g, n, "exclude_outside", 0);          /* cubic only */
    nncc_attr_float(g, n, "extrapolation_value", 0.0f); /* tf_crop_and_resize only */
    int64_t axes[NNCC_MAX_RANK];
    int r = x->shape.rank;
    int na = nncc_attr_ints(g, n, "axes", axes, NNCC_MAX_RANK);
    if (n->opset < 11)
        return nncc_unsupported(g, n, "Resize before opset 11");
    memset(p, 0, sizeof *p);
    p->rank = r;
    p->linear = !strcmp(mode, "linear");
    p->coord = pick(ctm, coords, 5);
    p->nearest = pick(nm, nearests, 4);
    if (strcmp(mode, "nearest") && strcmp(mode, "linear"))
        return nncc_unsupported(g, n, "Resize mode '%s'", mode);
    if (p->coord < 0)
        return nncc_unsupported(g, n, "coordinate_transformation_mode '%s'", ctm);
    if (p->nearest < 0)
        return nncc_unsupported(g, n, "nearest_mode '%s'", nm);
    if (antialias)
        return nncc_unsupported(g, n, "antialias");
    int ipol = !strcmp(pol, "stretch") ? 0 : !strcmp(pol, "not_larger") ? 1 : !strcmp(pol, "not_smaller") ? 2 : -1;
    if (ipol < 0)
        return nncc_unsupported(g, n, "keep_aspect_ratio_policy '%s'", pol);
    if (p->linear && x->dtype != NNCC_DT_F32)
        return nncc_unsupported(g, n, "linear Resize of %s", nncc_dtype_name(x->dtype));
    if (r < 1 || r > NNCC_RT_MAX_RANK || nncc_dtype_size(x->dtype) == 0)
        return nncc_unsupported(g, n, "Resize of a rank-%d %s", r, nncc_dtype_name(x->dtype));
    if (na < 0) {
        na = r;
        for (int i = 0; i < r; i++)
            axes[i] = i;
    }
    if (na > r) {
        nncc_error(g, n, "more axes than the input has dims");
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < na; i++)
        if (nncc_axis(g, n, &axes[i], r) != NNCC_OK)
            return NNCC_ERR_INPUT;
    for (int i = 0; i < r; i++)
        p->in[i] = p->out[i] = x->shape.d[i], p->scale[i] = 1.0;
    bool use_scales = sc && nncc_shape_count(&sc->shape) > 0;
    if (use_scales) {
        if (!sc->data || sc->dtype != NNCC_DT_F32)
            return nncc_unsupported(g, n, "scales that are not a float32 constant");
        if (nncc_shape_count(&sc->shape) != na) {
            nncc_error(g, n, "scales has %lld values for %d axes", (long long)nncc_shape_count(&sc->shape), na);
            return NNCC_ERR_INPUT;
        }
        for (int i = 0; i < na; i++) {
            double s = ((const float *)sc->data)[i];
            if (!(s > 0)) {
                nncc_error(g, n, "scales must be positive");
                return NNCC_ERR_INPUT;
            }
            p->scale[axes[i]] = s;
            p->out[axes[i]] = (int64_t)floor((double)p->in[axes[i]] * s);
        }
    } else {
        int64_t v[NNCC_MAX_RANK];
        if (!sz)
            return nncc_unsupported(g, n, "Resize without scales or sizes");
        int cnt = nncc_const_ints(g, n, 3, v, NNCC_MAX_RANK);
        if (cnt < 0)
            return nncc_unsupported(g, n, "sizes that are not a constant");
        if (cnt != na) {
            nncc_error(g, n, "sizes has %d values for %d axes", cnt, na);
            return NNCC_ERR_INPUT;
        }
        double s = ipol == 1 ? INFINITY : 0;
        for (int i = 0; i < na; i++) {
            double si = (double)v[i] / (double)p->in[axes[i]];
            p->scale[axes[i]] = si, p->out[axes[i]] = v[i];
            s = ipol == 1 ? (si < s ? si : s) : (si > s ? si : s);
        }
        if (ipol)
            for (int i = 0; i < na; i++) {
                p->scale[axes[i]] = s;
                p->out[axes[i]] = (int64_t)rint(s * (double)p->in[axes[i]]);
            }
    }
    *out = x->shape;
    for (int i = 0; i < r; i++) {
        if (p->out[i] < 1 || p->in[i] < 1)
            return nncc_unsupported(g, n, "an empty Resize");
        out->d[i] = p->out[i];
    }
    return NNCC_OK;
}

static nncc_status resize_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 4))
        return NNCC_ERR_INPUT;
    nncc_resize_params p;
    nncc_shape s;
    if (resize_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, nncc_in(g, n, 0)->dtype, &s);
    return NNCC_OK;
}

static nncc_status resize_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_resize_params p;
    nncc_shape s;
    if (resize_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_resize(&p, nncc_dtype_size(nncc_in(g, n, 0)->dtype), in[0], out[0]);
    return NNCC_OK;
}

static void resize_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_resize_params p;
    nncc_shape s;
    if (resize_params(g, n, &p, &s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_resize_params");
    fprintf(e->pf, "{ .rank = %d, .linear = %d, .coord = %d, .nearest = %d,\n    .in = ", (int)p.rank, (int)p.linear,
            (int)p.coord, (int)p.nearest);
    nncc_emit_i64s(e, p.in, p.rank);
    fprintf(e->pf, ", .out = ");
    nncc_emit_i64s(e, p.out, p.rank);
    fprintf(e->pf, ",\n    .scale = {");
    for (int i = 0; i < p.rank; i++)
        fprintf(e->pf, "%s %s", i ? "," : "", nncc_double_c(g->ctx, p.scale[i]));
    fprintf(e->pf, " } };\n");
    fprintf(e->f, "    nncc_resize(&%s, %d, %s, %s);\n", name, (int)nncc_dtype_size(nncc_in(g, n, 0)->dtype),
            nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Resize = { .name = "Resize", .infer = resize_infer, .eval = resize_eval,
                                 .emit_c = resize_emit_c };
