#!/usr/bin/env python3
"""layers.py MODEL [options] - where the time goes: per-node latency of nncc's
generated code.

Compiles MODEL with nncc (-O2 by default, --threads T above 1), then adds a
clock read around every kernel call of the generated run function (the
calls that follow a `/* node ...` comment, so a fused group counts as its
first node's line), builds it with the runtime (default gcc -O2
-march=native; -fopenmp above 1 thread), runs it RUNS times on a fixed input
and prints, per call in model order: the fastest time seen (the minimum is
the figure least disturbed by other work on a shared machine; --stat median
gives the median, which keeps the cache misses of a whole inference), its share of
the sum, the call's GFLOP/s for Conv (2 flops per multiply-add, from the
shapes in the call's comment), and the node names. A second table sums the
time by kernel (nncc_conv2d_implicit_f32, ...).

  python3 bench/layers.py samples/feature_extractor.onnx
  python3 bench/layers.py resnet18 --threads 2 --runs 50   # a bench model (tests/e2e/model_zoo.py)

The instrumented copy is only for measuring: the clock reads cost about
0.1 us a call, and the sum of minima is a little below a whole inference's
median (bench/vs_ort.py). Not a test.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness as H  # noqa: E402
import model_zoo  # noqa: E402

PRELUDE = r"""#define _POSIX_C_SOURCE 199309L
#include <time.h>
static double nncc_layers_t[%(runs)d][%(n)d];
static long nncc_layers_r; /* the run being timed */
static double nncc_layers_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}
double nncc_layers_time(long r, int i) { return nncc_layers_t[r][i]; }
void nncc_layers_next(void) { nncc_layers_r++; }
"""

MAIN = r"""#include <stdio.h>
#include <stdlib.h>
#include "model.h"
double nncc_layers_time(long r, int i);
void nncc_layers_next(void);
static float in[%(nin)d], out[%(nout)d];
int main(int argc, char **argv)
{
    const long runs = %(runs)d;
    (void)argc;
    (void)argv;
    for (long i = 0; i < %(nin)d; i++)
        in[i] = (float)((i * 7919) %% 1000) * 1e-3f - 0.5f;
    for (long r = 0; r < runs; r++)
    {
        if (model_run(%(args)s) != 0)
            return 4;
        nncc_layers_next();
    }
    for (long r = 0; r < runs; r++)
        for (int i = 0; i < %(n)d; i++)
            printf("%%.3f\n", nncc_layers_time(r, i));
    return 0;
}
"""


def instrument(src, runs):
    """The generated C with a min-time record around each kernel call of the
    run function; returns (text, [(label, comment lines, kernel)])."""
    out, calls, label, comment, in_run = [], [], None, [], False
    for line in src.split("\n"):
        if re.match(r"static int \w+_run_one\(", line):
            in_run = True
        if in_run:
            m = re.match(r"\s*/\* node (.*)", line)
            if m:
                label, comment = m.group(1), [line]
            elif comment and line.strip().startswith("*"):
                comment.append(line)
            m = re.match(r"\s+(nncc_\w+)\(", line)
            if m and label is not None:
                i = len(calls)
                calls.append((label, " ".join(comment), m.group(1)))
                out += ["    { const double nncc_t0 = nncc_layers_now();", line,
                        "      const double nncc_dt = nncc_layers_now() - nncc_t0;",
                        "      nncc_layers_t[nncc_layers_r][%d] = nncc_dt; }" % i]
                continue
            if line == "}":
                in_run = False
        out.append(line)
    return PRELUDE % {"n": max(len(calls), 1), "runs": runs} + "\n".join(out), calls


def conv_gflop(comment):
    """2 * MACs of a Conv from the call's comment: in x[N,C,H,W], w[M,C/g,KH,KW] -> y[N,M,OH,OW]."""
    m = re.search(r"in: float32\[([0-9x]+)\], float32\[([0-9x]+)\].*-> .*?float32\[([0-9x]+)\]", comment)
    if not m:
        return 0.0
    w = [int(v) for v in m.group(2).split("x")]
    y = [int(v) for v in m.group(3).split("x")]
    if len(w) != 4 or len(y) != 4:
        return 0.0
    return 2.0 * y[0] * y[1] * y[2] * y[3] * w[1] * w[2] * w[3] * 1e-9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="an .onnx/.nng file, or one of: %s" % ", ".join(sorted(model_zoo.MODELS)))
    ap.add_argument("--nncc", default=os.path.join(ROOT, "build", "nncc"))
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--cflags", default="-O2 -march=native")
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--stat", choices=("min", "median"), default="min",
                    help="per call: the fastest run (default) or the median run, which includes the cache misses "
                         "a whole inference sees")
    ap.add_argument("--keep", help="build in this directory (kept)")
    ap.add_argument("--nncc-args", default="", help="more nncc options, e.g. \"--conv-algo winograd\"")
    args = ap.parse_args()
    d = args.keep or tempfile.mkdtemp(prefix="nncc-layers-")
    os.makedirs(d, exist_ok=True)
    path = args.model
    if path in model_zoo.MODELS:
        path = os.path.join(d, args.model + ".onnx")
        model_zoo.MODELS[args.model](path)
    H.NNCC = args.nncc
    extra = ["--threads", str(args.threads)] if args.threads > 1 else []
    extra += args.nncc_args.split()
    m = H.compile_model(path, d, name="model", opt=args.opt, extra=extra)
    src, calls = instrument(open(m.c_path).read(), args.runs)
    if not calls:
        sys.exit("layers.py: found no kernel call in %s" % m.c_path)
    with open(m.c_path, "w") as f:
        f.write(src)
    if len(m.inputs) != 1 or len(m.outputs) != 1 or m.inputs[0].ctype != "float":
        sys.exit("layers.py: wants one float input and one output")
    call = ("1, in, out" if m.has_batch else "in, out")
    with open(os.path.join(d, "layers_main.c"), "w") as f:
        f.write(MAIN % {"nin": m.inputs[0].per_sample_count(), "nout": m.outputs[0].per_sample_count() + 1,
                        "args": call, "n": len(calls), "runs": args.runs})
    cflags = args.cflags.split() + (["-fopenmp"] if args.threads > 1 else [])
    objs = []
    for c in sorted(os.listdir(d)):
        if c.endswith(".c"):
            o = os.path.join(d, c[:-2] + ".o")
            subprocess.run([args.cc] + cflags + ["-I", d, "-c", os.path.join(d, c), "-o", o], check=True)
            objs.append(o)
    exe = os.path.join(d, "layers")
    subprocess.run([args.cc] + cflags + ["-o", exe] + objs + ["-lm"], check=True)
    raw = [float(v) for v in subprocess.run([exe], check=True, capture_output=True, text=True).stdout.split()]
    n = len(calls)
    per_call = [sorted(raw[r * n + i] for r in range(args.runs)) for i in range(n)]
    times = [t[0] if args.stat == "min" else t[len(t) // 2] for t in per_call]
    total = sum(times)
    print("%s, nncc %s%s, %s %s, %s of %d runs" % (os.path.basename(path), args.opt, " ".join([""] + extra),
                                                    args.cc, " ".join(cflags),
                                                    "fastest" if args.stat == "min" else "median", args.runs))
    print("\n| # | us | share | GFLOP/s | kernel | node |\n|---:|---:|---:|---:|---|---|")
    by_kernel = {}
    for i, ((label, comment, kernel), t) in enumerate(zip(calls, times)):
        gf = conv_gflop(comment)
        rate = "%.0f" % (gf / t * 1e6) if gf and t > 0 else ""
        print("| %d | %.1f | %.1f%% | %s | %s | %s |" % (i, t, 100 * t / total, rate, kernel, label[:90]))
        k = by_kernel.setdefault(kernel, [0, 0.0])
        k[0] += 1
        k[1] += t
    print("| | %.1f | 100%% | | sum | |" % total)
    print("\n| kernel | calls | us | share |\n|---|---:|---:|---:|")
    for kernel, (n, t) in sorted(by_kernel.items(), key=lambda kv: -kv[1][1]):
        print("| %s | %d | %.1f | %.1f%% |" % (kernel, n, t, 100 * t / total))


if __name__ == "__main__":
    main()
