"""test_text_sample.py - the hand-written text-format sample, samples/hand_cnn.nng:
compiled by nncc at -O0 and -O2, built with gcc, run at batch 1 and 3, and
compared with the same network computed here in numpy (float64), from the
weight definitions in samples/make_hand_cnn.py - no ONNX, no nncc code
involved in the reference.

Also checks that the committed side files (hand_cnn.bin, hand_cnn.fc1.npy)
are what make_hand_cnn.py writes, so the sample, its script and this test
describe the same network.

Tolerance: max |nncc - numpy| <= 1e-5 * max |numpy|. nncc computes in float32
(sums of up to 128 products in its own order), numpy in float64 from the
same float32 weights: the difference is float32 rounding, around 1e-7
relative for sums this short; 1e-5 leaves room for that and catches any
wrong weight, offset or layout (errors of order 1e-1 and more).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

sys.path.insert(0, H.SAMPLES)
import make_hand_cnn as D  # noqa: E402

TOL = 1e-5


def reference(x, w):
    """hand_cnn.nng in numpy: x [N,1,8,8] -> probabilities [N,10]."""
    x = x.astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    n = x.shape[0]
    # Conv 3x3, pad 1, 8 output channels, one input channel
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.zeros((n, 8, 8, 8))
    for i in range(8):
        for j in range(8):
            patch = xp[:, :, i:i + 3, j:j + 3]                    # [N,1,3,3]
            c[:, :, i, j] = np.einsum("nkab,okab->no", patch, w["conv1.w"])
    c += w["conv1.b"][None, :, None, None]
    r = np.maximum(c, 0)
    p = r.reshape(n, 8, 4, 2, 4, 2).max(axis=(3, 5))              # MaxPool 2x2, stride 2
    f = p.reshape(n, 128)
    h = np.maximum(f @ w["fc1.w"].T + w["fc1.b"], 0)
    z = h @ w["fc2.w"].T + w["fc2.b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    H.have_nncc_env()
    check = H.Tally()
    w = D.weights()
    with open(os.path.join(H.SAMPLES, "hand_cnn.bin"), "rb") as f:
        check.check(f.read() == D.bin_bytes(w), "hand_cnn.bin is what make_hand_cnn.py writes")
    npy = np.load(os.path.join(H.SAMPLES, "hand_cnn.fc1.npy"))
    check.check(npy.dtype == np.float32 and np.array_equal(npy, w["fc1.w"]),
                "hand_cnn.fc1.npy is what make_hand_cnn.py writes")

    nng = os.path.join(H.SAMPLES, "hand_cnn.nng")
    rng = np.random.RandomState(7)
    for opt in ["-O0", "-O2"]:
        out = H.tmp_dir("text_sample", opt)
        m = H.compile_model(nng, out, name="digits", opt=opt)
        check.check(m.has_batch, "%s: the symbolic N is a run-time batch argument" % opt)
        exe = H.build(m, cc="gcc")
        for batch in [1, 3]:
            x = rng.random_sample((batch, 1, 8, 8)).astype(np.float32)
            got = H.run(m, exe, [x], batch=batch)[0]
            ref = reference(x, w)
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            print("hand_cnn %s batch %d: max error %.2e (relative to the largest output)" % (opt, batch, err))
            check.check(got.shape == (batch, 10) and err <= TOL,
                        "%s batch %d: nncc matches numpy (error %.2e, tolerance %g)" % (opt, batch, err, TOL))
    check.finish()


if __name__ == "__main__":
    main()
