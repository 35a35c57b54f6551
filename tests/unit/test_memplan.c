/*
 * test_memplan.c - the arena planner (passes/memplan.h) on its own: random
 * buffer sets must never overlap in space while live at the same time, every
 * offset is aligned, the arena is at least the lower bound and holds every
 * buffer; small cases whose optimum is known by hand are met exactly.
 * Random lifetimes from DAGs: the exact search is never worse than the
 * greedy plans, and on tiny sets it matches a brute force over all offsets.
 * Sub-ranges (a Concat's inputs in their slices of its output): each lies
 * at its parent's offset plus its own, inside it, and stretches its
 * parent's lifetime; nothing else live at the time overlaps either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memplan.h"

#include <stdlib.h>

/* xorshift64*: a fixed seed, so every run checks the same sets */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void check_plan(const nncc_plan *p)
{
    assert_false(nncc_plan_any_overlap(p));
    assert_true(p->arena >= nncc_plan_lower_bound(p));
    for (int i = 0; i < p->n; i++) {
        const nncc_plan_buf *b = &p->b[i];
        assert_true(b->offset >= 0);
        assert_int_equal(b->offset % p->align, 0);
        assert_true(b->offset + b->size <= p->arena);
        if (b->parent < 0) {
            assert_int_equal(b->size % p->align, 0);
            continue;
        }
        /* a sub-range: where its parent says, inside it, within its lifetime */
        const nncc_plan_buf *up = &p->b[b->parent];
        assert_true(b->parent < i);
        assert_int_equal(b->offset, up->offset + b->rel);
        assert_true(b->offset + b->size <= up->offset + up->size);
        assert_true(up->first <= b->first && b->last <= up->last);
    }
}

/* Brute-force check of a solved plan with sub-ranges, independent of
 * nncc_plan_any_overlap: at every step, every byte is claimed by at most one
 * chain of nested buffers. */
static void check_bytes(const nncc_plan *p, int steps)
{
    int64_t arena = p->arena;
    int *owner = malloc((size_t)(arena + 1) * sizeof *owner);
    assert_non_null(owner);
    for (int s = 0; s < steps; s++) {
        for (int64_t k = 0; k < arena; k++)
            owner[k] = -1;
        for (int i = 0; i < p->n; i++) {
            const nncc_plan_buf *b = &p->b[i];
            if (b->first > s || s > b->last)
                continue;
            for (int64_t k = b->offset; k < b->offset + b->size; k++) {
                int o = owner[k];
                /* the byte is free, or held by a buffer this one lies in */
                bool in = o < 0;
                for (int q = b->parent; q >= 0 && !in; q = p->b[q].parent)
                    in = q == o;
                assert_true(in);
                owner[k] = i;
            }
        }
    }
    free(owner);
}

/* A Concat at `*step` onwards: k slices written at consecutive steps, read
 * up to a little after the Concat, then the Concat's output, which lives a
 * few steps. With `nest`, its first slice is the output of an inner Concat
 * of two slices (DenseNet). The outer buffer is added first, since a
 * sub-range names a parent added before it. */
static void add_concat(nncc_plan *p, int *step, int nest)
{
    int64_t align = p->align, rel = 0, sizes[5], inner = 0;
    int k = 2 + (int)(rnd() % 3);
    for (int j = 0; j < k; j++) {
        sizes[j] = (int64_t)(1 + rnd() % 3000);
        rel += (sizes[j] + align - 1) / align * align;
    }
    if (nest) /* room for the inner Concat's output before the slices */
        inner = (int64_t)(2 + rnd() % 3) * 4096;
    int64_t total = inner + rel;
    int self = nncc_plan_add(p, total, *step + k + 1, *step + k + 2 + (int)(rnd() % 6));
    assert_true(self >= 0);
    if (nest) {
        /* an inner Concat filling [0, inner) first */
        int before = *step;
        int inner_id = nncc_plan_add_sub(p, self, 0, inner, *step, *step);
        assert_true(inner_id >= 0);
        int64_t r = 0;
        for (int j = 0; j < 2; j++, (*step)++) {
            assert_true(nncc_plan_add_sub(p, inner_id, r, 2048, *step, *step + 1) >= 0);
            r += 2048;
        }
        (*step)++; /* the inner Concat */
        assert_int_equal(p->b[inner_id].first, before);
    }
    int64_t r = inner;
    for (int j = 0; j < k; j++, (*step)++) {
        assert_true(nncc_plan_add_sub(p, self, r, sizes[j], *step, *step + k - j + (int)(rnd() % 3)) >= 0);
        r += (sizes[j] + align - 1) / align * align;
    }
    (*step)++; /* the Concat */
}

/* DAG lifetimes with Concats (add_concat) among the other buffers. Greedy
 * and exact plans must hold. */
static void test_random_dags_with_subranges(void **state)
{
    (void)state;
    int64_t aligns[] = { 16, 1, 64, 4 };
    int with_subs = 0;
    for (int iter = 0; iter < 3000; iter++) {
        nncc_plan p;
        nncc_plan_init(&p, aligns[iter % 4]);
        int nodes = 2 + (int)(rnd() % 30), step = 0;
        while (step < nodes && p.n < 50) {
            if (rnd() % 3 == 0) {
                int first = step, id = p.n;
                add_concat(&p, &step, rnd() % 3 == 0);
                /* the output lives from its first slice on */
                assert_int_equal(p.b[id].first, first);
                with_subs++;
            } else {
                int last = step + 1 + (int)(rnd() % (rnd() % 8 == 0 ? 12 : 3));
                nncc_plan_add(&p, (int64_t)(1 + rnd() % 4000), step, last);
                step++;
            }
        }
        p.budget = iter % 2 ? 20000 : 0;
        assert_true(nncc_plan_solve(&p));
        check_plan(&p);
        int steps = 0;
        for (int i = 0; i < p.n; i++)
            steps = p.b[i].last + 1 > steps ? p.b[i].last + 1 : steps;
        check_bytes(&p, steps);
        nncc_plan_free(&p);
    }
    assert_true(with_subs > 1000);
}

/* A hand case: slices a (0..1) and b (1..2) of c (3..4), and d (0..4):
 * c lives from step 0, so c and d add up at every step. */
static void test_subrange_by_hand(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 16);
    int c = nncc_plan_add(&p, 64, 3, 4);
    int a = nncc_plan_add_sub(&p, c, 0, 32, 0, 3);
    int b = nncc_plan_add_sub(&p, c, 32, 20, 1, 3);
    nncc_plan_add(&p, 48, 0, 4);
    assert_int_equal(p.b[c].first, 0);
    assert_int_equal(nncc_plan_lower_bound(&p), 112);
    /* misplaced sub-ranges are refused */
    assert_int_equal(nncc_plan_add_sub(&p, c, 8, 16, 3, 3), -2);
    assert_int_equal(nncc_plan_add_sub(&p, c, 48, 32, 3, 3), -2);
    assert_int_equal(nncc_plan_add_sub(&p, 99, 0, 16, 3, 3), -2);
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    check_bytes(&p, 5);
    assert_int_equal(p.arena, 112);
    assert_true(p.optimal);
    assert_int_equal(p.b[a].offset, p.b[c].offset);
    assert_int_equal(p.b[b].offset, p.b[c].offset + 32);
    /* a slice moved over its neighbour is an overlap */
    p.b[b].offset -= 16;
    assert_true(nncc_plan_any_overlap(&p));
    p.b[b].offset += 16;
    assert_false(nncc_plan_any_overlap(&p));
    nncc_plan_free(&p);
}

static void test_random_sets(void **state)
{
    (void)state;
    int64_t aligns[] = { 1, 4, 16, 64 };
    for (int iter = 0; iter < 3000; iter++) {
        nncc_plan p;
        nncc_plan_init(&p, aligns[iter % 4]);
        int n = 1 + (int)(rnd() % 60), steps = 1 + (int)(rnd() % 40);
        int64_t raw_sum = 0;
        for (int i = 0; i < n; i++) {
            /* mostly small, sometimes large, sometimes empty */
            int64_t size = (int64_t)(rnd() % 5 == 0 ? rnd() % 100000 : rnd() % 600);
            if (rnd() % 17 == 0)
                size = 0;
            int a = (int)(rnd() % (uint64_t)steps), b = (int)(rnd() % (uint64_t)steps);
            if (a > b) {
                int t = a;
                a = b;
                b = t;
            }
            assert_int_equal(nncc_plan_add(&p, size, a, b), i);
            raw_sum += p.b[i].size;
        }
        assert_true(nncc_plan_solve(&p));
        check_plan(&p);
        /* never worse than giving every buffer its own space */
        assert_true(p.arena <= raw_sum);
        nncc_plan_free(&p);
    }
}

/* Lifetimes as a graph makes them: node i produces one tensor, read by one
 * to three later nodes (mostly near ones, sometimes far: skip connections). */
static void add_dag(nncc_plan *p, int nodes)
{
    for (int i = 0; i < nodes; i++) {
        int last = i;
        int readers = 1 + (int)(rnd() % 3);
        for (int r = 0; r < readers; r++) {
            int span = rnd() % 8 == 0 ? 12 : 3;
            int j = i + 1 + (int)(rnd() % (uint64_t)span);
            if (j > last)
                last = j;
        }
        int64_t size = (int64_t)(rnd() % 4 == 0 ? 1 + rnd() % 20000 : 1 + rnd() % 2000);
        nncc_plan_add(p, size, i, last);
    }
}

/* Thousands of DAG lifetime sets, greedy only and with the exact search:
 * both valid, the search never worse, and a plan claimed optimal is at most
 * the greedy one. */
static void test_random_dags_exact_vs_greedy(void **state)
{
    (void)state;
    int64_t aligns[] = { 16, 1, 64 };
    int improved = 0, proven = 0;
    for (int iter = 0; iter < 3000; iter++) {
        nncc_plan a, b;
        uint64_t seed = rng_state;
        int nodes = 2 + (int)(rnd() % 30);
        nncc_plan_init(&a, aligns[iter % 3]);
        nncc_plan_init(&b, aligns[iter % 3]);
        add_dag(&a, nodes);
        rng_state = seed;
        (void)rnd();
        add_dag(&b, nodes);
        assert_int_equal(a.n, b.n);
        b.budget = 20000;
        assert_true(nncc_plan_solve(&a));
        assert_true(nncc_plan_solve(&b));
        check_plan(&a);
        check_plan(&b);
        assert_true(b.arena <= a.arena);
        assert_int_equal(b.greedy_arena, a.arena);
        if (a.optimal)
            assert_int_equal(a.arena, nncc_plan_lower_bound(&a));
        improved += b.arena < a.arena;
        proven += b.optimal;
        nncc_plan_free(&a);
        nncc_plan_free(&b);
    }
    /* the search must be doing something on these sets */
    assert_true(improved > 0);
    assert_true(proven > 2500);
}

/* Brute force: every buffer at every offset below `cap` (units of 1 byte). */
static void brute(const nncc_plan *p, int i, int64_t *off, int64_t top, int64_t *best)
{
    if (top >= *best)
        return;
    if (i == p->n) {
        *best = top;
        return;
    }
    for (int64_t o = 0; o + p->b[i].size < *best; o++) {
        bool ok = true;
        for (int j = 0; j < i && ok; j++)
            ok = !(p->b[i].first <= p->b[j].last && p->b[j].first <= p->b[i].last && o < off[j] + p->b[j].size &&
                   off[j] < o + p->b[i].size);
        if (!ok)
            continue;
        off[i] = o;
        brute(p, i + 1, off, o + p->b[i].size > top ? o + p->b[i].size : top, best);
    }
}

static void test_exact_matches_brute_force(void **state)
{
    (void)state;
    for (int iter = 0; iter < 400; iter++) {
        nncc_plan p;
        nncc_plan_init(&p, 1);
        int n = 2 + (int)(rnd() % 5), steps = 2 + (int)(rnd() % 5);
        for (int i = 0; i < n; i++) {
            int a = (int)(rnd() % (uint64_t)steps), b = (int)(rnd() % (uint64_t)steps);
            nncc_plan_add(&p, 1 + (int64_t)(rnd() % 6), a < b ? a : b, a < b ? b : a);
        }
        p.budget = 1000000;
        assert_true(nncc_plan_solve(&p));
        check_plan(&p);
        assert_true(p.optimal);
        int64_t off[8], best = INT64_MAX;
        brute(&p, 0, off, 0, &best);
        assert_int_equal(p.arena, best);
        nncc_plan_free(&p);
    }
}

/* Hand cases (found by a random search) where every greedy order leaves a
 * hole and the exact search reaches the bound. */
static void test_exact_beats_greedy(void **state)
{
    (void)state;
    static const struct {
        int n;
        int64_t greedy, optimum;
        int64_t b[6][3];        /* size, first, last */
    } cases[] = {
        { 5, 12, 11, { { 4, 0, 4 }, { 1, 0, 2 }, { 4, 1, 5 }, { 3, 3, 4 }, { 6, 0, 0 } } },
        { 6, 17, 14, { { 3, 2, 4 }, { 3, 0, 2 }, { 4, 4, 4 }, { 2, 1, 4 }, { 4, 1, 1 }, { 5, 0, 4 } } },
        { 5, 9, 8, { { 5, 0, 0 }, { 5, 2, 2 }, { 1, 0, 2 }, { 1, 0, 1 }, { 2, 1, 2 } } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int budget = 0; budget < 2; budget++) {
            nncc_plan p;
            nncc_plan_init(&p, 1);
            for (int i = 0; i < cases[c].n; i++)
                nncc_plan_add(&p, cases[c].b[i][0], (int)cases[c].b[i][1], (int)cases[c].b[i][2]);
            p.budget = budget ? 100000 : 0;
            assert_true(nncc_plan_solve(&p));
            check_plan(&p);
            assert_int_equal(nncc_plan_lower_bound(&p), cases[c].optimum);
            assert_int_equal(p.arena, budget ? cases[c].optimum : cases[c].greedy);
            assert_int_equal(p.optimal, budget == 1);
            nncc_plan_free(&p);
        }
    }
}

/* A budget too small to finish keeps the best plan found and says so. */
static void test_budget_exhausted(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 1);
    nncc_plan_add(&p, 3, 2, 4);
    nncc_plan_add(&p, 3, 0, 2);
    nncc_plan_add(&p, 4, 4, 4);
    nncc_plan_add(&p, 2, 1, 4);
    nncc_plan_add(&p, 4, 1, 1);
    nncc_plan_add(&p, 5, 0, 4);
    p.budget = 1;
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    assert_false(p.optimal);
    assert_int_equal(p.arena, 17);
    assert_int_equal(p.nodes, 2);
    nncc_plan_free(&p);
}

static void test_disjoint_lifetimes_share(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 16);
    nncc_plan_add(&p, 100, 0, 0);
    nncc_plan_add(&p, 300, 1, 1);
    nncc_plan_add(&p, 200, 2, 2);
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    assert_int_equal(p.arena, 304); /* max size, 300 rounded up to 16 */
    for (int i = 0; i < 3; i++)
        assert_int_equal(p.b[i].offset, 0);
    nncc_plan_free(&p);
}

static void test_overlapping_lifetimes_sum(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 16);
    nncc_plan_add(&p, 64, 0, 2);
    nncc_plan_add(&p, 32, 2, 3); /* shares step 2 with the first: inclusive ends */
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    assert_int_equal(p.arena, 96);
    nncc_plan_free(&p);
}

/* A chain a->b->c->d: each buffer lives with its neighbours only, so the
 * optimum is the largest adjacent pair, which best fit finds. */
static void test_chain_optimum(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 16);
    int64_t sizes[] = { 64, 128, 64, 128, 64 };
    for (int i = 0; i < 5; i++)
        nncc_plan_add(&p, sizes[i], i, i + 1);
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    assert_int_equal(nncc_plan_lower_bound(&p), 192);
    assert_int_equal(p.arena, 192);
    nncc_plan_free(&p);
}

/* A gap left by a dead buffer is reused by a smaller one that fits. */
static void test_gap_reuse(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 16);
    nncc_plan_add(&p, 256, 0, 10); /* long-lived */
    nncc_plan_add(&p, 128, 0, 1);
    nncc_plan_add(&p, 128, 2, 3); /* can take the second one's place */
    nncc_plan_add(&p, 64, 4, 5);
    assert_true(nncc_plan_solve(&p));
    check_plan(&p);
    assert_int_equal(p.arena, 384);
    nncc_plan_free(&p);
}

static void test_empty_and_alignment(void **state)
{
    (void)state;
    nncc_plan p;
    nncc_plan_init(&p, 0); /* 0: the default, 16 */
    assert_int_equal(p.align, 16);
    assert_true(nncc_plan_solve(&p));
    assert_int_equal(p.arena, 0);
    assert_int_equal(nncc_plan_add(&p, 1, 0, 0), 0);
    assert_int_equal(p.b[0].size, 16);
    assert_true(nncc_plan_solve(&p));
    assert_int_equal(p.arena, 16);
    nncc_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_sets),
        cmocka_unit_test(test_random_dags_exact_vs_greedy),
        cmocka_unit_test(test_random_dags_with_subranges),
        cmocka_unit_test(test_subrange_by_hand),
        cmocka_unit_test(test_exact_matches_brute_force),
        cmocka_unit_test(test_exact_beats_greedy),
        cmocka_unit_test(test_budget_exhausted),
        cmocka_unit_test(test_disjoint_lifetimes_share),
        cmocka_unit_test(test_overlapping_lifetimes_sum),
        cmocka_unit_test(test_chain_optimum),
        cmocka_unit_test(test_gap_reuse),
        cmocka_unit_test(test_empty_and_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
