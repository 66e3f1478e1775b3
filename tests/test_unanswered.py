"""The support team's loop: every question asked is logged per collection; the ones the documents do
not answer come back grouped by meaning (`cli.py unanswered`, GET /v1/unanswered); a reviewed wrong
answer becomes a gold line that `cli.py eval` scores. A real server on a loopback port, the real
models and index."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time

import httpx
import pytest

from conftest import SEED, Server, run_cli

ADMIN, ASK = "admin-key-log", "ask-key-log"
# two questions the seed article does not answer, four ways each
WARRANTY = ["How long is the warranty on the Xiaomi car's battery?", "What warranty does the battery of the Xiaomi car come with?",
            "For how many years is the Xiaomi car battery under warranty?", "How long does the battery warranty of the Xiaomi car last?"]
RANGE = ["What is the driving range of the Xiaomi car on one charge?", "How far can the Xiaomi car drive on a full battery?",
         "How many kilometres can the Xiaomi car travel per charge?", "What range does the Xiaomi car have on a single charge?"]
ANSWERED = [
    "When does mass production start?", "Who is the CEO of the Xiaomi car company?", "How much is Xiaomi investing in the car project?",
    "What was Xiaomi's revenue in the fourth quarter of 2021?", "How much did fourth-quarter revenue grow year over year?",
    "What was the adjusted net profit in the fourth quarter?", "What was Xiaomi Group's total revenue for 2021?",
    "How many people are on the car project's R&D team?", "When was the Xiaomi Car project announced?",
    "How big a research team does the company hope to reach?", "How much cash does Xiaomi have in reserve for the cars?",
    "How many times has Lei Jun visited Musk?", "How many automotive industry veterans did Lei Jun talk to?",
    "Who are core members of the car company?", "What areas will the R&D focus on?", "How many electric vehicle companies has Lei Jun invested in?",
    "When did Xiaomi release its financial report?", "By how much did the full-year adjusted net profit grow?",
    "What was the adjusted net profit for the year 2021?", "How much did full-year revenue grow?",
    "What industry did Xiaomi enter?", "Over how many years is the $10 billion invested?", "Who announced the Xiaomi Car project?",
    "When is the first Xiaomi car expected to go into mass production?", "How has the Xiaomi Car business grown?",
    "What did Lei Jun say about the team's progress?", "Which businesses of Xiaomi had gratifying achievements?",
    "What could be Lei Jun's last big project?", "How much cash will Xiaomi build its cars with?",
    "When did Lei Jun announce that Xiaomi entered the electric vehicle industry?", "Who has Lei Jun visited twice?",
]
MARKED_WRONG = "What was the full-year revenue in US dollars?"  # the one whose answer a reviewer corrects


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def logged(seed_index, tmp_path_factory):
    """A server over its own copy of the seed index (a fresh log), asked 40 questions by every route."""
    index = tmp_path_factory.mktemp("logged") / "index"
    shutil.copytree(seed_index, index)
    for name in ("questions.sqlite", "sessions.sqlite"):
        (index / name).unlink(missing_ok=True)
    server = Server(index, {"QA_API_KEY": ADMIN, "QA_ASK_KEYS": ASK})
    c = httpx.Client(base_url=server.url, headers=auth(ASK), timeout=120)
    asked, answers = [], {}

    def ask(q: str) -> dict:
        a = c.post("/v1/ask", json={"question": q}).json()
        asked.append(q)
        answers[q] = a
        return a

    try:
        for q in ANSWERED[:20] + WARRANTY[:2] + RANGE[:2]:
            ask(q)
        sid = c.post("/v1/sessions").json()["id"]  # a conversation: one of them asked inside it
        for q in (WARRANTY[2], ANSWERED[20], RANGE[2]):
            assert c.post(f"/v1/sessions/{sid}/messages", json={"question": q}).status_code == 200
            asked.append(q)
        r = c.post("/v1/chat/completions", json={"model": "qa-bot", "messages": [{"role": "user", "content": WARRANTY[3]}]})
        assert r.status_code == 200, r.text
        asked.append(WARRANTY[3])
        for q in ANSWERED[21:] + [RANGE[3], MARKED_WRONG]:
            ask(q)
        wrong = answers[MARKED_WRONG]
        r = c.post(f"/v1/answers/{wrong['answer_id']}/feedback",
                   json={"rating": "down", "comment": "that is not in dollars", "correction": "$51.5 billion"})
        assert r.status_code == 201, r.text
        assert len(asked) == 40
        yield server, asked, answers
    finally:
        c.close()
        server.stop()


def groups_are_the_two_questions(groups: list[dict]) -> None:
    first = groups[:2]
    assert [g["count"] for g in first] == [4, 4], [(g["count"], g["questions"]) for g in groups[:4]]
    assert sorted(sorted(g["questions"]) for g in first) == sorted([sorted(RANGE), sorted(WARRANTY)])
    for g in first:
        assert g["abstained"] == 4 and g["marked_wrong"] == 0
        assert g["first_asked"] <= g["last_asked"] and g["first_asked"].endswith("Z")
        assert g["nearest"] and all(s["text"] for s in g["nearest"])
    assert all(g["count"] < 4 for g in groups[2:])


def test_unanswered_over_the_api_groups_each_question_asked_four_ways(logged):
    server, _, answers = logged
    r = httpx.get(server.url + "/v1/unanswered", headers=auth(ADMIN), timeout=120)
    assert r.status_code == 200, r.text
    groups = r.json()
    groups_are_the_two_questions(groups)
    assert all("/" not in s["doc"] and s["link"].startswith("/v1/documents/") for g in groups for s in g["nearest"])
    marked = [g for g in groups if g["marked_wrong"]]
    assert [(g["questions"], g["corrections"]) for g in marked] == [([MARKED_WRONG], ["$51.5 billion"])]
    assert len(httpx.get(server.url + "/v1/unanswered?limit=1", headers=auth(ADMIN), timeout=120).json()) == 1
    future = httpx.get(server.url + "/v1/unanswered?since=2999-01-01", headers=auth(ADMIN), timeout=120)
    assert future.status_code == 200 and future.json() == []
    bad = httpx.get(server.url + "/v1/unanswered?since=yesterday", headers=auth(ADMIN), timeout=120)
    assert bad.status_code == 422 and "since must be a date" in bad.json()["error"]["message"]


def test_an_ask_key_never_reads_the_log(logged):
    server, _, _ = logged
    r = httpx.get(server.url + "/v1/unanswered", headers=auth(ASK), timeout=30)
    assert r.status_code == 403 and "Traceback" not in r.text


def test_every_question_is_logged_by_the_way_it_came(logged):
    server, asked, answers = logged
    httpx.get(server.url + "/v1/unanswered", headers=auth(ADMIN), timeout=120)  # writes what is waiting
    with sqlite3.connect(server.index_dir / "questions.sqlite") as db:
        rows = db.execute("SELECT question, via, answer_id, abstained, vector IS NOT NULL FROM questions ORDER BY id").fetchall()
    assert sorted(q for q, *_ in rows) == sorted(asked)
    via = {q: v for q, v, *_ in rows}
    assert via[WARRANTY[2]] == "session" and via[WARRANTY[3]] == "openai" and via[ANSWERED[0]] == "api"
    ids = {q: i for q, _, i, *_ in rows}
    assert ids[MARKED_WRONG] == answers[MARKED_WRONG]["answer_id"]
    assert all(has_vector for *_, has_vector in rows)  # taken from the encoder, not encoded again


def test_cli_unanswered_and_reviewed_feedback_as_gold(logged, tmp_path):
    server, _, _ = logged
    httpx.get(server.url + "/v1/unanswered", headers=auth(ADMIN), timeout=120)
    r = run_cli("unanswered", "--json", "--index-dir", str(server.index_dir))
    assert r.returncode == 0, r.stderr
    groups_are_the_two_questions([json.loads(line) for line in r.stdout.splitlines()])
    text = run_cli("unanswered", "--limit", "2", "--index-dir", str(server.index_dir))
    assert text.returncode == 0 and text.stdout.startswith("4x  ") and text.stdout.count("x  ") == 2, text.stdout
    gold = run_cli("feedback", "--gold", "--index-dir", str(server.index_dir))
    assert gold.returncode == 0, gold.stderr
    lines = [json.loads(line) for line in gold.stdout.splitlines()]
    assert [(g["question"], g["answers"], g["answerable"], g["support"]) for g in lines] == [
        (MARKED_WRONG, ["$51.5 billion"], True, [])]
    path = tmp_path / "reviewed.jsonl"
    path.write_text(gold.stdout, encoding="utf-8")
    scored = run_cli("eval", str(path), "--docs", str(SEED), "--json")
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert "questions=1" in report["summary"] and report["groups"][0]["questions"] == 1, report


def test_logging_off_keeps_nothing_and_old_entries_are_dropped(seed_index, tmp_path):
    from qa.records import Asked
    from qa.store.questions import QuestionTable

    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    (index / "questions.sqlite").unlink(missing_ok=True)
    table = QuestionTable(index / "questions.sqlite")
    table.add([Asked("an old question?", "an old question?", None, True, 0.0, asked=time.time() - 10 * 86400)])
    table.close()
    off = run_cli("ask", "What is the warranty on the battery?", "--index-dir", str(index), env={"QA_LOG_QUESTIONS": "0"})
    assert off.returncode == 0, off.stderr
    with sqlite3.connect(index / "questions.sqlite") as db:
        assert [q for (q,) in db.execute("SELECT question FROM questions")] == ["an old question?"]
    on = run_cli("ask", "What is the warranty on the battery?", "--index-dir", str(index), env={"QA_LOG_DAYS": "5"})
    assert on.returncode == 0, on.stderr
    with sqlite3.connect(index / "questions.sqlite") as db:
        assert [q for (q,) in db.execute("SELECT question FROM questions")] == ["What is the warranty on the battery?"]


def test_questions_are_kept_per_collection(seed_index, tmp_path):
    base = tmp_path / "indexes"
    shutil.copytree(seed_index, base)
    (base / "questions.sqlite").unlink(missing_ok=True)
    assert run_cli("--collection", "manuals", "build", str(SEED), "--index-dir", str(base)).returncode == 0
    asked = run_cli("--collection", "manuals", "ask", WARRANTY[0], "--index-dir", str(base))
    assert asked.returncode == 0, asked.stderr
    there = run_cli("--collection", "manuals", "unanswered", "--json", "--index-dir", str(base))
    assert [json.loads(line)["questions"] for line in there.stdout.splitlines()] == [[WARRANTY[0]]], there.stderr
    here = run_cli("unanswered", "--json", "--index-dir", str(base))
    assert here.returncode == 0 and here.stdout == "", here.stdout
