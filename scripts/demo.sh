#!/usr/bin/env bash
# scripts/demo.sh - nncc in two minutes:
#
#   1. scripts/setup.sh, then builds the nncc compiler (build/)
#   2. compiles samples/feature_extractor.onnx to C with nncc (build/demo/fused/),
#      builds samples/classify.c against it with gcc -O2, runs it on
#      samples/feature_extractor.input.npy and checks the outputs against the
#      reference (samples/feature_extractor.output.npy, computed by PyTorch)
#   3. compiles samples/feature_extractor_unfused.onnx (BatchNorm as separate
#      nodes) at -O0 (every ONNX node its own kernel call) and at -O2 (BatchNorm
#      folded, bias and ReLU fused into the convolution), and times both
#
# Environment: NNCC_BUILD_DIR (default build), CC (default gcc),
# DEMO_CFLAGS (default -O2), DEMO_REPEAT (runs per timing, default 200),
# DEMO_ROUNDS (interleaved timing rounds, default 5).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${NNCC_BUILD_DIR:-build}
cc=${CC:-gcc}
cflags=${DEMO_CFLAGS:--O2}
repeat=${DEMO_REPEAT:-200}
rounds=${DEMO_ROUNDS:-5}
demo=$build/demo
python=${NNCC_VENV:-$root/.venv}/bin/python

step() { printf '\n==== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1; }

step "setup (scripts/setup.sh)"
bash scripts/setup.sh

step "build the nncc compiler in $build/"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DNNCC_WERROR=ON -DNNCC_PYTHON="$python" >/dev/null
fi
cmake --build "$build" --target nncc
nncc=$build/nncc
"$nncc" --version

# compile MODEL into DIR with nncc OPTIONS..., then build DIR/classify
build_model() {
  local model=$1 dir=$2
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  show "$nncc" "$model" -o "$dir/model.c" --name model "$@"
  show "$cc" -std=c11 $cflags -I"$dir" samples/classify.c "$dir"/*.c -lm -o "$dir/classify"
}

step "compile samples/feature_extractor.onnx with nncc and run it"
build_model samples/feature_extractor.onnx "$demo/fused" --report
echo "generated: $(cd "$demo/fused" && ls *.c *.h | tr '\n' ' ')"
show "$demo/fused/classify" samples/feature_extractor.input.npy \
  --expect samples/feature_extractor.output.npy
echo "(the model takes a batch; a batch of 4:)"
show "$demo/fused/classify" samples/feature_extractor.input4.npy \
  --expect samples/feature_extractor.output4.npy --quiet

step "fused vs unfused: samples/feature_extractor_unfused.onnx at -O0 and -O2"
build_model samples/feature_extractor_unfused.onnx "$demo/unfused_O0" -O0 --report
build_model samples/feature_extractor_unfused.onnx "$demo/unfused_O2" -O2 --report
for o in O0 O2; do
  show "$demo/unfused_$o/classify" samples/feature_extractor_unfused.input.npy \
    --expect samples/feature_extractor_unfused.output.npy --quiet
done

echo
echo "timing: $rounds interleaved rounds of $repeat runs each (batch 1, $cc $cflags);"
echo "each round reports the median time of one run; the figure is the median of the rounds"
declare -A times
for ((r = 1; r <= rounds; r++)); do
  line="round $r:"
  for o in O0 O2; do
    t=$("$demo/unfused_$o/classify" samples/feature_extractor_unfused.input.npy --repeat "$repeat" --quiet \
        | sed -n 's/^median_us: \([0-9.]*\).*/\1/p')
    [[ -n $t ]] || { echo "demo: no timing from $demo/unfused_$o/classify" >&2; exit 1; }
    times[$o]+="$t "
    line+=" -$o ${t} us"
  done
  echo "  $line"
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
t0=$(median <<<"${times[O0]}")
t2=$(median <<<"${times[O2]}")
echo
printf '  %-40s %10s\n' "feature_extractor_unfused, batch 1" "median us"
printf '  %-40s %10.1f\n' "nncc -O0 (unfused: every node a kernel)" "$t0"
printf '  %-40s %10.1f\n' "nncc -O2 (BatchNorm folded, fused)" "$t2"
awk -v a="$t0" -v b="$t2" 'BEGIN { printf "  speedup of -O2 over -O0: %.2fx\n", a / b }'
echo
echo "on: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $("$cc" --version | head -1)"
