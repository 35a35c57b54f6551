"""memplan_table.py NNCC [OUTDIR] - the README's arena table: for ResNet-18,
MobileNetV2 and SqueezeNet 1.1 (the structure of torchvision's models, built
with onnx.helper, random weights, batch 1; no torch needed) and the samples,
prints nncc's arena, the lower bound (largest total live at one step) for
the model's own order and for the order nncc chose, the naive sum of all
intermediates, and whether the plan is proven optimal, at -O2 and -O0.
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
from model_zoo import mobilenet_v2, squeezenet1_1  # noqa: E402


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
    return arena, bound, model_bound, naive, proven, how, bool(s and s.group(1) == "reordered")


def main():
    nncc = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/nncc-memplan-table"
    os.makedirs(out, exist_ok=True)
    models = []
    for name, fn in (("ResNet-18", lambda p: onnx.save(make_resnet18.build(0), p)),
                     ("MobileNetV2", mobilenet_v2), ("SqueezeNet 1.1", squeezenet1_1)):
        p = os.path.join(out, re.sub(r"\W", "_", name) + ".onnx")
        fn(p)
        models.append((name, p))
    samples = os.path.join(HERE, "..", "samples")
    for s in ("feature_extractor", "feature_extractor_unfused", "weightnorm_mlp", "adaptive_dropout"):
        models.append((s, os.path.join(samples, s + ".onnx")))
    print("| model | opt | arena (bytes) | lower bound, chosen order | ratio | lower bound, model's order "
          "| naive sum | proven optimal |")
    print("|---|---|---|---|---|---|---|---|")
    for name, p in models:
        for opt in ("-O2", "-O0"):
            a, b, mb, naive, proven, how, re_ = plan(nncc, p, opt)
            print("| %s | %s | %d | %d | %.3f | %d%s | %d | %s (%s) |" % (
                name, opt, a, b, a / b if b else 1.0, mb, " (reordered)" if re_ else "", naive,
                "yes" if proven == "proven optimal" else "no", how))


if __name__ == "__main__":
    main()
