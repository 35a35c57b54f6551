#!/usr/bin/env python3
"""
run.py - the ONNX project's backend node tests, compiled by nncc.

For every node test case (a one-operator model with input and expected output
tensors) it
  1. compiles the model with nncc; a refusal naming something 'unsupported'
     is a skip, any other refusal a failure, a crash or a timeout a crash;
  2. writes a small C harness that reads raw inputs and writes raw outputs,
     builds it with the generated model.c (the runtime files, identical for
     every case, are compiled once into a static library);
  3. runs it on each data set and compares with the expected outputs:
     dtype and shape must match; floats within rtol 1e-3, atol 1e-7 (NaN
     equals NaN), integers and bools exactly.

It writes a per-operator table to $NNCC_BINARY_DIR/onnx_backend_report.md and
ends with 'N passed, M failed, K skipped' (skipped: unsupported; crashes count
as failures). expected_pass.txt next to this script lists the cases that must
pass: the run fails if one of them does not (a regression) or if a case passes
that is not listed; --update rewrites the list.

The test data ships with some onnx packages (onnx/backend/test/data/node);
where it does not, it is generated once from onnx's own test case definitions
(onnx.backend.test.case.node) into the build directory.

Environment: NNCC (the compiler), NNCC_BINARY_DIR (where to work and report);
both are set by CTest. CC overrides the C compiler (default cc).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected_pass.txt")

NNCC_TIMEOUT = 20   # seconds for nncc on one model
CC_TIMEOUT = 120    # seconds to build one case
RUN_TIMEOUT = 10    # seconds for one run of the harness
RTOL, ATOL = 1e-3, 1e-7

# nncc's dtype names (as the generated header writes them) -> numpy
NP_DTYPES = {
    "float16": np.float16, "float32": np.float32, "float64": np.float64, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "bool": np.bool_,
}

PASSED, FAILED, UNSUPPORTED, CRASHED = "passed", "failed", "unsupported", "crashed"


# --------------------------------------------------------------------------
# test data
# --------------------------------------------------------------------------
def shipped_data_dir():
    d = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    return d if os.path.isdir(d) and os.listdir(d) else None


def _serialize(value, vinfo):
    """A data set value as onnx's generate-data tool writes it."""
    t = vinfo.type
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, vinfo.name).SerializeToString()
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, vinfo.name).SerializeToString()
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, vinfo.name).SerializeToString()
    if isinstance(value, onnx.TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(np.asarray(value), vinfo.name).SerializeToString()


def generated_data_dir(root):
    """Generates the node test data into root/ once per onnx version."""
    stamp = os.path.join(root, "onnx-version")
    node = os.path.join(root, "node")
    if os.path.exists(stamp) and open(stamp).read() == onnx.__version__:
        return node
    print(f"generating the node test data of onnx {onnx.__version__} into {node}", flush=True)
    from onnx.backend.test.case import node as node_cases
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases(None)
    tmp = node + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for case in cases:
        d = os.path.join(tmp, case.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds)
            g = case.model.graph
            for kind, values, infos in (("input", inputs, g.input), ("output", outputs, g.output)):
                for j, v in enumerate(values):
                    with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(_serialize(v, infos[j]))
    shutil.rmtree(node, ignore_errors=True)
    os.rename(tmp, node)
    with open(stamp, "w") as f:
        f.write(onnx.__version__)
    return node


# --------------------------------------------------------------------------
# operator of a case, for the table
# --------------------------------------------------------------------------
_SCHEMA_NAMES = sorted({s.name for s in onnx.defs.get_all_schemas_with_history()}, key=len, reverse=True)


def op_of(case, model):
    """The op a case tests: its only op type, else the longest op name that
    starts the case name (test_reduce_sum_... -> ReduceSum)."""
    types = []
    if model is not None:
        for n in model.graph.node:
            if n.op_type not in types:
                types.append(n.op_type)
    if len(types) == 1:
        return types[0]
    key = case[len("test_"):].replace("_", "").lower()
    for cands in (sorted(types, key=len, reverse=True), _SCHEMA_NAMES):
        for name in cands:
            if key.startswith(name.lower()):
                return name
    return types[0] if types else case


# --------------------------------------------------------------------------
# the generated interface
# --------------------------------------------------------------------------
DOC_RE = re.compile(r"^/\* (input |output) (\w+): (\w+)\[([^\]]*)\] \('(.*)'\) \*/$", re.M)


def parse_header(text):
    """Returns (batch, params, docs): whether m_run takes a batch, its pointer
    parameters [(is_input, ctype, name)] and {name: (dtype, dims)} with 'batch'
    kept as a string where the batch goes."""
    m = re.search(r"\bint m_run\(([^)]*)\);", text)
    if not m:
        raise ValueError("no m_run declaration in m.h")
    batch, params = False, []
    for p in m.group(1).split(","):
        p = " ".join(p.split())
        if p in ("void", ""):
            continue
        if p == "size_t batch":
            batch = True
            continue
        pm = re.fullmatch(r"(const )?(\w+) \*(\w+)", p)
        if not pm:
            raise ValueError(f"cannot read parameter '{p}' of m_run")
        params.append((pm.group(1) is not None, pm.group(2), pm.group(3)))
    docs = {}
    for kind, name, dtype, shape, _ in DOC_RE.findall(text):
        dims = [] if shape == "scalar" else [d if d == "batch" else int(d) for d in shape.split(" x ")]
        docs[name] = (dtype, dims)
    return batch, params, docs


HARNESS_HEAD = r"""/* harness for one ONNX node test: raw files in, raw files out */
#include "m.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *rd(const char *path, const char *size)
{
    size_t n = (size_t)strtoull(size, NULL, 10);
    void *b = malloc(n ? n : 1);
    FILE *f = fopen(path, "rb");
    if (!b || !f || fread(b, 1, n, f) != n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return b;
}

static void *alloc_out(const char *size)
{
    size_t n = (size_t)strtoull(size, NULL, 10);
    void *b = malloc(n ? n : 1);
    if (!b)
        exit(2);
    memset(b, 0xA5, n ? n : 1); /* poison: unwritten outputs show */
    return b;
}

static void wr(const char *path, const void *b, const char *size)
{
    size_t n = (size_t)strtoull(size, NULL, 10);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* argv: [batch] then PATH SIZE per input, then PATH SIZE per output */
int main(int argc, char **argv)
{
    (void)argc;
"""


def harness_source(batch, params):
    s = [HARNESS_HEAD]
    k = 1
    args = []
    if batch:
        s.append(f"    size_t batch = (size_t)strtoull(argv[{k}], NULL, 10);\n")
        args.append("batch")
        k += 1
    outs = []
    for i, (is_in, ctype, _) in enumerate(params):
        if is_in:
            s.append(f"    const {ctype} *p{i} = rd(argv[{k}], argv[{k + 1}]);\n")
        else:
            s.append(f"    {ctype} *p{i} = alloc_out(argv[{k + 1}]);\n")
            outs.append((i, k))
        args.append(f"p{i}")
        k += 2
    s.append(f"    int rc = m_run({', '.join(args)});\n")
    s.append('    if (rc) {\n        fprintf(stderr, "m_run returned %d\\n", rc);\n        return 3;\n    }\n')
    for i, k in outs:
        s.append(f"    wr(argv[{k}], p{i}, argv[{k + 1}]);\n")
    s.append("    return 0;\n}\n")
    return "".join(s)


# --------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------
class Env:
    def __init__(self, nncc, nncc_args, cc, work, rt_lib, rt_files, keep):
        self.nncc, self.nncc_args, self.cc, self.work = nncc, nncc_args, cc, work
        self.rt_lib, self.rt_files, self.keep = rt_lib, rt_files, keep


def first_line(text, want=None):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if want is None or want in l:
            return l[:300]
    return lines[0][:300] if lines else ""


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def compare(name, got, want):
    """None if equal within tolerance, else what differs."""
    if got.shape != want.shape:
        return f"output '{name}': shape {list(got.shape)}, expected {list(want.shape)}"
    if want.dtype.kind == "f":
        ok = np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        if ok.all():
            return None
        bad = np.argwhere(~ok)
        i = tuple(bad[0])
        return (f"output '{name}': {len(bad)} of {want.size} values differ, "
                f"first at {list(i)}: {got[i]!r} vs expected {want[i]!r}")
    if want.dtype == np.bool_:
        got, want = got.view(np.uint8), want.view(np.uint8)
    if np.array_equal(got, want):
        return None
    bad = np.argwhere(got != want)
    i = tuple(bad[0])
    return (f"output '{name}': {len(bad)} of {want.size} values differ, "
            f"first at {list(i)}: {got[i]!r} vs expected {want[i]!r}")


def run_case(env, case_dir):
    case = os.path.basename(case_dir)
    model_path = os.path.join(case_dir, "model.onnx")
    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception:
        model = None
    op = op_of(case, model)
    # a function test expanded into its body counts for the function's op
    base = re.sub(r"_expanded(_ver\d+)?$", "", case)
    base_model = os.path.join(os.path.dirname(case_dir), base, "model.onnx")
    if base != case and os.path.exists(base_model):
        try:
            op = op_of(base, onnx.load(base_model, load_external_data=False))
        except Exception:
            pass
    res = {"case": case, "op": op}
    work = os.path.join(env.work, case)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    def done(status, detail=""):
        res["status"], res["detail"] = status, detail
        if not env.keep and status in (PASSED, UNSUPPORTED):
            shutil.rmtree(work, ignore_errors=True)
        return res

    # 1. compile the model
    cmd = [env.nncc, model_path, "-o", os.path.join(work, "m.c"), "--name", "m"] + env.nncc_args
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=NNCC_TIMEOUT)
    except subprocess.TimeoutExpired:
        return done(CRASHED, f"nncc timed out after {NNCC_TIMEOUT} s")
    if p.returncode == 1:
        if "unsupported" in p.stderr:
            return done(UNSUPPORTED, first_line(p.stderr, "unsupported"))
        return done(FAILED, "rejected: " + first_line(p.stderr))
    if p.returncode != 0:
        return done(CRASHED, f"nncc exit status {p.returncode}: " + first_line(p.stderr))
    if model is None:
        return done(FAILED, "nncc accepted a model that onnx cannot load")

    # 2. the interface and the harness
    try:
        with open(os.path.join(work, "m.h")) as f:
            batch, params, docs = parse_header(f.read())
    except (OSError, ValueError) as e:
        return done(FAILED, f"generated header: {e}")
    inits = {i.name for i in model.graph.initializer}
    g_in = [i.name for i in model.graph.input if i.name not in inits]
    g_out = [o.name for o in model.graph.output]
    n_in = sum(1 for p in params if p[0])
    if n_in != len(g_in) or len(params) - n_in != len([o for o in g_out if o not in g_in]):
        return done(FAILED, f"m_run has {n_in} inputs and {len(params) - n_in} outputs; "
                            f"the model {len(g_in)} and {len(g_out)}")
    for _, ctype, pname in params:
        if pname not in docs or docs[pname][0] not in NP_DTYPES:
            return done(FAILED, f"generated header: no usable description of '{pname}'")

    sources = [os.path.join(work, "m.c"), os.path.join(work, "harness.c")]
    rt_here = {f: open(os.path.join(work, f), "rb").read() for f in os.listdir(work) if f.startswith("nncc_")}
    if rt_here == env.rt_files:
        sources.append(env.rt_lib)
    else:  # not the runtime in the library: build this case's own
        sources += [os.path.join(work, f) for f in sorted(rt_here) if f.endswith(".c")]
    with open(os.path.join(work, "harness.c"), "w") as f:
        f.write(harness_source(batch, params))
    exe = os.path.join(work, "harness")
    cmd = [env.cc, "-std=c99", "-O1", "-w", "-I", work, "-o", exe] + sources + ["-lm"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=CC_TIMEOUT)
    except subprocess.TimeoutExpired:
        return done(FAILED, "the generated code took too long to compile")
    if p.returncode != 0:
        return done(FAILED, "the generated code does not compile: " + first_line(p.stderr, "error"))

    # 3. run each data set
    sets = sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set_"))
    if not sets:
        return done(FAILED, "no test data")
    for ds in sets:
        dsp = os.path.join(case_dir, ds)
        try:
            ins = [load_tensor(os.path.join(dsp, f"input_{j}.pb")) for j in range(len(g_in))]
            want = [load_tensor(os.path.join(dsp, f"output_{j}.pb")) for j in range(len(g_out))]
        except Exception as e:
            return done(FAILED, f"{ds}: cannot read the test data as tensors ({type(e).__name__})")
        nb = None
        argv = [exe]
        if batch:
            nb = None
            for (is_in, _, pname), x in zip([p for p in params if p[0]], ins):
                dims = docs[pname][1]
                if "batch" in dims and x.ndim == len(dims):
                    nb = x.shape[dims.index("batch")]
                    break
            if nb is None:
                return done(FAILED, "cannot tell the batch size")
            argv.append(str(nb))

        def dims_of(pname):
            return [nb if d == "batch" else d for d in docs[pname][1]]

        outs = []
        k = 0
        for is_in, _, pname in params:
            dtype = np.dtype(NP_DTYPES[docs[pname][0]])
            if is_in:
                x = ins[k]
                if x.dtype != dtype or list(x.shape) != dims_of(pname):
                    return done(FAILED, f"input '{pname}' is {docs[pname][0]}{dims_of(pname)} in m.h, "
                                        f"{x.dtype}{list(x.shape)} in the test")
                path = os.path.join(work, f"in{k}.bin")
                with open(path, "wb") as f:
                    f.write(np.ascontiguousarray(x).tobytes())
                argv += [path, str(x.nbytes)]
                k += 1
            else:
                path = os.path.join(work, f"out{len(outs)}.bin")
                nbytes = int(np.prod(dims_of(pname), dtype=np.int64)) * dtype.itemsize
                argv += [path, str(nbytes)]
                outs.append((pname, path, dtype, dims_of(pname)))
        try:
            p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return done(CRASHED, f"{ds}: the generated code ran over {RUN_TIMEOUT} s")
        if p.returncode < 0:
            return done(CRASHED, f"{ds}: the generated code died of signal {-p.returncode}")
        if p.returncode != 0:
            return done(FAILED, f"{ds}: harness exit status {p.returncode}: " + first_line(p.stderr))
        # outputs in model order; an output that is also an input is that input
        got = {}
        for pname, path, dtype, dims in outs:
            got[pname] = np.fromfile(path, dtype=dtype).reshape(dims)
        out_params = iter(outs)
        for j, oname in enumerate(g_out):
            if oname in g_in:
                a = ins[g_in.index(oname)]
            else:
                pname = next(out_params)[0]
                a = got[pname]
            w = want[j]
            if a.dtype != w.dtype:
                return done(FAILED, f"{ds}: output '{oname}' is {a.dtype}, expected {w.dtype}")
            why = compare(oname, a, w)
            if why:
                return done(FAILED, f"{ds}: {why}")
    return done(PASSED)


# --------------------------------------------------------------------------
# the runtime library, built once
# --------------------------------------------------------------------------
def build_runtime(nncc, cc, work):
    """Compiles a one-node model to get the runtime files and builds them into
    a static library. Returns (library path, {file name: contents})."""
    d = os.path.join(work, "_runtime")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    from onnx import helper, TensorProto
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(d, "relu.onnx"))
    subprocess.run([nncc, os.path.join(d, "relu.onnx"), "-o", os.path.join(d, "m.c"), "--name", "m"],
                   check=True, timeout=NNCC_TIMEOUT)
    files, objs = {}, []
    for fname in sorted(os.listdir(d)):
        if not fname.startswith("nncc_"):
            continue
        with open(os.path.join(d, fname), "rb") as f:
            files[fname] = f.read()
        if fname.endswith(".c"):
            obj = os.path.join(d, fname[:-2] + ".o")
            subprocess.run([cc, "-std=c99", "-O1", "-w", "-c", "-I", d, "-o", obj, os.path.join(d, fname)],
                           check=True)
            objs.append(obj)
    lib = os.path.join(d, "libnncc_rt.a")
    subprocess.run(["ar", "rcs", lib] + objs, check=True)
    return lib, files


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def write_report(path, results, seconds):
    by_op = {}
    for r in results:
        c = by_op.setdefault(r["op"], {PASSED: 0, FAILED: 0, UNSUPPORTED: 0, CRASHED: 0})
        c[r["status"]] += 1
    tot = {s: sum(c[s] for c in by_op.values()) for s in (PASSED, FAILED, UNSUPPORTED, CRASHED)}
    lines = [
        "# ONNX backend node tests through nncc",
        "",
        f"onnx {onnx.__version__}, {len(results)} cases, {seconds:.0f} s. "
        f"Tolerance for floats: rtol {RTOL:g}, atol {ATOL:g}; integers and bools exact.",
        "",
        f"**{tot[PASSED]} passed, {tot[FAILED]} failed, {tot[UNSUPPORTED]} unsupported, "
        f"{tot[CRASHED]} crashed**",
        "",
        "| operator | cases | passed | failed | unsupported | crashed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in sorted(by_op, key=str.lower):
        c = by_op[op]
        lines.append(f"| {op} | {sum(c.values())} | {c[PASSED]} | {c[FAILED]} | {c[UNSUPPORTED]} | {c[CRASHED]} |")
    lines.append(f"| **total** | {len(results)} | {tot[PASSED]} | {tot[FAILED]} | {tot[UNSUPPORTED]} | {tot[CRASHED]} |")
    reasons = {}
    for r in results:
        if r["status"] == UNSUPPORTED:  # the message without file, node and tensor names
            m = re.search(r"\((\w+)\): error: ", r["detail"])
            why = re.sub(r"^.*?error: (node '[^']*': )?", "", r["detail"])
            why = re.sub(r" \(opset \d+\)| \(did you mean .*\)$", "", why)
            why = (m.group(1) + ": " if m else "") + re.sub(r"'[^']*'", "'...'", why)
            reasons[why] = reasons.get(why, 0) + 1
    if reasons:
        lines += ["", "## Most common reasons for skips", "", "| cases | reason |", "|---:|---|"]
        for why, k in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))[:40]:
            lines.append(f"| {k} | {why.replace('|', chr(92) + '|')} |")
    bad = [r for r in results if r["status"] in (FAILED, CRASHED)]
    if bad:
        lines += ["", "## Failed and crashed cases", "", "| case | status | why |", "|---|---|---|"]
        for r in sorted(bad, key=lambda r: r["case"]):
            why = r["detail"].replace("|", "\\|")
            lines.append(f"| {r['case']} | {r['status']} | {why} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="cases run in parallel")
    ap.add_argument("-k", "--filter", help="only cases whose name matches this regular expression")
    ap.add_argument("--data", help="run the cases in this folder instead (e.g. onnx's "
                    "backend/test/data/pytorch-converted); expected_pass.txt is then left out")
    ap.add_argument("--update", action="store_true", help="rewrite expected_pass.txt with the cases that pass")
    ap.add_argument("--keep", action="store_true", help="keep the work folders of passing cases too")
    ap.add_argument("--nncc-arg", action="append", default=[],
                    help="pass this option to nncc too (e.g. --nncc-arg=-O0); repeatable")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    args = ap.parse_args()

    nncc = os.environ.get("NNCC")
    bindir = os.environ.get("NNCC_BINARY_DIR")
    if not nncc or not bindir:
        print("run.py needs NNCC and NNCC_BINARY_DIR (CTest sets them)", file=sys.stderr)
        return 2
    cc = os.environ.get("CC", "cc")
    root = os.path.join(bindir, "onnx_backend")
    data = args.data or shipped_data_dir() or generated_data_dir(os.path.join(root, "data"))
    work = os.path.join(root, "work")
    os.makedirs(work, exist_ok=True)
    cases = sorted(d for d in os.listdir(data) if os.path.isfile(os.path.join(data, d, "model.onnx")))
    if args.filter:
        cases = [c for c in cases if re.search(args.filter, c)]

    t0 = time.time()
    rt_lib, rt_files = build_runtime(nncc, cc, work)
    env = Env(nncc, args.nncc_arg, cc, work, rt_lib, rt_files, args.keep)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(run_case, env, os.path.join(data, c)): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            try:
                r = fut.result()
            except Exception as e:  # a bug of this script: report it, keep going
                r = {"case": futs[fut], "op": op_of(futs[fut], None), "status": FAILED,
                     "detail": f"run.py: {type(e).__name__}: {e}"}
            results.append(r)
            if args.verbose and r["status"] in (FAILED, CRASHED):
                print(f"{r['status'].upper()}: {r['case']}: {r['detail']}", flush=True)
    seconds = time.time() - t0
    report = os.path.join(bindir, "onnx_backend_report.md")
    write_report(report, results, seconds)
    with open(os.path.join(root, "results.tsv"), "w") as f:  # every case, with why
        for r in sorted(results, key=lambda r: r["case"]):
            f.write(f"{r['case']}\t{r['op']}\t{r['status']}\t{r['detail']}\n")

    passed = {r["case"] for r in results if r["status"] == PASSED}
    n_fail = sum(1 for r in results if r["status"] in (FAILED, CRASHED))
    n_skip = sum(1 for r in results if r["status"] == UNSUPPORTED)
    expected = set()
    if os.path.exists(EXPECTED):
        with open(EXPECTED) as f:
            expected = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    ran = set(cases)
    status = 0
    if args.data:
        pass  # other cases than the list's
    elif args.update:
        keep = expected - ran  # cases outside the filter stay as they were
        with open(EXPECTED, "w") as f:
            f.write("# ONNX backend node tests that nncc passes (tests/onnx_backend/run.py --update)\n")
            f.write("".join(c + "\n" for c in sorted(keep | passed)))
        print(f"wrote {EXPECTED}: {len(keep | passed)} cases")
    else:
        by_case = {r["case"]: r for r in results}
        regressed = sorted((expected & ran) - passed)
        new = sorted(passed - expected)
        missing = sorted(expected - set(os.listdir(data))) if not args.filter else []
        for c in regressed:
            print(f"REGRESSION: {c} ({by_case[c]['status']}: {by_case[c]['detail']})")
        for c in new:
            print(f"NEW PASS: {c} (add it to expected_pass.txt: run.py --update)")
        for c in missing:
            print(f"warning: {c} is listed in expected_pass.txt but this onnx has no such case")
        if regressed or new:
            status = 1
    print(f"report: {report} ({seconds:.0f} s, {args.jobs} jobs)")
    print(f"{len(passed)} passed, {n_fail} failed, {n_skip} skipped")
    return status


if __name__ == "__main__":
    sys.exit(main())
