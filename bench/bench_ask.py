"""Speed of the bot on this machine: cold `ask` (a new process), warm per-question latency, and beside
it the bare reader: the reader's forward passes alone over the same question's candidates.

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
    from qa.build import build
    from qa.library import load
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
    questions = QUESTIONS
    gold = ROOT.parent / "shared" / "data" / "gold" / "seed-questions.jsonl"
    if gold.exists():
        import json

        questions = [json.loads(line)["question"] for line in gold.read_text().splitlines() if line.strip()]
    from qa.config import settings
    from qa.read.reader import default_reader

    n_read = settings().read_candidates
    warm, bare = [], []
    for _ in range(a.runs):
        for q in questions:
            t = time.perf_counter()
            ans = ask(index, q)
            warm.append(1000 * (time.perf_counter() - t))
            cands = [h.sentence for h in ans.hits[:1]] * n_read  # same number of pairs, similar length
            around = [index.around(s) for s in cands]
            t = time.perf_counter()
            default_reader().read([q] * n_read, [s.text for s in cands], [p.text if p else "" for p, _ in around],
                                  [x.text if x else "" for _, x in around])
            bare.append(1000 * (time.perf_counter() - t))
    p95 = lambda xs: sorted(xs)[int(0.95 * (len(xs) - 1))]  # noqa: E731
    print(f"warm ask: p50 {statistics.median(warm):.1f} ms, p95 {p95(warm):.1f} ms over {len(warm)} questions")
    print(f"bare reader ({n_read} pairs a question): p50 {statistics.median(bare):.1f} ms, p95 {p95(bare):.1f} ms; "
          f"warm ask / bare reader = {statistics.median(warm) / statistics.median(bare):.2f}")


if __name__ == "__main__":
    main()
