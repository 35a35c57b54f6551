/*
 * model_builder.c - see model_builder.h. Every allocation is recorded in the
 * builder and freed at once; the protobuf-c structs point into that memory.
 */
#include "model_builder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    void **blocks;
    size_t n_blocks, cap_blocks;
};

static void oom(void)
{
    fprintf(stderr, "model_builder: out of memory\n");
    abort();
}

void *mb_alloc(mb *m, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        oom();
    if (m->n_blocks == m->cap_blocks) {
        size_t cap = m->cap_blocks ? m->cap_blocks * 2 : 64;
        void **b = realloc(m->blocks, cap * sizeof *b);
        if (!b)
            oom();
        m->blocks = b;
        m->cap_blocks = cap;
    }
    m->blocks[m->n_blocks++] = p;
    return p;
}

char *mb_str(mb *m, const char *s)
{
    size_t n = strlen(s);
    char *p = mb_alloc(m, n + 1);
    memcpy(p, s, n);
    return p;
}

/* Appends to a protobuf-c repeated pointer field (grows by copying). */
static void push(mb *m, size_t *n, void ***arr, void *item)
{
    void **a = mb_alloc(m, (*n + 1) * sizeof *a);
    if (*n)
        memcpy(a, *arr, *n * sizeof *a);
    a[(*n)++] = item;
    *arr = a;
}
#define PUSH(m, count, field, item) push((m), &(count), (void ***)&(field), (item))

mb *mb_new(int64_t opset)
{
    mb *m = calloc(1, sizeof *m);
    if (!m)
        oom();
    Onnx__ModelProto mi = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT;
    m->model = mi;
    m->graph = gi;
    m->model.has_ir_version = 1;
    m->model.ir_version = 8;
    m->model.producer_name = mb_str(m, "nncc-unit-tests");
    m->model.graph = &m->graph;
    m->graph.name = mb_str(m, "test_graph");
    Onnx__OperatorSetIdProto *os = mb_alloc(m, sizeof *os);
    Onnx__OperatorSetIdProto osi = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    *os = osi;
    os->domain = mb_str(m, "");
    os->has_version = 1;
    os->version = opset;
    PUSH(m, m->model.n_opset_import, m->model.opset_import, os);
    return m;
}

void mb_free(mb *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_blocks; i++)
        free(m->blocks[i]);
    free(m->blocks);
    free(m);
}

Onnx__ModelProto *mb_model(mb *m) { return &m->model; }
Onnx__GraphProto *mb_graph(mb *m) { return &m->graph; }

static Onnx__ValueInfoProto *value_info(mb *m, const char *name)
{
    Onnx__ValueInfoProto *vi = mb_alloc(m, sizeof *vi);
    Onnx__ValueInfoProto vii = ONNX__VALUE_INFO_PROTO__INIT;
    *vi = vii;
    vi->name = mb_str(m, name);
    return vi;
}

void mb_input(mb *m, const char *name, int dtype, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = value_info(m, name);
    Onnx__TypeProto *tp = mb_alloc(m, sizeof *tp);
    Onnx__TypeProto tpi = ONNX__TYPE_PROTO__INIT;
    *tp = tpi;
    Onnx__TypeProto__Tensor *tt = mb_alloc(m, sizeof *tt);
    Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT;
    *tt = tti;
    Onnx__TensorShapeProto *sh = mb_alloc(m, sizeof *sh);
    Onnx__TensorShapeProto shi = ONNX__TENSOR_SHAPE_PROTO__INIT;
    *sh = shi;
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = mb_alloc(m, sizeof *d);
        Onnx__TensorShapeProto__Dimension di = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        *d = di;
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = mb_str(m, "N");
        }
        PUSH(m, sh->n_dim, sh->dim, d);
    }
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    PUSH(m, m->graph.n_input, m->graph.input, vi);
}

void mb_output(mb *m, const char *name)
{
    Onnx__ValueInfoProto *vi = value_info(m, name);
    Onnx__TypeProto *tp = mb_alloc(m, sizeof *tp);
    Onnx__TypeProto tpi = ONNX__TYPE_PROTO__INIT;
    *tp = tpi;
    Onnx__TypeProto__Tensor *tt = mb_alloc(m, sizeof *tt);
    Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT;
    *tt = tti;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    PUSH(m, m->graph.n_output, m->graph.output, vi);
}

Onnx__TensorProto *mb_tensor(mb *m, const char *name, int dtype, int rank, const int64_t *dims)
{
    Onnx__TensorProto *t = mb_alloc(m, sizeof *t);
    Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT;
    *t = ti;
    t->name = mb_str(m, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = mb_alloc(m, (size_t)(rank + 1) * sizeof(int64_t));
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof(int64_t));
    return t;
}

void mb_add_init(mb *m, Onnx__TensorProto *t)
{
    PUSH(m, m->graph.n_initializer, m->graph.initializer, t);
}

static size_t count_of(int rank, const int64_t *dims)
{
    size_t c = 1;
    for (int i = 0; i < rank; i++)
        c *= (size_t)dims[i];
    return c;
}

Onnx__TensorProto *mb_init_f32(mb *m, const char *name, int rank, const int64_t *dims, const float *data)
{
    Onnx__TensorProto *t = mb_tensor(m, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims);
    size_t bytes = count_of(rank, dims) * sizeof(float);
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = mb_alloc(m, bytes);
    memcpy(t->raw_data.data, data, bytes);
    mb_add_init(m, t);
    return t;
}

Onnx__TensorProto *mb_init_i64(mb *m, const char *name, int rank, const int64_t *dims, const int64_t *data)
{
    Onnx__TensorProto *t = mb_tensor(m, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, rank, dims);
    size_t n = count_of(rank, dims);
    t->n_int64_data = n;
    t->int64_data = mb_alloc(m, n * sizeof(int64_t));
    memcpy(t->int64_data, data, n * sizeof(int64_t));
    mb_add_init(m, t);
    return t;
}

/* Splits "a,b,,c" into names (empty ones kept: optional inputs left out). */
static void names(mb *m, const char *list, size_t *n, char ***out)
{
    *n = 0;
    *out = NULL;
    if (!list || !*list)
        return;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *s = mb_alloc(m, len + 1);
        memcpy(s, p, len);
        push(m, n, (void ***)out, s);
        if (!comma)
            break;
        p = comma + 1;
    }
}

Onnx__NodeProto *mb_node(mb *m, const char *op, const char *name, const char *inputs, const char *outputs)
{
    Onnx__NodeProto *n = mb_alloc(m, sizeof *n);
    Onnx__NodeProto ni = ONNX__NODE_PROTO__INIT;
    *n = ni;
    n->op_type = mb_str(m, op);
    if (name)
        n->name = mb_str(m, name);
    names(m, inputs, &n->n_input, &n->input);
    names(m, outputs, &n->n_output, &n->output);
    PUSH(m, m->graph.n_node, m->graph.node, n);
    return n;
}

static Onnx__AttributeProto *attr(mb *m, Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = mb_alloc(m, sizeof *a);
    Onnx__AttributeProto ai = ONNX__ATTRIBUTE_PROTO__INIT;
    *a = ai;
    a->name = mb_str(m, name);
    a->has_type = 1;
    a->type = type;
    PUSH(m, n->n_attribute, n->attribute, a);
    return a;
}

void mb_attr_int(mb *m, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void mb_attr_float(mb *m, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void mb_attr_str(mb *m, Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)mb_str(m, v);
}

void mb_attr_ints(mb *m, Onnx__NodeProto *n, const char *name, int count, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = mb_alloc(m, (size_t)(count + 1) * sizeof(int64_t));
    if (count)
        memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
}

void mb_attr_floats(mb *m, Onnx__NodeProto *n, const char *name, int count, const float *v)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)count;
    a->floats = mb_alloc(m, (size_t)(count + 1) * sizeof(float));
    if (count)
        memcpy(a->floats, v, (size_t)count * sizeof(float));
}

void mb_attr_tensor(mb *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

unsigned char *mb_pack(mb *m, size_t *len)
{
    size_t n = onnx__model_proto__get_packed_size(&m->model);
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf)
        oom();
    *len = onnx__model_proto__pack(&m->model, buf);
    return buf;
}

int mb_write(mb *m, const char *path)
{
    size_t len;
    unsigned char *buf = mb_pack(m, &len);
    int rc = ut_write_file(path, buf, len);
    free(buf);
    return rc;
}

/* ---- test helpers ---- */

const char *ut_dir(const char *test)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/unit_tmp", UNIT_TMP_ROOT);
    mkdir(buf, 0777);
    snprintf(buf, sizeof buf, "%s/unit_tmp/%s", UNIT_TMP_ROOT, test);
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", buf, strerror(errno));
        abort();
    }
    return buf;
}

void ut_path(char *buf, size_t size, const char *test, const char *file)
{
    snprintf(buf, size, "%s/%s", ut_dir(test), file);
}

int ut_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int rc = fclose(f);
    return w == len && rc == 0 ? 0 : -1;
}

char *ut_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        oom();
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (!b)
                oom();
            buf = b;
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

char *ut_slurp(FILE *f)
{
    fflush(f);
    long end = ftell(f);
    if (end < 0)
        end = 0;
    char *buf = malloc((size_t)end + 1);
    if (!buf)
        oom();
    rewind(f);
    size_t n = fread(buf, 1, (size_t)end, f);
    buf[n] = 0;
    fseek(f, 0, SEEK_END);
    return buf;
}
