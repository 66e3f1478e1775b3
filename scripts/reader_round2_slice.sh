#!/usr/bin/env bash
# The round's preliminaries, one after another (background): the float start against the shipped file,
# then the frozen-against-unfrozen slice (the same steps from the shipped start, each measured held out).
# Results: $WORK/start.json, $WORK/slice-frozen2/, $WORK/slice-unfrozen/ (figures.json in each stage folder).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${QA_TRAIN_DIR:-$HOME/.cache/qa-bot/reader-round2}
STEPS=${STEPS:-150}
export HF_HUB_OFFLINE=1
[ -f "$WORK/start.json" ] || .venv/bin/python scripts/train_reader_round2.py --check-start --held-out 400 | tail -1 > "$WORK/start.json"
for f in 2 0; do
  name=$([ $f = 0 ] && echo unfrozen || echo frozen$f)
  mkdir -p "$WORK/slice-$name"
  ln -sf "$WORK"/pairs-*.json "$WORK/slice-$name/" 2>/dev/null || true
  .venv/bin/python scripts/train_reader_round2.py --work "$WORK/slice-$name" --freeze-layers $f --minutes 10000 \
      --max-steps "$STEPS" --lr 3e-5 --held-out 400 --no-ship
done
