#!/usr/bin/env python3
"""bench/int8.py - int8 vs fp32 latency, nncc and ONNX Runtime, in one run.

    python bench/int8.py [--nncc build/nncc] [--models a,b] [--runs N]
    (needs numpy, onnx, onnxruntime; gcc)

For each model: nncc fp32 (-O2), nncc int8 (--quantize int8, calibrated on
4 seeded random inputs: speed does not depend on the data), ONNX Runtime
fp32, and ONNX Runtime running its own int8 QDQ model (quantize_static,
per-channel, same calibration inputs). Batch 1, one thread everywhere
(ONNX Runtime: intra_op_num_threads=1), the generated C built with
gcc -O2 -march=native. Each figure is the median of N timed runs of 20
inferences (in-process loops; the first run is a warm-up). Models:
feature_extractor, a ResNet-18 made by
tests/e2e/make_resnet18.py (in int8 its GlobalAveragePool stays float;
in ONNX Runtime's QDQ version its BatchNormalizations too, as quantize_static
leaves them unfolded) and a MobileNetV2 (bench/memplan_table.py's, built with
onnx.helper). --models picks some of feature_extractor, resnet18,
mobilenet_v2 (default: all three).

This is a timing script, not a test: numbers depend on the machine.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

TIMING_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "%(p)s.h"
static float in[%(nin)d], out[%(nout)d];
int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 10, i, r;
    for (i = 0; i < %(nin)d; i++)
        in[i] = (float)((i * 7919) %% 200 - 100) / 50.0f;
    for (r = 0; r <= runs; r++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (i = 0; i < 20; i++)
            %(p)s_run(%(batch)sin, out);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (r)
            printf("%%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / 20);
    }
    return 0;
}
"""


def nncc_time(nncc, onnx_path, d, extra, runs, shape, nout):
    os.makedirs(d, exist_ok=True)
    subprocess.run([nncc, onnx_path, "-o", os.path.join(d, "m.c")] + extra, check=True)
    batch = "1, " if "size_t batch" in open(os.path.join(d, "m.h")).read() else ""
    with open(os.path.join(d, "timing.c"), "w") as f:
        f.write(TIMING_MAIN % {"p": "m", "nin": int(np.prod(shape)), "nout": nout, "batch": batch})
    srcs = [os.path.join(d, s) for s in os.listdir(d) if s.endswith(".c")]
    exe = os.path.join(d, "timing")
    subprocess.run(["gcc", "-std=c99", "-O2", "-march=native", "-D_POSIX_C_SOURCE=199309L", "-I", d, "-o", exe]
                   + srcs + ["-lm"], check=True)
    out = subprocess.run([exe, str(runs)], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return statistics.median(float(v) for v in out.split())


def ort_time(path, x, runs):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {s.get_inputs()[0].name: x}
    s.run(None, feed)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(20):
            s.run(None, feed)
        ts.append((time.perf_counter() - t0) / 20 * 1e6)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nncc", default=os.path.join(ROOT, "build", "nncc"))
    ap.add_argument("--models", default="feature_extractor,resnet18,mobilenet_v2")
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "samples"))
    from make_digits_qdq import Reader
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    tmp = tempfile.mkdtemp(prefix="nncc-int8-bench-")
    want = a.models.split(",")
    models = []
    if "feature_extractor" in want:
        models.append(("feature_extractor", os.path.join(ROOT, "samples", "feature_extractor.onnx"), (1, 3, 32, 32), 10))
    if "resnet18" in want:
        p = os.path.join(tmp, "resnet18.onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "e2e", "make_resnet18.py"), p], check=True)
        models.append(("resnet18", p, (1, 3, 224, 224), 1000))
    if "mobilenet_v2" in want:
        sys.path.insert(0, HERE)
        from memplan_table import mobilenet_v2
        p = os.path.join(tmp, "mobilenet_v2.onnx")
        mobilenet_v2(p)
        models.append(("mobilenet_v2", p, (1, 3, 224, 224), 1000))
    rows = []
    for name, path, shape, nout in models:
        calib = os.path.join(tmp, name + "-calib")
        os.makedirs(calib)
        rng = np.random.RandomState(1)
        files = []
        for i in range(4):
            f = os.path.join(calib, "%d.npy" % i)
            np.save(f, rng.standard_normal(shape).astype(np.float32))
            files.append(f)
        qdq = os.path.join(tmp, name + ".qdq.onnx")
        quantize_static(path, qdq, Reader(files), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        x = np.load(files[0])
        r = {
            "nncc fp32": nncc_time(a.nncc, path, os.path.join(tmp, name, "f32"), [], a.runs, shape, nout),
            "nncc int8": nncc_time(a.nncc, path, os.path.join(tmp, name, "int8"),
                                   ["--quantize", "int8", "--calibration", calib], a.runs, shape, nout),
            "nncc int8 (QDQ import)": nncc_time(a.nncc, qdq, os.path.join(tmp, name, "qdq"), [], a.runs, shape,
                                                nout),
            "ORT fp32": ort_time(path, x, a.runs),
            "ORT int8 (QDQ)": ort_time(qdq, x, a.runs),
        }
        rows.append((name, r))
    cols = list(rows[0][1])
    print("| model | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, r in rows:
        print("| %s | " % name + " | ".join("%.0f us" % r[c] for c in cols) + " |")


if __name__ == "__main__":
    main()
