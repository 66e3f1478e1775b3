"""Load on the HTTP server: throughput and p50/p95/p99 latency of POST /v1/ask at concurrency 1, 4 and
16 (answer cache off, so every request is answered), beside the in-process `ask_batch` time for the
same questions measured in the same run, and the cached path at concurrency 16; then the question
log's cost: two servers side by side, one logging (the default) and one with QA_LOG_QUESTIONS=0, asked
in alternating rounds, p50 of each at concurrency 1 and 16.

Usage: .venv/bin/python bench/bench_server.py [--requests 64] [--only-logging] [--rounds 6]
Machines are shared and noisy: compare the ratios, not single figures."""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "How much is Xiaomi investing in the car project?", "What was the revenue for 2021?",
             "Which company will supply the batteries?", "When was the Xiaomi Car project announced?",
             "What key areas will the R&D team focus on?", "How many employees does the car team have?"]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def load(url: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    lat: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=httpx.Limits(max_connections=concurrency)) as c:
        async def one(i: int):
            q = QUESTIONS[i % len(QUESTIONS)]
            async with sem:
                t = time.perf_counter()
                r = await c.post("/v1/ask", json={"question": q})
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0, lat


def seed_index_folder() -> Path:
    """A fresh index of the seed article in a temporary folder."""
    from conftest import SEED
    from qa.build import build

    folder = Path(tempfile.mkdtemp()) / "index"
    doc = folder.parent / SEED.name
    shutil.copy(SEED, doc)
    build([str(doc)], folder)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=64, help="requests per concurrency level")
    ap.add_argument("--only-logging", action="store_true", help="only the question log's cost")
    ap.add_argument("--rounds", type=int, default=6, help="alternating rounds of the logging comparison")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from conftest import Server
    from qa.library import load as load_index
    from qa.pipeline import ask_batch

    folder = seed_index_folder()
    if a.only_logging:
        return logging_cost(folder, a.requests, a.rounds)
    index = load_index(folder)
    ask_batch(index, QUESTIONS[:1])
    t = time.perf_counter()
    for _ in range(3):
        ask_batch(index, QUESTIONS)
    batch_per_q = (time.perf_counter() - t) / (3 * len(QUESTIONS))
    singles = []
    for q in QUESTIONS * 2:
        t = time.perf_counter()
        ask_batch(index, [q])
        singles.append(time.perf_counter() - t)
    single = statistics.median(singles)
    print(f"in-process ask_batch: {batch_per_q * 1000:.0f} ms a question in batches of {len(QUESTIONS)}, "
          f"{single * 1000:.0f} ms alone (median)")

    server = Server(folder, {"QA_ANSWER_CACHE": "0"})
    try:
        print("| concurrency | requests | throughput (req/s) | p50 ms | p95 ms | p99 ms | p50 / in-process alone |")
        print("|---|---|---|---|---|---|---|")
        for conc in (1, 4, 16):
            wall, lat = asyncio.run(load(server.url, a.requests, conc))
            print(f"| {conc} | {a.requests} | {a.requests / wall:.2f} | {pct(lat, 50) * 1000:.0f} | "
                  f"{pct(lat, 95) * 1000:.0f} | {pct(lat, 99) * 1000:.0f} | {pct(lat, 50) / single:.2f} |")
    finally:
        server.stop()
    cached = Server(folder)
    try:
        asyncio.run(load(cached.url, len(QUESTIONS), 1))
        n = a.requests * 8
        wall, lat = asyncio.run(load(cached.url, n, 16))
        print(f"| 16, answers cached | {n} | {n / wall:.1f} | {pct(lat, 50) * 1000:.1f} | {pct(lat, 95) * 1000:.1f} | "
              f"{pct(lat, 99) * 1000:.1f} | - |")
    finally:
        cached.stop()
    logging_cost(folder, a.requests, a.rounds)


def logging_cost(folder: Path, requests: int, rounds: int) -> None:
    """p50 of /v1/ask with the question log on and off: two servers over copies of one index, measured
    in alternating rounds (off, on, on, off, ...) so that the machine's drift falls on both."""
    from conftest import Server

    copies = {}
    for mode in ("on", "off"):
        copies[mode] = folder.parent / f"index-log-{mode}"
        shutil.copytree(folder, copies[mode], dirs_exist_ok=True)
    servers = {"on": Server(copies["on"], {"QA_ANSWER_CACHE": "0"}),
               "off": Server(copies["off"], {"QA_ANSWER_CACHE": "0", "QA_LOG_QUESTIONS": "0"})}
    try:
        lat = {(m, c): [] for m in servers for c in (1, 16)}
        for m in servers:
            asyncio.run(load(servers[m].url, len(QUESTIONS), 1))  # warm
        for r in range(rounds):
            order = ("off", "on") if r % 2 == 0 else ("on", "off")
            for m in order:
                for c in (1, 16):
                    lat[(m, c)] += asyncio.run(load(servers[m].url, requests, c))[1]
        print(f"\nquestion log on / off, {rounds} alternating rounds of {requests} requests:")
        print("| concurrency | p50 ms, log off | p50 ms, log on | on / off | p95 ms off | p95 ms on |")
        print("|---|---|---|---|---|---|")
        for c in (1, 16):
            off, on = pct(lat[("off", c)], 50), pct(lat[("on", c)], 50)
            print(f"| {c} | {off * 1000:.1f} | {on * 1000:.1f} | {on / off:.3f} | {pct(lat[('off', c)], 95) * 1000:.1f} | "
                  f"{pct(lat[('on', c)], 95) * 1000:.1f} |")
        import sqlite3

        with sqlite3.connect(copies["on"] / "questions.sqlite") as db:
            print(f"logged: {db.execute('SELECT count(*) FROM questions').fetchone()[0]} questions (log on); "
                  f"log off kept {'none' if not (copies['off'] / 'questions.sqlite').exists() else 'a file'}")
    finally:
        for s in servers.values():
            s.stop()


if __name__ == "__main__":
    main()
