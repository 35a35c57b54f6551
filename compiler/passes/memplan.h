/*
 * memplan.h - the arena planner's interface, independent of the graph.
 *
 * Add buffers with their size and the first and last step (inclusive) at
 * which they are live, solve, then read each buffer's offset. Two buffers
 * whose lifetimes overlap never share a byte; every offset and size is a
 * multiple of the alignment.
 *
 * The algorithm, in three parts, keeping the smallest arena:
 *
 * 1. Greedy placement (Pisarchyk & Lee, 2020) under several orders: by size
 *    (largest first), by conflicts (the total size of the buffers a buffer
 *    is live with, largest first), by start step, by lifetime length. Each
 *    buffer goes into the smallest gap (best fit) between the buffers
 *    already placed that are live at the same time, else on top.
 * 2. If the best of those equals the lower bound (the largest total of
 *    bytes live at one step), it is optimal and we stop.
 * 3. Otherwise, for problems of at most NNCC_PLAN_EXACT_MAX buffers, an
 *    exact branch and bound (in the spirit of MiniMalloc, Moffitt 2023):
 *    some optimal plan has every buffer "dropped" onto 0 or onto the top of
 *    a buffer it is live with; ordered by offset, each buffer then sits at
 *    the highest top of the buffers placed before it that it is live with.
 *    So the search picks the next buffer (offsets non-decreasing), puts it
 *    there, and prunes with a bound: every buffer still to place lies above
 *    the current offset, so at each step the arena is at least that offset
 *    plus the unplaced bytes live there plus what placed buffers live there
 *    reach above it. The search is limited to `budget` search nodes (not
 *    wall time, so the result is the same on every machine); if it
 *    finishes, the plan is proven optimal for these lifetimes, otherwise
 *    the best plan found is kept.
 *
 * Sub-ranges (nncc_plan_add_sub): a buffer may be declared to lie inside
 * another at a fixed byte offset (a Concat input written straight into its
 * slice of the output). The planner places only the outermost buffers; a
 * sub-range's offset is its parent's plus its own. Adding one stretches
 * the parent's lifetime (and its parent's) to cover the sub-range's, so the
 * parent holds all its bytes for the whole stretch: simple and safe, but
 * the bytes of a slice not yet written are not lent to anyone else.
 *
 * Optimal here means for the given lifetimes, i.e. for one node order; the
 * graph pass tries several orders (passes/schedule.c).
 */
#ifndef NNCC_MEMPLAN_H
#define NNCC_MEMPLAN_H

#include <stdbool.h>
#include <stdint.h>

#define NNCC_PLAN_EXACT_MAX 64   /* most buffers the exact search takes on */

typedef struct {
    int64_t size;          /* bytes, rounded up to the alignment (a sub-range: as given) */
    int first, last;       /* live steps, inclusive */
    int parent;            /* -1: placed by the planner; else the buffer this one lies in */
    int64_t rel;           /* sub-range: bytes from the parent's start (a multiple of align) */
    int64_t offset;        /* result; -1 before solving */
} nncc_plan_buf;

typedef struct {
    nncc_plan_buf *b;
    int n, cap;
    int64_t align;         /* bytes, power of two */
    long budget;           /* exact search: most search nodes; 0: greedy only */
    int64_t arena;         /* result: bytes needed */
    bool optimal;          /* result: arena proven minimal for these lifetimes */
    const char *method;    /* result: which algorithm gave the plan */
    long nodes;            /* result: search nodes the exact search used */
    int64_t greedy_arena;  /* result: the best greedy arena (before the search) */
} nncc_plan;

void nncc_plan_init(nncc_plan *p, int64_t align);
void nncc_plan_free(nncc_plan *p);
/* Returns the buffer's id, or -1 when out of memory. */
int nncc_plan_add(nncc_plan *p, int64_t size, int first, int last);
/* A buffer at `rel` bytes inside buffer `parent` (which may itself be a
 * sub-range), live over [first, last]; rel must be a multiple of the
 * alignment and rel + size at most the parent's size (else -2). Stretches the
 * lifetimes of its parents to cover [first, last]. Returns the id, or -1
 * when out of memory. */
int nncc_plan_add_sub(nncc_plan *p, int parent, int64_t rel, int64_t size, int first, int last);
/* Assigns offsets; returns false when out of memory. */
bool nncc_plan_solve(nncc_plan *p);
/* The largest total of bytes live at one step (sub-ranges are inside their
 * parents and not counted again); *step gets that step (may be NULL). */
int64_t nncc_plan_lower_bound_at(const nncc_plan *p, int *step);
int64_t nncc_plan_lower_bound(const nncc_plan *p);
/* True if two buffers with overlapping lifetimes overlap in memory (a
 * sub-range and the buffers it lies in excepted), or a sub-range is not
 * inside its parent or not aligned (tests). */
bool nncc_plan_any_overlap(const nncc_plan *p);

#endif
