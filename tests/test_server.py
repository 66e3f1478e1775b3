"""The real server (`python cli.py serve`) on a free loopback port, called with httpx and the `openai`
client: answers equal the CLI's, conversations survive a restart, SIGTERM lets a request finish,
errors are JSON, limits hold, and the API keeps to its own OpenAPI document."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import Server, run_cli

KEY = "test-key-123"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTIONS = [
    "When does mass production start?",
    "Who is the CEO of the Xiaomi car company?",
    "How much is Xiaomi investing in the car project?",
    "What was the revenue for 2021?",
    "Which company will supply the batteries?",
    "When was the Xiaomi Car project announced?",
    "What key areas will the R&D team focus on?",
    "How many employees does the car team have?",
]


@pytest.fixture(scope="module")
def server(serve_index):
    s = Server(serve_index, {"QA_API_KEY": KEY, "QA_MAX_BODY_BYTES": "4096"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def cli_answers(serve_index):
    """The same questions through `cli.py batch` on the same index."""
    lines = "\n".join(json.dumps({"id": str(i), "question": q}) for i, q in enumerate(QUESTIONS))
    r = run_cli("batch", "--index-dir", str(serve_index), "--no-rebuild", stdin=lines)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out[QUESTIONS[int(d.pop("id"))]] = d
    return out


def same_answer(a: dict, b: dict) -> bool:
    """The same answer, the server's sources naming their document (and linking to it) where the CLI's
    give its path."""
    keys = ("question", "answer", "abstained", "confidence", "facts")
    cite = lambda s: (Path(s["doc"]).name, s["start"], s["end"], s["text"])  # noqa: E731
    return all(a.get(k) == b.get(k) for k in keys) and [cite(s) for s in a["sources"]] == [cite(s) for s in b["sources"]]


def test_health_is_open_and_everything_else_needs_the_key(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 1
    r = httpx.post(server.url + "/v1/ask", json={"question": QUESTIONS[0]})
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    assert httpx.get(server.url + "/v1/documents", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(server.url + "/").status_code == 200          # the widget's page and script are open
    assert httpx.get(server.url + "/widget.js").status_code == 200


def test_ask_gives_the_same_answer_as_the_cli(client, cli_answers):
    for q in QUESTIONS[:4]:
        r = client.post("/v1/ask", json={"question": q})
        assert r.status_code == 200
        assert same_answer(r.json(), cli_answers[q]), q
    r = client.post("/v1/ask", json={"question": QUESTIONS[0], "k": 1})
    assert len(r.json()["sources"]) == 1


def test_errors_are_json_and_never_a_trace(client, server):
    cases = [
        (client.post("/v1/ask", json={"question": ""}), 422),
        (client.post("/v1/ask", json={"question": "why " * 300}), 422),          # longer than 1,000 characters
        (client.post("/v1/ask", json={"question": "x" * 5000}), 413),            # body over the 4 KiB cap
        (client.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"}), 422),
        (client.post("/v1/ask", json={"question": "Who?", "k": 0}), 422),
        (client.get("/v1/sessions/nope"), 404),
        (client.post("/v1/sessions/nope/messages", json={"question": "Who?"}), 404),
        (client.get("/v1/nothing-here"), 404),
        (client.get("/v1/ask"), 405),
    ]
    for r, status in cases:
        assert r.status_code == status, (r.request.url, r.text)
        body = r.json()
        assert set(body) == {"error"} and body["error"]["message"] and body["error"]["code"] == status
        assert "Traceback" not in r.text


def test_body_without_a_length_is_capped_too(client):
    def chunks():
        for _ in range(10):
            yield b" " * 1000
    r = client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"


def test_the_openapi_document_and_its_docs_page_need_no_network(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/sessions", "/v1/chat/completions", "/healthz", "/metrics"} <= set(spec["paths"])
    page = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200


def test_facts_and_documents(client):
    docs = client.get("/v1/documents").json()
    assert len(docs) == 1 and docs[0]["sentences"] > 10
    relations = client.get("/v1/facts", params={"type": "relation", "attribute": "revenue"}).json()
    assert relations and all(f["kind"] == "relation" and "revenue" in f["attribute"].lower() for f in relations)


def test_a_conversation_follows_up(client):
    sid = client.post("/v1/sessions").json()["id"]
    first = client.post(f"/v1/sessions/{sid}/messages", json={"question": "What was the revenue for 2021?"}).json()
    assert "328" in first["answer"]
    second = client.post(f"/v1/sessions/{sid}/messages", json={"question": "And the adjusted net profit?"}).json()
    assert "net profit" in second["rewritten"] and "2021" in second["rewritten"]
    alone = client.post("/v1/ask", json={"question": second["rewritten"]}).json()
    assert second["answer"] == alone["answer"] and second["sources"] == alone["sources"]
    turns = client.get(f"/v1/sessions/{sid}").json()["turns"]
    assert [t["question"] for t in turns] == ["What was the revenue for 2021?", "And the adjusted net profit?"]


def test_metrics_count_requests_answers_and_errors(client):
    client.post("/v1/ask", json={"question": "Which company will supply the batteries?"})
    client.post("/v1/ask", json={"question": ""})
    text = client.get("/metrics").text
    assert 'qa_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert "qa_http_request_duration_seconds_bucket" in text
    assert "qa_abstentions_total" in text and "qa_answers_total" in text
    assert 'qa_http_errors_total{route="/v1/ask",status="422"}' in text


def test_openai_client_plain_and_streaming(server):
    from openai import OpenAI

    ai = OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0)
    assert [m.id for m in ai.models.list().data] == ["qa-bot"]
    msgs = [{"role": "user", "content": "When does mass production start?"}]
    done = ai.chat.completions.create(model="qa-bot", messages=msgs)
    text = done.choices[0].message.content
    assert "first half of 2024" in text.split("\n")[0] and "Sources:" in text
    extra = done.model_extra
    assert extra["sources"] and extra["qa"]["answer"] == "the first half of 2024" or "2024" in extra["qa"]["answer"]
    streamed = "".join(c.choices[0].delta.content or "" for c in
                       ai.chat.completions.create(model="qa-bot", messages=msgs, stream=True) if c.choices)
    assert streamed == text
    # earlier turns are the conversation
    follow = ai.chat.completions.create(model="qa-bot", messages=[
        {"role": "user", "content": "What was the revenue for 2021?"},
        {"role": "assistant", "content": "328.3 billion yuan ($51.5 billion)"},
        {"role": "user", "content": "And the adjusted net profit?"}])
    rewritten = follow.model_extra["qa"]["rewritten"]
    assert "net profit" in rewritten and "2021" in rewritten
    alone = httpx.post(server.url + "/v1/ask", json={"question": rewritten}, headers=AUTH, timeout=120).json()
    assert follow.model_extra["qa"]["answer"] == alone["answer"]


def test_load_2000_requests_at_concurrency_16(server, cli_answers):
    async def run():
        sem = asyncio.Semaphore(16)
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=300, limits=limits) as c:
            async def one(i):
                async with sem:
                    q = QUESTIONS[i % len(QUESTIONS)]
                    r = await c.post("/v1/ask", json={"question": q})
                    return q, r.status_code, r.json()
            return await asyncio.gather(*(one(i) for i in range(2000)))

    t0 = time.time()
    results = asyncio.run(run())
    assert all(status == 200 for _, status, _ in results)
    assert all(same_answer(body, cli_answers[q]) for q, _, body in results)
    print(f"2,000 requests in {time.time() - t0:.1f} s")


def test_the_api_keeps_to_its_openapi_document(server):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                     status_code_conformance)

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", headers=AUTH)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    tested = 0
    for result in schema.get_all_operations():
        op = result.ok()

        @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case):
            case.call_and_validate(base_url=server.url, headers=AUTH, checks=checks, timeout=120)

        check()
        tested += 1
    assert tested >= 10


def test_rate_limit_answers_429_with_retry_after(serve_index):
    s = Server(serve_index, {"QA_RATE_LIMIT": "3"})
    try:
        # a made-up X-Forwarded-For is no fresh allowance: the address is the socket's (no trusted proxy)
        codes = [httpx.get(s.url + "/v1/documents", headers={"X-Forwarded-For": f"10.0.0.{i}"}) for i in range(5)]
        assert [r.status_code for r in codes[:3]] == [200, 200, 200]
        limited = codes[3]
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["type"] == "rate_limited"
        assert httpx.get(s.url + "/healthz").status_code == 200  # health is never limited
    finally:
        s.stop()


def test_a_conversation_survives_a_restart_and_sigterm_lets_a_request_finish(serve_index):
    s = Server(serve_index)
    sid = httpx.post(s.url + "/v1/sessions").json()["id"]
    httpx.post(f"{s.url}/v1/sessions/{sid}/messages", json={"question": "What was the revenue for 2021?"}, timeout=120)
    box = {}

    def slow():
        box["r"] = httpx.post(s.url + "/v1/ask", json={"question": "What did Lei Jun say about the cars that Xiaomi "
                                                                   "would build and the money it would spend on them?",
                                                       "k": 5}, timeout=120)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)  # the request is in flight
    code = s.stop()
    t.join()
    assert box["r"].status_code == 200 and box["r"].json()["question"].startswith("What did Lei Jun")
    assert code in (0, -15)  # uvicorn re-raises the signal once it has shut down cleanly
    assert "Traceback" not in s.proc.stderr.read()
    again = Server(serve_index)
    try:
        r = httpx.post(f"{again.url}/v1/sessions/{sid}/messages", json={"question": "And the adjusted net profit?"},
                       timeout=120).json()
        assert "net profit" in r["rewritten"] and "2021" in r["rewritten"]
        assert len(httpx.get(f"{again.url}/v1/sessions/{sid}").json()["turns"]) == 2
    finally:
        again.stop()


def test_a_bad_index_stops_the_server_in_one_line(tmp_path):
    r = run_cli("serve", "--index-dir", str(tmp_path / "none"), "--port", "1", timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("error: no index at") and "Traceback" not in r.stderr


def test_a_server_answers_from_documents_added_while_it_runs(tmp_path):
    """`cli.py add` and `remove` from another process while `serve` runs: the server opens the new
    generation before its next answer, and its answer cache does not hand out the old answers."""
    from conftest import SEED

    doc = tmp_path / "harbour.txt"
    doc.write_text("The harbour master is Anna Berg. She took office in 2019 after twenty years at sea.\n", encoding="utf-8")
    index = tmp_path / "index"
    assert run_cli("build", str(SEED), "--index-dir", str(index)).returncode == 0
    server = Server(index)
    try:
        def ask(q):
            return httpx.post(server.url + "/v1/ask", json={"question": q}, timeout=120).json()

        q = "Who is the harbour master?"
        assert "Anna Berg" not in (ask(q)["answer"] or "")
        assert run_cli("add", str(doc), "--index-dir", str(index)).returncode == 0
        assert ask(q)["answer"] == "Anna Berg"
        assert len(httpx.get(server.url + "/v1/documents", timeout=60).json()) == 2
        assert run_cli("remove", doc.name, "--index-dir", str(index)).returncode == 0
        assert "Anna Berg" not in (ask(q)["answer"] or "")
        assert [Path(d["doc"]).name for d in httpx.get(server.url + "/v1/documents", timeout=60).json()] == [SEED.name]
    finally:
        server.stop()
