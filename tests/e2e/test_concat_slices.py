"""test_concat_slices.py - Concat inputs written straight into their slices of
the Concat's output (passes/memplan.c), through the generated code.

Models built with onnx.helper: a SqueezeNet fire module, an Inception-like
block of four branches, a DenseNet-like Concat of Concats, a Concat whose
input is also read after it (in place, and too early to be in place), a
Concat of a graph input (copied), a Concat into a graph output on axis 0,
one on the last axis (not one run of bytes: copied), one with an input
twice, and the fire module with a symbolic batch. Each at -O2, -O2
--canary and -O0 --canary, built with gcc -fsanitize=address,undefined
(the runtime built once), run and compared with ONNX Runtime; --report must
count the slices expected (and say when the copies were kept because the
slices needed more), the generated code must copy exactly the inputs not
in place, and --memory-map must show each input at its slice.
"""
import subprocess
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# float32 convolutions of at most 16x3x3 = 144 terms summed in another order
# than ONNX Runtime's: a few ulps (~1e-6 relative); a misplaced slice or a
# value overwritten too early is off by O(1)
TOL = 1e-5
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


class Net:
    def __init__(self, name, seed):
        from onnx import helper
        self.helper = helper
        self.name, self.rng = name, np.random.RandomState(seed)
        self.nodes, self.inits, self.k = [], [], 0

    def init(self, name, arr):
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    def node(self, op, ins, out=None, **attrs):
        self.k += 1
        out = out or "%s_%d" % (op.lower(), self.k)
        self.nodes.append(self.helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k=1, relu=True, out=None):
        w = self.init("w%d" % self.k, self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k)))
        b = self.init("b%d" % self.k, self.rng.uniform(-0.1, 0.1, cout))
        y = self.node("Conv", [x, w, b], None if relu else out, kernel_shape=[k, k], pads=[k // 2] * 4)
        return self.node("Relu", [y], out) if relu else y

    def save(self, path, inputs, outputs):
        import onnx
        from onnx import TensorProto
        h = self.helper
        g = h.make_graph(self.nodes, self.name,
                         [h.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                         [h.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs], self.inits)
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
        m.ir_version = 7
        onnx.save(m, path)


def fire(path, batch=1):
    N = Net("fire", 1)
    sq = N.conv("x", 16, 8)
    y = N.node("Concat", [N.conv(sq, 8, 16), N.conv(sq, 8, 16, 3)], "cat", axis=1)
    N.conv(y, 32, 8, out="y")
    N.save(path, [("x", [batch, 16, 8, 8])], ["y"])


def inception(path, c=16, hw=6):
    """Four branches; the pool branch's 1x1 conv reads a MaxPool. Small (6x6)
    and compiled with --conv-algo im2col (CONV_ALGO), the 3x3 convolutions'
    im2col scratch makes the peak, and the output's storage, live from its
    first slice on, costs more than the copies: memplan keeps them. Larger
    (12x12, wider branches, default kernels), the slices win."""
    N = Net("inception", 2)
    x = N.conv("x", 4, c)
    b1 = N.conv(x, c, c // 2)
    b2 = N.conv(N.conv(x, c, 4), 4, c, 3)
    b3 = N.conv(N.conv(N.conv(x, c, 4), 4, 4, 3), 4, c // 2, 3)
    b4 = N.conv(N.node("MaxPool", [x], kernel_shape=[3, 3], pads=[1] * 4), c, c // 2)
    y = N.node("Concat", [b1, b2, b3, b4], "cat", axis=1)
    N.conv(y, c // 2 * 5, 4, out="y")
    N.save(path, [("x", [1, 4, hw, hw])], ["y"])


def inception_wide(path):
    inception(path, 32, 12)


def dense(path):
    """y1 = Concat(x0, f(x0)), y2 = Concat(y1, g(y1)): y1 is a slice of y2."""
    N = Net("dense", 3)
    x0 = N.conv("x", 4, 8)
    y1 = N.node("Concat", [x0, N.conv(x0, 8, 4, 3)], "cat1", axis=1)
    y2 = N.node("Concat", [y1, N.conv(y1, 12, 4, 3)], "cat2", axis=1)
    N.conv(y2, 16, 4, out="y")
    N.save(path, [("x", [1, 4, 5, 8])], ["y"])


def reread(path):
    """a is a Concat input also read after the Concat: by a Sigmoid while the
    Concat's output is still to be read (it must not write over a) and by a
    Tanh after the output's last reader (at -O0 it writes over a's slice)."""
    N = Net("reread", 4)
    a = N.conv("x", 4, 8, relu=False)
    b = N.conv("x", 4, 8)
    y = N.node("Concat", [a, b], "cat", axis=1)
    s = N.node("Sigmoid", [a], "early")
    z = N.conv(y, 16, 8, relu=False)
    N.node("Add", [z, s], "y1")
    N.node("Add", [N.node("Tanh", [a], "late"), s], "y2")
    N.save(path, [("x", [1, 4, 4, 4])], ["y1", "y2"])


def graph_input(path):
    """Concat(x, conv(x)): x is the caller's and is copied; conv(x) in place."""
    N = Net("graph_input", 5)
    y = N.node("Concat", ["x", N.conv("x", 4, 4)], "cat", axis=1)
    N.conv(y, 8, 4, out="y")
    N.save(path, [("x", [1, 4, 4, 4])], ["y"])


def axis0_output(path):
    """Concat on axis 0 straight into the graph output; and into a Reshape of
    a Concat that is the graph output."""
    N = Net("axis0", 6)
    N.node("Concat", [N.conv("x", 4, 4), N.conv("x", 4, 4)], "y", axis=0)
    c = N.node("Concat", [N.conv("x", 4, 2), N.conv("x", 4, 6)], "cat", axis=1)
    shape = N.init("shape", np.array([1, -1]))
    N.inits[-1].data_type = 7  # int64
    N.inits[-1].raw_data = np.array([1, -1], dtype=np.int64).tobytes()
    N.node("Reshape", [c, shape], "flat")
    N.save(path, [("x", [1, 4, 4, 4])], ["y", "flat"])


def last_axis(path):
    """Concat on the last axis (4x4 rows each): not one run, copied; and an
    input listed twice: copied."""
    N = Net("last_axis", 7)
    a, b = N.conv("x", 4, 4), N.conv("x", 4, 4)
    y = N.node("Concat", [a, b], "cat", axis=-1)
    d = N.conv("x", 4, 4)
    t = N.node("Concat", [d, d], "twice", axis=1)
    N.node("Add", [N.node("Tanh", [y]), N.node("Reshape", [t, N.init("s", np.array([1, 4, 4, 8]))])], "y")
    N.inits[-1].data_type = 7
    N.inits[-1].raw_data = np.array([1, 4, 4, 8], dtype=np.int64).tobytes()
    N.save(path, [("x", [1, 4, 4, 4])], ["y"])


def misaligned(path):
    """3 channels of 5x5 floats: 300 bytes, not a multiple of 16, so the
    second input's slice is off the alignment and it is copied."""
    N = Net("misaligned", 8)
    y = N.node("Concat", [N.conv("x", 2, 3), N.conv("x", 2, 4)], "cat", axis=1)
    N.conv(y, 7, 2, out="y")
    N.save(path, [("x", [1, 2, 5, 5])], ["y"])


# name, builder, input shapes (batch 1), slices at -O2, inputs copied by Concats at -O2
CASES = [
    ("fire", fire, [(1, 16, 8, 8)], 2, 0),
    ("inception", inception, [(1, 4, 6, 6)], 0, 4),
    ("inception_wide", inception_wide, [(1, 4, 12, 12)], 4, 0),
    ("dense", dense, [(1, 4, 5, 8)], 4, 0),
    ("reread", reread, [(1, 4, 4, 4)], 2, 0),
    ("graph_input", graph_input, [(1, 4, 4, 4)], 1, 1),
    ("axis0_output", axis0_output, [(1, 4, 4, 4)], 4, 0),
    ("last_axis", last_axis, [(1, 4, 4, 4)], 0, 4),
    ("misaligned", misaligned, [(1, 2, 5, 5)], 1, 1),
]


def counts(c_src):
    """(inputs written in place, inputs copied) by the Concat calls."""
    return len(re.findall(r"was written in place, bytes \[", c_src)), len(re.findall(r"nncc_copy_rows\(", c_src))


def sanitized_runtime(m, out):
    """The runtime files next to model m, built once with the sanitizers
    into OUT/rt-san/libnncc_rt.a (they are the same for every model)."""
    d = os.path.join(out, "rt-san")
    lib = os.path.join(d, "libnncc_rt.a")
    if os.path.exists(lib):
        return lib
    os.makedirs(d)
    objs = []
    for f in sorted(os.listdir(m.outdir)):
        if f.startswith("nncc_rt_") and f.endswith(".c"):
            o = os.path.join(d, f[:-2] + ".o")
            subprocess.run(["gcc"] + H.CFLAGS + SANITIZE + ["-I", m.outdir, "-c", os.path.join(m.outdir, f), "-o", o],
                           check=True)
            objs.append(o)
    subprocess.run(["ar", "rcs", lib] + objs, check=True)
    return lib


def build(m, out):
    """The model's C and the harness main() with the sanitizers, linked to the runtime."""
    lib = sanitized_runtime(m, out)
    main_c = os.path.join(m.outdir, "harness_main.c")
    with open(main_c, "w") as f:
        f.write(H.harness_source(m))
    exe = os.path.join(m.outdir, m.prefix + "_harness")
    cmd = ["gcc"] + H.CFLAGS + SANITIZE + ["-I", m.outdir, "-o", exe, m.c_path, main_c, lib, "-lm"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise H.HarnessError("%s failed:\n%s" % (" ".join(cmd), p.stdout[-4000:]))
    return exe


# cases compiled with a convolution strategy of their own (see inception())
CONV_ALGO = {"inception": ["--conv-algo", "im2col"]}


def check_case(t, out, name, build_model, shapes, want_slices, want_copies):
    algo = CONV_ALGO.get(name, [])
    path = os.path.join(out, name + ".onnx")
    build_model(path)
    rng = np.random.RandomState(11)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ref = H.run_ort(path, xs)
    p = H.nncc_cmd([path, "--report"] + algo, check=True)
    got = re.search(r"(\d+) Concat inputs written into their slice", p.stderr)
    t.check(got is not None and int(got.group(1)) == want_slices,
            "%s: --report: want %d slices:\n%s" % (name, want_slices, p.stderr))
    if want_slices == 0 and want_copies and name.startswith("inception"):
        t.check("kept the copies; with slices: arena" in p.stderr, "%s: --report does not say why the copies "
                "were kept:\n%s" % (name, p.stderr))
    for opt, canary in (("-O2", ()), ("-O2", ("--canary",)), ("-O0", ("--canary",))):
        label = "%s %s%s" % (name, opt, " --canary" if canary else "")
        try:
            m = H.compile_model(path, os.path.join(out, name + opt + "".join(canary)), opt=opt,
                                extra=list(canary) + algo)
            with open(m.c_path) as f:
                src = f.read()
            n_slices, n_copies = counts(src)
            if opt == "-O2":
                t.check((n_slices, n_copies) == (want_slices, want_copies),
                        "%s: %d inputs in place, %d copied; want %d, %d"
                        % (label, n_slices, n_copies, want_slices, want_copies))
            res = H.run(m, build(m, out), xs)
            err = max(H.rel_err(g, r) for g, r in zip(res, ref))
            t.check(err <= TOL, "%s: max rel err %.3e" % (label, err))
            print("%-28s %d in place, %d copied, max rel err %.1e" % (label, n_slices, n_copies, err))
        except H.HarnessError as e:
            t.check(False, "%s: %s" % (label, e))


def check_memory_map(t, out):
    """The fire module's map: both expand outputs at their slice of 'cat'; at
    -O0 each expand Conv's output (its Relu runs in place) is there too."""
    path = os.path.join(out, "fire.onnx")
    for opt, sharers in (("-O2", 0), ("-O0", 1)):
        mm = H.nncc_cmd([path, opt, "--memory-map"], check=True).stdout
        rows = {}
        for line in mm.splitlines():
            r = re.match(r"\s+\S\s+(\d+)\s+(\d+)\s+\d+\.\.\d+\s+'([^']+)'(?: in '([^']+)'\+(\d+))?(.*)", line)
            if r:
                rows[r.group(3)] = (int(r.group(1)), int(r.group(2)), r.group(4), int(r.group(5) or 0),
                                    r.group(6).count("'") // 2)
        cat = rows.get("cat")
        slices = sorted((v[3], k, v) for k, v in rows.items() if v[2] == "cat")
        ok = cat is not None and len(slices) == 2 and [s[0] for s in slices] == [0, 16 * 64 * 4]
        ok = ok and all(v[0] == cat[0] + rel and v[4] == sharers for rel, _, v in slices)
        t.check(ok, "fire %s --memory-map: want two slices of 'cat' at +0 and +4096, each shared by %d more:\n%s"
                % (opt, sharers, mm))
        print("fire %s --memory-map: slices %s" % (opt, [(k, rel) for rel, k, _ in slices]))


def check_batch(t, out):
    """The fire module with a symbolic batch: planned per sample, slices too."""
    path = os.path.join(out, "fire_batch.onnx")
    fire(path, batch="N")
    x = np.random.RandomState(5).standard_normal((3, 16, 8, 8)).astype(np.float32)
    ref = H.run_ort(path, [x])
    for canary in ((), ("--canary",)):
        m = H.compile_model(path, os.path.join(out, "fire_batch" + "".join(canary)), extra=list(canary))
        with open(m.c_path) as f:
            n_slices, _ = counts(f.read())
        t.check(m.has_batch and n_slices == 2, "fire_batch: batch argument %s, %d slices" % (m.has_batch, n_slices))
        err = H.rel_err(H.run(m, build(m, out), [x])[0], ref[0])
        t.check(err <= TOL, "fire_batch%s: batch 3: max rel err %.3e" % (" --canary" if canary else "", err))
        print("fire_batch%s batch 3: max rel err %.1e" % (" --canary" if canary else "", err))


def main():
    H.have_nncc_env()
    t = H.Tally()
    out = H.tmp_dir("concat_slices")
    for case in CASES:
        check_case(t, out, *case)
    check_memory_map(t, out)
    check_batch(t, out)
    t.finish()


if __name__ == "__main__":
    main()
