"""test_resize_topk.py - Resize, TopK and Tile as exporters write them:
scales, sizes, K and repeats are constants (the ONNX node tests pass them as graph inputs,
which nncc refuses, so these ops get their checks here). Each model is
compiled by nncc, built with gcc -Werror, and compared with ONNX Runtime.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# float32 interpolation: a few ulps of the output range (weights are computed
# in float32 in both; summation order differs)
TOL = 1e-5


def resize_model(path, shape, mode, ctm, scales=None, sizes=None, nearest_mode="round_prefer_floor"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.zeros(0, np.float32), "roi")]
    ins = ["x", "roi"]
    if scales is not None:
        inits.append(numpy_helper.from_array(np.array(scales, np.float32), "scales"))
        ins.append("scales")
    else:
        inits.append(numpy_helper.from_array(np.zeros(0, np.float32), "scales"))
        inits.append(numpy_helper.from_array(np.array(sizes, np.int64), "sizes"))
        ins += ["scales", "sizes"]
    attrs = dict(mode=mode, coordinate_transformation_mode=ctm)
    if mode == "nearest":
        attrs["nearest_mode"] = nearest_mode
    n = helper.make_node("Resize", ins, ["y"], name="resize", **attrs)
    g = helper.make_graph([n], "resize", [x], [y], initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def topk_model(path, shape, k, axis, largest):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    outs = [helper.make_tensor_value_info("values", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("indices", TensorProto.INT64, None)]
    kt = numpy_helper.from_array(np.array([k], np.int64), "k")
    n = helper.make_node("TopK", ["x", "k"], ["values", "indices"], name="topk", axis=axis, largest=largest)
    g = helper.make_graph([n], "topk", [x], outs, initializer=[kt])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def tile_model(path, shape, repeats):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    r = numpy_helper.from_array(np.array(repeats, np.int64), "repeats")
    n = helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile")
    g = helper.make_graph([n], "tile", [x], [y], initializer=[r])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


CASES = [
    ("nearest_up2_asym", lambda p: resize_model(p, [1, 2, 4, 5], "nearest", "asymmetric", scales=[1, 1, 2, 2],
                                               nearest_mode="floor")),
    ("nearest_sizes_half_pixel", lambda p: resize_model(p, [1, 3, 5, 7], "nearest", "half_pixel",
                                                       sizes=[1, 3, 9, 4])),
    ("linear_up2_half_pixel", lambda p: resize_model(p, [1, 2, 4, 5], "linear", "half_pixel", scales=[1, 1, 2, 2])),
    ("linear_align_corners", lambda p: resize_model(p, [1, 2, 4, 5], "linear", "align_corners",
                                                   sizes=[1, 2, 7, 3])),
    ("linear_pytorch_half_pixel_down", lambda p: resize_model(p, [2, 3, 8, 6], "linear", "pytorch_half_pixel",
                                                             scales=[1, 1, 0.5, 0.5])),
    ("topk_last_axis_largest", lambda p: topk_model(p, [3, 10], 4, -1, 1)),
    ("topk_axis0_smallest", lambda p: topk_model(p, [7, 5], 3, 0, 0)),
    ("tile_3d", lambda p: tile_model(p, [2, 3, 4], [3, 1, 2])),
]


def main():
    H.have_nncc_env()
    t = H.Tally()
    rng = np.random.default_rng(11)
    for name, make in CASES:
        d = H.tmp_dir("resize_topk", name)
        path = os.path.join(d, name + ".onnx")
        make(path)
        shape = [dd.dim_value for dd in onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
        x = rng.standard_normal(shape).astype(np.float32)
        ref = H.run_ort(path, [x])
        try:
            m = H.compile_model(path, os.path.join(d, "out"), name="model")
            got = H.run(m, H.build(m, cc="gcc"), [x])
        except H.HarnessError as e:
            t.check(False, "%s: %s" % (name, e))
            continue
        for i, (a, b) in enumerate(zip(got, ref)):
            if b.dtype.kind in "iu":
                t.check(a.shape == b.shape and np.array_equal(a, b), "%s output %d: indices differ" % (name, i))
            else:
                err = H.rel_err(a, b)
                print("%s output %d: max error %.2e" % (name, i, err))
                t.check(err <= TOL, "%s output %d: error %.3g > %g" % (name, i, err, TOL))
    t.finish()


if __name__ == "__main__":
    main()
