#!/usr/bin/env bash
# Start the chat over the seed article (sets up .venv and builds the index on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python cli.py chat "$@"
