"""model_zoo.py - the structure of torchvision's MobileNetV2 and SqueezeNet 1.1,
built with onnx.helper (no torch): random seeded weights, batch 1, input
'input' [1,3,224,224] float32, output 'output', opset 13. Every BatchNorm is
its own node (not folded), MobileNetV2's Relu6 is Clip(0, 6). Used by
bench/memplan_table.py, bench/vs_ort.py and tests/e2e/test_bench_models.py;
ResNet-18 is make_resnet18.py. Same seed, same bytes.

    import model_zoo
    model_zoo.mobilenet_v2("/tmp/mobilenet_v2.onnx")
    model_zoo.squeezenet1_1("/tmp/squeezenet1_1.onnx")
    model_zoo.resnet18("/tmp/resnet18.onnx")
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import make_resnet18


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


def resnet18(path):
    onnx.save(make_resnet18.build(0), path)


# name -> writer(path): the bench's generated models
MODELS = {"resnet18": resnet18, "mobilenet_v2": mobilenet_v2, "squeezenet1_1": squeezenet1_1}
