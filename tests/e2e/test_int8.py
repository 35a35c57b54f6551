"""test_int8.py - int8 quantisation on real data: samples/digits_cnn.onnx, a
small CNN trained on scikit-learn's digits (samples/make_digits.py), and its
held-out test split (samples/digits/, 450 images).

1. nncc --quantize int8 --calibration samples/digits/calib (100 training
   images): top-1 accuracy within 1 percentage point of the float model
   compiled by nncc, and the same argmax as the float model on >= 98% of
   the test images (the issue's acceptance numbers), for min/max and for
   percentile calibration.
2. The model quantised by ONNX Runtime's quantize_static (QDQ, made here by
   samples/make_digits_qdq.py from the same calibration images) compiled by
   nncc: accuracy within 1 point of ONNX Runtime running that QDQ model.
   (Not bit-exact with ONNX Runtime: its CPU kernels requantise in float,
   nncc in fixed point, so an output can differ by one step.)
3. --int8-io gives int8 input and output buffers, and --keep-float keeps a
   node in float.
Every generated file builds with -std=c99 -Wall -Wextra -pedantic -Werror.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

DIGITS = os.path.join(H.SAMPLES, "digits")
CALIB = os.path.join(DIGITS, "calib")


def accuracy(logits, y):
    return float(np.mean(np.argmax(logits, axis=1) == y))


def nncc_logits(onnx_path, d, x, extra=(), name="digits"):
    m = H.compile_model(onnx_path, d, name=name, extra=list(extra))
    exe = H.build(m)
    return H.run(m, exe, [x])[0], m


def main():
    H.have_nncc_env()
    t = H.Tally()
    x = np.load(os.path.join(DIGITS, "x_test.npy")).astype(np.float32)
    y = np.load(os.path.join(DIGITS, "y_test.npy"))
    fp = os.path.join(H.SAMPLES, "digits_cnn.onnx")

    f32, _ = nncc_logits(fp, H.tmp_dir("int8", "f32"), x)
    acc_f = accuracy(f32, y)
    rows = [("float32 (nncc)", acc_f, 1.0)]
    for method in ["minmax", "percentile"]:
        q, m = nncc_logits(fp, H.tmp_dir("int8", method), x,
                           ["--quantize", "int8", "--calibration", CALIB, "--calibration-method", method])
        acc_q = accuracy(q, y)
        agree = float(np.mean(np.argmax(q, 1) == np.argmax(f32, 1)))
        rows.append(("int8 nncc %s" % method, acc_q, agree))
        with open(m.c_path) as f:
            src = f.read()
        t.check("nncc_conv2d_i8(" in src and "nncc_gemm_i8(" in src and "nncc_conv2d_f32(" not in src,
                "%s: the convolutions and the gemm run in int8" % method)
        # 1 point on 450 images is 4.5 images: the bound
        t.check(abs(acc_q - acc_f) <= 0.01, "%s: int8 accuracy %.4f vs float %.4f (more than 1 point)"
                % (method, acc_q, acc_f))
        t.check(agree >= 0.98, "%s: int8 argmax agrees with float on %.4f < 0.98" % (method, agree))

    # ONNX Runtime's own QDQ model
    sys.path.insert(0, H.SAMPLES)
    import make_digits_qdq
    d = H.tmp_dir("int8", "qdq")
    qdq = make_digits_qdq.make(fp, os.path.join(d, "digits_qdq.onnx"), CALIB)
    ort = H.run_ort(qdq, [x])[0]
    acc_ort = accuracy(ort, y)
    nq, m = nncc_logits(qdq, os.path.join(d, "out"), x)
    acc_nq = accuracy(nq, y)
    with open(m.c_path) as f:
        src = f.read()
    t.check("nncc_conv2d_i8(" in src and "nncc_gemm_i8(" in src, "QDQ: compiled to the int8 kernels")
    t.check(abs(acc_nq - acc_ort) <= 0.01, "QDQ: nncc accuracy %.4f vs ONNX Runtime %.4f (more than 1 point)"
            % (acc_nq, acc_ort))
    agree_ort = float(np.mean(np.argmax(nq, 1) == np.argmax(ort, 1)))
    step = float(np.max(np.abs(nq - ort)))
    rows.append(("QDQ, ONNX Runtime", acc_ort, float(np.mean(np.argmax(ort, 1) == np.argmax(f32, 1)))))
    rows.append(("QDQ, nncc", acc_nq, float(np.mean(np.argmax(nq, 1) == np.argmax(f32, 1)))))
    print("QDQ: nncc vs ONNX Runtime: argmax agreement %.4f, max |logit difference| %.4g" % (agree_ort, step))

    # --int8-io: int8 buffers at the edges; the same logits after dequantising
    d = H.tmp_dir("int8", "io")
    m = H.compile_model(fp, d, name="digits", extra=["--quantize", "int8", "--calibration", CALIB, "--int8-io"])
    t.check(m.inputs[0].dtype == "int8" and m.outputs[0].dtype == "int8",
            "--int8-io: ports are %s and %s, not int8" % (m.inputs[0].dtype, m.outputs[0].dtype))
    # the input scale is 1/255, zero point -128 (pixels in [0, 1], as --report says)
    xq = np.clip(np.rint(x * 255.0) - 128, -128, 127).astype(np.int8)
    oq = H.run(m, H.build(m), [xq])[0]
    t.check(oq.shape == (len(x), 10) and oq.dtype == np.int8, "--int8-io: output %s %s" % (oq.shape, oq.dtype))
    acc_io = accuracy(oq.astype(np.float32), y)
    t.check(abs(acc_io - acc_f) <= 0.01, "--int8-io: accuracy %.4f vs float %.4f" % (acc_io, acc_f))
    rows.append(("int8 nncc --int8-io", acc_io, float(np.mean(np.argmax(oq, 1) == np.argmax(f32, 1)))))

    # --keep-float: the Gemm stays float
    d = H.tmp_dir("int8", "keep")
    kf, m = nncc_logits(fp, d, x, ["--quantize", "int8", "--calibration", CALIB, "--keep-float", "/fc/Gemm"])
    with open(m.c_path) as f:
        src = f.read()
    # float: nncc_sgemm_f32 (the packed kernel, constant weight) or nncc_gemm_f32
    t.check(("nncc_sgemm_f32(" in src or "nncc_gemm_f32(" in src) and "nncc_gemm_i8(" not in src,
            "--keep-float /fc/Gemm: the gemm stays float")
    t.check(abs(accuracy(kf, y) - acc_f) <= 0.01, "--keep-float: accuracy %.4f" % accuracy(kf, y))

    print("\n%-24s %9s %22s" % ("digits, 450 test images", "top-1", "argmax = float model"))
    for name, acc, agree in rows:
        print("%-24s %8.2f%% %21.2f%%" % (name, 100 * acc, 100 * agree))
    t.finish()


if __name__ == "__main__":
    main()
