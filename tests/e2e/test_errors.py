"""test_errors.py - nncc's command line on bad input: each case must end with
exit status 1 (bad model) or 2 (bad command line), print a short message
(at most MAX_LINES lines on stderr) that names the file (for model errors),
write no output files, and never crash (a negative return code is a signal).
Files are written under NNCC_BINARY_DIR/e2e-tmp/errors/.
"""
import os
import resource
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

MAX_LINES = 4


def save(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def model_of(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def vi(name, shape, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def raw_tensor(name, dims, raw):
    """A float TensorProto with any dims and raw_data (onnx.helper checks sizes)."""
    tp = TensorProto()
    tp.name = name
    tp.data_type = TensorProto.FLOAT
    tp.dims.extend(dims)
    tp.raw_data = raw
    return tp


def limit_memory():
    # an attempt to allocate what a bad file claims fails fast instead of
    # swapping: 2 GiB of address space is plenty for these tiny models.
    # AddressSanitizer reserves terabytes of address space up front, so a
    # sanitizer build (NNCC_SANITIZED=1, set by CTest) runs without the limit
    # and relies on ASan's own allocation checks instead.
    if os.environ.get("NNCC_SANITIZED") != "1":
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_nncc(args):
    return subprocess.run([H.NNCC] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60, preexec_fn=limit_memory)


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("errors")
    sample = os.path.join(H.SAMPLES, "feature_extractor.onnx")

    cases = []  # (label, args, want exit status, strings the message must contain)

    cases.append(("missing file", [os.path.join(d, "no_such.onnx")], 1, ["no_such.onnx"]))

    empty = os.path.join(d, "empty.onnx")
    open(empty, "wb").close()
    cases.append(("empty file", [empty], 1, ["empty.onnx"]))

    with open(sample, "rb") as f:
        data = f.read()
    trunc = os.path.join(d, "truncated.onnx")
    with open(trunc, "wb") as f:
        f.write(data[:len(data) // 2])
    cases.append(("truncated protobuf", [trunc], 1, ["truncated.onnx"]))

    garbage = os.path.join(d, "garbage.onnx")
    with open(garbage, "wb") as f:
        f.write(np.random.RandomState(7).bytes(4096))
    cases.append(("random bytes", [garbage], 1, ["garbage.onnx"]))

    unsup = save(model_of(
        [helper.make_node("Foo", ["x"], ["a"], name="foo_node"),
         helper.make_node("Relu", ["a"], ["b"], name="relu_node"),
         helper.make_node("Bar", ["b"], ["y"], name="bar_node")],
        [vi("x", [1, 4])], [vi("y", [1, 4])]), os.path.join(d, "unsupported.onnx"))
    cases.append(("unsupported ops", [unsup], 1,
                  ["unsupported.onnx", "Foo", "Bar", "foo_node", "bar_node", "13"]))

    bad_raw = numpy_helper.from_array(np.zeros((4, 4), np.float32), "w")
    bad_raw.raw_data = bad_raw.raw_data[:12]
    rawm = save(model_of([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                         [vi("x", [4, 4])], [vi("y", [4, 4])], [bad_raw]),
                os.path.join(d, "bad_raw_data.onnx"))
    cases.append(("raw_data length mismatch", [rawm], 1, ["bad_raw_data.onnx", "w"]))

    cyc = save(model_of([helper.make_node("Add", ["x", "t2"], ["t1"], name="cyc_add"),
                         helper.make_node("Relu", ["t1"], ["t2"], name="cyc_relu")],
                        [vi("x", [1, 4])], [vi("t2", [1, 4])]), os.path.join(d, "cycle.onnx"))
    cases.append(("cycle", [cyc], 1, ["cycle.onnx"]))

    big = raw_tensor("big", [2 ** 40, 2 ** 40], b"")
    bigm = save(model_of([helper.make_node("Add", ["x", "big"], ["y"], name="add_big")],
                         [vi("x", [1, 4])], [vi("y", [1, 4])], [big]), os.path.join(d, "absurd_dims.onnx"))
    cases.append(("absurd initializer dims", [bigm], 1, ["absurd_dims.onnx"]))

    bigin = save(model_of([helper.make_node("Relu", ["x"], ["y"], name="relu_big")],
                          [vi("x", [2 ** 40, 2 ** 40])], [vi("y", [2 ** 40, 2 ** 40])]),
                 os.path.join(d, "absurd_input.onnx"))
    cases.append(("absurd input dims", [bigin, "-o", os.path.join(d, "absurd_input.c")], 1,
                  ["absurd_input.onnx"]))

    negdim = raw_tensor("neg", [-3, 4], b"\0" * 48)
    negm = save(model_of([helper.make_node("Add", ["x", "neg"], ["y"], name="add_neg")],
                         [vi("x", [1, 4])], [vi("y", [1, 4])], [negdim]), os.path.join(d, "negative_dims.onnx"))
    cases.append(("negative initializer dim", [negm], 1, ["negative_dims.onnx"]))

    out_c = os.path.join(d, "out", "never.c")
    cases.append(("unknown option", [sample, "--frobnicate"], 2, ["--frobnicate"]))
    cases.append(("-o without a value", [sample, "-o"], 2, ["-o"]))
    cases.append(("no model", [], 2, ["usage"]))
    cases.append(("two models", [sample, sample], 2, []))
    cases.append(("malformed --shape", [sample, "--shape", "input=axb"], 2, ["--shape"]))
    cases.append(("--name not an identifier", [sample, "--name", "1bad-name"], 2, ["--name"]))
    # a --shape that does not fit the model is a command-line error (the model
    # is fine): exit 2, with the file named since the check needs the model
    cases.append(("--shape of an unknown input", [sample, "--shape", "nosuchinput=1x3x32x32",
                                                  "-o", out_c], 2, ["feature_extractor.onnx", "nosuchinput"]))
    cases.append(("--shape of the wrong rank", [sample, "--shape", "input=1x3x32", "-o", out_c], 2,
                  ["feature_extractor.onnx", "input"]))

    # -o below a regular file: the directory cannot be made
    a_file = os.path.join(d, "a_file")
    open(a_file, "w").close()
    cases.append(("-o below a file", [sample, "-o", os.path.join(a_file, "m.c")], 1, ["cannot write", "a_file"]))

    for label, args, want, needles in cases:
        try:
            p = run_nncc(args)
        except subprocess.TimeoutExpired:
            t.check(False, "%s: nncc did not finish in 60 s" % label)
            continue
        err = p.stderr.strip()
        lines = err.splitlines()
        first = lines[0] if lines else "(no message)"
        print("%-28s exit %d: %s%s" % (label, p.returncode, first,
                                       " (+%d lines)" % (len(lines) - 1) if len(lines) > 1 else ""))
        if p.returncode < 0:
            t.check(False, "%s: nncc crashed (signal %d): %s" % (label, -p.returncode, err[-2000:]))
            continue
        t.check(p.returncode == want, "%s: exit status %d, want %d" % (label, p.returncode, want))
        t.check(bool(err), "%s: no message on stderr" % label)
        # usage errors may print the usage text; model errors must be short
        if want == 1:
            t.check(len(lines) <= MAX_LINES, "%s: %d lines of messages (want at most %d):\n%s"
                    % (label, len(lines), MAX_LINES, err))
        missing = [s for s in needles if s not in err]
        t.check(not missing, "%s: the message does not mention %s: %s" % (label, missing, err))
        for bad in ("Assertion", "internal error", "nncc_die", "Segmentation"):
            t.check(bad not in err, "%s: the message looks like a crash: %s" % (label, err))
        if label == "unsupported ops":
            t.check("relu_node" not in err and "'Relu'" not in err,
                    "%s: the supported Relu is reported too: %s" % (label, err))
    t.check(not os.path.exists(out_c) and not os.path.exists(out_c[:-2] + ".h"),
            "a failed compile left %s behind" % out_c)
    # -o into directories that do not exist yet: nncc makes them
    nested = os.path.join(d, "new", "dirs", "model.c")
    p = run_nncc([sample, "-o", nested])
    t.check(p.returncode == 0 and os.path.exists(nested) and os.path.exists(nested[:-2] + ".h"),
            "-o into new directories: exit %d, %s" % (p.returncode, p.stderr.strip()[:300]))
    t.finish()


if __name__ == "__main__":
    main()
