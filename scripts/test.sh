#!/usr/bin/env bash
# Run the whole test suite (sets up .venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The widget's tests drive Debian's Chromium (Playwright cannot download a browser here).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the widget's browser tests..." >&2
    (apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }) \
        || echo "warning: could not install chromium; the widget's browser tests will be skipped" >&2
fi
# The library's crash tests kill `add` and `remove` at their file-system calls with strace.
if ! command -v strace >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q --no-install-recommends strace >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends strace >/dev/null 2>&1; }) \
        || echo "warning: could not install strace; the library's crash tests will be skipped" >&2
fi
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
