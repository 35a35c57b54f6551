/*
 * nncc-impl.h - the one internal header of libnncc, sectioned by file.
 *
 * The IR is plain structs in arrays: tensors and nodes refer to each other by
 * index, never by pointer, so arrays can grow and the graph can be copied.
 * Everything is allocated from the context's arena and freed with it.
 */
#ifndef NNCC_IMPL_H
#define NNCC_IMPL_H

#include "nncc.h"
#include "nncc_runtime.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NNCC_MAX_RANK 8              /* = NNCC_RT_MAX_RANK */
#define NNCC_MAX_ELEMS (1LL << 34)   /* largest tensor we accept (elements) */

/* Internal bugs only, never user input: prints the compiler source location. */
#define NNCC_ASSERT(c)                                                          \
    do {                                                                        \
        if (!(c))                                                               \
            nncc_die(__FILE__, __LINE__, #c);                                   \
    } while (0)
_Noreturn void nncc_die(const char *file, int line, const char *what);

/* ------------------------------------------------------------------------ */
/* ir/ctx.c: the context, its arena and diagnostics                          */
/* ------------------------------------------------------------------------ */
typedef struct nncc_chunk nncc_chunk;

struct nncc_ctx {
    nncc_options opt;          /* copy of the caller's options */
    nncc_chunk *chunks;        /* arena: every IR object lives here */
    long n_allocs;             /* allocations so far (for fail_alloc_after) */
    bool oom;                  /* an allocation failed */
    int n_errors;              /* errors reported */
    const char *file;          /* input file name, for messages */
};

void *nncc_alloc(nncc_ctx *ctx, size_t size);          /* zeroed; NULL on failure */
void *nncc_alloc_array(nncc_ctx *ctx, size_t n, size_t size); /* checks n*size overflow */
char *nncc_strdup(nncc_ctx *ctx, const char *s);
char *nncc_strndup(nncc_ctx *ctx, const char *s, size_t n);
char *nncc_fmt(nncc_ctx *ctx, const char *fmt, ...);   /* printf into the arena */

/* ------------------------------------------------------------------------ */
/* ir/ir.c: graph, tensors, nodes                                            */
/* ------------------------------------------------------------------------ */
typedef enum {
    NNCC_DT_UNDEF = 0, NNCC_DT_F32 = 1, NNCC_DT_U8 = 2, NNCC_DT_I8 = 3,
    NNCC_DT_U16 = 4, NNCC_DT_I16 = 5, NNCC_DT_I32 = 6, NNCC_DT_I64 = 7,
    NNCC_DT_STRING = 8, NNCC_DT_BOOL = 9, NNCC_DT_F16 = 10, NNCC_DT_F64 = 11,
    NNCC_DT_U32 = 12, NNCC_DT_U64 = 13
} nncc_dtype;                  /* values equal ONNX TensorProto.DataType */

size_t nncc_dtype_size(nncc_dtype t);        /* bytes per element; 0: unsupported */
const char *nncc_dtype_name(nncc_dtype t);   /* "float32", "int64", ... */
const char *nncc_dtype_c(nncc_dtype t);      /* C type: "float", "int64_t", ... */
nncc_dtype nncc_dtype_from_name(const char *s);
/* Types of the runtime's typed kernels (NNCC_RT_FLOAT_TYPES, NNCC_RT_INT_TYPES). */
bool nncc_dtype_is_float(nncc_dtype t);      /* float32, float64 */
bool nncc_dtype_is_int(nncc_dtype t);        /* int8..int64, uint8..uint64 (not bool) */

typedef struct {
    int rank;                      /* number of dims; 0 for a scalar */
    int64_t d[NNCC_MAX_RANK];      /* sizes, row-major */
} nncc_shape;

int64_t nncc_shape_count(const nncc_shape *s);            /* product of dims */
bool nncc_shape_eq(const nncc_shape *a, const nncc_shape *b);
const char *nncc_shape_str(nncc_ctx *ctx, const nncc_shape *s); /* "1x3x32x32" */

/* Quantisation of a tensor: real value = (q - zp[j]) * scale[j], j the index
 * along `axis` (per channel) or 0 (per tensor). Set on int8/uint8/int32
 * tensors, and on a float constant that is an exact dequantisation (the
 * folded DequantizeLinear of a QDQ weight), so that the int8 pass gets the
 * original integers back. */
typedef struct nncc_quant {
    int axis;                  /* -1: one scale for the whole tensor */
    int n;                     /* number of scales and zero points */
    float *scale;              /* n scales */
    int32_t *zp;               /* n zero points */
} nncc_quant;

typedef struct {
    const char *name;          /* tensor name in the model, unique in the graph */
    nncc_dtype dtype;          /* element type */
    nncc_shape shape;          /* valid when has_shape */
    bool has_shape;            /* set by the frontend (inputs, constants) or inference */
    void *data;                /* constant contents, row-major; NULL: computed at run time */
    int producer;              /* index of the node writing it; -1: input or constant */
    bool is_input, is_output;  /* graph interface */
    const char *sym[NNCC_MAX_RANK]; /* graph inputs: symbolic dim names as written (or NULL) */
    int batch_dim;             /* graph inputs/outputs: dim that carries the run-time batch, -1 none */
    /* memory planning (passes/memplan.c) */
    int64_t offset;            /* byte offset in the arena; -1 if not in the arena */
    int alias_of;              /* tensor whose storage this one shares (a view, an
                                  in-place output, a Concat input written into its
                                  slice of the output), -1 none */
    int64_t alias_offset;      /* bytes from alias_of's start to this one's (a
                                  Concat slice; 0 for views and in-place) */
    int live_first, live_last; /* arena roots: first and last step (node index) the
                                  storage is live, inclusive; -1 if not in the arena */
    nncc_quant *quant;         /* quantisation (see nncc_quant); NULL: none */
} nncc_tensor;

typedef enum {
    NNCC_ATTR_FLOAT = 1, NNCC_ATTR_INT = 2, NNCC_ATTR_STRING = 3, NNCC_ATTR_TENSOR = 4,
    NNCC_ATTR_GRAPH = 5, NNCC_ATTR_FLOATS = 6, NNCC_ATTR_INTS = 7, NNCC_ATTR_STRINGS = 8,
    NNCC_ATTR_OTHER = 99
} nncc_attr_type;              /* values equal ONNX AttributeProto.AttributeType */

typedef struct {
    const char *name;          /* attribute name as in ONNX */
    nncc_attr_type type;
    int64_t i;                 /* INT */
    float f;                   /* FLOAT */
    const char *s;             /* STRING */
    int64_t *ints;             /* INTS (n of them) */
    float *floats;             /* FLOATS (n of them) */
    int n;                     /* element count of INTS/FLOATS */
    int tensor;                /* TENSOR: index of a constant tensor in the graph */
    bool used;                 /* consumed by the op's parser; unused ones are errors */
} nncc_attr;

/* One step of a fused elementwise loop (op FusedElementwise, made by
 * passes/eltwise.c): v = unary(v), or v = v OP operand. */
enum {
    NNCC_EW_SAME = 0,          /* operand element i (the chain's shape) */
    NNCC_EW_SCALAR,            /* operand element 0 */
    NNCC_EW_CHANNEL,           /* operand element (i / inner) % channels */
    NNCC_EW_SELF               /* v itself (x * x) */
};

typedef struct {
    bool binary;               /* false: v = nncc_unary1_f32(code, alpha, beta, v);
                                  true: v = nncc_binary1_f32(code, v, operand) */
    bool swap;                 /* binary: operand OP v instead */
    int code;                  /* nncc_unary_op or nncc_binary_op */
    float alpha, beta;         /* unary parameters */
    int operand;               /* binary: index of the node input it reads (0: the chain's input) */
    int bcast;                 /* binary: NNCC_EW_* */
    const char *from;          /* "'relu1' (Relu)": the model node it comes from, for comments */
    int src_op;                /* the op it computes (nncc_op_id), for --print-graph */
} nncc_ew_step;

typedef struct nncc_ew_chain {
    nncc_ew_step *step;        /* in order */
    int n;
    int64_t channels, inner;   /* NNCC_EW_CHANNEL operands have `channels` values, each
                                  for runs of `inner` elements; 0: none */
} nncc_ew_chain;

typedef struct {
    const char *name;          /* node name from the model, or "#17:Relu" */
    int op;                    /* nncc_op_id */
    int opset;                 /* opset version of its domain in the model */
    int n_in, n_out;
    int *in;                   /* tensor indices; -1: optional input left out */
    int *out;                  /* tensor indices */
    int n_attr;
    nncc_attr *attr;
    /* set by fusion passes: work merged into this node's kernel */
    nncc_act_params act;       /* activation applied in the epilogue */
    int fused_add;             /* tensor added before the activation (residual), -1 none */
    nncc_pool2d_params *fused_pool; /* Conv: a 2-D pool of its output run in the same kernel
                                  (nncc_conv2d_implicit_pool_f32); the node's output is the
                                  pool's. NULL none */
    const char *fused_from;    /* names of the nodes merged into this one, for comments */
    nncc_ew_chain *ew;         /* FusedElementwise only: its steps (passes/eltwise.c) */
    int64_t scratch_offset;    /* arena bytes of the kernel's scratch memory (memplan), -1 none */
    bool dead;                 /* removed; dropped by nncc_graph_compact */
    int line, col;             /* text format source position (0: none) */
} nncc_node;

typedef struct nncc_graph {
    nncc_ctx *ctx;
    const char *name;          /* graph name from the model */
    const char *source;        /* the model file it was first read from, when a text
                                  file says so (`source "net.onnx"`); NULL: this file */
    nncc_tensor *t;            /* tensors */
    int n_t, cap_t;
    nncc_node *n;              /* nodes, in topological order */
    int n_n, cap_n;
    int *inputs, n_inputs;     /* graph inputs (tensor indices), excluding initializers */
    int *outputs, n_outputs;   /* graph outputs */
    int64_t opset;             /* default-domain opset */
    int64_t arena_size;        /* bytes, after planning */
    int64_t canary_guard;      /* --canary: guard bytes before each tensor (and at least
                                  that many after it); 0 without --canary */
    int batch_symbolic;        /* 1: generated code takes the batch size as an argument */
    int *hash, hash_cap;       /* tensor name -> index (open addressing, -1 empty) */
    int n_synth;               /* synthesised node names so far ("#17:Relu") */
} nncc_graph;

nncc_graph *nncc_graph_new(nncc_ctx *ctx);
/* Adds a tensor (or returns the existing one of that name). -1 on OOM. */
int nncc_tensor_add(nncc_graph *g, const char *name);
int nncc_tensor_find(const nncc_graph *g, const char *name);  /* -1 if absent */
/* A new tensor with a unique name derived from `base`. */
int nncc_tensor_new_unique(nncc_graph *g, const char *base);
/* Adds a node with room for n_in inputs and n_out outputs. NULL on OOM. */
nncc_node *nncc_node_add(nncc_graph *g, int op, const char *name, int n_in, int n_out);
/* Drops dead nodes, recomputes producers; keeps order. */
void nncc_graph_compact(nncc_graph *g);
/* Orders nodes topologically; reports a cycle as an error. */
nncc_status nncc_graph_toposort(nncc_graph *g);
/* The single live node reading tensor t (once), or NULL: none, several, or
 * t is a graph output. Fusion rewrites need this. */
nncc_node *nncc_sole_reader(nncc_graph *g, int t);
/* The tensor whose storage t lies in (following alias_of to the end; t
 * itself if none) and, in *offset, t's first byte's distance from its start. */
int nncc_tensor_storage(const nncc_graph *g, int t, int64_t *offset);
/* Nodes that are kernel calls in the generated code: all but the views
 * that share their input's storage (after memory planning). */
int nncc_kernel_calls(const nncc_graph *g);
/* Number of nodes reading tensor `ti` (outputs count as one more use). */
int nncc_tensor_uses(const nncc_graph *g, int ti);
/* Sets a tensor to constant data (copied into the arena). */
nncc_status nncc_tensor_set_data(nncc_graph *g, int ti, nncc_dtype dt,
                                 const nncc_shape *s, const void *data);
nncc_attr *nncc_attr_find(nncc_node *n, const char *name);
/* Every reader of tensor `from` (inputs and fused_add) reads `to` instead. */
void nncc_replace_uses(nncc_graph *g, int from, int to);
/* Gives node n room for n_in inputs (new ones -1: absent), or drops the last ones. */
nncc_status nncc_node_resize_inputs(nncc_graph *g, nncc_node *n, int n_in);
/* Sets (or adds) an INTS attribute to a copy of v[0..count), for passes
 * that rewrite a node (pads of a Conv that absorbs a Pad, a composed perm). */
nncc_status nncc_attr_set_ints(nncc_graph *g, nncc_node *n, const char *name, const int64_t *v, int count);
nncc_status nncc_attr_set_int(nncc_graph *g, nncc_node *n, const char *name, int64_t v);
/* Appends node `from`, merged into `into`, to into->fused_from, after what
 * `from` had merged in before (its producers, in a chain of them):
 * "'bn1' (BatchNormalization) + 'relu1' (Relu)". */
void nncc_note_fused(nncc_graph *g, nncc_node *into, const nncc_node *from);

/* ------------------------------------------------------------------------ */
/* ir/diag.c: errors that point at the input                                 */
/* ------------------------------------------------------------------------ */
/* "model.onnx: node 'conv1' (Conv): error: ..."; node may be NULL. */
void nncc_error(nncc_graph *g, const nncc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nncc_warn(nncc_graph *g, const nncc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "model.onnx: error: ..." for errors that belong to no node. */
void nncc_error_file(nncc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nncc_errorv(nncc_ctx *ctx, const char *kind, nncc_graph *g, const nncc_node *n,
                 const char *fmt, va_list ap);
/* "net.nng:12:7: error: ..." (text format), for errors before there is a node. */
void nncc_error_at(nncc_ctx *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void nncc_error_atv(nncc_ctx *ctx, int line, int col, const char *fmt, va_list ap);

/* ------------------------------------------------------------------------ */
/* ir/print.c and ir/verify.c                                                */
/* ------------------------------------------------------------------------ */
void nncc_graph_print(const nncc_graph *g, FILE *f);
/* Internal consistency (indices in range, topological order, shapes set). */
nncc_status nncc_graph_verify(nncc_graph *g, const char *after_pass);

/* ------------------------------------------------------------------------ */
/* ops/: the registry                                                        */
/* ------------------------------------------------------------------------ */
typedef enum {
#define NNCC_OP(id) NNCC_OP_##id,
#include "ops/ops.def"
#undef NNCC_OP
    NNCC_OP_COUNT
} nncc_op_id;

typedef struct nncc_emit nncc_emit;

enum {
    NNCC_OPF_VIEW = 1,       /* output 0 is input 0's bytes with a new shape (no kernel) */
    NNCC_OPF_SHAPE_ONLY = 2, /* output depends only on input shapes (Shape, Size): always folded */
    NNCC_OPF_INPLACE = 4,    /* output 0 may share input 0's storage (elementwise) */
    NNCC_OPF_NOKERNEL = 8    /* never emitted (Constant) */
};

typedef struct nncc_op {
    const char *name;        /* ONNX op_type */
    unsigned flags;          /* NNCC_OPF_* */
    /* Parses attributes, checks inputs, sets output dtypes and shapes. May
     * require some inputs to be constant (e.g. Reshape's shape). */
    nncc_status (*infer)(nncc_graph *g, nncc_node *n);
    /* Computes outputs from inputs on the host (folding, nncc run).
     * in[i] is NULL for absent optional inputs. */
    nncc_status (*eval)(nncc_graph *g, nncc_node *n, const void **in, void **out);
    /* Writes the kernel call(s) for the node into the generated C. */
    void (*emit_c)(nncc_emit *e, nncc_graph *g, nncc_node *n);
    /* Multiply-accumulates per inference, for --report (NULL: negligible). */
    int64_t (*macs)(nncc_graph *g, nncc_node *n);
    /* Output 0 is the inputs side by side (Concat): the byte offset where
     * input i's bytes lie, one contiguous run, in output 0; -1 where they do
     * not (NULL: never). memplan lets the producer write there. */
    int64_t (*in_slice)(nncc_graph *g, nncc_node *n, int i);
    /* Bytes of scratch memory the emitted kernel needs while it runs (NULL
     * or 0: none). memplan gives it arena space live for this node only, at
     * n->scratch_offset. */
    int64_t (*scratch)(nncc_graph *g, nncc_node *n);
} nncc_op;

extern const nncc_op *const nncc_ops[NNCC_OP_COUNT];
int nncc_op_lookup(const char *name);         /* -1 if unknown */
const char *nncc_op_suggest(const char *name); /* closest known name, for typos */

/* ops/conv.c: output size of a sliding window (Conv, pooling) along one dim;
 * resolves auto_pad into the begin/end pads. Returns -1 if the window does not fit. */
int64_t nncc_window_out(const char *auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                        int64_t *pb, int64_t *pe, int ceil_mode);

/* ops/conv.c: the (N, M, [OH,] OW) output of a 1-D/2-D (transposed) convolution. */
nncc_shape nncc_conv_out_shape(const nncc_shape *x, const nncc_conv2d_params *p);
/* ops/conv.c: writes a static nncc_conv2d_params (Conv, ConvTranspose); returns its name. */
const char *nncc_emit_conv2d_params(nncc_emit *e, const nncc_conv2d_params *p);

/* ops/conv.c, ops/pool.c: the runtime parameters of a Conv / MaxPool node
 * (for the int8 ops, which take the same attributes). */
nncc_status nncc_conv_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p);
/* --conv-algo (nncc_conv_algo_name_ok in nncc.h): after the passes, errors for requests that name no Conv node or do not fit their
 * node, and with --report one line per Conv naming the algorithm it gets. */
nncc_status nncc_conv_check_algos(nncc_graph *g);
nncc_status nncc_pool_params(nncc_graph *g, nncc_node *n, nncc_pool2d_params *p);
/* The nncc_pool2d_params struct p in the generated code; returns its name. */
const char *nncc_emit_pool2d_params(nncc_emit *e, const nncc_pool2d_params *p);
/* Whether Conv n (activation fused, no residual) and the pool that reads
 * its output can run as one kernel (passes/fuse.c): the implicit GEMM is
 * its kernel, one group, and q a pool the fast kernel runs. */
bool nncc_conv_pool_fusable(nncc_graph *g, nncc_node *n, const nncc_pool2d_params *q);

/* ops/data.c: Transpose's permutation (its perm, or the dims reversed),
 * normalised to [0, rank); an error if it is not a permutation. */
nncc_status nncc_transpose_perm(nncc_graph *g, nncc_node *n, int64_t *perm);
/* ops/data.c: a Pad node's mode (nncc_pad_mode), its pads per axis of the
 * input (before[i], after[i]; negative ones crop) and, for float32 with a
 * compile-time value (*value_known), the constant it pads with. */
nncc_status nncc_pad_spec(nncc_graph *g, nncc_node *n, int *mode, int64_t *before, int64_t *after,
                          bool *value_known, float *value);

/* ops/unary.c: whether node n is a float unary op with compile-time
 * parameters, and its nncc_unary_op code, alpha and beta (the elementwise
 * chain pass, passes/eltwise.c). */
bool nncc_unary_step(nncc_graph *g, nncc_node *n, int *code, float *alpha, float *beta);
/* ops/binary.c: node n's nncc_binary_op code if it is a two-input float
 * arithmetic op (Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu); else -1. */
int nncc_binary_step(nncc_graph *g, nncc_node *n);

/* ops/int8.c: real multiplier r (> 0) as a 31-bit fixed-point multiplier
 * and right shift for nncc_requant: r ~= mult * 2^-rshift. Returns false if
 * r is too large (>= 2^30); a tiny r gives mult 0. */
bool nncc_quant_multiplier(double r, int32_t *mult, int32_t *rshift);
/* ops/int8.c: a per-tensor nncc_quant in the context's arena (NULL on OOM). */
nncc_quant *nncc_quant_new(nncc_ctx *ctx, int n, int axis);
/* ops/int8.c: whether a QuantizeLinear/DequantizeLinear node's scale and zero
 * point are constants the int8 pass can use, and that nncc_quant. */
bool nncc_qdq_has_quant(nncc_graph *g, nncc_node *n);
nncc_status nncc_qdq_quant(nncc_graph *g, nncc_node *n, nncc_quant **q);

/* ops/util.c: helpers the op files share */
/* Attribute readers: mark the attribute used; return the default if absent;
 * report a type mismatch as an error (status in g->ctx->n_errors). */
int64_t nncc_attr_int(nncc_graph *g, nncc_node *n, const char *name, int64_t def);
float nncc_attr_float(nncc_graph *g, nncc_node *n, const char *name, float def);
const char *nncc_attr_str(nncc_graph *g, nncc_node *n, const char *name, const char *def);
/* INTS: returns count (or -1 if absent), copies at most max into v. */
int nncc_attr_ints(nncc_graph *g, nncc_node *n, const char *name, int64_t *v, int max);
int nncc_attr_floats(nncc_graph *g, nncc_node *n, const char *name, float *v, int max);
/* Errors for every attribute not consumed by the parser. */
nncc_status nncc_attrs_done(nncc_graph *g, nncc_node *n);

nncc_tensor *nncc_in(nncc_graph *g, nncc_node *n, int i);    /* NULL if absent */
nncc_tensor *nncc_out(nncc_graph *g, nncc_node *n, int i);
/* Checks the input count is within [lo, hi] and present inputs have shapes. */
nncc_status nncc_check_inputs(nncc_graph *g, nncc_node *n, int lo, int hi);
/* Checks an input has one of the listed dtypes (terminated by NNCC_DT_UNDEF). */
nncc_status nncc_check_dtype(nncc_graph *g, nncc_node *n, int i, ...);
/* Sets output i's dtype and shape. */
void nncc_set_out(nncc_graph *g, nncc_node *n, int i, nncc_dtype dt, const nncc_shape *s);
/* Normalises an axis in [-rank, rank) to [0, rank); error if out of range. */
nncc_status nncc_axis(nncc_graph *g, nncc_node *n, int64_t *axis, int rank);
/* Reads a constant int64/int32 1-D input into v (at most max); -1 if not constant. */
int nncc_const_ints(nncc_graph *g, nncc_node *n, int i, int64_t *v, int max);
/* Broadcast of two shapes (numpy rules); error naming both shapes. */
nncc_status nncc_broadcast_shape(nncc_graph *g, nncc_node *n, const nncc_shape *a,
                                 const nncc_shape *b, nncc_shape *out);
/* Strides for reading `in` broadcast to `out` (0 along broadcast dims). */
void nncc_bcast_strides(const nncc_shape *in, const nncc_shape *out, int64_t *strides);
/* Fills a runtime broadcast descriptor for output shape `o` and inputs a, b, c (c may be NULL). */
void nncc_bcast_fill(nncc_bcast *bc, const nncc_shape *o, const nncc_shape *a,
                     const nncc_shape *b, const nncc_shape *c);
/* Gives node n (index ni) a tensor for each of its first `count` outputs
 * that the model leaves out, for kernels that keep state in them (RNN's Y,
 * LinearAttention's present_state): internal tensors, planned in the arena
 * like any intermediate. Idempotent. */
nncc_status nncc_node_materialize_outputs(nncc_graph *g, int ni, int count);
/* Input 0 of shape (N, C, ...) as N, C and the product of the rest (HW). */
void nncc_nc_split(nncc_graph *g, nncc_node *n, int64_t *N, int64_t *C, int64_t *HW);
/* Unsupported feature of a node: reported as "unsupported: ...". */
nncc_status nncc_unsupported(nncc_graph *g, nncc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* frontend/                                                                 */
/* ------------------------------------------------------------------------ */
nncc_status nncc_load_onnx(nncc_ctx *ctx, const char *path, nncc_graph **out);
/* frontend/onnx.c: one serialized ONNX TensorProto (a .pb file, as the ONNX
 * test data sets store inputs) of float32 or float64 as a new malloc'd float
 * array of *count elements; NULL after an error that names the file. */
float *nncc_onnx_read_tensor_f32(nncc_ctx *ctx, const char *path, int64_t *count);
/* frontend/text.c: the text format (docs/graph-format.md). nncc_parse_text
 * reads `len` bytes at `src`; `dir` is the folder file()/npy() paths are
 * relative to ("" or ending in '/'), NULL to refuse them (fuzzing, tests). */
nncc_status nncc_load_text(nncc_ctx *ctx, const char *path, nncc_graph **out);
nncc_status nncc_parse_text(nncc_ctx *ctx, const char *src, size_t len, const char *dir, nncc_graph **out);

/* ------------------------------------------------------------------------ */
/* passes/                                                                   */
/* ------------------------------------------------------------------------ */
typedef nncc_status (*nncc_pass_fn)(nncc_graph *g, const nncc_options *o);
nncc_status nncc_run_pipeline(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_infer(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_fold(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_dce(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_fold_bn(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_reshape(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_fuse(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_fuse_pad(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_eltwise(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_schedule(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_memplan(nncc_graph *g, const nncc_options *o);
/* passes/quantize.c: --quantize int8: calibration, then QDQ pairs around
 * what int8 kernels can run; passes/int8.c: QDQ patterns to int8 kernels. */
nncc_status nncc_pass_quantize(nncc_graph *g, const nncc_options *o);
nncc_status nncc_pass_int8(nncc_graph *g, const nncc_options *o);
/* passes/interp.c: runs the graph on the host with the ops' eval (the
 * runtime kernels): `inputs` holds one buffer per graph input. After each
 * node, `visit` (if not NULL) sees every tensor it wrote, with its data. */
typedef void (*nncc_interp_visit)(nncc_graph *g, int t, const void *data, void *user);
nncc_status nncc_interp(nncc_graph *g, const void *const *inputs, nncc_interp_visit visit, void *user);
/* Plans the arena for the nodes taken in `order` (node indices; NULL: the
 * graph's order) without changing the graph, with greedy placement only;
 * returns the arena bytes in *arena and the lower bound in *bound. */
nncc_status nncc_memplan_try(nncc_graph *g, const nncc_options *o, const int *order, int64_t *arena,
                             int64_t *bound);
/* Exact search nodes per nominal second of --plan-time (about one second on
 * a 2020s x86-64 core; a fixed count keeps the output machine-independent). */
#define NNCC_PLAN_NODES_PER_SECOND 1000000L
/* Evaluates one node on the host, its inputs all constant; outputs become constants. */
nncc_status nncc_fold_node(nncc_graph *g, nncc_node *n);
/* Pass report line (--report). */
void nncc_report(nncc_graph *g, const char *pass, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* backend/c.c: the C emitter and what op emitters call                      */
/* ------------------------------------------------------------------------ */
struct nncc_emit {
    nncc_ctx *ctx;
    FILE *f;                 /* body of the run function (kernel calls) */
    FILE *pf;                /* static parameter structs, before the run function */
    const char *prefix;      /* identifier prefix, e.g. "model" */
    int node_index;          /* index of the node being emitted */
    int n_params;            /* parameter structs written so far */
};

nncc_status nncc_emit_c(nncc_graph *g, const char *out_c, const char *prefix);

/* backend/text.c: writes the graph as loaded (before any pass) in the text
 * format to `path`, weights of more than a few values to `path`.bin. */
nncc_status nncc_write_text(nncc_graph *g, const char *path);
/* C expression for tensor ti's data, typed as `const T *`/`T *`. */
const char *nncc_emit_ref(nncc_emit *e, nncc_graph *g, int ti);
/* A model name made safe inside a C comment (no comment end, no newline). */
const char *nncc_emit_comment(nncc_graph *g, const char *s);
/* A unique identifier for static data of the node being emitted: PREFIX_NODE_SUFFIX. */
const char *nncc_emit_name(nncc_emit *e, const char *suffix);
/* Starts a `static const TYPE NAME = ` parameter struct; returns NAME. */
const char *nncc_emit_param(nncc_emit *e, const char *type);
/* Writes "{ .kind = K, .alpha = A, .beta = B }". */
void nncc_emit_act(nncc_emit *e, const nncc_act_params *a);
/* Writes an int64 array initializer "{ 1, 2, 3 }" of n values. */
void nncc_emit_i64s(nncc_emit *e, const int64_t *v, int n);
/* Prints a float (into the parameter section) so that it reads back exactly. */
void nncc_emit_float(nncc_emit *e, float v);
/* Writes a static const float array derived from weights (e.g. packed for a
 * kernel) with a comment; returns the C expression for its data. */
const char *nncc_emit_weights_f32(nncc_emit *e, const char *suffix, const char *comment,
                                  const float *data, int64_t n);
/* Parallel parts of one node's work, decided at compile time (--threads N
 * above 1): nncc_emit_parts splits `count` items (rows, planes, elements)
 * of a node doing `work` elementary operations into at most N parts of
 * (nearly) equal size, bounds[0..parts] (bounds holds N + 1 values), and
 * when there is more than one part opens an `omp parallel sections` block
 * (under #ifdef _OPENMP: without OpenMP the parts run one after the other,
 * in order). Before each part's kernel call the op writes
 * nncc_emit_part(e, parts); after the last, nncc_emit_parts_end(e, parts).
 * One part (few items, little work, or one thread) writes nothing. Each part
 * writes its own items, so the result does not depend on the threads. */
#define NNCC_PAR_MIN_WORK (1 << 16) /* below this, a parallel region costs more than it saves */
#define NNCC_EMIT_MAX_PARTS 256      /* --threads' limit */
int nncc_emit_parts(nncc_emit *e, nncc_graph *g, int64_t count, int64_t work, int64_t *bounds);
void nncc_emit_part(nncc_emit *e, int parts);
void nncc_emit_parts_end(nncc_emit *e, int parts);
/* "EXPR" for off == 0, else "(EXPR) + off": a part's pointer */
const char *nncc_emit_at(nncc_emit *e, const char *expr, int64_t off);
/* C expression for the node's scratch memory (float *), "0" if it has none. */
const char *nncc_emit_scratch(nncc_emit *e, nncc_graph *g, nncc_node *n);
/* The same as a C literal string ("0.5f", "(1.0f / 0.0f)"). */
const char *nncc_float_c(nncc_ctx *ctx, float v);
/* A double as a C literal that reads back exactly ("0.5", "(1.0 / 0.0)"). */
const char *nncc_double_c(nncc_ctx *ctx, double v);

#endif /* NNCC_IMPL_H */
