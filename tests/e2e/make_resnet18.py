"""make_resnet18.py OUT.onnx [--seed N] - writes a ResNet-18 with the
structure of torchvision's resnet18 (opset 13, input 'input' [1,3,224,224],
output 'output' [1,1000]) built with onnx.helper, no torch: random seeded
weights, every BatchNormalization its own node (not folded, so nncc's
BatchNorm folding is exercised), residual Add, stride-2 stages with a 1x1
stride-2 Conv + BatchNorm downsample, MaxPool 3x3/2 pad 1,
GlobalAveragePool, Flatten, Gemm 512 -> 1000.

Weights use He-style scaling and BatchNorm statistics near the identity
(but never equal to it), so activations stay O(1) through the 18 layers and
a relative comparison of the logits is meaningful. Same seed, same bytes.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(seed=0):
    rng = np.random.RandomState(seed)
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def conv_bn(x, name, cin, cout, k, stride, relu):
        pad = k // 2
        w = rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        init(name + ".conv.weight", w)
        nodes.append(helper.make_node("Conv", [x, name + ".conv.weight"], [name + ".conv_out"],
                                      name=name + "/Conv", kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[pad] * 4,
                                      dilations=[1, 1], group=1))
        init(name + ".bn.weight", rng.uniform(0.5, 1.5, cout))
        init(name + ".bn.bias", rng.uniform(-0.2, 0.2, cout))
        init(name + ".bn.running_mean", rng.uniform(-0.2, 0.2, cout))
        init(name + ".bn.running_var", rng.uniform(0.5, 2.0, cout))
        out = name + ".bn_out"
        nodes.append(helper.make_node("BatchNormalization",
                                      [name + ".conv_out", name + ".bn.weight", name + ".bn.bias",
                                       name + ".bn.running_mean", name + ".bn.running_var"],
                                      [out], name=name + "/BatchNormalization",
                                      epsilon=1e-5, momentum=0.9))
        if relu:
            nodes.append(helper.make_node("Relu", [out], [name + ".relu_out"], name=name + "/Relu"))
            out = name + ".relu_out"
        return out

    x = conv_bn("input", "conv1", 3, 64, 7, 2, True)
    nodes.append(helper.make_node("MaxPool", [x], ["maxpool_out"], name="maxpool/MaxPool",
                                  kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x = "maxpool_out"
    cin = 64
    for stage, cout in enumerate([64, 128, 256, 512], start=1):
        for blk in range(2):
            stride = 2 if (stage > 1 and blk == 0) else 1
            name = "layer%d.%d" % (stage, blk)
            y = conv_bn(x, name + ".1", cin, cout, 3, stride, True)
            y = conv_bn(y, name + ".2", cout, cout, 3, 1, False)
            if stride != 1 or cin != cout:
                short = conv_bn(x, name + ".downsample", cin, cout, 1, stride, False)
            else:
                short = x
            nodes.append(helper.make_node("Add", [y, short], [name + ".add_out"], name=name + "/Add"))
            nodes.append(helper.make_node("Relu", [name + ".add_out"], [name + ".out"],
                                          name=name + "/Relu"))
            x = name + ".out"
            cin = cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap_out"], name="avgpool/GlobalAveragePool"))
    nodes.append(helper.make_node("Flatten", ["gap_out"], ["flat_out"], name="flatten/Flatten", axis=1))
    init("fc.weight", rng.standard_normal((1000, 512)) * np.sqrt(1.0 / 512))
    init("fc.bias", rng.uniform(-0.1, 0.1, 1000))
    nodes.append(helper.make_node("Gemm", ["flat_out", "fc.weight", "fc.bias"], ["output"],
                                  name="fc/Gemm", alpha=1.0, beta=1.0, transB=1))
    graph = helper.make_graph(
        nodes, "resnet18",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="nncc tests/e2e/make_resnet18.py")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    onnx.save(build(seed), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
