/*
 * TEMPLATE.c - start here to add an operator. Not compiled.
 *
 * 1. Copy this file to compiler/ops/<family>.c (or add to the family's file)
 *    and rename Myop everywhere.
 * 2. Add NNCC_OP(Myop) at the END of its section in ops/ops.def (the enum is
 *    append-only in spirit: nothing is keyed by position).
 * 3. Put the numbers in runtime/: a plain C kernel with its shapes in a
 *    comment, declared in runtime/nncc_runtime.h. eval and the generated
 *    code both call it, so there is one definition of the op's numbers.
 * 4. Tests: tests/unit (shape inference and errors) and the ONNX backend
 *    node tests (tests/onnx_backend/expected_pass.txt).
 *
 * Rules: unknown attributes are errors (read every attribute you support
 * with nncc_attr_*; nncc_attrs_done reports the rest); anything not
 * supported is refused with nncc_unsupported() naming the feature; every
 * shape is decided here, at compile time, so the kernel runs "blind".
 */
#include "nncc-impl.h"

/* Checks inputs and attributes, sets the outputs' dtype and shape. */
static nncc_status myop_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 1, 1) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    float alpha = nncc_attr_float(g, n, "alpha", 1.0f);
    (void)alpha;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

/* Runs the runtime kernel on host buffers (constant folding). */
static nncc_status myop_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    int64_t count = nncc_shape_count(&nncc_in(g, n, 0)->shape);
    nncc_unary_f32(NNCC_UN_IDENTITY, nncc_attr_float(g, n, "alpha", 1.0f), 0.0f, count, in[0], out[0]);
    return NNCC_OK;
}

/* Writes the same call into the generated C (parameters as literals or a
 * static const struct from nncc_emit_param). */
static void myop_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    fprintf(e->f, "    nncc_unary_f32(%d, %s, 0.0f, %lld, %s, %s);\n", NNCC_UN_IDENTITY,
            nncc_float_c(g->ctx, nncc_attr_float(g, n, "alpha", 1.0f)),
            (long long)nncc_shape_count(&nncc_in(g, n, 0)->shape), nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_Myop = {
    .name = "Myop",
    .infer = myop_infer,
    .eval = myop_eval,
    .emit_c = myop_emit_c,
};
