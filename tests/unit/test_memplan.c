/*
 * test_memplan.c - the arena planner (passes/memplan.h) on its own: random
 * buffer sets must never overlap in space while live at the same time, every
 * offset is aligned, the arena is at least the lower bound and holds every
 * buffer; small cases whose optimum is known by hand are met exactly.
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
        assert_true(p->b[i].offset >= 0);
        assert_int_equal(p->b[i].offset % p->align, 0);
        assert_int_equal(p->b[i].size % p->align, 0);
        assert_true(p->b[i].offset + p->b[i].size <= p->arena);
    }
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
        cmocka_unit_test(test_disjoint_lifetimes_share),
        cmocka_unit_test(test_overlapping_lifetimes_sum),
        cmocka_unit_test(test_chain_optimum),
        cmocka_unit_test(test_gap_reuse),
        cmocka_unit_test(test_empty_and_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
