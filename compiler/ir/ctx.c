/*
 * ctx.c - the compilation context: options, the arena every IR object lives
 * in, and the allocation failure hook the tests use.
 *
 * The arena is a list of chunks; objects are never freed one by one, the
 * whole context goes at once (nncc_ctx_free).
 */
#include "nncc-impl.h"

#include <stdlib.h>
#include <string.h>

struct nncc_chunk {
    nncc_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void nncc_options_init(nncc_options *o)
{
    memset(o, 0, sizeof *o);
    o->opt_level = 2;
    o->plan_time = 1.0;
    o->align = 16;
}

nncc_ctx *nncc_ctx_new(const nncc_options *o)
{
    nncc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    if (o)
        ctx->opt = *o;
    else
        nncc_options_init(&ctx->opt);
    if (!ctx->opt.diag)
        ctx->opt.diag = stderr;
    if (!ctx->opt.out)
        ctx->opt.out = stdout;
    return ctx;
}

void nncc_ctx_free(nncc_ctx *ctx)
{
    if (!ctx)
        return;
    for (nncc_chunk *c = ctx->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(ctx);
}

int nncc_error_count(const nncc_ctx *ctx) { return ctx->n_errors; }

void *nncc_alloc(nncc_ctx *ctx, size_t size)
{
    ctx->n_allocs++;
    if (ctx->opt.fail_alloc_after > 0 && ctx->n_allocs >= ctx->opt.fail_alloc_after)
        goto fail;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    nncc_chunk *c = ctx->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > (1u << 20) ? size : (1u << 20);
        c = malloc(sizeof *c + cap);
        if (!c)
            goto fail;
        c->used = 0;
        c->cap = cap;
        /* a big object gets its own chunk behind the current one, so the
         * current chunk's free space is not thrown away */
        if (ctx->chunks && size > (1u << 19)) {
            c->next = ctx->chunks->next;
            ctx->chunks->next = c;
        } else {
            c->next = ctx->chunks;
            ctx->chunks = c;
        }
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
fail:
    if (!ctx->oom)
        nncc_error_file(ctx, "out of memory");
    ctx->oom = true;
    return NULL;
}

void *nncc_alloc_array(nncc_ctx *ctx, size_t n, size_t size)
{
    if (size && n > (SIZE_MAX / 2) / size) {
        nncc_error_file(ctx, "allocation of %zu x %zu bytes is too large", n, size);
        return NULL;
    }
    return nncc_alloc(ctx, n * size);
}

char *nncc_strndup(nncc_ctx *ctx, const char *s, size_t n)
{
    char *p = nncc_alloc(ctx, n + 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *nncc_strdup(nncc_ctx *ctx, const char *s)
{
    return s ? nncc_strndup(ctx, s, strlen(s)) : NULL;
}

char *nncc_fmt(nncc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = nncc_alloc(ctx, (size_t)n + 1);
    if (!p)
        return "";
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

_Noreturn void nncc_die(const char *file, int line, const char *what)
{
    fprintf(stderr, "nncc: internal error at %s:%d: %s\n", file, line, what);
    abort();
}
