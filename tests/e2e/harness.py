"""harness.py - compile an ONNX model with nncc, build the generated C with a
system compiler and a small generated main(), run it, and return the outputs
as numpy arrays; and run ONNX Runtime on the same inputs to compare.

Used by the tests in tests/e2e/ (run by CTest through nncc_python_test, which
sets NNCC, NNCC_SOURCE_DIR and NNCC_BINARY_DIR).

    from harness import compile_model, build, run, run_ort
    m = compile_model("model.onnx", outdir, opt="-O2")   # nncc -> C, header parsed
    exe = build(m, cc="gcc")                              # generated C + main -> exe
    outs = run(m, exe, [x], batch=4)                      # list of numpy arrays
    ref = run_ort("model.onnx", [x])

The generated main() reads each input from a file as raw little-endian
bytes, calls PREFIX_run (with the batch count when the header takes one),
checks that PREFIX_run_ws on a malloc'd workspace of PREFIX_workspace_size()
bytes (filled with garbage) gives the same bytes, and writes each output raw
to a file. What the model takes and gives (names,
dtypes, per-sample shapes, batch argument) is read from the generated header,
which is the interface a user programs against.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

NNCC = os.environ.get("NNCC", "")
SOURCE_DIR = os.environ.get("NNCC_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY_DIR = os.environ.get("NNCC_BINARY_DIR", os.path.join(SOURCE_DIR, "build"))
SAMPLES = os.path.join(SOURCE_DIR, "samples")

# the flags the design promises the generated code compiles cleanly with
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror"]

# nncc dtype names (nncc_dtype_name) -> (numpy dtype, C type)
DTYPES = {
    "float32": (np.float32, "float"), "float64": (np.float64, "double"),
    "int8": (np.int8, "int8_t"), "uint8": (np.uint8, "uint8_t"),
    "int16": (np.int16, "int16_t"), "uint16": (np.uint16, "uint16_t"),
    "int32": (np.int32, "int32_t"), "uint32": (np.uint32, "uint32_t"),
    "int64": (np.int64, "int64_t"), "uint64": (np.uint64, "uint64_t"),
    "bool": (np.bool_, "uint8_t"),
}


class HarnessError(Exception):
    pass


def tmp_dir(*parts):
    """A fresh directory under NNCC_BINARY_DIR/e2e-tmp/ (emptied if present)."""
    d = os.path.join(BINARY_DIR, "e2e-tmp", *parts)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def nncc_cmd(args, check=False):
    """Runs nncc with `args`; returns the CompletedProcess (text mode)."""
    if not NNCC:
        raise HarnessError("NNCC is not set (run through CTest)")
    p = subprocess.run([NNCC] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if check and p.returncode != 0:
        raise HarnessError("nncc %s failed (exit %d):\n%s%s" % (" ".join(args), p.returncode,
                                                                 p.stdout, p.stderr))
    return p


def graph_after_passes(args):
    """The lines of `nncc ARGS --print-graph` after the passes (it prints the
    graph before them too, under its own heading)."""
    out = nncc_cmd(list(args) + ["--print-graph"], check=True).stdout
    mark = "# after the passes"
    if mark not in out:
        raise HarnessError("nncc --print-graph printed no '%s' heading:\n%s" % (mark, out))
    return out[out.index(mark):].splitlines()[1:]


class Port:
    """One input or output of the generated API, as the header declares it."""

    def __init__(self, kind, cname, dtype, dims, onnx_name):
        self.kind, self.cname, self.dtype, self.onnx_name = kind, cname, dtype, onnx_name
        self.dims = dims                   # ints, and "batch" for the run-time batch
        self.np_dtype, self.ctype = DTYPES[dtype]

    def shape(self, batch):
        return tuple(batch if d == "batch" else d for d in self.dims)

    def per_sample_count(self):
        n = 1
        for d in self.dims:
            if d != "batch":
                n *= d
        return n

    def __repr__(self):
        return "%s %s: %s%s" % (self.kind, self.cname, self.dtype, self.dims)


class Model:
    """A model compiled by nncc: where its files are and what its API is."""

    def __init__(self, onnx_path, outdir, prefix, header):
        self.onnx_path, self.outdir, self.prefix = onnx_path, outdir, prefix
        self.c_path = os.path.join(outdir, prefix + ".c")
        self.h_path = os.path.join(outdir, prefix + ".h")
        self.header = header
        self.inputs, self.outputs = [], []
        for m in re.finditer(r"^/\* (input |output) (\w+): (\w+)\[([^\]]*)\] \('(.*)'\) \*/$",
                             header, re.M):
            kind, cname, dtype, dims, oname = m.groups()
            if dtype not in DTYPES:
                raise HarnessError("%s: unsupported dtype %s in the header" % (self.h_path, dtype))
            dl = [] if dims == "scalar" else [d if d == "batch" else int(d) for d in dims.split(" x ")]
            (self.inputs if kind == "input " else self.outputs).append(
                Port(kind.strip(), cname, dtype, dl, oname))
        decl = re.search(r"^int %s_run\((.*)\);$" % re.escape(prefix), header, re.M)
        if not decl:
            raise HarnessError("%s: no declaration of %s_run" % (self.h_path, prefix))
        self.run_decl = decl.group(1)
        self.has_batch = self.run_decl.startswith("size_t batch")
        # the declaration must list exactly the documented ports, in order
        want = (["size_t batch"] if self.has_batch else []) + \
            ["const %s *%s" % (p.ctype, p.cname) for p in self.inputs] + \
            ["%s *%s" % (p.ctype, p.cname) for p in self.outputs]
        got = [a.strip() for a in self.run_decl.split(",")] if self.run_decl != "void" else []
        if got != want:
            raise HarnessError("%s: %s_run(%s) does not match the documented ports %s"
                               % (self.h_path, prefix, self.run_decl, want))


def compile_model(onnx_path, outdir, name=None, opt="-O2", shapes=None, extra=()):
    """nncc onnx_path -o outdir/<name>.c [opt] [--name name] [--shape ...]; returns a Model.
    The compile time (wall seconds) is in model.nncc_seconds."""
    if not os.path.isdir(outdir):
        os.makedirs(outdir)
    stem = name or re.sub(r"\W", "_", os.path.splitext(os.path.basename(onnx_path))[0])
    args = [onnx_path, "-o", os.path.join(outdir, stem + ".c")]
    if opt:
        args.append(opt)
    if name:
        args += ["--name", name]
    for k, v in (shapes or {}).items():
        args += ["--shape", "%s=%s" % (k, "x".join(str(d) for d in v))]
    args += list(extra)
    t0 = time.time()
    nncc_cmd(args, check=True)
    secs = time.time() - t0
    with open(os.path.join(outdir, stem + ".h")) as f:
        m = Model(onnx_path, outdir, stem, f.read())
    m.nncc_seconds = secs
    return m


def harness_source(m):
    """C99 main() for model m: harness [BATCH] IN0 ... OUT0 ..."""
    P = m.prefix
    L = []
    w = L.append
    w("/* e2e harness for %s, generated by tests/e2e/harness.py */" % os.path.basename(m.onnx_path))
    w('#include "%s.h"' % P)
    w("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n")
    w("static void *load(const char *path, size_t bytes)\n{")
    w("    unsigned char *p = malloc(bytes ? bytes : 1);")
    w("    FILE *f = fopen(path, \"rb\");")
    w("    int extra;")
    w("    if (!p || !f) { fprintf(stderr, \"harness: cannot read %s\\n\", path); exit(3); }")
    w("    if (fread(p, 1, bytes, f) != bytes || (extra = fgetc(f)) != EOF) {")
    w("        fprintf(stderr, \"harness: %s is not %lu bytes\\n\", path, (unsigned long)bytes);")
    w("        exit(3);\n    }")
    w("    fclose(f);\n    return p;\n}\n")
    w("static void save(const char *path, const void *p, size_t bytes)\n{")
    w("    FILE *f = fopen(path, \"wb\");")
    w("    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {")
    w("        fprintf(stderr, \"harness: cannot write %s\\n\", path);\n        exit(3);\n    }\n}\n")
    w("int main(int argc, char **argv)\n{")
    nin, nout = len(m.inputs), len(m.outputs)
    first = 2 if m.has_batch else 1
    w("    size_t batch = 1;")
    w("    int rc;")
    w("    (void)batch;")
    w("    if (argc != %d) {" % (first + nin + nout))
    w("        fprintf(stderr, \"usage: %%s %sIN... OUT...\\n\", argv[0]);" % ("BATCH " if m.has_batch else ""))
    w("        return 2;\n    }")
    if m.has_batch:
        w("    batch = (size_t)strtoul(argv[1], NULL, 10);")
    for i, p in enumerate(m.inputs):
        n = "(size_t)%du" % p.per_sample_count() + (" * batch" if "batch" in p.dims else "")
        w("    const %s *in%d = load(argv[%d], %s * sizeof(%s));" % (p.ctype, i, first + i, n, p.ctype))
    for i, p in enumerate(m.outputs):
        n = "(size_t)%du" % p.per_sample_count() + (" * batch" if "batch" in p.dims else "")
        w("    size_t n_out%d = %s;" % (i, n))
        w("    %s *out%d = malloc(n_out%d * sizeof(%s) + 1);" % (p.ctype, i, i, p.ctype))
        # poison the outputs so an output the code never writes shows up
        w("    if (!out%d) return 3;\n    memset(out%d, 0xA5, n_out%d * sizeof(%s));" % (i, i, i, p.ctype))
    args = (["batch"] if m.has_batch else []) + ["in%d" % i for i in range(nin)] + \
        ["out%d" % i for i in range(nout)]
    w("    rc = %s_run(%s);" % (P, ", ".join(args)))
    w("    if (rc != 0) {\n        fprintf(stderr, \"harness: %s_run returned %%d\\n\", rc);\n"
      "        return 4;\n    }" % P)
    # PREFIX_run_ws on a caller's workspace full of garbage must give the same bytes
    w("    {\n        size_t ws_size = %s_workspace_size();" % P)
    w("        void *ws = malloc(ws_size ? ws_size : 1);")
    w("        if (!ws) return 3;\n        memset(ws, 0x5A, ws_size);")
    for i, p in enumerate(m.outputs):
        w("        %s *ws_out%d = malloc(n_out%d * sizeof(%s) + 1);" % (p.ctype, i, i, p.ctype))
        w("        if (!ws_out%d) return 3;" % i)
    wargs = ["ws"] + (["batch"] if m.has_batch else []) + ["in%d" % i for i in range(nin)] + \
        ["ws_out%d" % i for i in range(nout)]
    w("        rc = %s_run_ws(%s);" % (P, ", ".join(wargs)))
    w("        if (rc != 0) {\n            fprintf(stderr, \"harness: %s_run_ws returned %%d\\n\", rc);\n"
      "            return 4;\n        }" % P)
    for i, p in enumerate(m.outputs):
        w("        if (memcmp(out%d, ws_out%d, n_out%d * sizeof(%s)) != 0) {" % (i, i, i, p.ctype))
        w("            fprintf(stderr, \"harness: output %d differs between %s_run and %s_run_ws\\n\");"
          % (i, P, P))
        w("            return 5;\n        }")
        w("        free(ws_out%d);" % i)
    w("        free(ws);\n    }")
    for i, p in enumerate(m.outputs):
        w("    save(argv[%d], out%d, n_out%d * sizeof(%s));" % (first + nin + i, i, i, p.ctype))
        w("    free(out%d);" % i)
    for i in range(nin):
        w("    free((void *)in%d);" % i)
    w("    return 0;\n}")
    return "\n".join(L) + "\n"


def build(m, cc="gcc", cflags=None, builddir=None):
    """Compiles the generated sources and a main() into an executable; returns
    its path. The wall time of the compile is in m.cc_seconds."""
    cflags = list(CFLAGS if cflags is None else cflags)
    builddir = builddir or os.path.join(m.outdir, "build-" + cc)
    if not os.path.isdir(builddir):
        os.makedirs(builddir)
    main_c = os.path.join(builddir, "harness_main.c")
    with open(main_c, "w") as f:
        f.write(harness_source(m))
    srcs = sorted(os.path.join(m.outdir, f) for f in os.listdir(m.outdir) if f.endswith(".c"))
    exe = os.path.join(builddir, m.prefix + "_harness")
    cmd = [cc] + cflags + ["-I", m.outdir, "-o", exe] + srcs + [main_c, "-lm"]
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    m.cc_seconds = time.time() - t0
    if p.returncode != 0:
        raise HarnessError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, p.stdout[-4000:]))
    return exe


def run(m, exe, inputs, batch=None, wrapper=()):
    """Runs the harness on `inputs` (numpy arrays, graph order); returns the
    outputs as numpy arrays shaped as the header says. `wrapper`: a command
    to run it under (e.g. valgrind and its options)."""
    if len(inputs) != len(m.inputs):
        raise HarnessError("%s takes %d inputs, got %d" % (m.prefix, len(m.inputs), len(inputs)))
    if batch is None:
        batch = 1
        for p, x in zip(m.inputs, inputs):
            if "batch" in p.dims:
                batch = x.shape[p.dims.index("batch")]
    d = os.path.dirname(exe)
    args = list(wrapper) + [exe] + ([str(batch)] if m.has_batch else [])
    for i, (p, x) in enumerate(zip(m.inputs, inputs)):
        x = np.ascontiguousarray(x, dtype=p.np_dtype)
        if x.shape != p.shape(batch):
            raise HarnessError("input %s: shape %s, the model wants %s" % (p.cname, x.shape, p.shape(batch)))
        path = os.path.join(d, "in%d.bin" % i)
        x.astype(x.dtype.newbyteorder("<")).tofile(path)
        args.append(path)
    outs = [os.path.join(d, "out%d.bin" % i) for i in range(len(m.outputs))]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    args += outs
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise HarnessError("%s exited with %d%s:\n%s" % (
            exe, p.returncode, " (signal %d)" % -p.returncode if p.returncode < 0 else "", p.stdout))
    res = []
    for p_, path in zip(m.outputs, outs):
        a = np.fromfile(path, dtype=np.dtype(p_.np_dtype).newbyteorder("<"))
        res.append(a.reshape(p_.shape(batch)).astype(p_.np_dtype))
    return res


def run_ort(onnx_path, inputs):
    """ONNX Runtime (CPU provider) on `inputs` (graph input order, initializers excluded)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in s.get_inputs()]
    return s.run(None, dict(zip(names, inputs)))


def rel_err(got, ref):
    """max |got - ref| / max(|ref|), (inf on a shape mismatch or NaN)."""
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return float("inf")
    if ref.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(ref))), 1e-30)
    err = float(np.max(np.abs(got - ref))) / scale
    return err if np.isfinite(err) else float("inf")


def have_nncc_env():
    """Exits 77 (CTest: skipped) with a message when not run through CTest."""
    if not NNCC or not os.path.exists(NNCC):
        print("SKIPPED: NNCC is not set or missing (run these tests through CTest)")
        sys.exit(77)


class Tally:
    """Counts checks; prints `N passed, M failed` and exits at the end."""

    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)
            print("FAIL: " + what)
        sys.stdout.flush()
        return ok

    def finish(self):
        if self.failures:
            print("failures:")
            for f in self.failures:
                print("  " + f)
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
