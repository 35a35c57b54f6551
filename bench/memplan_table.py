"""memplan_table.py NNCC [OUTDIR] - the README's arena table: for ResNet-18,
MobileNetV2 and SqueezeNet 1.1 (the structure of torchvision's models, built
with onnx.helper, random weights, batch 1; no torch needed), GoogLeNet's
inception (3a) and DenseNet-121's first dense block on their own, and the samples,
prints nncc's arena, the lower bound (largest total live at one step) for
the model's own order and for the order nncc chose, the naive sum of all
intermediates, whether the plan is proven optimal, and how many Concat
inputs were written straight into their slice of the output (with the arena
the other choice, every Concat copying, would need), at -O2 and -O0.
Not a test: it asserts nothing.
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import make_resnet18  # noqa: E402


class Builder:
    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)
        self.nodes, self.inits, self.k = [], [], 0

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def name(self, base):
        self.k += 1
        return "%s_%d" % (base, self.k)

    def conv(self, x, cin, cout, k, stride=1, group=1, bn=True, act="relu"):
        n = self.name("conv")
        w = self.init(n + ".w", self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k)))
        b = self.init(n + ".b", self.rng.uniform(-0.1, 0.1, cout))
        y = n + "_out"
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], name=n, kernel_shape=[k, k], strides=[stride] * 2,
                                           pads=[k // 2] * 4, group=group))
        if bn:
            p = [self.init(n + s, v) for s, v in ((".g", self.rng.uniform(0.5, 1.5, cout)),
                                                  (".beta", self.rng.uniform(-0.2, 0.2, cout)),
                                                  (".m", self.rng.uniform(-0.2, 0.2, cout)),
                                                  (".v", self.rng.uniform(0.5, 2.0, cout)))]
            self.nodes.append(helper.make_node("BatchNormalization", [y] + p, [n + "_bn"], name=n + "/bn"))
            y = n + "_bn"
        if act == "relu":
            self.nodes.append(helper.make_node("Relu", [y], [n + "_relu"], name=n + "/relu"))
            y = n + "_relu"
        elif act == "relu6":
            lo, hi = self.init(n + ".lo", np.array(0.0)), self.init(n + ".hi", np.array(6.0))
            self.nodes.append(helper.make_node("Clip", [y, lo, hi], [n + "_relu6"], name=n + "/relu6"))
            y = n + "_relu6"
        return y

    def op(self, op, ins, **attrs):
        n = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [n + "_out"], name=n, **attrs))
        return n + "_out"

    def head(self, x, cin, classes=1000, gemm=True):
        x = self.op("GlobalAveragePool", [x])
        x = self.op("Flatten", [x], axis=1)
        if gemm:
            w = self.init("fc.w", self.rng.standard_normal((classes, cin)) * np.sqrt(1.0 / cin))
            b = self.init("fc.b", np.zeros(classes))
            x = self.op("Gemm", [x, w, b], transB=1)
        return x

    def save(self, x, name, path, shape=(1, 3, 224, 224)):
        self.nodes[-1].output[0] = "output"
        g = helper.make_graph(self.nodes, name,
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        onnx.save(m, path)


def mobilenet_v2(path):
    B = Builder(1)
    x = B.conv("input", 3, 32, 3, 2, act="relu6")
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            h = x
            hid = cin * t
            if t != 1:
                h = B.conv(h, cin, hid, 1, act="relu6")
            h = B.conv(h, hid, hid, 3, stride, group=hid, act="relu6")
            h = B.conv(h, hid, c, 1, act=None)
            x = B.op("Add", [x, h]) if stride == 1 and cin == c else h
            cin = c
    x = B.conv(x, cin, 1280, 1, act="relu6")
    B.save(B.head(x, 1280), "mobilenet_v2", path)


def squeezenet1_1(path):
    B = Builder(2)
    x = B.conv("input", 3, 64, 3, 2, bn=False)
    cin = 64

    def fire(x, cin, s, e):
        sq = B.conv(x, cin, s, 1, bn=False)
        a = B.conv(sq, s, e, 1, bn=False)
        b = B.conv(sq, s, e, 3, bn=False)
        return B.op("Concat", [a, b], axis=1), 2 * e
    for stage in ([(16, 64), (16, 64)], [(32, 128), (32, 128)], [(48, 192), (48, 192), (64, 256), (64, 256)]):
        x = B.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
        for s, e in stage:
            x, cin = fire(x, cin, s, e)
    x = B.conv(x, cin, 1000, 1, bn=False)
    B.save(B.head(x, 1000, gemm=False), "squeezenet1_1", path)


def inception_3a(path):
    """GoogLeNet's inception (3a) block alone: 192x28x28 in, branches 1x1 64,
    1x1 96 -> 3x3 128, 1x1 16 -> 5x5 32, 3x3 max pool -> 1x1 32, Concat 256."""
    B = Builder(3)
    b1 = B.conv("input", 192, 64, 1, bn=False)
    b2 = B.conv(B.conv("input", 192, 96, 1, bn=False), 96, 128, 3, bn=False)
    b3 = B.conv(B.conv("input", 192, 16, 1, bn=False), 16, 32, 5, bn=False)
    b4 = B.conv(B.op("MaxPool", ["input"], kernel_shape=[3, 3], pads=[1] * 4), 192, 32, 1, bn=False)
    y = B.op("Concat", [b1, b2, b3, b4], axis=1)
    B.save(B.op("Relu", [y]), "inception_3a", path, (1, 192, 28, 28))


def dense_block(path):
    """DenseNet-121's first dense block alone: 64x56x56 in, six layers of
    1x1 128 -> 3x3 32 (ReLU, BatchNorm folded away), each Concat'ed on."""
    B = Builder(4)
    y, c = B.conv("input", 64, 64, 1, bn=False), 64
    for _ in range(6):
        h = B.conv(B.conv(y, c, 128, 1, bn=False), 128, 32, 3, bn=False)
        y, c = B.op("Concat", [y, h], axis=1), c + 32
    B.save(B.op("Relu", [y]), "dense_block", path, (1, 64, 56, 56))


def plan(nncc, path, opt):
    p = subprocess.run([nncc, path, opt, "--report"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode:
        raise SystemExit(p.stderr)
    m = re.search(r"^memplan: arena (\d+) bytes, lower bound (\d+) .*?, (proven optimal|not proven optimal) "
                  r"\(([^)]*)\).*naive sum (\d+)", p.stderr, re.M)
    s = re.search(r"^schedule: (kept|reordered).*?(?:lower bound (\d+)\)|lower bound of the model's order (\d+)\))",
                  p.stderr, re.M)
    arena, bound, proven, how, naive = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4), int(m.group(5))
    model_bound = int(s.group(2) or s.group(3)) if s else bound
    c = re.search(r"(\d+) Concat inputs written into their slice(?: \((all Concats copying|kept the copies; with "
                  r"slices): arena (\d+)\))?", p.stderr)
    concat = "-"
    if c and c.group(2):
        concat = "%s (%s %s)" % (c.group(1), "copying:" if c.group(2).startswith("all") else "kept copies; slices:",
                                 c.group(3))
    return arena, bound, model_bound, naive, proven, how, bool(s and s.group(1) == "reordered"), concat


def main():
    nncc = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/nncc-memplan-table"
    os.makedirs(out, exist_ok=True)
    models = []
    for name, fn in (("ResNet-18", lambda p: onnx.save(make_resnet18.build(0), p)),
                     ("MobileNetV2", mobilenet_v2), ("SqueezeNet 1.1", squeezenet1_1),
                     ("Inception (3a) block", inception_3a), ("DenseNet-121 block 1", dense_block)):
        p = os.path.join(out, re.sub(r"\W", "_", name) + ".onnx")
        fn(p)
        models.append((name, p))
    samples = os.path.join(HERE, "..", "samples")
    for s in ("feature_extractor", "feature_extractor_unfused", "weightnorm_mlp", "adaptive_dropout"):
        models.append((s, os.path.join(samples, s + ".onnx")))
    print("| model | opt | arena (bytes) | lower bound, chosen order | ratio | lower bound, model's order "
          "| naive sum | proven optimal | Concat inputs in place (arena the other way) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, p in models:
        for opt in ("-O2", "-O0"):
            a, b, mb, naive, proven, how, re_, concat = plan(nncc, p, opt)
            print("| %s | %s | %d | %d | %.3f | %d%s | %d | %s (%s) | %s |" % (
                name, opt, a, b, a / b if b else 1.0, mb, " (reordered)" if re_ else "", naive,
                "yes" if proven == "proven optimal" else "no", how, concat))


if __name__ == "__main__":
    main()
