"""The content-gap report at scale: a question log of 100,000 questions (every one abstained on: the
worst case, all of them grouped), drawn with Zipf frequencies from N distinct SQuAD training questions,
each with its vector as the log keeps it; the time to read the log and to group it, beside the time
to read it alone, in the same run.

Usage: .venv/bin/python bench/bench_unanswered.py [--logged 100000] [--distinct 20000]
The distinct questions' vectors are encoded once and kept in ~/.cache/qa-bot/ (440 a second here)."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQUAD = ROOT.parent / "shared" / "data" / "squad" / "squad-v1.0-train.json"
CACHE = Path.home() / ".cache" / "qa-bot"


def distinct_questions(n: int) -> list[str]:
    data = json.load(open(SQUAD, encoding="utf-8"))["data"]
    qs = dict.fromkeys(q["question"].strip() for a in data for p in a["paragraphs"] for q in p["qas"])
    return list(qs)[:n]


def vectors_of(questions: list[str]) -> tuple[np.ndarray, list[str]]:
    """The questions' vectors and answer types, as the log keeps them (worked out once, then cached)."""
    key = hashlib.sha256("\n".join(questions).encode()).hexdigest()[:16]
    path = CACHE / f"bench-unanswered-{key}.npy"
    types = path.with_suffix(".types.json")
    if path.exists() and types.exists():
        return np.load(path), json.loads(types.read_text())
    from qa.embed import question_encoder
    from qa.question import analyze_batch

    t = time.perf_counter()
    v = question_encoder().encode(questions).astype(np.float16)
    qtypes = [q.qtype for q in analyze_batch(questions)]
    print(f"encoded and typed {len(questions):,} distinct questions in {time.perf_counter() - t:.0f} s (kept in {path})")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, v)
    types.write_text(json.dumps(qtypes))
    return v, qtypes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--logged", type=int, default=100_000)
    ap.add_argument("--distinct", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.gaps import group
    from qa.records import Asked
    from qa.store.questions import QuestionTable

    pool = distinct_questions(a.distinct)
    vectors, qtypes = vectors_of(pool)
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 1.05  # a few questions asked often, most once or twice
    picks = rng.choice(len(pool), size=a.logged, p=weights / weights.sum())
    now = time.time()
    folder = Path(tempfile.mkdtemp())
    table = QuestionTable(folder / "questions.sqlite")
    entries = [Asked(pool[i], pool[i], None, True, 0.02, qtype=qtypes[i], via="api", asked=now - rng.uniform(0, 30 * 86400),
                     vector=vectors[i]) for i in picks]
    for k in range(0, len(entries), 10_000):
        table.add(entries[k:k + 10_000])
    print(f"log: {table.count():,} questions, {len(set(picks.tolist())):,} distinct phrasings, "
          f"{(folder / 'questions.sqlite').stat().st_size / 2**20:.0f} MiB")
    reads, totals, found = [], [], []
    for _ in range(a.repeat):
        t = time.perf_counter()
        rows = table.unanswered(now - 90 * 86400, 0.3, [])
        t_read = time.perf_counter() - t
        gaps = group(rows)
        totals.append(time.perf_counter() - t)
        reads.append(t_read)
        found.append(len(gaps))
    distinct = len(set(picks.tolist()))
    print(f"read the log: {statistics.median(reads):.2f} s; read and grouped: {statistics.median(totals):.2f} s "
          f"(median of {a.repeat}); {found[0]:,} groups of {distinct:,} phrasings "
          f"({1 - found[0] / distinct:.1%} of the phrasings joined another's group)")
    print("biggest groups:")
    for g in gaps[:5]:
        print(f"  {g.count:>6,}  {g.questions[0]}" + (f"  (+{len(g.questions) - 1} phrasings: {g.questions[1][:60]}...)"
                                                     if len(g.questions) > 1 else ""))
    table.close()


if __name__ == "__main__":
    main()
