"""test_int8_u8.py - uint8 activations: models quantised by ONNX Runtime's
quantize_static with activation_type=QUInt8 (its default), compiled by nncc.

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
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

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
    t.finish()


if __name__ == "__main__":
    main()
