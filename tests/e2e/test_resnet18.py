"""test_resnet18.py - a torchvision-structured ResNet-18 (made by
make_resnet18.py: unfused BatchNorm, residual Adds, downsample convs),
compiled by nncc -O2, built with gcc -O2, compared with ONNX Runtime.
Prints nncc's and gcc's wall times (information only: timing never fails a
test) and checks that the generated .c is at most 3.75x the .onnx size
(float32 weights written as 0x%08x, i.e. 11 bytes per 4-byte weight, is 2.75x;
the Winograd layers store their transformed weights, 16/9 (F(2x2)) or 36/9
(F(4x4)) of the raw ones: 3.15M floats more than ResNet-18's 11.69M without
threads, 2.75 x 1.27 = 3.49x, 3.55x measured with the code around them).
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import make_resnet18  # noqa: E402

# max |nncc - ORT| <= 1e-4 * max |ORT|: float32 sums are added in a different
# order by nncc's kernels and by ORT's (MLAS); through 20 convolutions with
# up to 4608-long dot products that rounding noise stays well below 1e-4.
TOL = 1e-4
MAX_C_RATIO = 3.75


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("resnet18")
    onnx_path = os.path.join(d, "resnet18.onnx")
    t0 = time.time()
    import onnx
    onnx.save(make_resnet18.build(seed=0), onnx_path)
    print("made %s (%d bytes) in %.1f s" % (onnx_path, os.path.getsize(onnx_path), time.time() - t0))

    # the -O2 graph: BatchNorm folded, Relu and residual Add fused
    lines = H.graph_after_passes([onnx_path, "-O2"])
    n_bn = sum("= BatchNormalization(" in l for l in lines)
    n_relu = sum("= Relu(" in l for l in lines)
    n_add = sum("= Add(" in l for l in lines)
    print("-O2 graph: %d BatchNormalization, %d Relu, %d Add nodes left" % (n_bn, n_relu, n_add))
    t.check(n_bn == 0, "-O2 left %d BatchNormalization nodes" % n_bn)

    try:
        m = H.compile_model(onnx_path, os.path.join(d, "gen"), opt="-O2")
        print("nncc -O2 compile time: %.2f s" % m.nncc_seconds)
        c_size, onnx_size = os.path.getsize(m.c_path), os.path.getsize(onnx_path)
        ratio = c_size / float(onnx_size)
        print("resnet18.c %d bytes, resnet18.onnx %d bytes: ratio %.2f (limit %.1f)"
              % (c_size, onnx_size, ratio, MAX_C_RATIO))
        t.check(ratio <= MAX_C_RATIO, ".c is %.2fx the .onnx size (> %.1f)" % (ratio, MAX_C_RATIO))
        exe = H.build(m, cc="gcc")
        print("gcc -O2 compile time of the generated code: %.2f s" % m.cc_seconds)
        x = np.random.RandomState(42).standard_normal((1, 3, 224, 224)).astype(np.float32)
        t0 = time.time()
        got = H.run(m, exe, [x])
        print("nncc-generated run: %.2f s (one inference plus process start and I/O)" % (time.time() - t0))
        ref = H.run_ort(onnx_path, [x])
        err = H.rel_err(got[0], ref[0])
        same_top = int(np.argmax(got[0])) == int(np.argmax(ref[0]))
        print("resnet18 -O2 gcc: max rel err %.3e (max |ORT| %.3f), top-1 %s"
              % (err, float(np.max(np.abs(ref[0]))), "same" if same_top else "DIFFERENT"))
        t.check(err <= TOL, "resnet18 max rel err %.3e > %g" % (err, TOL))
        t.check(same_top, "resnet18 top-1 class differs from ORT")
    except H.HarnessError as e:
        print(e)
        t.check(False, "resnet18: " + str(e).splitlines()[0])
    t.finish()


if __name__ == "__main__":
    main()
