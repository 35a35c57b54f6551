/*
 * fuzz_text.c - libFuzzer target for the text-format parser
 * (compiler/frontend/text.c): any bytes must give either a graph or error
 * messages, never a crash, a hang, a leak or an out-of-bounds access.
 *
 * Parses the input as a .nng file with data files refused (no folder), and
 * on success orders the nodes (nncc_graph_toposort), which walks every
 * index the parser set. Shape inference is left out: folding may rightly
 * allocate what a declared shape asks for, which is no parser bug.
 *
 * Built with -DNNCC_FUZZ=ON under clang (see tests/fuzz/CMakeLists.txt):
 *   build/tests/fuzz/fuzz_text -max_total_time=30 tests/fuzz/corpus
 */
#include "nncc-impl.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink; /* diagnostics are thrown away; opened once */
    if (!sink)
        sink = fopen("/dev/null", "w");
    nncc_options o;
    nncc_options_init(&o);
    o.diag = sink;
    nncc_ctx *ctx = nncc_ctx_new(&o);
    if (!ctx)
        return 0;
    ctx->file = "fuzz.nng";
    nncc_graph *g = NULL;
    if (nncc_parse_text(ctx, (const char *)data, size, NULL, &g) == NNCC_OK)
        (void)nncc_graph_toposort(g);
    nncc_ctx_free(ctx);
    return 0;
}
