#!/usr/bin/python3
"""Trains a small CNN on scikit-learn's bundled digits data set (8x8 grey
images, 1797 of them, shipped with the package: no download) and exports it
to ONNX, for the int8 accuracy tests (tests/e2e/test_int8.py).

    /usr/bin/python3 samples/make_digits.py [OUTPUT_DIR]
    (Debian: apt-get install python3-torch python3-sklearn python3-onnx)

Model: image [N,1,8,8] -> Conv 3x3 1->8 pad 1 -> Relu -> Conv 3x3 8->16 pad 1
-> Relu -> MaxPool 2 -> Flatten [N,256] -> Linear 256->10 (logits).

Writes into OUTPUT_DIR (default: this script's folder):

    digits_cnn.onnx          the trained model, opset 13, dynamic batch
    digits_cnn.input.npy     4 test images and the logits PyTorch computes for
    digits_cnn.output.npy    them (the samples' reference pair)
    digits/x_test.npy        held-out test split, float32 [N,1,8,8], pixels / 16
    digits/y_test.npy        its labels, int64 [N]
    digits/calib/NNN.npy     100 training images, one float32 [1,1,8,8] per file:
                             the calibration set of `nncc --quantize int8`

Seeded (numpy, torch, split), so a rerun gives the same split; the weights
are the same on the same torch build. The test split is 25% of the data
(stratified, random_state 0).
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OPSET = 13


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.features(x)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    np.random.seed(0)
    torch.manual_seed(0)
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(0)
    for epoch in range(30):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    print("float test accuracy: %.4f on %d images" % (acc, len(yte)))
    path = os.path.join(out, "digits_cnn.onnx")
    torch.onnx.export(model, torch.from_numpy(xte[:1]), path, input_names=["input"],
                      output_names=["logits"], opset_version=OPSET,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    # the samples' reference pair (samples/check_samples.py): 4 test images, torch's logits
    with torch.no_grad():
        ref = model(torch.from_numpy(xte[:4])).numpy()
    np.save(os.path.join(out, "digits_cnn.input.npy"), xte[:4])
    np.save(os.path.join(out, "digits_cnn.output.npy"), ref.astype(np.float32))
    dd = os.path.join(out, "digits")
    os.makedirs(os.path.join(dd, "calib"), exist_ok=True)
    np.save(os.path.join(dd, "x_test.npy"), xte)
    np.save(os.path.join(dd, "y_test.npy"), yte)
    for i in range(100):
        np.save(os.path.join(dd, "calib", "%03d.npy" % i), xtr[i:i + 1])


if __name__ == "__main__":
    main()
