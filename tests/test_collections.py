"""Collections: one bot, several libraries kept apart (`--collection NAME` on the CLI, `collection`
in requests), each its own documents and conversations, in the embedded store, in PostgreSQL and
behind one server; a document uploaded to a new collection makes it."""
from __future__ import annotations

import json
import shutil

import httpx
import pytest

from conftest import SEED, Server, run_cli

HARBOUR = ("Port Ellery harbour handled 41,000 containers in 2023. The harbour master is Ines Calder. "
           "The new crane terminal opens in March 2025.")
ADMIN = "admin-key-c"


def auth() -> dict:
    return {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def library(seed_index, tmp_path_factory):
    """An index folder: the seed article in the default collection, a harbour note in `ports`."""
    root = tmp_path_factory.mktemp("collections")
    index = root / "index"
    shutil.copytree(seed_index, index)
    note = root / "harbour.txt"
    note.write_text(HARBOUR, encoding="utf-8")
    r = run_cli("--collection", "ports", "build", str(note), "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    assert "collection" not in r.stderr or "ports" in r.stderr
    return index


def ask(index, question: str, collection: str | None = None) -> dict:
    r = run_cli(*(["--collection", collection] if collection else []), "ask", question, "--json", "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_each_collection_answers_from_its_own_documents(library):
    a = ask(library, "Who is the harbour master?", "ports")
    assert a["answer"] == "Ines Calder" and a["sources"][0]["doc"].endswith("harbour.txt")
    # the default collection does not hold the note, and the ports collection not the seed article
    assert ask(library, "Who is the harbour master?")["abstained"]
    assert ask(library, "When does mass production start?", "ports")["abstained"]
    r = run_cli("collections", "--index-dir", str(library))
    assert r.returncode == 0 and r.stdout.split() == ["default", "ports"]
    r = run_cli("--collection", "ports", "docs", "--json", "--index-dir", str(library))
    assert [json.loads(line)["doc"].rsplit("/", 1)[-1] for line in r.stdout.splitlines()] == ["harbour.txt"]


def test_a_bad_or_unknown_collection_is_one_clear_line(library):
    r = run_cli("--collection", "../etc", "ask", "Who?", "--index-dir", str(library))
    assert r.returncode == 2 and r.stderr.startswith("error: --collection:") and "Traceback" not in r.stderr
    r = run_cli("--collection", "nosuch", "ask", "Who?", "--index-dir", str(library))
    assert r.returncode == 1 and "no collection 'nosuch'" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.fixture(scope="module")
def server(library):
    s = Server(library, {"QA_API_KEY": ADMIN})
    yield s
    s.stop()


def test_a_request_names_its_collection(server):
    post = lambda path, body, **kw: httpx.post(server.url + path, json=body, headers=auth(), timeout=120, **kw)  # noqa: E731
    a = post("/v1/ask", {"question": "Who is the harbour master?", "collection": "ports"}).json()
    assert a["answer"] == "Ines Calder" and a["sources"][0]["doc"] == "harbour.txt"
    assert "collection=ports" in a["sources"][0]["link"]
    page = httpx.get(server.url + a["sources"][0]["link"].split("#")[0], timeout=30)
    assert page.status_code == 200 and "Ines Calder" in page.text
    assert post("/v1/ask", {"question": "Who is the harbour master?"}).json()["abstained"]
    c = post("/v1/chat/completions", {"messages": [{"role": "user", "content": "Who is the harbour master?"}],
                                      "collection": "ports"}).json()
    assert "Ines Calder" in c["choices"][0]["message"]["content"]
    # conversations belong to their collection
    sid = post("/v1/sessions?collection=ports", None).json()["id"]
    assert post(f"/v1/sessions/{sid}/messages?collection=ports", {"question": "Who is the harbour master?"}).status_code == 200
    assert post(f"/v1/sessions/{sid}/messages", {"question": "Who is the harbour master?"}).status_code == 404
    assert httpx.get(server.url + "/v1/collections", headers=auth(), timeout=30).json() == ["default", "ports"]
    docs = httpx.get(server.url + "/v1/documents?collection=ports", headers=auth(), timeout=30).json()
    assert [d["doc"] for d in docs] == ["harbour.txt"]
    for bad, status in (("nosuch", 404), ("../x", 422), ("A B", 422)):
        r = post("/v1/ask", {"question": "Who?", "collection": bad})
        assert r.status_code == status and set(r.json()) == {"error"}, r.text


def test_an_upload_to_a_new_collection_makes_it(server):
    text = "The Lindqvist bakery opens at 6 a.m. on weekdays. Its head baker is Aino Lindqvist."
    r = httpx.post(server.url + "/v1/documents?collection=bakery", json={"name": "bakery.txt", "text": text},
                   headers=auth(), timeout=300)
    assert r.status_code == 201, r.text
    a = httpx.post(server.url + "/v1/ask", json={"question": "Who is the head baker?", "collection": "bakery"},
                   headers=auth(), timeout=120).json()
    assert a["answer"] == "Aino Lindqvist"
    assert "bakery" in httpx.get(server.url + "/v1/collections", headers=auth(), timeout=30).json()
    assert SEED.name not in {d["doc"] for d in httpx.get(server.url + "/v1/documents?collection=bakery",
                                                          headers=auth(), timeout=30).json()}
