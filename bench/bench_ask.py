"""Speed of the bot on this machine: cold `ask` (a new process) and warm per-question latency.

Usage: .venv/bin/python bench/bench_ask.py [--runs 5]
Prints medians; machines are shared and noisy, so compare medians and ratios, not single runs."""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "How much did fourth-quarter revenue grow year over year?", "What is the price of the Xiaomi car?"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    from qa.index import build, load
    from qa.pipeline import ask

    folder = Path(tempfile.mkdtemp()) / "index"
    t = time.perf_counter()
    build([str(p) for p in sorted((ROOT / "seeds").glob("*.txt"))], folder)
    print(f"build (seed article, model already loaded in-process): {time.perf_counter() - t:.2f} s")
    cold = []
    for _ in range(a.runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "ask", QUESTIONS[0], "--index-dir", str(folder), "--json"],
                       check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    print(f"cold ask (new process): median {statistics.median(cold):.2f} s over {a.runs} runs")
    index = load(folder)
    ask(index, QUESTIONS[0])
    warm = []
    for _ in range(a.runs):
        for q in QUESTIONS:
            t = time.perf_counter()
            ask(index, q)
            warm.append(1000 * (time.perf_counter() - t))
    print(f"warm ask: median {statistics.median(warm):.1f} ms over {len(warm)} questions")


if __name__ == "__main__":
    main()
