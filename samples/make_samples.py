#!/usr/bin/python3
"""Generate the sample ONNX models (and reference inputs/outputs) used by nncc.

What it writes
--------------
Into OUTPUT_DIR (default: the folder holding this script):

  feature_extractor.onnx          Conv-BN-ReLU x2 + MaxPool + Linear, dynamic batch
                                  (BatchNorm folded into Conv by the exporter)
  feature_extractor_unfused.onnx  the same model and weights, batch 1, with Conv,
                                  BatchNormalization and Relu as separate nodes
  weightnorm_mlp.onnx             MLP of weight-normalised linear layers; the
                                  normalisation (ReduceL2/Clip/Expand/Div/Mul)
                                  stays in the graph; dynamic batch
  adaptive_dropout.onnx           Linear -> Dropout (inference) -> ReLU -> Linear

and, with --resnet18, also resnet18.onnx (about 45 MB, not committed).

Next to every model NAME.onnx it writes NAME.input.npy and NAME.output.npy
(float32, numpy.save): an input drawn from a seeded normal distribution and
the output PyTorch computes for it.  feature_extractor also gets a batch-4
pair, feature_extractor.input4.npy / feature_extractor.output4.npy.

Everything is seeded, so running the script again gives the same weights,
inputs and outputs.  Every model gets random (non-identity) BatchNorm weight,
bias, running_mean and running_var, so a compiler that ignores or mis-folds
BatchNorm gives visibly wrong results.

How to run
----------
It targets Debian's PyTorch 1.13 (apt-get install python3-torch python3-numpy
python3-onnx):

    /usr/bin/python3 samples/make_samples.py [OUTPUT_DIR] [--resnet18]

and samples/check_samples.py (run with any Python that has onnxruntime) checks
that ONNX Runtime reproduces each NAME.output.npy from NAME.input.npy.

Facts about torch 1.13's ONNX exporter that this script works around
---------------------------------------------------------------------
* Conv2d(padding='same') cannot be exported (the exporter needs explicit
  padding), so the 3x3 convolutions use padding=1, which is the same thing.
* In eval mode (training=TrainingMode.EVAL, the default) the exporter folds
  every BatchNorm that follows a Conv into the Conv's weights and bias
  (_jit_pass_onnx_eval_peephole), whatever do_constant_folding says.  To keep
  BatchNormalization nodes we export the eval()-mode model with
  training=TrainingMode.PRESERVE (which skips that pass) and
  do_constant_folding=False.  Because the model is in eval() the exporter
  then emits the inference form of BatchNormalization (one output, running
  statistics); the script checks that and fails if it ever is not so.
* In eval mode the exporter drops dropout completely: its symbolic for
  aten::dropout returns the input unchanged, so the graph gets neither a
  Dropout nor an Identity node.  To put a Dropout node in adaptive_dropout.onnx
  we register, for that one export, a symbolic that turns aten::dropout into
  an inference-mode ONNX Dropout (data and ratio inputs, no training_mode
  input, which means training_mode=false: the node is the identity).
"""

import argparse
import collections
import contextlib
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.onnx import symbolic_helper

OPSET = 13
SEED = 0


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

class StandardConvBlock(nn.Module):
    """Conv2d 3x3 (no bias) -> BatchNorm2d -> ReLU, spatial size preserved."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        # padding=1 rather than padding='same': torch 1.13 cannot export 'same'.
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3,
                              padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class FeatureExtractor(nn.Module):
    """1x3x32x32 image -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            StandardConvBlock(3, 32),
            nn.MaxPool2d(2),            # 32x32 -> 16x16
            StandardConvBlock(32, 64),
            nn.MaxPool2d(2),            # 16x16 -> 8x8
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


class WeightNormLinear(nn.Module):
    """Linear layer whose weight rows are L2-normalised and rescaled:
    y = x @ (scale * normalize(weight, dim=1)).T + bias."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(0.1 * torch.randn(out_features))
        # One learnable, positive gain per output row.
        self.scale = nn.Parameter(torch.empty(out_features, 1).uniform_(0.5, 1.5))

    def forward(self, x):
        return F.linear(x, self.scale * F.normalize(self.weight, p=2, dim=1),
                        self.bias)


class WeightNormMLP(nn.Module):
    """1x784 -> 10."""

    def __init__(self):
        super().__init__()
        self.fc1 = WeightNormLinear(784, 256)
        self.relu = nn.ReLU()
        self.fc2 = WeightNormLinear(256, 10)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


class AdaptiveDropout(nn.Module):
    """Dropout whose rate p = sigmoid(logit) is a learnable parameter.

    Training: x * bernoulli_mask / (1 - p), written out by hand so that the
    logit receives a gradient through the 1/(1-p) factor.
    Eval: the identity, written as F.dropout(..., training=False) so that the
    traced graph holds an aten::dropout node for the exporter to see."""

    def __init__(self, initial_p=0.25):
        super().__init__()
        self.logit = nn.Parameter(torch.logit(torch.tensor(initial_p)))

    def forward(self, x):
        p = torch.sigmoid(self.logit)
        if self.training:
            keep = torch.bernoulli(torch.ones_like(x) * (1 - p.detach()))
            return x * keep / (1 - p)
        return F.dropout(x, float(p), self.training)


class AdaptiveDropoutNet(nn.Module):
    """1x16 -> 4."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.dropout = AdaptiveDropout()
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(self.relu(self.dropout(self.fc1(x))))


# ResNet-18, written out here because Debian bookworm's python3-torchvision
# is not installed alongside python3-torch.  Architecture and parameter names
# match torchvision.models.resnet18(), so its state_dict would load as is.

class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride,
                               padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """1x3x224x224 image -> 1000 logits."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, 64, stride=1)
        self.layer2 = self._make_layer(64, 128, stride=2)
        self.layer3 = self._make_layer(128, 256, stride=2)
        self.layer4 = self._make_layer(256, 512, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        # torchvision's initialisation for the convolutions.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                        nonlinearity="relu")

    @staticmethod
    def _make_layer(in_channels, out_channels, stride):
        return nn.Sequential(BasicBlock(in_channels, out_channels, stride),
                             BasicBlock(out_channels, out_channels))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def randomize_batchnorm(model):
    """Give every BatchNorm random affine parameters and running statistics
    (uses torch's global RNG, which the caller has seeded)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)   # must stay positive


def build(model_class):
    """Construct a model from a fixed seed, so each model's weights do not
    depend on which other models were built before it."""
    torch.manual_seed(SEED)
    model = model_class()
    randomize_batchnorm(model)
    return model.eval()


def seeded_input(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32)


def run_torch(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy().astype(np.float32)


def save_pair(out_dir, name, x, y, suffix=""):
    np.save(os.path.join(out_dir, f"{name}.input{suffix}.npy"), x)
    np.save(os.path.join(out_dir, f"{name}.output{suffix}.npy"), y)


DYNAMIC_BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def export(model, x, path, **kwargs):
    """torch.onnx.export with this project's fixed settings."""
    torch.onnx.export(model, torch.from_numpy(x), path,
                      input_names=["input"], output_names=["output"],
                      opset_version=OPSET, **kwargs)
    onnx.checker.check_model(onnx.load(path))


def require(condition, message):
    """Like assert, but not skipped under python -O."""
    if not condition:
        raise RuntimeError(message)


def op_counts(path):
    graph = onnx.load(path).graph
    return collections.Counter(node.op_type for node in graph.node)


@contextlib.contextmanager
def inference_dropout_symbolic():
    """While active, export aten::dropout as an inference-mode ONNX Dropout
    node instead of dropping it (torch 1.13's behaviour in eval mode)."""

    @symbolic_helper.parse_args("v", "f", "b")
    def dropout(g, x, p, train):
        ratio = g.op("Constant", value_t=torch.tensor(p, dtype=torch.float32))
        # No training_mode input: ONNX defaults it to false (identity).
        return g.op("Dropout", x, ratio)

    torch.onnx.register_custom_op_symbolic("aten::dropout", dropout, OPSET)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::dropout", OPSET)


# ---------------------------------------------------------------------------
# The samples
# ---------------------------------------------------------------------------

def make_feature_extractor(out_dir):
    model = build(FeatureExtractor)

    # 1. Default export: BN is folded into the Conv; dynamic batch.
    x1 = seeded_input((1, 3, 32, 32), seed=1)
    x4 = seeded_input((4, 3, 32, 32), seed=4)
    y1, y4 = run_torch(model, x1), run_torch(model, x4)
    export(model, x1, os.path.join(out_dir, "feature_extractor.onnx"),
           dynamic_axes=DYNAMIC_BATCH)
    save_pair(out_dir, "feature_extractor", x1, y1)
    save_pair(out_dir, "feature_extractor", x4, y4, suffix="4")

    # 2. Unfused export: same weights, batch 1, Conv/BatchNormalization/Relu
    #    kept apart (see the module docstring for why both flags are needed).
    path = os.path.join(out_dir, "feature_extractor_unfused.onnx")
    export(model, x1, path, do_constant_folding=False,
           training=torch.onnx.TrainingMode.PRESERVE)
    require(not model.training, "PRESERVE must not switch the model to training")
    bn_nodes = [n for n in onnx.load(path).graph.node
                if n.op_type == "BatchNormalization"]
    require(len(bn_nodes) == 2, f"expected 2 BatchNormalization, got {len(bn_nodes)}")
    for n in bn_nodes:
        # Inference form: one output; training_mode absent or 0.
        require(len(n.output) == 1, f"{n.name} has outputs {list(n.output)}")
        require(all(a.i == 0 for a in n.attribute if a.name == "training_mode"),
                f"{n.name} is in training mode")
    save_pair(out_dir, "feature_extractor_unfused", x1, y1)


def make_weightnorm_mlp(out_dir):
    model = build(WeightNormMLP)
    x = seeded_input((1, 784), seed=2)
    # No constant folding, so the weight normalisation stays in the graph.
    with warnings.catch_warnings():
        # F.normalize's clamp_min(eps) becomes Clip(x, eps, <no max>); the
        # absent max is a None prim::Constant that torch 1.13's shape
        # inference warns about.  Harmless: the graph is checked below.
        warnings.filterwarnings("ignore", category=UserWarning,
                                message="The shape inference of prim::Constant")
        export(model, x, os.path.join(out_dir, "weightnorm_mlp.onnx"),
               dynamic_axes=DYNAMIC_BATCH, do_constant_folding=False)
    save_pair(out_dir, "weightnorm_mlp", x, run_torch(model, x))


def make_adaptive_dropout(out_dir):
    model = build(AdaptiveDropoutNet)
    x = seeded_input((1, 16), seed=3)
    path = os.path.join(out_dir, "adaptive_dropout.onnx")
    with inference_dropout_symbolic(), warnings.catch_warnings():
        # float(p) in AdaptiveDropout.forward is traced as a constant, which
        # is what we want (the ratio does not matter in inference).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        export(model, x, path)
    # Without inference_dropout_symbolic there would be no node at all here.
    require(op_counts(path)["Dropout"] == 1, "expected one Dropout node")
    save_pair(out_dir, "adaptive_dropout", x, run_torch(model, x))


def make_resnet18(out_dir):
    model = build(ResNet18)
    x = seeded_input((1, 3, 224, 224), seed=5)
    export(model, x, os.path.join(out_dir, "resnet18.onnx"))
    save_pair(out_dir, "resnet18", x, run_torch(model, x))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output_dir", nargs="?", default=here,
                        help="where to write the files (default: %(default)s)")
    parser.add_argument("--resnet18", action="store_true",
                        help="also write resnet18.onnx (about 45 MB)")
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)

    names = ["feature_extractor", "feature_extractor_unfused",
             "weightnorm_mlp", "adaptive_dropout"]
    make_feature_extractor(args.output_dir)
    make_weightnorm_mlp(args.output_dir)
    make_adaptive_dropout(args.output_dir)
    if args.resnet18:
        make_resnet18(args.output_dir)
        names.append("resnet18")

    for name in names:
        counts = op_counts(os.path.join(args.output_dir, name + ".onnx"))
        print(f"{name}.onnx: " +
              ", ".join(f"{op} x{n}" for op, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
