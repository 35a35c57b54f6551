"""test_bench_models.py - the bench models (bench/vs_ort.py) against ONNX
Runtime, with the code nncc writes for 2 threads: MobileNetV2 and SqueezeNet
1.1 (model_zoo.py: torchvision's structure, random weights, batch 1,
224x224; depthwise and grouped convolutions, Clip(0,6), Concat, ceil-mode
MaxPool, a 1280 -> 1000 Gemm) and the FeatureExtractor and WeightNormLinear
MLP samples. ResNet-18, the fifth bench model, is e2e_resnet18.

Each model is compiled once by nncc -O2 --threads 2; the generated model.c
is built once and linked twice: with the runtime built with -fopenmp (2
threads share the convolutions' pixel blocks and the matrix products'
column panels) and without (the pragmas ignored: one thread). Checks:
both agree with ONNX Runtime within 1e-4 relative, and the two give the
same bytes (threads split the outputs, never a sum, so the result does not
depend on the thread count).
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import model_zoo  # noqa: E402

# max |nncc - ORT| <= 1e-4 * max |ORT|: float32 sums in another order (nncc's
# packed kernels vs ORT's MLAS) through up to 52 convolutions (MobileNetV2)
# stay around 1e-6 of the largest logit; 1e-4 leaves two decades.
TOL = 1e-4


def sh(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise H.HarnessError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, p.stdout[-4000:]))


def build_pair(m, d):
    """The model's code built once, linked with the runtime with and without
    OpenMP; returns the two executables."""
    srcs = sorted(f for f in os.listdir(m.outdir) if f.endswith(".c"))
    with open(os.path.join(d, "harness_main.c"), "w") as f:
        f.write(H.harness_source(m))
    common = []
    for c in srcs:
        if not c.startswith("nncc_rt_"):
            o = os.path.join(d, c[:-2] + ".o")
            sh(["gcc"] + H.CFLAGS + ["-I", m.outdir, "-c", os.path.join(m.outdir, c), "-o", o])
            common.append(o)
    o = os.path.join(d, "harness_main.o")
    sh(["gcc"] + H.CFLAGS + ["-I", m.outdir, "-c", os.path.join(d, "harness_main.c"), "-o", o])
    common.append(o)
    exes = []
    for tag, extra in (("omp", ["-fopenmp"]), ("serial", [])):
        objs = []
        for c in srcs:
            if c.startswith("nncc_rt_"):
                o = os.path.join(d, "%s_%s.o" % (c[:-2], tag))
                sh(["gcc"] + H.CFLAGS + extra + ["-I", m.outdir, "-c", os.path.join(m.outdir, c), "-o", o])
                objs.append(o)
        exe = os.path.join(d, "model_" + tag)
        sh(["gcc"] + extra + ["-o", exe] + common + objs + ["-lm"])
        exes.append(exe)
    return exes


def main():
    H.have_nncc_env()
    t = H.Tally()
    base = H.tmp_dir("bench_models")
    models = [("mobilenet_v2", None), ("squeezenet1_1", None),
              ("feature_extractor", os.path.join(H.SAMPLES, "feature_extractor.onnx")),
              ("weightnorm_mlp", os.path.join(H.SAMPLES, "weightnorm_mlp.onnx"))]
    for name, path in models:
        d = os.path.join(base, name)
        os.makedirs(d)
        try:
            if path is None:
                path = os.path.join(d, name + ".onnx")
                model_zoo.MODELS[name](path)
            m = H.compile_model(path, os.path.join(d, "gen"), name="model", opt="-O2", extra=["--threads", "2"])
            with open(m.c_path) as f:
                src = f.read()
            # SqueezeNet ends in a 1x1 Conv; the 10-class heads of the samples
            # stay unpacked (padding 10 columns to 16 would cost 60% more
            # weight); MobileNetV2's 1000-class Gemm and the MLP's first layer
            # go through the packed kernel
            t.check(name in ("squeezenet1_1", "feature_extractor") or "nncc_sgemm_f32(" in src,
                    "%s: the Gemm does not go through the packed kernel" % name)
            omp, serial = build_pair(m, d)
            x = np.random.RandomState(7).standard_normal(m.inputs[0].shape(1)).astype(np.float32)
            ref = H.run_ort(path, [x])
            got = {}
            for exe in (omp, serial):
                out = H.run(m, exe, [x], batch=1)
                err = max(H.rel_err(a, b) for a, b in zip(out, ref))
                tag = os.path.basename(exe)
                print("%s, %s: max rel err %.3e vs ONNX Runtime" % (name, tag, err))
                t.check(err <= TOL, "%s, %s: max rel err %.3e > %g" % (name, tag, err, TOL))
                got[tag] = out
            same = all(np.array_equal(a.view(np.uint32), b.view(np.uint32))
                       for a, b in zip(got["model_omp"], got["model_serial"]))
            t.check(same, "%s: 2 threads and 1 thread give different bytes" % name)
        except H.HarnessError as e:
            print(e)
            t.check(False, "%s: %s" % (name, str(e).splitlines()[0]))
    t.finish()


if __name__ == "__main__":
    main()
