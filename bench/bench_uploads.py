"""Hostile uploads against a running server (issue 44): each hostile file of tests/test_hostile_files.py
pushed to POST /v1/documents, timed, with the server's resident memory before and after; then, while a
page slow to parse is being read (and stopped past QA_READ_SECONDS), uncached questions one after
another and /healthz polled every 50 ms, beside the same questions with no upload in the same run;
last, SIGTERM sent during such an upload, and the time the server takes to end.

Usage: .venv/bin/python bench/bench_uploads.py [--questions 24]
Machines are shared and noisy: compare the two runs' ratio, not single figures."""
from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_server import QUESTIONS, pct, seed_index_folder  # noqa: E402

KEY = "bench-admin"
AUTH = {"Authorization": f"Bearer {KEY}"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def asks(url: str, n: int, tag: str) -> list[float]:
    """n questions one after another, each worded anew so that none is answered from the cache."""
    import httpx

    out = []
    for i in range(n):
        q = QUESTIONS[i % len(QUESTIONS)].rstrip("?") + f" ({tag} {i})?"
        t = time.perf_counter()
        r = httpx.post(url + "/v1/ask", json={"question": q}, headers=AUTH, timeout=120)
        out.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
    return out


def poll_health(url: str, stop: threading.Event, worst: list[float]) -> None:
    import httpx

    with httpx.Client(timeout=10) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get(url + "/healthz")
            worst.append(time.perf_counter() - t)
            time.sleep(0.05)


def upload(url: str, path: Path):
    import httpx

    with open(path, "rb") as f:
        return httpx.post(url + "/v1/documents", headers=AUTH, files={"file": (path.name, f)}, timeout=300)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=24)
    a = ap.parse_args()
    from conftest import Server
    from test_hostile_files import HOSTILE, docx_bomb, pdf_bomb, slow_page

    files = Path(tempfile.mkdtemp())
    docx_bomb(files / "bomb.docx", 400_000)
    pdf_bomb(files / "bomb.pdf", 100_000_000)
    (files / "elements.html").write_text("<html><body>" + "<p>x</p>" * 1_000_000 + "</body></html>")
    slow_page(files / "slow.html")
    folder = seed_index_folder()
    server = Server(folder, {"QA_API_KEY": KEY, "QA_ANSWER_CACHE": "0", "QA_READ_SECONDS": "4"})
    try:
        asks(server.url, 4, "warm")
        before = rss_mb(server.proc.pid)
        for name in ("bomb.docx", "bomb.pdf", "elements.html"):
            t = time.perf_counter()
            r = upload(server.url, files / name)
            print(f"{name}: {r.status_code} in {time.perf_counter() - t:.2f} s, limit {r.json()['error'].get('limit')} "
                  f"(expected {HOSTILE[name]}); server memory {before:.0f} -> {rss_mb(server.proc.pid):.0f} MiB")
        quiet = asks(server.url, a.questions, "quiet")
        stop, worst = threading.Event(), []
        poller = threading.Thread(target=poll_health, args=(server.url, stop, worst))
        poller.start()
        box = {}
        sender = threading.Thread(target=lambda: box.update(r=upload(server.url, files / "slow.html")))
        t0 = time.perf_counter()
        sender.start()
        time.sleep(0.5)
        during = asks(server.url, a.questions, "during")
        sender.join()
        took = time.perf_counter() - t0
        stop.set()
        poller.join()
        r = box["r"]
        print(f"slow page: {r.status_code} after {took:.1f} s ({r.json().get('error', {}).get('limit')}); "
              f"server memory {rss_mb(server.proc.pid):.0f} MiB")
        q50, d50 = statistics.median(quiet), statistics.median(during)
        print(f"uncached asks: p50 {q50 * 1000:.0f} ms without an upload, {d50 * 1000:.0f} ms during one "
              f"(ratio {d50 / q50:.2f}); p95 {pct(quiet, 95) * 1000:.0f} / {pct(during, 95) * 1000:.0f} ms")
        print(f"/healthz during the upload: slowest {max(worst) * 1000:.0f} ms over {len(worst)} polls")
        sender = threading.Thread(target=lambda: upload(server.url, files / "slow.html"), daemon=True)
        sender.start()
        time.sleep(2)
        t = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(120)
        print(f"SIGTERM during an upload: the server ended in {time.perf_counter() - t:.2f} s (exit {code})")
    finally:
        server.stop()
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    main()
