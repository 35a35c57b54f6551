/*
 * compile.c - from a model file to C files: load, fix input shapes, run the
 * pipeline, emit. The one entry point of libnncc (nncc_compile_file).
 *
 * Symbolic dimensions. A graph input whose leading dim is symbolic (an
 * exporter's dynamic batch axis) is compiled for one sample, and the
 * generated functions take the batch size at run time and loop over the
 * samples with one arena. That is only right if samples never mix, so the
 * model is inferred a second time with batch 2: every tensor computed from
 * the inputs must then have exactly twice the leading dim and nothing else
 * changed, and no op may work along axis 0. Otherwise the error asks for a
 * fixed size with --shape. Other symbolic dims always need --shape.
 */
#include "nncc-impl.h"

#include <ctype.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static nncc_status load(nncc_ctx *ctx, const char *path, nncc_graph **g)
{
    if (ends_with(path, ".nng"))
        return nncc_load_text(ctx, path, g);
    return nncc_load_onnx(ctx, path, g);
}

/* Applies --shape and gives symbolic dims their compile-time value. */
static nncc_status fix_shapes(nncc_graph *g, const nncc_options *o, int64_t batch)
{
    nncc_status st = NNCC_OK;
    for (int i = 0; i < o->n_shapes; i++) {
        int ti = nncc_tensor_find(g, o->shapes[i].input);
        if (ti < 0 || !g->t[ti].is_input) {
            nncc_error_file(g->ctx, "--shape names '%s', which is not a graph input", o->shapes[i].input);
            st = NNCC_ERR_USAGE;
            continue;
        }
        nncc_tensor *t = &g->t[ti];
        if (o->shapes[i].rank != t->shape.rank) {
            nncc_error_file(g->ctx, "--shape gives %d dims for input '%s', which has %d", o->shapes[i].rank, t->name,
                            t->shape.rank);
            st = NNCC_ERR_USAGE;
            continue;
        }
        for (int k = 0; k < t->shape.rank; k++) {
            if (t->shape.d[k] >= 0 && t->shape.d[k] != o->shapes[i].dims[k]) {
                nncc_error_file(g->ctx, "--shape sets dim %d of input '%s' to %lld, the model fixes it at %lld", k,
                                t->name, (long long)o->shapes[i].dims[k], (long long)t->shape.d[k]);
                st = NNCC_ERR_USAGE;
            }
            t->shape.d[k] = o->shapes[i].dims[k];
            t->sym[k] = NULL;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        nncc_tensor *t = &g->t[g->inputs[i]];
        for (int k = 0; k < t->shape.rank; k++) {
            if (t->shape.d[k] >= 0)
                continue;
            if (k == 0) {
                t->shape.d[0] = batch;
                t->batch_dim = 0;
                g->batch_symbolic = 1;
                continue;
            }
            nncc_error_file(g->ctx, "input '%s' has a symbolic dim %d ('%s'); nncc needs a size: --shape %s=...",
                            t->name, k, t->sym[k] ? t->sym[k] : "?", t->name);
            st = NNCC_ERR_INPUT;
        }
    }
    return st;
}

/* Compares the batch-1 graph g with the same model inferred at batch 2. */
static nncc_status check_batch(nncc_graph *g, const char *path)
{
    nncc_options o2 = g->ctx->opt;
    o2.report = 0;
    o2.dump_after = NULL;
    FILE *sink = tmpfile(); /* errors of the probe compile are reported from g */
    o2.diag = sink ? sink : g->ctx->opt.diag;
    nncc_ctx *c2 = nncc_ctx_new(&o2);
    if (!c2) {
        if (sink)
            fclose(sink);
        return NNCC_ERR_NOMEM;
    }
    c2->file = path;
    nncc_graph *g2 = NULL;
    nncc_status st = load(c2, path, &g2);
    if (st == NNCC_OK)
        st = fix_shapes(g2, &o2, 2);
    if (st == NNCC_OK)
        st = nncc_graph_toposort(g2);
    if (st == NNCC_OK)
        st = nncc_pass_infer(g2, &o2);
    const char *why = NULL;
    const char *where = NULL;
    if (st != NNCC_OK) {
        why = "it does not compile with a batch of 2";
    } else {
        /* only tensors computed from the graph inputs carry the batch */
        bool *dep = nncc_alloc_array(g->ctx, (size_t)g->n_t + 1, sizeof(bool));
        if (!dep) {
            nncc_ctx_free(c2);
            if (sink)
                fclose(sink);
            return NNCC_ERR_NOMEM;
        }
        for (int i = 0; i < g->n_inputs; i++)
            dep[g->inputs[i]] = true;
        for (int i = 0; i < g->n_n; i++) {
            bool d = false;
            for (int k = 0; k < g->n[i].n_in; k++)
                d |= g->n[i].in[k] >= 0 && dep[g->n[i].in[k]];
            for (int k = 0; k < g->n[i].n_out; k++)
                if (g->n[i].out[k] >= 0)
                    dep[g->n[i].out[k]] = d;
        }
        for (int t = 0; t < g->n_t && !why; t++) {
            nncc_tensor *a = &g->t[t];
            if (a->data || !a->has_shape || !dep[t])
                continue;
            int t2 = nncc_tensor_find(g2, a->name);
            if (t2 < 0)
                continue; /* a tensor made by a pass */
            nncc_tensor *b = &g2->t[t2];
            bool ok = !b->data && b->has_shape && b->shape.rank == a->shape.rank && a->shape.rank > 0 &&
                      a->shape.d[0] == 1 && b->shape.d[0] == 2;
            for (int k = 1; ok && k < a->shape.rank; k++)
                ok = a->shape.d[k] == b->shape.d[k];
            if (!ok) {
                why = nncc_fmt(g->ctx, "tensor '%s' is %s at batch 1 but %s at batch 2", a->name,
                               nncc_shape_str(g->ctx, &a->shape),
                               b->has_shape ? nncc_shape_str(g->ctx, &b->shape) : "unknown");
                if (a->producer >= 0)
                    where = g->n[a->producer].name;
            }
            if (a->is_output)
                a->batch_dim = 0;
        }
        /* ops along axis 0 mix samples even when shapes look right */
        for (int i = 0; i < g->n_n && !why; i++) {
            nncc_node *n = &g->n[i];
            nncc_tensor *x = nncc_in(g, n, 0);
            if (!x || x->data || !dep[n->in[0]])
                continue;
            for (int k = 0; k < n->n_attr; k++) {
                nncc_attr *at = &n->attr[k];
                bool axis0 = false;
                if (!strcmp(at->name, "axis") && at->type == NNCC_ATTR_INT)
                    axis0 = at->i == 0 || at->i == -x->shape.rank;
                if (!strcmp(at->name, "axes") && at->type == NNCC_ATTR_INTS)
                    for (int j = 0; j < at->n; j++)
                        axis0 |= at->ints[j] == 0 || at->ints[j] == -x->shape.rank;
                if (!strcmp(at->name, "perm") && at->type == NNCC_ATTR_INTS && at->n > 0)
                    axis0 = at->ints[0] != 0;
                if (axis0) {
                    why = nncc_fmt(g->ctx, "it works along the batch axis ('%s')", at->name);
                    where = n->name;
                }
            }
        }
    }
    nncc_ctx_free(c2);
    if (sink)
        fclose(sink);
    if (!why)
        return NNCC_OK;
    nncc_error_file(g->ctx, "the model has a symbolic batch dim, but %s%s%s%s: samples are not independent, "
                            "so give a fixed batch with --shape %s=...",
                    why, where ? " (node '" : "", where ? where : "", where ? "')" : "",
                    g->t[g->inputs[0]].name);
    return NNCC_ERR_INPUT;
}

/* Prefix for generated identifiers: --name or the output file's stem. */
static const char *prefix_for(nncc_ctx *ctx, const char *out_c)
{
    if (ctx->opt.name)
        return ctx->opt.name;
    const char *b = strrchr(out_c, '/');
    b = b ? b + 1 : out_c;
    const char *dot = strrchr(b, '.');
    size_t n = dot ? (size_t)(dot - b) : strlen(b);
    char *p = nncc_strndup(ctx, b, n);
    if (!p)
        return "model";
    for (char *q = p; *q; q++)
        if (!isalnum((unsigned char)*q))
            *q = '_';
    if (!*p || isdigit((unsigned char)p[0]))
        return nncc_fmt(ctx, "m_%s", p);
    return p;
}

/* --report totals: nodes, kernel calls, parameters, multiply-accumulates. */
static void report_totals(nncc_graph *g)
{
    int64_t params = 0, bytes = 0, macs = 0;
    bool *seen = nncc_alloc_array(g->ctx, (size_t)g->n_t + 1, sizeof(bool));
    if (!seen)
        return;
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k];
            if (t >= 0 && g->t[t].data && !seen[t]) {
                seen[t] = true;
                params += nncc_shape_count(&g->t[t].shape);
                bytes += nncc_shape_count(&g->t[t].shape) * (int64_t)nncc_dtype_size(g->t[t].dtype);
            }
        }
        if (nncc_ops[n->op]->macs)
            macs += nncc_ops[n->op]->macs(g, n);
    }
    nncc_report(g, "total", "%d nodes (%d kernel calls), %lld parameters (%lld bytes), %lld MACs per inference%s",
                g->n_n, nncc_kernel_calls(g), (long long)params, (long long)bytes, (long long)macs,
                g->batch_symbolic ? " (per sample)" : "");
}

nncc_status nncc_compile_file(nncc_ctx *ctx, const char *model, const char *out_c)
{
    ctx->file = model;
    nncc_graph *g = NULL;
    nncc_status st = load(ctx, model, &g);
    /* the graph as loaded: reading it back reproduces this point exactly */
    if (st == NNCC_OK && ctx->opt.emit_graph)
        st = nncc_write_text(g, ctx->opt.emit_graph);
    if (st == NNCC_OK)
        st = fix_shapes(g, &ctx->opt, 1);
    if (st == NNCC_OK)
        st = nncc_graph_toposort(g);
    if (st == NNCC_OK)
        st = nncc_run_pipeline(g, &ctx->opt);
    if (st == NNCC_OK && g->batch_symbolic)
        st = check_batch(g, model);
    if (st == NNCC_OK)
        st = nncc_conv_check_algos(g);
    if (st == NNCC_OK && ctx->opt.report)
        report_totals(g);
    if (st == NNCC_OK && ctx->opt.print_graph) {
        fprintf(ctx->opt.out, "# after the passes (-O%d): the nodes the generated code runs, in order\n",
                ctx->opt.opt_level);
        nncc_graph_print(g, ctx->opt.out);
    }
    if (st == NNCC_OK && out_c)
        st = nncc_emit_c(g, out_c, prefix_for(ctx, out_c));
    if (st == NNCC_OK && ctx->oom)
        st = NNCC_ERR_NOMEM;
    if (st == NNCC_OK && ctx->n_errors)
        st = NNCC_ERR_INPUT;
    return st;
}
