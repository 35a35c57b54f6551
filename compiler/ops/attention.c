/*
 * attention.c - Attention (opset 23+): scaled dot-product attention with
 * grouped-query heads, a bool or additive mask, causal and sliding-window
 * masking, softcap, a key/value cache (past_key/past_value in, present_key/
 * present_value out), nonpad_kv_seqlen and the qk_matmul_output output.
 *
 *   Q (B,Hq,Sq,D) or (B,Sq,Hq*D); K (B,Hkv,Skv,D) or (B,Skv,Hkv*D); V alike
 *   with Dv; mask broadcast to (B,Hq,Sq,P+Skv) (a shorter last dim masks the
 *   rest); past_key (B,Hkv,P,D), past_value (B,Hkv,P,Dv); nonpad (B) int64
 *   -> Y like Q with Dv; present_* (B,Hkv,P+Skv,D|Dv); qk (B,Hq,Sq,P+Skv)
 *
 * float32 only (softmax_precision must be float32). 3-D inputs need the
 * q_num_heads and kv_num_heads attributes.
 *
 * LinearAttention: q (B,T,Hq*Dk), k (B,T,Hkv*Dk), v (B,T,Hkv*Dv), past_state
 * (B,Hkv,Dk,Dv), decay, beta -> y (B,T,Hq*Dv), present_state; update rules
 * linear, gated, delta, gated_delta. The state lives in present_state, given
 * an internal tensor when the model leaves it out.
 *
 * RotaryEmbedding: x (B,S,H*D) (num_heads) or (B,H,S,D), cos/sin caches
 * (max_pos, R/2) indexed by position_ids (B,S), or (B,S,R/2) without them
 * -> y like x; R = rotary_embedding_dim (default D), interleaved pairs.
 */
#include "nncc-impl.h"

#include <math.h>
#include <string.h>

static nncc_status att_params(nncc_graph *g, nncc_node *n, nncc_attention_params *p, nncc_shape out[4])
{
    nncc_tensor *q = nncc_in(g, n, 0), *k = nncc_in(g, n, 1), *v = nncc_in(g, n, 2);
    nncc_tensor *mask = nncc_in(g, n, 3), *pk = nncc_in(g, n, 4), *pv = nncc_in(g, n, 5), *np = nncc_in(g, n, 6);
    int r = q->shape.rank;
    memset(p, 0, sizeof *p);
    int64_t hq = nncc_attr_int(g, n, "q_num_heads", 0), hkv = nncc_attr_int(g, n, "kv_num_heads", 0);
    p->causal = (int32_t)nncc_attr_int(g, n, "is_causal", 0);
    p->qk_mode = (int32_t)nncc_attr_int(g, n, "qk_matmul_output_mode", 0);
    p->softcap = nncc_attr_float(g, n, "softcap", 0.0f);
    p->left_window = nncc_attr_int(g, n, "left_window_size", -1);
    p->right_window = nncc_attr_int(g, n, "right_window_size", -1);
    int64_t prec = nncc_attr_int(g, n, "softmax_precision", NNCC_DT_F32);
    if (prec != NNCC_DT_F32)
        return nncc_unsupported(g, n, "softmax_precision %s (float32 only)", nncc_dtype_name((nncc_dtype)prec));
    if ((r != 3 && r != 4) || k->shape.rank != r || v->shape.rank != r) {
        nncc_error(g, n, "Q, K and V must all be 3-D or all 4-D");
        return NNCC_ERR_INPUT;
    }
    if (p->qk_mode < 0 || p->qk_mode > 3 || p->left_window < -1 || p->right_window < -1) {
        nncc_error(g, n, "bad qk_matmul_output_mode or window size");
        return NNCC_ERR_INPUT;
    }
    p->batch = q->shape.d[0];
    if (r == 3) {
        if (hq <= 0 || hkv <= 0 || q->shape.d[2] % hq || k->shape.d[2] % hkv || v->shape.d[2] % hkv) {
            nncc_error(g, n, "3-D inputs need q_num_heads and kv_num_heads dividing the hidden sizes");
            return NNCC_ERR_INPUT;
        }
        p->q_heads = hq, p->kv_heads = hkv;
        p->q_len = q->shape.d[1], p->kv_new = k->shape.d[1];
        p->head = q->shape.d[2] / hq, p->v_head = v->shape.d[2] / hkv;
        if (k->shape.d[2] / hkv != p->head || v->shape.d[1] != p->kv_new) {
            nncc_error(g, n, "K and V do not match Q");
            return NNCC_ERR_INPUT;
        }
        int64_t qs[3] = { p->q_len * hq * p->head, p->head, hq * p->head };
        int64_t ks[3] = { p->kv_new * hkv * p->head, p->head, hkv * p->head };
        int64_t vs[3] = { p->kv_new * hkv * p->v_head, p->v_head, hkv * p->v_head };
        int64_t ys[3] = { p->q_len * hq * p->v_head, p->v_head, hq * p->v_head };
        memcpy(p->qs, qs, sizeof qs), memcpy(p->ks, ks, sizeof ks);
        memcpy(p->vs, vs, sizeof vs), memcpy(p->ys, ys, sizeof ys);
        out[0] = (nncc_shape){ 3, { p->batch, p->q_len, hq * p->v_head } };
    } else {
        p->q_heads = q->shape.d[1], p->kv_heads = k->shape.d[1];
        p->q_len = q->shape.d[2], p->kv_new = k->shape.d[2];
        p->head = q->shape.d[3], p->v_head = v->shape.d[3];
        if ((hq && hq != p->q_heads) || (hkv && hkv != p->kv_heads) || k->shape.d[3] != p->head ||
            v->shape.d[1] != p->kv_heads || v->shape.d[2] != p->kv_new) {
            nncc_error(g, n, "K and V do not match Q");
            return NNCC_ERR_INPUT;
        }
        int64_t qs[3] = { p->q_heads * p->q_len * p->head, p->q_len * p->head, p->head };
        int64_t ks[3] = { p->kv_heads * p->kv_new * p->head, p->kv_new * p->head, p->head };
        int64_t vs[3] = { p->kv_heads * p->kv_new * p->v_head, p->kv_new * p->v_head, p->v_head };
        int64_t ys[3] = { p->q_heads * p->q_len * p->v_head, p->q_len * p->v_head, p->v_head };
        memcpy(p->qs, qs, sizeof qs), memcpy(p->ks, ks, sizeof ks);
        memcpy(p->vs, vs, sizeof vs), memcpy(p->ys, ys, sizeof ys);
        out[0] = (nncc_shape){ 4, { p->batch, p->q_heads, p->q_len, p->v_head } };
    }
    if (k->shape.d[0] != p->batch || v->shape.d[0] != p->batch || p->kv_heads <= 0 || p->q_heads % p->kv_heads) {
        nncc_error(g, n, "batch sizes differ or %lld query heads are not a multiple of %lld key heads",
                   (long long)p->q_heads, (long long)p->kv_heads);
        return NNCC_ERR_INPUT;
    }
    p->scale = nncc_attr_float(g, n, "scale", 1.0f / sqrtf((float)p->head));
    if (!pk != !pv || (np && pk)) {
        nncc_error(g, n, "past_key and past_value go together, and not with nonpad_kv_seqlen");
        return NNCC_ERR_INPUT;
    }
    if (pk) {
        nncc_shape want_k = { 4, { p->batch, p->kv_heads, pk->shape.d[2], p->head } };
        nncc_shape want_v = { 4, { p->batch, p->kv_heads, pk->shape.d[2], p->v_head } };
        if (!nncc_shape_eq(&pk->shape, &want_k) || !nncc_shape_eq(&pv->shape, &want_v)) {
            nncc_error(g, n, "past_key %s or past_value %s does not fit", nncc_shape_str(g->ctx, &pk->shape),
                       nncc_shape_str(g->ctx, &pv->shape));
            return NNCC_ERR_INPUT;
        }
        p->past_len = pk->shape.d[2];
    }
    if (np && (np->shape.rank != 1 || np->shape.d[0] != p->batch)) {
        nncc_error(g, n, "nonpad_kv_seqlen must be (%lld)", (long long)p->batch);
        return NNCC_ERR_INPUT;
    }
    int64_t keys = p->past_len + p->kv_new;
    if (mask) {
        int mr = mask->shape.rank;
        int64_t want[4] = { p->batch, p->q_heads, p->q_len, keys };
        if (mr < 1 || mr > 4) {
            nncc_error(g, n, "attn_mask of rank %d", mr);
            return NNCC_ERR_INPUT;
        }
        p->mask = mask->dtype == NNCC_DT_BOOL ? 1 : 2;
        p->mask_len = mask->shape.d[mr - 1];
        int64_t st = 1;
        for (int i = 3; i >= 0; i--) {
            int mi = i - (4 - mr);
            int64_t dim = mi >= 0 ? mask->shape.d[mi] : 1;
            bool ok = dim == 1 || dim == want[i] || (i == 3 && dim <= keys);
            if (!ok) {
                nncc_error(g, n, "attn_mask %s does not broadcast to (%lld, %lld, %lld, %lld)",
                           nncc_shape_str(g->ctx, &mask->shape), (long long)want[0], (long long)want[1],
                           (long long)want[2], (long long)want[3]);
                return NNCC_ERR_INPUT;
            }
            p->ms[i] = dim == 1 && !(i == 3 && want[3] == 1) ? 0 : st;
            if (i == 3 && dim == 1 && keys > 1)
                p->ms[i] = 0, p->mask_len = keys; /* one column broadcast over every key */
            st *= dim;
        }
    }
    out[1] = (nncc_shape){ 4, { p->batch, p->kv_heads, keys, p->head } };
    out[2] = (nncc_shape){ 4, { p->batch, p->kv_heads, keys, p->v_head } };
    out[3] = (nncc_shape){ 4, { p->batch, p->q_heads, p->q_len, keys } };
    return NNCC_OK;
}

static nncc_status att_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 7))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 6; i++)
        if (i != 3 && nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    if (nncc_check_dtype(g, n, 3, NNCC_DT_F32, NNCC_DT_BOOL, NNCC_DT_UNDEF) ||
        nncc_check_dtype(g, n, 6, NNCC_DT_I64, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    if (n->n_out > 4) {
        nncc_error(g, n, "has %d outputs, at most 4", n->n_out);
        return NNCC_ERR_INPUT;
    }
    nncc_attention_params p;
    nncc_shape s[4];
    if (att_params(g, n, &p, s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    for (int i = 0; i < n->n_out; i++)
        nncc_set_out(g, n, i, NNCC_DT_F32, &s[i]);
    return NNCC_OK;
}

static nncc_status att_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_attention_params p;
    nncc_shape s[4];
    if (att_params(g, n, &p, s) != NNCC_OK)
        return NNCC_ERR_INPUT;
    void *o[4] = { 0 };
    for (int i = 0; i < n->n_out; i++)
        o[i] = out[i];
    nncc_attention_f32(&p, in[0], in[1], in[2], n->n_in > 3 ? in[3] : NULL, n->n_in > 4 ? in[4] : NULL,
                       n->n_in > 5 ? in[5] : NULL, n->n_in > 6 ? in[6] : NULL, o[0], o[1], o[2], o[3]);
    return NNCC_OK;
}

static void emit_3(nncc_emit *e, const char *field, const int64_t *v)
{
    fprintf(e->pf, ", .%s = ", field);
    nncc_emit_i64s(e, v, 3);
}

static void att_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_attention_params p;
    nncc_shape s[4];
    if (att_params(g, n, &p, s) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_attention_params");
    fprintf(e->pf, "{\n    .batch = %lld, .q_heads = %lld, .kv_heads = %lld, .q_len = %lld, .kv_new = %lld, "
                   ".past_len = %lld,\n    .head = %lld, .v_head = %lld",
            (long long)p.batch, (long long)p.q_heads, (long long)p.kv_heads, (long long)p.q_len, (long long)p.kv_new,
            (long long)p.past_len, (long long)p.head, (long long)p.v_head);
    emit_3(e, "qs", p.qs);
    emit_3(e, "ks", p.ks);
    emit_3(e, "vs", p.vs);
    emit_3(e, "ys", p.ys);
    fprintf(e->pf, ",\n    .scale = %s, .softcap = %s, .causal = %d, .left_window = %lld, .right_window = %lld,\n",
            nncc_float_c(g->ctx, p.scale), nncc_float_c(g->ctx, p.softcap), (int)p.causal, (long long)p.left_window,
            (long long)p.right_window);
    fprintf(e->pf, "    .mask = %d, .ms = ", (int)p.mask);
    nncc_emit_i64s(e, p.ms, 4);
    fprintf(e->pf, ", .mask_len = %lld, .qk_mode = %d\n};\n", (long long)p.mask_len, (int)p.qk_mode);
    const char *ref[7], *oref[4];
    for (int i = 0; i < 7; i++)
        ref[i] = nncc_emit_ref(e, g, i < n->n_in ? n->in[i] : -1);
    for (int i = 0; i < 4; i++)
        oref[i] = nncc_emit_ref(e, g, i < n->n_out ? n->out[i] : -1);
    fprintf(e->f, "    nncc_attention_f32(&%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n", name, ref[0], ref[1],
            ref[2], ref[3], ref[4], ref[5], ref[6], oref[0], oref[1], oref[2], oref[3]);
}

const nncc_op nncc_op_Attention = { .name = "Attention", .infer = att_infer, .eval = att_eval, .emit_c = att_emit_c };

/* ---- RotaryEmbedding ---- */

static nncc_status rot_params(nncc_graph *g, nncc_node *n, nncc_rotary_params *p)
{
    nncc_tensor *x = nncc_in(g, n, 0), *cc = nncc_in(g, n, 1), *sc = nncc_in(g, n, 2), *pid = nncc_in(g, n, 3);
    int64_t heads = nncc_attr_int(g, n, "num_heads", 0), rot = nncc_attr_int(g, n, "rotary_embedding_dim", 0);
    memset(p, 0, sizeof *p);
    p->interleaved = (int32_t)nncc_attr_int(g, n, "interleaved", 0);
    int r = x->shape.rank;
    if (r == 4) {
        p->batch = x->shape.d[0], p->heads = x->shape.d[1], p->seq = x->shape.d[2], p->head = x->shape.d[3];
        p->xs[0] = p->heads * p->seq * p->head, p->xs[1] = p->head, p->xs[2] = p->seq * p->head;
    } else if (r == 3 && heads > 0 && x->shape.d[2] % heads == 0) {
        p->batch = x->shape.d[0], p->seq = x->shape.d[1], p->heads = heads, p->head = x->shape.d[2] / heads;
        p->xs[0] = p->seq * x->shape.d[2], p->xs[1] = x->shape.d[2], p->xs[2] = p->head;
    } else {
        nncc_error(g, n, "input %s must be 4-D, or 3-D with num_heads dividing its last dim",
                   nncc_shape_str(g->ctx, &x->shape));
        return NNCC_ERR_INPUT;
    }
    p->rot = rot ? rot : p->head;
    if (p->rot % 2 || p->rot > p->head || !nncc_shape_eq(&cc->shape, &sc->shape) || cc->shape.rank < 2 ||
        cc->shape.d[cc->shape.rank - 1] != p->rot / 2) {
        nncc_error(g, n, "caches %s do not fit a rotary dim of %lld", nncc_shape_str(g->ctx, &cc->shape),
                   (long long)p->rot);
        return NNCC_ERR_INPUT;
    }
    if (pid) {
        nncc_shape want = { 2, { p->batch, p->seq } };
        if (!nncc_shape_eq(&pid->shape, &want) || cc->shape.rank != 2) {
            nncc_error(g, n, "position_ids must be (%lld, %lld) and the caches 2-D", (long long)p->batch,
                       (long long)p->seq);
            return NNCC_ERR_INPUT;
        }
        p->max_pos = cc->shape.d[0];
    } else {
        nncc_shape want = { 3, { p->batch, p->seq, p->rot / 2 } };
        if (!nncc_shape_eq(&cc->shape, &want)) {
            nncc_error(g, n, "without position_ids the caches must be (%lld, %lld, %lld)", (long long)p->batch,
                       (long long)p->seq, (long long)(p->rot / 2));
            return NNCC_ERR_INPUT;
        }
    }
    return NNCC_OK;
}

static nncc_status rot_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 4))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 3; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    if (nncc_check_dtype(g, n, 3, NNCC_DT_I64, NNCC_DT_UNDEF))
        return NNCC_ERR_INPUT;
    nncc_rotary_params p;
    if (rot_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_set_out(g, n, 0, NNCC_DT_F32, &nncc_in(g, n, 0)->shape);
    return NNCC_OK;
}

static nncc_status rot_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_rotary_params p;
    if (rot_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    if (nncc_rotary_f32(&p, in[0], in[1], in[2], n->n_in > 3 ? in[3] : NULL, out[0])) {
        nncc_error(g, n, "a position id is out of range");
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static void rot_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_rotary_params p;
    if (rot_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_rotary_params");
    fprintf(e->pf, "{\n    .batch = %lld, .seq = %lld, .heads = %lld, .head = %lld, .rot = %lld, .xs = ",
            (long long)p.batch, (long long)p.seq, (long long)p.heads, (long long)p.head, (long long)p.rot);
    nncc_emit_i64s(e, p.xs, 3);
    fprintf(e->pf, ",\n    .max_pos = %lld, .interleaved = %d\n};\n", (long long)p.max_pos, (int)p.interleaved);
    fprintf(e->f, "    if (nncc_rotary_f32(&%s, %s, %s, %s, %s, %s))\n        return 1; /* position id out of range */\n",
            name, nncc_emit_ref(e, g, n->in[0]), nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]),
            nncc_emit_ref(e, g, n->n_in > 3 ? n->in[3] : -1), nncc_emit_ref(e, g, n->out[0]));
}

const nncc_op nncc_op_RotaryEmbedding = { .name = "RotaryEmbedding", .infer = rot_infer, .eval = rot_eval,
                                          .emit_c = rot_emit_c };

/* ---- LinearAttention ---- */

static nncc_status la_params(nncc_graph *g, nncc_node *n, nncc_linear_attention_params *p)
{
    nncc_tensor *q = nncc_in(g, n, 0), *k = nncc_in(g, n, 1), *v = nncc_in(g, n, 2), *ps = nncc_in(g, n, 3);
    nncc_tensor *dc = nncc_in(g, n, 4), *bt = nncc_in(g, n, 5);
    const char *rule = nncc_attr_str(g, n, "update_rule", "gated_delta");
    int64_t hq = nncc_attr_int(g, n, "q_num_heads", 0), hkv = nncc_attr_int(g, n, "kv_num_heads", 0);
    float scale = nncc_attr_float(g, n, "scale", 0.0f);
    nncc_attr_int(g, n, "chunk_size", 64); /* a tuning hint */
    memset(p, 0, sizeof *p);
    p->gated = !strcmp(rule, "gated") || !strcmp(rule, "gated_delta");
    p->delta = !strcmp(rule, "delta") || !strcmp(rule, "gated_delta");
    if (!p->gated && !p->delta && strcmp(rule, "linear")) {
        nncc_error(g, n, "unknown update_rule '%s'", rule);
        return NNCC_ERR_INPUT;
    }
    if (q->shape.rank != 3 || k->shape.rank != 3 || v->shape.rank != 3 || hq <= 0 || hkv <= 0 || hq % hkv ||
        q->shape.d[2] % hq || k->shape.d[2] % hkv || v->shape.d[2] % hkv) {
        nncc_error(g, n, "q, k, v must be (B, T, heads * D) with q_num_heads a multiple of kv_num_heads");
        return NNCC_ERR_INPUT;
    }
    p->batch = q->shape.d[0], p->steps = q->shape.d[1], p->q_heads = hq, p->kv_heads = hkv;
    p->dk = q->shape.d[2] / hq, p->dv = v->shape.d[2] / hkv;
    p->scale = scale != 0.0f ? scale : 1.0f / sqrtf((float)p->dk);
    nncc_shape st = { 4, { p->batch, hkv, p->dk, p->dv } };
    bool ok = k->shape.d[2] / hkv == p->dk && (!ps || nncc_shape_eq(&ps->shape, &st)) && !dc == !p->gated &&
              !bt == !p->delta;
    if (ok && dc) {
        p->decay_per_row = dc->shape.rank == 3 && dc->shape.d[2] == hkv * p->dk && p->dk > 1;
        ok = dc->shape.rank == 3 && (dc->shape.d[2] == hkv || dc->shape.d[2] == hkv * p->dk);
    }
    if (ok && bt) {
        p->beta_heads = bt->shape.rank == 3 ? bt->shape.d[2] : 0;
        ok = p->beta_heads == hkv || p->beta_heads == 1;
    }
    for (int i = 1; i < 3 && ok; i++)
        ok = nncc_in(g, n, i)->shape.d[0] == p->batch && nncc_in(g, n, i)->shape.d[1] == p->steps;
    if (!ok) {
        nncc_error(g, n, "k, v, past_state, decay or beta do not fit update_rule '%s'", rule);
        return NNCC_ERR_INPUT;
    }
    return NNCC_OK;
}

static nncc_status la_infer(nncc_graph *g, nncc_node *n)
{
    if (nncc_check_inputs(g, n, 3, 6))
        return NNCC_ERR_INPUT;
    for (int i = 0; i < 6; i++)
        if (nncc_check_dtype(g, n, i, NNCC_DT_F32, NNCC_DT_UNDEF))
            return NNCC_ERR_INPUT;
    if (n->n_out > 2) {
        nncc_error(g, n, "has %d outputs, at most 2", n->n_out);
        return NNCC_ERR_INPUT;
    }
    nncc_linear_attention_params p;
    if (la_params(g, n, &p) != NNCC_OK || nncc_node_materialize_outputs(g, (int)(n - g->n), 2) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_shape ys = { 3, { p.batch, p.steps, p.q_heads * p.dv } }, st = { 4, { p.batch, p.kv_heads, p.dk, p.dv } };
    nncc_set_out(g, n, 0, NNCC_DT_F32, &ys);
    nncc_set_out(g, n, 1, NNCC_DT_F32, &st);
    return NNCC_OK;
}

static nncc_status la_eval(nncc_graph *g, nncc_node *n, const void **in, void **out)
{
    nncc_linear_attention_params p;
    if (la_params(g, n, &p) != NNCC_OK)
        return NNCC_ERR_INPUT;
    nncc_linear_attention_f32(&p, in[0], in[1], in[2], n->n_in > 3 ? in[3] : NULL, n->n_in > 4 ? in[4] : NULL,
                              n->n_in > 5 ? in[5] : NULL, out[0], out[1]);
    return NNCC_OK;
}

static void la_emit_c(nncc_emit *e, nncc_graph *g, nncc_node *n)
{
    nncc_linear_attention_params p;
    if (la_params(g, n, &p) != NNCC_OK)
        return;
    const char *name = nncc_emit_param(e, "nncc_linear_attention_params");
    fprintf(e->pf, "{ .batch = %lld, .steps = %lld, .q_heads = %lld, .kv_heads = %lld, .dk = %lld, .dv = %lld,\n"
                   "    .scale = %s, .gated = %d, .delta = %d, .decay_per_row = %lld, .beta_heads = %lld };\n",
            (long long)p.batch, (long long)p.steps, (long long)p.q_heads, (long long)p.kv_heads, (long long)p.dk,
            (long long)p.dv, nncc_float_c(g->ctx, p.scale), (int)p.gated, (int)p.delta, (long long)p.decay_per_row,
            (long long)p.beta_heads);
    fprintf(e->f, "    nncc_linear_attention_f32(&%s, %s, %s, %s, %s, %s, %s, %s, %s);\n", name, nncc_emit_ref(e, g, n->in[0]),
            nncc_emit_ref(e, g, n->in[1]), nncc_emit_ref(e, g, n->in[2]), nncc_emit_ref(e, g, n->n_in > 3 ? n->in[3] : -1),
            nncc_emit_ref(e, g, n->n_in > 4 ? n->in[4] : -1), nncc_emit_ref(e, g, n->n_in > 5 ? n->in[5] : -1),
            nncc_emit_ref(e, g, n->out[0]), nncc_emit_ref(e, g, n->out[1]));
}

const nncc_op nncc_op_LinearAttention = { .name = "LinearAttention", .infer = la_infer, .eval = la_eval,
                                          .emit_c = la_emit_c };
