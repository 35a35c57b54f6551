/*
 * nncc_rt_tile.c - Tile: y = x repeated along every dim,
 * y[i0, ..., ir] = x[i0 mod d0, ..., ir mod dr], any element type.
 */
#include "nncc_runtime.h"

#include <string.h>

void nncc_tile(int64_t rank, const int64_t *idims, const int64_t *odims, size_t size, const void *x, void *y)
{
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    int64_t idx[NNCC_RT_MAX_RANK] = { 0 }, istr[NNCC_RT_MAX_RANK], total = 1;
    for (int64_t d = rank - 1, s = 1; d >= 0; d--) {
        istr[d] = s;
        s *= idims[d];
        total *= odims[d];
    }
    for (int64_t o = 0; o < total; o++) {
        int64_t in = 0;
        for (int64_t d = 0; d < rank; d++)
            in += (idx[d] % idims[d]) * istr[d];
        memcpy(ys + (size_t)o * size, xs + (size_t)in * size, size);
        for (int64_t d = rank - 1; d >= 0; d--) {
            if (++idx[d] < odims[d])
                break;
            idx[d] = 0;
        }
    }
}
