#!/usr/bin/env python3
"""vs_ort.py [options] - nncc against ONNX Runtime on the bench models, at 1
and 2 threads: the README's speed table.

For each model (the FeatureExtractor and WeightNormLinear MLP samples, and
ResNet-18, MobileNetV2 and SqueezeNet 1.1 with torchvision's structure and
random weights, built by tests/e2e/model_zoo.py; batch 1, 224x224) and each
thread count T, in one process run per model:

  1. nncc -O2 (with --threads T above 1) writes the C, which is built with
     the C compiler (default gcc -O2 -march=native; -fopenmp above 1 thread)
     into a program that runs the model once, writes its outputs, then runs
     it RUNS times in its own loop, printing each time (bench/compare.py's
     timing harness; a monotonic clock read around each call);
  2. ONNX Runtime (CPUExecutionProvider, all graph optimisations,
     intra_op_num_threads = T, inter_op_num_threads = 1, sequential) gets
     the same random input; its outputs are checked against nncc's (max
     |nncc - ORT| / max |ORT| <= 1e-4, else the script stops, exit 1)
     before anything is timed;
  3. ROUNDS interleaved rounds: every variant (nncc and ORT at every T)
     runs RUNS inferences per round, so a slow spell on a shared machine
     hits them alike. ORT runs in a tight loop in this process through
     io_binding (input and output bound once), timed around each
     run_with_iobinding call: that includes the Python call (a few us).

Prints a markdown table: median latency and the p10-p90 spread of all
single-inference times, nncc / ORT (below 1: nncc faster), GFLOP/s (2 flops
per multiply-accumulate counted by nncc --report) and % of the peak: T
times bench/peak.c's one-core FMA throughput, built with the same flags.
With 2 threads on Linux it also measures, before and after every round, how
far apart CPUs 0 and 1 are (bench/pingpong.c: a cache line's round trip):
a VM's host moves its vCPUs between one L3 (under ~150 ns) and two dies
(~400 ns), where two-thread runs of both runtimes slow down. The table gets
the range, and a second table gives nncc / ORT from only the rounds that
ran wholly on one L3 and only those wholly on two dies.

  python3 bench/vs_ort.py --nncc build/nncc
  python3 bench/vs_ort.py --models resnet18 --threads 1 --rounds 5

Needs numpy, onnx and onnxruntime (scripts/setup.sh's .venv). Timing is
noisy on shared machines: read the spread, not only the median.
Not a test: timing is never asserted (tests/e2e/test_bench_models.py
checks the outputs).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (the timing harness and sh())
import harness as H  # noqa: E402
import model_zoo  # noqa: E402

SAMPLES = os.path.join(ROOT, "samples")
MODELS = ["feature_extractor", "weightnorm_mlp", "resnet18", "mobilenet_v2", "squeezenet1_1"]
# |nncc - ORT| <= 1e-4 * max |ORT|: float32 sums in another order through up
# to 50 layers stay well below that (tests/e2e/test_bench_models.py)
TOL = 1e-4


def model_path(name, workdir):
    if name in model_zoo.MODELS:
        p = os.path.join(workdir, name + ".onnx")
        if not os.path.exists(p):
            model_zoo.MODELS[name](p)
        return p
    p = os.path.join(SAMPLES, name + ".onnx")
    if not os.path.exists(p):
        sys.exit("vs_ort.py: no model %s (known: %s)" % (name, ", ".join(MODELS)))
    return p


def build_nncc(args, onnx_path, threads, d, cflags):
    """nncc -O2 [--threads T] -> C -> timing program; returns (Model, exe, MACs)."""
    H.NNCC = args.nncc
    extra = ["--threads", str(threads)] if threads > 1 else []
    m = H.compile_model(onnx_path, d, name="model", opt="-O2", extra=extra)
    rep = H.nncc_cmd([onnx_path, "-O2", "--report"] + extra, check=True)
    mm = re.search(r"(\d+) MACs per inference", rep.stdout + rep.stderr)
    macs = int(mm.group(1)) if mm else 0
    with open(os.path.join(d, "bench_main.c"), "w") as f:
        f.write(compare.timing_main(m))
    objs = []
    for c in sorted(os.listdir(d)):
        if c.endswith(".c"):
            o = os.path.join(d, c[:-2] + ".o")
            compare.sh([args.cc, "-std=c99"] + cflags + ["-I", d, "-c", os.path.join(d, c), "-o", o])
            objs.append(o)
    exe = os.path.join(d, "bench")
    compare.sh([args.cc] + cflags + ["-o", exe] + objs + ["-lm"])
    return m, exe, macs


def ort_session(onnx_path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])


class OrtRunner:
    """A session with its input and outputs bound once (io_binding)."""

    def __init__(self, onnx_path, threads, inputs):
        import onnxruntime as ort
        self.sess = ort_session(onnx_path, threads)
        self.bind = self.sess.io_binding()
        self.keep = []
        for i, x in zip(self.sess.get_inputs(), inputs):
            v = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(x))
            self.keep.append(v)
            self.bind.bind_ortvalue_input(i.name, v)
        ref = self.sess.run(None, dict(zip([i.name for i in self.sess.get_inputs()], inputs)))
        for o, r in zip(self.sess.get_outputs(), ref):
            v = ort.OrtValue.ortvalue_from_numpy(np.zeros_like(r))
            self.keep.append(v)
            self.bind.bind_ortvalue_output(o.name, v)
        self.ref = ref

    def outputs(self):
        self.sess.run_with_iobinding(self.bind)
        return [v.numpy() for v in self.keep[len(self.sess.get_inputs()):]]

    def time(self, runs):
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            self.sess.run_with_iobinding(self.bind)
            t.append((time.perf_counter() - t0) * 1e6)
        return t


def bench_model(args, name, workdir, cflags_base, peak):
    d0 = os.path.join(workdir, name)
    os.makedirs(d0, exist_ok=True)
    onnx_path = model_path(name, d0)
    rng = np.random.RandomState(args.seed)
    variants = []   # (label, threads, kind, runner)
    inputs = None
    macs = 0
    for t in args.threads:
        d = os.path.join(d0, "t%d" % t)
        os.makedirs(d, exist_ok=True)
        cflags = cflags_base + (["-fopenmp"] if t > 1 else [])
        t0 = time.time()
        m, exe, macs = build_nncc(args, onnx_path, t, d, cflags)
        print("  %s, %d thread(s): nncc + %s built in %.0f s" % (name, t, args.cc, time.time() - t0), file=sys.stderr)
        if inputs is None:
            inputs = [rng.standard_normal(p.shape(1)).astype(p.np_dtype) for p in m.inputs]
        for i, x in enumerate(inputs):
            x.astype(x.dtype.newbyteorder("<")).tofile(os.path.join(d, "in%d.bin" % i))
        argv = [exe] + [os.path.join(d, "in%d.bin" % i) for i in range(len(m.inputs))] + \
            [os.path.join(d, "out%d.bin" % i) for i in range(len(m.outputs))]
        env = dict(os.environ, OMP_NUM_THREADS=str(t))
        compare.sh(argv, env=env)
        outs = [np.fromfile(os.path.join(d, "out%d.bin" % i), dtype=p.np_dtype).reshape(p.shape(1))
                for i, p in enumerate(m.outputs)]
        ort_run = OrtRunner(onnx_path, t, inputs)
        err = max(H.rel_err(a, b) for a, b in zip(outs, ort_run.ref))
        err_ort = max(H.rel_err(a, b) for a, b in zip(ort_run.outputs(), ort_run.ref))
        if not err <= TOL or not err_ort <= TOL:
            sys.exit("vs_ort.py: %s at %d thread(s): nncc differs from ONNX Runtime by %.3g (io_binding run %.3g), "
                     "more than %g" % (name, t, err, err_ort, TOL))
        variants.append(dict(t=t, kind="nncc", argv=argv, env=env, err=err, times=[]))
        variants.append(dict(t=t, kind="ort", runner=ort_run, times=[]))
    # runs per round: about --round-ms of the slowest variant
    one = []
    for v in variants:
        if v["kind"] == "ort":
            v["runner"].time(2)
            one.append(float(np.median(v["runner"].time(3))))
    runs = args.runs or int(min(500, max(3, args.round_ms * 1e3 / max(one))))
    trips = []  # the vCPUs' round trip before and after each round (where measured)
    for r in range(args.rounds):
        before = round_trip(args.pingpong) if args.pingpong else None
        for v in variants:
            if v["kind"] == "nncc":
                out = compare.sh(v["argv"] + [str(runs)], env=v["env"])
                v["times"] += [float(x) for x in out.split()]
            else:
                v["times"] += v["runner"].time(runs)
        if args.pingpong:
            trips.append((before, round_trip(args.pingpong)))
        print("  %s: round %d/%d (%d runs each)" % (name, r + 1, args.rounds, runs), file=sys.stderr)
    rows = []
    for t in args.threads:
        nv = [v for v in variants if v["t"] == t and v["kind"] == "nncc"][0]
        ov = [v for v in variants if v["t"] == t and v["kind"] == "ort"][0]
        rows.append(dict(model=name, t=t, macs=macs, err=nv["err"], nncc=np.array(nv["times"]),
                         ort=np.array(ov["times"]), runs=runs, peak=peak * t, trips=trips))
    return rows


# a round whose round trips before and after are both below NEAR_NS ran with
# the two vCPUs on one L3, both above FAR_NS on two dies; others are mixed
NEAR_NS, FAR_NS = 200.0, 300.0


def by_placement(r):
    """{"one L3": (nncc/ORT of the medians, rounds), "two dies": ...} from
    the rounds that ran wholly in one placement"""
    out = {}
    for label, inside in (("one L3", lambda a, b: a < NEAR_NS and b < NEAR_NS),
                          ("two dies", lambda a, b: a > FAR_NS and b > FAR_NS)):
        pick = [i for i, (a, b) in enumerate(r["trips"]) if inside(a, b)]
        if pick:
            k = r["runs"]
            n = np.concatenate([r["nncc"][i * k:(i + 1) * k] for i in pick])
            o = np.concatenate([r["ort"][i * k:(i + 1) * k] for i in pick])
            out[label] = (float(np.median(n)) / float(np.median(o)), len(pick))
    return out


def round_trip(exe):
    """ns for a cache line between CPUs 0 and 1 and back (bench/pingpong.c)"""
    m = re.search(r"round trip ([\d.]+) ns", compare.sh([exe, "0", "1"]))
    return float(m.group(1)) if m else float("nan")


def fmt_us(us):
    return "%.1f us" % us if us < 1000 else "%.2f ms" % (us / 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--nncc", default=os.path.join(ROOT, "build", "nncc"))
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--cflags", default="-O2 -march=native", help="C compiler flags (default -O2 -march=native)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated (default: all of %s)" % ", ".join(MODELS))
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--runs", type=int, default=0, help="inferences per variant per round (default: about --round-ms)")
    ap.add_argument("--round-ms", type=float, default=300.0, help="time of one variant's runs in a round")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="build in this directory (kept) instead of a temporary one")
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    cflags = shlex.split(args.cflags)
    workdir = args.keep or tempfile.mkdtemp(prefix="nncc-vs-ort-")
    os.makedirs(workdir, exist_ok=True)
    if not os.path.exists(args.nncc):
        sys.exit("vs_ort.py: no nncc at %s (--nncc)" % args.nncc)
    peak_exe = os.path.join(workdir, "peak")
    compare.sh([args.cc, "-std=c99"] + cflags + [os.path.join(HERE, "peak.c"), "-o", peak_exe])
    peak = float(re.search(r"peak_gflops: ([\d.]+)", compare.sh([peak_exe])).group(1))
    # where the two vCPUs sit decides what two threads cost (README: vCPU
    # placement): measured before every round, shown next to the figures
    args.pingpong = None
    if max(args.threads) > 1 and (os.cpu_count() or 1) > 1 and sys.platform.startswith("linux"):
        args.pingpong = os.path.join(workdir, "pingpong")
        compare.sh([args.cc, "-O2", "-pthread", os.path.join(HERE, "pingpong.c"), "-o", args.pingpong])

    rows = []
    for name in args.models.split(","):
        rows += bench_model(args, name, workdir, cflags, peak)

    import onnxruntime as ort
    cpu = ""
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    print("machine: %s, %s, %d cores; peak %.1f GFLOP/s per core (bench/peak.c)" % (
        os.uname().machine, cpu, os.cpu_count(), peak))
    print("nncc -O2, %s %s; ONNX Runtime %s (all graph optimisations, io_binding); batch 1" % (
        compare.sh([args.cc, "--version"]).splitlines()[0], " ".join(cflags), ort.__version__))
    print("timing: %d interleaved rounds; median and p10-p90 of all single-inference times" % args.rounds)
    if args.pingpong:
        print("vCPU round trip: CPU 0 -> 1 -> 0 of a cache line (bench/pingpong.c) before and after each round, "
              "min-max; under %.0f ns the two vCPUs share an L3, over %.0f ns they sit on two dies" % (NEAR_NS, FAR_NS))
    print()
    print("| model | threads | nncc | p10-p90 | ONNX Runtime | p10-p90 | nncc / ORT | nncc GFLOP/s | % of peak "
          "| ORT GFLOP/s | max rel. err |" + (" vCPU round trip |" if args.pingpong else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.pingpong else ""))
    for r in rows:
        n, o = r["nncc"], r["ort"]
        mn, mo = float(np.median(n)), float(np.median(o))
        gf = lambda us: 2.0 * r["macs"] / (us * 1e-6) * 1e-9  # noqa: E731
        print("| %s | %d | %s | %s-%s | %s | %s-%s | %.2f | %.1f | %.0f%% | %.1f | %.1e |" % (
            r["model"], r["t"], fmt_us(mn), fmt_us(np.percentile(n, 10)), fmt_us(np.percentile(n, 90)),
            fmt_us(mo), fmt_us(np.percentile(o, 10)), fmt_us(np.percentile(o, 90)), mn / mo, gf(mn),
            100.0 * gf(mn) / r["peak"], gf(mo), r["err"]) +
            (" %.0f-%.0f ns |" % (min(map(min, r["trips"])), max(map(max, r["trips"]))) if r["trips"] else ""))
    if args.pingpong:
        print()
        print("nncc / ORT by where the vCPUs sat (the rounds that ran wholly in one placement):")
        print()
        print("| model | threads | one L3 | rounds | two dies | rounds |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            b = by_placement(r)
            cell = lambda k: ("%.2f | %d" % b[k]) if k in b else "- | 0"  # noqa: E731
            print("| %s | %d | %s | %s |" % (r["model"], r["t"], cell("one L3"), cell("two dies")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
