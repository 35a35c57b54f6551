"""test_conv_algos.py - every convolution strategy and the vectorised pools
on one model against ONNX Runtime, plus --conv-algo and --report.

The model (built with onnx.helper, odd sizes so no vector block is full):
a 3x3 stride-1 conv with bias and Relu (implicit GEMM over a padded grid),
a 1x1 stride-1 conv reading its input in place (implicit, no copy, partial
last tile), a residual Add fused into a 3x3 conv, depthwise 3x3 convs at
stride 1 and 2 with Clip(0, 6) (Relu6), a depthwise 5x5 with multiplier 2,
a 3x3 stride-2 conv to a 5x6 map (the transposed implicit GEMM over the
stride's phases: channels across the lanes), MaxPool 3x3/2 pad 1, MaxPool 2x2/2,
AveragePool 3x3/1 pad 1 with and without count_include_pad.

Compiled at -O2 with the automatic choice, then with each global
--conv-algo (winograd: F(2x2,3x3) on the 3x3 stride-1 convs, winograd4:
F(4x4,3x3)) (which falls back where an algorithm does not fit), at -O0, and
built with the default flags and with -march=native (the AVX2/AVX-512
kernels where the CPU has them); each must match ORT within TOL. --report
must name each Conv's algorithm; a per-node request that does not fit, or
names no Conv, is an error naming the node (exit 1); an unknown algorithm
is a usage error (exit 2).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# float32 sums in another order than ORT's (the same reason as test_samples.py)
TOL = 1e-4


def build_model(path):
    rng = np.random.RandomState(5)
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def conv(name, x, cin, cout, k, stride=1, pad=None, group=1, bias=True):
        pad = k // 2 if pad is None else pad
        w = init(name + ".w", rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k)))
        ins = [x, w] + ([init(name + ".b", rng.standard_normal(cout) * 0.1)] if bias else [])
        nodes.append(helper.make_node("Conv", ins, [name], name=name, kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[pad] * 4, group=group))
        return name

    def op(kind, ins, name, **attrs):
        nodes.append(helper.make_node(kind, ins, [name], name=name, **attrs))
        return name

    lo, hi = init("zero", np.array(0.0)), init("six", np.array(6.0))
    x = op("Relu", [conv("c3", "x", 5, 24, 3)], "c3_relu")                     # implicit, grid 21 wide
    a = conv("pw", x, 24, 20, 1)                                             # implicit, in place
    d1 = op("Clip", [conv("dw1", a, 20, 20, 3, group=20)], "dw1_relu6", )
    nodes[-1].input.extend([lo, hi])
    r = op("Add", [conv("c3r", d1, 20, 20, 3), a], "res")                     # residual fused
    d2 = op("Clip", [conv("dw2", r, 20, 20, 3, stride=2, group=20)], "dw2_relu6")
    nodes[-1].input.extend([lo, hi])
    d3 = conv("dw5", d2, 20, 40, 5, group=20)                                # multiplier 2
    s2 = op("Relu", [conv("c3s2", d3, 40, 16, 3, stride=2)], "c3s2_relu")     # implicit-t, 2x2 phases
    p1 = op("MaxPool", [x], "mp3", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    p2 = op("MaxPool", [a], "mp2", kernel_shape=[2, 2], strides=[2, 2])
    p3 = op("AveragePool", [d1], "ap_incl", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    p4 = op("AveragePool", [d1], "ap_excl", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0)
    outs = [s2, p1, p2, p3, p4]
    g = helper.make_graph(nodes, "conv_algos", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 19, 21])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


EXPECT = {"c3": "implicit", "pw": "implicit", "dw1": "depthwise", "c3r": "implicit", "dw2": "depthwise",
          "dw5": "depthwise", "c3s2": "implicit-t"}


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("conv_algos")
    path = os.path.join(d, "conv_algos.onnx")
    build_model(path)
    x = np.random.RandomState(1).standard_normal((1, 5, 19, 21)).astype(np.float32)
    ref = H.run_ort(path, [x])

    variants = [("auto", "-O2", []), ("O0", "-O0", [])]
    variants += [(a, "-O2", ["--conv-algo", a]) for a in ("direct", "im2col", "implicit", "implicit-t", "depthwise",
                                                               "winograd", "winograd4")]
    for name, opt, extra in variants:
        for flags in ([], ["-O2", "-march=native"]):
            tag = "%s %s" % (name, " ".join(flags) or "default flags")
            try:
                m = H.compile_model(path, os.path.join(d, name), name="model", opt=opt, extra=extra)
                got = H.run(m, H.build(m, cc="gcc", cflags=(H.CFLAGS + flags) if flags else None,
                                       builddir=os.path.join(d, name, "build" + ("-native" if flags else ""))), [x])
            except H.HarnessError as e:
                t.check(False, "%s: %s" % (tag, e))
                continue
            err = max(H.rel_err(a, b) for a, b in zip(got, ref))
            print("%s: max relative error %.2e" % (tag, err))
            t.check(err <= TOL, "%s: error %.3g > %g" % (tag, err, TOL))

    rep = H.nncc_cmd([path, "--report"], check=True).stderr
    for node, algo in EXPECT.items():
        t.check("conv: '%s' " % node in rep and ("'%s' " % node) in rep and
                any(l.startswith("conv: '%s' " % node) and l.endswith(": " + algo) for l in rep.splitlines()),
                "--report names %s for %s:\n%s" % (algo, node, rep))
    rep = H.nncc_cmd([path, "--report", "--conv-algo", "c3=im2col"], check=True).stderr
    t.check(any(l.startswith("conv: 'c3' ") and l.endswith(": im2col") for l in rep.splitlines()),
            "--conv-algo c3=im2col is used:\n" + rep)

    p = H.nncc_cmd([path, "--conv-algo", "c3s2=winograd"])
    t.check(p.returncode == 1 and "c3s2" in p.stderr and "stride 1" in p.stderr,
            "an unfit per-node request fails naming the node: %d %s" % (p.returncode, p.stderr))
    rep = H.nncc_cmd([path, "--report", "--conv-algo", "winograd"], check=True).stderr
    t.check(any(l.startswith("conv: 'c3r' ") and l.endswith(": winograd") for l in rep.splitlines()) and
            any(l.startswith("conv: 'c3s2' ") and l.endswith(": implicit-t") for l in rep.splitlines()),
            "a global --conv-algo winograd applies where it fits, the rest falls back:\n" + rep)
    p = H.nncc_cmd([path, "--conv-algo", "nosuch=im2col"])
    t.check(p.returncode == 1 and "nosuch" in p.stderr, "a request naming no Conv fails: %s" % p.stderr)
    p = H.nncc_cmd([path, "--conv-algo", "c3=fast"])
    t.check(p.returncode == 2 and "--conv-algo" in p.stderr, "an unknown algorithm is a usage error: %s" % p.stderr)
    t.finish()


if __name__ == "__main__":
    main()
