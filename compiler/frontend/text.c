/*
 * text.c - the text frontend: a .nng file (nncc's own graph format, see
 * docs/graph-format.md) into the IR, by a hand-written recursive-descent
 * parser. Each parse function carries its grammar rule as a comment.
 *
 * It builds exactly what the ONNX frontend builds (tensors created in the
 * same order, nodes with the same attribute lists, Constant values as
 * attribute tensors named NODE.ATTR), so everything after the frontend
 * cannot tell the two apart; nodes also get their line and column, so later
 * diagnostics read `net.nng:12:5: node 'conv1' (Conv): error: ...`.
 *
 * Errors: a statement that does not parse is reported at its line:column
 * and skipped up to the end of its line, and parsing goes on, so one run
 * reports every error of the file (up to MAX_ERRORS). Nothing is allocated
 * from a size read in the file before it is checked: inline data grows with
 * the text actually read, file() and npy() ranges are checked against the
 * file's size first.
 *
 * Not here: optimisation, shape inference (the pipeline does it), output
 * declarations beyond their names (as for ONNX, inference decides).
 */
#include "nncc-impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TEXT_BYTES ((size_t)1 << 30) /* 1 GiB of text: weights belong in side files */
#define MAX_ERRORS 50                    /* then stop: the rest is probably noise */
#define DEFAULT_OPSET 17                 /* when the file has no `opset` line */
#define MAX_NPY_HEADER 65536

enum { T_EOF, T_NL, T_IDENT, T_STRING, T_NUMBER, T_PUNCT };

typedef struct {
    int kind;                  /* T_* */
    const char *p;             /* its text in the source (T_STRING: with the quotes) */
    int len;                   /* bytes */
    int line, col;             /* 1-based position of its first byte */
    char ch;                   /* T_PUNCT: the character */
} token;

/* What declared a tensor, for duplicate checks and undeclared-input checks. */
enum { D_NONE, D_WEIGHT, D_INPUT, D_NODE, D_BROKEN };

typedef struct {
    const char *name;
    int line, col;
} ref;

typedef struct {
    nncc_ctx *ctx;
    nncc_graph *g;
    const char *src, *end;     /* the whole file */
    const char *pos;           /* lexer position */
    int line, col;             /* position of pos */
    int depth;                 /* open ( [ {: newlines inside them are blanks */
    token tok;                 /* the current token */
    const char *dir;           /* folder of the file ("" or ".../"), for file()/npy(); NULL: refused */
    int errors;
    bool stop;                 /* MAX_ERRORS reached */
    bool seen_graph, seen_opset, seen_node;
    unsigned char *decl;       /* per tensor: D_* */
    int *decl_line;            /* per tensor: line of the declaration */
    int cap_decl;
    int *inputs, n_inputs, cap_inputs;
    ref *outs;                 /* `output` statements, resolved at the end */
    int n_outs, cap_outs;
} parser;

/* ---- diagnostics ---- */

static bool error_at(parser *P, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool error_at(parser *P, int line, int col, const char *fmt, ...)
{
    if (P->stop)
        return false;
    va_list ap;
    va_start(ap, fmt);
    nncc_error_atv(P->ctx, line, col, fmt, ap);
    va_end(ap);
    if (++P->errors >= MAX_ERRORS) {
        nncc_error_at(P->ctx, line, col, "too many errors; stopping");
        P->stop = true;
    }
    return false;
}

#define error_tok(P, t, ...) error_at((P), (t).line, (t).col, __VA_ARGS__)

/* How a token reads in a message: "'foo'", "end of line". */
static const char *tok_desc(parser *P, const token *t)
{
    if (t->kind == T_EOF)
        return "end of file";
    if (t->kind == T_NL)
        return "end of line";
    if (t->kind == T_PUNCT && ((unsigned char)t->ch < 0x20 || (unsigned char)t->ch >= 0x7f))
        return nncc_fmt(P->ctx, "byte 0x%02x", (unsigned char)t->ch);
    int n = t->len > 24 ? 24 : t->len;
    return nncc_fmt(P->ctx, "'%.*s%s'", n, t->p, t->len > n ? "..." : "");
}

/* ---- lexer ---- */

static bool is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(int c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* Reads the next token into P->tok. */
static void next(parser *P)
{
    const char *s = P->pos, *e = P->end;
    for (;;) {
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++, P->col++;
        if (s < e && *s == '#') {
            while (s < e && *s != '\n')
                s++;
            continue;
        }
        if (s < e && *s == '\n' && P->depth > 0) {
            s++, P->line++, P->col = 1;
            continue;
        }
        break;
    }
    token t = { T_EOF, s, 0, P->line, P->col, 0 };
    const char *q = s;
    if (s >= e) {
        t.kind = T_EOF;
    } else if (*s == '\n') {
        t.kind = T_NL;
        q = s + 1;
    } else if (is_ident_start((unsigned char)*s)) {
        t.kind = T_IDENT;
        while (q < e && is_ident_char((unsigned char)*q))
            q++;
    } else if (is_digit((unsigned char)*s) || (*s == '.' && s + 1 < e && is_digit((unsigned char)s[1])) ||
               ((*s == '-' || *s == '+') && s + 1 < e &&
                (is_digit((unsigned char)s[1]) || s[1] == '.' || s[1] == 'i' || s[1] == 'n'))) {
        /* numbers: decimal or hex integers and floats, inf, nan (checked when converted) */
        t.kind = T_NUMBER;
        q = s + 1;
        while (q < e && (is_ident_char((unsigned char)*q) ||
                         ((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E' || q[-1] == 'p' || q[-1] == 'P'))))
            q++;
    } else if (*s == '"') {
        t.kind = T_STRING;
        q = s + 1;
        while (q < e && *q != '"' && *q != '\n')
            q += (*q == '\\' && q + 1 < e && q[1] != '\n') ? 2 : 1;
        if (q < e && *q == '"')
            q++, t.ch = '"'; /* closed */
        /* an unterminated string ends at the line's end; parse_string reports it */
    } else {
        t.kind = T_PUNCT;
        t.ch = *s;
        q = s + 1;
        if (*s && strchr("([{", *s))
            P->depth++;
        else if (*s && strchr(")]}", *s) && P->depth > 0)
            P->depth--;
    }
    t.len = (int)(q - s);
    if (t.kind == T_NL)
        P->line++, P->col = 1;
    else
        P->col += t.len;
    P->pos = q;
    P->tok = t;
}

/* The token after the current one, without consuming anything. */
static token peek(parser *P)
{
    const char *pos = P->pos;
    int line = P->line, col = P->col, depth = P->depth;
    token cur = P->tok;
    next(P);
    token t = P->tok;
    P->pos = pos, P->line = line, P->col = col, P->depth = depth, P->tok = cur;
    return t;
}

static bool is_punct(const parser *P, char c) { return P->tok.kind == T_PUNCT && P->tok.ch == c; }

static bool is_word(const token *t, const char *w)
{
    return t->kind == T_IDENT && (int)strlen(w) == t->len && !memcmp(t->p, w, (size_t)t->len);
}

static bool expect(parser *P, char c, const char *where)
{
    if (!is_punct(P, c))
        return error_tok(P, P->tok, "expected '%c'%s, found %s", c, where, tok_desc(P, &P->tok));
    next(P);
    return true;
}

/* After an error: skip the rest of the physical line. */
static void recover(parser *P)
{
    const char *s = P->tok.kind == T_NL ? P->tok.p : P->pos;
    if (P->tok.kind == T_NL || P->tok.kind == T_EOF) {
        P->depth = 0;
        return;
    }
    while (s < P->end && *s != '\n')
        s++;
    P->col += (int)(s - P->pos);
    P->pos = s;
    P->depth = 0;
    next(P);
}

/* ---- bookkeeping of declarations ---- */

static bool decl_room(parser *P)
{
    if (P->g->n_t <= P->cap_decl)
        return true;
    int cap = P->cap_decl ? P->cap_decl : 64;
    while (cap < P->g->n_t)
        cap *= 2;
    unsigned char *d = nncc_alloc(P->ctx, (size_t)cap);
    int *l = nncc_alloc_array(P->ctx, (size_t)cap, sizeof(int));
    if (!d || !l)
        return false;
    if (P->cap_decl) {
        memcpy(d, P->decl, (size_t)P->cap_decl);
        memcpy(l, P->decl_line, (size_t)P->cap_decl * sizeof(int));
    }
    P->decl = d, P->decl_line = l, P->cap_decl = cap;
    return true;
}

/* Finds or adds tensor `name`; -1 on OOM. */
static int tensor(parser *P, const char *name)
{
    int t = nncc_tensor_add(P->g, name);
    if (t >= 0 && !decl_room(P))
        return -1;
    return t;
}

static const char *decl_what(int d)
{
    return d == D_WEIGHT ? "a weight" : d == D_INPUT ? "a graph input" : "the output of a node";
}

/* Checks tensor t may be declared now (not a weight, input or node output yet). */
static bool may_declare(parser *P, int t, const token *at)
{
    if (P->decl[t] == D_NONE)
        return true;
    if (P->decl[t] == D_BROKEN)
        return false; /* its first declaration already failed and was reported */
    error_tok(P, *at, "'%s' is already declared as %s on line %d", P->g->t[t].name, decl_what(P->decl[t]),
              P->decl_line[t]);
    return false;
}

/* ---- names, numbers, strings ---- */

/* string := '"' { char | '\' ( '"' | '\' | 'n' | 't' | 'x' hex hex ) } '"' */
static bool parse_string(parser *P, const char **out)
{
    token t = P->tok;
    if (t.kind != T_STRING)
        return error_tok(P, t, "expected a string, found %s", tok_desc(P, &t));
    if (t.ch != '"')
        return error_tok(P, t, "unterminated string");
    char *s = nncc_alloc(P->ctx, (size_t)t.len);
    if (!s)
        return false;
    size_t k = 0;
    for (int i = 1; i < t.len - 1; i++) {
        char c = t.p[i];
        if (c == '\\') {
            int at = t.col + i; /* the backslash */
            char e = i + 1 < t.len - 1 ? t.p[++i] : 0;
            int h1, h2;
            switch (e) {
            case '"': case '\\': c = e; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'x':
                h1 = i + 1 < t.len - 1 ? t.p[i + 1] : 0;
                h2 = i + 2 < t.len - 1 ? t.p[i + 2] : 0;
                if (!strchr("0123456789abcdefABCDEF", h1) || !h1 || !strchr("0123456789abcdefABCDEF", h2) || !h2)
                    return error_at(P, t.line, at, "\\x needs two hex digits");
                c = (char)strtol((char[]){ (char)h1, (char)h2, 0 }, NULL, 16);
                if (c == 0)
                    return error_at(P, t.line, at, "strings cannot hold a NUL byte");
                i += 2;
                break;
            default:
                return error_at(P, t.line, at, "unknown escape in a string (use \\\" \\\\ \\n \\t \\xHH)");
            }
        } else if ((unsigned char)c < 0x20 && c != '\t') {
            return error_at(P, t.line, t.col + i, "control character in a string (write it as \\xHH)");
        }
        s[k++] = c;
    }
    s[k] = 0;
    *out = s;
    next(P);
    return true;
}

/* name := IDENT | string */
static bool parse_name(parser *P, const char **out, const char *what)
{
    if (P->tok.kind == T_STRING) {
        if (!parse_string(P, out))
            return false;
        if (!**out)
            return error_tok(P, P->tok, "%s cannot be empty", what);
        return true;
    }
    if (P->tok.kind != T_IDENT)
        return error_tok(P, P->tok, "expected %s, found %s", what, tok_desc(P, &P->tok));
    *out = nncc_strndup(P->ctx, P->tok.p, (size_t)P->tok.len);
    next(P);
    return *out != NULL;
}

/* The current token's text as a C string in buf (numbers are short). */
static bool tok_text(parser *P, char *buf, size_t size)
{
    if ((size_t)P->tok.len >= size)
        return error_tok(P, P->tok, "number %s is too long", tok_desc(P, &P->tok));
    memcpy(buf, P->tok.p, (size_t)P->tok.len);
    buf[P->tok.len] = 0;
    return true;
}

/* Integers are decimal, or hex with 0x ("010" is ten, not eight). */
static int int_base(const char *s)
{
    s += *s == '-' || *s == '+';
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
}

static bool is_number_tok(const token *t)
{
    return t->kind == T_NUMBER || is_word(t, "inf") || is_word(t, "nan") || is_word(t, "infinity");
}

/* An integer token (decimal, or 0x hex) into v. */
static bool parse_int(parser *P, int64_t *v, const char *what)
{
    char buf[64];
    token t = P->tok;
    if (t.kind != T_NUMBER)
        return error_tok(P, t, "expected %s (an integer), found %s", what, tok_desc(P, &t));
    if (!tok_text(P, buf, sizeof buf))
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, int_base(buf));
    if (*end || end == buf)
        return error_tok(P, t, "expected %s (an integer), found %s", what, tok_desc(P, &t));
    if (errno == ERANGE)
        return error_tok(P, t, "integer %s does not fit in 64 bits", buf);
    *v = x;
    next(P);
    return true;
}

/* A number token: integer or float. *is_float tells which it is; f64: the
 * value is for a float64 (else it must fit a float32). */
static bool parse_number(parser *P, int64_t *iv, double *fv, bool *is_float, float *f32, bool f64)
{
    char buf[64];
    token t = P->tok;
    if (!is_number_tok(&t))
        return error_tok(P, t, "expected a number, found %s", tok_desc(P, &t));
    if (!tok_text(P, buf, sizeof buf))
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, int_base(buf));
    if (!*end && end != buf && errno == 0 && t.kind == T_NUMBER) {
        *iv = x;
        *fv = (double)x;
        *f32 = (float)x;
        *is_float = false;
        next(P);
        return true;
    }
    /* strtof for float32 values, so that %.9g text reads back to the same bits */
    float f = strtof(buf, &end);
    if (*end || end == buf)
        return error_tok(P, t, "%s is not a number", tok_desc(P, &t));
    double d = strtod(buf, NULL);
    if ((f64 ? isinf(d) : isinf(f)) && !strpbrk(buf, "iI"))
        return error_tok(P, t, "%s is out of range for %s", buf, f64 ? "float64" : "float32");
    *f32 = f;
    *fv = d;
    *iv = 0;
    *is_float = true;
    next(P);
    return true;
}

/* ---- types, shapes, data ---- */

/* dtype := 'float32' | 'float64' | 'int8' | ... (nncc_dtype_name) */
static bool parse_dtype(parser *P, nncc_dtype *dt)
{
    token t = P->tok;
    if (t.kind != T_IDENT)
        return error_tok(P, t, "expected an element type (float32, int64, ...), found %s", tok_desc(P, &t));
    char buf[32];
    if ((size_t)t.len >= sizeof buf)
        return error_tok(P, t, "unknown element type %s", tok_desc(P, &t));
    memcpy(buf, t.p, (size_t)t.len);
    buf[t.len] = 0;
    *dt = nncc_dtype_from_name(buf);
    if (*dt == NNCC_DT_UNDEF)
        return error_tok(P, t, "unknown element type '%s' (float32, float64, int8, uint8, int16, uint16, int32, "
                               "uint32, int64, uint64, bool)", buf);
    if (nncc_dtype_size(*dt) == 0)
        return error_tok(P, t, "unsupported: element type %s", buf);
    next(P);
    return true;
}

/* Element count of a shape, or -1 if it is larger than nncc accepts. */
static int64_t shape_count(const nncc_shape *s)
{
    int64_t c = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->d[i] && c > NNCC_MAX_ELEMS / s->d[i])
            return -1;
        c *= s->d[i];
    }
    return c;
}

/* shape := '[' [ dim { ',' dim } ] ']'
 * dim   := INT | name | '?'          (names and '?' only where `sym` is given: graph inputs) */
static bool parse_shape(parser *P, nncc_shape *s, const char **sym)
{
    token open = P->tok;
    if (!expect(P, '[', " to start a shape"))
        return false;
    s->rank = 0;
    while (!is_punct(P, ']')) {
        if (s->rank && !expect(P, ',', " or ']' in the shape"))
            return false;
        if (s->rank == NNCC_MAX_RANK)
            return error_tok(P, P->tok, "more than %d dims; nncc supports up to %d", NNCC_MAX_RANK, NNCC_MAX_RANK);
        token t = P->tok;
        if (sym && (t.kind == T_IDENT || t.kind == T_STRING || (t.kind == T_PUNCT && t.ch == '?'))) {
            const char *name = "?";
            if (t.kind == T_PUNCT)
                next(P);
            else if (!parse_name(P, &name, "a dim"))
                return false;
            sym[s->rank] = name;
            s->d[s->rank++] = -1;
            continue;
        }
        int64_t v;
        if (!parse_int(P, &v, sym ? "a dim (an integer or a name)" : "a dim"))
            return false;
        if (v < 0)
            return error_tok(P, t, "dim %lld is negative", (long long)v);
        if (sym)
            sym[s->rank] = NULL;
        s->d[s->rank++] = v;
    }
    next(P);
    nncc_shape fixed = *s;
    for (int i = 0; i < fixed.rank; i++)
        if (fixed.d[i] < 0)
            fixed.d[i] = 1;
    if (shape_count(&fixed) < 0)
        return error_tok(P, open, "shape has more than %lld elements", (long long)NNCC_MAX_ELEMS);
    return true;
}

/* Inline data as read: values in the declared element type, and the shape the brackets give. */
typedef struct {
    nncc_dtype dt;
    size_t es;                 /* bytes per element */
    unsigned char *data;
    int64_t n, cap;            /* elements read, room */
    int rank;                  /* nesting of the numbers (-1 not yet known) */
    int64_t dims[NNCC_MAX_RANK];
    bool seen[NNCC_MAX_RANK];  /* dims[i] fixed by a first list at depth i */
    int deepest;               /* deepest list seen */
} literal;

static const char *lit_shape_str(parser *P, const literal *L)
{
    nncc_shape s = { L->rank, { 0 } };
    for (int i = 0; i < L->rank; i++)
        s.d[i] = L->dims[i];
    return nncc_shape_str(P->ctx, &s);
}

/* One number into the literal's buffer, converted to its element type. */
static bool parse_elem(parser *P, literal *L)
{
    token t = P->tok;
    if (L->n == L->cap) {
        int64_t cap = L->cap ? L->cap * 2 : 16;
        unsigned char *d = nncc_alloc_array(P->ctx, (size_t)cap, L->es);
        if (!d)
            return false;
        if (L->n)
            memcpy(d, L->data, (size_t)L->n * L->es);
        L->data = d, L->cap = cap;
    }
    void *dst = L->data + (size_t)L->n * L->es;
    if (L->dt == NNCC_DT_BOOL && (is_word(&t, "true") || is_word(&t, "false"))) {
        *(uint8_t *)dst = is_word(&t, "true");
        L->n++;
        next(P);
        return true;
    }
    if (L->dt == NNCC_DT_U64) { /* the one type past int64's range */
        char buf[64], *end;
        if (t.kind != T_NUMBER || !tok_text(P, buf, sizeof buf))
            return error_tok(P, t, "expected a number, found %s", tok_desc(P, &t));
        errno = 0;
        unsigned long long u = strtoull(buf, &end, int_base(buf));
        if (*end || buf[0] == '-' || errno == ERANGE)
            return error_tok(P, t, "%s is not a uint64", buf);
        *(uint64_t *)dst = u;
        L->n++;
        next(P);
        return true;
    }
    int64_t iv;
    double fv;
    float f32;
    bool isf;
    if (!parse_number(P, &iv, &fv, &isf, &f32, L->dt == NNCC_DT_F64))
        return false;
    static const struct { int64_t lo, hi; } range[] = {
        [NNCC_DT_U8] = { 0, 255 }, [NNCC_DT_I8] = { -128, 127 }, [NNCC_DT_U16] = { 0, 65535 },
        [NNCC_DT_I16] = { -32768, 32767 }, [NNCC_DT_I32] = { INT32_MIN, INT32_MAX },
        [NNCC_DT_U32] = { 0, UINT32_MAX }, [NNCC_DT_BOOL] = { 0, 1 },
    };
    switch (L->dt) {
    case NNCC_DT_F32: *(float *)dst = f32; break;
    case NNCC_DT_F64: *(double *)dst = fv; break;
    case NNCC_DT_I64:
        if (isf && t.kind == T_NUMBER && (int)strspn(t.p, "+-0123456789") >= t.len)
            return error_tok(P, t, "%s is not a valid int64 (out of range)", tok_desc(P, &t));
        if (isf)
            return error_tok(P, t, "expected an integer for int64 data, found %s", tok_desc(P, &t));
        *(int64_t *)dst = iv;
        break;
    default:
        if (isf || iv < range[L->dt].lo || iv > range[L->dt].hi)
            return error_tok(P, t, "%s is not a valid %s", tok_desc(P, &t), nncc_dtype_name(L->dt));
        switch (L->es) {
        case 1: *(uint8_t *)dst = (uint8_t)iv; break;
        case 2: *(uint16_t *)dst = (uint16_t)iv; break;
        default: *(uint32_t *)dst = (uint32_t)iv; break;
        }
    }
    L->n++;
    return true;
}

/* literal := number | '[' [ literal { ',' literal } [','] ] ']'
 * Nested lists must be regular; their nesting gives the data's shape. */
static bool parse_literal(parser *P, literal *L, int depth)
{
    token t = P->tok;
    if (!is_punct(P, '[')) {
        if (L->rank >= 0 && L->rank != depth)
            return error_tok(P, t, "this number sits at nesting depth %d, earlier ones at %d", depth, L->rank);
        L->rank = depth;
        return parse_elem(P, L);
    }
    if (depth >= NNCC_MAX_RANK)
        return error_tok(P, t, "data nested deeper than %d levels", NNCC_MAX_RANK);
    if (L->rank >= 0 && depth >= L->rank)
        return error_tok(P, t, "a list where a number is expected (the data is not regular)");
    next(P);
    int64_t count = 0;
    while (!is_punct(P, ']')) {
        if (count) {
            if (!expect(P, ',', " or ']' in the data"))
                return false;
            if (is_punct(P, ']'))
                break; /* trailing comma */
        }
        if (!parse_literal(P, L, depth + 1))
            return false;
        count++;
    }
    next(P);
    if (depth > L->deepest)
        L->deepest = depth;
    if (!L->seen[depth]) {
        L->seen[depth] = true;
        L->dims[depth] = count;
    } else if (L->dims[depth] != count) {
        return error_tok(P, t, "this list has %lld values, an earlier one at the same depth %lld (the data is not "
                               "regular)", (long long)count, (long long)L->dims[depth]);
    }
    return true;
}

/* A tensor's data: what `= ...` (weights) or the tail of `tensor T[..] ...` gives. */
typedef struct {
    nncc_dtype dt;
    nncc_shape shape;
    void *data;
} tensor_value;

/* Checks that inline data fits the declared shape: the same shape, or a flat
 * list (or a single number) of the right count. Reports both shapes. */
static bool check_literal(parser *P, const token *at, const char *name, literal *L, const tensor_value *v)
{
    if (L->rank < 0)
        L->rank = L->deepest + 1; /* only empty lists */
    int64_t want = shape_count(&v->shape);
    bool same = L->rank == v->shape.rank;
    for (int i = 0; same && i < L->rank; i++)
        same = L->dims[i] == v->shape.d[i];
    if (same || (L->rank <= 1 && L->n == want))
        return true;
    return error_tok(P, *at, "'%s' is declared %s[%s] (%lld values), its data has shape %s (%lld values)", name,
                     nncc_dtype_name(v->dt), nncc_shape_str(P->ctx, &v->shape), (long long)want,
                     L->rank ? lit_shape_str(P, L) : "scalar", (long long)L->n);
}

/* A path named in the file, resolved next to it; relative paths inside its folder only. */
static const char *side_path(parser *P, const token *at, const char *file)
{
    if (!P->dir) {
        error_tok(P, *at, "file() and npy() are not available here (the text was not read from a file)");
        return NULL;
    }
    if (file[0] == '/' || strstr(file, "..")) {
        error_tok(P, *at, "'%s': data files must be relative paths inside the graph file's folder", file);
        return NULL;
    }
    return nncc_fmt(P->ctx, "%s%s", P->dir, file);
}

/* Opens a data file and gives its size; reports failures at `at`. */
static FILE *open_data(parser *P, const token *at, const char *path, int64_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) {
        error_tok(P, *at, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        error_tok(P, *at, "'%s' is not a regular file", path);
        fclose(f);
        return NULL;
    }
    *size = (int64_t)st.st_size;
    return f;
}

/* Reads `bytes` at `offset` (already checked against the file's size). */
static bool read_data(parser *P, const token *at, FILE *f, const char *path, int64_t offset, size_t bytes, void **out)
{
    void *p = nncc_alloc(P->ctx, bytes ? bytes : 1);
    if (!p)
        return false;
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(p, 1, bytes, f) != bytes)
        return error_tok(P, *at, "cannot read %zu bytes at offset %lld of '%s'", bytes, (long long)offset, path);
    *out = p;
    return true;
}

/* file_data := 'file' '(' string [ ',' 'offset' '=' INT ] ')'
 * Raw little-endian elements of the declared type, count from the declared shape. */
static bool parse_file(parser *P, const char *name, tensor_value *v)
{
    token at = P->tok;
    const char *file;
    int64_t offset = 0;
    next(P);
    if (!expect(P, '(', " after 'file'") || !parse_string(P, &file))
        return false;
    if (is_punct(P, ',')) {
        next(P);
        token k = P->tok;
        if (!is_word(&k, "offset"))
            return error_tok(P, k, "expected 'offset', found %s", tok_desc(P, &k));
        next(P);
        if (!expect(P, '=', " after 'offset'"))
            return false;
        token o = P->tok;
        if (!parse_int(P, &offset, "an offset"))
            return false;
        if (offset < 0)
            return error_tok(P, o, "offset %lld is negative", (long long)offset);
    }
    if (!expect(P, ')', " to close file(...)"))
        return false;
    const char *path = side_path(P, &at, file);
    if (!path)
        return false;
    int64_t size;
    FILE *f = open_data(P, &at, path, &size);
    if (!f)
        return false;
    size_t bytes = (size_t)shape_count(&v->shape) * nncc_dtype_size(v->dt);
    bool ok;
    if (offset > size || (int64_t)bytes > size - offset)
        ok = error_tok(P, at, "'%s' needs %zu bytes at offset %lld, but '%s' has %lld bytes", name, bytes,
                       (long long)offset, file, (long long)size);
    else
        ok = read_data(P, &at, f, path, offset, bytes, &v->data);
    fclose(f);
    return ok;
}

/* The value of key `key` in a .npy header dict, or NULL. */
static const char *npy_key(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == ':')
        p++;
    return p;
}

/* npy_data := 'npy' '(' string ')'
 * A .npy file (format 1.0-3.0, C order, little-endian) whose dtype and shape equal the declaration. */
static bool parse_npy(parser *P, const char *name, tensor_value *v)
{
    token at = P->tok;
    const char *file;
    next(P);
    if (!expect(P, '(', " after 'npy'") || !parse_string(P, &file) || !expect(P, ')', " to close npy(...)"))
        return false;
    const char *path = side_path(P, &at, file);
    if (!path)
        return false;
    int64_t size;
    FILE *f = open_data(P, &at, path, &size);
    if (!f)
        return false;
    unsigned char pre[12];
    char *hdr = NULL;
    bool ok = false;
    size_t hlen = 0, start = 0;
    if (size < 10 || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 || pre[6] > 3) {
        error_tok(P, at, "'%s' is not a .npy file", file);
        goto out;
    }
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        start = 10;
    } else {
        if (fread(pre + 10, 1, 2, f) != 2) {
            error_tok(P, at, "'%s' is not a .npy file", file);
            goto out;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        start = 12;
    }
    if (hlen > MAX_NPY_HEADER || (int64_t)(start + hlen) > size) {
        error_tok(P, at, "'%s': the .npy header is damaged", file);
        goto out;
    }
    hdr = nncc_alloc(P->ctx, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        error_tok(P, at, "'%s': cannot read the .npy header", file);
        goto out;
    }
    hdr[hlen] = 0;
    static const char *const descr[] = {
        [NNCC_DT_F32] = "f4", [NNCC_DT_F64] = "f8", [NNCC_DT_I8] = "i1", [NNCC_DT_U8] = "u1",
        [NNCC_DT_I16] = "i2", [NNCC_DT_U16] = "u2", [NNCC_DT_I32] = "i4", [NNCC_DT_U32] = "u4",
        [NNCC_DT_I64] = "i8", [NNCC_DT_U64] = "u8", [NNCC_DT_BOOL] = "b1",
    };
    const char *d = npy_key(hdr, "'descr'"), *fo = npy_key(hdr, "'fortran_order'"), *sh = npy_key(hdr, "'shape'");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
        error_tok(P, at, "'%s': the .npy header lacks descr, fortran_order or shape", file);
        goto out;
    }
    if (strncmp(fo, "False", 5) != 0) {
        error_tok(P, at, "'%s' is in Fortran order; save it in C order", file);
        goto out;
    }
    const char *want = descr[v->dt];
    if (!want || !(d[1] == '<' || d[1] == '|') || strncmp(d + 2, want, 2) != 0 || d[4] != '\'') {
        const char *q = strchr(d + 1, '\'');
        int n = q ? (int)(q - d - 1) : 0;
        error_tok(P, at, "'%s' holds dtype '%.*s', '%s' is declared %s (.npy '<%s')", file, n > 16 ? 16 : n, d + 1,
                  name, nncc_dtype_name(v->dt), want ? want : "?");
        goto out;
    }
    nncc_shape s = { 0, { 0 } };
    const char *p = sh + 1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p || x < 0 || s.rank == NNCC_MAX_RANK) {
            error_tok(P, at, "'%s': cannot read the shape in the .npy header", file);
            goto out;
        }
        s.d[s.rank++] = x;
        p = end;
    }
    if (!nncc_shape_eq(&s, &v->shape)) {
        error_tok(P, at, "'%s' is declared %s[%s], '%s' holds shape %s", name, nncc_dtype_name(v->dt),
                  nncc_shape_str(P->ctx, &v->shape), file, nncc_shape_str(P->ctx, &s));
        goto out;
    }
    size_t bytes = (size_t)shape_count(&v->shape) * nncc_dtype_size(v->dt);
    if ((int64_t)bytes > size - (int64_t)(start + hlen)) {
        error_tok(P, at, "'%s' is shorter than its header says (%zu bytes of data needed)", file, bytes);
        goto out;
    }
    ok = read_data(P, &at, f, path, (int64_t)(start + hlen), bytes, &v->data);
out:
    fclose(f);
    return ok;
}

/* data := literal | file_data | npy_data */
static bool parse_data(parser *P, const char *name, tensor_value *v)
{
    token at = P->tok;
    if (is_word(&at, "file"))
        return parse_file(P, name, v);
    if (is_word(&at, "npy"))
        return parse_npy(P, name, v);
    if (!is_punct(P, '[') && !is_number_tok(&at) && !is_word(&at, "true") && !is_word(&at, "false"))
        return error_tok(P, at, "expected data ([...], file(...) or npy(...)), found %s", tok_desc(P, &at));
    literal L = { .dt = v->dt, .es = nncc_dtype_size(v->dt), .rank = -1, .deepest = -1 };
    if (!parse_literal(P, &L, 0) || !check_literal(P, &at, name, &L, v))
        return false;
    v->data = L.data ? L.data : nncc_alloc(P->ctx, 1);
    return v->data != NULL;
}

/* tensor_value := dtype shape data */
static bool parse_tensor_value(parser *P, const char *name, tensor_value *v)
{
    return parse_dtype(P, &v->dt) && parse_shape(P, &v->shape, NULL) && parse_data(P, name, v);
}

static void set_tensor(parser *P, int ti, const tensor_value *v)
{
    nncc_tensor *t = &P->g->t[ti];
    t->dtype = v->dt;
    t->shape = v->shape;
    t->has_shape = true;
    t->data = v->data;
}

/* ---- statements ---- */

/* graph_stmt := 'graph' name */
static bool parse_graph(parser *P)
{
    token kw = P->tok;
    next(P);
    const char *name;
    if (!parse_name(P, &name, "the graph's name"))
        return false;
    if (P->seen_graph)
        return error_tok(P, kw, "the graph is named twice");
    P->seen_graph = true;
    P->g->name = name;
    return true;
}

/* source_stmt := 'source' STRING     (the model file --emit-graph read; names it in generated C) */
static bool parse_source(parser *P)
{
    token kw = P->tok;
    next(P);
    const char *src;
    if (!parse_string(P, &src))
        return false;
    if (P->g->source)
        return error_tok(P, kw, "the source is given twice");
    P->g->source = src;
    return true;
}

/* opset_stmt := 'opset' INT */
static bool parse_opset(parser *P)
{
    token kw = P->tok;
    next(P);
    token t = P->tok;
    int64_t v;
    if (!parse_int(P, &v, "an opset version"))
        return false;
    if (v < 1 || v > 1000)
        return error_tok(P, t, "opset %lld is not an ONNX opset version", (long long)v);
    if (P->seen_opset)
        return error_tok(P, kw, "the opset is given twice");
    if (P->seen_node)
        return error_tok(P, kw, "the opset must come before the first node");
    P->seen_opset = true;
    P->g->opset = v;
    return true;
}

/* input_stmt := 'input' name ':' dtype shape        (dims may be names: symbolic) */
static bool parse_input(parser *P)
{
    next(P);
    token at = P->tok;
    const char *name;
    nncc_dtype dt;
    nncc_shape s;
    const char *sym[NNCC_MAX_RANK] = { 0 };
    if (!parse_name(P, &name, "the input's name") || !expect(P, ':', " after the input's name") ||
        !parse_dtype(P, &dt) || !parse_shape(P, &s, sym))
        return false;
    int ti = tensor(P, name);
    if (ti < 0 || !may_declare(P, ti, &at))
        return false;
    nncc_tensor *t = &P->g->t[ti];
    t->dtype = dt;
    t->shape = s;
    t->has_shape = true;
    t->is_input = true;
    memcpy(t->sym, sym, sizeof sym);
    P->decl[ti] = D_INPUT;
    P->decl_line[ti] = at.line;
    if (P->n_inputs == P->cap_inputs) {
        int cap = P->cap_inputs ? P->cap_inputs * 2 : 8;
        int *v = nncc_alloc_array(P->ctx, (size_t)cap, sizeof(int));
        if (!v)
            return false;
        if (P->n_inputs)
            memcpy(v, P->inputs, (size_t)P->n_inputs * sizeof(int));
        P->inputs = v, P->cap_inputs = cap;
    }
    P->inputs[P->n_inputs++] = ti;
    return true;
}

/* output_stmt := 'output' name [ ':' dtype [ shape ] ]   (the type is a comment: inference decides) */
static bool parse_output(parser *P)
{
    next(P);
    token at = P->tok;
    const char *name;
    if (!parse_name(P, &name, "the output's name"))
        return false;
    if (is_punct(P, ':')) {
        nncc_dtype dt;
        nncc_shape s;
        const char *sym[NNCC_MAX_RANK];
        next(P);
        if (!parse_dtype(P, &dt))
            return false;
        if (is_punct(P, '[') && !parse_shape(P, &s, sym))
            return false;
    }
    if (P->n_outs == P->cap_outs) {
        int cap = P->cap_outs ? P->cap_outs * 2 : 8;
        ref *v = nncc_alloc_array(P->ctx, (size_t)cap, sizeof(ref));
        if (!v)
            return false;
        if (P->n_outs)
            memcpy(v, P->outs, (size_t)P->n_outs * sizeof(ref));
        P->outs = v, P->cap_outs = cap;
    }
    P->outs[P->n_outs++] = (ref){ name, at.line, at.col };
    return true;
}

/* weight_stmt := 'weight' name ':' dtype shape '=' data */
static bool parse_weight(parser *P)
{
    next(P);
    token at = P->tok;
    const char *name;
    tensor_value v = { 0 };
    if (!parse_name(P, &name, "the weight's name"))
        return false;
    int ti = tensor(P, name);
    if (ti < 0)
        return false;
    bool ok = may_declare(P, ti, &at);
    if (P->decl[ti] == D_NONE) { /* uses of a weight that fails below are not reported again */
        P->decl[ti] = D_BROKEN;
        P->decl_line[ti] = at.line;
    }
    if (!ok)
        return false;
    if (!expect(P, ':', " after the weight's name") || !parse_dtype(P, &v.dt) || !parse_shape(P, &v.shape, NULL) ||
        !expect(P, '=', " before the weight's data") || !parse_data(P, name, &v))
        return false;
    set_tensor(P, ti, &v);
    P->decl[ti] = D_WEIGHT;
    return true;
}

/* A growable list of refs in the arena. */
static bool push_ref(parser *P, ref **v, int *n, int *cap, ref r)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 4;
        ref *nv = nncc_alloc_array(P->ctx, (size_t)c, sizeof(ref));
        if (!nv)
            return false;
        if (*n)
            memcpy(nv, *v, (size_t)*n * sizeof(ref));
        *v = nv, *cap = c;
    }
    (*v)[(*n)++] = r;
    return true;
}

/* operand := name | '_'        ('_': an optional input or output left out) */
static bool parse_operand(parser *P, ref *r)
{
    token t = P->tok;
    r->line = t.line, r->col = t.col, r->name = NULL;
    if (is_word(&t, "_")) {
        next(P);
        return true;
    }
    return parse_name(P, &r->name, "a tensor name or '_'");
}

/* One attribute being read: the IR attribute and, for TENSOR, its value
 * (the tensor is created after the node, as the ONNX frontend does). */
typedef struct {
    nncc_attr a;
    tensor_value tv;
    int line, col;
} pattr;

/* attr_value := INT | FLOAT | string | list | ( 'ints' | 'floats' ) list | 'tensor' tensor_value
 * list       := '[' [ number { ',' number } ] ']'    (any float in it makes it FLOATS) */
static bool parse_attr_value(parser *P, pattr *pa, const char *node_desc)
{
    nncc_attr *a = &pa->a;
    token t = P->tok;
    if (t.kind == T_STRING) {
        a->type = NNCC_ATTR_STRING;
        return parse_string(P, &a->s);
    }
    if (is_word(&t, "tensor")) {
        next(P);
        a->type = NNCC_ATTR_TENSOR;
        return parse_tensor_value(P, nncc_fmt(P->ctx, "%s.%s", node_desc, a->name), &pa->tv);
    }
    int forced = 0; /* 1: ints, 2: floats */
    if (is_word(&t, "ints") || is_word(&t, "floats")) {
        forced = is_word(&t, "ints") ? 1 : 2;
        next(P);
        if (!is_punct(P, '['))
            return error_tok(P, P->tok, "expected '[' after '%.*s'", t.len, t.p);
    }
    int64_t iv;
    double dv;
    float fv;
    bool isf;
    if (!is_punct(P, '[')) {
        if (!is_number_tok(&t))
            return error_tok(P, t, "expected an attribute value (number, string, [list] or tensor), found %s",
                             tok_desc(P, &t));
        if (!parse_number(P, &iv, &dv, &isf, &fv, false))
            return false;
        a->type = isf ? NNCC_ATTR_FLOAT : NNCC_ATTR_INT;
        a->i = iv;
        a->f = fv;
        return true;
    }
    next(P);
    int n = 0, cap = 0;
    int64_t *ints = NULL;
    float *floats = NULL;
    bool any_float = forced == 2;
    while (!is_punct(P, ']')) {
        if (n) {
            if (!expect(P, ',', " or ']' in the list"))
                return false;
            if (is_punct(P, ']'))
                break;
        }
        token e = P->tok;
        if (!parse_number(P, &iv, &dv, &isf, &fv, false))
            return false;
        if (isf && forced == 1)
            return error_tok(P, e, "%s in an ints[...] list", tok_desc(P, &e));
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *ni = nncc_alloc_array(P->ctx, (size_t)cap + 1, sizeof(int64_t));
            float *nf = nncc_alloc_array(P->ctx, (size_t)cap + 1, sizeof(float));
            if (!ni || !nf)
                return false;
            if (n) {
                memcpy(ni, ints, (size_t)n * sizeof(int64_t));
                memcpy(nf, floats, (size_t)n * sizeof(float));
            }
            ints = ni, floats = nf;
        }
        any_float |= isf;
        ints[n] = iv;
        floats[n] = fv;
        n++;
    }
    next(P);
    if (!ints) { /* empty list */
        ints = nncc_alloc_array(P->ctx, 1, sizeof(int64_t));
        floats = nncc_alloc_array(P->ctx, 1, sizeof(float));
        if (!ints || !floats)
            return false;
    }
    a->n = n;
    if (any_float) {
        a->type = NNCC_ATTR_FLOATS;
        a->floats = floats;
    } else {
        a->type = NNCC_ATTR_INTS;
        a->ints = ints;
    }
    return true;
}

/* node_stmt := operand { ',' operand } '=' OP '(' [ operand { ',' operand } ] ')'
 *              [ '{' [ attr { ',' attr } ] '}' ] [ '@' name ]
 * attr      := IDENT '=' attr_value */
static bool parse_node(parser *P)
{
    ref *outs = NULL, *ins = NULL;
    int n_out = 0, c_out = 0, n_in = 0, c_in = 0;
    pattr *attrs = NULL;
    int n_attr = 0, c_attr = 0;
    ref r;
    for (;;) {
        if (!parse_operand(P, &r) || !push_ref(P, &outs, &n_out, &c_out, r))
            return false;
        if (!is_punct(P, ','))
            break;
        next(P);
    }
    if (!expect(P, '=', " after the node's outputs (or a statement: graph, opset, input, output, weight)"))
        return false;
    token op_tok = P->tok;
    if (op_tok.kind != T_IDENT)
        return error_tok(P, op_tok, "expected an operator name, found %s", tok_desc(P, &op_tok));
    const char *op_name = nncc_strndup(P->ctx, op_tok.p, (size_t)op_tok.len);
    next(P);
    if (!op_name || !expect(P, '(', " after the operator name"))
        return false;
    while (!is_punct(P, ')')) {
        if (n_in && !expect(P, ',', " or ')' between the inputs"))
            return false;
        if (!parse_operand(P, &r) || !push_ref(P, &ins, &n_in, &c_in, r))
            return false;
    }
    next(P);
    if (is_punct(P, '{')) {
        next(P);
        while (!is_punct(P, '}')) {
            if (n_attr && !expect(P, ',', " or '}' between the attributes"))
                return false;
            token an = P->tok;
            const char *aname;
            if (!parse_name(P, &aname, "an attribute name"))
                return false;
            for (int i = 0; i < n_attr; i++)
                if (!strcmp(attrs[i].a.name, aname))
                    return error_tok(P, an, "attribute '%s' is given twice", aname);
            if (!expect(P, '=', " after the attribute name"))
                return false;
            if (n_attr == c_attr) {
                c_attr = c_attr ? c_attr * 2 : 4;
                pattr *na = nncc_alloc_array(P->ctx, (size_t)c_attr, sizeof(pattr));
                if (!na)
                    return false;
                if (n_attr)
                    memcpy(na, attrs, (size_t)n_attr * sizeof(pattr));
                attrs = na;
            }
            pattr *pa = &attrs[n_attr++];
            memset(pa, 0, sizeof *pa);
            pa->a.name = aname;
            pa->line = an.line, pa->col = an.col;
            if (!parse_attr_value(P, pa, op_name))
                return false;
        }
        next(P);
    }
    const char *node_name = NULL;
    if (is_punct(P, '@')) {
        next(P);
        if (!parse_name(P, &node_name, "the node's name after '@'"))
            return false;
    }
    if (P->tok.kind != T_NL && P->tok.kind != T_EOF)
        return error_tok(P, P->tok, "expected the end of the line after the node, found %s", tok_desc(P, &P->tok));

    /* the line parsed: build the node (or report why not) */
    P->seen_node = true;
    int op = nncc_op_lookup(op_name);
    bool ok = true;
    if (op < 0) {
        const char *hint = nncc_op_suggest(op_name);
        error_tok(P, op_tok, "unknown op '%s'%s", op_name,
                  hint && strcmp(hint, op_name) ? nncc_fmt(P->ctx, " (did you mean '%s'?)", hint) : "");
        ok = false;
    }
    /* outputs must be new; check before anything is created */
    for (int k = 0; k < n_out; k++) {
        if (!outs[k].name)
            continue;
        int ti = nncc_tensor_find(P->g, outs[k].name);
        for (int j = 0; j < k && ti < 0; j++)
            if (outs[j].name && !strcmp(outs[j].name, outs[k].name)) {
                error_at(P, outs[k].line, outs[k].col, "'%s' is written twice by this node", outs[k].name);
                ok = false;
            }
        if (ti >= 0 && !may_declare(P, ti, &(token){ .line = outs[k].line, .col = outs[k].col }))
            ok = false;
    }
    if (!ok) {
        /* its outputs exist, so later uses are not reported as undeclared */
        for (int k = 0; k < n_out; k++) {
            int ti = outs[k].name ? tensor(P, outs[k].name) : -1;
            if (ti >= 0 && P->decl[ti] == D_NONE)
                P->decl[ti] = D_BROKEN, P->decl_line[ti] = outs[k].line;
        }
        return true; /* reported; the line itself was read to its end */
    }
    nncc_node *n = nncc_node_add(P->g, op, node_name, n_in, n_out);
    if (!n)
        return false;
    n->line = op_tok.line;
    n->col = op_tok.col;
    for (int k = 0; k < n_in; k++) /* inputs first, then outputs, then attribute tensors: ONNX's order */
        if (ins[k].name && (n->in[k] = tensor(P, ins[k].name)) < 0)
            return false;
    for (int k = 0; k < n_out; k++) {
        n->out[k] = -1;
        if (!outs[k].name)
            continue;
        if ((n->out[k] = tensor(P, outs[k].name)) < 0)
            return false;
        P->decl[n->out[k]] = D_NODE;
        P->decl_line[n->out[k]] = outs[k].line;
    }
    n->n_attr = n_attr;
    n->attr = nncc_alloc_array(P->ctx, (size_t)n_attr + 1, sizeof(nncc_attr));
    if (!n->attr)
        return false;
    for (int k = 0; k < n_attr; k++) {
        n->attr[k] = attrs[k].a;
        if (attrs[k].a.type != NNCC_ATTR_TENSOR)
            continue;
        int ti = nncc_tensor_new_unique(P->g, nncc_fmt(P->ctx, "%s.%s", n->name, attrs[k].a.name));
        if (ti < 0 || !decl_room(P))
            return false;
        set_tensor(P, ti, &attrs[k].tv);
        P->decl[ti] = D_WEIGHT;
        P->decl_line[ti] = attrs[k].line;
        n->attr[k].tensor = ti;
    }
    return true;
}

static bool is_keyword(const token *t)
{
    return is_word(t, "graph") || is_word(t, "source") || is_word(t, "opset") || is_word(t, "input") ||
           is_word(t, "output") || is_word(t, "weight");
}

/* statement := graph_stmt | source_stmt | opset_stmt | input_stmt | output_stmt | weight_stmt | node_stmt
 * A keyword followed by '=' or ',' is a tensor name (`input = Relu(x)`). */
static bool parse_statement(parser *P)
{
    token t = P->tok;
    bool ok;
    if (is_keyword(&t)) {
        token n = peek(P);
        if (n.kind == T_PUNCT && (n.ch == '=' || n.ch == ','))
            return parse_node(P);
        if (is_word(&t, "graph"))
            ok = parse_graph(P);
        else if (is_word(&t, "source"))
            ok = parse_source(P);
        else if (is_word(&t, "opset"))
            ok = parse_opset(P);
        else if (is_word(&t, "input"))
            ok = parse_input(P);
        else if (is_word(&t, "output"))
            ok = parse_output(P);
        else
            ok = parse_weight(P);
    } else if (t.kind == T_IDENT || t.kind == T_STRING) {
        return parse_node(P);
    } else {
        return error_tok(P, t, "expected a statement (graph, opset, input, output, weight, or a node 'y = Op(x)'), "
                               "found %s", tok_desc(P, &t));
    }
    if (ok && P->tok.kind != T_NL && P->tok.kind != T_EOF)
        return error_tok(P, P->tok, "expected the end of the line, found %s", tok_desc(P, &P->tok));
    return ok;
}

/* After all statements: outputs, and inputs nobody declared. */
static void finish(parser *P)
{
    nncc_graph *g = P->g;
    g->inputs = P->inputs ? P->inputs : nncc_alloc_array(P->ctx, 1, sizeof(int));
    g->n_inputs = P->n_inputs;
    g->outputs = nncc_alloc_array(P->ctx, (size_t)P->n_outs + 1, sizeof(int));
    if (!g->inputs || !g->outputs)
        return;
    for (int i = 0; i < P->n_outs; i++) {
        ref *o = &P->outs[i];
        int ti = nncc_tensor_find(g, o->name);
        if (ti < 0) {
            error_at(P, o->line, o->col, "graph output '%s' is not computed by any node", o->name);
            continue;
        }
        if (P->decl[ti] == D_BROKEN)
            continue;
        g->t[ti].is_output = true;
        g->outputs[g->n_outputs++] = ti;
    }
    if (P->n_outs == 0 && !P->errors)
        error_at(P, P->line, 1, "the graph has no output (add a line 'output NAME')");
    for (int i = 0; i < g->n_n; i++) {
        nncc_node *n = &g->n[i];
        for (int k = 0; k < n->n_in; k++) {
            int ti = n->in[k];
            if (ti >= 0 && P->decl[ti] == D_NONE) {
                error_at(P, n->line, n->col, "input '%s' of this %s is not declared: it is not a graph input, a "
                                             "weight or any node's output", g->t[ti].name, nncc_ops[n->op]->name);
                P->decl[ti] = D_BROKEN; /* once */
            }
        }
    }
}

/* file := { [ statement ] NEWLINE } EOF */
nncc_status nncc_parse_text(nncc_ctx *ctx, const char *src, size_t len, const char *dir, nncc_graph **out)
{
    parser P0 = { 0 }, *P = &P0;
    P->ctx = ctx;
    P->g = nncc_graph_new(ctx);
    if (!P->g)
        return NNCC_ERR_NOMEM;
    P->g->opset = DEFAULT_OPSET;
    P->src = P->pos = src;
    P->end = src + len;
    P->line = P->col = 1;
    P->dir = dir;
    next(P);
    while (P->tok.kind != T_EOF && !P->stop && !ctx->oom) {
        if (P->tok.kind == T_NL) {
            next(P);
            continue;
        }
        if (!parse_statement(P))
            recover(P);
        else if (P->tok.kind == T_NL)
            next(P);
    }
    if (!P->stop && !ctx->oom)
        finish(P);
    if (ctx->oom)
        return NNCC_ERR_NOMEM;
    if (P->errors)
        return NNCC_ERR_INPUT;
    *out = P->g;
    return NNCC_OK;
}

nncc_status nncc_load_text(nncc_ctx *ctx, const char *path, nncc_graph **out)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) {
        nncc_error_file(ctx, "cannot open: %s", strerror(errno));
        return NNCC_ERR_IO;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_TEXT_BYTES) {
        nncc_error_file(ctx, S_ISREG(st.st_mode) ? "the file is larger than %zu bytes (put weights in side files)"
                                                 : "not a regular file", MAX_TEXT_BYTES);
        fclose(f);
        return NNCC_ERR_INPUT;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf || fread(buf, 1, len, f) != len) {
        nncc_error_file(ctx, buf ? "read error" : "out of memory reading the file");
        free(buf);
        fclose(f);
        return buf ? NNCC_ERR_IO : NNCC_ERR_NOMEM;
    }
    fclose(f);
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? nncc_strndup(ctx, path, (size_t)(slash - path + 1)) : "";
    nncc_status st2 = dir ? nncc_parse_text(ctx, buf, len, dir, out) : NNCC_ERR_NOMEM;
    free(buf);
    return st2;
}
