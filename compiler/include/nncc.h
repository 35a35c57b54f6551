/*
 * nncc.h - the public interface of libnncc, the compiler library.
 *
 * The command line (compiler/main.c) and the tests use only this header:
 * create a context, set options, compile a file, destroy the context.
 * Everything else lives in compiler/nncc-impl.h.
 */
#ifndef NNCC_H
#define NNCC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NNCC_VERSION "0.1.0"

/* Outcome of every library call. Maps onto the exit status of the CLI. */
typedef enum {
    NNCC_OK = 0,
    NNCC_ERR_INPUT = 1,     /* bad or unsupported model: exit status 1 */
    NNCC_ERR_USAGE = 2,     /* bad options: exit status 2 */
    NNCC_ERR_NOMEM = 3,     /* out of memory: exit status 1 */
    NNCC_ERR_IO = 4         /* cannot read or write a file: exit status 1 */
} nncc_status;

/* A fixed value for a named symbolic (or any) input dimension: --shape. */
typedef struct {
    char input[256];        /* graph input name */
    int rank;               /* number of dims given */
    int64_t dims[8];
} nncc_shape_override;

typedef struct nncc_options {
    int opt_level;                  /* 0: no fusion or folding beyond shapes; 1, 2: all passes */
    const char *name;               /* prefix of generated identifiers; NULL: from the output file */
    const char *dump_after;         /* pass name after which the graph is printed (--dump-after) */
    int print_graph;                /* print the graph after the passes (--print-graph) */
    int report;                     /* print what each pass changed (--report) */
    const char *emit_graph;         /* write the loaded graph in the text format here (--emit-graph) */
    nncc_shape_override shapes[16]; /* --shape overrides */
    int n_shapes;
    FILE *diag;                     /* where errors and reports go; NULL: stderr */
    FILE *out;                      /* where --print-graph goes; NULL: stdout */
    long fail_alloc_after;          /* tests: fail the Nth arena allocation (0: never) */
    /* memory planning (passes/schedule.c, passes/memplan.c) */
    double plan_time;               /* exact arena search budget, in nominal seconds (--plan-time);
                                       counted in search steps, so results do not depend on the
                                       machine; 0: greedy planning only */
    int64_t align;                  /* arena alignment of every tensor, bytes, power of two (--align) */
    int64_t max_arena;              /* fail if the arena needs more bytes (--max-arena); 0: no limit */
    int memory_map;                 /* print every tensor's place in the arena (--memory-map) */
    int canary;                     /* test builds: guard bytes around every tensor, checked after
                                       each node (--canary) */
    int threads;                    /* --threads: OpenMP threads of the generated code (0, 1: one) */
    const char *conv_algo[16];      /* --conv-algo [NODE=]ALGO, in the order given (ops/conv.c) */
    int n_conv_algo;
    /* int8 quantisation (passes/quantize.c, passes/int8.c) */
    int quantize;                   /* 1: quantise to int8 (--quantize int8) */
    const char *calibration;        /* folder of calibration inputs, .npy (--calibration) */
    int calib_method;               /* 0: min/max, 1: percentile (--calibration-method) */
    const char *keep_float[16];     /* nodes left in float (--keep-float NODE) */
    int n_keep_float;
    int int8_io;                    /* int8 graph inputs/outputs instead of float (--int8-io) */
} nncc_options;

typedef struct nncc_ctx nncc_ctx;

/* Whether `name` is an algorithm --conv-algo takes (auto, implicit, im2col,
 * depthwise, winograd, direct). */
int nncc_conv_algo_name_ok(const char *name);

/* Fills `o` with the defaults (-O2, 16-byte alignment, 1 s of plan search). */
void nncc_options_init(nncc_options *o);

nncc_ctx *nncc_ctx_new(const nncc_options *o);
void nncc_ctx_free(nncc_ctx *ctx);

/* Number of errors reported so far through this context. */
int nncc_error_count(const nncc_ctx *ctx);

/* Loads `model` (.onnx or .nng; with emit_graph set, writes it out as
 * text), runs the pipeline and writes the C output
 * to `out_c` plus a header next to it (same stem, .h) and the runtime files
 * into the same folder. `out_c` NULL: compile only (checks, --print-graph). */
nncc_status nncc_compile_file(nncc_ctx *ctx, const char *model, const char *out_c);

#endif /* NNCC_H */
