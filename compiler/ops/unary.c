/*
 * unary.c - elementwise functions of one input: activations and math (Relu,
 * LeakyRelu, Clip, Sigmoid, Tanh, Sqrt, Exp, Log, Gelu, Sinh, ...).
 *
 * One table, keyed by op, gives each op's runtime code, its attributes
 * (name and default) that become the kernel's alpha and beta, and whether
 * it takes integers. float32 calls nncc_unary_f32; float64, float16 and
 * the integer types the typed nncc_unary. Clip from opset 11 takes min and max as
 * inputs: constants become literals, others are read at run time.
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

typedef struct {
    int code;                     /* nncc_unary_op */
    const char *a_name, *b_name;  /* attributes read into alpha, beta (NULL: none) */
    float a_def, b_def;           /* their defaults */
    int ints;                     /* 1: integers too; 2: integers only */
} unary_info;

static const unary_info infos[NNCC_OP_COUNT] = {
    [NNCC_OP_Relu] = { NNCC_UN_RELU, NULL, NULL, 0, 0, 1 },
    [NNCC_OP_LeakyRelu] = { NNCC_UN_LEAKY_RELU, "alpha", NULL, 0.01f, 0, 0 },
    [NNCC_OP_Clip] = { NNCC_UN_CLIP, NULL, NULL, 0, 0, 1 },
    [NNCC_OP_Sigmoid] = { NNCC_UN_SIGMOID, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Tanh] = { NNCC_UN_TANH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Sqrt] = { NNCC_UN_SQRT, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Exp] = { NNCC_UN_EXP, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Log] = { NNCC_UN_LOG, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Neg] = { NNCC_UN_NEG, NULL, NULL, 0, 0, 1 },
    [NNCC_OP_Abs] = { NNCC_UN_ABS, NULL, NULL, 0, 0, 1 },
    [NNCC_OP_Reciprocal] = { NNCC_UN_RECIPROCAL, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Floor] = { NNCC_UN_FLOOR, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Ceil] = { NNCC_UN_CEIL, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Erf] = { NNCC_UN_ERF, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Elu] = { NNCC_UN_ELU, "alpha", NULL, 1.0f, 0, 0 },
    [NNCC_OP_Selu] = { NNCC_UN_SELU, "alpha", "gamma", 1.67326319217681884765625f, 1.05070102214813232421875f, 0 },
    [NNCC_OP_HardSigmoid] = { NNCC_UN_HARD_SIGMOID, "alpha", "beta", 0.2f, 0.5f, 0 },
    [NNCC_OP_HardSwish] = { NNCC_UN_HARD_SWISH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Softplus] = { NNCC_UN_SOFTPLUS, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Softsign] = { NNCC_UN_SOFTSIGN, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Sin] = { NNCC_UN_SIN, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Cos] = { NNCC_UN_COS, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Tan] = { NNCC_UN_TAN, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Round] = { NNCC_UN_ROUND, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Sign] = { NNCC_UN_SIGN, NULL, NULL, 0, 0, 1 },
    [NNCC_OP_Gelu] = { NNCC_UN_GELU, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Mish] = { NNCC_UN_MISH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Celu] = { NNCC_UN_CELU, "alpha", NULL, 1.0f, 0, 0 },
    [NNCC_OP_ThresholdedRelu] = { NNCC_UN_THRESHOLDED_RELU, "alpha", NULL, 1.0f, 0, 0 },
    [NNCC_OP_Shrink] = { NNCC_UN_SHRINK, "lambd", "bias", 0.5f, 0.0f, 0 },
    [NNCC_OP_Sinh] = { NNCC_UN_SINH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Cosh] = { NNCC_UN_COSH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Asin] = { NNCC_UN_ASIN, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Acos] = { NNCC_UN_ACOS, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Atan] = { NNCC_UN_ATAN, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Asinh] = { NNCC_UN_ASINH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Acosh] = { NNCC_UN_ACOSH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Atanh] = { NNCC_UN_ATANH, NULL, NULL, 0, 0, 0 },
    [NNCC_OP_Swish] = { NNCC_UN_SWISH, "alpha", NULL, 1.0f, 0, 0 },
    [NNCC_OP_BitwiseNot] = { NNCC_UN_BITNOT, NULL, NULL, 0, 0, 2 },
};

/* Reads a constant scalar of any numeric type as double. */
static double scalar_d(const nncc_tensor *t)
{
    double v = 0.0;
    nncc_cast((int32_t)t->dtype, NNCC_RT_F64, 1, t->data, &v);
    return v;
}

/* The kernel's alpha and beta for node n. */
static nncc_status unary_args(nncc_graph *g, nncc_node *n, double *alpha, double *beta)
{
    const unary_info *u = &infos[n->op];
    *alpha = u->a_name ? nncc_attr_float(g, n, u->a_name, u->a_def) : 0.0f;
    *beta = u->b_name ? nncc_attr_float(g, n, u->b_name, u->b_def) : 0.0f;
    if (n->op == NNCC_OP_Gelu) {
        const char *ap = nncc_attr_str(g, n, "approximate", "none");
        if (strcmp(ap, "none") && strcmp(ap, "tanh")) {
            nncc_error(g, n, "approximate must be 'none' or 'tanh', not '%s'", ap);
            return NNCC_ERR_INPUT;
        }
        *alpha = !strcmp(ap, "tanh");
    }
    if (n->op == NNCC_OP_Clip) {
        *alpha = -INFINITY;
        *beta = INFINITY;
        if (n->opset < 11) {
            *alpha = nncc_attr_float(g, n, "min", -INFINITY);
            *beta = nncc_attr_float(g, n, "max", INFINITY);
        }
        for (int i = 1; i < n->n_in && i < 3; i++) {
            nncc_tensor *t = nncc_in(g, n, i);
            if (!t)
                continue;
            if (t->dtype != nncc_in(g, n, 0)->dtype || nncc_shape_count(&t->shape) != 1) {
                nncc_error(g, n, "Clip's %s must be one value of the input's type", i == 1 ? "min" : "max");
                return NNCC_ERR_INPUT;
            }
            if (t->data) /* else read at run time (see bound_c) */
                *(i == 1 ? alpha : beta) = scalar_d(t);
        }
    }
    return NNCC_OK;
}

static nncc_status unary_infer(nncc_graph *g, nncc_node *n)
{
    int max_in = n->op == NNCC_OP_Clip ? 3 : 1;
    if (nncc_check_inputs(g, n, 1, max_in))
        return NNCC_ERR_INPUT;
    nncc_tensor *x = nncc_in(g, n, 0);
    int ints = infos[n->op].ints;
    bool fl = nncc_dtype_is_float(x->dtype) || x->dtype == NNCC_DT_F16;
    bool ok = fl ? ints != 2 : nncc_dtype_is_int(x->dtype) && ints;
    if (!ok)
        return nncc_unsupported(g, n, "%s of %s", nncc_ops[n->op]->name, nncc_dtype_name(x->dtype));
    double a, b;
    if (unary_args(g, n, &a, &b) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, x->dtype, &x->shape);
    return NNCC_OK;
}

/* Clip's bound i (1: min, 2: max) as a C expression: the constant, or the
 * value of a tensor computed at run time. */
static const char *bound_c(nncc_emit *e, nncc_graph *g, nncc_node *n, int i, double v, bool f32)
{
    nncc_tensor *t = n->op == NNCC_OP_Clip && i < n->n_in ? nncc_in(g, n, i) : NULL;
    if (t && !t->data)
        return nncc_fmt(g->ctx, "%s[0]", nncc_emit_ref(e, g, n->in[i]));
    return f32 ? nncc_float_c(g->ctx, (float)v) : nncc_double_c(g->ctx, v);
}

static nncc_status unary_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    double a, b;
    if (unary_args(g, n, &a, &b) != NNCC_OK)
        return NNCC_ERR_INPUT;
    for (int i = 1; i < 3 && n->op == NNCC_OP_Clip && i < n->n_in; i++)
        if (in[i])
            nncc_cast((int32_t)nncc_in(g, n, i)->dtype, NNCC_RT_F64, 1, in[i], i == 1 ? &a : &b);
    nncc_tensor *x = nncc_in(g, n, 0);
    if (x->dtype == NNCC_DT_F32)
        nncc_unary_f32(infos[n->op].code, (float)a, (float)b, nncc_shape_count(&x->shape), in[0], out[0]);
    else
        nncc_unary(infos[n->op].code, (int32_t)x->dtype, a, b, nncc_shape_count(&x->shape), in[0], out[0]);
    return NNCC_OK;
}

static void unary_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    double a, b;
    if (unary_args(g, n, &a, &b) != NNCC_OK)
        return;
    nncc_tensor *x = nncc_in(g, n, 0);
    if (x->dtype == NNCC_DT_F32) {
        /* with --threads, parts of the elements on each thread */
        const int64_t cnt = nncc_shape_count(&x->shape);
        int64_t bounds[NNCC_EMIT_MAX_PARTS + 1];
        const int parts = nncc_emit_parts(e, g, cnt, cnt, bounds);
        for (int i = 0; i < parts; i++) {
            nncc_emit_part(e, parts);
            fprintf(e->f, "    nncc_unary_f32(%d, %s, %s, %lld, %s, %s);\n", infos[n->op].code,
                    bound_c(e, g, n, 1, a, true), bound_c(e, g, n, 2, b, true), (long long)(bounds[i + 1] - bounds[i]),
                    nncc_emit_at(e, nncc_emit_ref(e, g, n->in[0]), bounds[i]),
                    nncc_emit_at(e, nncc_emit_ref(e, g, n->out[0]), bounds[i]));
        }
        nncc_emit_parts_end(e, parts);
    } else
        fprintf(e->f, "    nncc_unary(%d, %d, %s, %s, %lld, %s, %s);\n", infos[n->op].code, (int)x->dtype,
                bound_c(e, g, n, 1, a, false), bound_c(e, g, n, 2, b, false), (long long)nncc_shape_count(&x->shape),
                nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->out[0]));
}

bool nncc_unary_step(nncc_graph *g, nncc_node *n, int *code, float *alpha, float *beta)
{
    if (n->op < 0 || n->op >= NNCC_OP_COUNT || nncc_ops[n->op]->infer != unary_infer || n->op == NNCC_OP_BitwiseNot)
        return false;
    for (int i = 1; i < n->n_in; i++) /* Clip's bounds: compile-time only */
        if (n->in[i] >= 0 && !g->t[n->in[i]].data)
            return false;
    double a, b;
    if (unary_args(g, n, &a, &b) != NNCC_OK)
        return false;
    *code = infos[n->op].code;
    *alpha = (float)a;
    *beta = (float)b;
    return true;
}

#define UNARY(NAME) \
    const nncc_op nncc_op_##NAME = { .name = #NAME, .flags = NNCC_OPF_INPLACE, .infer = unary_infer, \
                                     .eval = unary_eval, .emit_c = unary_emit_c }
UNARY(Relu);
UNARY(LeakyRelu);
UNARY(Clip);
UNARY(Sigmoid);
UNARY(Tanh);
UNARY(Sqrt);
UNARY(Exp);
UNARY(Log);
UNARY(Neg);
UNARY(Abs);
UNARY(Reciprocal);
UNARY(Floor);
UNARY(Ceil);
UNARY(Erf);
UNARY(Elu);
UNARY(Selu);
UNARY(HardSigmoid);
UNARY(HardSwish);
UNARY(Softplus);
UNARY(Softsign);
UNARY(Sin);
UNARY(Cos);
UNARY(Tan);
UNARY(Round);
UNARY(Sign);
UNARY(Gelu);
UNARY(Mish);
UNARY(Celu);
UNARY(ThresholdedRelu);
UNARY(Shrink);
UNARY(Sinh);
UNARY(Cosh);
UNARY(Asin);
UNARY(Acos);
UNARY(Atan);
UNARY(Asinh);
UNARY(Acosh);
UNARY(Atanh);
UNARY(Swish);
UNARY(BitwiseNot);
