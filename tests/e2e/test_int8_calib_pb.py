"""test_int8_calib_pb.py - calibration inputs as ONNX TensorProto .pb files.

1. The digits model's 100 calibration images (samples/digits/calib, .npy)
   written as one TensorProto .pb per image (float32 raw_data for even
   images, float_data for odd ones, one as float64) calibrate to the same
   generated model.c, byte for byte, as the .npy files.
2. --report names every layer taken to int8 with its input/output scales
   and zero points, its weight scales and its weight bytes before and
   after (fewer after), and the total.
3. A damaged .pb, one of another element type and one whose size does not
   fit the model's input each fail with exit status 1 and a message naming
   the file.
"""
import os
import re
import shutil
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CALIB = os.path.join(H.SAMPLES, "digits", "calib")
MODEL = os.path.join(H.SAMPLES, "digits_cnn.onnx")


def write_pb(path, arr, typed=False):
    if typed:  # float_data / double_data instead of raw_data
        dt = TensorProto.DOUBLE if arr.dtype == np.float64 else TensorProto.FLOAT
        t = helper.make_tensor("input", dt, arr.shape, arr.reshape(-1).tolist())
    else:
        t = numpy_helper.from_array(arr, "input")
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("int8_calib_pb")
    pb = os.path.join(d, "calib_pb")
    shutil.rmtree(pb, ignore_errors=True)
    os.makedirs(pb)
    names = sorted(f for f in os.listdir(CALIB) if f.endswith(".npy"))
    t.check(len(names) > 10, "calibration images found")
    for i, f in enumerate(names):
        x = np.load(os.path.join(CALIB, f))
        if i == 3:
            x = x.astype(np.float64)  # float32 values, exact in float64
        write_pb(os.path.join(pb, f[:-4] + ".pb"), x, typed=i % 2 == 1)
    outs = {}
    for kind, cdir in (("npy", CALIB), ("pb", pb)):
        out = os.path.join(d, kind)
        os.makedirs(out, exist_ok=True)
        p = H.nncc_cmd([MODEL, "-o", os.path.join(out, "m.c"), "--quantize", "int8", "--calibration", cdir])
        t.check(p.returncode == 0, "%s calibration: nncc failed: %s" % (kind, p.stderr))
        outs[kind] = open(os.path.join(out, "m.c")).read() if p.returncode == 0 else None
    t.check(outs["npy"] is not None and outs["npy"] == outs["pb"],
            ".pb calibration gives the same model.c as .npy calibration")
    t.check(outs["pb"] is not None and "nncc_conv2d_i8(" in outs["pb"], ".pb calibration: the convs run in int8")

    p = H.nncc_cmd([MODEL, "-o", os.path.join(d, "pb", "r.c"), "--quantize", "int8", "--calibration", pb, "--report"])
    layers = re.findall(r"int8: node '[^']+' \((Conv|Gemm) -> Int8\1\): x scale [0-9.e-]+ zp -?\d+, y scale [0-9.e-]+ "
                        r"zp -?\d+, w scales [0-9.e-]+\.\.[0-9.e-]+ \(\d+ channels\), weights (\d+) -> (\d+) bytes",
                        p.stdout + p.stderr)
    print("--report: %d int8 layers: %s" % (len(layers), layers))
    convs = sum(1 for n in outs["pb"].split("\n") if n.strip().startswith("nncc_conv2d_i8(")) if outs["pb"] else 0
    gemms = sum(1 for n in outs["pb"].split("\n") if n.strip().startswith("nncc_gemm_i8(")) if outs["pb"] else 0
    t.check(len(layers) == convs + gemms and len(layers) > 0, "--report: one line per int8 layer (%d, %d kernels)"
            % (len(layers), convs + gemms))
    t.check(all(int(b) < int(a) for _, a, b in layers), "--report: fewer weight bytes after than before")
    t.check(re.search(r"their weights \d+ -> \d+ bytes \([0-9.]+%", p.stdout + p.stderr) is not None,
            "--report: total weight bytes before and after")

    x0 = np.load(os.path.join(CALIB, names[0]))
    bad = {
        "damaged.pb": b"\x0a\xff\xff\xff\xff\x0f garbage",
        "int32.pb": numpy_helper.from_array(np.zeros(x0.shape, np.int32), "input").SerializeToString(),
        "short.pb": numpy_helper.from_array(x0.reshape(-1)[:-5].copy(), "input").SerializeToString(),
    }
    for name, data in bad.items():
        bd = os.path.join(d, "bad_" + name[:-3])
        shutil.rmtree(bd, ignore_errors=True)
        os.makedirs(bd)
        with open(os.path.join(bd, name), "wb") as f:
            f.write(data)
        p = H.nncc_cmd([MODEL, "-o", os.path.join(bd, "m.c"), "--quantize", "int8", "--calibration", bd])
        print("%s: exit %d: %s" % (name, p.returncode, p.stderr.strip()))
        t.check(p.returncode == 1, "%s: exit status %d, want 1" % (name, p.returncode))
        t.check(name in p.stderr and "--calibration" in p.stderr, "%s: the message names the file" % name)
        t.check("Assert" not in p.stderr and "Sanitizer" not in p.stderr, "%s: a clean error" % name)
    t.finish()


if __name__ == "__main__":
    main()
