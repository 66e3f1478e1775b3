"""A folder of mixed formats, written here by real writers (fpdf2, python-docx): HTML with navigation,
a script and a cookie banner; Markdown with front matter, headings, a code block and a table; a
two-page PDF with a running header; a DOCX with headings; a corrupt PDF and a binary file."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli

HTML = """<html><head><title>Metro line opens | City News</title>
<meta property="article:published_time" content="2023-03-14T10:00:00Z"></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/news">Newsroom archive</a></li></ul></nav>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<script>var tracking = "do not index me";</script>
<article><h1>Metro line opens after delays</h1>
<p>The new metro line opened on Tuesday after seven years of construction. It cost 2.1 billion euros,
far above the original budget.</p>
<h2>Ridership</h2>
<p>Officials expect 96 million passengers a year. The mayor, Ana Costa, called it a turning point for the city.</p>
</article><footer><p>Copyright 2023 City News. All rights reserved.</p></footer></body></html>"""

MARKDOWN = """---
title: Release notes
date: 2024-02-01
---

# Version 2

Version 2 adds offline search for every workspace. It ships on 5 March 2024.

```python
print("this code is not a sentence")
```

| plan | seats |
|---|---|
| team | 40 |

## Fixes

The login bug that locked out users was fixed by the platform team.
"""

PDF_PAGES = ["The harbour handled 4.2 million containers in 2023, up from 3.9 million a year earlier. "
             "Dredging of the northern channel finished in March, which lets larger vessels dock.",
             "A new crane terminal will open in 2026 at a cost of 310 million euros. The harbour master, "
             "Ingrid Solberg, said the terminal would double the capacity of the eastern quay."]


def write_folder(root: Path) -> Path:
    import docx
    from fpdf import FPDF

    root.mkdir()
    (root / "page.html").write_text(HTML, encoding="utf-8")
    (root / "notes.md").write_text(MARKDOWN, encoding="utf-8")
    class Report(FPDF):
        def header(self):
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, "Harbour Authority Annual Report", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"Page {self.page_no()}")

    pdf = Report()
    pdf.set_title("Harbour Report")
    for body in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, body)
    pdf.output(str(root / "report.pdf"))
    d = docx.Document()
    d.core_properties.title = "Staff handbook"
    d.add_heading("Staff handbook", 0)
    d.add_heading("Holidays", 1)
    d.add_paragraph("Every employee receives 28 days of paid holiday a year. Requests go to the line manager.")
    d.add_heading("Expenses", 1)
    d.add_paragraph("Travel expenses are refunded within 14 days of a claim.")
    d.save(str(root / "handbook.docx"))
    sub = root / "archive"
    sub.mkdir()
    (sub / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    (sub / "blob.txt").write_bytes(b"\x00\x01\x02 binary")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a document kind: a folder walk leaves it
    return root


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = write_folder(tmp_path_factory.mktemp("mixed") / "docs")
    index = root.parent / "index"
    r = run_cli("build", str(root), "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    return root, index, r.stderr


def ask(index: Path, *questions: str) -> list[dict]:
    lines = "".join(json.dumps({"id": str(i), "question": q}) + "\n" for i, q in enumerate(questions))
    r = run_cli("batch", "--index-dir", str(index), stdin=lines)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines()]


def store_of(index: Path) -> sqlite3.Connection:
    return sqlite3.connect(index / (index / "CURRENT").read_text().strip() / "store.sqlite")


def test_a_folder_is_read_by_content_and_bad_files_are_skipped_with_a_reason(mixed):
    root, index, stderr = mixed
    lines = [l for l in stderr.splitlines() if l.startswith("skipped")]
    assert len(lines) == 2, stderr
    assert any("broken.pdf" in l and "PDF" in l for l in lines) and any("blob.txt" in l and "binary" in l for l in lines)
    assert "Indexed 4 document(s)" in stderr and "skipped 2 file(s)" in stderr
    assert "Traceback" not in stderr
    db = store_of(index)
    formats = dict(db.execute("SELECT format, title FROM documents").fetchall())
    assert formats == {"html": "Metro line opens after delays", "markdown": "Release notes", "pdf": "Harbour Report",
                       "docx": "Staff handbook"}
    assert dict(db.execute("SELECT format, date FROM documents").fetchall())["html"] == "2023-03-14"
    assert dict(db.execute("SELECT format, date FROM documents").fetchall())["markdown"] == "2024-02-01"


def test_only_main_content_and_prose_become_sentences(mixed):
    _, index, _ = mixed
    db = store_of(index)
    units = " ".join(t for (t,) in db.execute("SELECT text FROM sentences WHERE kind != 'code'"))
    for junk in ("Newsroom archive", "cookies", "tracking", "Copyright", "this code is not a sentence", "seats",
                 "title: Release notes", "Harbour Authority Annual Report", "Page 1"):
        assert junk not in units, junk
    # a fenced block is one unit of its own, its code verbatim, without the fence's marks
    code = [t for (t,) in db.execute("SELECT text FROM sentences WHERE kind = 'code'")]
    assert code == ['print("this code is not a sentence")']
    html_text = db.execute("SELECT text FROM documents WHERE format = 'html'").fetchone()[0]
    assert "cookies" not in html_text and "Home" not in html_text
    # a word hyphenated at a PDF line end is whole again, and each page's sentences know their page
    pages = dict(db.execute("SELECT substr(text, 1, 20), page FROM sentences WHERE page IS NOT NULL").fetchall())
    assert pages["The harbour handled "] == 1 and pages["A new crane terminal"] == 2


def test_citations_name_title_section_and_page_with_exact_offsets(mixed):
    _, index, _ = mixed
    rows = ask(index, "When will the new crane terminal open?", "How many days of paid holiday does an employee get?",
               "What does version 2 add?", "How many passengers a year do officials expect?")
    crane, holiday, ship, riders = rows
    assert "2026" in crane["answer"]
    assert crane["sources"][0]["page"] == 2 and crane["sources"][0]["title"] == "Harbour Report"
    assert "28" in holiday["answer"] and holiday["sources"][0]["section"] == "Holidays"
    assert "offline search" in ship["sources"][0]["text"] and ship["sources"][0]["section"] == "Version 2"
    assert ship["sources"][0]["title"] == "Release notes"
    assert "96 million" in riders["answer"] and riders["sources"][0]["section"] == "Metro line opens after delays › Ridership"
    db = store_of(index)
    for row in rows:
        for s in row["sources"]:
            text = db.execute("SELECT text FROM documents WHERE path = ?", (s["doc"],)).fetchone()[0]
            assert text[s["start"]:s["end"]] == s["text"]
    md = Path(ship["sources"][0]["doc"]).read_text(encoding="utf-8")  # Markdown offsets are the file's own
    assert md[ship["sources"][0]["start"]:ship["sources"][0]["end"]] == ship["sources"][0]["text"]


def test_glob_and_excludes_choose_the_files(mixed, tmp_path):
    root, _, _ = mixed
    r = run_cli("build", str(root), "--glob", "*.md", "--index-dir", str(tmp_path / "md"))
    assert r.returncode == 0 and "Indexed 1 document(s)" in r.stderr, r.stderr
    r = run_cli("build", str(root), "--exclude", "*.pdf", "--exclude", "archive/", "--index-dir", str(tmp_path / "x"))
    assert r.returncode == 0 and "Indexed 3 document(s)" in r.stderr and "skipped" not in r.stderr, r.stderr
    (root / ".gitignore").write_text("*.docx\narchive/\n")
    try:
        r = run_cli("build", str(root), "--index-dir", str(tmp_path / "g"))
        assert r.returncode == 0 and "Indexed 3 document(s)" in r.stderr, r.stderr
    finally:
        (root / ".gitignore").unlink()


def test_a_lone_bad_file_fails_with_one_sentence(mixed, tmp_path):
    root, _, _ = mixed
    r = run_cli("build", str(root / "archive" / "broken.pdf"), "--index-dir", str(tmp_path / "bad"))
    assert r.returncode != 0 and "not a readable PDF" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("build", str(empty), "--index-dir", str(tmp_path / "bad"))
    assert r.returncode != 0 and "no documents found" in r.stderr


def test_docs_lists_each_document(mixed):
    _, index, _ = mixed
    r = run_cli("docs", "--json", "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    rows = {row["format"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert set(rows) == {"html", "markdown", "pdf", "docx"}
    assert rows["pdf"]["title"] == "Harbour Report" and rows["pdf"]["sentences"] >= 4 and rows["pdf"]["facts"] >= 1
    assert rows["markdown"]["date"] == "2024-02-01" and rows["html"]["indexed"].startswith("20")
    table = run_cli("docs", "--index-dir", str(index), env={"COLUMNS": "200"})
    assert table.returncode == 0 and "Staff handbook" in table.stdout


def test_a_question_can_be_limited_to_documents_or_dates(mixed):
    _, index, _ = mixed
    q = "How many days of paid holiday does an employee get?"
    r = run_cli("ask", q, "--json", "--doc", "*.pdf", "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    assert {Path(s["doc"]).name for s in json.loads(r.stdout)["sources"]} == {"report.pdf"}
    r = run_cli("ask", q, "--json", "--doc", "staff*", "--index-dir", str(index))  # a glob on the title
    got = json.loads(r.stdout)
    assert "28" in got["answer"] and {Path(s["doc"]).name for s in got["sources"]} == {"handbook.docx"}
    r = run_cli("ask", q, "--json", "--since", "2024", "--index-dir", str(index))
    assert {Path(s["doc"]).name for s in json.loads(r.stdout)["sources"]} == {"notes.md"}
    r = run_cli("ask", q, "--json", "--since", "2023-01", "--until", "2023-12-31", "--index-dir", str(index))
    assert {Path(s["doc"]).name for s in json.loads(r.stdout)["sources"]} == {"page.html"}
    for args, says in ((("--since", "last spring"), "date like"), (("--doc", "*.xlsx"), "no indexed document")):
        r = run_cli("ask", q, *args, "--index-dir", str(index))
        assert r.returncode != 0 and says in r.stderr and "Traceback" not in r.stderr, r.stderr
    lines = "".join(json.dumps(x) + "\n" for x in ({"id": "a", "question": q, "doc": "*.docx"},
                                                   {"id": "b", "question": q, "doc": "*.xlsx"},
                                                   {"id": "c", "question": q, "until": "2023"}))
    r = run_cli("batch", "--index-dir", str(index), stdin=lines)
    a, b, c = map(json.loads, r.stdout.splitlines())
    assert "28" in a["answer"] and "no indexed document" in b["error"]
    assert {Path(s["doc"]).name for s in c["sources"]} == {"page.html"}


def test_the_http_api_takes_the_same_limits(mixed):
    import httpx

    from conftest import Server

    _, index, _ = mixed
    server = Server(index)
    try:
        q = "How many days of paid holiday does an employee get?"
        r = httpx.post(server.url + "/v1/ask", json={"question": q, "doc": "*.docx"}, timeout=60)
        assert r.status_code == 200 and "28" in r.json()["answer"]
        assert r.json()["sources"][0]["section"] == "Holidays"
        r = httpx.post(server.url + "/v1/ask", json={"question": q, "since": "soon"}, timeout=60)
        assert r.status_code == 422 and "date like" in r.json()["error"]["message"]
        docs = httpx.get(server.url + "/v1/documents", timeout=60).json()
        assert {d["format"] for d in docs} == {"html", "markdown", "pdf", "docx"}
        assert all(d["chars"] > 0 for d in docs)
    finally:
        server.stop()


def test_two_documents_that_disagree_are_both_shown_the_newer_first(tmp_path):
    old, new = tmp_path / "2022-bridge.md", tmp_path / "2024-bridge.md"
    old.write_text("---\ntitle: Bridge plan\ndate: 2022-05-02\n---\n\nThe council approved the new river bridge. "
                   "The river bridge will cost 40 million euros, the council said.\n", encoding="utf-8")
    new.write_text("---\ntitle: Bridge plan revised\ndate: 2024-09-10\n---\n\nThe council revised the river bridge plan. "
                   "The river bridge will cost 55 million euros, the council said.\n", encoding="utf-8")
    for order in ((old, new), (new, old)):
        index = tmp_path / f"index-{order[0].stem}"
        assert run_cli("build", *map(str, order), "--index-dir", str(index)).returncode == 0
        r = run_cli("ask", "How much will the river bridge cost?", "--json", "--index-dir", str(index))
        got = json.loads(r.stdout)
        assert "55 million" in got["answer"], got
        assert [Path(s["doc"]).name for s in got["sources"][:2]] == ["2024-bridge.md", "2022-bridge.md"]
        assert got["others"][0]["date"] == "2022-05-02" and "40 million" in got["others"][0]["answer"]
