"""test_samples.py - every sample model, compiled by nncc at -O0 and -O2,
built with gcc and clang (-std=c99 -O2 -Wall -Wextra -pedantic -Werror) and
with gcc plus ASan/UBSan, run,
and compared with ONNX Runtime at batch 1 and (for the dynamic-batch exports)
batch 4. The trained digits model and the hand-written text-format sample
(hand_cnn.nng, compared with its numpy reference from test_text_sample.py:
ONNX Runtime cannot read it) are built with gcc only, to keep the run short.
Also checks that -O2 folds BatchNorm and fuses Relu.

Prints the max relative error of every model/variant and `N passed, M failed`;
exits 1 on any failure.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# Tolerance: max |nncc - ORT| <= 1e-4 * max |ORT|. Both compute in float32,
# but nncc's kernels and ORT's (MLAS, with blocked and vectorised sums) add
# the products of each dot product in a different order, so results differ
# in the last bits, and by more the longer the sums (4096-long in the
# classifier). 1e-4 relative is far above that rounding noise and far below
# any real bug (a wrong weight, offset or fold gives errors of order 1).
TOL = 1e-4

SAMPLES = ["feature_extractor", "feature_extractor_unfused", "weightnorm_mlp", "adaptive_dropout"]
MORE_SAMPLES = ["digits_cnn", "hand_cnn.nng"]  # gcc only
COMPILERS = ["gcc", "clang"]
OPTS = ["-O0", "-O2"]
# plus one build per model and nncc -O level with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc), which stop at the first out-of-bounds
# access or undefined operation in the generated code or the runtime
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def model_path(name):
    return os.path.join(H.SAMPLES, name if name.endswith(".nng") else name + ".onnx")


def reference(name, xs):
    """The outputs to compare with: ONNX Runtime, or for a .nng sample numpy."""
    if name.endswith(".nng"):
        import test_text_sample as TS
        return [TS.reference(xs[0], TS.D.weights())]
    return H.run_ort(model_path(name), xs)


def inputs_for(name, m):
    """[(label, [arrays])]: batch 1 from the sample's .input.npy (seeded random
    in [0, 1) for a .nng); batch 4 for dynamic-batch models (the sample's
    input4 if it has one, else seeded random)."""
    if name.endswith(".nng"):
        rng = np.random.RandomState(99)
        shape = m.inputs[0].shape(1)
        return [("batch1", [rng.random_sample(shape).astype(np.float32)]),
                ("batch4", [rng.random_sample((4,) + shape[1:]).astype(np.float32)])]
    x1 = np.load(os.path.join(H.SAMPLES, name + ".input.npy"))
    cases = [("batch1", [x1])]
    if m.has_batch:
        p4 = os.path.join(H.SAMPLES, name + ".input4.npy")
        if os.path.exists(p4):
            x4 = np.load(p4)
        else:
            rng = np.random.RandomState(1234)
            x4 = rng.standard_normal((4,) + x1.shape[1:]).astype(np.float32)
        cases.append(("batch4", [x4]))
    return cases


def one_variant(name, opt, cc):
    """Compile, build, run one variant; returns a list of (label, err, message)."""
    onnx_path = model_path(name)
    out = H.tmp_dir("samples", "%s%s-%s" % (name, opt, cc))
    res = []
    try:
        m = H.compile_model(onnx_path, os.path.join(out, "gen"), name=name.split(".")[0], opt=opt)
        if cc == "gcc-sanitize":
            exe = H.build(m, cc="gcc", cflags=H.CFLAGS + SANITIZE, builddir=os.path.join(out, "build-san"))
        else:
            exe = H.build(m, cc=cc)
        for label, xs in inputs_for(name, m):
            got = H.run(m, exe, xs)
            ref = reference(name, xs)
            errs = [H.rel_err(g, r) for g, r in zip(got, ref)]
            err = max(errs) if errs else 0.0
            extra = ""
            tp = os.path.join(H.SAMPLES, name + (".output.npy" if label == "batch1" else ".output4.npy"))
            if os.path.exists(tp):
                extra = " (vs torch reference %.2e)" % H.rel_err(got[0], np.load(tp))
            res.append(("%s %s %s %s" % (name, opt, cc, label), err, extra))
    except H.HarnessError as e:
        res.append(("%s %s %s" % (name, opt, cc), float("inf"), "\n" + str(e)))
    return res


def graph_counts(name, opt):
    lines = H.graph_after_passes([os.path.join(H.SAMPLES, name + ".onnx"), opt])
    return (sum("= Relu(" in l for l in lines), sum("= BatchNormalization(" in l for l in lines),
            "\n".join(lines))


def main():
    H.have_nncc_env()
    t = H.Tally()
    jobs = [(n, o, c) for n in SAMPLES for o in OPTS for c in COMPILERS + ["gcc-sanitize"]] + \
        [(n, o, "gcc") for n in MORE_SAMPLES for o in OPTS]
    # two at a time: each job is mostly one compiler process
    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(lambda j: one_variant(*j), jobs))
    for res in results:
        for label, err, extra in res:
            ok = err <= TOL
            print("%-50s max rel err %.3e%s %s" % (label, err, extra, "ok" if ok else "FAIL"))
            t.check(ok, "%s: max rel err %.3e > %g%s" % (label, err, TOL, extra.split("\n")[0])
                    if not ok else label)

    # -O2 graph: BatchNorm folded into Conv, Relu fused into its producer
    relu, bn, text = graph_counts("feature_extractor_unfused", "-O2")
    print("feature_extractor_unfused -O2: %d Relu, %d BatchNormalization nodes left" % (relu, bn))
    if not t.check(relu == 0 and bn == 0, "feature_extractor_unfused -O2 still has %d Relu and %d "
                   "BatchNormalization nodes" % (relu, bn)):
        print(text)
    relu, bn, text = graph_counts("feature_extractor", "-O2")
    print("feature_extractor -O2: %d Relu, %d BatchNormalization nodes left" % (relu, bn))
    if not t.check(relu == 0 and bn == 0, "feature_extractor -O2 still has %d Relu and %d "
                   "BatchNormalization nodes" % (relu, bn)):
        print(text)
    # and -O0 keeps them (the unfused baseline really is unfused)
    relu, bn, _ = graph_counts("feature_extractor_unfused", "-O0")
    print("feature_extractor_unfused -O0: %d Relu, %d BatchNormalization nodes" % (relu, bn))
    t.check(relu == 2 and bn == 2, "feature_extractor_unfused -O0 has %d Relu and %d BatchNormalization "
            "nodes, want 2 and 2" % (relu, bn))
    t.finish()


if __name__ == "__main__":
    main()
