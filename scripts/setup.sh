#!/usr/bin/env bash
# scripts/setup.sh - installs what building and testing nncc needs.
#
#   1. Debian packages (apt-get), only those that are missing.
#   2. A Python virtual environment at .venv with the packages pinned in
#      scripts/requirements.txt (numpy, onnx, onnxruntime), only when it is
#      missing or out of date.
#
# Idempotent: when everything is there it changes nothing and takes a second.
# Environment: PYTHON=python3.x chooses the interpreter for a new .venv
# (default: python3 on PATH); NNCC_VENV=dir puts the venv elsewhere.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${NNCC_VENV:-$root/.venv}
req=$root/scripts/requirements.txt

say() { printf 'setup: %s\n' "$*"; }

# ---- 1. system packages ----
packages=(
  cmake ninja-build gcc clang              # build
  protobuf-c-compiler libprotobuf-c-dev    # protoc-c and libprotobuf-c: the ONNX reader
  libonnx-dev                              # /usr/include/onnx/onnx.proto
  libcmocka-dev                            # unit tests
  gcc-arm-none-eabi libnewlib-arm-none-eabi  # checks that generated code builds for Cortex-M
  valgrind                                 # memory checks of generated code
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # the NEON path, built and run under qemu (e2e_neon)
  python3-venv                             # the .venv below
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  say "installing missing Debian packages: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { say "not root and no sudo: install ${missing[*]} yourself"; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all ${#packages[@]} present"
fi

# ---- 2. Python virtual environment ----
if [[ -x $venv/bin/python ]] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  say "$venv is broken (its interpreter does not start): recreating it"
  rm -rf "$venv"
fi
if [[ ! -x $venv/bin/python ]]; then
  py=${PYTHON:-python3}
  say "creating a virtual environment at $venv with $(command -v "$py") ($("$py" --version 2>&1))"
  "$py" -m venv "$venv"
fi
stamp=$venv/.nncc-requirements
if [[ -f $stamp ]] && cmp -s "$stamp" "$req" \
   && "$venv/bin/python" -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
  say "Python packages: up to date in $venv ($("$venv/bin/python" -c 'import numpy, onnx, onnxruntime as r; print("numpy", numpy.__version__, "onnx", onnx.__version__, "onnxruntime", r.__version__)'))"
else
  say "installing Python packages into $venv: $(grep -v '^#' "$req" | tr '\n' ' ')"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
fi
