/*
 * model_builder.h - builds small ONNX models in C for the unit tests, with
 * the protobuf-c structs generated from onnx.proto, and writes them to files
 * under the build tree. Also small helpers the tests share: temp paths,
 * loading a model into a context, capturing diagnostics.
 *
 * Not a general ONNX writer: every model is one graph in the default domain.
 * All memory hangs off the builder and goes with mb_free().
 */
#ifndef MODEL_BUILDER_H
#define MODEL_BUILDER_H

#include "onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mb mb;

/* A model importing `opset` of the default domain. */
mb *mb_new(int64_t opset);
void mb_free(mb *m);
Onnx__ModelProto *mb_model(mb *m);
Onnx__GraphProto *mb_graph(mb *m);

/* Memory owned by the builder (zeroed). */
void *mb_alloc(mb *m, size_t size);
char *mb_str(mb *m, const char *s);

/* Graph input of element type `dtype` (ONNX enum); a dim < 0 is symbolic "N". */
void mb_input(mb *m, const char *name, int dtype, int rank, const int64_t *dims);
void mb_output(mb *m, const char *name);

/* An initializer with name and shape but no data: the caller fills a field. */
Onnx__TensorProto *mb_tensor(mb *m, const char *name, int dtype, int rank, const int64_t *dims);
/* Adds a tensor to the graph's initializers. */
void mb_add_init(mb *m, Onnx__TensorProto *t);
/* Initializers with data: float32 in raw_data, int64 in int64_data. */
Onnx__TensorProto *mb_init_f32(mb *m, const char *name, int rank, const int64_t *dims, const float *data);
Onnx__TensorProto *mb_init_i64(mb *m, const char *name, int rank, const int64_t *dims, const int64_t *data);

/* A node; inputs and outputs are comma-separated names ("x,,b": input 1 left out). */
Onnx__NodeProto *mb_node(mb *m, const char *op, const char *name, const char *inputs, const char *outputs);
void mb_attr_int(mb *m, Onnx__NodeProto *n, const char *name, int64_t v);
void mb_attr_float(mb *m, Onnx__NodeProto *n, const char *name, float v);
void mb_attr_str(mb *m, Onnx__NodeProto *n, const char *name, const char *v);
void mb_attr_ints(mb *m, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void mb_attr_floats(mb *m, Onnx__NodeProto *n, const char *name, int count, const float *v);
void mb_attr_tensor(mb *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t);

/* Serialises the model to `path`; 0 on success. */
int mb_write(mb *m, const char *path);
/* Serialised bytes (malloc'd; caller frees). */
unsigned char *mb_pack(mb *m, size_t *len);

/* A fresh directory under the build tree for one test file ("unit_tmp/<name>"),
 * and a path inside it. Returned strings are static per call site: copy them. */
const char *ut_dir(const char *test);
void ut_path(char *buf, size_t size, const char *test, const char *file);
int ut_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if missing. */
char *ut_read_file(const char *path, size_t *len);
/* Everything written to a tmpfile() so far, as a malloc'd string. */
char *ut_slurp(FILE *f);

#endif
