"""test_cortex_m4.py - the generated code of feature_extractor (at -O2 and
-O0) cross-compiles for a Cortex-M4 with hardware single-precision floats,
warning-free, and needs nothing from the C library but math.h functions and
memcpy/memmove/memset: no malloc, no stdio, no other libc.

memcpy, memmove and memset are allowed even where the code never calls them:
gcc may turn struct copies and loops into calls to them in any environment,
freestanding ones included (the C standard's freestanding headers aside, gcc
documents that it expects the environment to provide these four: memcpy,
memmove, memset, memcmp).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
OBJDUMP = "arm-none-eabi-objdump"
FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
         "-O2", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c"]

MEM = {"memcpy", "memmove", "memset", "memcmp"}
# __aeabi_*: the ARM EABI helper functions (64-bit integer division, double
# arithmetic and conversions) that gcc calls and libgcc provides: part of the
# compiler, not the C library, so always there.
LIBGCC_PREFIX = "__aeabi_"
# soft-float double helpers: allowed in the runtime (Cast to/from float64
# needs them) but not in the float32 kernels this model runs
SOFT_DOUBLE = ("__aeabi_d", "__aeabi_f2d", "__aeabi_i2d", "__aeabi_ui2d", "__aeabi_l2d", "__aeabi_ul2d")
# math.h (C99) functions, float and double forms
_MATH = ("exp exp2 expm1 log log2 log10 log1p sqrt cbrt pow sin cos tan asin acos atan atan2 "
         "sinh cosh tanh asinh acosh atanh erf erfc tgamma lgamma floor ceil round lround llround "
         "trunc rint lrint llrint nearbyint fmod remainder fabs fmin fmax fdim fma hypot ldexp frexp "
         "modf scalbn logb ilogb copysign nan nextafter").split()
LIBM = set(_MATH) | {f + "f" for f in _MATH}


def call_graph(d, objs):
    """{function: set of functions it calls or jumps to} from objdump -d."""
    import re
    calls, cur = {}, None
    for obj in objs:
        if not os.path.exists(obj):
            continue
        p = subprocess.run([OBJDUMP, "-dr", obj], stdout=subprocess.PIPE, universal_newlines=True, check=True)
        for line in p.stdout.splitlines():
            m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
            if m:
                cur = m.group(1)
                calls.setdefault(cur, set())
                continue
            # relocations name the callee of a bl/b.w to another function
            m = re.search(r"R_ARM_(?:THM_CALL|THM_JUMP24|CALL|JUMP24)\s+(\S+)", line)
            if m and cur:
                calls[cur].add(m.group(1))
                continue
            m = re.search(r"\bb(?:l|\.w)?\s+[0-9a-f]+ <([^>+]+)>", line)
            if m and cur and m.group(1) != cur:
                calls[cur].add(m.group(1))
    return calls


def main():
    H.have_nncc_env()
    cc = shutil.which(CC)
    nm = shutil.which(NM)
    if not cc or not nm:
        print("SKIPPED: %s / %s not found (install gcc-arm-none-eabi)" % (CC, NM))
        sys.exit(77)
    t = H.Tally()
    onnx_path = os.path.join(H.SAMPLES, "feature_extractor.onnx")
    for opt in ["-O2", "-O0"]:
        d = H.tmp_dir("cortex_m4", opt.strip("-"))
        m = H.compile_model(onnx_path, d, opt=opt)
        srcs = sorted(f for f in os.listdir(d) if f.endswith(".c"))
        undefined, defined = set(), set()
        for src in srcs:
            obj = os.path.join(d, src[:-2] + ".o")
            p = subprocess.run([cc] + FLAGS + ["-o", obj, os.path.join(d, src)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            if not t.check(p.returncode == 0, "%s %s: %s failed:\n%s" % (opt, src, CC, p.stdout)):
                continue
            p = subprocess.run([nm, obj], stdout=subprocess.PIPE, universal_newlines=True, check=True)
            for line in p.stdout.splitlines():
                f = line.split()
                if len(f) == 2 and f[0] == "U":
                    undefined.add(f[1])
                elif len(f) == 3 and f[1] in "TDRB":
                    defined.add(f[2])
        ext = sorted(undefined - defined)
        bad = [s for s in ext if s not in LIBM and s not in MEM and not s.startswith(LIBGCC_PREFIX)]
        print("%s: %s builds for Cortex-M4; external symbols: %s" % (opt, m.prefix, ", ".join(ext) or "none"))
        t.check(not bad, "%s: the generated code needs %s (only libm and mem* are allowed)"
                % (opt, ", ".join(bad)))
        t.check("%s_run" % m.prefix in defined, "%s: %s_run not defined" % (opt, m.prefix))
        # what PREFIX_run reaches must not use soft-float doubles (slow on an
        # FPU that only does single precision)
        calls = call_graph(d, [os.path.join(d, s[:-2] + ".o") for s in srcs])
        reach, todo = set(), ["%s_run" % m.prefix]
        while todo:
            f = todo.pop()
            if f not in reach:
                reach.add(f)
                todo.extend(calls.get(f, ()))
        dbl = sorted(f for f in reach if f.startswith(SOFT_DOUBLE))
        users = sorted(f for f in reach if any(c.startswith(SOFT_DOUBLE) for c in calls.get(f, ())))
        print("%s: %s_run reaches %d functions%s" % (opt, m.prefix, len(reach),
                                                     "; soft double: " + ", ".join(dbl) if dbl else ""))
        t.check(not dbl, "%s: %s_run uses soft-float double helpers %s (in %s)"
                % (opt, m.prefix, ", ".join(dbl), ", ".join(users)))
    t.finish()


if __name__ == "__main__":
    main()
