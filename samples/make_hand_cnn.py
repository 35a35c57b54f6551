#!/usr/bin/env python3
"""Writes the weight files of samples/hand_cnn.nng, the hand-written sample
of nncc's text format (docs/graph-format.md).

hand_cnn.nng is a small convolutional classifier for 8x8 grey-scale digit
images (the size of the UCI / scikit-learn digits), written by hand:

    image [N,1,8,8] -> Conv 3x3, 8 channels, pad 1 -> Relu -> MaxPool 2x2
      -> Flatten [N,128] -> Gemm 128->32 -> Relu -> Gemm 32->10 -> Softmax

Its weights are seeded random numbers, not trained ones: the sample shows
the format (weights inline, in a raw file and in a .npy file) and is checked
against numpy by tests/e2e/test_text_sample.py; it recognises no digit.

    python3 samples/make_hand_cnn.py [OUTPUT_DIR]     (needs numpy)

writes into OUTPUT_DIR (default: this script's folder):

    hand_cnn.bin      raw little-endian float32: conv1.w (8x1x3x3) at offset 0,
                        fc1.b (32) at offset 288, fc2.w (10x32) at offset 416
    hand_cnn.fc1.npy  fc1.w (32x128), float32

The two small biases, conv1.b and fc2.b, are written inline in
hand_cnn.nng; weights() returns them too (the same values), so the test
computes the network from this one definition.
"""
import os
import sys

import numpy as np

# written by hand into hand_cnn.nng, and kept equal to it
CONV1_B = [0.1, -0.05, 0.0, 0.2, -0.1, 0.05, 0.15, -0.2]
FC2_B = [0.01, -0.02, 0.03, -0.04, 0.05, -0.06, 0.07, -0.08, 0.09, -0.1]

# where each tensor lies in hand_cnn.bin (bytes), as hand_cnn.nng says
BIN_LAYOUT = [("conv1.w", 0), ("fc1.b", 288), ("fc2.w", 416)]


def weights():
    """Every weight of hand_cnn.nng as a float32 array, by its name there."""
    rng = np.random.RandomState(20261127)
    w = {
        "conv1.w": rng.standard_normal((8, 1, 3, 3)) * 0.5,
        "conv1.b": np.array(CONV1_B),
        "fc1.w": rng.standard_normal((32, 128)) * (1.0 / np.sqrt(128)),
        "fc1.b": rng.standard_normal(32) * 0.1,
        "fc2.w": rng.standard_normal((10, 32)) * (1.0 / np.sqrt(32)),
        "fc2.b": np.array(FC2_B),
    }
    return {k: v.astype(np.float32) for k, v in w.items()}


def bin_bytes(w):
    """The contents of hand_cnn.bin."""
    out = b""
    for name, offset in BIN_LAYOUT:
        assert len(out) == offset, (name, len(out), offset)
        out += w[name].astype("<f4").tobytes()
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    w = weights()
    with open(os.path.join(outdir, "hand_cnn.bin"), "wb") as f:
        f.write(bin_bytes(w))
    np.save(os.path.join(outdir, "hand_cnn.fc1.npy"), w["fc1.w"])


if __name__ == "__main__":
    main()
