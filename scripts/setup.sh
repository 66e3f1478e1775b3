#!/usr/bin/env bash
# Create .venv and install the project once; later calls return at once.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi
echo "Setting up .venv (first run only; a few minutes)..." >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
# The CPU build of torch first, so nothing pulls a CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0" >&2
.venv/bin/python -m pip install -q -e ".[test]" >&2
rm -f .venv/.installed-*
touch "$stamp"
