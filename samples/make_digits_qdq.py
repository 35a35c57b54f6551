#!/usr/bin/env python3
"""Quantises samples/digits_cnn.onnx with ONNX Runtime's quantize_static into
the QDQ format (QuantizeLinear/DequantizeLinear pairs around float ops):
int8 activations (per tensor, asymmetric), int8 weights per output channel
(symmetric), MinMax calibration on samples/digits/calib/*.npy (100 training
images). nncc compiles the result to its int8 kernels (tests/e2e/test_int8.py).

    python samples/make_digits_qdq.py [OUT.onnx]     (needs numpy, onnx, onnxruntime)

Default output: samples/digits_cnn.qdq.onnx (not committed: tests make it).
"""
import glob
import os
import sys

import numpy as np
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))


class Reader(CalibrationDataReader):
    def __init__(self, files):
        self.it = iter([{"input": np.load(f).astype(np.float32)} for f in files])

    def get_next(self):
        return next(self.it, None)


def make(src, dst, calib_dir):
    files = sorted(glob.glob(os.path.join(calib_dir, "*.npy")))
    quantize_static(src, dst, Reader(files), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return dst


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "digits_cnn.qdq.onnx")
    make(os.path.join(HERE, "digits_cnn.onnx"), out, os.path.join(HERE, "digits", "calib"))
    print("wrote", out)
