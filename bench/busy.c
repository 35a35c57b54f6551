/*
 * busy.c - another program on one core, for measuring how nncc's threads
 * cope with a shared machine: spins for BUSY_MS, sleeps for IDLE_MS, and
 * again, until killed. Pin it to a core the benchmark also uses:
 *
 *   cc -O2 bench/busy.c -o busy
 *   taskset -c 1 ./busy 0.2 0.2 & python3 bench/vs_ort.py --nncc build/nncc --threads 2; kill %1
 *
 * Not a test: nothing here is asserted.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atof(argv[1]) <= 0 || atof(argv[2]) < 0) {
        fprintf(stderr, "usage: busy BUSY_MS IDLE_MS (e.g. busy 0.2 0.2)\n");
        return 2;
    }
    const double busy = atof(argv[1]), idle = atof(argv[2]);
    const struct timespec pause = { (time_t)(idle / 1e3), (long)(idle * 1e6) % 1000000000L };
    volatile unsigned long spin = 0;
    for (;;) {
        const double t0 = now_ms();
        while (now_ms() - t0 < busy)
            spin++;
        if (idle > 0)
            nanosleep(&pause, NULL);
    }
}
