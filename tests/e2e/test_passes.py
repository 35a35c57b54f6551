"""test_passes.py - the rewriting passes on a model built to need them:
Transpose pairs that cancel and compose, a Reshape/Flatten/Squeeze/Unsqueeze
chain, a Transpose of size-1 dims, Pad -> Conv, Pad -> MaxPool after a Relu,
Pad -> AveragePool, and elementwise chains (Mul -> Add -> Relu with a scalar
and a per-channel constant; Sigmoid -> Mul (SiLU) -> Sub -> Div).

The model is written twice, with a fixed batch of 1 and with a symbolic
batch (a run-time argument: run at batch 1 and 4). Each is compiled at -O0
and -O2, built with gcc (and -O2 with clang, and with gcc plus ASan/UBSan)
at -Werror, run, and compared
with ONNX Runtime; the
-O2 graph must show every rewrite (no Pad, no standalone Relu, one Transpose
left, the chains fused) and --report must name each.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# max |nncc - ORT| / max |ORT|: float32 on both sides, sums of at most 648
# products (the Gemm) in different orders: a few ulps of the output range.
# 1e-4 is far above that and far below a wrong pad, perm or step (order 1).
TOL = 1e-4
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def build(path, batch):
    rng = np.random.RandomState(7)
    N = batch if batch else "N"
    inits = []

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype), name))
        return name

    nodes = []

    def node(op, ins, out, name, **attrs):
        nodes.append(helper.make_node(op, ins, [out], name=name, **attrs))
        return out

    x = "x"
    # Transpose pair that cancels: NCHW -> NHWC -> NCHW
    t = node("Transpose", [x], "t0", "to_nhwc", perm=[0, 2, 3, 1])
    t = node("Transpose", [t], "t1", "to_nchw", perm=[0, 3, 1, 2])
    # Pad -> Conv (zeros), then Relu
    t = node("Pad", [t, const("pads0", [0, 0, 1, 1, 0, 0, 1, 1], np.int64)], "p0", "pad_conv", mode="constant")
    t = node("Conv", [t, const("w0", rng.standard_normal((8, 3, 3, 3)) * 0.3), const("b0", rng.standard_normal(8))],
             "c0", "conv0")
    t = node("Relu", [t], "r0", "relu0")
    # Pad -> MaxPool after the Relu (zeros are below every value)
    t = node("Pad", [t, const("pads1", [0, 0, 1, 1, 0, 0, 1, 1], np.int64)], "p1", "pad_pool", mode="constant")
    t = node("MaxPool", [t], "m0", "maxpool0", kernel_shape=[2, 2], strides=[2, 2])
    # elementwise chain: scalar Mul, per-channel Add, Relu
    t = node("Mul", [t, const("half", 0.5)], "e0", "scale")
    t = node("Add", [t, const("bias", rng.standard_normal((8, 1, 1)) * 0.2)], "e1", "shift")
    e2 = node("Relu", [t], "e2", "relu1")
    # SiLU, then Sub of a scalar and Div by a per-channel constant
    t = node("Sigmoid", [e2], "e3", "sigmoid")
    t = node("Mul", [e2, t], "e4", "silu")
    t = node("Sub", [t, const("tenth", [0.1])], "e5", "minus")
    t = node("Div", [t, const("scale", rng.uniform(0.5, 2.0, (1, 8, 1, 1)))], "e6", "divide")
    # Pad -> AveragePool (count_include_pad semantics)
    t = node("Pad", [t, const("pads2", [0, 0, 1, 1, 0, 0, 1, 1], np.int64)], "p2", "pad_avg", mode="constant")
    a0 = node("AveragePool", [t], "a0", "avgpool0", kernel_shape=[3, 3])
    # Reshape chain: Flatten, Reshape, Unsqueeze, Squeeze, Reshape
    t = node("Flatten", [a0], "f0", "flatten")
    t = node("Reshape", [t, const("shape1", [0, 8, 81], np.int64)], "f1", "reshape1")
    t = node("Unsqueeze", [t, const("axes1", [1], np.int64)], "f2", "unsqueeze")
    t = node("Squeeze", [t, const("axes2", [1], np.int64)], "f3", "squeeze")
    t = node("Reshape", [t, const("shape2", [0, -1], np.int64)], "f4", "reshape2")
    y1 = node("Gemm", [t, const("wg", rng.standard_normal((10, 648)) * 0.05), const("bg", rng.standard_normal(10))],
              "y1", "classifier", transB=1)
    # a Transpose pair that composes into one: (N,8,9,9) -> (N,9,9,8) -> (N,9,8,9)
    t = node("Transpose", [a0], "u0", "perm_a", perm=[0, 2, 3, 1])
    node("Transpose", [t], "y2", "perm_b", perm=[0, 1, 3, 2])
    # a Transpose that moves only a size-1 dim: (N,1,10) -> (N,10,1)
    t = node("Unsqueeze", [y1, const("axes3", [1], np.int64)], "v0", "unsqueeze_out")
    node("Transpose", [t], "y3", "move_ones", perm=[0, 2, 1])

    g = helper.make_graph(nodes, "passes", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, 3, 16, 16])],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in
                           (("y1", [N, 10]), ("y2", [N, 9, 8, 9]), ("y3", [N, 10, 1]))],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("passes")
    for label, batch in (("fixed", 1), ("symbolic", 0)):
        path = os.path.join(d, "passes_%s.onnx" % label)
        build(path, batch)

        # the -O2 graph and report
        lines = H.graph_after_passes([path, "-O2"])
        ops = [l.split(" = ")[1].split("(")[0] for l in lines if " = " in l]
        print("%s -O2 graph: %s" % (label, " ".join(ops)))
        t.check("Pad" not in ops, "%s -O2: a Pad is left" % label)
        t.check("Relu" not in ops and "Sigmoid" not in ops and "Mul" not in ops,
                "%s -O2: a Relu, Sigmoid or Mul was not fused" % label)
        t.check(ops.count("FusedElementwise") == 2, "%s -O2: %d fused elementwise loops, want 2"
                % (label, ops.count("FusedElementwise")))
        want_t = 2 if batch == 0 else 1  # the size-1 move stays a Transpose with a symbolic batch
        t.check(ops.count("Transpose") == want_t, "%s -O2: %d Transposes, want %d" % (label, ops.count("Transpose"),
                                                                                       want_t))
        # with a symbolic batch the Unsqueeze before the size-1 Transpose stays
        n_rs = sum(ops.count(o) for o in ("Flatten", "Squeeze", "Unsqueeze"))
        t.check(n_rs == (1 if batch == 0 else 0) and ops.count("Reshape") == (1 if batch == 0 else 2),
                "%s -O2: the reshape chain was not merged" % label)
        rep = H.nncc_cmd([path, "-O2", "--report"], check=True).stderr
        for want in ("reshape: 1 Transpose pair cancelled, 1 composed into one Transpose",
                     "fuse-pad: 1 Pad fused into Conv, 1 into AveragePool, 1 into MaxPool",
                     "eltwise: 2 chains of elementwise nodes (6 nodes) fused into one loop each"):
            t.check(want in rep, "%s --report lacks '%s':\n%s" % (label, want, rep))

        # numbers: -O0 and -O2 against ONNX Runtime
        # (-O2 also with clang, and with gcc plus ASan/UBSan, which stop at an
        # out-of-bounds access in the fused loops)
        for opt, cc in (("-O0", "gcc"), ("-O2", "gcc"), ("-O2", "clang"), ("-O2", "gcc-sanitize")):
            try:
                m = H.compile_model(path, os.path.join(d, label + opt + cc), opt=opt)
                if cc == "gcc-sanitize":
                    exe = H.build(m, cc="gcc", cflags=H.CFLAGS + SANITIZE, builddir=os.path.join(m.outdir, "build-san"))
                else:
                    exe = H.build(m, cc=cc)
                rng = np.random.RandomState(3)
                for b in ((1,) if batch else (1, 4)):
                    xs = [rng.standard_normal((b, 3, 16, 16)).astype(np.float32)]
                    got = H.run(m, exe, xs)
                    ref = H.run_ort(path, xs)
                    err = max(H.rel_err(g_, r_) for g_, r_ in zip(got, ref))
                    print("%s %s %s batch %d: max rel err %.3e" % (label, opt, cc, b, err))
                    t.check(err <= TOL, "%s %s %s batch %d: max rel err %.3e > %g" % (label, opt, cc, b, err, TOL))
            except H.HarnessError as e:
                t.check(False, "%s %s %s: %s" % (label, opt, cc, e))
    t.finish()


if __name__ == "__main__":
    main()
