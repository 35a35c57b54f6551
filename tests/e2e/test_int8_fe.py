"""test_int8_fe.py - the int8 feature_extractor (samples/feature_extractor.onnx,
calibrated on 8 seeded random images: its weights are random too, so real
images would say no more):

1. Weight size: the generated model.c compiled alone with gcc -O2 holds the
   weights (static const, in .rodata) and the run function; `size` on that
   object (text + data) of the int8 model is <= 27% of the float one's (the
   smaller of the float -O0 and -O2 objects: -O2 pads its packed panels).
2. The int8 outputs stay close to the float outputs on the calibration
   images (relative error below 10% of the largest logit: 8-bit activations
   through two convolutions and a 4096-long dot product, about 4 steps of
   the output scale; the accuracy bound that matters is in test_int8.py).
   The build with -mavx2 (the kernels' AVX2 path) gives the same bytes.
3. Cortex-M4: every generated file cross-compiles with arm-none-eabi-gcc
   (-Wall -Wextra -pedantic -Werror), and the int8 kernels
   (nncc_conv2d_i8, nncc_gemm_i8, nncc_maxpool2d_i8, where the inner loops
   are, and every helper of nncc_rt_int8.c they call: all its functions)
   contain no floating-point instruction: with -mfloat-abi=soft (an M4
   without FPU) their disassembly has no VFP instruction (mnemonics v*) and
   calls no __aeabi_* float or double helper; with -mfloat-abi=hard (an
   M4F) no VFP arithmetic or conversion (a v* instruction on .f32/.f64: gcc
   may still park 64-bit integers in d registers, vldr/vstr/vpush/vmov,
   which is no float operation). (Only QuantizeLinear/DequantizeLinear at the float edges
   use float: nncc_quantize in nncc_rt_quant.c, where the check must find
   VFP code, or it would be blind.)
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

KERNELS = ["nncc_conv2d_i8", "nncc_gemm_i8", "nncc_maxpool2d_i8"]
VFP_SOFT = r"\t(v[a-z0-9.]+)\s"                 # any VFP instruction
VFP_HARD = r"\tv[a-z]+(\.[a-z0-9]+)*\.f(32|64)\s"  # VFP arithmetic or conversion on floats
M4 = ["-mcpu=cortex-m4", "-mthumb", "-O2", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c"]


def size_of(obj):
    out = subprocess.run(["size", obj], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    text, data = out.splitlines()[1].split()[:2]
    return int(text) + int(data)


def functions(objdump_text):
    """{function: [instruction lines]} from objdump -dr output."""
    funcs, cur = {}, None
    for line in objdump_text.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            cur = m.group(1)
            funcs[cur] = []
        elif cur and line.strip():
            funcs[cur].append(line)
    return funcs


def main():
    H.have_nncc_env()
    t = H.Tally()
    fe = os.path.join(H.SAMPLES, "feature_extractor.onnx")
    calib = H.tmp_dir("int8_fe", "calib")
    rng = np.random.RandomState(20261127)
    xs = [rng.standard_normal((1, 3, 32, 32)).astype(np.float32) for _ in range(8)]
    for i, x in enumerate(xs):
        np.save(os.path.join(calib, "%02d.npy" % i), x)
    mf = H.compile_model(fe, H.tmp_dir("int8_fe", "f32"), name="fe")
    # the float weights as the model stores them: -O2 packs them into panels
    # (padded to whole panels), which would flatter the ratio, so the float
    # side is the smaller of the -O0 and -O2 objects
    mf0 = H.compile_model(fe, H.tmp_dir("int8_fe", "f32_O0"), name="fe", opt="-O0")
    mq = H.compile_model(fe, H.tmp_dir("int8_fe", "int8"), name="fe",
                         extra=["--quantize", "int8", "--calibration", calib])

    # 1. weights
    sizes = {}
    for tag, m in (("float", mf), ("float -O0", mf0), ("int8", mq)):
        obj = os.path.join(m.outdir, "fe.o")
        subprocess.run(["gcc"] + H.CFLAGS + ["-c", "-I", m.outdir, "-o", obj, m.c_path], check=True)
        sizes[tag] = size_of(obj)
    sizes["float"] = min(sizes["float"], sizes.pop("float -O0"))
    ratio = sizes["int8"] / sizes["float"]
    print("feature_extractor model.o (size: text + data): float %d bytes, int8 %d bytes, %.1f%%"
          % (sizes["float"], sizes["int8"], 100 * ratio))
    t.check(ratio <= 0.27, "int8 weights are %.1f%% of the float ones (> 27%%)" % (100 * ratio))

    # 2. numbers
    x = np.concatenate(xs)
    yf = H.run(mf, H.build(mf), [x])[0]
    yq = H.run(mq, H.build(mq), [x])[0]
    err = H.rel_err(yq, yf)
    print("int8 vs float logits on the calibration images: relative error %.4f" % err)
    t.check(err < 0.10, "int8 logits differ from float by %.4f (relative)" % err)
    if shutil.which("clang"):
        H.build(mq, cc="clang")  # warning-free with clang too (raises otherwise)
    # the AVX2 path gives the same bytes as the portable one (integer arithmetic: exact)
    if "avx2" in open("/proc/cpuinfo").read().split():
        exe = H.build(mq, cflags=H.CFLAGS + ["-mavx2"], builddir=os.path.join(mq.outdir, "build-avx2"))
        yv = H.run(mq, exe, [x])[0]
        t.check(np.array_equal(yv, yq), "AVX2 build differs from the portable one: max %g"
                % float(np.max(np.abs(yv - yq))))
        print("AVX2 build: outputs identical to the portable build")

    # 3. Cortex-M4
    cc = shutil.which("arm-none-eabi-gcc")
    if not cc:
        print("arm-none-eabi-gcc not found: Cortex-M4 checks skipped")
        t.finish()
    d = mq.outdir
    for src in sorted(f for f in os.listdir(d) if f.endswith(".c")):
        p = subprocess.run([cc] + M4 + ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-o", os.path.join(d, src + ".m4.o"),
                                        os.path.join(d, src)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        t.check(p.returncode == 0, "%s does not build for Cortex-M4:\n%s" % (src, p.stdout))
    for abi, extra in (("hard", ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]), ("soft", ["-mfloat-abi=soft"])):
        obj = os.path.join(d, "rt_int8_%s.o" % abi)
        subprocess.run([cc] + M4 + extra + ["-o", obj, os.path.join(d, "nncc_rt_int8.c")], check=True)
        dis = subprocess.run(["arm-none-eabi-objdump", "-dr", obj], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        funcs = functions(dis)
        for k in KERNELS:
            t.check(k in funcs, "%s: %s not in the object" % (abi, k))
        # every function of the int8 runtime, helpers the compiler did not
        # inline included
        for k in sorted(funcs):
            body = funcs[k]
            vfp = [ln for ln in body if re.search(VFP_SOFT if abi == "soft" else VFP_HARD, ln)]
            helpers = sorted(set(re.findall(r"(__aeabi_[fdil]\w*|__aeabi_[a-z0-9]*f\w*)", "\n".join(body))))
            helpers = [h for h in helpers if h.startswith(("__aeabi_f", "__aeabi_d", "__aeabi_i2f", "__aeabi_l2f",
                                                            "__aeabi_ui2f", "__aeabi_i2d", "__aeabi_l2d"))]
            t.check(not vfp, "%s-float: %s has VFP instructions: %s" % (abi, k, vfp[:3]))
            t.check(not helpers, "%s-float: %s calls float helpers %s" % (abi, k, helpers))
        if abi == "hard":  # the check can see VFP code: the float edge kernel has some
            qobj = os.path.join(d, "rt_quant_hard.o")
            subprocess.run([cc] + M4 + extra + ["-o", qobj, os.path.join(d, "nncc_rt_quant.c")], check=True)
            qdis = functions(subprocess.run(["arm-none-eabi-objdump", "-dr", qobj], stdout=subprocess.PIPE,
                                            universal_newlines=True, check=True).stdout)
            t.check(any(re.search(VFP_HARD, ln) for ln in qdis.get("nncc_quantize", [])),
                    "hard-float: no VFP instruction found in nncc_quantize (is the check blind?)")
        others = sorted(funcs)
        print("Cortex-M4 (%s float): %s: %d instructions, no %s, no float helper call"
              % (abi, ", ".join(others), sum(len(funcs[k]) for k in others),
                 "VFP instruction" if abi == "soft" else "VFP float arithmetic or conversion"))
    t.finish()


if __name__ == "__main__":
    main()
