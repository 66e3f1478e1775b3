"""`add` and `remove` crashed at their own file-system commit points (the shared crash check's
method, extended to library changes): one change is traced with strace, then a real change is
killed at each close, rename, unlink, fsync or ftruncate it makes in the index's folder (strace's
fault injection). Every crash must leave an index that loads and answers as before the change or
as after it, never a mix."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SEED
from test_formats import write_folder

CALLS = "close,rename,renameat,renameat2,unlink,unlinkat,fsync,fdatasync,ftruncate,rmdir"
QUESTIONS = ["When does mass production start?", "Who is the harbour master?", "When will the new crane terminal open?"]
pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def cli(*args: str, strace: list[str] | None = None, stdin: str | None = None):
    return subprocess.run([*(strace or []), sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"), input=stdin, timeout=600)


def answers(index: Path):
    """The index's documents and its answers to QUESTIONS, or why it cannot give them."""
    r = cli("batch", "--index-dir", str(index), "--no-rebuild",
            stdin="".join(json.dumps({"question": q}) + "\n" for q in QUESTIONS))
    listed = cli("docs", "--json", "--index-dir", str(index))
    if r.returncode or listed.returncode:
        return f"does not answer: {((r.stderr or listed.stderr).strip().splitlines() or ['no output'])[-1][:160]}"
    return ([Path(json.loads(line)["doc"]).name for line in listed.stdout.splitlines()],
            [(a["answer"], [(Path(s["doc"]).name, s["start"]) for s in a["sources"][:2]])
             for a in map(json.loads, r.stdout.splitlines())])


def commit_points(log: Path, root: Path) -> list[tuple[str, int]]:
    counts, points = {}, []
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"(\d+)\s+(\w+)\((.*)", line)
        if not m or "resumed>" in line:
            continue
        pid, call, rest = m.groups()
        counts[(pid, call)] = counts.get((pid, call), 0) + 1
        if str(root) in rest:
            points.append((call, counts[(pid, call)]))
    picked = sorted(set(points), key=points.index)
    if len(picked) > 8:  # spread over the change, always keeping the last commit points
        step = len(picked) / 5
        picked = sorted({picked[int(i * step)] for i in range(5)} | set(picked[-3:]), key=picked.index)
    return picked


@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_change_crashed_at_each_commit_point_leaves_an_index_that_answers(tmp_path, command):
    files = write_folder(tmp_path / "docs")
    shutil.copy(SEED, files / SEED.name)
    pristine = tmp_path / "pristine"
    assert cli("build", str(files / SEED.name), str(files / "notes.md"), "--index-dir", str(pristine)).returncode == 0
    args = ["add", str(files / "handbook.docx")] if command == "add" else ["remove", "notes.md"]
    before = answers(pristine)
    traced = tmp_path / "traced"
    shutil.copytree(pristine, traced)
    log = tmp_path / "strace.log"
    r = cli(*args, "--index-dir", str(traced), strace=["strace", "-f", "-qq", "-y", "-e", f"trace={CALLS}", "-o", str(log)])
    assert r.returncode == 0, r.stderr
    after = answers(traced)
    assert after != before
    picked = commit_points(log, traced)
    assert picked, "tracing found no file-system calls on the index"
    outcomes = []
    for call, n in picked:
        target = tmp_path / "target"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(pristine, target)
        cli(*args, "--index-dir", str(target),
            strace=["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}", "-e", f"inject={call}:signal=SIGKILL:when={n}"])
        got = answers(target)
        assert got in (before, after), f"killed at {call} #{n}: {got}"
        outcomes.append(got == after)
    assert not all(outcomes), "no crash point left the index as it was before"
