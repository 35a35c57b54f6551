/*
 * nncc_rt_index.c - indexed reads and writes: GatherElements,
 * ScatterElements, GatherND, ScatterND, TensorScatter, ReverseSequence, the
 * portable reference.
 *
 * Elements are moved as bytes of the element size; reductions other than
 * plain assignment are float32 only. Indices are checked as they are read:
 * an index out of range makes the kernel return nonzero.
 */
#include "nncc_runtime.h"

#include <string.h>

static int64_t load_idx(const void *idx, size_t idx_size, int64_t i)
{
    return idx_size == 8 ? ((const int64_t *)idx)[i] : ((const int32_t *)idx)[i];
}

/* *y = reduce(*y, *u) on float32; NONE copies `size` bytes. */
static void combine(int32_t reduction, size_t size, void *y, const void *u)
{
    if (reduction == NNCC_SCATTER_NONE) {
        memcpy(y, u, size);
        return;
    }
    float *a = (float *)y;
    const float b = *(const float *)u;
    switch (reduction) {
    case NNCC_SCATTER_ADD: *a += b; break;
    case NNCC_SCATTER_MUL: *a *= b; break;
    case NNCC_SCATTER_MAX: *a = b > *a ? b : *a; break;
    default:               *a = b < *a ? b : *a; break;
    }
}

/* Walks the indices tensor; BODY sees o (flat position in indices) and xo
 * (the data offset of that position with the axis coordinate replaced). */
#define NNCC_ELEMENTS_WALK(p, BODY)                                             \
    do {                                                                        \
        int64_t c_[NNCC_RT_MAX_RANK] = { 0 }, total_ = 1;                       \
        for (int64_t d_ = 0; d_ < (p)->rank; d_++)                              \
            total_ *= (p)->dims[d_];                                            \
        for (int64_t o = 0; o < total_; o++) {                                  \
            int64_t k = load_idx(idx, idx_size, o), xo = 0;                     \
            if (k < 0)                                                          \
                k += (p)->axis_len;                                             \
            if (k < 0 || k >= (p)->axis_len)                                    \
                return 1;                                                       \
            for (int64_t d_ = 0; d_ < (p)->rank; d_++)                          \
                xo += (d_ == (p)->axis ? k : c_[d_]) * (p)->xstride[d_];        \
            BODY;                                                               \
            for (int64_t d_ = (p)->rank - 1; d_ >= 0; d_--) {                   \
                if (++c_[d_] < (p)->dims[d_])                                   \
                    break;                                                      \
                c_[d_] = 0;                                                     \
            }                                                                   \
        }                                                                       \
    } while (0)

int nncc_gather_elements(const nncc_elements_params *p, size_t size, const void *x, const void *idx,
                         size_t idx_size, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    NNCC_ELEMENTS_WALK(p, memcpy(ys + (size_t)o * size, xs + (size_t)xo * size, size));
    return 0;
}

int nncc_scatter_elements(const nncc_elements_params *p, int32_t reduction, size_t size, const void *idx,
                          size_t idx_size, const void *upd, void *y)
{
    const unsigned char *us = (const unsigned char *)upd;
    unsigned char *ys = (unsigned char *)y;
    NNCC_ELEMENTS_WALK(p, combine(reduction, size, ys + (size_t)xo * size, us + (size_t)o * size));
    return 0;
}

/* Offset of the slice addressed by tuple t[0..k) in data of dims xdims; -1 if out of range. */
static int64_t nd_offset(const int64_t *t, int64_t k, const int64_t *xdims, int64_t slice)
{
    int64_t off = 0;
    for (int64_t j = 0; j < k; j++) {
        int64_t v = t[j] < 0 ? t[j] + xdims[j] : t[j];
        if (v < 0 || v >= xdims[j])
            return -1;
        off = off * xdims[j] + v;
    }
    return off * slice;
}

int nncc_gather_nd(int64_t batch, int64_t batch_stride, int64_t count, int64_t k, const int64_t *xdims,
                   int64_t slice, size_t size, const void *x, const int64_t *idx, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < count; i++) {
            const int64_t off = nd_offset(idx + (b * count + i) * k, k, xdims, slice);
            if (off < 0)
                return 1;
            memcpy(ys + (size_t)((b * count + i) * slice) * size, xs + (size_t)(b * batch_stride + off) * size,
                   (size_t)slice * size);
        }
    }
    return 0;
}

int nncc_scatter_nd(int64_t count, int64_t k, const int64_t *xdims, int64_t slice, int32_t reduction,
                    size_t size, const int64_t *idx, const void *upd, void *y)
{
    const unsigned char *us = (const unsigned char *)upd;
    unsigned char *ys = (unsigned char *)y;
    for (int64_t i = 0; i < count; i++) {
        const int64_t off = nd_offset(idx + i * k, k, xdims, slice);
        if (off < 0)
            return 1;
        for (int64_t j = 0; j < slice; j++)
            combine(reduction, size, ys + (size_t)(off + j) * size, us + (size_t)(i * slice + j) * size);
    }
    return 0;
}

int nncc_tensor_scatter(int64_t batch, int64_t outer, int64_t max_len, int64_t len, int64_t inner, int32_t circular,
                        size_t size, const void *update, const int64_t *idx, void *y)
{
    const unsigned char *us = (const unsigned char *)update;
    unsigned char *ys = (unsigned char *)y;
    const int64_t per = batch ? outer / batch : 0;
    for (int64_t o = 0; o < outer; o++) {
        const int64_t start = idx ? idx[o / per] : 0;
        for (int64_t s = 0; s < len; s++) {
            int64_t at = start + s;
            if (circular && max_len)
                at = ((at % max_len) + max_len) % max_len;
            if (at < 0 || at >= max_len)
                return 1;
            memcpy(ys + (size_t)((o * max_len + at) * inner) * size, us + (size_t)((o * len + s) * inner) * size,
                   (size_t)inner * size);
        }
    }
    return 0;
}

int nncc_reverse_sequence(int64_t d0, int64_t d1, int64_t inner, int32_t time, size_t size, const void *x,
                          const int64_t *lens, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    const int64_t steps = time ? d1 : d0, batch = time ? d0 : d1;
    for (int64_t b = 0; b < batch; b++) {
        const int64_t len = lens[b];
        if (len < 0 || len > steps)
            return 1;
        for (int64_t t = 0; t < steps; t++) {
            const int64_t src = t < len ? len - 1 - t : t;
            const int64_t yo = time ? b * d1 + t : t * d1 + b, xo = time ? b * d1 + src : src * d1 + b;
            memcpy(ys + (size_t)(yo * inner) * size, xs + (size_t)(xo * inner) * size, (size_t)inner * size);
        }
    }
    return 0;
}
