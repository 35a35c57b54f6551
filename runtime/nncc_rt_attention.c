/*
 * nncc_rt_attention.c - scaled dot-product attention (ONNX Attention),
 * linear attention (LinearAttention) and rotary position embeddings
 * (RotaryEmbedding), the portable reference.
 *
 * The softmax over keys runs in two passes over the keys (the row maximum,
 * then the sum and the weighted values), recomputing each score rather than
 * storing a row of them: no scratch memory, O(q_len * keys * D) work.
 */
#include "nncc_runtime.h"

#include <math.h>

/* Key or value element d of key j (past first, then new) for key head kh. */
static float kv_at(const nncc_attention_params *p, const float *past, const float *cur, const int64_t *st,
                   int64_t dim, int64_t b, int64_t kh, int64_t j, int64_t d)
{
    if (j < p->past_len)
        return past[((b * p->kv_heads + kh) * p->past_len + j) * dim + d];
    return cur[b * st[0] + kh * st[1] + (j - p->past_len) * st[2] + d];
}

static float bias_at(const nncc_attention_params *p, const void *mask, const int64_t *nonpad, int64_t b,
                     int64_t h, int64_t i, int64_t j)
{
    float bias = 0.0f;
    const int64_t off = nonpad ? nonpad[b] - p->q_len : p->past_len;
    if (p->mask) {
        if (j >= p->mask_len) {
            bias = -INFINITY;
        } else {
            const int64_t m = b * p->ms[0] + h * p->ms[1] + i * p->ms[2] + j * p->ms[3];
            if (p->mask == 1)
                bias = ((const uint8_t *)mask)[m] ? 0.0f : -INFINITY;
            else
                bias = ((const float *)mask)[m];
        }
    }
    if (p->causal && j > i + off)
        bias = -INFINITY;
    if (p->left_window >= 0 || p->right_window >= 0) {
        const int64_t diff = i + off - j;
        if ((p->left_window >= 0 && diff > p->left_window) || (p->right_window >= 0 && -diff > p->right_window))
            bias = -INFINITY;
    }
    if (nonpad && j >= nonpad[b])
        bias = -INFINITY;
    return bias;
}

static float score_at(const nncc_attention_params *p, const float *qr, const float *past_k, const float *k,
                      int64_t b, int64_t kh, int64_t j)
{
    float s = 0.0f;
    for (int64_t d = 0; d < p->head; d++)
        s += qr[d] * kv_at(p, past_k, k, p->ks, p->head, b, kh, j, d);
    s *= p->scale;
    if (p->softcap > 0.0f)
        s = p->softcap * tanhf(s / p->softcap);
    return s;
}

void nncc_attention_f32(const nncc_attention_params *p, const float *q, const float *k, const float *v,
                        const void *mask, const float *past_k, const float *past_v, const int64_t *nonpad,
                        float *y, float *present_k, float *present_v, float *qk_out)
{
    const int64_t keys = p->past_len + p->kv_new, reps = p->q_heads / p->kv_heads;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t kh = 0; kh < p->kv_heads; kh++) {
            for (int64_t j = 0; j < keys; j++) {
                const int64_t o = (b * p->kv_heads + kh) * keys + j;
                if (present_k)
                    for (int64_t d = 0; d < p->head; d++)
                        present_k[o * p->head + d] = kv_at(p, past_k, k, p->ks, p->head, b, kh, j, d);
                if (present_v)
                    for (int64_t d = 0; d < p->v_head; d++)
                        present_v[o * p->v_head + d] = kv_at(p, past_v, v, p->vs, p->v_head, b, kh, j, d);
            }
        }
        for (int64_t h = 0; h < p->q_heads; h++) {
            const int64_t kh = h / reps;
            for (int64_t i = 0; i < p->q_len; i++) {
                const float *qr = q + b * p->qs[0] + h * p->qs[1] + i * p->qs[2];
                float *yr = y + b * p->ys[0] + h * p->ys[1] + i * p->ys[2];
                float *qk = qk_out ? qk_out + ((b * p->q_heads + h) * p->q_len + i) * keys : 0;
                float mx = -INFINITY, sum = 0.0f;
                int live = 0; /* some key not masked by the bias */
                for (int64_t j = 0; j < keys; j++) {
                    const float s = score_at(p, qr, past_k, k, b, kh, j);
                    const float bias = bias_at(p, mask, nonpad, b, h, i, j);
                    live |= bias != -INFINITY;
                    mx = s + bias > mx ? s + bias : mx;
                    if (qk && p->qk_mode <= 2)
                        qk[j] = p->qk_mode == 2 ? s + bias : s;
                }
                for (int64_t d = 0; d < p->v_head; d++)
                    yr[d] = 0.0f;
                if (!live || mx == -INFINITY) {
                    if (qk && p->qk_mode == 3)
                        for (int64_t j = 0; j < keys; j++)
                            qk[j] = 0.0f;
                    continue;
                }
                for (int64_t j = 0; j < keys; j++) {
                    const float e = expf(score_at(p, qr, past_k, k, b, kh, j) + bias_at(p, mask, nonpad, b, h, i, j) - mx);
                    sum += e;
                    for (int64_t d = 0; d < p->v_head; d++)
                        yr[d] += e * kv_at(p, past_v, v, p->vs, p->v_head, b, kh, j, d);
                    if (qk && p->qk_mode == 3)
                        qk[j] = e;
                }
                for (int64_t d = 0; d < p->v_head; d++)
                    yr[d] /= sum;
                if (qk && p->qk_mode == 3)
                    for (int64_t j = 0; j < keys; j++)
                        qk[j] /= sum;
            }
        }
    }
}

int nncc_rotary_f32(const nncc_rotary_params *p, const float *x, const float *cos_cache, const float *sin_cache,
                    const int64_t *position_ids, float *y)
{
    const int64_t half = p->rot / 2;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t s = 0; s < p->seq; s++) {
            int64_t pos = b * p->seq + s;
            if (position_ids) {
                pos = position_ids[b * p->seq + s];
                if (pos < 0 || pos >= p->max_pos)
                    return 1;
            }
            const float *cr = cos_cache + pos * half, *sr = sin_cache + pos * half;
            for (int64_t h = 0; h < p->heads; h++) {
                const int64_t o = b * p->xs[0] + s * p->xs[1] + h * p->xs[2];
                const float *xr = x + o;
                float *yr = y + o;
                for (int64_t i = 0; i < half; i++) {
                    const int64_t i1 = p->interleaved ? 2 * i : i, i2 = p->interleaved ? 2 * i + 1 : i + half;
                    const float x1 = xr[i1], x2 = xr[i2];
                    yr[i1] = cr[i] * x1 - sr[i] * x2;
                    yr[i2] = sr[i] * x1 + cr[i] * x2;
                }
                for (int64_t d = p->rot; d < p->head; d++)
                    yr[d] = xr[d];
            }
        }
    }
    return 0;
}

void nncc_linear_attention_f32(const nncc_linear_attention_params *p, const float *q, const float *k, const float *v,
                               const float *past, const float *decay, const float *beta, float *y, float *state)
{
    const int64_t dk = p->dk, dv = p->dv, group = p->q_heads / p->kv_heads;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t h = 0; h < p->kv_heads; h++) {
            float *S = state + (b * p->kv_heads + h) * dk * dv;
            for (int64_t i = 0; i < dk * dv; i++)
                S[i] = past ? past[(b * p->kv_heads + h) * dk * dv + i] : 0.0f;
            for (int64_t t = 0; t < p->steps; t++) {
                const int64_t bt = b * p->steps + t;
                const float *kt = k + (bt * p->kv_heads + h) * dk, *vt = v + (bt * p->kv_heads + h) * dv;
                if (p->gated)
                    for (int64_t i = 0; i < dk; i++) {
                        const float g = p->decay_per_row ? decay[(bt * p->kv_heads + h) * dk + i]
                                                         : decay[bt * p->kv_heads + h];
                        for (int64_t m = 0; m < dv; m++)
                            S[i * dv + m] *= expf(g);
                    }
                const float be = p->delta ? beta[bt * p->beta_heads + (p->beta_heads > 1 ? h : 0)] : 1.0f;
                for (int64_t m = 0; m < dv; m++) { /* column m of S depends only on itself */
                    float u = vt[m];
                    if (p->delta) {
                        float r = 0.0f;
                        for (int64_t i = 0; i < dk; i++)
                            r += S[i * dv + m] * kt[i];
                        u = be * (u - r);
                    }
                    for (int64_t i = 0; i < dk; i++)
                        S[i * dv + m] += kt[i] * u;
                }
                for (int64_t gq = 0; gq < group; gq++) {
                    const int64_t hq = h * group + gq;
                    const float *qt = q + (bt * p->q_heads + hq) * dk;
                    float *yt = y + (bt * p->q_heads + hq) * dv;
                    for (int64_t m = 0; m < dv; m++) {
                        float acc = 0.0f;
                        for (int64_t i = 0; i < dk; i++)
                            acc += qt[i] * S[i * dv + m];
                        yt[m] = p->scale * acc;
                    }
                }
            }
        }
    }
}
