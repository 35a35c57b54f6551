/*
 * registry.c - the table of operator descriptors, built from ops.def.
 *
 * Passes and backends find what an op means here, by its enum; nothing else
 * in the compiler switches on op types.
 */
#include "nncc-impl.h"

#include <string.h>

#define NNCC_OP(id) extern const nncc_op nncc_op_##id;
#include "ops/ops.def"
#undef NNCC_OP

const nncc_op *const nncc_ops[NNCC_OP_COUNT] = {
#define NNCC_OP(id) [NNCC_OP_##id] = &nncc_op_##id,
#include "ops/ops.def"
#undef NNCC_OP
};

int nncc_op_lookup(const char *name)
{
    for (int i = 0; i < NNCC_OP_COUNT; i++)
        if (strcmp(nncc_ops[i]->name, name) == 0)
            return i;
    return -1;
}

/* Edit distance, case-insensitive, for "did you mean" hints. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++) {
        for (int j = 1; j <= lb; j++) {
            int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *nncc_op_suggest(const char *name)
{
    const char *best = NULL;
    /* suggest only close names: one edit for short names, two for longer */
    int bd = strlen(name) > 3 ? 3 : 2;
    for (int i = 0; i < NNCC_OP_COUNT; i++) {
        int d = distance(name, nncc_ops[i]->name);
        if (d < bd) {
            bd = d;
            best = nncc_ops[i]->name;
        }
    }
    return best;
}
