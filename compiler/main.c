/*
 * main.c - the nncc command line. Parses arguments, calls libnncc, turns the
 * status into an exit code (0 ok, 1 bad input, 2 usage). Nothing else.
 */
#include "nncc.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: nncc MODEL [-o OUT.c] [options]\n"
    "\n"
    "Compiles a neural network (ONNX .onnx, or nncc's text format .nng) ahead of\n"
    "time into C99 source: OUT.c with the weights and one function per model,\n"
    "OUT.h with the API, and the nncc runtime files next to them. Build with:\n"
    "cc -O2 -c *.c (link with -lm).\n"
    "\n"
    "options:\n"
    "  -o FILE            write C to FILE (and FILE's stem .h); without -o nncc only\n"
    "                     checks the model (with --print-graph, shows it)\n"
    "  --name PREFIX      prefix of generated names (default: the output file's stem):\n"
    "                     PREFIX_run, PREFIX_run_ws, PREFIX_workspace_size\n"
    "  --shape NAME=DIMS  fix the shape of input NAME, e.g. --shape input=4x3x32x32;\n"
    "                     needed for symbolic dims other than a leading batch dim\n"
    "                     (a symbolic batch becomes a run-time argument)\n"
    "  -O0                no graph optimisation: every ONNX node is its own kernel\n"
    "                     call (the unfused baseline)\n"
    "  -O1, -O2           fold constants, fold BatchNorm, fuse bias/activation/\n"
    "                     residual add into conv/gemm and a conv's pooling into\n"
    "                     the conv, cancel Transpose pairs and merge Reshape\n"
    "                     chains, fold Pad into conv/pool pads, fuse elementwise\n"
    "                     chains into one loop (default -O2)\n"
    "  --print-graph      print the graph before the passes (as loaded, after\n"
    "                     shape inference) and after them\n"
    "  --dump-after=PASS  print the graph after PASS (infer, fold, dce, reshape,\n"
    "                     fold-bn, fuse, fuse-pad, quantize, int8, eltwise,\n"
    "                     schedule, memplan)\n"
    "  --emit-graph FILE  write the model as loaded (before any pass) in the text\n"
    "                     format to FILE (.nng), larger weights to FILE.bin;\n"
    "                     nncc FILE gives the same C as the model itself\n"
    "  --report           print what each pass changed, the totals (nodes, kernel\n"
    "                     calls, parameters, MACs) and the arena size (with\n"
    "                     int8: per-layer scales, weight bytes before and after)\n"
    "  --threads N        run on N OpenMP threads when the output is built with\n"
    "                     OpenMP (-fopenmp); without it, one thread. Convolutions,\n"
    "                     Gemm/MatMul with a constant B, pooling, elementwise\n"
    "                     ops, Softmax and Concat split their outputs between the\n"
    "                     threads (the same bytes for any count; in convolutions\n"
    "                     and Gemm a thread that is done takes over the units\n"
    "                     another has not started); N scratch blocks per conv\n"
    "  --memory-map       print every tensor's arena offset, size and lifetime, and\n"
    "                     a picture of the arena over the steps\n"
    "  --max-arena BYTES  fail (naming the peak step) if the arena needs more\n"
    "  --plan-time SEC    budget of the exact arena search (default 1; the search\n"
    "                     counts steps, so the plan is the same on any machine)\n"
    "  --align N          align every tensor in the arena to N bytes (a power of\n"
    "                     two, default 16; the static arena's base is on 64 or N)\n"
    "  --canary           test builds: guard bytes around every tensor, checked\n"
    "                     after each node (a run returns 1000+node on overwrite)\n"
    "  --conv-algo [NODE=]ALGO\n"
    "                     the kernel of Conv NODE (without NODE=: of every Conv\n"
    "                     it fits; repeatable, the last given wins), from -O1:\n"
    "                     auto (default: by shape), implicit (packed GEMM\n"
    "                     reading a padded copy of the input in place),\n"
    "                     implicit-t (the same transposed: output channels\n"
    "                     across the vector lanes; auto picks it for small\n"
    "                     maps such as 7x7), im2col (packed GEMM over im2col\n"
    "                     blocks: less scratch),\n"
    "                     depthwise (group == C), winograd (3x3 stride 1:\n"
    "                     F(2x2,3x3); auto picks it for 16+ channels from 8x8\n"
    "                     up), winograd4 (F(4x4,3x3): fewer multiplies, more\n"
    "                     rounding; auto picks it over winograd without\n"
    "                     --threads on maps such as 27x27 and 56x56), direct\n"
    "                     (the reference). --report names each Conv's choice\n"
    "  --quantize int8    post-training quantisation: Conv/Gemm (with fused Relu/\n"
    "                     Relu6) run as int8 kernels (weights int8 per output\n"
    "                     channel, activations int8 per tensor, bias int32,\n"
    "                     fixed-point requantisation); MaxPool/Flatten/Reshape\n"
    "                     between them stay int8; float elsewhere. Needs:\n"
    "  --calibration DIR  calibration inputs: NumPy .npy files or ONNX TensorProto\n"
    "                     .pb files (as the ONNX test data sets store inputs),\n"
    "                     float32 or float64, one sample each or several stacked\n"
    "                     along the first dim, read in name order (models with\n"
    "                     one input)\n"
    "  --calibration-method minmax|percentile\n"
    "                     activation ranges: min/max seen (default), or the\n"
    "                     0.01%..99.99% percentiles of a histogram\n"
    "  --keep-float NODE  leave node NODE in float (repeatable)\n"
    "  --int8-io          int8 input/output buffers where the model's edges are\n"
    "                     quantised (scales in --report) instead of float\n"
    "  (models already quantised in QDQ form, e.g. by onnxruntime's\n"
    "   quantize_static, compile to the same int8 kernels without options)\n"
    "  --version          print the version\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 success, 1 bad or unsupported model (the message names the\n"
    "file and node), 2 bad command line\n";

static int parse_shape(const char *arg, nncc_shape_override *s)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    if ((size_t)(eq - arg) >= sizeof s->input)
        return -1;
    memcpy(s->input, arg, (size_t)(eq - arg));
    s->input[eq - arg] = 0;
    s->rank = 0;
    const char *p = eq + 1;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || v > (1LL << 31) || s->rank >= 8)
            return -1;
        s->dims[s->rank++] = v;
        if (*end == 'x' || *end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return s->rank > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    nncc_options o;
    nncc_options_init(&o);
    const char *model = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("nncc %s\n", NNCC_VERSION);
            return 0;
        } else if (!strcmp(a, "--threads")) {
            char *end;
            long t = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || t < 1 || t > 256) {
                fprintf(stderr, "nncc: --threads wants a count from 1 to 256\n");
                return 2;
            }
            o.threads = (int)t;
            i++;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--name") || !strcmp(a, "--shape") ||
                   !strcmp(a, "--emit-graph")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nncc: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "-o"))
                out = v;
            else if (!strcmp(a, "--name"))
                o.name = v;
            else if (!strcmp(a, "--emit-graph"))
                o.emit_graph = v;
            else if (o.n_shapes >= 16 || parse_shape(v, &o.shapes[o.n_shapes++]) != 0) {
                fprintf(stderr, "nncc: --shape wants NAME=DIMS such as input=1x3x32x32, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--align") || !strcmp(a, "--max-arena") || !strcmp(a, "--plan-time")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nncc: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--plan-time")) {
                double d = strtod(v, &end);
                if (end == v || *end || !(d >= 0 && d <= 3600)) {
                    fprintf(stderr, "nncc: --plan-time wants seconds between 0 and 3600, got '%s'\n", v);
                    return 2;
                }
                o.plan_time = d;
                continue;
            }
            long long n = strtoll(v, &end, 10);
            bool pow2 = n > 0 && (n & (n - 1)) == 0;
            if (end == v || *end || n <= 0 || (!strcmp(a, "--align") && (!pow2 || n > 4096))) {
                fprintf(stderr, "nncc: %s wants %s, got '%s'\n", a,
                        strcmp(a, "--align") ? "a positive number of bytes" : "a power of two up to 4096", v);
                return 2;
            }
            if (!strcmp(a, "--align"))
                o.align = n;
            else
                o.max_arena = n;
        } else if (!strcmp(a, "--quantize") || !strcmp(a, "--calibration") ||
                   !strcmp(a, "--calibration-method") || !strcmp(a, "--keep-float")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nncc: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--quantize")) {
                if (strcmp(v, "int8")) {
                    fprintf(stderr, "nncc: --quantize supports int8, not '%s'\n", v);
                    return 2;
                }
                o.quantize = 1;
            } else if (!strcmp(a, "--calibration")) {
                o.calibration = v;
            } else if (!strcmp(a, "--calibration-method")) {
                if (strcmp(v, "minmax") && strcmp(v, "percentile")) {
                    fprintf(stderr, "nncc: --calibration-method wants minmax or percentile, got '%s'\n", v);
                    return 2;
                }
                o.calib_method = !strcmp(v, "percentile");
            } else if (o.n_keep_float >= 16) {
                fprintf(stderr, "nncc: at most 16 --keep-float nodes\n");
                return 2;
            } else {
                o.keep_float[o.n_keep_float++] = v;
            }
        } else if (!strcmp(a, "--conv-algo")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nncc: --conv-algo needs a value\n");
                return 2;
            }
            const char *v = argv[++i], *eq = strrchr(v, '=');
            if (!nncc_conv_algo_name_ok(eq ? eq + 1 : v) || eq == v) {
                fprintf(stderr, "nncc: --conv-algo wants [NODE=]ALGO with ALGO one of auto, implicit, im2col, "
                                "depthwise, winograd, winograd4, direct; got '%s'\n", v);
                return 2;
            }
            if (o.n_conv_algo >= 16) {
                fprintf(stderr, "nncc: at most 16 --conv-algo options\n");
                return 2;
            }
            o.conv_algo[o.n_conv_algo++] = v;
        } else if (!strcmp(a, "--int8-io")) {
            o.int8_io = 1;
        } else if (!strcmp(a, "--memory-map")) {
            o.memory_map = 1;
        } else if (!strcmp(a, "--canary")) {
            o.canary = 1;
        } else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2") || !strcmp(a, "-O3")) {
            o.opt_level = a[2] - '0';
        } else if (!strcmp(a, "--print-graph")) {
            o.print_graph = 1;
        } else if (!strncmp(a, "--dump-after=", 13)) {
            o.dump_after = a + 13;
        } else if (!strcmp(a, "--report")) {
            o.report = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nncc: unknown option '%s' (see nncc --help)\n", a);
            return 2;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "nncc: more than one model given ('%s' and '%s')\n", model, a);
            return 2;
        }
    }
    if (!model) {
        fputs(usage, stderr);
        return 2;
    }
    if ((o.calibration || o.n_keep_float || o.int8_io) && !o.quantize) {
        fprintf(stderr, "nncc: --calibration, --keep-float and --int8-io go with --quantize int8\n");
        return 2;
    }
    if (o.quantize && !o.calibration) {
        fprintf(stderr, "nncc: --quantize int8 needs --calibration DIR\n");
        return 2;
    }
    if (o.quantize && o.opt_level == 0) {
        fprintf(stderr, "nncc: --quantize int8 needs -O1 or -O2\n");
        return 2;
    }
    if (o.name) {
        bool ok = (o.name[0] < '0' || o.name[0] > '9') && o.name[0];
        for (const char *p = o.name; *p; p++)
            ok = ok && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_');
        if (!ok) {
            fprintf(stderr, "nncc: --name '%s' is not a C identifier\n", o.name);
            return 2;
        }
    }
    nncc_ctx *ctx = nncc_ctx_new(&o);
    if (!ctx) {
        fprintf(stderr, "nncc: out of memory\n");
        return 1;
    }
    nncc_status st = nncc_compile_file(ctx, model, out);
    nncc_ctx_free(ctx);
    return st == NNCC_OK ? 0 : st == NNCC_ERR_USAGE ? 2 : 1;
}
