/*
 * gemm.c - Gemm (Y = alpha * op(A) op(B) + beta * C, 2-D, C broadcast
 * one-directionally to (M,N)) and MatMul (numpy matmul: 1-D operands
 * promoted, batch dims broadcast), and Det (determinants of square
 * matrices up to 16 x 16).
 *
 * Fusion passes set n->act on Gemm (activation in the epilogue). From -O1
 * on, a constant B is packed at compile time for the micro-kernel
 * (nncc_sgemm_f32), with Gemm's alpha folded in.
 */
#include "nncc-impl.h"

#include <string.h>

static nncc_status gemm_params(nncc_graph *g, nncc_node *n, nncc_gemm_params *p)
{
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1), *c = nncc_in(g, n, 2);
    memset(p, 0, sizeof *p);
    p->alpha = nncc_attr_float(g, n, "alpha", 1.0f);
    p->beta = nncc_attr_float(g, n, "beta", 1.0f);
    p->trans_a = (int32_t)nncc_attr_int(g, n, "transA", 0);
    p->trans_b = (int32_t)nncc_attr_int(g, n, "transB", 0);
    if (a->shape.rank != 2 || b->shape.rank != 2) {
        nncc_error(g, n, "A and B must be 2-D, they are %s and %s", nncc_shape_str(g->ctx, &a->shape),
                   nncc_shape_str(g->ctx, &b->shape));
        return NNCC_ERR_INPUT;
    }
    p->m = a->shape.d[p->trans_a ? 1 : 0];
    p->k = a->shape.d[p->trans_a ? 0 : 1];
    int64_t kb = b->shape.d[p->trans_b ? 1 : 0];
    p->n = b->shape.d[p->trans_b ? 0 : 1];
    if (kb != p->k) {
        nncc_error(g, n, "inner dimensions differ: op(A) is %lldx%lld, op(B) is %lldx%lld", (long long)p->m,
                   (long long)p->k, (long long)kb, (long long)p->n);
        return NNCC_ERR_INPUT;
    }
    p->bias = NNCC_BIAS_NONE;
    if (c) {
        const nncc_shape *s = &c->shape;
        int64_t d0 = s->rank == 2 ? s->d[0] : 1, d1 = s->rank >= 1 ? s->d[s->rank - 1] : 1;
        if (s->rank > 2 || (d0 != 1 && d0 != p->m) || (d1 != 1 && d1 != p->n)) {
            nncc_error(g, n, "C has shape %s, which does not broadcast to %lldx%lld", nncc_shape_str(g->ctx, s),
                       (long long)p->m, (long long)p->n);
            return NNCC_ERR_INPUT;
        }
        p->bias = d0 == 1 && d1 == 1 ? NNCC_BIAS_SCALAR
                  : d0 == 1         ? NNCC_BIAS_ROW
                  : d1 == 1         ? NNCC_BIAS_COL
                                    : NNCC_BIAS_FULL;
        /* (M,N) with M == 1 is a row */
        if (p->bias == NNCC_BIAS_FULL && p->m == 1)
            p->bias = NNCC_BIAS_ROW;
        if (p->bias == NNCC_BIAS_FULL && p->n == 1)
            p->bias = NNCC_BIAS_COL;
    }
    p->act = n->act;
    return NNCC_OK;
}

static nncc_status gemm_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    nncc_gemm_params p;
    if (gemm_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = { 2, { p.m, p.n } };
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status gemm_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_gemm_params p;
    if (gemm_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_gemm_f32(&p, in[0], in[1], n->n_in > 2 ? in[2] : NULL, out[0]);
    return NNCC_OK;
}

/* Which kernel a Gemm or MatMul gets: from -O1 on, with a constant B whose
 * columns, padded to whole NNCC_GEMM_NR-column panels, grow the weight by at
 * most a quarter (a 10-class head would grow by 60%: flash is what the
 * firmware user counts), the packed micro-kernel (nncc_sgemm_f32, B packed
 * here at compile time); otherwise nncc_gemm_f32 / nncc_matmul_f32 on the
 * operands as they are. */
static bool use_sgemm(nncc_graph *g, nncc_node *n, int64_t cols)
{
    const int64_t padded = (cols + NNCC_GEMM_NR - 1) / NNCC_GEMM_NR * NNCC_GEMM_NR;
    return g->ctx->opt.opt_level >= 1 && nncc_in(g, n, 1)->data && cols > 0 && 4 * padded <= 5 * cols;
}

static int64_t sgemm_threads(nncc_graph *g)
{
    return g->ctx->opt.threads > 1 ? g->ctx->opt.threads : 0;
}

/* Emits one nncc_sgemm_params; returns its C name. */
static const char *emit_sgemm_params(nncc_emit *e, const nncc_sgemm_params *p)
{
    const char *name = nncc_emit_param(e, "nncc_sgemm_params");
    fprintf(e->pf, "{\n    .m = %lld, .n = %lld, .k = %lld, .trans_a = %d, .bias = %d, .beta = ", (long long)p->m,
            (long long)p->n, (long long)p->k, (int)p->trans_a, (int)p->bias);
    nncc_emit_float(e, p->beta);
    fprintf(e->pf, ", .act = ");
    nncc_emit_act(e, &p->act);
    fprintf(e->pf, ",\n    .batch = %lld, .rank = %lld", (long long)p->batch, (long long)p->rank);
    if (p->rank > 0) {
        fprintf(e->pf, ",\n    .dims = ");
        nncc_emit_i64s(e, p->dims, (int)p->rank);
        fprintf(e->pf, ",\n    .a_step = ");
        nncc_emit_i64s(e, p->a_step, (int)p->rank);
        fprintf(e->pf, ",\n    .b_step = ");
        nncc_emit_i64s(e, p->b_step, (int)p->rank);
    }
    if (p->threads > 1)
        fprintf(e->pf, ", .threads = %lld", (long long)p->threads);
    fprintf(e->pf, "\n};\n");
    return name;
}

/* The packed B of a constant (n_mats x (K,N) matrices, or (N,K) with
 * trans_b) as a weight array; returns its C name. */
static const char *emit_packed_b(nncc_emit *e, nncc_graph *g, nncc_node *n, int64_t n_mats, int64_t k, int64_t nn,
                                 int32_t trans_b, float alpha)
{
    nncc_tensor *w = nncc_in(g, n, 1);
    const int64_t ps = nncc_sgemm_packed_size(k, nn);
    float *bp = nncc_alloc_array(g->ctx, (size_t)(n_mats * ps) + 1, sizeof(float));
    if (!bp)
        return NULL;
    for (int64_t t = 0; t < n_mats; t++)
        nncc_sgemm_pack_b_f32(k, nn, trans_b, alpha, (const float *)w->data + t * k * nn, bp + t * ps);
    return nncc_emit_weights_f32(
        e, "bpacked",
        nncc_fmt(g->ctx, "'%s' %s%s%s packed for nncc_sgemm_f32 (panels of %d columns)", w->name,
                 nncc_shape_str(g->ctx, &w->shape), trans_b ? " transposed" : "",
                 alpha != 1.0f ? nncc_fmt(g->ctx, " times alpha %s", nncc_float_c(g->ctx, alpha)) : "", NNCC_GEMM_NR),
        bp, n_mats * ps);
}

static void gemm_sgemm_params(nncc_graph *g, const nncc_gemm_params *gp, nncc_sgemm_params *p)
{
    memset(p, 0, sizeof *p);
    p->m = gp->m, p->n = gp->n, p->k = gp->k, p->trans_a = gp->trans_a;
    p->bias = gp->bias, p->beta = gp->beta, p->act = gp->act;
    p->batch = 1;
    p->threads = sgemm_threads(g);
}

static int64_t gemm_scratch(nncc_graph *g, nncc_node *n)
{
    nncc_gemm_params gp;
    nncc_sgemm_params p;
    if (gemm_params(g, n, &gp) != NNCC_OK || !use_sgemm(g, n, gp.n))
        return 0;
    gemm_sgemm_params(g, &gp, &p);
    return nncc_sgemm_scratch_size(&p) * (int64_t)sizeof(float);
}

static void gemm_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_gemm_params p;
    if (gemm_params(g, n, &p) != NNCC_OK)
        return;
    if (use_sgemm(g, n, p.n)) {
        nncc_sgemm_params sp;
        gemm_sgemm_params(g, &p, &sp);
        const char *wn = emit_packed_b(e, g, n, 1, p.k, p.n, p.trans_b, p.alpha);
        if (!wn)
            return;
        const char *name = emit_sgemm_params(e, &sp);
        fprintf(e->f, "    nncc_sgemm_f32(&%s, %s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]), wn,
                nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1), nncc_emit_ref(e, g, n->out[0]),
                nncc_emit_scratch(e, g, n));
        return;
    }
    const char *name = nncc_emit_param(e, "nncc_gemm_params");
    fprintf(e->pf, "{\n    .m = %lld, .n = %lld, .k = %lld, .trans_a = %d, .trans_b = %d, .alpha = ", (long long)p.m,
            (long long)p.n, (long long)p.k, (int)p.trans_a, (int)p.trans_b);
    nncc_emit_float(e, p.alpha);
    fprintf(e->pf, ", .beta = ");
    nncc_emit_float(e, p.beta);
    fprintf(e->pf, ",\n    .bias = %d, .act = ", (int)p.bias);
    nncc_emit_act(e, &p.act);
    fprintf(e->pf, "\n};\n");
    fprintf(e->f, "    nncc_gemm_f32(&%s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->out[0]));
}

static int64_t gemm_macs(nncc_graph *g, nncc_node *n)
{
    nncc_gemm_params p;
    return gemm_params(g, n, &p) == NNCC_OK ? p.m * p.n * p.k : 0;
}

const nncc_op nncc_op_Gemm = { .name = "Gemm", .infer = gemm_infer, .eval = gemm_eval, .emit_c = gemm_emit_c,
                               .macs = gemm_macs, .scratch = gemm_scratch };

/* MatMul: computes the broadcast batch and the output shape. */
static nncc_status matmul_params(nncc_graph *g, nncc_node *n, nncc_matmul_params *p, nncc_shape *out)
{
    nncc_shape a = nncc_in(g, n, 0)->shape, b = nncc_in(g, n, 1)->shape;
    if (a.rank == 0 || b.rank == 0) {
        nncc_error(g, n, "MatMul inputs must have at least one dim");
        return NNCC_ERR_INPUT;
    }
    bool a1 = a.rank == 1, b1 = b.rank == 1;
    if (a1) /* (K) -> (1,K) */
        a.rank = 2, a.d[1] = a.d[0], a.d[0] = 1;
    if (b1) /* (K) -> (K,1) */
        b.rank = 2, b.d[1] = 1;
    memset(p, 0, sizeof *p);
    p->m = a.d[a.rank - 2];
    p->k = a.d[a.rank - 1];
    p->n = b.d[b.rank - 1];
    if (b.d[b.rank - 2] != p->k) {
        nncc_error(g, n, "inner dimensions differ: %s x %s", nncc_shape_str(g->ctx, &nncc_in(g, n, 0)->shape),
                   nncc_shape_str(g->ctx, &nncc_in(g, n, 1)->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_shape ab = { a.rank - 2, { 0 } }, bb = { b.rank - 2, { 0 } }, batch;
    memcpy(ab.d, a.d, sizeof ab.d[0] * (size_t)ab.rank);
    memcpy(bb.d, b.d, sizeof bb.d[0] * (size_t)bb.rank);
    if (nncc_broadcast_shape(g, n, &ab, &bb, &batch) != NNCC_OK)
        return NNCC_ERR_INPUT;
    p->rank = batch.rank;
    p->batch = nncc_shape_count(&batch);
    int64_t sa[NNCC_MAX_RANK], sb[NNCC_MAX_RANK];
    nncc_bcast_strides(&ab, &batch, sa);
    nncc_bcast_strides(&bb, &batch, sb);
    for (int i = 0; i < batch.rank; i++) {
        p->dims[i] = batch.d[i];
        p->a_step[i] = sa[i] * p->m * p->k;
        p->b_step[i] = sb[i] * p->k * p->n;
    }
    *out = batch;
    if (!a1)
        out->d[out->rank++] = p->m;
    if (!b1)
        out->d[out->rank++] = p->n;
    return NNCC_OK;
}

static nncc_status matmul_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 2) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_matmul_params p;
    nncc_shape s;
    if (matmul_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status matmul_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_matmul_params p;
    nncc_shape s;
    if (matmul_params(g, n, &p, &s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_matmul_f32(&p, in[0], in[1], out[0]);
    return NNCC_OK;
}

/* The packed kernel's parameters for a MatMul with a constant B: the
 * batch as in nncc_matmul_params, B's steps in packed floats. A B without
 * batch dims under an A whose batches are contiguous (not broadcast) is one
 * product of (batch * M) rows. */
static void matmul_sgemm_params(nncc_graph *g, const nncc_matmul_params *mp, nncc_sgemm_params *p)
{
    memset(p, 0, sizeof *p);
    p->m = mp->m, p->n = mp->n, p->k = mp->k;
    p->batch = mp->batch, p->rank = mp->rank;
    p->threads = sgemm_threads(g);
    const int64_t ps = nncc_sgemm_packed_size(mp->k, mp->n);
    bool b_const = true, a_flat = true;
    int64_t want = mp->m * mp->k;
    for (int64_t i = mp->rank - 1; i >= 0; i--) {
        p->dims[i] = mp->dims[i];
        p->a_step[i] = mp->a_step[i];
        p->b_step[i] = mp->b_step[i] / (mp->k * mp->n) * ps;
        b_const = b_const && (mp->b_step[i] == 0 || mp->dims[i] == 1);
        a_flat = a_flat && (mp->a_step[i] == want || mp->dims[i] == 1);
        want *= mp->dims[i];
    }
    if (mp->rank > 0 && b_const && a_flat) {
        p->m = mp->m * mp->batch;
        p->batch = 1, p->rank = 0;
    }
}

static int64_t matmul_scratch(nncc_graph *g, nncc_node *n)
{
    nncc_matmul_params mp;
    nncc_sgemm_params p;
    nncc_shape s;
    if (matmul_params(g, n, &mp, &s) != NNCC_OK || !use_sgemm(g, n, mp.n))
        return 0;
    matmul_sgemm_params(g, &mp, &p);
    return nncc_sgemm_scratch_size(&p) * (int64_t)sizeof(float);
}

static void matmul_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_matmul_params p;
    nncc_shape s;
    if (matmul_params(g, n, &p, &s) != NNCC_OK)
        return;
    if (use_sgemm(g, n, p.n)) {
        nncc_sgemm_params sp;
        matmul_sgemm_params(g, &p, &sp);
        const nncc_tensor *b = nncc_in(g, n, 1);
        const char *wn = emit_packed_b(e, g, n, nncc_shape_count(&b->shape) / (p.k * p.n), p.k, p.n, 0, 1.0f);
        if (!wn)
            return;
        const char *name = emit_sgemm_params(e, &sp);
        fprintf(e->f, "    nncc_sgemm_f32(&%s, %s, %s, 0, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]), wn,
                nncc_emit_ref(e, g, n->out[0]), nncc_emit_scratch(e, g, n));
        return;
    }
    /* with --threads, parts of the outermost batch dim above 1 (or, with
     * none, of the rows of A and Y) on each thread */
    int d = 0;
    while (d < p.rank && p.dims[d] == 1)
        d++;
    int64_t inner = p.m * p.n, bounds[NNCC_EMIT_MAX_PARTS + 1];
    for (int i = d + 1; i < p.rank; i++)
        inner *= p.dims[i];
    const bool rows = d == p.rank;
    const int parts = nncc_emit_parts(e, g, rows ? p.m : p.dims[d], p.batch * p.m * p.n * p.k, bounds);
    for (int i = 0; i < parts; i++) {
        const int64_t b0 = bounds[i], cnt = bounds[i + 1] - bounds[i];
        nncc_matmul_params q = p;
        if (rows)
            q.m = cnt;
        else
            q.dims[d] = cnt, q.batch = p.batch / p.dims[d] * cnt;
        const char *name = nncc_emit_param(e, "nncc_matmul_params");
        fprintf(e->pf, "{\n    .batch = %lld, .m = %lld, .n = %lld, .k = %lld, .rank = %lld,\n    .dims = ",
                (long long)q.batch, (long long)q.m, (long long)q.n, (long long)q.k, (long long)q.rank);
        nncc_emit_i64s(e, q.dims, (int)q.rank);
        fprintf(e->pf, ",\n    .a_step = ");
        nncc_emit_i64s(e, q.a_step, (int)q.rank);
        fprintf(e->pf, ",\n    .b_step = ");
        nncc_emit_i64s(e, q.b_step, (int)q.rank);
        fprintf(e->pf, "\n};\n");
        nncc_emit_part(e, parts);
        fprintf(e->f, "    nncc_matmul_f32(&%s, %s, %s, %s);\n", name,
                nncc_emit_at(e, nncc_emit_ref(e, g, n->in[0]), rows ? b0 * p.k : b0 * p.a_step[d]),
                nncc_emit_at(e, nncc_emit_ref(e, g, n->in[1]), rows ? 0 : b0 * p.b_step[d]),
                nncc_emit_at(e, nncc_emit_ref(e, g, n->out[0]), rows ? b0 * p.n : b0 * inner));
    }
    nncc_emit_parts_end(e, parts);
}

static int64_t matmul_macs(nncc_graph *g, nncc_node *n)
{
    nncc_matmul_params p;
    nncc_shape s;
    return matmul_params(g, n, &p, &s) == NNCC_OK ? p.batch * p.m * p.n * p.k : 0;
}

const nncc_op nncc_op_MatMul = { .name = "MatMul", .infer = matmul_infer, .eval = matmul_eval, .emit_c = matmul_emit_c,
                                 .macs = matmul_macs, .scratch = matmul_scratch };

/* ---- Det: x (..., M, M) -> y (...), M at most 16 ---- */

static nncc_status det_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_in(g, n, 0)->shape;
    if (s.rank < 2 || s.d[s.rank - 1] != s.d[s.rank - 2]) {
        nncc_error(g, n, "input %s is not a (batch of) square matrices", nncc_shape_str(g->ctx, &s));
        return NNCC_ERR_INPUT;
    }
    if (s.d[s.rank - 1] > 16)
        return nncc_unsupported(g, n, "Det of %lld x %lld matrices (at most 16 x 16)", (long long)s.d[s.rank - 1],
                                (long long)s.d[s.rank - 1]);
    s.rank -= 2;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status det_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    nncc_det_f32(nncc_shape_count(&nncc_out(g, n, 0)->shape), s->d[s->rank - 1], in[0], out[0]);
    return NNCC_OK;
}

static void det_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    fprintf(e->f, "    nncc_det_f32(%lld, %lld, %s, %s);\n", (long long)nncc_shape_count(&nncc_out(g, n, 0)->shape),
            (long long)s->d[s->rank - 1], nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Det = { .name = "Det", .infer = det_infer, .eval = det_eval, .emit_c = det_emit_c };
