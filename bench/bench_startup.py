"""Cold start: `python cli.py ask` in a new process on a built index (median of N runs, wall time and
peak memory) beside the floor, a bare process that only imports onnxruntime and tokenizers, loads the
question encoder and the reader, and reads one question against one sentence. Same run, same machine.

Usage: .venv/bin/python bench/bench_startup.py [--runs 5]"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLOOR = """
import numpy as np, onnxruntime, tokenizers
from qa.embed import question_encoder
from qa.read.reader import default_reader
question_encoder().encode(["When does mass production start?"])
default_reader().read(["When does mass production start?"], ["Mass production starts in 2024."], [""], [""])
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process."""
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    from qa.build import build

    folder = Path(tempfile.mkdtemp()) / "index"
    seed = ROOT / "seeds" / "000_04952f5ecc9a8f4e.txt"
    doc = folder.parent / seed.name
    shutil.copy(seed, doc)
    build([str(doc)], folder)
    ask = [sys.executable, "cli.py", "ask", "When does mass production start?", "--index-dir", str(folder)]
    floor = [sys.executable, "-c", FLOOR]
    asks = [timed(ask) for _ in range(a.runs)]  # first, so that the children's peak memory is ask's
    floors = [timed(floor) for _ in range(a.runs)]
    ask_s = statistics.median(w for w, _ in asks)
    floor_s = statistics.median(w for w, _ in floors)
    print(f"cold ask: median {ask_s:.2f} s over {a.runs} runs, peak memory {max(m for _, m in asks):.0f} MiB")
    print(f"floor (onnxruntime + tokenizers, encoder + reader, one question): median {floor_s:.2f} s")
    print(f"ratio ask / floor: {ask_s / floor_s:.2f}")


if __name__ == "__main__":
    main()
