"""test_names.py - models name things however they like: names that end a C
comment ('*/'), hold newlines, are C keywords, start with a digit, or collide
once made into C identifiers ('a.b' and 'a_b'). The generated code must still
compile warning-free with gcc and clang and compute the same as ONNX Runtime.
The header's element-count macros (PREFIX_NAME_SIZE) stay unique when upper
case merges names ('x' and 'X') or meets PREFIX_ARENA_SIZE (an output 'arena').
"""
import re
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# float32 elementwise work only: results are exact up to rounding of Add/Mul
TOL = 1e-6


def make_model(path):
    x = helper.make_tensor_value_info("in*/put\nx", TensorProto.FLOAT, [2, 3])
    k = helper.make_tensor_value_info("int", TensorProto.FLOAT, [2, 3])
    outs = [helper.make_tensor_value_info("return", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("1st out*/", TensorProto.FLOAT, [2, 3])]
    w = helper.make_tensor("a.b", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0])
    nodes = [
        helper.make_node("Relu", ["in*/put\nx"], ["a_b"], name="re*/lu"),
        helper.make_node("Add", ["a_b", "a.b"], ["a-b"]),            # unnamed node
        helper.make_node("Mul", ["a-b", "int"], ["return"], name="static"),
        helper.make_node("Sub", ["return", "a_b"], ["1st out*/"], name="1st\nnode"),
    ]
    g = helper.make_graph(nodes, "na*/mes", [x, k], outs, initializer=[w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def make_case_model(path):
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("x", "X", "arena", "y")]
    nodes = [helper.make_node("Add", ["x", "X"], ["arena"], name="add"),
             helper.make_node("Mul", ["x", "X"], ["y"], name="mul")]
    g = helper.make_graph(nodes, "cases", vi[:2], vi[2:])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def check_size_macros(t, d):
    path = os.path.join(d, "cases.onnx")
    make_case_model(path)
    m = H.compile_model(path, os.path.join(d, "cases"), name="model", opt="-O2")
    with open(m.h_path) as f:
        macros = re.findall(r"#define (MODEL_\w+_SIZE) (\d+)u /\* elements", f.read())
    names = [n for n, _ in macros]
    print("size macros:", " ".join("%s=%s" % nv for nv in macros))
    t.check(len(names) == 4 and len(set(names)) == 4 and "MODEL_ARENA_SIZE" not in names,
            "want 4 distinct size macros besides MODEL_ARENA_SIZE, got %s" % names)
    t.check(all(v == "6" for _, v in macros), "size macros are not 6 elements: %s" % macros)
    xs = [np.arange(6, dtype=np.float32).reshape(2, 3), np.full((2, 3), 0.5, np.float32)]
    got = H.run(m, H.build(m, cc="gcc"), xs)
    for a, b in zip(got, H.run_ort(path, xs)):
        t.check(H.rel_err(a, b) <= TOL, "cases model: output differs from ONNX Runtime")


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("names")
    path = os.path.join(d, "names.onnx")
    make_model(path)
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    ref = H.run_ort(path, inputs)
    for opt in ("-O0", "-O2"):
        m = H.compile_model(path, os.path.join(d, opt), name="model", opt=opt)
        for cc in ("gcc", "clang"):
            try:
                exe = H.build(m, cc=cc)
                got = H.run(m, exe, inputs)
            except H.HarnessError as e:
                t.check(False, "%s %s: %s" % (opt, cc, e))
                continue
            for i, (a, b) in enumerate(zip(got, ref)):
                err = H.rel_err(a, b)
                t.check(err <= TOL, "%s %s output %d: error %.3g > %g" % (opt, cc, i, err, TOL))
    try:
        check_size_macros(t, d)
    except H.HarnessError as e:
        t.check(False, "size macros: %s" % e)
    t.finish()


if __name__ == "__main__":
    main()
