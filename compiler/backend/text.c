/*
 * text.c - writes a graph in nncc's text format (docs/graph-format.md):
 * `nncc model.onnx --emit-graph out.nng`. The inverse of frontend/text.c.
 *
 * It writes the graph as the frontend loaded it, before any pass, and in the
 * order the frontend created it: weights (in tensor order), inputs, nodes
 * (in file order, inputs before outputs before Constant values), outputs.
 * Reading the file back therefore rebuilds the same tensors in the same
 * order, the same nodes, names and attributes, so the pipeline produces
 * byte-identical C. Why not after the passes: inference evaluates shape
 * subgraphs (Shape -> Gather -> Reshape) at batch 1, and the folded result
 * would pin a symbolic batch; the fused state (n->act, n->fused_add) is the
 * compiler's work, not the model's, and is redone by the passes anyway.
 *
 * Floats print with %.9g (float32) and %.17g (float64), which read back to
 * the same bits with strtof/strtod. Tensors of more than INLINE_MAX values
 * (or holding NaNs, whose payload text cannot keep) go to the side file
 * PATH.bin as raw little-endian bytes, each at a 16-byte aligned offset.
 */
#include "nncc-impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define INLINE_MAX 16 /* values; larger tensors go to the side file */

typedef struct {
    nncc_graph *g;
    FILE *f, *bin;             /* the text; the side file (opened on first use) */
    const char *bin_path;      /* PATH.bin */
    const char *bin_name;      /* its name relative to the text file */
    int64_t bin_size;          /* bytes written to it */
    bool failed;
} writer;

static bool plain_ident(const char *s)
{
    static const char *const reserved[] = { "graph", "source", "opset", "input", "output", "weight", "_", NULL };
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.'))
            return false;
    for (int i = 0; reserved[i]; i++)
        if (!strcmp(s, reserved[i]))
            return false;
    return true;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* A tensor, node or graph name: bare when it is an identifier, else quoted. */
static void put_name(FILE *f, const char *s)
{
    if (plain_ident(s))
        fputs(s, f);
    else
        put_string(f, s);
}

/* A float that reads back as a float (never as an integer), to the same bits. */
static void put_float(FILE *f, double v, bool f64)
{
    if (isnan(v)) {
        fputs(signbit(v) ? "-nan" : "nan", f);
        return;
    }
    if (isinf(v)) {
        fputs(v < 0 ? "-inf" : "inf", f);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, f64 ? "%.17g" : "%.9g", v);
    fprintf(f, "%s%s", buf, strpbrk(buf, ".e") ? "" : ".0");
}

static void put_shape(FILE *f, const nncc_tensor *t, bool symbolic)
{
    fputc('[', f);
    for (int i = 0; i < t->shape.rank; i++) {
        if (i)
            fputs(", ", f);
        if (symbolic && t->shape.d[i] < 0) {
            const char *s = t->sym[i] ? t->sym[i] : "?";
            if (!strcmp(s, "?"))
                fputc('?', f);
            else
                put_name(f, s);
        } else {
            fprintf(f, "%lld", (long long)t->shape.d[i]);
        }
    }
    fputc(']', f);
}

static void put_value(FILE *f, const nncc_tensor *t, int64_t i)
{
    const void *d = t->data;
    switch (t->dtype) {
    case NNCC_DT_F32: put_float(f, ((const float *)d)[i], false); break;
    case NNCC_DT_F64: put_float(f, ((const double *)d)[i], true); break;
    case NNCC_DT_I8: fprintf(f, "%d", ((const int8_t *)d)[i]); break;
    case NNCC_DT_U8: case NNCC_DT_BOOL: fprintf(f, "%u", ((const uint8_t *)d)[i]); break;
    case NNCC_DT_I16: fprintf(f, "%d", ((const int16_t *)d)[i]); break;
    case NNCC_DT_U16: fprintf(f, "%u", ((const uint16_t *)d)[i]); break;
    case NNCC_DT_I32: fprintf(f, "%ld", (long)((const int32_t *)d)[i]); break;
    case NNCC_DT_U32: fprintf(f, "%lu", (unsigned long)((const uint32_t *)d)[i]); break;
    case NNCC_DT_I64: fprintf(f, "%lld", (long long)((const int64_t *)d)[i]); break;
    case NNCC_DT_U64: fprintf(f, "%llu", (unsigned long long)((const uint64_t *)d)[i]); break;
    default: fputc('0', f); break;
    }
}

static bool has_nan(const nncc_tensor *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if ((t->dtype == NNCC_DT_F32 && isnan(((const float *)t->data)[i])) ||
            (t->dtype == NNCC_DT_F64 && isnan(((const double *)t->data)[i])))
            return true;
    return false;
}

/* dtype shape data: `float32[2] = [1.0, 2.5]` is written by the caller around it. */
static void put_data(writer *w, const nncc_tensor *t)
{
    FILE *f = w->f;
    int64_t n = nncc_shape_count(&t->shape);
    if (n <= INLINE_MAX && !has_nan(t, n)) {
        if (t->shape.rank == 0) {
            put_value(f, t, 0);
            return;
        }
        fputc('[', f);
        for (int64_t i = 0; i < n; i++) {
            if (i)
                fputs(", ", f);
            put_value(f, t, i);
        }
        fputc(']', f);
        return;
    }
    size_t bytes = (size_t)n * nncc_dtype_size(t->dtype);
    if (!w->bin) {
        w->bin = fopen(w->bin_path, "wb");
        if (!w->bin) {
            nncc_error_file(w->g->ctx, "cannot write %s: %s", w->bin_path, strerror(errno));
            w->failed = true;
            return;
        }
    }
    static const unsigned char zeros[16];
    int64_t pad = (16 - w->bin_size % 16) % 16;
    if (fwrite(zeros, 1, (size_t)pad, w->bin) != (size_t)pad || fwrite(t->data, 1, bytes, w->bin) != bytes)
        w->failed = true;
    fputs("file(", f);
    put_string(f, w->bin_name);
    fprintf(f, ", offset=%lld)", (long long)(w->bin_size + pad));
    w->bin_size += pad + (int64_t)bytes;
}

static void put_attr(writer *w, const nncc_attr *a)
{
    FILE *f = w->f;
    put_name(f, a->name);
    fputc('=', f);
    switch (a->type) {
    case NNCC_ATTR_INT: fprintf(f, "%lld", (long long)a->i); break;
    case NNCC_ATTR_FLOAT: put_float(f, a->f, false); break;
    case NNCC_ATTR_STRING: put_string(f, a->s ? a->s : ""); break;
    case NNCC_ATTR_INTS:
        fputc('[', f);
        for (int i = 0; i < a->n; i++)
            fprintf(f, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
        fputc(']', f);
        break;
    case NNCC_ATTR_FLOATS:
        fputs(a->n ? "[" : "floats[", f);
        for (int i = 0; i < a->n; i++) {
            if (i)
                fputs(", ", f);
            put_float(f, a->floats[i], false);
        }
        fputc(']', f);
        break;
    case NNCC_ATTR_TENSOR: {
        const nncc_tensor *t = &w->g->t[a->tensor];
        fprintf(f, "tensor %s", nncc_dtype_name(t->dtype));
        put_shape(f, t, false);
        fputc(' ', f);
        put_data(w, t);
        break;
    }
    default:
        nncc_error_file(w->g->ctx, "attribute '%s' has a type the text format cannot hold (graphs, string lists)",
                        a->name);
        w->failed = true;
        fputs("?", f);
        break;
    }
}

nncc_status nncc_write_text(nncc_graph *g, const char *path)
{
    nncc_ctx *ctx = g->ctx;
    writer w = { .g = g };
    w.bin_path = nncc_fmt(ctx, "%s.bin", path);
    const char *slash = strrchr(w.bin_path, '/');
    w.bin_name = slash ? slash + 1 : w.bin_path;
    bool *is_attr = nncc_alloc_array(ctx, (size_t)g->n_t + 1, sizeof(bool));
    if (!is_attr)
        return NNCC_ERR_NOMEM;
    for (int i = 0; i < g->n_n; i++)
        for (int k = 0; k < g->n[i].n_attr; k++)
            if (g->n[i].attr[k].type == NNCC_ATTR_TENSOR)
                is_attr[g->n[i].attr[k].tensor] = true;
    w.f = fopen(path, "w");
    if (!w.f) {
        nncc_error_file(ctx, "cannot write %s: %s", path, strerror(errno));
        return NNCC_ERR_IO;
    }
    FILE *f = w.f;
    const char *src = ctx->file ? strrchr(ctx->file, '/') : NULL;
    src = src ? src + 1 : ctx->file ? ctx->file : "?";
    const char *base = strrchr(path, '/');
    fprintf(f, "# %s - written by nncc %s from %s: the graph as loaded, before any pass\n"
               "# (the format: docs/graph-format.md in nncc's sources)\n",
            base ? base + 1 : path, NNCC_VERSION, src);
    fputs("graph ", f);
    put_name(f, g->name ? g->name : "model");
    /* the original model file, so that C compiled from this text names it too */
    fputs("\nsource ", f);
    put_string(f, g->source ? g->source : src);
    fprintf(f, "\nopset %lld\n", (long long)g->opset);

    bool any = false;
    for (int t = 0; t < g->n_t; t++) {
        const nncc_tensor *x = &g->t[t];
        if (!x->data || is_attr[t])
            continue;
        if (!any)
            fputc('\n', f);
        any = true;
        fputs("weight ", f);
        put_name(f, x->name);
        fprintf(f, ": %s", nncc_dtype_name(x->dtype));
        put_shape(f, x, false);
        fputs(" = ", f);
        put_data(&w, x);
        fputc('\n', f);
    }
    fputc('\n', f);
    for (int i = 0; i < g->n_inputs; i++) {
        const nncc_tensor *x = &g->t[g->inputs[i]];
        fputs("input ", f);
        put_name(f, x->name);
        fprintf(f, ": %s", nncc_dtype_name(x->dtype));
        put_shape(f, x, true);
        fputc('\n', f);
    }
    fputc('\n', f);
    for (int i = 0; i < g->n_n; i++) {
        const nncc_node *n = &g->n[i];
        if (n->n_out == 0) {
            nncc_error(g, n, "the text format cannot write a node without outputs");
            w.failed = true;
            continue;
        }
        for (int k = 0; k < n->n_out; k++) {
            if (k)
                fputs(", ", f);
            if (n->out[k] >= 0)
                put_name(f, g->t[n->out[k]].name);
            else
                fputc('_', f);
        }
        fprintf(f, " = %s(", nncc_ops[n->op]->name);
        for (int k = 0; k < n->n_in; k++) {
            if (k)
                fputs(", ", f);
            if (n->in[k] >= 0)
                put_name(f, g->t[n->in[k]].name);
            else
                fputc('_', f);
        }
        fputc(')', f);
        if (n->n_attr) {
            fputs(" {", f);
            for (int k = 0; k < n->n_attr; k++) {
                if (k)
                    fputs(", ", f);
                put_attr(&w, &n->attr[k]);
            }
            fputc('}', f);
        }
        /* a name the reader would synthesise the same way is left out */
        if (strcmp(n->name, nncc_fmt(ctx, "#%d:%s", i, nncc_ops[n->op]->name)) != 0) {
            fputs(" @", f);
            put_name(f, n->name);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
    for (int i = 0; i < g->n_outputs; i++) {
        fputs("output ", f);
        put_name(f, g->t[g->outputs[i]].name);
        fputc('\n', f);
    }
    if (ferror(f))
        w.failed = true;
    if (fclose(f) != 0)
        w.failed = true;
    if (w.bin && fclose(w.bin) != 0)
        w.failed = true;
    if (w.failed) {
        nncc_error_file(ctx, "could not write the graph to %s", path);
        return NNCC_ERR_IO;
    }
    return NNCC_OK;
}
