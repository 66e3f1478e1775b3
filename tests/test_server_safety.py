"""A server safe in front of customers: one request never harms another, a key that can only ask,
conversations that belong to the key that made them, failed keys slowed down, labels from a fixed set.

One real server on a loopback port for the module (admin key, two ask keys); its tests that spend the
failed-key allowance run last."""
from __future__ import annotations

import asyncio
import html
import json
import shutil
import socket
import time

import httpx
import pytest

from conftest import Server, free_port, run_cli

ADMIN, ASK, OTHER = "admin-key-1", "ask-key-public", "ask-key-other"
HOME, ELSEWHERE = "ask-key-default-only", "ask-key-manuals-only"  # keys bound to collections
QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "How much is Xiaomi investing in the car project?", "What was the revenue for 2021?"]


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    index = tmp_path_factory.mktemp("safe") / "index"  # its own copy: documents are added and removed here
    shutil.copytree(seed_index, index)
    s = Server(index, {"QA_API_KEY": ADMIN, "QA_ASK_KEYS": f"{ASK},{OTHER},{HOME}:default,{ELSEWHERE}:manuals+billing", "QA_AUTH_FAILURES_PER_MINUTE": "5",
                             "QA_READ_TIMEOUT": "2"})
    yield s
    s.stop()


def error_of(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == status and "Traceback" not in r.text
    return body["error"]["type"]


def test_a_question_that_is_not_text_fails_alone(server):
    """Lone surrogates and control characters among concurrent questions: each a 422, every other
    question answered as it is alone (before, the batch they joined failed whole with 500s)."""
    alone = {q: httpx.post(server.url + "/v1/ask", json={"question": q}, headers=auth(ADMIN), timeout=120).json()["answer"]
             for q in QUESTIONS}
    hostile = [b'{"question": "warranty \\ud800?"}', b'{"question": "x\\u0000y"}', b'{"question": "bell\\u0007"}']

    async def run():
        async with httpx.AsyncClient(base_url=server.url, headers=auth(ADMIN), timeout=120) as c:
            good = [c.post("/v1/ask", json={"question": q}) for _ in range(3) for q in QUESTIONS]
            bad = [c.post("/v1/ask", content=b, headers={"Content-Type": "application/json"}) for b in hostile * 3]
            return await asyncio.gather(*good, *bad)

    rs = asyncio.run(run())
    good, bad = rs[:12], rs[12:]
    assert [r.json()["answer"] for r in good] == [alone[q] for _ in range(3) for q in QUESTIONS]
    assert all(error_of(r, 422) == "invalid_question" for r in bad)


def test_a_long_history_is_refused_at_once_and_a_capped_one_served(server):
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"What about item {i}?"} for i in range(1000)]
    url = server.url + "/v1/chat/completions"
    r = httpx.post(url, json={"messages": turns + [{"role": "user", "content": "Who is the CEO?"}]},
                   headers=auth(ASK), timeout=120)
    assert error_of(r, 422) == "invalid_question" and "at most 200" in r.json()["error"]["message"]
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    r = httpx.post(url, json={"messages": turns[:150] + [{"role": "user", "content": "When does mass production start?"}]},
                   headers=auth(ASK), timeout=120)
    assert r.status_code == 200 and "2024" in r.json()["qa"]["answer"]
    nul = [{"role": "user", "content": "When?\u0000"}, {"role": "user", "content": "Who is the CEO?"}]
    assert error_of(httpx.post(url, json={"messages": nul}, headers=auth(ASK), timeout=120), 422) == "invalid_question"


def test_an_ask_key_can_only_ask(server):
    for method, path in (("GET", "/v1/documents"), ("GET", "/metrics"), ("GET", "/v1/facts")):
        assert error_of(httpx.request(method, server.url + path, headers=auth(ASK)), 403) == "forbidden"
    r = httpx.post(server.url + "/v1/ask", json={"question": QUESTIONS[0]}, headers=auth(ASK), timeout=120)
    assert r.status_code == 200 and "2024" in r.json()["answer"]
    assert httpx.get(server.url + "/v1/models", headers=auth(ASK)).status_code == 200
    assert httpx.get(server.url + "/v1/documents", headers=auth(ADMIN)).status_code == 200
    # the docs page and the document it reads are public, so a browser can open them
    assert httpx.get(server.url + "/docs").status_code == 200
    assert httpx.get(server.url + "/openapi.json").json()["openapi"].startswith("3.1")


def test_an_ask_key_bound_to_collections_asks_only_those(server):
    """KEY:COLLECTION+COLLECTION: a product's widget key asks that product's documents, nothing else."""
    ask = server.url + "/v1/ask"
    assert httpx.post(ask, json={"question": QUESTIONS[0]}, headers=auth(HOME)).status_code == 200
    r = httpx.post(ask, json={"question": QUESTIONS[0], "collection": "manuals"}, headers=auth(HOME))
    assert error_of(r, 403) == "forbidden" and "'manuals'" in r.json()["error"]["message"]
    for r in (httpx.post(ask, json={"question": QUESTIONS[0]}, headers=auth(ELSEWHERE)),
              httpx.post(server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTIONS[0]}]},
                         headers=auth(ELSEWHERE)),
              httpx.post(server.url + "/v1/sessions", headers=auth(ELSEWHERE))):
        assert error_of(r, 403) == "forbidden" and "'default'" in r.json()["error"]["message"]
    # its own collections it may ask: here "manuals" was never built
    r = httpx.post(ask, json={"question": QUESTIONS[0], "collection": "manuals"}, headers=auth(ELSEWHERE))
    assert error_of(r, 404) == "not_found"
    # the key stays an ask key there
    assert error_of(httpx.get(server.url + "/v1/documents", headers=auth(HOME)), 403) == "forbidden"


def test_an_ask_key_entry_names_real_collections(seed_index):
    from qa.collections import BadCollection
    from qa.serve.guard import ask_key

    assert ask_key("k1") == ("k1", None)
    assert ask_key("k2:manuals+default") == ("k2", frozenset({"manuals", None}))
    with pytest.raises(BadCollection):
        ask_key("k3:No Such Name")
    # the server refuses to start on it, in one line
    r = run_cli("serve", "--port", str(free_port()), "--index-dir", str(seed_index), env={"QA_ASK_KEYS": "k3:No Such Name"},
                timeout=120)
    assert r.returncode != 0 and "QA_ASK_KEYS" in r.stderr and "Traceback" not in r.stderr


def test_sessions_are_made_by_the_server_and_belong_to_their_key(server):
    sid = httpx.post(server.url + "/v1/sessions", headers=auth(ASK)).json()["id"]
    assert len(sid) == 32 and int(sid, 16) >= 0
    r = httpx.post(f"{server.url}/v1/sessions/{sid}/messages", json={"question": "What was the revenue for 2021?"},
                   headers=auth(ASK), timeout=120)
    assert r.status_code == 200
    assert len(httpx.get(f"{server.url}/v1/sessions/{sid}", headers=auth(ASK)).json()["turns"]) == 1
    for key in (OTHER,):  # another ask key cannot see it, nor continue it
        assert error_of(httpx.get(f"{server.url}/v1/sessions/{sid}", headers=auth(key)), 404) == "not_found"
        r = httpx.post(f"{server.url}/v1/sessions/{sid}/messages", json={"question": "And 2022?"}, headers=auth(key),
                       timeout=120)
        assert error_of(r, 404) == "not_found"
    assert len(httpx.get(f"{server.url}/v1/sessions/{sid}", headers=auth(ADMIN)).json()["turns"]) == 1
    for made_up in ("1", "../../etc/passwd", "0" * 32):  # ids a client chose are no conversation
        r = httpx.post(server.url + "/v1/ask", json={"question": "Who?", "session": made_up}, headers=auth(ASK), timeout=120)
        assert error_of(r, 404) == "not_found"


def test_small_edges(server):
    """Facts are paged; an impossible date is refused; no server path is shown."""
    facts = httpx.get(server.url + "/v1/facts", params={"limit": 3}, headers=auth(ADMIN)).json()
    assert len(facts) == 3
    assert httpx.get(server.url + "/v1/facts", params={"limit": 0}, headers=auth(ADMIN)).status_code == 422
    r = httpx.post(server.url + "/v1/ask", json={"question": "Who?", "k": True}, headers=auth(ASK), timeout=60)
    assert error_of(r, 422) == "invalid_request"  # a boolean is no count
    r = httpx.post(server.url + "/v1/ask", json={"question": "Who?", "since": "2023-13-45"}, headers=auth(ASK), timeout=60)
    assert error_of(r, 422) == "invalid_question" and "since" in r.json()["error"]["message"]
    ready = httpx.get(server.url + "/readyz").json()
    assert "/" not in ready["index"]


def test_documents_pushed_and_deleted_over_http(server):
    url = server.url + "/v1/documents"
    text = ("The Harbour Office opens at 7 am on weekdays.\n\n"
            "Its harbour master is Ingrid Solberg, who took the post in 2019.\n")
    r = httpx.post(url, json={"name": "harbour.txt", "text": text}, headers=auth(ADMIN), timeout=300)
    assert r.status_code == 201 and r.json()["added"] == 1, r.text
    doc_id = r.json()["id"]
    ask = lambda: httpx.post(server.url + "/v1/ask", json={"question": "Who is the harbour master?"},  # noqa: E731
                             headers=auth(ASK), timeout=120).json()
    assert "Ingrid Solberg" in (ask()["answer"] or "")
    listed = httpx.get(url, params={"limit": 1, "offset": 1}, headers=auth(ADMIN)).json()
    assert [d["doc"] for d in listed] == ["harbour.txt"] and listed[0]["id"] == doc_id
    files = {"file": ("notes.md", b"# Notes\n\nThe ferry to Tromso leaves at noon.\n", "text/markdown")}
    r = httpx.post(url, files=files, headers=auth(ADMIN), timeout=300)
    assert r.status_code == 201 and r.json()["doc"] == "notes.md", r.text
    for bad, status in (({"json": {"name": "../escape.txt", "text": "x"}}, 400),
                        ({"json": {"name": "empty.txt", "text": " "}}, 400),
                        ({"files": {"file": ("blob.bin", bytes(range(256)) * 40, "application/octet-stream")}}, 400),
                        ({"content": b"plain", "headers": {"Content-Type": "text/plain"}}, 415)):
        h = {**auth(ADMIN), **bad.pop("headers", {})}
        r = httpx.post(url, headers=h, timeout=300, **bad)
        assert error_of(r, status), r.text
    assert error_of(httpx.post(url, json={"name": "a.txt", "text": "Hello."}, headers=auth(ASK)), 403) == "forbidden"
    assert len(httpx.get(url, headers=auth(ADMIN)).json()) == 3
    for d in httpx.get(url, headers=auth(ADMIN)).json()[1:]:
        r = httpx.delete(f"{url}/{d['id']}", headers=auth(ADMIN), timeout=300)
        assert r.status_code == 200 and r.json()["removed"] == 1, r.text
    assert error_of(httpx.delete(f"{url}/{doc_id}", headers=auth(ADMIN)), 404) == "not_found"
    assert ask()["abstained"] or "Ingrid" not in (ask()["answer"] or "")
    assert len(httpx.get(url, headers=auth(ADMIN)).json()) == 1


def test_feedback_is_kept_and_listed(server):
    a = httpx.post(server.url + "/v1/ask", json={"question": "Who is the CEO of the Xiaomi car company?"},
                   headers=auth(ASK), timeout=120).json()
    url = f"{server.url}/v1/answers/{a['answer_id']}/feedback"
    r = httpx.post(url, json={"rating": "down", "comment": "should name the car unit's CEO"}, headers=auth(ASK))
    assert r.status_code == 201 and r.json() == {"answer_id": a["answer_id"], "rating": "down"}
    assert httpx.post(url, json={"rating": "up"}, headers=auth(OTHER)).status_code == 201
    assert error_of(httpx.post(url, json={"rating": "meh"}, headers=auth(ASK)), 422)
    assert error_of(httpx.post(f"{server.url}/v1/answers/nope/feedback", json={"rating": "up"}, headers=auth(ASK)), 404)
    listed = run_cli("feedback", "--json", "--index-dir", str(server.index_dir))
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["rating"], r["question"], r["answer"], r["comment"]) for r in rows] == [
        ("down", a["question"], a["answer"], "should name the car unit's CEO")]
    assert rows[0]["sources"][0]["text"] == a["sources"][0]["text"]


def test_sources_name_their_document_and_link_to_it(server):
    a = httpx.post(server.url + "/v1/ask", json={"question": QUESTIONS[0]}, headers=auth(ASK), timeout=120).json()
    source = a["sources"][0]
    assert "/" not in source["doc"] and source["doc"].endswith(".txt")
    page = httpx.get(server.url + source["link"])  # no key: a browser opens it from the widget
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<mark id=passage>' in page.text and html.escape(source["text"]) in page.text.split("<mark id=passage>")[1]
    forged = source["link"].replace("start=", "start=1")
    assert error_of(httpx.get(server.url + forged), 404) == "not_found"


def test_metric_labels_come_from_a_fixed_set(server):
    for n in range(30):
        httpx.request(f"BREW{n}", server.url + "/v1/ask", headers=auth(ADMIN))
    text = httpx.get(server.url + "/metrics", headers=auth(ADMIN)).text
    assert "BREW" not in text and 'method="other"' in text


def test_a_trickled_body_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"question\": ")
        t0 = time.monotonic()
        reply = b""
        while chunk := s.recv(65536):  # until the server closes the connection
            reply += chunk
        assert b" 408 " in reply.split(b"\r\n")[0] and b"request_timeout" in reply, reply
        assert time.monotonic() - t0 < 25


def test_slow_headers_are_cut_off_and_bad_http_gets_json(server):
    def exchange(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            s.sendall(data)
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
            return reply

    for partial in (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"):  # nothing, or headers never finished
        reply = exchange(partial)
        assert reply.startswith(b"HTTP/1.1 408 ") and b'"request_timeout"' in reply, reply
    reply = exchange(b"NOT HTTP AT ALL\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ") and b"application/json" in reply and b'"bad_request"' in reply, reply
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_an_idle_connection_is_closed(server):
    """A kept-alive connection that sends nothing more is closed after QA_IDLE_TIMEOUT (5 s by default),
    so half-used connections cannot pile up."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply, t0 = b"", None
        while chunk := s.recv(65536):  # the answer, then nothing until the server closes the connection
            reply += chunk
            t0 = t0 or time.monotonic()
        assert reply.startswith(b"HTTP/1.1 200 ")
        assert time.monotonic() - t0 < 30


def test_facts_are_paged(server):
    page = lambda **p: httpx.get(server.url + "/v1/facts", params=p, headers=auth(ADMIN), timeout=60).json()  # noqa: E731
    every = page(limit=1000)
    assert len(every) > 6
    assert page(limit=3) == every[:3] and page(limit=3, offset=3) == every[3:6]
    assert error_of(httpx.get(server.url + "/v1/facts", params={"limit": 0}, headers=auth(ADMIN)), 422)


def test_the_limiter_table_is_bounded():
    """Made-up client addresses cannot grow the limiter's table: the least recently seen are let go."""
    from qa.serve.guard import RateLimiter

    limiter = RateLimiter(per_minute=2, clients=100)
    for i in range(10_000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._buckets) == 100
    assert limiter.take("a") == 0 and limiter.take("a") == 0 and limiter.take("a") > 0  # a bucket still limits


def test_sessions_expire_by_an_index_not_a_scan(tmp_path):
    """Expiry (run on every save) reads only the oldest rows: its query plan uses the index on
    `updated`, so a save costs the same beside a million stored sessions."""
    from qa.store.sessions import SessionStore

    store = SessionStore(tmp_path / "sessions.sqlite", idle_seconds=3600)
    plan = " ".join(str(r) for r in store._db.execute("EXPLAIN QUERY PLAN DELETE FROM sessions WHERE updated < ?", (0,)))
    assert "sessions_updated" in plan, plan
    old = store.create()
    store._db.execute("UPDATE sessions SET updated = updated - 7200 WHERE id = ?", (old,))
    store.save(store.create(), {})  # a save expires what has been idle too long
    assert store._db.execute("SELECT count(*) FROM sessions WHERE id = ?", (old,)).fetchone()[0] == 0
    store.close()


def test_the_server_loads_a_follow_up_s_parser_before_it_serves(seed_index):
    """The English parser is loaded with the service, not by the first conversation: loading its
    vocabulary holds the GIL, and the event loop (and /healthz) waited over 50 ms behind it."""
    from qa.nlp import english
    from qa.serve.service import Service

    english.cache_clear()
    service = Service(seed_index)
    assert english.cache_info().currsize == 1
    service.sessions.close()


def test_the_stall_watchdog_names_what_held_the_loop_up(tmp_path):
    """QA_STALL_MS: a loop held up past it gets every thread's stack written, the culprit's among them."""
    from qa.serve.watchdog import watch

    log = tmp_path / "stalls.txt"

    def hold_the_loop_up():
        time.sleep(1.0)

    async def main():
        stop = watch(asyncio.get_running_loop(), 200, str(log))
        await asyncio.sleep(0.1)
        hold_the_loop_up()
        await asyncio.sleep(0.05)
        stop()

    asyncio.run(main())
    dumped = log.read_text()
    assert dumped.startswith("stall watchdog:") and dumped.count("stall: the event loop held up") == 1
    assert "in hold_the_loop_up" in dumped and "(the event loop)" in dumped


def test_failed_keys_are_slowed_down(server):
    """Last: it spends this address's allowance of failed keys (5 a minute)."""
    codes = [httpx.post(server.url + "/v1/ask", json={"question": "Who?"}, headers=auth(f"guess-{i}")).status_code
             for i in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    r = httpx.post(server.url + "/v1/ask", json={"question": "Who?"}, headers=auth(ADMIN))
    assert error_of(r, 429) == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    assert httpx.get(server.url + "/healthz").status_code == 200
