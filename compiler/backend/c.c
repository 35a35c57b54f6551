/*
 * c.c - the C backend: walks the planned graph and fills the templates in
 * codegen_templates/ to write model.c and model.h, then writes the runtime
 * files next to them.
 *
 * It decides nothing about the graph: every node's call is written by its
 * op's emit_c. This file owns naming (identifiers derived from model names,
 * sanitised and made unique), weights (float32 as hex bit patterns, compact
 * and exact), the banner comment per node, and the run functions.
 * Output is a function of the graph alone, so it is byte-identical per input.
 */
#include "embedded.h"
#include "nncc-impl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    nncc_emit e;
    nncc_graph *g;
    const char **tname;        /* C identifier per tensor (weights, inputs, outputs) */
    const char **pname;        /* run parameter per graph input/output (tname is the
                                  weight's name for a constant output) */
    bool *referenced;          /* weights some emitted code names (the others are not written) */
    bool *read;                /* graph inputs some emitted code names (the others get a (void)) */
    const char **used;         /* identifiers taken, for uniqueness */
    int n_used, cap_used;
    FILE *weights, *params, *body;
    char *wbuf, *pbuf, *bbuf;
    size_t wlen, plen, blen;
    int64_t weight_bytes;
} cgen;

static const char *const c_reserved[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "ws", "batch", "b",
    /* locals of the fused elementwise loops (ops/eltwise.c) */
    "ew_x", "ew_y", "ew_v", "ew_c", "ew_i", "ew_j", "ew_r", NULL
};

/* A C identifier from any model name: [A-Za-z0-9_], not starting with a digit, unique. */
static const char *ident(cgen *c, const char *prefix, const char *name)
{
    nncc_ctx *ctx = c->g->ctx;
    size_t n = strlen(name);
    char *s = nncc_alloc(ctx, strlen(prefix) + n + 4);
    if (!s)
        return "nncc_oom";
    size_t k = 0;
    for (const char *p = prefix; *p; p++)
        s[k++] = *p;
    if (!*prefix && (n == 0 || isdigit((unsigned char)name[0])))
        s[k++] = 't', s[k++] = '_';
    for (size_t i = 0; i < n && k < 200; i++) {
        char ch = name[i];
        s[k++] = isalnum((unsigned char)ch) ? ch : '_';
    }
    s[k] = 0;
    /* collapse runs of '_' for readability ("onnx::Conv_3" -> "onnx_Conv_3") */
    size_t w = 0;
    for (size_t r = 0; r < k; r++)
        if (!(s[r] == '_' && w > 0 && s[w - 1] == '_' && r > strlen(prefix)))
            s[w++] = s[r];
    s[w] = 0;
    const char *base = s, *out = s;
    for (int suffix = 2;; suffix++) {
        bool clash = false;
        for (int i = 0; i < c->n_used && !clash; i++)
            clash = strcmp(c->used[i], out) == 0;
        for (int i = 0; c_reserved[i] && !clash; i++)
            clash = strcmp(c_reserved[i], out) == 0;
        if (!clash)
            break;
        out = nncc_fmt(ctx, "%s_%d", base, suffix);
    }
    if (c->n_used == c->cap_used) {
        int cap = c->cap_used ? c->cap_used * 2 : 256;
        const char **u = nncc_alloc_array(ctx, (size_t)cap, sizeof *u);
        if (!u)
            return out;
        if (c->n_used)
            memcpy(u, c->used, (size_t)c->n_used * sizeof *u);
        c->used = u;
        c->cap_used = cap;
    }
    c->used[c->n_used++] = out;
    return out;
}

/* A model name made safe inside a C comment: no comment end, no newline. */
static const char *cs(nncc_graph *g, const char *s)
{
    if (!strstr(s, "*/") && !strpbrk(s, "\n\r"))
        return s;
    size_t n = strlen(s);
    char *o = nncc_alloc(g->ctx, 2 * n + 1);
    if (!o)
        return "?";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            o[k++] = ' ';
        else if (s[i] == '*' && s[i + 1] == '/')
            o[k++] = '*', o[k++] = ' ';
        else
            o[k++] = s[i];
    }
    o[k] = 0;
    return o;
}

/* ---- what op emitters call ---- */

const char *nncc_emit_comment(nncc_graph *g, const char *s)
{
    return cs(g, s);
}

const char *nncc_emit_ref(nncc_emit *e, nncc_graph *g, int ti)
{
    cgen *c = (cgen *)e;
    if (ti < 0)
        return "0";
    int64_t off;
    int r = nncc_tensor_storage(g, ti, &off);
    nncc_tensor *t = &g->t[r];
    const char *ct = nncc_dtype_c(g->t[ti].dtype);
    if (t->data) {
        if (!c->tname[r])
            return "0"; /* empty constant */
        c->referenced[r] = true;
        if (t->dtype == NNCC_DT_F32)
            return nncc_fmt(g->ctx, "%s.f", c->tname[r]);
        return c->tname[r];
    }
    if (t->is_input || t->is_output) {
        c->read[r] = true;
        if (off) /* a Concat input written into its slice of an output */
            return nncc_fmt(g->ctx, "(%s *)((unsigned char *)%s + %lld)", ct, c->tname[r], (long long)off);
        if (g->t[ti].dtype == t->dtype)
            return c->tname[r];
        return nncc_fmt(g->ctx, "(%s%s *)%s", t->is_input ? "const " : "", ct, c->tname[r]);
    }
    return nncc_fmt(g->ctx, "(%s *)(ws + %lld)", ct, (long long)(t->offset + off));
}

const char *nncc_emit_name(nncc_emit *e, const char *suffix)
{
    cgen *c = (cgen *)e;
    return ident(c, "", nncc_fmt(c->g->ctx, "%s_%s_%s", e->prefix, c->g->n[e->node_index].name, suffix));
}

const char *nncc_emit_param(nncc_emit *e, const char *type)
{
    const char *name = nncc_emit_name(e, "p");
    fprintf(e->pf, "static const %s %s = ", type, name);
    e->n_params++;
    return name;
}

const char *nncc_float_c(nncc_ctx *ctx, float v)
{
    if (v != v)
        return "(0.0f / 0.0f)";
    if (v > 3.4028235e38f || v < -3.4028235e38f)
        return v > 0 ? "(1.0f / 0.0f)" : "(-1.0f / 0.0f)";
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    /* make it a float literal: "1" -> "1.0f", "1e-05" -> "1e-05f" */
    bool dot = strpbrk(buf, ".e") != NULL;
    return nncc_fmt(ctx, "%s%sf", buf, dot ? "" : ".0");
}

const char *nncc_double_c(nncc_ctx *ctx, double v)
{
    if (v != v)
        return "(0.0 / 0.0)";
    if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
        return v > 0 ? "(1.0 / 0.0)" : "(-1.0 / 0.0)";
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    bool dot = strpbrk(buf, ".e") != NULL;
    return nncc_fmt(ctx, "%s%s", buf, dot ? "" : ".0");
}

void nncc_emit_float(nncc_emit *e, float v)
{
    fputs(nncc_float_c(e->ctx, v), e->pf);
}

void nncc_emit_act(nncc_emit *e, const nncc_act_params *a)
{
    fprintf(e->pf, "{ %d, ", (int)a->kind);
    nncc_emit_float(e, a->alpha);
    fprintf(e->pf, ", ");
    nncc_emit_float(e, a->beta);
    fprintf(e->pf, " }");
}

void nncc_emit_i64s(nncc_emit *e, const int64_t *v, int n)
{
    cgen *c = (cgen *)e;
    fprintf(c->params, "{ ");
    for (int i = 0; i < n; i++)
        fprintf(c->params, "%s%lld", i ? ", " : "", (long long)v[i]);
    fprintf(c->params, n ? " }" : "0 }");
}

const char *nncc_emit_weights_f32(nncc_emit *e, const char *suffix, const char *comment,
                                  const float *data, int64_t n)
{
    cgen *c = (cgen *)e;
    const char *name = nncc_emit_name(e, suffix);
    FILE *f = c->weights;
    c->weight_bytes += n * (int64_t)sizeof(float);
    fprintf(f, "/* %s: float32[%lld] */\n", comment, (long long)n);
    fprintf(f, "static const union { uint32_t u[%lld]; float f[%lld]; } %s = {{", (long long)n, (long long)n, name);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[i], sizeof u);
        fprintf(f, "%s0x%08x,", i % 8 ? "" : "\n", (unsigned)u);
    }
    fprintf(f, "\n}};\n");
    return nncc_fmt(c->g->ctx, "%s.f", name);
}

const char *nncc_emit_scratch(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    (void)e;
    if (n->scratch_offset < 0)
        return "0";
    return nncc_fmt(g->ctx, "(float *)(ws + %lld)", (long long)n->scratch_offset);
}

int nncc_emit_parts(nncc_emit *e, nncc_graph *g, int64_t count, int64_t work, int64_t *bounds)
{
    int64_t parts = g->ctx->opt.threads;
    if (parts > NNCC_EMIT_MAX_PARTS)
        parts = NNCC_EMIT_MAX_PARTS;
    if (parts > count)
        parts = count;
    if (parts < 2 || work < NNCC_PAR_MIN_WORK)
        parts = 1;
    for (int64_t i = 0; i <= parts; i++)
        bounds[i] = count * i / parts;
    if (parts > 1)
        fprintf(e->f, "#ifdef _OPENMP\n#pragma omp parallel sections num_threads(%d)\n#endif\n    {\n", (int)parts);
    return (int)parts;
}

void nncc_emit_part(nncc_emit *e, int parts)
{
    if (parts > 1)
        fprintf(e->f, "#ifdef _OPENMP\n#pragma omp section\n#endif\n");
}

void nncc_emit_parts_end(nncc_emit *e, int parts)
{
    if (parts > 1)
        fprintf(e->f, "    }\n");
}

const char *nncc_emit_at(nncc_emit *e, const char *expr, int64_t off)
{
    return off ? nncc_fmt(e->ctx, "(%s) + %lld", expr, (long long)off) : expr;
}

/* ---- weights ---- */

/* Names a weight (empty ones get none: nncc_emit_ref gives "0" for them). */
static void name_weight(cgen *c, int ti)
{
    nncc_graph *g = c->g;
    nncc_tensor *t = &g->t[ti];
    if (nncc_shape_count(&t->shape) > 0)
        c->tname[ti] = ident(c, "", nncc_fmt(g->ctx, "%s_w_%s", c->e.prefix, t->name));
}

/* Writes a named weight's definition. */
static void write_weight(cgen *c, int ti)
{
    nncc_graph *g = c->g;
    nncc_tensor *t = &g->t[ti];
    int64_t n = nncc_shape_count(&t->shape);
    FILE *f = c->weights;
    if (n == 0 || !c->tname[ti])
        return;
    c->weight_bytes += n * (int64_t)nncc_dtype_size(t->dtype);
    fprintf(f, "/* '%s': %s[%s] */\n", cs(g, t->name), nncc_dtype_name(t->dtype),
            nncc_shape_str(g->ctx, &t->shape));
    if (t->dtype == NNCC_DT_F32) {
        fprintf(f, "static const union { uint32_t u[%lld]; float f[%lld]; } %s = {{", (long long)n,
                (long long)n, c->tname[ti]);
        const uint32_t *u = (const uint32_t *)t->data;
        for (int64_t i = 0; i < n; i++)
            fprintf(f, "%s0x%08x,", i % 8 ? "" : "\n", (unsigned)u[i]);
        fprintf(f, "\n}};\n");
        return;
    }
    fprintf(f, "static const %s %s[%lld] = {", nncc_dtype_c(t->dtype), c->tname[ti], (long long)n);
    for (int64_t i = 0; i < n; i++) {
        fputs(i % 16 ? " " : "\n", f);
        switch (t->dtype) {
        case NNCC_DT_I64: {
            long long v = ((const int64_t *)t->data)[i];
            /* INT64_MIN has no literal form */
            if (v == INT64_MIN)
                fprintf(f, "INT64_MIN,");
            else
                fprintf(f, "%lldLL,", v);
            break;
        }
        case NNCC_DT_U64: fprintf(f, "%lluULL,", (unsigned long long)((const uint64_t *)t->data)[i]); break;
        case NNCC_DT_I32: {
            long v = ((const int32_t *)t->data)[i];
            if (v == INT32_MIN)
                fprintf(f, "INT32_MIN,");
            else
                fprintf(f, "%ld,", v);
            break;
        }
        case NNCC_DT_U32: fprintf(f, "%luu,", (unsigned long)((const uint32_t *)t->data)[i]); break;
        case NNCC_DT_I16: fprintf(f, "%d,", ((const int16_t *)t->data)[i]); break;
        case NNCC_DT_U16: case NNCC_DT_F16: fprintf(f, "%u,", ((const uint16_t *)t->data)[i]); break;
        case NNCC_DT_I8: fprintf(f, "%d,", ((const int8_t *)t->data)[i]); break;
        case NNCC_DT_U8: case NNCC_DT_BOOL: fprintf(f, "%u,", ((const uint8_t *)t->data)[i]); break;
        case NNCC_DT_F64: {
            double v = ((const double *)t->data)[i];
            if (v != v) fprintf(f, "(0.0 / 0.0),");
            else if (v == 1.0 / 0.0 || v == -1.0 / 0.0) fprintf(f, v > 0 ? "(1.0 / 0.0)," : "(-1.0 / 0.0),");
            else fprintf(f, "%.17g,", v);
            break;
        }
        default: fprintf(f, "0,"); break;
        }
    }
    fprintf(f, "\n};\n");
}

/* ---- the files ---- */

static const nncc_embedded_file *find_template(const char *name)
{
    for (int i = 0; i < nncc_n_templates; i++)
        if (strcmp(nncc_templates[i].name, name) == 0)
            return &nncc_templates[i];
    return NULL;
}

typedef struct {
    const char *key, *value;
} subst;

/* Writes a template with every @KEY@ replaced. */
static void fill(FILE *f, const nncc_embedded_file *t, const subst *s, int ns)
{
    const char *p = (const char *)t->data, *end = p + t->len;
    while (p < end) {
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (!at) {
            fwrite(p, 1, (size_t)(end - p), f);
            break;
        }
        fwrite(p, 1, (size_t)(at - p), f);
        const char *close = memchr(at + 1, '@', (size_t)(end - at - 1));
        bool done = false;
        if (close) {
            for (int i = 0; i < ns && !done; i++) {
                size_t kl = strlen(s[i].key);
                if ((size_t)(close - at - 1) == kl && memcmp(at + 1, s[i].key, kl) == 0) {
                    fputs(s[i].value, f);
                    p = close + 1;
                    done = true;
                }
            }
        }
        if (!done) {
            fputc('@', f);
            p = at + 1;
        }
    }
}

/* Creates the directories leading to `path` that do not exist yet (mkdir -p
 * of its parent); a failure shows when the file is opened. */
static void make_parents(nncc_ctx *ctx, const char *path)
{
    char *dir = nncc_strdup(ctx, path);
    for (char *p = dir ? strchr(dir + 1, '/') : NULL; p; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(dir, 0777); /* EEXIST is fine */
        *p = '/';
    }
}

static nncc_status write_file(nncc_ctx *ctx, const char *path, const char *data, size_t len)
{
    make_parents(ctx, path);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        nncc_error_file(ctx, "cannot write %s: %s", path, strerror(errno));
        return NNCC_ERR_IO;
    }
    return NNCC_OK;
}

/* PREFIX_NAME_SIZE, the header's element count macro of parameter `name`,
 * made unique among the n macros before it (and PREFIX_ARENA_SIZE) by a
 * number when upper case merges two names. */
static const char *size_macro(cgen *c, const char *up, const char *name, const char **macros, int n)
{
    nncc_ctx *ctx = c->g->ctx;
    char *u = nncc_strdup(ctx, name);
    for (char *p = u; p && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!u)
        u = "";
    const char *arena = nncc_fmt(ctx, "%s_ARENA_SIZE", up), *m = nncc_fmt(ctx, "%s_%s_SIZE", up, u);
    for (int k = 2; !ctx->oom; k++) {
        bool taken = strcmp(m, arena) == 0;
        for (int i = 0; i < n && !taken; i++)
            taken = strcmp(macros[i], m) == 0;
        if (!taken)
            return macros[n] = m;
        m = nncc_fmt(ctx, "%s_%s_%d_SIZE", up, u, k);
    }
    return macros[n] = "NNCC_NO_MEMORY"; /* ctx->oom is set: the compile fails */
}

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Shape text for API comments: symbolic batch shown by name. */
static const char *shape_doc(nncc_graph *g, nncc_tensor *t)
{
    char buf[256];
    size_t k = 0;
    for (int i = 0; i < t->shape.rank && k < 200; i++) {
        if (i == t->batch_dim && g->batch_symbolic)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%sbatch", i ? " x " : "");
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", i ? " x " : "", (long long)t->shape.d[i]);
    }
    buf[k] = 0;
    return nncc_strdup(g->ctx, t->shape.rank ? buf : "scalar");
}

nncc_status nncc_emit_c(nncc_graph *g, const char *out_c, const char *prefix)
{
    nncc_ctx *ctx = g->ctx;
    cgen c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.e.ctx = ctx;
    c.e.prefix = prefix;
    c.tname = nncc_alloc_array(ctx, (size_t)g->n_t + 1, sizeof(char *));
    c.pname = nncc_alloc_array(ctx, (size_t)g->n_t + 1, sizeof(char *));
    c.referenced = nncc_alloc_array(ctx, (size_t)g->n_t + 1, sizeof(bool));
    c.read = nncc_alloc_array(ctx, (size_t)g->n_t + 1, sizeof(bool));
    const char **macros = nncc_alloc_array(ctx, (size_t)(g->n_inputs + g->n_outputs) + 1, sizeof *macros);
    int n_macros = 0;
    if (!c.tname || !c.pname || !c.referenced || !c.read || !macros)
        return NNCC_ERR_NOMEM; /* before any memstream is open */
    c.weights = open_memstream(&c.wbuf, &c.wlen);
    c.params = open_memstream(&c.pbuf, &c.plen);
    c.body = open_memstream(&c.bbuf, &c.blen);
    if (!c.weights || !c.params || !c.body)
        return NNCC_ERR_NOMEM;
    c.e.f = c.body;
    c.e.pf = c.params;

    char up[256];
    size_t k = 0;
    for (; prefix[k] && k < sizeof up - 1; k++)
        up[k] = (char)toupper((unsigned char)prefix[k]);
    up[k] = 0;

    /* interface names first, so they keep the model's names where possible;
     * `one` is the per-sample pointer list, `plist` adds the batch count */
    char *plist = NULL, *one = NULL, *alist = NULL, *doc = NULL;
    size_t pl = 0, ol = 0, al = 0, dl = 0;
    FILE *pf = open_memstream(&plist, &pl), *of = open_memstream(&one, &ol);
    FILE *af = open_memstream(&alist, &al), *df = open_memstream(&doc, &dl);
    if (!pf || !of || !af || !df)
        return NNCC_ERR_NOMEM;
    if (g->batch_symbolic) {
        fprintf(pf, "size_t batch");
        fprintf(af, ", batch");
        fprintf(df, "/* batch: number of samples; each input and output holds `batch` of them. */\n");
    }
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? g->n_outputs : g->n_inputs;
        for (int i = 0; i < n; i++) {
            int ti = pass ? g->outputs[i] : g->inputs[i];
            nncc_tensor *t = &g->t[ti];
            if (c.tname[ti]) /* an input that is also an output */
                continue;
            c.tname[ti] = c.pname[ti] = ident(&c, "", t->name);
            const char *decl = nncc_fmt(ctx, "%s%s *%s", pass ? "" : "const ", nncc_dtype_c(t->dtype), c.tname[ti]);
            fprintf(pf, "%s%s", ftell(pf) ? ", " : "", decl);
            fprintf(of, ", %s", decl);
            fprintf(af, ", %s", c.tname[ti]);
            fprintf(df, "/* %s %s: %s[%s] ('%s') */\n", pass ? "output" : "input ", c.tname[ti],
                    nncc_dtype_name(t->dtype), shape_doc(g, t), cs(g, t->name));
            fprintf(df, "#define %s %lldu /* elements%s */\n", size_macro(&c, up, c.tname[ti], macros, n_macros++),
                    (long long)nncc_shape_count(&t->shape), g->batch_symbolic ? " per sample" : "");
        }
    }
    if (ftell(pf) == 0)
        fprintf(pf, "void");
    fclose(pf);
    fclose(of);
    fclose(af);
    fclose(df);

    for (int t = 0; t < g->n_t; t++) {
        /* weights read by a node, or constant graph outputs */
        if (!g->t[t].data)
            continue;
        bool used = g->t[t].is_output;
        for (int i = 0; i < g->n_n && !used; i++)
            for (int k = 0; k <= g->n[i].n_in && !used; k++)
                used = (k < g->n[i].n_in ? g->n[i].in[k] : g->n[i].fused_add) == t;
        if (used)
            name_weight(&c, t);
    }

    /* --canary: guard bytes before and after every arena tensor, set when
     * its storage comes alive and checked after every node while it lives */
    const nncc_options *opt = &ctx->opt;
    bool guarded = false; /* some tensor lives in the arena (not all in the caller's buffers) */
    for (int t = 0; g->canary_guard && t < g->n_t; t++)
        guarded |= g->t[t].alias_of < 0 && g->t[t].offset >= 0;
    if (guarded)
        fprintf(c.params, "/* --canary: guard bytes around every arena tensor, checked after each node */\n"
                          "static void %s_canary_set(unsigned char *p, size_t n)\n{\n    memset(p, 0xCB, n);\n}\n\n"
                          "static int %s_canary_bad(const unsigned char *p, size_t n)\n{\n    size_t i;\n"
                          "    for (i = 0; i < n; i++)\n        if (p[i] != 0xCB)\n            return 1;\n"
                          "    return 0;\n}\n\n", prefix, prefix);

    /* the calls */
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        c.e.node_index = i;
        for (int t = 0; g->canary_guard && t < g->n_t; t++) {
            nncc_tensor *x = &g->t[t];
            if (x->alias_of >= 0 || x->offset < 0 || x->live_first != i)
                continue;
            int64_t bytes = nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
            int64_t padded = (bytes + opt->align - 1) / opt->align * opt->align;
            fprintf(c.body, "    %s_canary_set(ws + %lld, %lld); /* guards of '%s' */\n", prefix,
                    (long long)(x->offset - g->canary_guard), (long long)g->canary_guard, cs(g, x->name));
            fprintf(c.body, "    %s_canary_set(ws + %lld, %lld);\n", prefix, (long long)(x->offset + bytes),
                    (long long)(padded - bytes + g->canary_guard));
        }
        fprintf(c.body, "    /* node '%s' (%s)", cs(g, n->name), nncc_ops[n->op]->name);
        if (n->fused_from)
            fprintf(c.body, " + %s", cs(g, n->fused_from));
        fprintf(c.body, "\n     *   ");
        for (int k = 0; k < n->n_in; k++) {
            nncc_tensor *t = nncc_in(g, n, k);
            if (t)
                fprintf(c.body, "%s%s[%s]", k ? ", " : "in: ", nncc_dtype_name(t->dtype),
                        nncc_shape_str(ctx, &t->shape));
        }
        for (int k = 0; k < n->n_out; k++) {
            nncc_tensor *t = nncc_out(g, n, k);
            if (!t)
                continue;
            fprintf(c.body, "%s'%s' %s[%s]", k ? ", " : " -> ", cs(g, t->name), nncc_dtype_name(t->dtype),
                    nncc_shape_str(ctx, &t->shape));
            if (t->offset >= 0)
                fprintf(c.body, " @ws+%lld", (long long)t->offset);
        }
        fprintf(c.body, " */\n");
        nncc_ops[n->op]->emit_c(&c.e, g, n);
        for (int t = 0; g->canary_guard && t < g->n_t; t++) {
            nncc_tensor *x = &g->t[t];
            if (x->alias_of >= 0 || x->offset < 0 || x->live_first > i || x->live_last < i)
                continue;
            int64_t bytes = nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
            int64_t padded = (bytes + opt->align - 1) / opt->align * opt->align;
            fprintf(c.body, "    if (%s_canary_bad(ws + %lld, %lld) || %s_canary_bad(ws + %lld, %lld))\n"
                            "        return %d; /* node '%s' wrote outside its outputs, over the guards of '%s' */\n",
                    prefix, (long long)(x->offset - g->canary_guard), (long long)g->canary_guard, prefix,
                    (long long)(x->offset + bytes), (long long)(padded - bytes + g->canary_guard), 1000 + i, cs(g, n->name),
                    cs(g, x->name));
        }
    }
    /* graph outputs that are constants, or views copied out */
    for (int i = 0; i < g->n_outputs; i++) {
        nncc_tensor *t = &g->t[g->outputs[i]];
        size_t bytes = (size_t)nncc_shape_count(&t->shape) * nncc_dtype_size(t->dtype);
        if (t->data && bytes)
            fprintf(c.body, "    /* output '%s' is a constant */\n    memcpy(%s, %s, %zu);\n", cs(g, t->name),
                    c.pname[g->outputs[i]], nncc_emit_ref(&c.e, g, g->outputs[i]), bytes);
    }
    /* inputs no call names (only their shapes mattered: Shape, EyeLike, an
     * empty axes input) */
    for (int i = 0; i < g->n_inputs; i++) {
        int ti = g->inputs[i];
        if (!c.read[ti] && !g->t[ti].is_output)
            fprintf(c.body, "    (void)%s; /* input '%s': only its shape is used */\n", c.pname[ti], g->t[ti].name);
    }
    /* only the weights the calls name: a constant input whose value an op
     * baked into its parameters (Expand's shape, Clip's bounds at -O0) would
     * be an unused static, which -Wall -Werror rejects */
    for (int t = 0; t < g->n_t; t++)
        if (c.referenced[t])
            write_weight(&c, t);
    fclose(c.weights);
    fclose(c.params);
    fclose(c.body);

    /* batch loop: per-sample strides of every input and output */
    char *loop = NULL;
    size_t ll = 0;
    FILE *lf = open_memstream(&loop, &ll);
    if (!lf)
        return NNCC_ERR_NOMEM;
    if (g->batch_symbolic) {
        fprintf(lf, "    for (size_t b = 0; b < batch; b++) {\n        int rc = %s_run_one((unsigned char *)ws", prefix);
        for (int pass = 0; pass < 2; pass++) {
            int n = pass ? g->n_outputs : g->n_inputs;
            for (int i = 0; i < n; i++) {
                int ti = pass ? g->outputs[i] : g->inputs[i];
                if (pass && g->t[ti].is_input)
                    continue;
                nncc_tensor *t = &g->t[ti];
                fprintf(lf, ", %s + b * %lld", c.pname[ti], (long long)nncc_shape_count(&t->shape));
            }
        }
        fprintf(lf, ");\n        if (rc)\n            return rc;\n    }\n    return 0;\n");
    } else {
        fprintf(lf, "    return %s_run_one((unsigned char *)ws%s);\n", prefix, alist);
    }
    fclose(lf);

    /* fill the templates */
    const char *cname = basename_of(out_c);
    size_t stem = strlen(out_c) - (strrchr(cname, '.') ? strlen(strrchr(cname, '.')) : 0);
    char *hpath = nncc_fmt(ctx, "%.*s.h", (int)stem, out_c);
    const char *hname = basename_of(hpath);
    char *guard = nncc_fmt(ctx, "%s_H", up);
    const nncc_options *o = &ctx->opt;
    subst s[] = {
        { "HEADER", hname },
        { "SOURCE_FILE", cname },
        { "VERSION", NNCC_VERSION },
        { "SOURCE", cs(g, g->source ? g->source : basename_of(ctx->file)) },
        { "OPTIONS", nncc_fmt(ctx, "-O%d%s%s", o->opt_level,
                              o->align != 16 ? nncc_fmt(ctx, " --align %lld", (long long)o->align) : "",
                              o->canary ? " --canary" : "") },
        { "ALIGN", nncc_fmt(ctx, "%lld", (long long)o->align) },
        /* the static arena's base on a cache line at least (measured: 2-4% at
         * one and two threads on MobileNetV2, SqueezeNet and the
         * FeatureExtractor against a base 16 bytes past one) */
        { "ARENA_ALIGN", nncc_fmt(ctx, "%lld", (long long)(o->align > 64 ? o->align : 64)) },
        { "GUARD", guard },
        { "PREFIX", prefix },
        { "UPREFIX", up },
        { "ARENA", nncc_fmt(ctx, "%lld", (long long)g->arena_size) },
        { "ARENA_DECL", nncc_fmt(ctx, "%lld", (long long)(g->arena_size ? g->arena_size : 1)) },
        { "IO_DOC", doc },
        { "PARAMS", plist },
        { "WS_PARAMS", strcmp(plist, "void") ? nncc_fmt(ctx, ", %s", plist) : "" },
        { "ONE_PARAMS", one },
        { "COMMA_ARGS", alist },
        { "GRAPH", cs(g, g->name) },
        { "N_NODES", nncc_fmt(ctx, "%d", g->n_n) },
        { "N_CALLS", nncc_fmt(ctx, "%d", nncc_kernel_calls(g)) },
        { "N_WEIGHT_BYTES", nncc_fmt(ctx, "%lld", (long long)c.weight_bytes) },
        { "WEIGHTS", c.wbuf },
        { "PARAMS_STRUCTS", c.pbuf },
        { "BODY", c.bbuf },
        { "BATCH_LOOP", loop },
    };
    int ns = (int)(sizeof s / sizeof s[0]);
    const nncc_embedded_file *th = find_template("model.h.in"), *tc = find_template("model.c.in");
    NNCC_ASSERT(th && tc);
    char *hb = NULL, *cb = NULL;
    size_t hl = 0, cl = 0;
    FILE *hf = open_memstream(&hb, &hl), *cf = open_memstream(&cb, &cl);
    if (!hf || !cf)
        return NNCC_ERR_NOMEM;
    fill(hf, th, s, ns);
    fill(cf, tc, s, ns);
    fclose(hf);
    fclose(cf);
    nncc_status st = write_file(ctx, out_c, cb, cl);
    if (st == NNCC_OK)
        st = write_file(ctx, hpath, hb, hl);
    free(hb);
    free(cb);
    free(plist);
    free(one);
    free(alist);
    free(doc);
    free(loop);
    free(c.wbuf);
    free(c.pbuf);
    free(c.bbuf);
    /* the runtime, next to the model */
    size_t dirlen = (size_t)(cname - out_c);
    for (int i = 0; i < nncc_n_runtime_files && st == NNCC_OK; i++) {
        char *p = nncc_fmt(ctx, "%.*s%s", (int)dirlen, out_c, nncc_runtime_files[i].name);
        st = write_file(ctx, p, (const char *)nncc_runtime_files[i].data, nncc_runtime_files[i].len);
    }
    return st;
}
