/*
 * nncc_rt_rnn.c - RNN, GRU and LSTM with the default activations, the
 * portable reference. Each output unit's gate inputs are dot products
 * computed when needed: no scratch beyond the output rows (see
 * nncc_runtime.h for which rows serve as state).
 */
#include "nncc_runtime.h"

#include <math.h>
#include <string.h>

static float dot(const float *a, const float *v, int64_t n)
{
    float s = 0.0f;
    if (!v)
        return 0.0f; /* a zero state */
    for (int64_t k = 0; k < n; k++)
        s += a[k] * v[k];
    return s;
}

static float sig(float v) { return v >= 0 ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v)); }

static float clipv(const nncc_rnn_params *p, float v)
{
    if (p->clip > 0.0f)
        v = v < -p->clip ? -p->clip : v > p->clip ? p->clip : v;
    return v;
}

void nncc_rnn_f32(const nncc_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                  const int32_t *seq_lens, const float *h0, const float *c0, const float *peep, float *y,
                  float *yh, float *yc)
{
    const int64_t H = p->hidden, I = p->input;
    const int64_t G = p->kind == NNCC_RNN_LSTM ? 4 : p->kind == NNCC_RNN_GRU ? 3 : 1;
    for (int64_t d = 0; d < p->dirs; d++) {
        const float *wd = w + d * G * H * I, *rd = r + d * G * H * H;
        const float *wb = b ? b + d * 2 * G * H : 0, *rb = b ? wb + G * H : 0;
        const float *pd = peep ? peep + d * 3 * H : 0;
        const int back = d == 1 || p->reverse;
        for (int64_t bi = 0; bi < p->batch; bi++) {
            int64_t len = seq_lens ? seq_lens[bi] : p->seq;
            len = len < 0 ? 0 : len > p->seq ? p->seq : len;
            const int64_t so = d * p->hs[0] + bi * p->hs[1];
            const float *hp = h0 ? h0 + so : 0;
            float *hrow = yh + so, *cst = yc ? yc + so : 0;
            if (cst)
                for (int64_t j = 0; j < H; j++)
                    cst[j] = c0 ? c0[so + j] : 0.0f;
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = back ? len - 1 - s : s;
                const float *xt = x + t * p->xs[0] + bi * p->xs[1];
                float *yt = y + t * p->ys[0] + d * p->ys[1] + bi * p->ys[2];
/* gate g's input for unit j, without the recurrent part when rec is 0 */
#define PRE(g, j, rec)                                                          \
    (dot(wd + ((g) * H + (j)) * I, xt, I) + ((rec) ? dot(rd + ((g) * H + (j)) * H, hp, H) : 0.0f) + \
     (b ? wb[(g) * H + (j)] + rb[(g) * H + (j)] : 0.0f))
                if (p->kind == NNCC_RNN_SIMPLE) {
                    for (int64_t j = 0; j < H; j++)
                        yt[j] = tanhf(clipv(p, PRE(0, j, 1)));
                } else if (p->kind == NNCC_RNN_LSTM) {
                    for (int64_t j = 0; j < H; j++) {
                        const float cp = cst[j];
                        const float i = sig(clipv(p, PRE(0, j, 1) + (pd ? pd[j] * cp : 0.0f)));
                        const float f = sig(clipv(p, PRE(2, j, 1) + (pd ? pd[2 * H + j] * cp : 0.0f)));
                        const float c = tanhf(clipv(p, PRE(3, j, 1)));
                        const float ct = f * cp + i * c;
                        const float o = sig(clipv(p, PRE(1, j, 1) + (pd ? pd[H + j] * ct : 0.0f)));
                        cst[j] = ct;
                        yt[j] = o * tanhf(ct);
                    }
                } else if (p->linear_before_reset) {
                    for (int64_t j = 0; j < H; j++) {
                        const float z = sig(clipv(p, PRE(0, j, 1))), rr = sig(clipv(p, PRE(1, j, 1)));
                        const float rh = dot(rd + (2 * H + j) * H, hp, H) + (b ? rb[2 * H + j] : 0.0f);
                        const float hh = tanhf(clipv(p, dot(wd + (2 * H + j) * I, xt, I) + (b ? wb[2 * H + j] : 0.0f) + rr * rh));
                        yt[j] = (1.0f - z) * hh + z * (hp ? hp[j] : 0.0f);
                    }
                } else {
                    for (int64_t k = 0; k < H; k++) /* r * H_{t-1} into the Y_h row */
                        hrow[k] = sig(clipv(p, PRE(1, k, 1))) * (hp ? hp[k] : 0.0f);
                    for (int64_t j = 0; j < H; j++) {
                        const float z = sig(clipv(p, PRE(0, j, 1)));
                        const float hh = tanhf(clipv(p, PRE(2, j, 0) + dot(rd + (2 * H + j) * H, hrow, H)));
                        yt[j] = (1.0f - z) * hh + z * (hp ? hp[j] : 0.0f);
                    }
                }
#undef PRE
                hp = yt;
            }
            for (int64_t t = len; t < p->seq; t++)
                memset(y + t * p->ys[0] + d * p->ys[1] + bi * p->ys[2], 0, (size_t)H * sizeof(float));
            for (int64_t j = 0; j < H; j++)
                hrow[j] = hp ? hp[j] : 0.0f;
        }
    }
}
