"""test_int8_u8.py - models quantised by ONNX Runtime's quantize_static that
are not plain int8 QDQ: uint8 activations (activation_type=QUInt8, its
default), and the QOperator format (QLinearConv), compiled by nncc.

The model is test_int8_residual.py's (two residual blocks of 3x3 Convs,
Adds, GlobalAveragePool, Gemm; seeded random weights), quantised in QDQ
format with uint8 activations and int8 per-channel weights. nncc turns each
uint8 QuantizeLinear/DequantizeLinear pair into int8 (zero point - 128, the
same values shifted) and runs every Conv and Add in the int8 kernels
(nncc_conv2d_i8, nncc_add_i8: none falls back to float), and its output
matches ONNX Runtime running the same model within one quantisation step
of the output (ONNX Runtime requantises in float with rounding half to
even, nncc in fixed point: single steps apart inside, at most one at the
output on these inputs).

A second model (3x3 Conv+Relu, 3x3 Conv stride 2, 1x1 Conv: QOperator
format only has QLinear kernels for these) quantised with
quant_format=QOperator and int8 activations is a chain of QLinearConv: each
runs in nncc_conv2d_i8 (not the reference nncc_qlinear_conv), and the
output matches ONNX Runtime within one output step. Likewise two MatMuls
with constant weights quantised to QLinearMatMul run in nncc_gemm_i8.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import test_int8_residual as R  # noqa: E402


def output_step(path):
    """The scale of the DequantizeLinear that makes the graph output."""
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = m.graph.output[0].name
    for n in m.graph.node:
        if n.output[0] == out and n.op_type == "DequantizeLinear":
            return float(inits[n.input[1]].reshape(-1)[0])
    return None


def build_convs(path):
    rng = np.random.RandomState(7)
    inits, nodes = [], []

    def conv(x, name, cin, cout, k, stride, relu):
        w = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, name + ".w"))
        inits.append(numpy_helper.from_array((rng.standard_normal(cout) * 0.1).astype(np.float32), name + ".b"))
        nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"], [name], pads=[k // 2] * 4,
                                      strides=[stride] * 2, name=name))
        if relu:
            nodes.append(helper.make_node("Relu", [name], [name + ".r"], name=name + ".relu"))
            return name + ".r"
        return name

    h = conv("input", "c1", 3, 16, 3, 1, True)
    h = conv(h, "c2", 16, 24, 3, 2, True)
    h = conv(h, "c3", 24, 8, 1, 1, False)
    nodes[-1].output[0] = "output"
    g = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 11, 13])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 8, 6, 7])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def qoperator(t, d):
    from make_digits_qdq import Reader
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    path = os.path.join(d, "convs.onnx")
    build_convs(path)
    rng = np.random.RandomState(29)
    files = []
    for i in range(16):
        files.append(os.path.join(d, "cc%02d.npy" % i))
        np.save(files[-1], rng.standard_normal((1, 3, 11, 13)).astype(np.float32))
    qop = os.path.join(d, "convs.qop.onnx")
    quantize_static(path, qop, Reader(files), quant_format=QuantFormat.QOperator, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    ops = [n.op_type for n in onnx.load(qop).graph.node]
    t.check(ops.count("QLinearConv") == 3, "QOperator model: 3 QLinearConv (%s)" % ops)
    step = output_step(qop)
    m = H.compile_model(qop, os.path.join(d, "qop"), name="cv")
    e = H.build(m)
    src = open(m.c_path).read()
    t.check(src.count("nncc_conv2d_i8(") == 3 and "nncc_qlinear_conv(" not in src,
            "QOperator: every QLinearConv runs in nncc_conv2d_i8")
    worst = 0.0
    for _ in range(8):
        x = rng.standard_normal((1, 3, 11, 13)).astype(np.float32)
        got, want = H.run(m, e, [x])[0], H.run_ort(qop, [x])[0]
        worst = max(worst, float(np.max(np.abs(got - want))) / step)
    print("QOperator (QLinearConv): nncc vs ONNX Runtime, largest difference %.3g output steps" % worst)
    t.check(worst <= 1.0 + 1e-3, "QOperator: nncc vs ONNX Runtime %.3g output steps apart (> 1)" % worst)


def qoperator_matmul(t, d):
    from make_digits_qdq import Reader
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    rng = np.random.RandomState(31)
    inits = [numpy_helper.from_array((rng.standard_normal((37, 20)) * 0.2).astype(np.float32), "w1"),
             numpy_helper.from_array((rng.standard_normal((20, 11)) * 0.3).astype(np.float32), "w2")]
    nodes = [helper.make_node("MatMul", ["input", "w1"], ["h"], name="mm1"),
             helper.make_node("MatMul", ["h", "w2"], ["output"], name="mm2")]
    g = helper.make_graph(nodes, "mms", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [5, 37])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [5, 11])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    path = os.path.join(d, "mms.onnx")
    onnx.save(m, path)
    files = []
    for i in range(16):
        files.append(os.path.join(d, "mm%02d.npy" % i))
        np.save(files[-1], rng.standard_normal((5, 37)).astype(np.float32))
    qop = os.path.join(d, "mms.qop.onnx")
    quantize_static(path, qop, Reader(files), quant_format=QuantFormat.QOperator, per_channel=False,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    ops = [n.op_type for n in onnx.load(qop).graph.node]
    t.check(ops.count("QLinearMatMul") == 2, "QOperator model: 2 QLinearMatMul (%s)" % ops)
    step = output_step(qop)
    mm = H.compile_model(qop, os.path.join(d, "qop_mm"), name="mm")
    e = H.build(mm)
    src = open(mm.c_path).read()
    t.check(src.count("nncc_gemm_i8(") == 2 and "nncc_qlinear_matmul(" not in src,
            "QOperator: every QLinearMatMul runs in nncc_gemm_i8")
    worst = 0.0
    for _ in range(8):
        x = rng.standard_normal((5, 37)).astype(np.float32)
        got, want = H.run(mm, e, [x])[0], H.run_ort(qop, [x])[0]
        worst = max(worst, float(np.max(np.abs(got - want))) / step)
    print("QOperator (QLinearMatMul): nncc vs ONNX Runtime, largest difference %.3g output steps" % worst)
    t.check(worst <= 1.0 + 1e-3, "QOperator MatMul: nncc vs ONNX Runtime %.3g output steps apart (> 1)" % worst)


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("int8_u8")
    path = os.path.join(d, "resblocks.onnx")
    R.build(path)
    rng = np.random.RandomState(23)
    calib = [rng.standard_normal((1, 4, 7, 9)).astype(np.float32) for _ in range(16)]
    files = []
    for i, x in enumerate(calib):
        files.append(os.path.join(d, "calib%02d.npy" % i))
        np.save(files[-1], x)
    xs = [rng.standard_normal((1, 4, 7, 9)).astype(np.float32) for _ in range(8)]
    sys.path.insert(0, H.SAMPLES)
    from make_digits_qdq import Reader
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    qdq = os.path.join(d, "resblocks.qdq_u8.onnx")
    quantize_static(path, qdq, Reader(files), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    step = output_step(qdq)
    t.check(step is not None, "the QDQ model's output comes from a DequantizeLinear")
    m = H.compile_model(qdq, os.path.join(d, "qdq_u8"), name="rb")
    e = H.build(m)
    src = open(m.c_path).read()
    t.check(src.count("nncc_conv2d_i8(") == 5 and "nncc_conv2d_f32(" not in src and "nncc_conv2d_gemm_f32(" not in src,
            "uint8 QDQ: every Conv runs in nncc_conv2d_i8")
    t.check(src.count("nncc_add_i8(") == 2, "uint8 QDQ: both Adds run as Int8Add")
    worst = 0.0
    for x in xs:
        got, want = H.run(m, e, [x])[0], H.run_ort(qdq, [x])[0]
        worst = max(worst, float(np.max(np.abs(got - want))) / step)
    print("uint8 QDQ: nncc vs ONNX Runtime, largest difference %.3g output steps" % worst)
    t.check(worst <= 1.0 + 1e-3, "uint8 QDQ: nncc vs ONNX Runtime %.3g output steps apart (> 1)" % worst)
    qoperator(t, d)
    qoperator_matmul(t, d)
    t.finish()


if __name__ == "__main__":
    main()
