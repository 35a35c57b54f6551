/*
 * onnx.c - the ONNX frontend: a .onnx file (protobuf, parsed by protobuf-c
 * with the onnx.proto schema compiled at build time) into the IR.
 *
 * It only translates: initializers and Constant-node values become constant
 * tensors, graph inputs get their declared dtype and shape (symbolic dims
 * recorded by name), nodes are looked up in the registry. It checks what it
 * reads - sizes before allocating, data lengths against shapes, external data
 * files against their declared ranges - and reports every unsupported op of
 * the model in one run. No optimisation happens here.
 */
#include "nncc-impl.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES ((size_t)4 << 30) /* protobuf itself cannot exceed 2 GiB; be generous */

typedef struct {
    nncc_ctx *ctx;
    nncc_graph *g;
    const char *path;     /* model file */
    char *dir;            /* folder of the model file, for external data */
} loader;

static unsigned char *read_file(nncc_ctx *ctx, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nncc_error_file(ctx, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        nncc_error_file(ctx, "not a regular file");
        fclose(f);
        return NULL;
    }
    if ((size_t)st.st_size > MAX_FILE_BYTES) {
        nncc_error_file(ctx, "file is too large (%lld bytes)", (long long)st.st_size);
        fclose(f);
        return NULL;
    }
    *len = (size_t)st.st_size;
    unsigned char *buf = malloc(*len ? *len : 1);
    if (!buf) {
        nncc_error_file(ctx, "out of memory reading %zu bytes", *len);
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, *len, f) != *len) {
        nncc_error_file(ctx, "read error: %s", strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Element count of dims, or -1 if a dim is negative or the product is absurd. */
static int64_t checked_count(const int64_t *dims, size_t n)
{
    int64_t c = 1;
    for (size_t i = 0; i < n; i++) {
        if (dims[i] < 0)
            return -1;
        if (dims[i] && c > NNCC_MAX_ELEMS / dims[i])
            return -1;
        c *= dims[i];
    }
    return c;
}

/* Reads external data bytes [offset, offset+length) of `location` next to the model. */
static void *read_external(loader *L, const Onnx__TensorProto *tp, size_t want)
{
    const char *loc = NULL;
    long long off = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key || !e->value)
            continue;
        if (!strcmp(e->key, "location"))
            loc = e->value;
        else if (!strcmp(e->key, "offset"))
            off = strtoll(e->value, NULL, 10);
        else if (!strcmp(e->key, "length"))
            length = strtoll(e->value, NULL, 10);
    }
    const char *name = tp->name ? tp->name : "?";
    if (!loc || !*loc || loc[0] == '/' || strstr(loc, "..")) {
        nncc_error_file(L->ctx, "tensor '%s': external data location '%s' must be a relative path inside the model's folder",
                        name, loc ? loc : "");
        return NULL;
    }
    if (off < 0 || (length >= 0 && (size_t)length != want)) {
        nncc_error_file(L->ctx, "tensor '%s': external data has offset %lld and length %lld, the shape needs %zu bytes",
                        name, off, length, want);
        return NULL;
    }
    char *path = nncc_fmt(L->ctx, "%s%s", L->dir, loc);
    FILE *f = fopen(path, "rb");
    if (!f) {
        nncc_error_file(L->ctx, "tensor '%s': cannot open external data '%s': %s", name, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    void *p = NULL;
    if (fstat(fileno(f), &st) != 0 || (unsigned long long)off + want > (unsigned long long)st.st_size) {
        nncc_error_file(L->ctx, "tensor '%s': external data '%s' is shorter than offset %lld + %zu bytes",
                        name, path, off, want);
    } else if ((p = nncc_alloc(L->ctx, want)) != NULL) {
        if (fseek(f, (long)off, SEEK_SET) != 0 || fread(p, 1, want, f) != want) {
            nncc_error_file(L->ctx, "tensor '%s': cannot read external data '%s'", name, path);
            p = NULL;
        }
    }
    fclose(f);
    return p;
}

/* Fills tensor ti from a TensorProto (initializer, Constant value, attribute). */
static nncc_status load_tensor(loader *L, const Onnx__TensorProto *tp, int ti)
{
    nncc_graph *g = L->g;
    const char *name = tp->name ? tp->name : "?";
    nncc_dtype dt = (nncc_dtype)tp->data_type;
    size_t es = nncc_dtype_size(dt);
    if (tp->n_dims > NNCC_MAX_RANK) {
        nncc_error_file(L->ctx, "tensor '%s' has %zu dims; nncc supports up to %d", name, tp->n_dims, NNCC_MAX_RANK);
        return NNCC_ERR_INPUT;
    }
    if (es == 0) {
        nncc_error_file(L->ctx, "tensor '%s': unsupported: element type %s (%d)", name,
                        nncc_dtype_name(dt), (int)tp->data_type);
        return NNCC_ERR_INPUT;
    }
    int64_t count = checked_count(tp->dims, tp->n_dims);
    if (count < 0) {
        nncc_error_file(L->ctx, "tensor '%s' has a negative or absurdly large shape", name);
        return NNCC_ERR_INPUT;
    }
    nncc_shape s = { (int)tp->n_dims, { 0 } };
    for (size_t i = 0; i < tp->n_dims; i++)
        s.d[i] = tp->dims[i];
    size_t bytes = (size_t)count * es;
    nncc_tensor *t = &g->t[ti];
    t->dtype = dt;
    t->shape = s;
    t->has_shape = true;
    void *data = NULL;
    size_t have = 0; /* elements found in a typed field */
    const char *field = NULL;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        data = read_external(L, tp, bytes);
        if (!data)
            return NNCC_ERR_INPUT;
        t->data = data;
        return NNCC_OK;
    }
    if (tp->has_raw_data) {
        if (tp->raw_data.len != bytes) {
            nncc_error_file(L->ctx, "tensor '%s': shape %s of %s needs %zu bytes, raw_data has %zu",
                            name, nncc_shape_str(L->ctx, &s), nncc_dtype_name(dt), bytes, tp->raw_data.len);
            return NNCC_ERR_INPUT;
        }
        /* ONNX raw data is little-endian, as is every host nncc runs on */
        data = nncc_alloc(L->ctx, bytes);
        if (!data)
            return NNCC_ERR_NOMEM;
        if (bytes)
            memcpy(data, tp->raw_data.data, bytes);
        t->data = data;
        return NNCC_OK;
    }
    data = nncc_alloc(L->ctx, bytes);
    if (!data)
        return NNCC_ERR_NOMEM;
    switch (dt) {
    case NNCC_DT_F32:
        have = tp->n_float_data, field = "float_data";
        if (have == (size_t)count && bytes)
            memcpy(data, tp->float_data, bytes);
        break;
    case NNCC_DT_I64:
        have = tp->n_int64_data, field = "int64_data";
        if (have == (size_t)count && bytes)
            memcpy(data, tp->int64_data, bytes);
        break;
    case NNCC_DT_F64:
        have = tp->n_double_data, field = "double_data";
        if (have == (size_t)count && bytes)
            memcpy(data, tp->double_data, bytes);
        break;
    case NNCC_DT_U64: case NNCC_DT_U32:
        have = tp->n_uint64_data, field = "uint64_data";
        if (have == (size_t)count)
            for (size_t i = 0; i < have; i++) {
                if (dt == NNCC_DT_U64) ((uint64_t *)data)[i] = tp->uint64_data[i];
                else ((uint32_t *)data)[i] = (uint32_t)tp->uint64_data[i];
            }
        break;
    default: /* int32, int16, int8, uint16, uint8, bool live in int32_data */
        have = tp->n_int32_data, field = "int32_data";
        if (have == (size_t)count)
            for (size_t i = 0; i < have; i++) {
                int32_t v = tp->int32_data[i];
                switch (es) {
                case 1: ((uint8_t *)data)[i] = (uint8_t)v; break;
                case 2: ((uint16_t *)data)[i] = (uint16_t)v; break;
                default: ((int32_t *)data)[i] = v; break;
                }
            }
        break;
    }
    if (have != (size_t)count) {
        nncc_error_file(L->ctx, "tensor '%s': shape %s has %lld elements, %s has %zu",
                        name, nncc_shape_str(L->ctx, &s), (long long)count, field, have);
        return NNCC_ERR_INPUT;
    }
    t->data = data;
    return NNCC_OK;
}

static nncc_status load_attr(loader *L, nncc_node *n, const Onnx__AttributeProto *ap, nncc_attr *a)
{
    nncc_graph *g = L->g;
    a->name = nncc_strdup(L->ctx, ap->name ? ap->name : "");
    a->type = (nncc_attr_type)ap->type;
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a->f = ap->f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a->i = ap->i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->s = nncc_strndup(L->ctx, (const char *)ap->s.data, ap->s.len);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->n = (int)ap->n_ints;
        a->ints = nncc_alloc_array(L->ctx, ap->n_ints + 1, sizeof(int64_t));
        if (!a->ints)
            return NNCC_ERR_NOMEM;
        if (ap->n_ints)
            memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->n = (int)ap->n_floats;
        a->floats = nncc_alloc_array(L->ctx, ap->n_floats + 1, sizeof(float));
        if (!a->floats)
            return NNCC_ERR_NOMEM;
        if (ap->n_floats)
            memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        if (!ap->t) {
            nncc_error(g, n, "attribute '%s' has no tensor", a->name);
            return NNCC_ERR_INPUT;
        }
        int ti = nncc_tensor_new_unique(g, nncc_fmt(L->ctx, "%s.%s", n->name, a->name));
        if (ti < 0)
            return NNCC_ERR_NOMEM;
        a->tensor = ti;
        return load_tensor(L, ap->t, ti);
    }
    default:
        a->type = NNCC_ATTR_OTHER;
        break;
    }
    return NNCC_OK;
}

/* Declared dtype and shape of a graph input or output. */
static nncc_status load_value_info(loader *L, const Onnx__ValueInfoProto *vi, int ti, bool input)
{
    nncc_tensor *t = &L->g->t[ti];
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        nncc_error_file(L->ctx, "unsupported: graph %s '%s' is not a tensor (sequences, maps and optionals need run-time allocation)",
                        input ? "input" : "output", t->name);
        return NNCC_ERR_INPUT;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!input)
        return NNCC_OK; /* outputs: inference decides, the declaration is only a hint */
    t->dtype = (nncc_dtype)(tt->has_elem_type ? tt->elem_type : 0);
    if (nncc_dtype_size(t->dtype) == 0) {
        nncc_error_file(L->ctx, "unsupported: graph input '%s' has element type %s", t->name,
                        nncc_dtype_name(t->dtype));
        return NNCC_ERR_INPUT;
    }
    if (!tt->shape) {
        nncc_error_file(L->ctx, "graph input '%s' has no shape; give one with --shape %s=...", t->name, t->name);
        return NNCC_ERR_INPUT;
    }
    if (tt->shape->n_dim > NNCC_MAX_RANK) {
        nncc_error_file(L->ctx, "graph input '%s' has %zu dims; nncc supports up to %d", t->name,
                        tt->shape->n_dim, NNCC_MAX_RANK);
        return NNCC_ERR_INPUT;
    }
    t->shape.rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0) {
            t->shape.d[i] = d->dim_value;
        } else {
            t->shape.d[i] = -1; /* symbolic: fixed by --shape or taken as the batch */
            t->sym[i] = nncc_strdup(L->ctx, d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                                                    d->dim_param ? d->dim_param : "?");
        }
    }
    /* the fixed dims alone must make a tensor nncc can hold (symbolic ones are 1 here) */
    int64_t fixed[NNCC_MAX_RANK];
    for (int i = 0; i < t->shape.rank; i++)
        fixed[i] = t->shape.d[i] < 0 ? 1 : t->shape.d[i];
    if (checked_count(fixed, (size_t)t->shape.rank) < 0) {
        nncc_error_file(L->ctx, "graph input '%s' has an absurdly large shape", t->name);
        return NNCC_ERR_INPUT;
    }
    t->has_shape = true;
    return NNCC_OK;
}

static nncc_status load_graph(loader *L, const Onnx__ModelProto *m)
{
    nncc_graph *g = L->g;
    const Onnx__GraphProto *gp = m->graph;
    nncc_status st = NNCC_OK;
    g->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *dom = m->opset_import[i]->domain;
        if (!dom || !*dom || !strcmp(dom, "ai.onnx"))
            g->opset = m->opset_import[i]->version;
    }
    /* a model of other domains only (ai.onnx.ml, training) needs no default
     * opset: its nodes are reported as unsupported operators below */
    bool default_nodes = m->n_opset_import == 0;
    for (size_t i = 0; i < gp->n_node; i++)
        default_nodes |= !gp->node[i]->domain || !*gp->node[i]->domain || !strcmp(gp->node[i]->domain, "ai.onnx");
    if (g->opset < 0 && default_nodes) {
        nncc_error_file(L->ctx, "the model imports no version of the default ONNX opset");
        return NNCC_ERR_INPUT;
    }
    if (gp->name && *gp->name)
        g->name = nncc_strdup(L->ctx, gp->name);
    if (gp->n_sparse_initializer) {
        nncc_error_file(L->ctx, "unsupported: sparse initializers");
        return NNCC_ERR_INPUT;
    }
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        int ti = nncc_tensor_add(g, tp->name ? tp->name : "");
        if (ti < 0)
            return NNCC_ERR_NOMEM;
        if (load_tensor(L, tp, ti) != NNCC_OK)
            st = NNCC_ERR_INPUT;
    }
    g->inputs = nncc_alloc_array(L->ctx, gp->n_input + 1, sizeof(int));
    g->outputs = nncc_alloc_array(L->ctx, gp->n_output + 1, sizeof(int));
    if (!g->inputs || !g->outputs)
        return NNCC_ERR_NOMEM;
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name ? gp->input[i]->name : "";
        int ti = nncc_tensor_add(g, name);
        if (ti < 0)
            return NNCC_ERR_NOMEM;
        if (g->t[ti].data)
            continue; /* an initializer listed as input (older exporters): a constant */
        g->t[ti].is_input = true;
        g->inputs[g->n_inputs++] = ti;
        if (load_value_info(L, gp->input[i], ti, true) != NNCC_OK)
            st = NNCC_ERR_INPUT;
    }
    /* nodes: all unknown ops are reported, then loading stops */
    int unknown = 0;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        const char *type = np->op_type ? np->op_type : "";
        const char *dom = np->domain ? np->domain : "";
        int op = (!*dom || !strcmp(dom, "ai.onnx")) ? nncc_op_lookup(type) : -1;
        if (op < 0) {
            const char *hint = *dom && strcmp(dom, "ai.onnx") ? NULL : nncc_op_suggest(type);
            int64_t version = g->opset; /* of the node's domain */
            for (size_t k = 0; k < m->n_opset_import && *dom && strcmp(dom, "ai.onnx"); k++)
                if (m->opset_import[k]->domain && !strcmp(m->opset_import[k]->domain, dom))
                    version = m->opset_import[k]->version;
            nncc_error_file(L->ctx, "node '%s': unsupported: operator %s%s%s (opset %lld)%s",
                            np->name && *np->name ? np->name : nncc_fmt(L->ctx, "#%zu", i),
                            *dom ? dom : "", *dom ? "." : "", type, (long long)version,
                            hint && strcmp(hint, type) ? nncc_fmt(L->ctx, " (did you mean '%s'?)", hint) : "");
            unknown++;
            continue;
        }
        if (unknown)
            continue;
        nncc_node *n = nncc_node_add(g, op, np->name, (int)np->n_input, (int)np->n_output);
        if (!n)
            return NNCC_ERR_NOMEM;
        for (size_t k = 0; k < np->n_input; k++) {
            if (!np->input[k] || !*np->input[k])
                continue; /* "" marks an optional input left out */
            int ti = nncc_tensor_find(g, np->input[k]);
            if (ti < 0) {
                /* produced by a later node (the file is out of order) or by nobody */
                ti = nncc_tensor_add(g, np->input[k]);
                if (ti < 0)
                    return NNCC_ERR_NOMEM;
            }
            n->in[k] = ti;
        }
        for (size_t k = 0; k < np->n_output; k++) {
            if (!np->output[k] || !*np->output[k]) {
                n->out[k] = -1;
                continue;
            }
            int ti = nncc_tensor_add(g, np->output[k]);
            if (ti < 0)
                return NNCC_ERR_NOMEM;
            n->out[k] = ti;
        }
        n->n_attr = (int)np->n_attribute;
        n->attr = nncc_alloc_array(L->ctx, np->n_attribute + 1, sizeof(nncc_attr));
        if (!n->attr)
            return NNCC_ERR_NOMEM;
        for (size_t k = 0; k < np->n_attribute; k++)
            if (load_attr(L, n, np->attribute[k], &n->attr[k]) != NNCC_OK)
                st = NNCC_ERR_INPUT;
    }
    if (unknown) {
        nncc_error_file(L->ctx, "%d node%s use operators nncc does not support (see above)", unknown,
                        unknown == 1 ? "" : "s");
        return NNCC_ERR_INPUT;
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        int ti = nncc_tensor_find(g, gp->output[i]->name ? gp->output[i]->name : "");
        if (ti < 0) {
            nncc_error_file(L->ctx, "graph output '%s' is not computed by any node", gp->output[i]->name);
            return NNCC_ERR_INPUT;
        }
        if (load_value_info(L, gp->output[i], ti, false) != NNCC_OK)
            st = NNCC_ERR_INPUT;
        g->t[ti].is_output = true;
        g->outputs[g->n_outputs++] = ti;
    }
    if (st != NNCC_OK)
        return st;
    /* every tensor read must be a graph input, a constant or some node's output */
    bool *made = nncc_alloc_array(L->ctx, (size_t)g->n_t + 1, sizeof(bool));
    if (!made)
        return NNCC_ERR_NOMEM;
    for (int i = 0; i < g->n_n; i++)
        for (int k = 0; k < g->n[i].n_out; k++)
            if (g->n[i].out[k] >= 0)
                made[g->n[i].out[k]] = true;
    for (int i = 0; i < g->n_n; i++) {
        for (int k = 0; k < g->n[i].n_in; k++) {
            int ti = g->n[i].in[k];
            if (ti >= 0 && !made[ti] && !g->t[ti].is_input && !g->t[ti].data) {
                nncc_error(g, &g->n[i], "input '%s' is not a graph input, an initializer or any node's output",
                           g->t[ti].name);
                st = NNCC_ERR_INPUT;
            }
        }
    }
    return st;
}

nncc_status nncc_load_onnx(nncc_ctx *ctx, const char *path, nncc_graph **out)
{
    size_t len = 0;
    unsigned char *buf = read_file(ctx, path, &len);
    if (!buf)
        return NNCC_ERR_IO;
    if (len == 0) {
        nncc_error_file(ctx, "the file is empty");
        free(buf);
        return NNCC_ERR_INPUT;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!m) {
        nncc_error_file(ctx, "not a valid ONNX model (the protobuf cannot be parsed: truncated or not ONNX)");
        return NNCC_ERR_INPUT;
    }
    if (!m->graph) {
        nncc_error_file(ctx, "not a valid ONNX model (it has no graph)");
        onnx__model_proto__free_unpacked(m, NULL);
        return NNCC_ERR_INPUT;
    }
    loader L = { ctx, nncc_graph_new(ctx), path, NULL };
    const char *slash = strrchr(path, '/');
    L.dir = slash ? nncc_strndup(ctx, path, (size_t)(slash - path + 1)) : nncc_strdup(ctx, "");
    nncc_status st = L.g && L.dir ? load_graph(&L, m) : NNCC_ERR_NOMEM;
    onnx__model_proto__free_unpacked(m, NULL);
    if (st == NNCC_OK && ctx->oom)
        st = NNCC_ERR_NOMEM;
    if (st == NNCC_OK)
        *out = L.g;
    return st;
}

/* A calibration input: one TensorProto of float32 or float64 (raw_data or
 * float_data/double_data), its sizes checked against the file before the
 * result is allocated. */
float *nncc_onnx_read_tensor_f32(nncc_ctx *ctx, const char *path, int64_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nncc_error_file(ctx, "--calibration: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_BYTES) {
        nncc_error_file(ctx, "--calibration: %s is not a regular file of at most 4 GiB", path);
        fclose(f);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf || fread(buf, 1, len, f) != len) {
        nncc_error_file(ctx, "--calibration: cannot read %s", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) {
        nncc_error_file(ctx, "--calibration: %s is not an ONNX TensorProto (damaged .pb?)", path);
        return NULL;
    }
    float *out = NULL;
    const nncc_dtype dt = (nncc_dtype)tp->data_type;
    const int64_t n = tp->n_dims <= NNCC_MAX_RANK ? checked_count(tp->dims, tp->n_dims) : -1;
    const size_t es = dt == NNCC_DT_F32 ? 4 : 8;
    if (dt != NNCC_DT_F32 && dt != NNCC_DT_F64) {
        nncc_error_file(ctx, "--calibration: %s holds a tensor of %s; want float32 or float64", path,
                        nncc_dtype_name(dt));
    } else if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        nncc_error_file(ctx, "--calibration: %s: external data is not supported in calibration inputs", path);
    } else if (n < 0) {
        nncc_error_file(ctx, "--calibration: %s: a negative or absurdly large shape", path);
    } else if (tp->has_raw_data && tp->raw_data.len != (size_t)n * es) {
        nncc_error_file(ctx, "--calibration: %s: its shape needs %zu bytes, raw_data has %zu", path, (size_t)n * es,
                        tp->raw_data.len);
    } else if (!tp->has_raw_data && (dt == NNCC_DT_F32 ? tp->n_float_data : tp->n_double_data) != (size_t)n) {
        nncc_error_file(ctx, "--calibration: %s: its shape needs %lld values, %s has %zu", path, (long long)n,
                        dt == NNCC_DT_F32 ? "float_data" : "double_data",
                        dt == NNCC_DT_F32 ? tp->n_float_data : tp->n_double_data);
    } else if ((out = malloc((size_t)n * sizeof(float) + 1)) == NULL) {
        nncc_error_file(ctx, "--calibration: %s: out of memory for %lld values", path, (long long)n);
    } else {
        for (int64_t i = 0; i < n; i++) {
            if (tp->has_raw_data) { /* little-endian, as every host nncc runs on */
                if (dt == NNCC_DT_F32) {
                    memcpy(&out[i], tp->raw_data.data + 4 * i, 4);
                } else {
                    double v;
                    memcpy(&v, tp->raw_data.data + 8 * i, 8);
                    out[i] = (float)v;
                }
            } else {
                out[i] = dt == NNCC_DT_F32 ? tp->float_data[i] : (float)tp->double_data[i];
            }
        }
        *count = n;
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return out;
}
