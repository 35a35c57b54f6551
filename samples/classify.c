/*
 * classify.c - runs a model compiled by nncc on an input read from a .npy file.
 *
 *   nncc samples/feature_extractor.onnx -o model.c --name model
 *   cc -O2 -I. classify.c model.c nncc_rt_*.c -lm -o classify
 *   ./classify samples/feature_extractor.input.npy
 *   ./classify samples/feature_extractor.input.npy --expect samples/feature_extractor.output.npy
 *   ./classify samples/feature_extractor.input.npy --repeat 200
 *
 * The model must be compiled with `--name model` (so the generated header is
 * model.h and declares model_run); nncc_add_model(... NAME model) does that.
 *
 * MODEL_INPUT_SIZE and MODEL_OUTPUT_SIZE are the float counts of one sample's
 * input and output. They default to those of samples/feature_extractor*.onnx
 * (3x32x32 in, 10 out); for another model pass e.g. -DMODEL_INPUT_SIZE=784.
 *
 * Options:
 *   --expect FILE.npy  compare the outputs with FILE.npy; fail when any
 *                      |difference| > 1e-4 (or --tol)
 *   --tol T            tolerance for --expect
 *   --repeat N         also run the model N times and print the median time
 *                      of one run in microseconds ("median_us: ...")
 *   --quiet            print only the time (with --repeat) or the verdict
 *
 * Exit status: 0 success, 1 bad file, model error or mismatch, 2 bad usage.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#ifndef MODEL_INPUT_SIZE
#define MODEL_INPUT_SIZE (3 * 32 * 32)
#endif
#ifndef MODEL_OUTPUT_SIZE
#define MODEL_OUTPUT_SIZE 10
#endif

/*
 * A model whose batch dimension is symbolic is compiled to
 *     int model_run(size_t batch, const float *input, float *output);
 * a model with fixed shapes to
 *     int model_run(const float *input, float *output);
 * _Generic picks the matching wrapper at compile time, so this file builds
 * against either header without any flag.
 */
typedef int run_batched_fn(size_t, const float *, float *);
typedef int run_fixed_fn(const float *, float *);

static int run_batched(run_batched_fn *f, size_t batch, const float *in, float *out)
{
    return f(batch, in, out);
}

static int run_fixed(run_fixed_fn *f, size_t batch, const float *in, float *out)
{
    /* the model's shapes are fixed: run it once per sample */
    for (size_t b = 0; b < batch; b++) {
        int rc = f(in + b * MODEL_INPUT_SIZE, out + b * MODEL_OUTPUT_SIZE);
        if (rc)
            return rc;
    }
    return 0;
}

#define RUN_MODEL(batch, in, out) \
    _Generic(&model_run, run_batched_fn *: run_batched, default: run_fixed)(&model_run, batch, in, out)

/* ---- .npy reading (format versions 1.0, 2.0 and 3.0; little-endian float32, C order) ---- */

typedef struct {
    float *data;
    size_t count;   /* number of floats */
    size_t dims[8];
    int rank;
} npy_array;

/* Finds 'key': in the header dictionary and returns what follows the colon. */
static const char *npy_field(const char *hdr, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(hdr, quoted);
    if (!p)
        return NULL;
    p += strlen(quoted);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int npy_fail(const char *path, const char *what)
{
    fprintf(stderr, "classify: %s: %s\n", path, what);
    return -1;
}

static int npy_read(const char *path, npy_array *a)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "classify: %s: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned char pre[12];
    char *hdr = NULL;
    int rc = -1;
    size_t pre_len = 10, hdr_len;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        npy_fail(path, "not a .npy file (no \\x93NUMPY magic)");
        goto out;
    }
    if (pre[6] == 1) {
        hdr_len = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            npy_fail(path, "truncated header");
            goto out;
        }
        pre_len = 12;
        hdr_len = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        npy_fail(path, "unsupported .npy format version");
        goto out;
    }
    if (hdr_len == 0 || hdr_len > (1u << 20)) {
        npy_fail(path, "implausible header length");
        goto out;
    }
    hdr = malloc(hdr_len + 1);
    if (!hdr || fread(hdr, 1, hdr_len, f) != hdr_len) {
        npy_fail(path, hdr ? "truncated header" : "out of memory");
        goto out;
    }
    hdr[hdr_len] = 0;
    for (size_t n = hdr_len; n > 0 && (hdr[n - 1] == ' ' || hdr[n - 1] == '\n'); n--)
        hdr[n - 1] = 0; /* the padding */

    const char *v = npy_field(hdr, "descr");
    if (!v || (strncmp(v, "'<f4'", 5) != 0 && strncmp(v, "'float32'", 9) != 0)) {
        fprintf(stderr, "classify: %s: dtype must be little-endian float32 ('<f4'), header is %s\n", path, hdr);
        goto out;
    }
    v = npy_field(hdr, "fortran_order");
    if (!v || strncmp(v, "False", 5) != 0) {
        npy_fail(path, "fortran_order must be False (save a C-contiguous array)");
        goto out;
    }
    v = npy_field(hdr, "shape");
    if (!v || *v != '(') {
        npy_fail(path, "header has no shape");
        goto out;
    }
    v++;
    size_t count = 1;
    for (;;) {
        while (*v == ' ' || *v == ',')
            v++;
        if (*v == ')')
            break;
        char *end;
        errno = 0;
        unsigned long long d = strtoull(v, &end, 10);
        if (end == v || errno || a->rank >= 8 || *v == '-') {
            npy_fail(path, "bad shape (at most 8 non-negative dims)");
            goto out;
        }
        if (d != 0 && count > SIZE_MAX / sizeof(float) / d) {
            npy_fail(path, "shape too large");
            goto out;
        }
        a->dims[a->rank++] = (size_t)d;
        count *= (size_t)d;
        v = end;
    }

    /* the data must be exactly count floats: check before allocating */
    long here = ftell(f);
    if (here < 0 || fseek(f, 0, SEEK_END) != 0) {
        npy_fail(path, "cannot seek");
        goto out;
    }
    long size = ftell(f);
    if (size < 0 || (unsigned long)(size - here) != count * sizeof(float) || here != (long)(pre_len + hdr_len)) {
        fprintf(stderr, "classify: %s: file holds %ld data bytes, shape needs %zu\n", path, size - here,
                count * sizeof(float));
        goto out;
    }
    if (fseek(f, here, SEEK_SET) != 0) {
        npy_fail(path, "cannot seek");
        goto out;
    }
    a->data = malloc(count ? count * sizeof(float) : 1);
    unsigned char *raw = malloc(count ? count * sizeof(float) : 1);
    if (!a->data || !raw || fread(raw, sizeof(float), count, f) != count) {
        free(raw);
        npy_fail(path, a->data && raw ? "read error" : "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) { /* little-endian bytes to host floats */
        const unsigned char *b = raw + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&a->data[i], &u, sizeof u);
    }
    free(raw);
    a->count = count;
    rc = 0;
out:
    if (rc) {
        free(a->data);
        a->data = NULL;
    }
    free(hdr);
    fclose(f);
    return rc;
}

/* ---- timing ---- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int usage(void)
{
    fputs("usage: classify INPUT.npy [--expect OUTPUT.npy] [--tol T] [--repeat N] [--quiet]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *input_path = NULL, *expect_path = NULL;
    long repeat = 0;
    double tol = 1e-4;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
            expect_path = argv[++i];
        } else if (!strcmp(argv[i], "--tol") && i + 1 < argc) {
            char *end;
            tol = strtod(argv[++i], &end);
            if (*end || !(tol >= 0))
                return usage();
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            char *end;
            repeat = strtol(argv[++i], &end, 10);
            if (*end || repeat < 1 || repeat > 10000000)
                return usage();
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' || input_path) {
            return usage();
        } else {
            input_path = argv[i];
        }
    }
    if (!input_path)
        return usage();

    npy_array in;
    if (npy_read(input_path, &in) != 0)
        return 1;
    /* the first dim is the batch; the rest must make one sample */
    size_t batch = in.rank > 0 ? in.dims[0] : 1;
    if (in.rank < 1 || batch == 0 || in.count != batch * (size_t)MODEL_INPUT_SIZE) {
        fprintf(stderr, "classify: %s: shape (", input_path);
        for (int d = 0; d < in.rank; d++)
            fprintf(stderr, "%s%zu", d ? ", " : "", in.dims[d]);
        fprintf(stderr, ") is not (batch, ...) with %d floats per sample\n", (int)MODEL_INPUT_SIZE);
        free(in.data);
        return 1;
    }
    float *out = calloc(batch * MODEL_OUTPUT_SIZE, sizeof *out);
    if (!out) {
        fprintf(stderr, "classify: out of memory\n");
        free(in.data);
        return 1;
    }
    int status = 0;
    int rc = RUN_MODEL(batch, in.data, out);
    if (rc) {
        fprintf(stderr, "classify: model_run returned %d\n", rc);
        status = 1;
        goto done;
    }

    if (!quiet) {
        for (size_t b = 0; b < batch; b++) {
            const float *o = out + b * MODEL_OUTPUT_SIZE;
            size_t top = 0;
            if (batch > 1)
                printf("sample %zu:\n", b);
            printf("outputs:");
            for (size_t i = 0; i < MODEL_OUTPUT_SIZE; i++) {
                printf(" %.5f", o[i]);
                if (o[i] > o[top])
                    top = i;
            }
            printf("\ntop class: %zu (score %.5f)\n", top, o[top]);
        }
    }

    if (expect_path) {
        npy_array ex;
        if (npy_read(expect_path, &ex) != 0) {
            status = 1;
            goto done;
        }
        if (ex.count != batch * (size_t)MODEL_OUTPUT_SIZE) {
            fprintf(stderr, "classify: %s holds %zu floats, the model wrote %zu\n", expect_path, ex.count,
                    batch * (size_t)MODEL_OUTPUT_SIZE);
            status = 1;
        } else {
            double worst = 0;
            for (size_t i = 0; i < ex.count; i++) {
                double d = fabs((double)out[i] - (double)ex.data[i]);
                if (!(d <= worst)) /* also catches NaN */
                    worst = isnan(d) ? INFINITY : d;
            }
            printf("max |diff| vs %s: %.3g (tolerance %.3g): %s\n", expect_path, worst, tol,
                   worst <= tol ? "ok" : "MISMATCH");
            if (!(worst <= tol))
                status = 1;
        }
        free(ex.data);
    }

    if (repeat > 0) {
        double *t = malloc((size_t)repeat * sizeof *t);
        if (!t) {
            fprintf(stderr, "classify: out of memory\n");
            status = 1;
            goto done;
        }
        for (int w = 0; w < 5; w++) /* warm the caches */
            rc |= RUN_MODEL(batch, in.data, out);
        for (long r = 0; r < repeat; r++) {
            double t0 = now_us();
            rc |= RUN_MODEL(batch, in.data, out);
            t[r] = now_us() - t0;
        }
        qsort(t, (size_t)repeat, sizeof *t, cmp_double);
        double median = repeat % 2 ? t[repeat / 2] : (t[repeat / 2 - 1] + t[repeat / 2]) / 2;
        printf("median_us: %.2f (of %ld runs, batch %zu)\n", median, repeat, batch);
        free(t);
        if (rc) {
            fprintf(stderr, "classify: model_run failed while timing\n");
            status = 1;
        }
    }

done:
    free(out);
    free(in.data);
    return status;
}
