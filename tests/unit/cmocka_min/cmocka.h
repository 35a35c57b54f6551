/*
 * cmocka.h (minimal) - the part of CMocka's API that the kernel tests
 * (tests/unit/test_kernels*.c, test_int8_kernels.c) use, in plain C99, for
 * targets that have no CMocka: the AArch64 cross builds run under qemu
 * (tests/e2e/test_neon.py, unit_int8_kernels_aarch64_* in CMakeLists.txt).
 * Not CMocka: a failed check prints its message and the test's name and
 * ends the test group; no mocking, no setup/teardown, no signal handling.
 * Only put this directory on the include path where the real header is
 * missing.
 */
#ifndef NNCC_CMOCKA_MIN_H
#define NNCC_CMOCKA_MIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct CMUnitTest {
    const char *name;
    void (*test_func)(void **state);
};

#define cmocka_unit_test(f) { #f, f }

static jmp_buf cmocka_min_jump_;

static void cmocka_min_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    longjmp(cmocka_min_jump_, 1);
}

#define fail_msg(...) cmocka_min_fail_(__FILE__, __LINE__, __VA_ARGS__)
#define fail() fail_msg("failed")
#define assert_true(c) ((c) ? (void)0 : fail_msg("%s is false", #c))
#define assert_false(c) ((c) ? fail_msg("%s is true", #c) : (void)0)
#define assert_non_null(p) ((p) != NULL ? (void)0 : fail_msg("%s is NULL", #p))
#define assert_null(p) ((p) == NULL ? (void)0 : fail_msg("%s is not NULL", #p))
#define assert_int_equal(a, b)                                                                            \
    ((long long)(a) == (long long)(b) ? (void)0                                                          \
                                      : fail_msg("%s == %lld, %s == %lld", #a, (long long)(a), #b, (long long)(b)))

/* one test; 1 when it failed (no local changes after setjmp) */
static int cmocka_min_one_(const struct CMUnitTest *t)
{
    void *state = NULL;
    if (setjmp(cmocka_min_jump_) != 0) {
        printf("[  FAILED  ] %s\n", t->name);
        return 1;
    }
    t->test_func(&state);
    printf("[       OK ] %s\n", t->name);
    return 0;
}

static int cmocka_min_run_(const struct CMUnitTest *t, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += (size_t)cmocka_min_one_(&t[i]);
    printf("%zu test(s) run, %zu failed\n", n, failed);
    return failed ? 1 : 0;
}

#define cmocka_run_group_tests(tests, setup, teardown) \
    ((void)(setup), (void)(teardown), cmocka_min_run_((tests), sizeof(tests) / sizeof((tests)[0])))

#endif
