"""test_memplan.py - the arena plan of real models, through the generated code.

- every sample at -O0 and -O2, compiled with --canary (guard bytes around
  every arena tensor, checked after each node), built with gcc, run and
  compared with ONNX Runtime; and the same executable under valgrind
  memcheck (skipped with a message when valgrind is missing);
- the canary check itself: a kernel call patched to write one element too
  many must make the run fail with the node's code;
- a branching model listed breadth first: the schedule pass must reorder it
  below the model order's lower bound, and the result still match ORT;
- --report gives arena <= 1.02 x lower bound on every sample; --memory-map
  lists every arena tensor; --max-arena fails naming the peak step;
  -DPREFIX_MAX_ARENA stops the C build when the arena does not fit and is
  silent (-Wall -Wextra -pedantic -Werror, gcc and clang) when it does.
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SAMPLES = ["feature_extractor", "feature_extractor_unfused", "weightnorm_mlp", "adaptive_dropout"]
# the same reason as test_samples.py: float32 sums in another order than ORT's
TOL = 1e-4
VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--quiet", "--track-origins=no"]


def sample_inputs(name):
    return [np.load(os.path.join(H.SAMPLES, name + ".input.npy"))]


def check_canary_runs(t):
    have_vg = shutil.which("valgrind") is not None
    if not have_vg:
        print("SKIPPED (valgrind part): valgrind is not installed")
    for name in SAMPLES:
        for opt in ("-O0", "-O2"):
            onnx_path = os.path.join(H.SAMPLES, name + ".onnx")
            out = H.tmp_dir("memplan", "%s%s" % (name, opt))
            label = "%s %s --canary" % (name, opt)
            try:
                m = H.compile_model(onnx_path, os.path.join(out, "gen"), opt=opt, extra=["--canary"])
                exe = H.build(m, cflags=["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-pedantic", "-Werror"])
                xs = sample_inputs(name)
                ref = H.run_ort(onnx_path, xs)
                got = H.run(m, exe, xs)
                err = max(H.rel_err(g, r) for g, r in zip(got, ref))
                t.check(err <= TOL, "%s: max rel err %.3e" % (label, err))
                if have_vg:
                    got = H.run(m, exe, xs, wrapper=VALGRIND)
                    err = max(H.rel_err(g, r) for g, r in zip(got, ref))
                    t.check(err <= TOL, "%s under valgrind: max rel err %.3e" % (label, err))
                print("%-45s ok%s" % (label, " (and valgrind memcheck)" if have_vg else ""))
            except H.HarnessError as e:
                t.check(False, "%s: %s" % (label, e))


def check_canary_catches(t):
    """One element too many in a Relu (written in place at -O0) must trip the guard."""
    name = "feature_extractor_unfused"
    onnx_path = os.path.join(H.SAMPLES, name + ".onnx")
    out = H.tmp_dir("memplan", "canary-catch")
    m = H.compile_model(onnx_path, os.path.join(out, "gen"), opt="-O0", extra=["--canary"])
    with open(m.c_path) as f:
        src = f.read()
    call = re.search(r"nncc_unary_f32\(\d+, [^,]+, [^,]+, (\d+), ", src)
    if not t.check(call is not None, "canary: no Relu call found to patch"):
        return
    n = int(call.group(1))
    src = src[:call.start(1)] + str(n + 1) + src[call.end(1):]
    with open(m.c_path, "w") as f:
        f.write(src)
    exe = H.build(m, cflags=["-std=c99", "-O1", "-Wall", "-Wextra", "-pedantic", "-Werror"])
    try:
        H.run(m, exe, sample_inputs(name))
        t.check(False, "canary: a Relu writing one float too many was not caught")
    except H.HarnessError as e:
        msg = str(e)
        ok = re.search(r"returned 10\d\d", msg) is not None
        t.check(ok, "canary: the overflow was not reported as 1000 + node: %s" % msg[-300:])
        print("canary catches a one-element overflow: %s" % ("ok" if ok else "FAIL"))


def make_branchy(path):
    """x -> two 1x1-conv branches (wide then narrow) -> Add, listed breadth first."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.RandomState(7)

    def w(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)
    inits = [w("wa1", 32, 4, 1, 1), w("wb1", 32, 4, 1, 1), w("wa2", 2, 32, 1, 1), w("wb2", 2, 32, 1, 1)]
    nodes = [helper.make_node("Conv", ["x", "wa1"], ["a1"], name="a1"),
             helper.make_node("Conv", ["x", "wb1"], ["b1"], name="b1"),
             helper.make_node("Relu", ["a1"], ["a1r"], name="a1r"),
             helper.make_node("Relu", ["b1"], ["b1r"], name="b1r"),
             helper.make_node("Conv", ["a1r", "wa2"], ["a2"], name="a2"),
             helper.make_node("Conv", ["b1r", "wb2"], ["b2"], name="b2"),
             helper.make_node("Add", ["a2", "b2"], ["y"], name="add")]
    g = helper.make_graph(nodes, "branchy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 16, 16])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)


def report(path, *extra):
    p = H.nncc_cmd([path, "--report"] + list(extra), check=True)
    mp = re.search(r"^memplan: arena (\d+) bytes, lower bound (\d+) for this order \(ratio ([\d.]+)\), "
                   r"(proven optimal|not proven optimal).*naive sum (\d+), weights (\d+) bytes", p.stderr, re.M)
    if not mp:
        raise H.HarnessError("no memplan line in the report of %s:\n%s" % (path, p.stderr))
    return (int(mp.group(1)), int(mp.group(2)), mp.group(4), int(mp.group(5))), p.stderr


def check_schedule(t):
    out = H.tmp_dir("memplan", "branchy")
    path = os.path.join(out, "branchy.onnx")
    make_branchy(path)
    (arena, bound, _, _), text = report(path)
    sched = re.search(r"^schedule: reordered by [a-z ]+: greedy arena (\d+) -> (\d+) bytes \(lower bound of the "
                      r"model's order (\d+)\)", text, re.M)
    if not t.check(sched is not None, "branchy: the schedule pass did not reorder:\n" + text):
        return
    model_bound = int(sched.group(3))
    print("branchy: model order's lower bound %d, reordered arena %d (bound %d)" % (model_bound, arena, bound))
    t.check(arena < model_bound, "branchy: arena %d not below the model order's bound %d" % (arena, model_bound))
    for opt in ("-O0", "-O2"):
        m = H.compile_model(path, os.path.join(out, "gen" + opt), opt=opt, extra=["--canary"])
        exe = H.build(m)
        x = np.random.RandomState(3).standard_normal((1, 4, 16, 16)).astype(np.float32)
        err = H.rel_err(H.run(m, exe, [x])[0], H.run_ort(path, [x])[0])
        t.check(err <= TOL, "branchy %s: max rel err %.3e" % (opt, err))


def check_report_and_limits(t):
    for name in SAMPLES:
        path = os.path.join(H.SAMPLES, name + ".onnx")
        (arena, bound, proven, naive), text = report(path)
        print("%-28s arena %8d  bound %8d  naive %8d  %s" % (name, arena, bound, naive, proven))
        t.check(arena <= 1.02 * bound, "%s: arena %d > 1.02 x bound %d" % (name, arena, bound))
        t.check(bound <= arena <= naive or naive == 0, "%s: bound %d, arena %d, naive %d out of order"
                % (name, bound, arena, naive))
        t.check(re.search(r"^memplan: peak at step \d+, node '", text, re.M) is not None,
                "%s: no peak line in the report" % name)
        mm = H.nncc_cmd([path, "--memory-map"], check=True).stdout
        t.check("memory map of" in mm and "arena over time" in mm, "%s: --memory-map printed:\n%s" % (name, mm))
        # --max-arena: exactly the arena fits, one byte less fails naming the peak
        if arena > 0:
            H.nncc_cmd([path, "--max-arena", str(arena)], check=True)
            p = H.nncc_cmd([path, "--max-arena", str(arena - 1)])
            ok = p.returncode == 1 and ("more than --max-arena %d" % (arena - 1)) in p.stderr and \
                "the peak is at step" in p.stderr and "node '" in p.stderr
            t.check(ok, "%s: --max-arena %d: exit %d, %s" % (name, arena - 1, p.returncode, p.stderr))
    for bad in (["--align", "3"], ["--align", "0"], ["--max-arena", "-5"], ["--plan-time", "x"]):
        p = H.nncc_cmd([os.path.join(H.SAMPLES, "weightnorm_mlp.onnx")] + bad)
        t.check(p.returncode == 2, "%s: exit %d, want 2" % (" ".join(bad), p.returncode))


def check_max_arena_macro(t):
    name = "feature_extractor"
    out = H.tmp_dir("memplan", "macro")
    m = H.compile_model(os.path.join(H.SAMPLES, name + ".onnx"), out, name="model", extra=["--align", "64"])
    arena = int(re.search(r"#define MODEL_ARENA_SIZE (\d+)u", m.header).group(1))
    for cc in ("gcc", "clang"):
        if not shutil.which(cc):
            print("SKIPPED: %s not installed" % cc)
            continue
        base = [cc] + H.CFLAGS + ["-Wunused", "-I", out, "-c", m.c_path, "-o", os.path.join(out, "m.o")]
        ok = subprocess.run(base + ["-DMODEL_MAX_ARENA=%d" % arena], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
        t.check(ok.returncode == 0, "%s: -DMODEL_MAX_ARENA=%d (fits) failed:\n%s" % (cc, arena, ok.stdout))
        bad = subprocess.run(base + ["-DMODEL_MAX_ARENA=%d" % (arena - 1)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
        t.check(bad.returncode != 0 and "larger than MODEL_MAX_ARENA" in bad.stdout,
                "%s: -DMODEL_MAX_ARENA=%d (too small) did not stop the build:\n%s" % (cc, arena - 1, bad.stdout))
        print("%s: MODEL_MAX_ARENA check ok" % cc)
    # --align 64: every planned offset in the banners is a multiple of 64
    with open(m.c_path) as f:
        offs = [int(x) for x in re.findall(r"@ws\+(\d+)", f.read())]
    t.check(offs and all(o % 64 == 0 for o in offs), "--align 64: offsets %s" % offs)


def main():
    H.have_nncc_env()
    t = H.Tally()
    check_report_and_limits(t)
    check_max_arena_macro(t)
    check_canary_catches(t)
    check_schedule(t)
    check_canary_runs(t)
    t.finish()


if __name__ == "__main__":
    main()
