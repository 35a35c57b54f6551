#!/usr/bin/env python3
"""Check that ONNX Runtime reproduces the reference outputs of the samples.

For every NAME.onnx in DIR (default: this folder) and every pair
NAME.input*.npy / NAME.output*.npy next to it, run the model in ONNX Runtime
and compare with the output PyTorch wrote (make_samples.py).

    python3 samples/check_samples.py [DIR] [--tol 1e-4]

Needs numpy, onnx and onnxruntime (not Debian's torch); exits 1 on a mismatch.
"""

import argparse
import collections
import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", nargs="?", default=here)
    parser.add_argument("--tol", type=float, default=1e-4,
                        help="largest allowed absolute difference")
    args = parser.parse_args()

    failed = False
    for path in sorted(glob.glob(os.path.join(args.dir, "*.onnx"))):
        name = os.path.basename(path)[:-len(".onnx")]
        model = onnx.load(path)
        onnx.checker.check_model(model)
        ops = collections.Counter(n.op_type for n in model.graph.node)
        opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
        print(f"{name}: opset {opset[0]}, " +
              ", ".join(f"{op} x{n}" for op, n in sorted(ops.items())))

        # Plain CPU session, all graph optimisations off: we test the file.
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(path, options,
                                       providers=["CPUExecutionProvider"])
        inputs = sorted(glob.glob(os.path.join(args.dir, f"{name}.input*.npy")))
        if not inputs:
            print("  no reference input")
            failed = True
        for input_path in inputs:
            suffix = os.path.basename(input_path)[len(name) + len(".input"):]
            x = np.load(input_path)
            expected = np.load(os.path.join(args.dir, f"{name}.output{suffix}"))
            (got,) = session.run(None, {"input": x})
            diff = float(np.max(np.abs(got - expected)))
            ok = got.shape == expected.shape and diff <= args.tol
            failed |= not ok
            print(f"  {os.path.basename(input_path)}: shape {list(got.shape)}, "
                  f"max |diff| {diff:.3g}, max |ref| {np.max(np.abs(expected)):.3g}"
                  f" -> {'ok' if ok else 'MISMATCH'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
