"""test_determinism.py - compiling the same model twice gives byte-identical
files (the .c, the .h and the runtime files), for each sample at -O2 and for
feature_extractor_unfused at -O0. The two runs use different directories (the
directory must not leak into the output) and the same --name.
"""
import filecmp
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CASES = [("feature_extractor", "-O2"), ("feature_extractor_unfused", "-O2"),
         ("feature_extractor_unfused", "-O0"), ("weightnorm_mlp", "-O2"), ("adaptive_dropout", "-O2")]


def main():
    H.have_nncc_env()
    t = H.Tally()
    for name, opt in CASES:
        onnx_path = os.path.join(H.SAMPLES, name + ".onnx")
        dirs = [H.tmp_dir("determinism", "%s%s-%s" % (name, opt, run)) for run in ("a", "b")]
        for d in dirs:
            H.compile_model(onnx_path, d, name="model", opt=opt)
        files = [sorted(os.listdir(d)) for d in dirs]
        if not t.check(files[0] == files[1], "%s %s: different file lists %s / %s"
                       % (name, opt, files[0], files[1])):
            continue
        _, mismatch, errors = filecmp.cmpfiles(dirs[0], dirs[1], files[0], shallow=False)
        ok = t.check(not mismatch and not errors, "%s %s: files differ between two runs: %s"
                     % (name, opt, ", ".join(mismatch + errors)))
        print("%s %s: %d files %s" % (name, opt, len(files[0]), "identical" if ok else "DIFFER"))
    t.finish()


if __name__ == "__main__":
    main()
