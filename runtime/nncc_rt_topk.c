/*
 * nncc_rt_topk.c - TopK: the k largest (or smallest) elements along an
 * axis, in order, by insertion into the output (no scratch memory); equal
 * values keep the lower index first.
 */
#include "nncc_runtime.h"

#include <string.h>

/* >0 if x[a] > x[b], <0 if less, 0 if equal */
static int cmp(int32_t t, const void *x, int64_t a, int64_t b)
{
#define NNCC_TOPK_CMP(T) { const T u = ((const T *)x)[a], v = ((const T *)x)[b]; return (u > v) - (u < v); }
    switch (t) {
    case NNCC_RT_F32: NNCC_TOPK_CMP(float)
    case NNCC_RT_F64: NNCC_TOPK_CMP(double)
    case NNCC_RT_I8:  NNCC_TOPK_CMP(int8_t)
    case NNCC_RT_U8:  NNCC_TOPK_CMP(uint8_t)
    case NNCC_RT_I16: NNCC_TOPK_CMP(int16_t)
    case NNCC_RT_U16: NNCC_TOPK_CMP(uint16_t)
    case NNCC_RT_I32: NNCC_TOPK_CMP(int32_t)
    case NNCC_RT_U32: NNCC_TOPK_CMP(uint32_t)
    case NNCC_RT_U64: NNCC_TOPK_CMP(uint64_t)
    default:          NNCC_TOPK_CMP(int64_t)
    }
#undef NNCC_TOPK_CMP
}

void nncc_topk(int32_t type, size_t size, int64_t outer, int64_t len, int64_t inner, int64_t k, int32_t largest,
               const void *x, void *values, int64_t *indices)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const int64_t base = o * len * inner + i;    /* x[o, 0, i] */
            int64_t *idx = indices + o * k * inner + i;  /* idx[j * inner] */
            int64_t cnt = 0;
            for (int64_t e = 0; e < len; e++) {
                int64_t pos = cnt;
                while (pos > 0) {
                    int c = cmp(type, x, base + e * inner, base + idx[(pos - 1) * inner] * inner);
                    if (!(largest ? c > 0 : c < 0))
                        break;
                    pos--;
                }
                if (pos >= k)
                    continue;
                int64_t last = cnt < k ? cnt : k - 1;
                for (int64_t j = last; j > pos; j--)
                    idx[j * inner] = idx[(j - 1) * inner];
                idx[pos * inner] = e;
                if (cnt < k)
                    cnt++;
            }
            for (int64_t j = 0; j < k; j++)
                memcpy((char *)values + (size_t)((o * k + j) * inner + i) * size,
                       (const char *)x + (size_t)(base + idx[j * inner] * inner) * size, size);
        }
}
