"""Mixed load with hostile requests among it (issue 29): N requests at concurrency 16 against one server
(admin and ask keys): asks, OpenAI completions, conversation turns, a document upload every 200
requests, and 5% malformed or hostile requests (lone surrogates, NUL, wrong keys, 1,000-message
histories, bodies over the cap, made-up methods, forged sessions). Reported: errors among the
well-formed requests (must be 0), whether every hostile one got a 4xx JSON error, p50/p95 of the
well-formed asks beside a run of the same mix without the hostile ones, and the slowest /healthz
answer, polled every 50 ms throughout from a process of its own. The server runs its stall watchdog
(QA_STALL_MS, 50 ms by default): each time its event loop was held up, where our code was then.

Usage: .venv/bin/python bench/bench_hostile.py [--requests 2000]
Machines are shared and noisy: compare the two runs' ratio, not single figures."""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_server import QUESTIONS, pct, seed_index_folder  # noqa: E402

ADMIN, ASK = "bench-admin", "bench-ask"
LONG = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"What about item {i}?"} for i in range(1000)]


def hostile(i: int) -> tuple[str, str, dict]:
    """The i-th hostile request: method, path, httpx keyword arguments."""
    h = {"Authorization": f"Bearer {ASK}"}
    kinds = [
        ("POST", "/v1/ask", {"content": b'{"question": "warranty \\ud800?"}', "headers": {**h, "Content-Type": "application/json"}}),
        ("POST", "/v1/ask", {"json": {"question": "x\u0000y"}, "headers": h}),
        ("POST", "/v1/ask", {"json": {"question": "Who?"}, "headers": {"Authorization": "Bearer wrong"}}),
        ("POST", "/v1/chat/completions", {"json": {"messages": LONG + [{"role": "user", "content": "Who?"}]}, "headers": h}),
        ("POST", "/v1/ask", {"content": b"{" + b" " * 70_000 + b"}", "headers": {**h, "Content-Type": "application/json"}}),
        ("BREW", "/v1/ask", {"headers": h}),
        ("POST", "/v1/ask", {"json": {"question": "Who?", "session": "../../etc/passwd"}, "headers": h}),
        ("GET", "/v1/documents", {"headers": h}),
        ("POST", "/v1/ask", {"json": {"question": "Who?", "k": True}, "headers": h}),
        ("POST", "/v1/ask", {"json": {"question": "Who?", "since": "2023-13-45"}, "headers": h}),
    ]
    return kinds[i % len(kinds)]


async def run(url: str, n: int, with_hostile: bool) -> dict:
    import httpx

    sem = asyncio.Semaphore(16)
    asks, bad_good, bad_hostile, uploads = [], [], [], []
    ask_h = {"Authorization": f"Bearer {ASK}"}
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=httpx.Limits(max_connections=20)) as c:
        sid = (await c.post("/v1/sessions", headers=ask_h)).json()["id"]

        async def one(i: int):
            async with sem:
                if with_hostile and i % 20 == 7:  # 5%
                    method, path, kw = hostile(i // 20)
                    r = await c.request(method, path, **kw)
                    ok = 400 <= r.status_code < 500 and "error" in r.json()
                    if not ok:
                        bad_hostile.append((path, r.status_code, r.text[:200]))
                    return
                q = QUESTIONS[i % len(QUESTIONS)]
                t = time.perf_counter()
                if i % 200 == 100:
                    u0 = time.time()
                    r = await c.post("/v1/documents", json={"name": f"note-{i}.txt", "text": f"Bench note {i} was written."},
                                     headers={"Authorization": f"Bearer {ADMIN}"})
                    uploads.append((u0, time.time()))
                elif i % 5 == 1:
                    r = await c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": q}]}, headers=ask_h)
                elif i % 5 == 2:
                    r = await c.post(f"/v1/sessions/{sid}/messages", json={"question": q}, headers=ask_h)
                else:
                    r = await c.post("/v1/ask", json={"question": q}, headers=ask_h)
                    asks.append(time.perf_counter() - t)
                if r.status_code not in (200, 201):
                    bad_good.append((r.request.url.path, r.status_code, r.text[:200]))

        mp = multiprocessing.get_context("spawn")
        stop, found = mp.Event(), mp.Queue()
        poller = mp.Process(target=poll_health, args=(url, stop, found))
        poller.start()
        t0, t0_wall = time.perf_counter(), time.time()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
        stop.set()
        health = found.get()
        poller.join()
    times = [h for _, h, _ in health]
    # a slow poll, and whether a document upload (a library change on the server) was under way then
    slow = [(round(at - t0_wall, 1), round(h * 1000), any(u0 - 0.1 <= at <= u1 + 1.0 for u0, u1 in uploads))
            for at, h, _ in health if h > 0.1]
    return {"wall": wall, "asks": asks, "bad_good": bad_good, "bad_hostile": bad_hostile, "health_max": max(times),
            "health_p99": pct(times, 99), "health_over": sum(h > 0.1 for h in times), "health_n": len(times),
            "health_codes": {s for _, _, s in health}, "health_slow": slow}


def poll_health(url: str, stop, found) -> None:
    """/healthz every 50 ms from a process of its own, as a load balancer's health check would ask (a
    poller on the load's own event loop would time that loop's delays as the server's)."""
    import httpx

    health = []
    with httpx.Client(base_url=url, timeout=60) as c:
        while not stop.is_set():
            at, t = time.time(), time.perf_counter()
            r = c.get("/healthz")
            health.append((at, time.perf_counter() - t, r.status_code))
            time.sleep(0.05)
    found.put(health)


def stalled_in(log: str) -> list[str]:
    """For each report of the stall watchdog, the innermost frame of this project's code in each thread
    (a thread in our code while the loop waited is the suspect; idle threads show none)."""
    found = []
    for report in log.split("stall: ")[1:]:
        ours = []
        for thread in report.split("\nThread ")[1:]:
            frames = [ln.strip() for ln in thread.splitlines() if "/qa/" in ln and "cli_app.py" not in ln]
            if frames:  # stacks run from the outermost frame in
                ours.append(frames[-1].replace(str(ROOT) + "/", ""))
        found.append(f"{report.split(chr(10), 1)[0]}: " + ("; ".join(ours) or "no frame of ours (the loop itself, or a library)"))
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--stall-ms", type=int, default=50, help="the server's stall watchdog (QA_STALL_MS)")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from conftest import Server

    folder = seed_index_folder()
    env = {"QA_API_KEY": ADMIN, "QA_ASK_KEYS": ASK, "QA_ANSWER_CACHE": "0", "QA_AUTH_FAILURES_PER_MINUTE": "0",
           "QA_STALL_MS": str(a.stall_ms)}
    rows, stalls = {}, {}
    for name, with_hostile in (("without hostile requests", False), ("with 5% hostile requests", True)):
        log = Path(tempfile.mkdtemp()) / "stalls.txt"
        server = Server(folder, {**env, "QA_STALL_LOG": str(log)})
        try:
            rows[name] = asyncio.run(run(server.url, a.requests, with_hostile))
        finally:
            server.stop()
        stalls[name] = stalled_in(log.read_text() if log.exists() else "")
    print(f"{a.requests} requests at concurrency 16 (asks, completions, conversation turns, an upload every 200)")
    print("| run | wall s | asks | ask p50 ms | ask p95 ms | well-formed errors | hostile not 4xx JSON "
          "| /healthz polls | p99 ms | slowest ms | over 100 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['wall']:.0f} | {len(r['asks'])} | {pct(r['asks'], 50) * 1000:.0f} | {pct(r['asks'], 95) * 1000:.0f} | "
              f"{len(r['bad_good'])} | {len(r['bad_hostile'])} | {r['health_n']} | {r['health_p99'] * 1000:.0f} | "
              f"{r['health_max'] * 1000:.0f} | {r['health_over']} |")
    for name, r in rows.items():
        for at, ms, during in r["health_slow"]:
            print(f"{name}: /healthz took {ms} ms at {at} s" + (" (a document upload under way)" if during else ""))
        if a.stall_ms > 0:
            print(f"{name}: the event loop was held up over {a.stall_ms} ms {len(stalls[name])} times (the server's stall watchdog)")
        for where in stalls[name]:
            print(f"  {where}")
        for x in (r["bad_good"] + r["bad_hostile"])[:5]:
            print(name, json.dumps(x))


if __name__ == "__main__":
    main()
