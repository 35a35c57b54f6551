"""test_neon.py - the AArch64 NEON path, run on this x86 machine under
qemu-user: cross-compiles with aarch64-linux-gnu-gcc (-O2, NEON is part of
ARMv8-A) and runs with `qemu-aarch64 -L /usr/aarch64-linux-gnu`:

  1. the runtime's kernel tests (tests/unit/test_kernels.c: packed conv
     against the direct reference; test_kernels_gemm.c: packed Gemm/MatMul
     against the reference), built against tests/unit/cmocka_min/cmocka.h
     (CMocka has no AArch64 cross package); test_kernels_gemm must report
     that the runtime runs the NEON micro-kernel (nncc_sgemm_kernel());
  2. the disassembly of nncc_rt_sgemm.o holds vector FMAs (fmla vN.4s);
  3. a generated model (samples/feature_extractor.onnx, nncc -O2: packed
     convolutions and the packed Gemm), cross-compiled with the e2e harness,
     whose output must match ONNX Runtime and the x86 build of the same C
     within 1e-4 relative.

Skips (exit 77, CTest: skipped) with the reason when the cross compiler,
its libc or qemu is missing; scripts/setup.sh installs them
(gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CROSS = "aarch64-linux-gnu-gcc"
OBJDUMP = "aarch64-linux-gnu-objdump"
QEMU = "qemu-aarch64"
SYSROOT = "/usr/aarch64-linux-gnu"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror"]
# nncc's NEON kernels sum in another order than ORT's MLAS (and than the x86
# build): float32 rounding over a few hundred terms, far below 1e-4
TOL = 1e-4


def sh(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, **kw)
    if p.returncode != 0:
        raise H.HarnessError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, p.stdout[-4000:]))
    return p.stdout


def main():
    H.have_nncc_env()
    missing = [t for t in (CROSS, OBJDUMP, QEMU) if not shutil.which(t)]
    if not os.path.isdir(os.path.join(SYSROOT, "lib")):
        missing.append(SYSROOT + " (libc6-dev-arm64-cross)")
    if missing:
        print("SKIPPED: no %s: install gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user "
              "(scripts/setup.sh does)" % ", ".join(missing))
        sys.exit(77)
    t = H.Tally()
    d = H.tmp_dir("neon")
    src = H.SOURCE_DIR
    runtime = sorted(glob.glob(os.path.join(src, "runtime", "nncc_rt_*.c")))
    qemu = [QEMU, "-L", SYSROOT]
    try:
        # 1. the kernel tests
        inc = ["-I", os.path.join(src, "tests", "unit", "cmocka_min"), "-I", os.path.join(src, "runtime")]
        objs = []
        for c in runtime:
            o = os.path.join(d, os.path.basename(c)[:-2] + ".o")
            sh([CROSS] + CFLAGS + inc + ["-c", c, "-o", o])
            objs.append(o)
        tests = [("test_kernels", []), ("test_kernels_gemm", ['-DNNCC_TEST_EXPECT_KERNEL="NEON"'])]
        for name, defs in tests:
            exe = os.path.join(d, name)
            sh([CROSS] + CFLAGS + defs + inc + ["-o", exe, os.path.join(src, "tests", "unit", name + ".c")] + objs +
               ["-lm"])
            p = subprocess.run(qemu + [exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            print("%s under qemu-aarch64 (exit %d):\n%s" % (name, p.returncode, p.stdout.strip()))
            t.check(p.returncode == 0, "%s failed under qemu-aarch64 (exit %d)" % (name, p.returncode))
            if name == "test_kernels_gemm":
                t.check("micro-kernel: NEON" in p.stdout, "the AArch64 runtime does not run the NEON micro-kernel")

        # 2. vector FMAs in the packed GEMM
        dis = sh([OBJDUMP, "-d", os.path.join(d, "nncc_rt_sgemm.o")])
        n_fmla = len(re.findall(r"\bfmla\s+v\d+\.4s", dis))
        print("nncc_rt_sgemm.o (aarch64): %d vector fmla instructions" % n_fmla)
        t.check(n_fmla >= 24, "nncc_rt_sgemm.o has %d vector fmla instructions, the 6x16 NEON tile needs 24" % n_fmla)

        # 3. a generated model
        onnx_path = os.path.join(H.SAMPLES, "feature_extractor.onnx")
        m = H.compile_model(onnx_path, os.path.join(d, "fe"), name="model", opt="-O2")
        with open(m.c_path) as f:
            code = f.read()
        t.check(any(f + "(" in code for f in ("nncc_conv2d_gemm_f32", "nncc_conv2d_implicit_f32",
                                              "nncc_conv2d_implicit_pool_f32")),
                "feature_extractor -O2 does not use the packed convolution")
        # (its 10-column Gemm stays unpacked; nncc_sgemm_f32 runs under qemu in
        # the kernel tests above)
        x = np.load(os.path.join(H.SAMPLES, "feature_extractor.input.npy")).astype(np.float32)
        arm = H.build(m, cc=CROSS, cflags=CFLAGS, builddir=os.path.join(d, "fe-arm"))
        got = H.run(m, arm, [x], wrapper=qemu)
        host = H.run(m, H.build(m, cc="gcc", builddir=os.path.join(d, "fe-x86")), [x])
        ref = H.run_ort(onnx_path, [x])
        e_ort = max(H.rel_err(a, b) for a, b in zip(got, ref))
        e_x86 = max(H.rel_err(a, b) for a, b in zip(got, host))
        print("feature_extractor, aarch64 under qemu: max rel err %.3e vs ONNX Runtime, %.3e vs the x86 build"
              % (e_ort, e_x86))
        t.check(e_ort <= TOL, "feature_extractor on aarch64: max rel err %.3e vs ONNX Runtime > %g" % (e_ort, TOL))
        t.check(e_x86 <= TOL, "feature_extractor on aarch64: max rel err %.3e vs x86 > %g" % (e_x86, TOL))
    except H.HarnessError as e:
        print(e)
        t.check(False, str(e).splitlines()[0])
    t.finish()


if __name__ == "__main__":
    main()
