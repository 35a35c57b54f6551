/*
 * pipeline.c - the pass pipeline: one flat table, run in order.
 *
 *   infer     shape inference; folds what shapes depend on (Shape, Constant,
 *             integer arithmetic on constants) - needed even at -O0
 *   fold      constant folding of everything else with constant inputs (-O1+)
 *   dce       removes nodes whose outputs nobody reads, and Identity/Dropout (-O1+)
 *   reshape   Transpose pairs composed or cancelled, Reshape/Flatten/Squeeze/
 *             Unsqueeze chains merged, no-op ones removed (-O1+)
 *   fold-bn   BatchNormalization into the preceding Conv/Gemm weights (-O1+)
 *   fuse      bias, activation and residual Add into the producing kernel (-O1+)
 *   fuse-pad  constant Pad into the pads of the Conv/AveragePool/MaxPool
 *             reading it (-O1+; after fuse, which shows what is non-negative)
 *   quantize  --quantize int8: calibrate, put QuantizeLinear/DequantizeLinear
 *             around what int8 kernels can run (passes/quantize.c)
 *   int8      QDQ patterns (imported or made by quantize) to int8 kernels (-O1+)
 *   eltwise   chains of elementwise nodes into one loop (-O1+; after int8,
 *             which needs the plain Add nodes)
 *   schedule  memory-aware node order for branching graphs (-O1+)
 *   memplan   static arena offsets for every intermediate tensor
 *
 * The IR verifier runs after every pass; --dump-after=NAME prints the graph;
 * --print-graph prints it after infer (the model as loaded, with shapes) and
 * compile.c again after the whole pipeline.
 */
#include "nncc-impl.h"

#include <string.h>

static const struct {
    const char *name;
    nncc_pass_fn fn;
    int min_level;               /* lowest -O level that runs it */
} passes[] = {
    { "infer", nncc_pass_infer, 0 },
    { "fold", nncc_pass_fold, 1 },
    { "dce", nncc_pass_dce, 1 },
    { "reshape", nncc_pass_reshape, 1 },
    { "fold-bn", nncc_pass_fold_bn, 1 },
    { "fuse", nncc_pass_fuse, 1 },
    { "fuse-pad", nncc_pass_fuse_pad, 1 },
    { "quantize", nncc_pass_quantize, 1 },
    { "int8", nncc_pass_int8, 1 },
    { "eltwise", nncc_pass_eltwise, 1 },
    { "dce", nncc_pass_dce, 1 },
    { "schedule", nncc_pass_schedule, 1 },
    { "memplan", nncc_pass_memplan, 0 },
};

nncc_status nncc_run_pipeline(nncc_graph *g, const nncc_options *o)
{
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        if (o->opt_level < passes[i].min_level)
            continue;
        nncc_status st = passes[i].fn(g, o);
        if (st == NNCC_OK && g->ctx->oom)
            st = NNCC_ERR_NOMEM;
        if (st != NNCC_OK)
            return st;
        st = nncc_graph_verify(g, passes[i].name);
        if (st != NNCC_OK)
            return st;
        if (o->print_graph && !strcmp(passes[i].name, "infer")) {
            fprintf(o->out ? o->out : stdout, "# before the passes: the graph as loaded, after shape inference\n");
            nncc_graph_print(g, o->out ? o->out : stdout);
        }
        if (o->dump_after && strcmp(o->dump_after, passes[i].name) == 0) {
            fprintf(o->out ? o->out : stdout, "# after %s\n", passes[i].name);
            nncc_graph_print(g, o->out ? o->out : stdout);
        }
    }
    return NNCC_OK;
}

void nncc_report(nncc_graph *g, const char *pass, const char *fmt, ...)
{
    if (!g->ctx->opt.report)
        return;
    FILE *f = g->ctx->opt.diag;
    va_list ap;
    va_start(ap, fmt);
    fprintf(f, "%s: ", pass);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
}
