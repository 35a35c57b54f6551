/*
 * pingpong.c - how far apart two cores are: the round trip of a cache line
 * bounced between a thread on CPU A and one on CPU B (Linux), and so what a
 * fork, join or barrier between them costs. On a VM the host may move the
 * vCPUs: two on one L3 bounce a line in well under 100 ns, two on
 * different dies (each with its own L3) in several hundred, and then
 * two-thread runs of any runtime slow down (README: "vCPU placement").
 *
 *   cc -O2 -pthread bench/pingpong.c -o pingpong && ./pingpong 0 1
 *   prints: cpus 0 and 1: round trip 82.1 ns
 *
 * Not a test: nothing here is asserted.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 1000000L

static volatile long flag;

static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *other(void *arg)
{
    if (pin(*(int *)arg) != 0) {
        flag = -1; /* tells main, which is waiting for the first return */
        return NULL;
    }
    for (long i = 1; i < 2 * TRIPS; i += 2) {
        while (flag != i)
            ;
        flag = i + 1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int a = argc > 1 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
    if (pin(a) != 0) {
        fprintf(stderr, "pingpong: cannot run on CPU %d\n", a);
        return 1;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, other, &b) != 0)
        return 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < 2 * TRIPS; i += 2) {
        flag = i + 1;
        while (flag != i + 2)
            if (flag == -1) {
                fprintf(stderr, "pingpong: cannot run on CPU %d\n", b);
                return 1;
            }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    printf("cpus %d and %d: round trip %.1f ns\n", a, b,
           ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / TRIPS);
    return 0;
}
