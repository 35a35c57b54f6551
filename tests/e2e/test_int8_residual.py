"""test_int8_residual.py - int8 residual blocks: a small ResNet-style model
(built here with onnx.helper, seeded random weights, input 4x7x9: Conv+Relu,
Conv, a 1x1 Conv shortcut, Add, Relu, twice, 16 channels, then
GlobalAveragePool, Flatten, Gemm). The -mavx2 build gives the same bytes as
the portable one.

1. nncc --quantize int8 (16 seeded random calibration inputs) takes the
   residual Add back out of the fused Conv and runs it as Int8Add; its
   int8 logits are no further from the float ones (relative to the largest,
   on 8 other inputs) than 1.25x what ONNX Runtime's own int8 (QDQ) version
   of the model gives (random weights: a few percent).
2. The model quantised by ONNX Runtime's quantize_static (QDQ) compiled by
   nncc runs its Adds as Int8Add too, and stays within 3% of ONNX Runtime
   running the same QDQ model (ONNX Runtime requantises Add in float, nncc in
   fixed point: one output step apart at most, before the float tail).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def build(path):
    rng = np.random.RandomState(5)
    nodes, inits = [], []

    def w(name, shape, scale):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def conv(x, name, cin, cout, k):
        nodes.append(helper.make_node("Conv", [x, w(name + ".w", (cout, cin, k, k), np.sqrt(2.0 / (cin * k * k))),
                                               w(name + ".b", (cout,), 0.1)], [name], pads=[k // 2] * 4,
                                      name=name))
        return name

    x, c = "input", 4
    for blk in range(2):
        p = "b%d" % blk
        h = conv(x, p + ".c1", c, 16, 3)
        nodes.append(helper.make_node("Relu", [h], [p + ".r1"], name=p + ".relu1"))
        h = conv(p + ".r1", p + ".c2", 16, 16, 3)
        s = conv(x, p + ".sc", c, 16, 1) if c != 16 else x
        nodes.append(helper.make_node("Add", [h, s], [p + ".add"], name=p + ".add"))
        nodes.append(helper.make_node("Relu", [p + ".add"], [p + ".out"], name=p + ".relu2"))
        x, c = p + ".out", 16
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"))
    nodes.append(helper.make_node("Gemm", ["flat", w("fc.w", (10, 16), 0.5), w("fc.b", (10,), 0.1)], ["output"],
                                  transB=1, name="fc"))
    g = helper.make_graph(nodes, "resblocks", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 7, 9])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("int8_residual")
    path = os.path.join(d, "resblocks.onnx")
    build(path)
    calib = os.path.join(d, "calib")
    os.makedirs(calib)
    rng = np.random.RandomState(11)
    files = []
    for i in range(16):
        files.append(os.path.join(calib, "%02d.npy" % i))
        np.save(files[-1], rng.standard_normal((1, 4, 7, 9)).astype(np.float32))
    xs = [rng.standard_normal((1, 4, 7, 9)).astype(np.float32) for _ in range(8)]

    mf = H.compile_model(path, os.path.join(d, "f32"), name="rb")
    mq = H.compile_model(path, os.path.join(d, "int8"), name="rb", extra=["--quantize", "int8", "--calibration", calib])
    ef, eq = H.build(mf), H.build(mq)
    src = open(mq.c_path).read()
    t.check(src.count("nncc_add_i8(") == 2 and "nncc_conv2d_f32(" not in src,
            "both residual Adds run as Int8Add and every Conv in int8")
    # AVX2 path (16-channel blocks of 4 pixels; width 9 ends in an overlapping block) = portable
    if "avx2" in open("/proc/cpuinfo").read().split():
        ev = H.build(mq, cflags=H.CFLAGS + ["-mavx2"], builddir=os.path.join(mq.outdir, "build-avx2"))
        t.check(all(np.array_equal(H.run(mq, ev, [x])[0], H.run(mq, eq, [x])[0]) for x in xs),
                "AVX2 build differs from the portable one")
    sys.path.insert(0, H.SAMPLES)
    from make_digits_qdq import Reader
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    qdq = os.path.join(d, "resblocks.qdq.onnx")
    quantize_static(path, qdq, Reader(files), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    worst = ort_err = 0.0
    for x in xs:
        yf = H.run(mf, ef, [x])[0]
        worst = max(worst, H.rel_err(H.run(mq, eq, [x])[0], yf))
        ort_err = max(ort_err, H.rel_err(H.run_ort(qdq, [x])[0], yf))
    print("int8 vs float, relative error: nncc --quantize int8 %.4f, ONNX Runtime's QDQ model %.4f" % (worst, ort_err))
    # random weights: a few percent is this model's int8
    # noise (ONNX Runtime's own int8 model has as much); nncc's must be no worse
    t.check(worst <= max(0.05, 1.25 * ort_err), "int8 vs float: relative error %.4f (ONNX Runtime int8: %.4f)"
            % (worst, ort_err))
    mo = H.compile_model(qdq, os.path.join(d, "qdq"), name="rb")
    eo = H.build(mo)
    src = open(mo.c_path).read()
    t.check(src.count("nncc_add_i8(") == 2, "QDQ: both Adds run as Int8Add")
    worst = 0.0
    for x in xs:
        worst = max(worst, H.rel_err(H.run(mo, eo, [x])[0], H.run_ort(qdq, [x])[0]))
    print("nncc vs ONNX Runtime on the QDQ model: relative error %.4f" % worst)
    t.check(worst < 0.03, "QDQ: nncc vs ONNX Runtime relative error %.4f >= 0.03" % worst)
    t.finish()


if __name__ == "__main__":
    main()
