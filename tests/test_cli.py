"""The command line: happy paths, the CONTRACT.md shape of batch, and every bad input."""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SEED, run_cli

QUESTION = "When does mass production start?"


def still_answers(index) -> bool:
    r = run_cli("batch", "--index-dir", str(index), stdin=json.dumps({"id": "x", "question": QUESTION}) + "\n")
    return r.returncode == 0 and "2024" in (json.loads(r.stdout.splitlines()[0])["answer"] or "")


def test_ask_prints_answer_and_cited_sentence(seed_index):
    r = run_cli("ask", QUESTION, "--index-dir", str(seed_index))
    assert r.returncode == 0, r.stderr
    assert "first half of 2024" in r.stdout
    assert "mass production in the first half of 2024" in " ".join(r.stdout.split())
    assert SEED.name in r.stdout


def test_a_standalone_ask_imports_only_what_answering_needs(seed_index):
    """The question path loads no build, ingest, conversation, server or database module: those cost
    start-up time that one question does not need (python -X importtime lists every module loaded)."""
    e = dict(__import__("os").environ, HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "cli.py"), "ask", QUESTION, "--index-dir",
                        str(seed_index)], capture_output=True, text=True, env=e, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "first half of 2024" in r.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "qa.read.reading" in loaded and "qa.index" in loaded  # the parse found the modules
    unneeded = ("qa.build", "qa.generation", "qa.ingest", "qa.conversation", "qa.facts", "qa.serve", "qa.postgres",
                "qa.pgwrite", "qa.evaluate", "spacy", "psycopg")
    assert not sorted(m for m in loaded if m.startswith(unneeded)), "ask imported what it does not need"


def test_ask_json_is_the_answer_object(seed_index):
    r = run_cli("ask", QUESTION, "--json", "--index-dir", str(seed_index))
    a = json.loads(r.stdout)
    assert {"question", "answer", "abstained", "confidence", "sources", "facts"} <= set(a)
    assert "first half of 2024" in a["answer"]


def test_batch_follows_the_contract(seed_index):
    reqs = [{"id": "a", "question": QUESTION, "k": 2}, {"id": "b", "question": "Who is the CEO of the car company?"},
            {"id": "c", "question": "   "}, {"id": "d", "question": "What is the price of the Xiaomi car?"}]
    r = run_cli("batch", "--index-dir", str(seed_index), stdin="".join(json.dumps(x) + "\n" for x in reqs))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    assert [x["id"] for x in rows] == ["a", "b", "c", "d"]
    text = SEED.read_text(encoding="utf-8")
    for row in (rows[0], rows[1]):
        assert isinstance(row["confidence"], float) and row["abstained"] is False
        for s in row["sources"]:
            assert text[s["start"]:s["end"]] == s["text"] and s["doc"].endswith(SEED.name)
    assert len(rows[0]["sources"]) == 2
    assert "Lei Jun" in rows[1]["answer"]
    assert "error" in rows[2]
    assert rows[3]["abstained"] is True and rows[3]["answer"] is None


def test_help_everywhere():
    for cmd in ([], ["build"], ["ask"], ["batch"], ["chat"]):
        r = run_cli(*cmd, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout


def test_batch_answers_every_line_beside_one_that_is_not_text(seed_index):
    """Invalid UTF-8, a JSON lone surrogate, NUL, a bad k: each that line's error, the others answered."""
    good = json.dumps({"id": "a", "question": QUESTION}).encode()
    lines = [good, b'{"id": "b", "question": "warranty \\ud800?"}', b"\xff\xfe{}", b'{"id": "d", "question": "x\\u0000y"}',
             b'{"id": "e", "question": "Who?", "k": true}', good.replace(b'"a"', b'"f"')]
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "batch", "--index-dir", str(seed_index)],
                       input=b"\n".join(lines) + b"\n", capture_output=True, timeout=600)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    assert [x["id"] for x in rows] == ["a", "b", None, "d", "e", "f"]
    assert "2024" in rows[0]["answer"] and "2024" in rows[5]["answer"]
    assert "surrogate" in rows[1]["error"] and "control character" in rows[3]["error"] and "k must" in rows[4]["error"]


@pytest.mark.parametrize("name", ["empty", "blank", "huge", "missing-doc", "empty-doc", "binary-doc", "latin1-doc",
                                  "corrupt", "absent", "not-utf8", "control", "negative-k", "zero-k"])
def test_bad_input_gets_one_clear_line(name, seed_index, tmp_path):
    good = tmp_path / "good"
    shutil.copytree(seed_index, good)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 r\xe9sum\xe9.".encode("latin-1"))
    corrupt = tmp_path / "corrupt"
    shutil.copytree(good, corrupt)
    for f in corrupt.rglob("*"):
        if f.is_file():
            f.write_bytes(b"\x00garbage" * 7)
    args = {"empty": ["ask", ""], "not-utf8": ["ask", "warranty \udcff?"], "control": ["ask", "why\x07?"], "negative-k": ["ask", QUESTION, "--k", "-3"], "zero-k": ["ask", QUESTION, "--k", "0"], "blank": ["ask", "  \t "], "huge": ["ask", "why " * 25000],
            "missing-doc": ["build", str(tmp_path / "nope.txt")], "empty-doc": ["build", str(tmp_path / "empty.txt")],
            "binary-doc": ["build", str(tmp_path / "binary.bin")], "latin1-doc": ["build", str(tmp_path / "latin1.txt")],
            "corrupt": ["ask", QUESTION, "--index-dir", str(corrupt)],
            "absent": ["ask", QUESTION, "--index-dir", str(tmp_path / "absent" / "deeper")]}[name]
    if "--index-dir" not in args:
        args += ["--index-dir", str(good)]
    r = run_cli(*args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if name in ("missing-doc", "empty-doc", "binary-doc", "latin1-doc"):
        assert still_answers(good)


def test_eval_prints_the_scorer_summary(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(g) for g in [
        {"id": "a", "question": QUESTION, "answers": ["first half of 2024"], "support": ["mass production in the first half of 2024"]},
        {"id": "b", "question": "Which company will supply the batteries?", "answerable": False},
    ]) + "\n")
    plot = tmp_path / "rel.png"
    r = run_cli("eval", str(gold), "--docs", str(SEED), "--plot", str(plot))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("gold: answer_acc=1.000 short_acc=1.000 support_at1=1.000 abstain_acc=1.000")
    assert plot.read_bytes()[:4] == b"\x89PNG"
    r = run_cli("eval", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 1 and r.stderr.startswith("error: ")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(gold.read_text() + "{not json\n")
    for f, says in ((bad, "line 3"), (tmp_path / "rel.png", "not")):
        r = run_cli("eval", str(f), "--docs", str(SEED))
        assert r.returncode == 1 and r.stderr.startswith("error: ") and says in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_build_into_a_file_is_refused(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    r = run_cli("build", str(SEED), "--index-dir", str(target))
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "not a folder" in r.stderr, r.stderr
    assert target.read_text() == "not a folder"
