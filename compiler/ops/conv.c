/*
 * conv.c - Conv (ONNX opset 1-22): 1-D and 2-D convolution, NCHW, with
 * groups, strides, dilations, explicit pads or auto_pad, optional bias.
 * 1-D convolutions run as 2-D with height 1. 3-D is reported unsupported.
 *
 * Output size per spatial dim (explicit pads):
 *   out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1
 * auto_pad SAME_UPPER/SAME_LOWER: out = ceil(in / stride), total padding
 *   max(0, (out-1)*stride + dilation*(k-1) + 1 - in), the odd pixel at the
 *   end (UPPER) or the beginning (LOWER). VALID: no padding.
 * Fusion passes set n->act (activation) and n->fused_add (residual).
 *
 * CausalConvWithState: depthwise causal 1-D convolution over past_state
 * (B,C,K-1) then input (B,C,L), weight (C,1,K), bias (C); outputs (B,C,L)
 * and present_state (B,C,K-1); activation none, silu or swish.
 */
#include "nncc-impl.h"

#include <string.h>

/* Resolves pads for one spatial dim; returns the output size or -1. */
int64_t nncc_window_out(const char *auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                        int64_t *pb, int64_t *pe, int ceil_mode)
{
    int64_t ek = d * (k - 1) + 1; /* effective kernel extent */
    if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
        int64_t out = (in + s - 1) / s;
        int64_t total = (out - 1) * s + ek - in;
        if (total < 0)
            total = 0;
        *pb = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return out;
    }
    if (!strcmp(auto_pad, "VALID"))
        *pb = *pe = 0;
    int64_t span = in + *pb + *pe - ek;
    if (span < 0)
        return -1;
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* ceil mode: the last window must start inside the input or left padding */
    if (ceil_mode && (out - 1) * s >= in + *pb)
        out--;
    return out;
}

/* Reads attributes and shapes into the runtime's parameter struct. */
static nncc_status conv_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 1), *b = nncc_in(g, n, 2);
    int r = x->shape.rank;
    if (r < 3 || r > 4) {
        return nncc_unsupported(g, n, "%d-D convolution (input %s); nncc supports 1-D and 2-D",
                                r - 2, nncc_shape_str(g->ctx, &x->shape));
    }
    if (w->shape.rank != r) {
        nncc_error(g, n, "weight has %d dims, input has %d", w->shape.rank, r);
        return NNCC_ERR_INPUT;
    }
    int sp = r - 2;
    int64_t ks[2] = { 1, 1 }, st[2] = { 1, 1 }, dl[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 };
    int nk = nncc_attr_ints(g, n, "kernel_shape", ks, 2);
    int ns = nncc_attr_ints(g, n, "strides", st, 2);
    int nd = nncc_attr_ints(g, n, "dilations", dl, 2);
    int np = nncc_attr_ints(g, n, "pads", pads, 4);
    int64_t group = nncc_attr_int(g, n, "group", 1);
    const char *ap = nncc_attr_str(g, n, "auto_pad", "NOTSET");
    if ((nk >= 0 && nk != sp) || (ns >= 0 && ns != sp) || (nd >= 0 && nd != sp) || (np >= 0 && np != 2 * sp)) {
        nncc_error(g, n, "kernel_shape/strides/dilations/pads do not match the %d spatial dims of the input", sp);
        return NNCC_ERR_INPUT;
    }
    for (int i = 0; i < sp; i++) {
        if (nk >= 0 && ks[i] != w->shape.d[2 + i]) {
            nncc_error(g, n, "kernel_shape %lld does not match the weight's %lld", (long long)ks[i],
                       (long long)w->shape.d[2 + i]);
            return NNCC_ERR_INPUT;
        }
        if (st[i] < 1 || dl[i] < 1 || pads[i] < 0 || pads[i + sp] < 0) {
            nncc_error(g, n, "strides and dilations must be positive and pads non-negative");
            return NNCC_ERR_INPUT;
        }
    }
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER")) {
        nncc_error(g, n, "auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap);
        return NNCC_ERR_INPUT;
    }
    int64_t C = x->shape.d[1], M = w->shape.d[0];
    if (group < 1 || C % group || M % group || w->shape.d[1] * group != C) {
        nncc_error(g, n, "input has %lld channels, weight %s and group %lld do not fit", (long long)C,
                   nncc_shape_str(g->ctx, &w->shape), (long long)group);
        return NNCC_ERR_INPUT;
    }
    if (b && (b->shape.rank != 1 || b->shape.d[0] != M)) {
        nncc_error(g, n, "bias has shape %s, expected %lld", nncc_shape_str(g->ctx, &b->shape), (long long)M);
        return NNCC_ERR_INPUT;
    }
    memset(p, 0, sizeof *p);
    p->n = x->shape.d[0];
    p->c = C;
    p->m = M;
    p->group = group;
    /* 1-D: height 1 */
    int64_t in[2] = { 1, x->shape.d[2] }, kk[2] = { 1, w->shape.d[2] };
    int64_t S[2] = { 1, st[0] }, D[2] = { 1, dl[0] }, PB[2] = { 0, pads[0] }, PE[2] = { 0, pads[1] };
    if (sp == 2) {
        in[0] = x->shape.d[2], in[1] = x->shape.d[3];
        kk[0] = w->shape.d[2], kk[1] = w->shape.d[3];
        S[0] = st[0], S[1] = st[1], D[0] = dl[0], D[1] = dl[1];
        PB[0] = pads[0], PB[1] = pads[1], PE[0] = pads[2], PE[1] = pads[3];
    }
    int64_t out[2];
    for (int i = 0; i < 2; i++) {
        out[i] = (sp == 1 && i == 0) ? 1 : nncc_window_out(ap, in[i], kk[i], S[i], D[i], &PB[i], &PE[i], 0);
        if (out[i] < 1) {
            nncc_error(g, n, "the kernel (%lld, dilation %lld) is larger than the padded input (%lld)",
                       (long long)kk[i], (long long)D[i], (long long)(in[i] + PB[i] + PE[i]));
            return NNCC_ERR_INPUT;
        }
    }
    p->h = in[0], p->w = in[1], p->kh = kk[0], p->kw = kk[1];
    p->sh = S[0], p->sw = S[1], p->dh = D[0], p->dw = D[1];
    p->pt = PB[0], p->pl = PB[1], p->oh = out[0], p->ow = out[1];
    p->act = n->act;
    p->threads = g->ctx->opt.threads > 1 ? g->ctx->opt.threads : 0;
    return NNCC_OK;
}

static nncc_status conv_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 3) || nncc_check_dtype(g, n, 0, NNCC_DT_F32, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 1, NNCC_DT_F32, NNCC_DT_UNDEF) || nncc_check_dtype(g, n, 2, NNCC_DT_F32, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_conv2d_params p;
    if (conv_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape s = nncc_conv_out_shape(&nncc_in(g, n, 0)->shape, &p);
    if (n->fused_pool) /* the output is the fused pool's (passes/fuse.c) */
        s.d[2] = n->fused_pool->oh, s.d[3] = n->fused_pool->ow;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &s);
    return NNCC_OK;
}

static nncc_status conv_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_conv2d_params p;
    if (conv_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    const float *add = n->fused_add >= 0 ? g->t[n->fused_add].data : NULL;
    nncc_conv2d_f32(&p, in[0], in[1], in[2], add, out[0]);
    return NNCC_OK;
}

nncc_shape nncc_conv_out_shape(const nncc_shape *x, const nncc_conv2d_params *p)
{
    nncc_shape s = *x;
    s.d[1] = p->m;
    if (s.rank == 4)
        s.d[2] = p->oh, s.d[3] = p->ow;
    else
        s.d[2] = p->ow;
    return s;
}

const char *nncc_emit_conv2d_params(nncc_emit *e, const nncc_conv2d_params *p)
{
    const char *name = nncc_emit_param(e, "nncc_conv2d_params");
    fprintf(e->pf, "{\n    .n = %lld, .c = %lld, .h = %lld, .w = %lld, .m = %lld, .oh = %lld, .ow = %lld,\n"
                   "    .kh = %lld, .kw = %lld, .sh = %lld, .sw = %lld, .dh = %lld, .dw = %lld,\n"
                   "    .pt = %lld, .pl = %lld, .group = %lld, .act = ",
            (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->m, (long long)p->oh,
            (long long)p->ow, (long long)p->kh, (long long)p->kw, (long long)p->sh, (long long)p->sw,
            (long long)p->dh, (long long)p->dw, (long long)p->pt, (long long)p->pl, (long long)p->group);
    nncc_emit_act(e, &p->act);
    if (p->threads > 1)
        fprintf(e->pf, ", .threads = %lld", (long long)p->threads);
    fprintf(e->pf, "\n};\n");
    return name;
}

/* ---- which kernel a Conv gets ----
 * At -O0 always the reference direct convolution (nncc_conv2d_f32). From -O1
 * on, picked by shape unless --conv-algo says otherwise:
 *   depthwise  one input channel per group (group == C): nncc_conv2d_depthwise_f32,
 *              vectorised along output rows (a 1-row GEMM would waste the
 *              micro-kernel);
 *   implicit   constant weight, any kernel, stride and dilation (where
 *              winograd is not picked): the packed
 *              micro-kernel reading a zero-padded copy of the input in place
 *              (nncc_conv2d_implicit_f32; a strided one's copy is split into
 *              the stride's phases; a 1x1 without padding or stride reads the
 *              input itself);
 *   implicit-t the same transposed (nncc_conv2d_implicit_t_f32): output
 *              channels across the vector lanes, pixels of an output row in
 *              the tile's rows, where that wastes fewer lanes
 *              (conv_transposed_wins: small maps such as 7x7);
 *   im2col     only when asked for, or when the padded copy is too large for
 *              the implicit kernel's 32-bit offsets: im2col packed block by
 *              block into the micro-kernel's panels (nncc_conv2d_gemm_f32);
 *   direct     the reference, for what is left (a weight computed at run time);
 *   winograd   3x3, stride 1, no dilation or groups, constant weight, where
 *              it measured faster than the implicit GEMM (conv_winograd_wins):
 *              F(2x2, 3x3) (nncc_conv2d_winograd_f32), the weight
 *              transformed at compile time, the input transformed block by
 *              block of 64 output tiles. On the AVX-512 machine, 1 thread:
 *              ResNet-18's 3x3 64->64 at 56x56 600 us against 1000 us
 *              (implicit), 128->128 at 28x28 570 against 1020, 256->256 at
 *              14x14 630 against 1020; it loses at 7x7 (16 tiles fill half
 *              a 32-column micro-kernel tile: 512->512 1550 against 1210) and
 *              with few channels (3->64 at 224x224: 2100 against 1240).
 *   winograd4  F(4x4, 3x3) (nncc_conv2d_winograd4_f32) where winograd is
 *              picked and conv_winograd4_wins: larger maps, one thread.
 * Each is checked against the reference in tests/unit/test_kernels.c. */
enum {
    CONV_DIRECT,
    CONV_IM2COL,
    CONV_IMPLICIT,
    CONV_IMPLICIT_T,
    CONV_DEPTHWISE,
    CONV_WINOGRAD,
    CONV_WINOGRAD4,
    CONV_N_ALGOS
};
static const char *const conv_algo_names[CONV_N_ALGOS] = {
    [CONV_DIRECT] = "direct",       [CONV_IM2COL] = "im2col",       [CONV_IMPLICIT] = "implicit",
    [CONV_IMPLICIT_T] = "implicit-t", [CONV_DEPTHWISE] = "depthwise", [CONV_WINOGRAD] = "winograd",
    [CONV_WINOGRAD4] = "winograd4"
};

int nncc_conv_algo_name_ok(const char *name)
{
    if (!strcmp(name, "auto"))
        return 1;
    for (int i = 0; i < CONV_N_ALGOS; i++)
        if (!strcmp(name, conv_algo_names[i]))
            return 1;
    return 0;
}

/* Whether --conv-algo entry `a` (NODE=ALGO) names node `name`. */
static bool conv_entry_names(const char *a, const char *name)
{
    const char *eq = strrchr(a, '=');
    return eq && (size_t)(eq - a) == strlen(name) && !strncmp(a, name, (size_t)(eq - a));
}

/* The --conv-algo request for this node: its own NODE=ALGO (when `own`),
 * else also a plain ALGO; the last one given wins. NULL when none. */
static const char *conv_requested(nncc_graph *g, const nncc_node *n, bool own)
{
    const nncc_options *o = &g->ctx->opt;
    const char *global = NULL, *mine = NULL;
    for (int i = 0; i < o->n_conv_algo; i++) {
        const char *a = o->conv_algo[i];
        if (!strchr(a, '='))
            global = a;
        else if (conv_entry_names(a, n->name))
            mine = strrchr(a, '=') + 1;
    }
    return mine ? mine : own ? NULL : global;
}

/* Why `algo` cannot run this convolution, or NULL when it can. */
static const char *conv_algo_unfit(nncc_graph *g, nncc_node *n, const nncc_conv2d_params *p, int algo)
{
    const bool wconst = nncc_in(g, n, 1)->data != NULL;
    switch (algo) {
    case CONV_IM2COL:
        return wconst ? NULL : "the weight is not a constant nncc can pack";
    case CONV_IMPLICIT:
    case CONV_IMPLICIT_T:
        if (!wconst)
            return "the weight is not a constant nncc can pack";
        if (nncc_conv2d_implicit_scratch_size(p) >= ((int64_t)1 << 30))
            return "the input is too large for its 32-bit offsets";
        return NULL;
    case CONV_DEPTHWISE:
        return p->group == p->c ? NULL : "it needs one input channel per group (group == C)";
    case CONV_WINOGRAD:
    case CONV_WINOGRAD4:
        if (!wconst)
            return "the weight is not a constant nncc can transform";
        if (p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 || p->dh != 1 || p->dw != 1 || p->group != 1)
            return "it needs a 3x3 kernel, stride 1, no dilation and one group";
        if (p->c >= ((int64_t)1 << 24))
            return "the input has too many channels for its 32-bit offsets";
        return NULL;
    default:
        return NULL;
    }
}

/* The bytes of the largest tensor computed at run time between nodes (one
 * the arena holds: not a graph input or output). */
static int64_t conv_largest_intermediate(nncc_graph *g)
{
    int64_t most = 0;
    for (int t = 0; t < g->n_t; t++) {
        const nncc_tensor *x = &g->t[t];
        if (x->data || !x->has_shape || x->is_input || x->is_output || x->producer < 0 || g->n[x->producer].dead)
            continue;
        const int64_t b = nncc_shape_count(&x->shape) * (int64_t)nncc_dtype_size(x->dtype);
        most = b > most ? b : most;
    }
    /* and the full output of a convolution whose pool was fused: what the
     * arena would hold without that fusion (so that it does not change the
     * choice for the other convolutions) */
    for (int i = 0; i < g->n_n; i++) {
        const nncc_pool2d_params *q = g->n[i].fused_pool;
        if (!g->n[i].dead && q) {
            const int64_t b = q->n * q->c * q->h * q->w * (int64_t)sizeof(float);
            most = b > most ? b : most;
        }
    }
    return most;
}

/* Whether Winograd (when it fits) is picked over the implicit GEMM: enough
 * channels to spread the transforms over (C, M >= 16, C * M >= 512: at
 * 16 -> 16 the two measured even); the 16 products' columns, tiles rounded
 * up to whole 32-column micro-kernel tiles, fewer than the direct
 * convolution's 9 per output pixel (7x7: 16 tiles -> 512 > 441, slower;
 * 8x8: 512 < 576, faster); and one thread's scratch (16 x C x 64 floats,
 * 32 for a map of at most 64 tiles) no larger than the largest
 * intermediate tensor, which the arena holds anyway: with one thread the
 * arena at most doubles, and in networks whose early layers are the largest
 * it does not grow at all (ResNet-18); feature_extractor's 32 -> 64 at
 * 16x16 (91 KB of scratch against 128 KB) takes it from 160 KB to 185 KB
 * for 50 -> 28 us. */
static bool conv_winograd_wins(nncc_graph *g, const nncc_conv2d_params *p)
{
    const int64_t tile_cols = 2 * NNCC_GEMM_NR; /* the AVX-512 micro-kernel's, the widest */
    nncc_conv2d_params one = *p; /* the scratch of one thread: more threads, more memory anyway */
    one.threads = 1;
    const int64_t tiles = ((p->oh + 1) / 2) * ((p->ow + 1) / 2);
    return p->c >= 16 && p->m >= 16 && p->c * p->m >= 512 &&
           16 * ((tiles + tile_cols - 1) / tile_cols * tile_cols) < 9 * p->oh * p->ow &&
           nncc_conv2d_winograd_scratch_size(&one) * (int64_t)sizeof(float) <= conv_largest_intermediate(g);
}

/* Whether F(4x4, 3x3) is picked over F(2x2) (where Winograd wins): its 36
 * products' columns (tiles of 4x4 rounded up to whole micro-kernel tiles)
 * at most 0.7 of F(2x2)'s 16 products' (its transforms cost more a tile),
 * and its scratch (36 x C x 32 or 64 floats) within the same bound. Single
 * layers, 1 thread, on the AVX-512 machine (F(2x2) -> F(4x4), us): 64->64
 * at 56x56 589 -> 499, 128->128 at 28x28 571 -> 503, 16->64 at 55x55 209 ->
 * 182, 32->128 at 27x27 179 -> 166; losing at 16x16 (31 -> 47), 13x13 and
 * 14x14 (16 tiles fill half a micro-kernel tile: 611 -> 841 at 256->256),
 * which the rule leaves to F(2x2). Only without --threads: at 2 threads
 * on the same machine whole models gained with it where the two vCPUs
 * shared an L3 (ResNet-18 7.8 -> 7.0 ms) but lost where they sat on two
 * dies (9.6-10.3 -> 11.1-11.6 ms; SqueezeNet 2.56 -> 3.01), the state the
 * host leaves them in for minutes at a time (README: vCPU placement). */
static bool conv_winograd4_wins(nncc_graph *g, const nncc_conv2d_params *p)
{
    if (p->threads > 1)
        return false;
    const int64_t tile_cols = 2 * NNCC_GEMM_NR;
    const int64_t t2 = ((p->oh + 1) / 2) * ((p->ow + 1) / 2), t4 = ((p->oh + 3) / 4) * ((p->ow + 3) / 4);
    const int64_t c2 = 16 * ((t2 + tile_cols - 1) / tile_cols * tile_cols);
    const int64_t c4 = 36 * ((t4 + tile_cols - 1) / tile_cols * tile_cols);
    return 10 * c4 <= 7 * c2 &&
           nncc_conv2d_winograd4_scratch_size(p) * (int64_t)sizeof(float) <= conv_largest_intermediate(g);
}

/* Whether the transposed implicit GEMM is picked over the implicit GEMM:
 * the share of the micro-kernels' lanes that compute outputs (implicit:
 * the grid positions, output pixels and for a kernel wider than 1 the
 * grid's padding columns, in whole 32-column tiles, times the channels in
 * panels of 6; transposed: the channels in panels of 32, its tiles hold
 * only output pixels) must be ahead by more than the transposed kernel's
 * overheads: a transpose per tile, which weighs more where K is small, and
 * short scattered output rows (slower where Y is not in cache): 1.05 +
 * 8/K. Measured (bench/gemm.c `small`, AVX-512, one thread, weights in
 * cache / from memory): 7x7 1x1 layers 1.2-1.3x / 1.1x faster (960->160 89
 * -> 69 / 102 -> 88 us), 3x3 512->512 at 7x7 1220 -> 1040 us, 576->96 at
 * 14x14 102 -> 91 / 112 -> 107; 96->576 at 14x14 level in cache, slower
 * with Y flushed from the caches (129 -> 181: short rows into 576 output
 * planes) but 6% faster inside MobileNetV2 (bench/layers.py: 115 -> 108);
 * slower at 64->384 (K = 64) and at 28x28 and up (no lanes to gain). */
static bool conv_transposed_wins(const nncc_conv2d_params *p)
{
    const int64_t mg = p->m / p->group, K = p->c / p->group * p->kh * p->kw;
    const int64_t tile_cols = 2 * NNCC_GEMM_NR, mr = NNCC_GEMM_MR, tc = NNCC_GEMM_TC;
    const int64_t wg = p->ow + (p->kw - 1) * p->dw / p->sw; /* the grid's width (a 1x1: the map's) */
    const int64_t q = (p->oh - 1) * wg + p->ow; /* grid positions up to the last output pixel */
    const double use_i = (double)(p->oh * p->ow) / (double)((q + tile_cols - 1) / tile_cols * tile_cols) *
                         (double)mg / (double)((mg + mr - 1) / mr * mr);
    const double use_t = (double)mg / (double)((mg + tc - 1) / tc * tc);
    return use_t > use_i * (1.05 + 8.0 / (double)K);
}

static int conv_algo(nncc_graph *g, nncc_node *n, const nncc_conv2d_params *p)
{
    if (g->ctx->opt.opt_level < 1)
        return CONV_DIRECT;
    if (n->fused_pool) /* chosen when the pool was fused (nncc_conv_pool_fusable) */
        return CONV_IMPLICIT;
    const char *req = conv_requested(g, n, false);
    for (int i = 0; req && i < CONV_N_ALGOS; i++)
        if (!strcmp(req, conv_algo_names[i]) && !conv_algo_unfit(g, n, p, i))
            return i; /* an unfit request is reported by nncc_conv_check_algos */
    if (p->group == p->c)
        return CONV_DEPTHWISE;
    if (!conv_algo_unfit(g, n, p, CONV_WINOGRAD) && conv_winograd_wins(g, p))
        return conv_winograd4_wins(g, p) ? CONV_WINOGRAD4 : CONV_WINOGRAD;
    if (!conv_algo_unfit(g, n, p, CONV_IMPLICIT))
        return conv_transposed_wins(p) ? CONV_IMPLICIT_T : CONV_IMPLICIT;
    if (!conv_algo_unfit(g, n, p, CONV_IM2COL))
        return CONV_IM2COL;
    return CONV_DIRECT;
}

bool nncc_conv_pool_fusable(nncc_graph *g, nncc_node *n, const nncc_pool2d_params *q)
{
    nncc_conv2d_params p;
    if (n->fused_pool || n->fused_add >= 0 || conv_params(g, n, &p) != NNCC_OK)
        return false;
    return p.group == 1 && conv_algo(g, n, &p) == CONV_IMPLICIT && nncc_pool2d_fast_ok(q) &&
           q->n == p.n && q->c == p.m && q->h == p.oh && q->w == p.ow;
}

nncc_status nncc_conv_check_algos(nncc_graph *g)
{
    const nncc_options *o = &g->ctx->opt;
    nncc_status st = NNCC_OK;
    for (int i = 0; i < o->n_conv_algo; i++) {
        const char *a = o->conv_algo[i], *eq = strrchr(a, '=');
        bool found = !eq;
        for (int k = 0; k < g->n_n && !found; k++)
            found = !g->n[k].dead && g->n[k].op == NNCC_OP_Conv && conv_entry_names(a, g->n[k].name);
        if (!found) {
            nncc_error(g, NULL, "--conv-algo %s: the graph has no Conv node named '%.*s'", a, (int)(eq - a), a);
            st = NNCC_ERR_INPUT;
        }
    }
    for (int k = 0; k < g->n_n; k++) {
        nncc_node *n = &g->n[k];
        nncc_conv2d_params p;
        if (n->dead || n->op != NNCC_OP_Conv || conv_params(g, n, &p) != NNCC_OK)
            continue;
        /* a node's own request must fit; a global one falls back where it does not */
        const char *req = conv_requested(g, n, true);
        if (req && strcmp(req, "auto") && o->opt_level >= 1) {
            int a = 0;
            while (a < CONV_N_ALGOS && strcmp(req, conv_algo_names[a]))
                a++;
            const char *why = a < CONV_N_ALGOS ? conv_algo_unfit(g, n, &p, a) : "unknown algorithm";
            if (why) {
                nncc_error(g, n, "--conv-algo %s does not fit this convolution: %s", req, why);
                st = NNCC_ERR_INPUT;
            }
        }
        if (o->report)
            nncc_report(g, "conv", "'%s' %lldx%lld stride %lld,%lld, %lld -> %lld channels, group %lld: %s%s", n->name,
                        (long long)p.kh, (long long)p.kw, (long long)p.sh, (long long)p.sw, (long long)p.c,
                        (long long)p.m, (long long)p.group, conv_algo_names[conv_algo(g, n, &p)],
                        !n->fused_pool                           ? ""
                        : n->fused_pool->kind == NNCC_POOL_MAX ? ", MaxPool fused"
                                                                 : ", AveragePool fused");
    }
    return st;
}

static int64_t conv_scratch(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (conv_params(g, n, &p) != NNCC_OK)
        return 0;
    switch (conv_algo(g, n, &p)) {
    case CONV_IM2COL:
        return nncc_conv2d_scratch_size(&p) * (int64_t)sizeof(float);
    case CONV_IMPLICIT:
        return (n->fused_pool ? nncc_conv2d_implicit_pool_scratch_size(&p) : nncc_conv2d_implicit_scratch_size(&p)) *
               (int64_t)sizeof(float);
    case CONV_IMPLICIT_T:
        return nncc_conv2d_implicit_t_scratch_size(&p) * (int64_t)sizeof(float);
    case CONV_DEPTHWISE:
        return nncc_conv2d_depthwise_scratch_size(&p) * (int64_t)sizeof(float);
    case CONV_WINOGRAD:
        return nncc_conv2d_winograd_scratch_size(&p) * (int64_t)sizeof(float);
    case CONV_WINOGRAD4:
        return nncc_conv2d_winograd4_scratch_size(&p) * (int64_t)sizeof(float);
    default:
        return 0;
    }
}

static void conv_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (conv_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_conv2d_params(e, &p);
    const int algo = conv_algo(g, n, &p);
    const char *x = nncc_emit_ref(e, g, n->in[0]), *b = nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1);
    const char *add = nncc_emit_ref(e, g, n->fused_add), *y = nncc_emit_ref(e, g, n->out[0]);
    if (algo == CONV_WINOGRAD || algo == CONV_WINOGRAD4) {
        /* U = G g G^T for each of the 16 (36) tile positions, packed, at compile time */
        const bool f4 = algo == CONV_WINOGRAD4;
        const char *fn = f4 ? "nncc_conv2d_winograd4_f32" : "nncc_conv2d_winograd_f32";
        nncc_tensor *w = nncc_in(g, n, 1);
        int64_t np = f4 ? nncc_conv2d_winograd4_packed_size(&p) : nncc_conv2d_winograd_packed_size(&p);
        float *wp = nncc_alloc_array(g->ctx, (size_t)np + 1, sizeof(float));
        if (!wp)
            return;
        (f4 ? nncc_conv2d_winograd4_pack_f32 : nncc_conv2d_winograd_pack_f32)(&p, w->data, wp);
        const char *wn = nncc_emit_weights_f32(
            e, f4 ? "wwinograd4" : "wwinograd",
            nncc_fmt(g->ctx, "'%s' %s transformed for %s (%d x panels of %d output channels)", w->name,
                     nncc_shape_str(g->ctx, &w->shape), fn, f4 ? 36 : 16, NNCC_GEMM_MR),
            wp, np);
        fprintf(e->f, "    %s(&%s, %s, %s, %s, %s, %s, %s);\n", fn, name, x, wn, b, add, y, nncc_emit_scratch(e, g, n));
        return;
    }
    if (algo == CONV_IM2COL || algo == CONV_IMPLICIT || algo == CONV_IMPLICIT_T) {
        /* the weight packed into the micro-kernel's layout, at compile time */
        const bool tr = algo == CONV_IMPLICIT_T;
        nncc_tensor *w = nncc_in(g, n, 1);
        int64_t np = tr ? nncc_conv2d_implicit_t_packed_size(&p) : nncc_conv2d_packed_size(&p);
        float *wp = nncc_alloc_array(g->ctx, (size_t)np + 1, sizeof(float));
        if (!wp)
            return;
        if (tr)
            nncc_conv2d_implicit_t_pack_f32(&p, w->data, wp);
        else
            nncc_conv2d_pack_f32(&p, w->data, wp);
        const char *fn = algo == CONV_IM2COL ? "nncc_conv2d_gemm_f32"
                         : tr                ? "nncc_conv2d_implicit_t_f32"
                                             : "nncc_conv2d_implicit_f32";
        const char *wn = nncc_emit_weights_f32(
            e, "wpacked",
            nncc_fmt(g->ctx, "'%s' %s packed for %s (panels of %d output channels)", w->name,
                     nncc_shape_str(g->ctx, &w->shape), fn, tr ? NNCC_GEMM_TC : NNCC_GEMM_MR),
            wp, np);
        if (n->fused_pool) {
            /* the pool of the output in the same call: its channels a few at a time */
            const char *q = nncc_emit_pool2d_params(e, n->fused_pool);
            fprintf(e->f, "    nncc_conv2d_implicit_pool_f32(&%s, &%s, %s, %s, %s, %s, %s);\n", name, q, x, wn, b, y,
                    nncc_emit_scratch(e, g, n));
            return;
        }
        fprintf(e->f, "    %s(&%s, %s, %s, %s, %s, %s, %s);\n", fn, name, x, wn, b, add, y, nncc_emit_scratch(e, g, n));
        return;
    }
    if (algo == CONV_DEPTHWISE) {
        fprintf(e->f, "    nncc_conv2d_depthwise_f32(&%s, %s, %s, %s, %s, %s, %s);\n", name, x,
                nncc_emit_ref(e, g, n->in[1]), b, add, y, nncc_emit_scratch(e, g, n));
        return;
    }
    fprintf(e->f, "    nncc_conv2d_f32(&%s, %s, %s, %s, %s, %s);\n", name, x, nncc_emit_ref(e, g, n->in[1]), b, add, y);
}

static int64_t conv_macs(nncc_graph *g, nncc_node *n)
{
    nncc_conv2d_params p;
    if (conv_params(g, n, &p) != NNCC_OK)
        return 0;
    return p.n * p.m * p.oh * p.ow * (p.c / p.group) * p.kh * p.kw;
}

const nncc_op nncc_op_Conv = {
    .name = "Conv",
    .infer = conv_infer,
    .eval = conv_eval,
    .emit_c = conv_emit_c,
    .macs = conv_macs,
    .scratch = conv_scratch,
};

/* ---- CausalConvWithState ---- */

static nncc_status ccs_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 2, 4))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 4; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    const char *act = nncc_attr_str(g, n, "activation", "none");
    if (strcmp(act, "none") && strcmp(act, "silu") && strcmp(act, "swish")) {
        nncc_error(g, n, "unknown activation '%s'", act);
        return NNCC_ERR_INPUT;
    }
    nncc_tensor *x = nncc_in(g, n, 0), *w = nncc_in(g, n, 1), *b = nncc_in(g, n, 2), *ps = nncc_in(g, n, 3);
    if (x->shape.rank != 3 || w->shape.rank != 3 || w->shape.d[0] != x->shape.d[1] || w->shape.d[1] != 1 ||
        w->shape.d[2] < 1) {
        nncc_error(g, n, "input %s and weight %s do not fit", nncc_shape_str(g->ctx, &x->shape),
                   nncc_shape_str(g->ctx, &w->shape));
        return NNCC_ERR_INPUT;
    }
    nncc_shape st = { 3, { x->shape.d[0], x->shape.d[1], w->shape.d[2] - 1 } };
    if ((b && nncc_shape_count(&b->shape) != x->shape.d[1]) || (ps && !nncc_shape_eq(&ps->shape, &st))) {
        nncc_error(g, n, "bias or past_state has the wrong shape");
        return NNCC_ERR_INPUT;
    }
    nncc_set_out(g, n, 0, NNCC_DT_F32, &x->shape);
    nncc_set_out(g, n, 1, NNCC_DT_F32, &st);
    return NNCC_OK;
}

static nncc_status ccs_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    nncc_causal_conv_f32(s->d[0], s->d[1], s->d[2], nncc_in(g, n, 1)->shape.d[2],
                         strcmp(nncc_attr_str(g, n, "activation", "none"), "none") != 0, in[0], in[1],
                         n->n_in > 2 ? in[2] : NULL, n->n_in > 3 ? in[3] : NULL, out[0], n->n_out > 1 ? out[1] : NULL);
    return NNCC_OK;
}

static void ccs_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    const nncc_shape *s = &nncc_in(g, n, 0)->shape;
    fprintf(e->f, "    nncc_causal_conv_f32(%lld, %lld, %lld, %lld, %d, %s, %s, %s, %s, %s, %s);\n", (long long)s->d[0],
            (long long)s->d[1], (long long)s->d[2], (long long)nncc_in(g, n, 1)->shape.d[2],
            strcmp(nncc_attr_str(g, n, "activation", "none"), "none") != 0, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->n_in > 2 ? n->in[2] : -1),
            nncc_emit_ref(e, g, n->n_in > 3 ? n->in[3] : -1), nncc_emit_ref(e, g, n->out[0]),
            nncc_emit_ref(e, g, n->n_out > 1 ? n->out[1] : -1));
}

const nncc_op nncc_op_CausalConvWithState = { .name = "CausalConvWithState", .infer = ccs_infer, .eval = ccs_eval,
                                              .emit_c = ccs_emit_c };
nncc_status nncc_conv_params(nncc_graph *g, nncc_node *n, nncc_conv2d_params *p)
{
    return conv_params(g, n, p);
}
