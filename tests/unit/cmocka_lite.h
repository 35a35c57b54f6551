/*
 * cmocka_lite.h - the few CMocka macros test_int8_kernels.c uses, for the
 * cross builds (AArch64 under qemu-user) that have no CMocka library: a
 * failed check prints where and exits 1.
 */
#ifndef CMOCKA_LITE_H
#define CMOCKA_LITE_H
#include <stdio.h>
#include <stdlib.h>

#define assert_true(c)                                                                  \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_int_equal(a, b)                                                          \
    do {                                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);                             \
        if (a_ != b_) {                                                                 \
            fprintf(stderr, "%s:%d: %lld != %lld\n", __FILE__, __LINE__, a_, b_);       \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)
#define fail_msg(...)                                                                   \
    do {                                                                                \
        fprintf(stderr, __VA_ARGS__);                                                   \
        fputc('\n', stderr);                                                            \
        exit(1);                                                                        \
    } while (0)

struct CMUnitTest {
    const char *name;
    void (*fn)(void **);
};
#define cmocka_unit_test(f) { #f, f }
#define cmocka_run_group_tests(t, a, b) cmocka_lite_run(t, sizeof(t) / sizeof((t)[0]))

static int cmocka_lite_run(const struct CMUnitTest *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t[i].fn(NULL);
        printf("[       OK ] %s\n", t[i].name);
    }
    return 0;
}
#endif
