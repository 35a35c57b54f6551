"""test_text_roundtrip.py - ONNX -> text -> C gives the same C as ONNX -> C.

For every sample model (samples/*.onnx), at -O0 and -O2:

    nncc M.onnx --emit-graph t/M.nng               (the graph as loaded, weights in t/M.nng.bin)
    nncc M.onnx -o a/m.c --name m                  (direct)
    nncc t/M.nng -o b/m.c --name m                 (through the text format)

and every file in a/ must equal its twin in b/ byte for byte: --name fixes
the identifier prefix, and the .nng's `source "M.onnx"` line makes the
header comment name the same model file.

Also: the text written from the .nng equals the text written from the .onnx
(the format is a fixed point of read/write), apart from its first comment line.

The same checks run on the models the onnx package ships under
onnx/backend/test/data (those nncc compiles), for breadth.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def compare_dirs(a, b, src_name, nng_name):
    """None if a/ and b/ hold byte-identical files; else why not. (The .nng
    carries `source "X.onnx"`, so even the header comment naming the model
    file must agree.)"""
    fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
    if fa != fb:
        return "different files: %s vs %s" % (fa, fb)
    for name in fa:
        la, lb = read(os.path.join(a, name)).split(b"\n"), read(os.path.join(b, name)).split(b"\n")
        if len(la) != len(lb):
            return "%s: %d lines vs %d" % (name, len(la), len(lb))
        diff = [i for i in range(len(la)) if la[i] != lb[i]]
        if not diff:
            continue
        if diff:
            return "%s differs at lines %s: %r vs %r" % (name, [d + 1 for d in diff[:5]], la[diff[0]],
                                                          lb[diff[0]])
    return None


def roundtrip(model, label, check):
    stem = os.path.splitext(os.path.basename(model))[0]
    base = H.tmp_dir("text_roundtrip", label)
    tdir = os.path.join(base, "t")
    os.makedirs(tdir)
    nng = os.path.join(tdir, stem + ".nng")
    p = H.nncc_cmd([model, "--emit-graph", nng])
    if p.returncode != 0:
        return check.check(False, "%s: --emit-graph failed: %s" % (label, p.stderr.strip()))
    # text -> text is a fixed point (but for the comment naming the source)
    nng2 = os.path.join(tdir, "again.nng")
    p = H.nncc_cmd([nng, "--emit-graph", nng2])
    t1, t2 = read(nng).split(b"\n"), read(nng2).split(b"\n")
    same = p.returncode == 0 and len(t1) == len(t2) and all(
        x == y.replace(b"again.nng", (stem + ".nng").encode()) for x, y in zip(t1[1:], t2[1:]))
    if os.path.exists(nng + ".bin"):
        same = same and read(nng + ".bin") == read(nng2 + ".bin")
    check.check(same, "%s: text written from the .nng equals the text written from the model" % label)
    for opt in ["-O0", "-O2"]:
        a, b = os.path.join(base, "a" + opt), os.path.join(base, "b" + opt)
        os.makedirs(a)
        os.makedirs(b)
        pa = H.nncc_cmd([model, "-o", os.path.join(a, "m.c"), "--name", "m", opt])
        pb = H.nncc_cmd([nng, "-o", os.path.join(b, "m.c"), "--name", "m", opt])
        if pa.returncode != 0:
            check.check(pb.returncode != 0, "%s %s: fails from text as from the model" % (label, opt))
            continue
        if pb.returncode != 0:
            check.check(False, "%s %s: compiling the text failed: %s" % (label, opt, pb.stderr.strip()))
            continue
        why = compare_dirs(a, b, os.path.basename(model), os.path.basename(nng))
        check.check(why is None, "%s %s: byte-identical C%s" % (label, opt, "" if why is None else ": " + why))


def main():
    H.have_nncc_env()
    check = H.Tally()
    samples = sorted(glob.glob(os.path.join(H.SAMPLES, "*.onnx")))
    check.check(len(samples) >= 4, "found %d sample models" % len(samples))
    for m in samples:
        roundtrip(m, os.path.splitext(os.path.basename(m))[0], check)
    # breadth: the onnx package's own small models, where nncc compiles them
    try:
        import onnx
        data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
        extra = sorted(glob.glob(os.path.join(data, "*", "*", "model.onnx")))
    except ImportError:
        extra = []
    n = 0
    for m in extra:
        if H.nncc_cmd([m]).returncode != 0:
            continue  # nncc does not compile it: nothing to compare
        n += 1
        roundtrip(m, "onnx-" + os.path.basename(os.path.dirname(m)), check)
    print("onnx package models compared: %d of %d" % (n, len(extra)))
    check.finish()


if __name__ == "__main__":
    main()
