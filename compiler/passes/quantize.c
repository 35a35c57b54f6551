/*
 * quantize.c - post-training int8 quantisation (--quantize int8).
 *
 * 1. Calibration: the float graph (after fusion) runs on the host, through
 *    the runtime kernels (passes/interp.c), on every sample in the
 *    --calibration folder; each float tensor's range is recorded:
 *      minmax      the smallest and largest value seen (the default)
 *      percentile  the 0.01% and 99.99% points of a 2048-bin histogram of
 *                  all values seen (a second run over the samples), so
 *                  that rare outliers do not stretch the scale
 * 2. Selection: Conv and Gemm nodes that int8 kernels run (float constant
 *    weights, no activation but Relu/Clip, Gemm without transA), and Adds
 *    of two same-shaped tensors, except those named by --keep-float. Their
 *    input and output tensors become int8; MaxPool, Flatten and Reshape
 *    whose input is int8 pass it through (same scale and zero point). A
 *    residual Add that fusion put into a Conv is first taken back out (it
 *    runs as its own Int8Add, with rescaling), before calibration.
 * 3. Each such tensor t gets QuantizeLinear -> DequantizeLinear after it,
 *    with an asymmetric int8 scale and zero point from its range (widened to
 *    hold 0.0 exactly). The graph is then a QDQ graph like the ones
 *    quantize_static writes, and passes/int8.c lowers it to int8 kernels;
 *    what stays float is surrounded by quantize/dequantize kernels.
 *
 * Calibration files: NumPy .npy (float32 or float64, C order) or ONNX
 * TensorProto .pb (float32 or float64, as the ONNX test data sets store
 * inputs), one per sample or several stacked along the first dim, read in
 * name order. The
 * model must have one float input; each sample has that input's shape at
 * batch 1. Weights are quantised in passes/int8.c (symmetric, per channel).
 *
 * Precondition: shapes inferred, constants folded, activations fused.
 */
#include "nncc-impl.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBINS 2048
#define PCT_TAIL 1e-4 /* percentile method: fraction of values cut at each end */

typedef struct {
    double *lo, *hi;       /* per tensor range seen */
    double *hist;          /* per tensor NBINS bins over [lo, hi] (percentile pass), or NULL */
    int pass;              /* 0: ranges, 1: histograms */
} calib;

static void see(nncc_graph *g, int t, const void *data, void *user)
{
    calib *c = user;
    if (g->t[t].dtype != NNCC_DT_F32)
        return;
    const float *v = data;
    int64_t n = nncc_shape_count(&g->t[t].shape);
    if (c->pass == 0) {
        for (int64_t i = 0; i < n; i++) {
            if (v[i] < c->lo[t]) c->lo[t] = v[i];
            if (v[i] > c->hi[t]) c->hi[t] = v[i];
        }
        return;
    }
    double lo = c->lo[t], w = (c->hi[t] - lo) / NBINS;
    double *h = c->hist + (size_t)t * NBINS;
    for (int64_t i = 0; i < n; i++) {
        int b = w > 0 ? (int)((v[i] - lo) / w) : 0;
        h[b < 0 ? 0 : b >= NBINS ? NBINS - 1 : b]++;
    }
}

/* Reads a .npy file of float32/float64 into a new float array; *count elements. */
static float *read_npy(nncc_graph *g, const char *path, int64_t *count)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    float *out = NULL;
    if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        nncc_error_file(g->ctx, "--calibration: %s is not a .npy file", path);
        goto done;
    }
    size_t hl = pre[6] == 1 ? (size_t)(pre[8] | pre[9] << 8) : 0;
    if (pre[6] >= 2) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2)
            goto bad;
        hl = (size_t)(pre[8] | pre[9] << 8 | b[0] << 16 | b[1] << 24);
    }
    if (hl == 0 || hl > 65536)
        goto bad;
    char *h = calloc(hl + 1, 1);
    if (!h || fread(h, 1, hl, f) != hl) {
        free(h);
        goto bad;
    }
    bool f8 = strstr(h, "'<f8'") != NULL, f4 = strstr(h, "'<f4'") != NULL;
    bool fortran = strstr(h, "'fortran_order': True") != NULL;
    const char *sh = strstr(h, "'shape':");
    int64_t n = 1;
    if (sh && (sh = strchr(sh, '('))) {
        for (const char *p = sh + 1; *p && *p != ')';) {
            char *end;
            long long d = strtoll(p, &end, 10);
            if (end == p) {
                p++;
                continue;
            }
            if (d < 0 || d > (1LL << 31) || n > (1LL << 31)) {
                n = -1;
                break;
            }
            n *= d;
            p = end;
        }
    }
    free(h);
    if ((!f4 && !f8) || fortran || !sh || n < 0) {
        nncc_error_file(g->ctx, "--calibration: %s: want float32 or float64 data in C order", path);
        goto done;
    }
    size_t es = f8 ? 8 : 4;
    void *raw = malloc((size_t)n * es + 1);
    out = malloc((size_t)n * sizeof(float) + 1);
    if (!raw || !out || fread(raw, es, (size_t)n, f) != (size_t)n) {
        free(raw);
        free(out);
        out = NULL;
        goto bad;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = f8 ? (float)((double *)raw)[i] : ((float *)raw)[i];
    free(raw);
    *count = n;
    goto done;
bad:
    nncc_error_file(g->ctx, "--calibration: cannot read %s (damaged .npy?)", path);
done:
    if (f)
        fclose(f);
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the graph on every calibration sample (pass 0 or 1); returns the sample count, -1 on error. */
static int run_samples(nncc_graph *g, const char *dir, calib *c, nncc_status *st)
{
    DIR *d = opendir(dir);
    if (!d) {
        nncc_error_file(g->ctx, "--calibration: cannot open folder %s", dir);
        *st = NNCC_ERR_IO;
        return -1;
    }
    char **names = NULL;
    int nn = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (!(l > 4 && strcmp(e->d_name + l - 4, ".npy") == 0) && !(l > 3 && strcmp(e->d_name + l - 3, ".pb") == 0))
            continue;
        if (nn == cap) {
            cap = cap ? 2 * cap : 64;
            char **nb = realloc(names, (size_t)cap * sizeof *nb);
            if (!nb)
                break;
            names = nb;
        }
        names[nn++] = nncc_fmt(g->ctx, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (nn == 0) {
        nncc_error_file(g->ctx, "--calibration: no .npy or .pb files in %s", dir);
        free(names);
        *st = NNCC_ERR_INPUT;
        return -1;
    }
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    nncc_tensor *in = &g->t[g->inputs[0]];
    int64_t per = nncc_shape_count(&in->shape), samples = 0;
    for (int i = 0; i < nn && *st == NNCC_OK; i++) {
        int64_t count = 0;
        const size_t nl = strlen(names[i]);
        float *x = strcmp(names[i] + nl - 3, ".pb") == 0 ? nncc_onnx_read_tensor_f32(g->ctx, names[i], &count)
                                                         : read_npy(g, names[i], &count);
        if (!x) {
            *st = NNCC_ERR_INPUT;
            break;
        }
        if (count == 0 || count % per) {
            nncc_error_file(g->ctx, "--calibration: %s holds %lld values, not a multiple of input '%s' (%s)",
                            names[i], (long long)count, in->name, nncc_shape_str(g->ctx, &in->shape));
            *st = NNCC_ERR_INPUT;
        }
        for (int64_t s = 0; *st == NNCC_OK && s < count / per; s++) {
            const float *xs = x + s * per;
            const void *ins[1] = { xs };
            see(g, g->inputs[0], xs, c);
            *st = nncc_interp(g, ins, see, c);
            samples++;
        }
        free(x);
    }
    free(names);
    return *st == NNCC_OK ? (int)samples : -1;
}

static bool keep_float(const nncc_options *o, const char *name)
{
    for (int i = 0; i < o->n_keep_float; i++)
        if (strcmp(o->keep_float[i], name) == 0)
            return true;
    return false;
}

/* Whether passes/int8.c can run this Conv/Gemm in int8 (given QDQ around it). */
static bool int8_able(nncc_graph *g, nncc_node *n)
{
    if (n->op != NNCC_OP_Conv && n->op != NNCC_OP_Gemm)
        return false;
    nncc_tensor *w = nncc_in(g, n, 1), *b = nncc_in(g, n, 2), *x = nncc_in(g, n, 0);
    if (n->fused_add >= 0 || !w->data || (b && !b->data) || x->dtype != NNCC_DT_F32)
        return false;
    if (n->act.kind != NNCC_ACT_NONE && n->act.kind != NNCC_ACT_RELU && n->act.kind != NNCC_ACT_CLIP)
        return false;
    if (n->op == NNCC_OP_Conv)
        return x->shape.rank == 4;
    nncc_attr *a = nncc_attr_find(n, "transA");
    return !(a && a->i);
}

/* Adds a scalar constant. */
static int scalar(nncc_graph *g, const char *name, nncc_dtype dt, const void *v)
{
    int t = nncc_tensor_new_unique(g, name);
    nncc_shape s = { 0, { 0 } };
    if (t < 0 || nncc_tensor_set_data(g, t, dt, &s, v) != NNCC_OK)
        return -1;
    g->t[t].producer = -1;
    return t;
}

/* QuantizeLinear then DequantizeLinear after tensor t (scale s, zero point z). */
static nncc_status insert_qdq(nncc_graph *g, int t, float s, int8_t z)
{
    const char *name = g->t[t].name;
    int ts = scalar(g, nncc_fmt(g->ctx, "%s_scale", name), NNCC_DT_F32, &s);
    int tz = scalar(g, nncc_fmt(g->ctx, "%s_zero_point", name), NNCC_DT_I8, &z);
    int tq = nncc_tensor_new_unique(g, nncc_fmt(g->ctx, "%s_quantized", name));
    int tf = nncc_tensor_new_unique(g, nncc_fmt(g->ctx, "%s_float", name));
    if (ts < 0 || tz < 0 || tq < 0 || tf < 0)
        return NNCC_ERR_NOMEM;
    int p = g->t[t].producer;
    nncc_tensor *T = &g->t[t], *F = &g->t[tf];
    F->dtype = NNCC_DT_F32, F->shape = T->shape, F->has_shape = true;
    int src = t, dst = tf;
    if (p >= 0) {
        /* the producer writes tf; the dequantised values take t's place (and name) */
        for (int k = 0; k < g->n[p].n_out; k++)
            if (g->n[p].out[k] == t)
                g->n[p].out[k] = tf;
        src = tf, dst = t;
    } else {
        /* a graph input: its readers read the dequantised copy tf */
        for (int i = 0; i < g->n_n; i++) {
            for (int k = 0; k < g->n[i].n_in; k++)
                if (g->n[i].in[k] == t)
                    g->n[i].in[k] = tf;
            if (g->n[i].fused_add == t)
                g->n[i].fused_add = tf;
        }
    }
    nncc_node *q = nncc_node_add(g, NNCC_OP_QuantizeLinear, nncc_fmt(g->ctx, "%s_QuantizeLinear", name), 3, 1);
    if (!q)
        return NNCC_ERR_NOMEM;
    q->opset = 13;
    q->in[0] = src, q->in[1] = ts, q->in[2] = tz, q->out[0] = tq;
    if (nncc_ops[q->op]->infer(g, q) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_node *d = nncc_node_add(g, NNCC_OP_DequantizeLinear, nncc_fmt(g->ctx, "%s_DequantizeLinear", name), 3, 1);
    if (!d)
        return NNCC_ERR_NOMEM;
    d->opset = 13;
    d->in[0] = tq, d->in[1] = ts, d->in[2] = tz, d->out[0] = dst;
    return nncc_ops[d->op]->infer(g, d);
}

/* nncc_graph_toposort, with each fused residual input counted as an input
 * (the sort only follows n->in): it is added as an extra input for the sort. */
static nncc_status toposort_fused(nncc_graph *g)
{
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->fused_add < 0)
            continue;
        int *in = nncc_alloc_array(g->ctx, (size_t)n->n_in + 1, sizeof(int));
        if (!in)
            return NNCC_ERR_NOMEM;
        memcpy(in, n->in, (size_t)n->n_in * sizeof(int));
        in[n->n_in++] = n->fused_add;
        n->in = in;
    }
    nncc_status st = nncc_graph_toposort(g);
    for (int i = 0; i < g->n_n; i++)
        if (g->n[i].fused_add >= 0)
            g->n[i].n_in--;
    return st;
}

/* A Conv that fusion gave a residual Add (n->fused_add) gets its Add back as
 * a node, so that both run in int8 (Int8Conv, then Int8Add with rescaling)
 * and calibration sees the convolution's own output. */
static nncc_status unfuse_adds(nncc_graph *g, const nncc_options *o, int *count)
{
    int nn = g->n_n;
    for (int i = 0; i < nn; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->op != NNCC_OP_Conv || n->fused_add < 0 || keep_float(o, n->name))
            continue;
        int other = n->fused_add, out = n->out[0];
        nncc_act_params act = n->act;
        n->fused_add = -1;
        if (!int8_able(g, n)) {
            n->fused_add = other;
            continue;
        }
        int c = nncc_tensor_new_unique(g, nncc_fmt(g->ctx, "%s_conv", g->t[out].name));
        if (c < 0)
            return NNCC_ERR_NOMEM;
        g->t[c].dtype = NNCC_DT_F32, g->t[c].shape = g->t[out].shape, g->t[c].has_shape = true;
        const char *name = nncc_fmt(g->ctx, "%s_add", g->n[i].name);
        nncc_node *a = nncc_node_add(g, NNCC_OP_Add, name, 2, 1);
        if (!a)
            return NNCC_ERR_NOMEM;
        n = &g->n[i]; /* the node array may have moved */
        a->opset = n->opset;
        a->in[0] = c, a->in[1] = other, a->out[0] = out;
        a->act = act;
        n->out[0] = c;
        memset(&n->act, 0, sizeof n->act);
        (*count)++;
    }
    return *count ? toposort_fused(g) : NNCC_OK;
}

/* An Add the int8 pass can run as Int8Add (same shapes, Relu/Clip at most). */
static bool add_able(nncc_graph *g, nncc_node *n)
{
    if (n->op != NNCC_OP_Add || n->n_in != 2 || n->fused_add >= 0 || n->in[0] < 0 || n->in[1] < 0)
        return false;
    nncc_tensor *a = nncc_in(g, n, 0), *b = nncc_in(g, n, 1), *y = nncc_out(g, n, 0);
    if (a->data || b->data || y->dtype != NNCC_DT_F32 || a->dtype != NNCC_DT_F32 || b->dtype != NNCC_DT_F32)
        return false;
    if (n->act.kind != NNCC_ACT_NONE && n->act.kind != NNCC_ACT_RELU && n->act.kind != NNCC_ACT_CLIP)
        return false;
    return nncc_shape_eq(&a->shape, &y->shape) && nncc_shape_eq(&b->shape, &y->shape);
}

nncc_status nncc_pass_quantize(nncc_graph *g, const nncc_options *o)
{
    if (!o->quantize)
        return NNCC_OK;
    if (!o->calibration) {
        nncc_error_file(g->ctx, "--quantize int8 needs --calibration DIR (a folder of .npy or .pb inputs)");
        return NNCC_ERR_USAGE;
    }
    if (g->n_inputs != 1 || g->t[g->inputs[0]].dtype != NNCC_DT_F32) {
        nncc_error_file(g->ctx, "--quantize int8: calibration supports models with one float32 input");
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < o->n_keep_float; i++) {
        bool found = false;
        for (int k = 0; k < g->n_n && !found; k++)
            found = strcmp(g->n[k].name, o->keep_float[i]) == 0;
        if (!found) {
            nncc_error_file(g->ctx, "--keep-float names node '%s', which the graph does not have (after fusion)",
                            o->keep_float[i]);
            return NNCC_ERR_USAGE;
        }
    }
    int unfused = 0;
    nncc_status ust = unfuse_adds(g, o, &unfused);
    if (ust != NNCC_OK)
        return ust;
    int nt = g->n_t;
    calib c = { 0 };
    c.lo = malloc((size_t)nt * sizeof(double));
    c.hi = malloc((size_t)nt * sizeof(double));
    int *root = malloc((size_t)nt * sizeof(int)); /* tensor whose range gives t's scale; -1: stays float */
    nncc_status st = c.lo && c.hi && root ? NNCC_OK : NNCC_ERR_NOMEM;
    for (int t = 0; st == NNCC_OK && t < nt; t++)
        c.lo[t] = INFINITY, c.hi[t] = -INFINITY, root[t] = -1;
    int samples = st == NNCC_OK ? run_samples(g, o->calibration, &c, &st) : -1;
    if (st == NNCC_OK && o->calib_method == 1) {
        c.hist = calloc((size_t)nt * NBINS, sizeof(double));
        c.pass = 1;
        if (!c.hist)
            st = NNCC_ERR_NOMEM;
        else
            run_samples(g, o->calibration, &c, &st);
        for (int t = 0; st == NNCC_OK && t < nt; t++) {
            const double *h = c.hist + (size_t)t * NBINS;
            double total = 0, acc = 0, w = (c.hi[t] - c.lo[t]) / NBINS;
            for (int b = 0; b < NBINS; b++)
                total += h[b];
            if (total == 0 || !(w > 0))
                continue;
            int lo = 0, hi = NBINS - 1;
            for (acc = 0; lo < NBINS - 1 && (acc += h[lo]) <= total * PCT_TAIL; lo++)
                ;
            for (acc = 0; hi > 0 && (acc += h[hi]) <= total * PCT_TAIL; hi--)
                ;
            double nlo = c.lo[t] + lo * w, nhi = c.lo[t] + (hi + 1) * w;
            if (nlo < nhi)
                c.lo[t] = nlo, c.hi[t] = nhi;
        }
    }
    /* which tensors become int8 */
    int chosen = 0, candidates = 0, adds = 0;
    for (int i = 0; st == NNCC_OK && i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead)
            continue;
        if (add_able(g, n) && !keep_float(o, n->name)) {
            root[n->in[0]] = n->in[0];
            root[n->in[1]] = n->in[1];
            root[n->out[0]] = n->out[0];
            adds++;
        }
        if (!int8_able(g, n))
            continue;
        candidates++;
        if (keep_float(o, n->name))
            continue;
        root[n->in[0]] = n->in[0];
        root[n->out[0]] = n->out[0];
        chosen++;
    }
    for (int i = 0; st == NNCC_OK && i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        if (n->dead || n->n_in < 1 || n->in[0] < 0 || root[n->in[0]] < 0 || keep_float(o, n->name))
            continue;
        if (n->op == NNCC_OP_MaxPool || n->op == NNCC_OP_Flatten || n->op == NNCC_OP_Reshape)
            root[n->out[0]] = root[n->in[0]];
    }
    int inserted = 0;
    for (int t = 0; st == NNCC_OK && t < nt; t++) {
        if (root[t] < 0 || g->t[t].dtype != NNCC_DT_F32)
            continue;
        int r = root[t];
        if (!(c.lo[r] <= c.hi[r])) {
            nncc_error_file(g->ctx, "--quantize: tensor '%s' was never computed in calibration", g->t[r].name);
            st = NNCC_ERR_INPUT;
            break;
        }
        /* asymmetric int8 with 0.0 exactly representable */
        double lo = fmin(c.lo[r], 0), hi = fmax(c.hi[r], 0);
        double s = (hi - lo) / 255.0;
        if (!(s > 0))
            s = 1.0;
        double z = nearbyint(-128.0 - lo / s);
        z = z < -128 ? -128 : z > 127 ? 127 : z;
        st = insert_qdq(g, t, (float)s, (int8_t)z);
        inserted++;
        nncc_report(g, "quantize", "tensor '%s': range [%.6g, %.6g]%s -> scale %.6g, zero point %d", g->t[t].name,
                    c.lo[r], c.hi[r], r != t ? nncc_fmt(g->ctx, " (of '%s')", g->t[r].name) : "", s, (int)z);
    }
    free(c.lo);
    free(c.hi);
    free(c.hist);
    free(root);
    if (st != NNCC_OK)
        return st;
    nncc_report(g, "quantize", "calibrated on %d sample%s (%s); %d of %d Conv/Gemm nodes and %d Add%s to int8 "
                "(%d residual Add%s taken back out of a Conv), %d tensors quantised",
                samples, samples == 1 ? "" : "s", o->calib_method == 1 ? "percentile" : "min/max", chosen, candidates,
                adds, adds == 1 ? "" : "s", unfused, unfused == 1 ? "" : "s", inserted);
    return toposort_fused(g);
}
