"""memplan_table.py NNCC [OUTDIR] - the README's arena table: for ResNet-18,
MobileNetV2 and SqueezeNet 1.1 (the structure of torchvision's models, built
with onnx.helper, random weights, batch 1; no torch needed), GoogLeNet's
inception (3a) and DenseNet-121's first dense block on their own, and the samples,
prints nncc's arena, the lower bound (largest total live at one step) for
the model's own order and for the order nncc chose, the naive sum of all
intermediates and kernel scratch (no reuse), whether the plan is proven optimal, and how many Concat
inputs were written straight into their slice of the output (with the arena
the other choice, every Concat copying, would need), at -O2 and -O0.
Not a test: it asserts nothing.
"""
import os
import re
import subprocess
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import make_resnet18  # noqa: E402
from model_zoo import Builder, mobilenet_v2, squeezenet1_1  # noqa: E402


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
