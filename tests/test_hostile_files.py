"""A document cannot take the machine: hostile files (a zip-bomb DOCX, a PDF whose stream inflates past
pypdf's limit, an HTML page with a million elements, a file past the size limit, a page slow to
parse, one that needs more memory than allowed) are refused by `build` and by an upload with one line
or one JSON error naming the limit, the build goes on with the other files, and SIGTERM during an
upload ends the server promptly with the index as it was."""
from __future__ import annotations

import shutil
import signal
import threading
import time
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest

from conftest import SEED, Server, run_cli

KEY = "hostile-admin-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "When does mass production start?"


def docx_bomb(path: Path, paragraphs: int) -> None:
    """A valid Word document whose one part repeats a paragraph: it packs about 300 to 1."""
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>')
    para = b"<w:p><w:r><w:t>The quarterly report was published on Monday.</w:t></w:r></w:p>" * 1000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        with z.open("word/document.xml", "w") as f:
            f.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                    b'wordprocessingml/2006/main"><w:body>')
            for _ in range(paragraphs // 1000):
                f.write(para)
            f.write(b"</w:body></w:document>")


def pdf_bomb(path: Path, inflated: int) -> None:
    """A one-page PDF whose content stream inflates to `inflated` bytes (written by hand, with its xref)."""
    packer = zlib.compressobj(9)
    line = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET\n" * 1000
    body = b"".join(packer.compress(line) for _ in range(inflated // len(line))) + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    data, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(data)


def slow_page(path: Path, paragraphs: int = 60_000) -> None:
    """A real-looking page, large enough that its reading takes several seconds."""
    body = "".join(f"<div><p>Paragraph {i} says the quarterly report was published on Monday and read by many.</p></div>"
                   for i in range(paragraphs))
    path.write_text(f"<html><head><title>Slow</title></head><body>{body}</body></html>", encoding="utf-8")


# each hostile file, and the limit that refuses it
HOSTILE = {"bomb.docx": "QA_MAX_INFLATION_RATIO", "bomb.pdf": "pypdf", "elements.html": "QA_MAX_HTML_ELEMENTS",
           "huge.txt": "QA_MAX_FILE_BYTES"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    docx_bomb(folder / "bomb.docx", 400_000)                   # 31 MB of XML in about 100 kB
    pdf_bomb(folder / "bomb.pdf", 100_000_000)                 # a 100 MB stream in about 300 kB
    (folder / "elements.html").write_text("<html><body>" + "<p>x</p>" * 1_000_000 + "</body></html>")
    with open(folder / "huge.txt", "wb") as f:
        f.truncate(60_000_000)                                 # past 50 MB (sparse: no disk used)
    slow_page(folder / "slow.html")
    return folder


def refused_line(stderr: str, limit: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("error: ") and limit in lines[0] and "Traceback" not in stderr


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_build_refuses_each_hostile_file_in_one_line_naming_the_limit(name, hostile, tmp_path):
    r = run_cli("build", str(hostile / name), "--index-dir", str(tmp_path / "index"), timeout=120)
    assert r.returncode == 1
    assert refused_line(r.stderr, HOSTILE[name]), r.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_reading_past_its_time_or_memory_is_stopped(hostile, tmp_path):
    late = run_cli("build", str(hostile / "slow.html"), "--index-dir", str(tmp_path / "a"), env={"QA_READ_SECONDS": "1"})
    assert late.returncode == 1 and refused_line(late.stderr, "QA_READ_SECONDS"), late.stderr
    # a million elements let past their own limit: their tree needs more than 500 MB
    big = run_cli("build", str(hostile / "elements.html"), "--index-dir", str(tmp_path / "b"),
                  env={"QA_MAX_HTML_ELEMENTS": "10000000", "QA_READ_MEMORY_MB": "500"}, timeout=120)
    assert big.returncode == 1 and refused_line(big.stderr, "QA_READ_MEMORY_MB"), big.stderr


def test_a_build_goes_on_past_the_hostile_files_and_counts_them(hostile, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in HOSTILE:
        shutil.copy(hostile / name, folder / name)
    shutil.copy(SEED, folder / SEED.name)
    r = run_cli("build", str(folder), "--index-dir", str(tmp_path / "index"), timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Indexed 1 document(s)" in r.stderr and "skipped 4 file(s)" in r.stderr
    for name, limit in HOSTILE.items():
        assert any(name in line and limit in line for line in r.stderr.splitlines()), (name, r.stderr)
    a = run_cli("ask", QUESTION, "--index-dir", str(tmp_path / "index"))
    assert a.returncode == 0 and "2024" in a.stdout


@pytest.fixture()
def upload_server(serve_index, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(serve_index, folder)
    s = Server(folder, {"QA_API_KEY": KEY})
    yield s
    s.stop()


def upload(server: Server, path: Path, timeout: float = 120) -> httpx.Response:
    with open(path, "rb") as f:
        return httpx.post(server.url + "/v1/documents", headers=AUTH, files={"file": (path.name, f)}, timeout=timeout)


def test_an_upload_past_a_limit_is_a_413_naming_it_and_the_index_answers_as_before(upload_server, hostile):
    before = httpx.post(upload_server.url + "/v1/ask", json={"question": QUESTION}, headers=AUTH, timeout=120).json()["answer"]
    for name in ("bomb.docx", "bomb.pdf", "elements.html"):
        r = upload(upload_server, hostile / name)
        assert r.status_code == 413, (name, r.text)
        error = r.json()["error"]
        assert error["limit"] == HOSTILE[name] and HOSTILE[name] in error["message"]
    assert upload(upload_server, hostile / "huge.txt").status_code == 413  # past the upload cap, before reading
    assert [d["doc"] for d in httpx.get(upload_server.url + "/v1/documents", headers=AUTH).json()] == [SEED.name]
    after = httpx.post(upload_server.url + "/v1/ask", json={"question": QUESTION + " "}, headers=AUTH, timeout=120).json()["answer"]
    assert after == before


def test_sigterm_during_an_upload_ends_the_server_promptly_and_the_index_answers_as_before(upload_server, hostile):
    box = {}

    def send():
        try:
            box["r"] = upload(upload_server, hostile / "slow.html")
        except httpx.HTTPError as e:  # the server may close the connection as it stops
            box["r"] = e

    t = threading.Thread(target=send)
    t.start()
    time.sleep(2.0)  # the page is being read
    assert httpx.get(upload_server.url + "/healthz", timeout=5).status_code == 200  # the server still answers
    stopped = time.monotonic()
    upload_server.proc.send_signal(signal.SIGTERM)
    code = upload_server.proc.wait(60)
    took = time.monotonic() - stopped
    t.join(60)
    assert code in (0, -15) and took < 20, (code, took)  # within GRACEFUL_SECONDS (8) by construction; a hang was 60+
    assert "Traceback" not in upload_server.proc.stderr.read()
    again = Server(upload_server.index_dir, {"QA_API_KEY": KEY})
    try:
        docs = [d["doc"] for d in httpx.get(again.url + "/v1/documents", headers=AUTH).json()]
        assert SEED.name in docs and "slow.html" not in docs
        r = httpx.post(again.url + "/v1/ask", json={"question": QUESTION}, headers=AUTH, timeout=120).json()
        assert "2024" in r["answer"]
    finally:
        again.stop()
