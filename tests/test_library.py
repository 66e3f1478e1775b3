"""Documents added, removed and updated without a rebuild: the answers equal a full rebuild's on the
same documents, and a command killed at any moment leaves the previous index serving."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SEED, run_cli
from test_formats import write_folder

QUESTIONS = ["When does mass production start?", "When will the new crane terminal open?",
             "How many days of paid holiday does an employee get?", "How much are travel expenses refunded within?",
             "Who is the harbour master?", "How many containers did the harbour handle in 2023?"]


def answers(index: Path) -> list[tuple]:
    lines = "".join(json.dumps({"id": str(i), "question": q}) + "\n" for i, q in enumerate(QUESTIONS))
    r = run_cli("batch", "--index-dir", str(index), stdin=lines)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    return [(a["answer"], a["abstained"], [(Path(s["doc"]).name, s["start"], s["end"]) for s in a["sources"][:3]])
            for a in rows]


def docs_of(index: Path) -> list[str]:
    r = run_cli("docs", "--json", "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    return [Path(json.loads(l)["doc"]).name for l in r.stdout.splitlines()]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    files = write_folder(root / "docs")
    shutil.copy(SEED, files / SEED.name)
    return files


def test_add_remove_update_answer_as_a_full_rebuild_does(library, tmp_path):
    index = tmp_path / "index"
    r = run_cli("build", str(library / SEED.name), str(library / "notes.md"), "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    r = run_cli("add", str(library / "report.pdf"), str(library / "handbook.docx"), "--index-dir", str(index))
    assert r.returncode == 0 and "2 added" in r.stderr, r.stderr
    r = run_cli("add", str(library / "report.pdf"), "--index-dir", str(index))
    assert r.returncode == 0 and "Nothing changed" in r.stderr, r.stderr
    r = run_cli("remove", "notes.md", "--index-dir", str(index))
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert docs_of(index) == [SEED.name, "report.pdf", "handbook.docx"]
    full = tmp_path / "full"
    r = run_cli("build", *(str(library / n) for n in docs_of(index)), "--index-dir", str(full))
    assert r.returncode == 0, r.stderr
    assert answers(index) == answers(full)
    a = {json.loads(l)["doc"]: json.loads(l) for l in run_cli("docs", "--json", "--index-dir", str(index)).stdout.splitlines()}
    b = {json.loads(l)["doc"]: json.loads(l) for l in run_cli("docs", "--json", "--index-dir", str(full)).stdout.splitlines()}
    assert {k: (v["sentences"], v["facts"]) for k, v in a.items()} == {k: (v["sentences"], v["facts"]) for k, v in b.items()}


def test_update_reads_changed_files_and_drops_vanished_ones(library, tmp_path):
    files = tmp_path / "files"
    shutil.copytree(library, files)
    index = tmp_path / "index"
    assert run_cli("build", str(files / "handbook.docx"), str(files / "notes.md"), str(files / "page.html"),
                   "--index-dir", str(index)).returncode == 0
    with open(files / "notes.md", "a", encoding="utf-8") as f:
        f.write("\nThe mobile app gained a dark mode in version 2.1.\n")
    (files / "page.html").unlink()
    r = run_cli("update", "--index-dir", str(index))
    assert r.returncode == 0 and "1 updated" in r.stderr and "1 removed" in r.stderr and "page.html" in r.stderr, r.stderr
    assert docs_of(index) == ["handbook.docx", "notes.md"]
    r = run_cli("ask", "What did the mobile app gain?", "--json", "--index-dir", str(index))
    assert "dark mode" in json.loads(r.stdout)["sources"][0]["text"]
    r = run_cli("update", "--index-dir", str(index))
    assert r.returncode == 0 and "Nothing changed" in r.stderr


def test_bad_names_and_emptying_the_index_are_refused(library, tmp_path):
    index = tmp_path / "index"
    assert run_cli("build", str(library / "notes.md"), "--index-dir", str(index)).returncode == 0
    for args, says in ((("remove", "nothing-like-this.pdf"), "no indexed document matches"),
                       (("remove", "notes.md"), "every document"),
                       (("add", str(library / "archive" / "broken.pdf")), "not a readable PDF")):
        r = run_cli(*args, "--index-dir", str(index))
        assert r.returncode != 0 and says in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert docs_of(index) == ["notes.md"]


def test_update_adds_files_new_in_an_indexed_folder(tmp_path):
    files = tmp_path / "docs"
    files.mkdir()
    (files / "a.txt").write_text("The canteen opens at noon.\n", encoding="utf-8")
    (files / "skip.log").write_text("The canteen burned down.\n", encoding="utf-8")
    index = tmp_path / "index"
    assert run_cli("build", str(files), "--index-dir", str(index), "--exclude", "*.log").returncode == 0
    (files / "b.md").write_text("# Parking\n\nThe car park closes at ten.\n", encoding="utf-8")
    (files / "later.log").write_text("Not to be read.\n", encoding="utf-8")
    r = run_cli("update", "--index-dir", str(index))
    assert r.returncode == 0 and "1 added" in r.stderr and "b.md" in r.stderr, r.stderr
    assert docs_of(index) == ["a.txt", "b.md"]                 # the folder's --exclude still holds
    r = run_cli("update", "--index-dir", str(index))
    assert r.returncode == 0 and "Nothing changed" in r.stderr, r.stderr


def test_remove_by_absolute_or_relative_path(library, tmp_path):
    """A path names its document alone, written absolute or relative to the working folder."""
    index = tmp_path / "index"
    names = ("notes.md", "handbook.docx", "page.html")
    assert run_cli("build", *(str(library / n) for n in names), "--index-dir", str(index)).returncode == 0
    r = run_cli("remove", str((library / "notes.md").resolve()), "--index-dir", str(index))
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert docs_of(index) == ["handbook.docx", "page.html"]
    relative = os.path.relpath(library / "page.html", ROOT)  # run_cli works in the project folder
    r = run_cli("remove", relative, "--index-dir", str(index))
    assert r.returncode == 0 and "1 removed" in r.stderr, r.stderr
    assert docs_of(index) == ["handbook.docx"]


@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_killed_add_or_remove_leaves_the_previous_index(library, tmp_path, command):
    index = tmp_path / "index"
    assert run_cli("build", str(library / "notes.md"), str(library / "handbook.docx"), "--index-dir", str(index)).returncode == 0
    before = answers(index)
    args = ["add", str(library / "report.pdf"), str(library / "page.html")] if command == "add" else ["remove", "notes.md"]
    # how long the whole command takes, then kills spread over it
    t = time.perf_counter()
    scratch = tmp_path / "scratch"
    shutil.copytree(index, scratch)
    assert run_cli(*args, "--index-dir", str(scratch)).returncode == 0
    whole = time.perf_counter() - t
    after = answers(scratch)
    outcomes = set()
    # from early on: on a busy machine a run may go faster than the timed one, and a kill meant for its
    # middle would come after its end
    for share in (0.2, 0.5, 0.8, 0.95):
        p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args, "--index-dir", str(index)], cwd=ROOT,
                             env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        time.sleep(whole * share)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        got = answers(index)
        assert got in (before, after)
        outcomes.add("after" if got == after and got != before else "before")
        if got == after:  # the change landed: undo it for the next kill
            shutil.rmtree(index)
            assert run_cli("build", str(library / "notes.md"), str(library / "handbook.docx"),
                           "--index-dir", str(index)).returncode == 0
    assert "before" in outcomes


def test_a_large_build_interrupted_resumes_where_it_stopped(tmp_path):
    """Ctrl-C in the middle of a build of many documents, then the same build: the finished chunks
    are not read nor embedded again, and the index is the same as an uninterrupted build's."""
    import math

    from qa.embed import default_encoder
    from qa.build import PARSE_DOCUMENTS, RESUMABLE_CHUNK, build
    from qa.library import load

    files = tmp_path / "docs"
    files.mkdir()
    n = RESUMABLE_CHUNK * 2 + 5
    for i in range(n):
        (files / f"project-{i:03d}.txt").write_text(
            f"Project {i} has {10 + i} members. It started in {1950 + i} in the city of Town{i}.\n", encoding="utf-8")
    real = default_encoder()

    class Counting:
        name, checksum = getattr(real, "name", None), getattr(real, "checksum", None)

        def __init__(self, stop_after: int | None = None):
            self.calls, self.texts, self.stop_after = 0, 0, stop_after

        def encode(self, texts, progress=None):
            self.calls += 1
            if self.stop_after is not None and self.calls > self.stop_after:
                raise KeyboardInterrupt
            self.texts += len(texts)
            return real.encode(texts, progress=progress)

    index = tmp_path / "index"
    calls = lambda docs: math.ceil(docs / PARSE_DOCUMENTS)  # noqa: E731  # one encoder call a group of short documents
    first = Counting(stop_after=calls(RESUMABLE_CHUNK))
    with pytest.raises(KeyboardInterrupt):
        build([str(files)], index, encoder=first)
    assert not (index / "CURRENT").exists() and len(list(index.glob(".build-*/*.pickle"))) == 1
    second = Counting()
    build([str(files)], index, encoder=second)
    # two sentences a document, each embedded alone and in its window; the first chunk not redone
    assert second.calls == calls(RESUMABLE_CHUNK) + calls(5) and second.texts == 4 * (n - RESUMABLE_CHUNK) and first.texts == 4 * RESUMABLE_CHUNK
    assert not list(index.glob(".build-*"))
    fresh = tmp_path / "fresh"
    build([str(files)], fresh, encoder=real)
    a, b = load(index), load(fresh)
    assert [d.path for d in a.documents] == [d.path for d in b.documents]
    assert len(a.sentences) == len(b.sentences) == 2 * n
    assert np.allclose(np.asarray(a.sentence_vectors.matrix), np.asarray(b.sentence_vectors.matrix), atol=1e-5)
