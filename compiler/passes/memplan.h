/*
 * memplan.h - the arena planner's interface, independent of the graph.
 *
 * Add buffers with their size and the first and last step (inclusive) at
 * which they are live, solve, then read each buffer's offset. Two buffers
 * whose lifetimes overlap never share a byte; every offset is a multiple of
 * the alignment.
 *
 * The algorithm is greedy by size with best fit (Pisarchyk & Lee, 2020):
 * buffers are placed largest first, each at the lowest-waste gap between the
 * buffers already placed that are live at the same time. It is not optimal;
 * nncc_plan_lower_bound() gives the bound it is measured against (the
 * largest total of bytes live at one step).
 */
#ifndef NNCC_MEMPLAN_H
#define NNCC_MEMPLAN_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t size;          /* bytes */
    int first, last;       /* live steps, inclusive */
    int64_t offset;        /* result; -1 before solving */
} nncc_plan_buf;

typedef struct {
    nncc_plan_buf *b;
    int n, cap;
    int64_t align;         /* bytes, power of two */
    int64_t arena;         /* result: bytes needed */
} nncc_plan;

void nncc_plan_init(nncc_plan *p, int64_t align);
void nncc_plan_free(nncc_plan *p);
/* Returns the buffer's id, or -1 when out of memory. */
int nncc_plan_add(nncc_plan *p, int64_t size, int first, int last);
/* Assigns offsets; returns false when out of memory. */
bool nncc_plan_solve(nncc_plan *p);
int64_t nncc_plan_lower_bound(const nncc_plan *p);
/* True if two buffers with overlapping lifetimes overlap in memory (tests). */
bool nncc_plan_any_overlap(const nncc_plan *p);

#endif
