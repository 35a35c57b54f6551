"""test_threads.py - --threads N beyond convolution: a small graph of the
ops whose work nncc splits into parallel parts at compile time (unary
Relu/Sigmoid/Clip, broadcasting Add and Mul, Softmax, Concat by rows and by
bytes, MatMul by batch and by rows) and a Gemm and a batched MatMul through
the packed kernel, and of the kernels that share their planes among threads
themselves (MaxPool 3x3/2 in ceil mode, AveragePool 3x3/1 counting pads, a
depthwise Conv with Clip, GlobalAveragePool), at sizes above the parallel
threshold. Compiled with --threads 3 at -O0 and -O2 and
built with -fopenmp and without it (the pragmas are ignored: one thread,
and -Wall -Wextra -pedantic -Werror stay silent), and the -O2 code also
with -fopenmp under AddressSanitizer and UBSan and with -march=native (the
host's vector kernels) with and without -fopenmp. Checks: the parallel sections are really
emitted, every build matches ONNX Runtime within 1e-5 relative, and the
builds with the same kernels give the same bytes with and without threads
(each part writes its own outputs).
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

# elementwise ops and softmax differ from ORT by a rounding or two; the
# Gemm/MatMul sums (K = 96, 64) by float32 reordering: far below 1e-5;
# the pools and the depthwise sums (9 terms) likewise; the global average
# of 4096 values reordered: about 1e-7 of the largest mean
TOL = 1e-5


def model(path):
    rng = np.random.RandomState(3)
    f = TensorProto.FLOAT
    inits = [numpy_helper.from_array(rng.standard_normal((1, 16, 1, 1)).astype(np.float32), "bias"),
             numpy_helper.from_array(rng.standard_normal((96, 80)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((80,)).astype(np.float32), "c"),
             numpy_helper.from_array(rng.standard_normal((3, 64, 48)).astype(np.float32), "wb"),
             numpy_helper.from_array(np.array(-0.5, np.float32), "lo"),
             numpy_helper.from_array(np.array(0.75, np.float32), "hi"),
             numpy_helper.from_array(rng.standard_normal((16, 1, 3, 3)).astype(np.float32), "wdw"),
             numpy_helper.from_array(rng.standard_normal((16,)).astype(np.float32), "bdw"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
             numpy_helper.from_array(np.array(6.0, np.float32), "six")]
    N = helper.make_node
    nodes = [
        N("Relu", ["x"], ["r"], name="relu"),
        N("Add", ["r", "bias"], ["a"], name="add_bias"),          # broadcast along the channel
        N("Sigmoid", ["a"], ["s"], name="sigmoid"),
        N("Mul", ["s", "x"], ["m"], name="mul"),                  # same shape
        N("Softmax", ["m"], ["sm"], name="softmax", axis=-1),
        N("Clip", ["sm", "lo", "hi"], ["cl"], name="clip"),
        N("Concat", ["cl", "x"], ["cat"], name="concat_c", axis=1),   # 1 row: split by bytes
        N("Concat", ["x", "m"], ["cat2"], name="concat_h", axis=3),   # 1024 rows: split by rows
        N("Gemm", ["g", "w", "c"], ["gy"], name="gemm", alpha=0.5, beta=2.0),
        N("Relu", ["gy"], ["gr"], name="gemm_relu"),
        N("MatMul", ["mx", "wb"], ["my"], name="matmul"),        # batch 3, B with batch dims
        N("MatMul", ["g", "mb"], ["mm"], name="matmul_in"),      # B an input: split by rows of A
        N("MaxPool", ["x"], ["mp"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        N("AveragePool", ["x"], ["ap"], name="avgpool", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
          count_include_pad=1),
        N("Conv", ["x", "wdw", "bdw"], ["dw"], name="depthwise", group=16, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("Clip", ["dw", "zero", "six"], ["dwc"], name="depthwise_clip"),
        N("GlobalAveragePool", ["x"], ["gap"], name="gap"),
    ]
    g = helper.make_graph(nodes, "threads",
                          [helper.make_tensor_value_info("x", f, [1, 16, 64, 64]),
                           helper.make_tensor_value_info("g", f, [700, 96]),
                           helper.make_tensor_value_info("mx", f, [3, 500, 64]),
                           helper.make_tensor_value_info("mb", f, [96, 40])],
                          [helper.make_tensor_value_info(o, f, None)
                           for o in ("cat", "cat2", "gr", "my", "mm", "mp", "ap", "dwc", "gap")], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)


def sh(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise H.HarnessError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, p.stdout[-4000:]))


def main():
    H.have_nncc_env()
    t = H.Tally()
    d = H.tmp_dir("threads")
    path = os.path.join(d, "threads.onnx")
    model(path)
    rng = np.random.RandomState(5)
    xs = [rng.standard_normal(s).astype(np.float32) for s in ((1, 16, 64, 64), (700, 96), (3, 500, 64), (96, 40))]
    ref = H.run_ort(path, xs)
    # (tag, flags, the build whose bytes it must equal); -march=native
    # builds take the host's vector paths (AVX-512 window kernels here)
    builds = [("omp", ["-fopenmp"], None), ("serial", [], "omp"),
              ("omp-asan", ["-fopenmp", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"], "omp"),
              ("native-omp", ["-fopenmp", "-march=native"], None), ("native", ["-march=native"], "native-omp")]
    for opt in ("-O0", "-O2"):
        try:
            m = H.compile_model(path, os.path.join(d, opt[1:]), name="model", opt=opt, extra=["--threads", "3"])
            with open(m.c_path) as f:
                src = f.read()
            n_par = src.count("#pragma omp parallel sections num_threads(3)")
            print("%s: %d parallel sections blocks" % (opt, n_par))
            # -O0: relu, add, sigmoid, mul, softmax, clip, the concat copies
            # (concat_c copies x only: memplan puts 'cl' in its slice;
            # concat_h copies both) and both MatMuls = 11 (the Gemm's Relu,
            # 56000 elements, is below NNCC_PAR_MIN_WORK). -O2: Relu, Add,
            # Sigmoid, Mul become one fused loop, then softmax, clip, the 3
            # copies and the MatMul with B an input = 7; the Gemm and the MatMul
            # with a constant B thread inside nncc_sgemm_f32.
            want = 11 if opt == "-O0" else 7
            t.check(n_par >= want, "%s: %d parallel sections, expected at least %d" % (opt, n_par, want))
            if opt == "-O2":
                t.check(src.count("nncc_sgemm_f32(") == 2 and ".threads = 3" in src,
                        "-O2: the Gemm and MatMul do not run the packed kernel with 3 threads")
                # the pools, the depthwise Conv and the global pool share
                # their planes among 3 threads inside the kernels
                t.check(src.count("nncc_pool2d_fast_f32(") == 2 and src.count(".col_major = 0, .threads = 3") == 2,
                        "-O2: the pools do not run the fast kernel with 3 threads")
                t.check("nncc_conv2d_depthwise_f32(" in src and "nncc_global_avgpool_fast_f32(16, 4096, 3," in src,
                        "-O2: no depthwise kernel or no threaded global average pool")
            outs = {}
            # ASan/UBSan (slow to build) and -march=native on the -O2 code only
            for tag, flags, _ in builds if opt == "-O2" else builds[:2]:
                exe = H.build(m, cc="gcc", cflags=H.CFLAGS + flags, builddir=os.path.join(d, opt[1:] + "-" + tag))
                got = H.run(m, exe, xs)
                err = max(H.rel_err(a, b) for a, b in zip(got, ref))
                print("%s %s: max rel err %.3e vs ONNX Runtime" % (opt, tag, err))
                t.check(err <= TOL, "%s %s: max rel err %.3e > %g" % (opt, tag, err, TOL))
                outs[tag] = got
            for tag, _, base in builds:
                if base and tag in outs:
                    same = all(np.array_equal(a.view(np.uint32), b.view(np.uint32))
                               for a, b in zip(outs[base], outs[tag]))
                    t.check(same, "%s: %s and %s builds give different bytes" % (opt, base, tag))
        except H.HarnessError as e:
            print(e)
            t.check(False, "%s: %s" % (opt, str(e).splitlines()[0]))
    t.finish()


if __name__ == "__main__":
    main()
