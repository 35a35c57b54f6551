/*
 * diag.c - diagnostics. Every message names the input file, and the node
 * (ONNX) or line:column (text format) it is about:
 *
 *   model.onnx: node 'conv1' (Conv): error: weight has 4 dims, kernel_shape has 3
 *   net.nng:12:7: error: unknown op 'Cnov' (did you mean 'Conv'?)
 *
 * Library code reports and returns a status; it never exits.
 */
#include "nncc-impl.h"

void nncc_errorv(nncc_ctx *ctx, const char *kind, nncc_graph *g, const nncc_node *n,
                 const char *fmt, va_list ap)
{
    FILE *f = ctx->opt.diag;
    const char *file = ctx->file ? ctx->file : "nncc";
    if (n && n->line > 0)
        fprintf(f, "%s:%d:%d: ", file, n->line, n->col);
    else
        fprintf(f, "%s: ", file);
    if (n && g)
        fprintf(f, "node '%s' (%s): ", n->name ? n->name : "?",
                n->op >= 0 && n->op < NNCC_OP_COUNT ? nncc_ops[n->op]->name : "?");
    fprintf(f, "%s: ", kind);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    if (kind[0] == 'e')
        ctx->n_errors++;
}

void nncc_error(nncc_graph *g, const nncc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nncc_errorv(g->ctx, "error", g, n, fmt, ap);
    va_end(ap);
}

void nncc_warn(nncc_graph *g, const nncc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nncc_errorv(g->ctx, "warning", g, n, fmt, ap);
    va_end(ap);
}

void nncc_error_file(nncc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nncc_errorv(ctx, "error", NULL, NULL, fmt, ap);
    va_end(ap);
}

/* "net.nng:12:7: error: ..." for text-format errors that belong to no node yet. */
void nncc_error_atv(nncc_ctx *ctx, int line, int col, const char *fmt, va_list ap)
{
    FILE *f = ctx->opt.diag;
    fprintf(f, "%s:%d:%d: error: ", ctx->file ? ctx->file : "nncc", line, col);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    ctx->n_errors++;
}

void nncc_error_at(nncc_ctx *ctx, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nncc_error_atv(ctx, line, col, fmt, ap);
    va_end(ap);
}
