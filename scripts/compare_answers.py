"""Do two commits answer alike? Every question of every public gold file (and, with --squad, the dev
half) through `cli.py build` and `cli.py batch` of each commit, in its own git worktree, and the
answers compared: answer, abstention, the first source, confidence.

    .venv/bin/python scripts/compare_answers.py BEFORE AFTER [--squad] [--out report.json]

A restructuring must report 0 differences. Each commit runs with this checkout's interpreter and its
own code and models (the worktree's `cli.py` puts its own folder first on the path)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT.parent / "shared" / "data" / "gold"
SQUAD = ROOT.parent / "shared" / "data" / "squad" / "squad-v2.0-dev-half.json"


def question_sets(squad: bool) -> list[tuple[str, list[str], list[dict]]]:
    """(name, documents, batch requests) for each public gold file (and the dev half's articles)."""
    sets = []
    docs = json.loads((GOLD / "docs.json").read_text())
    for name, paths in sorted(docs.items()):
        reqs = [{"id": g["id"], "question": g["question"], **({"session": g["session"]} if g.get("session") else {}), "k": 10}
                for g in map(json.loads, (GOLD / name).read_text().splitlines()) if g]
        sets.append((name, [str((ROOT / p).resolve()) for p in paths], reqs))  # paths as from the project root
    if squad:
        work = Path(tempfile.mkdtemp(prefix="squad-docs-"))
        for n, art in enumerate(json.loads(SQUAD.read_text())["data"]):
            doc = work / f"{n:02d}.txt"
            doc.write_text("\n\n".join(p["context"] for p in art["paragraphs"]), encoding="utf-8")
            reqs = [{"id": q["id"], "question": q["question"], "k": 10} for p in art["paragraphs"] for q in p["qas"]]
            sets.append((f"squad/{art['title']}", [str(doc)], reqs))
    return sets


def answers_of(tree: Path, sets, work: Path) -> dict[str, dict]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", QA_STORE="", QA_COLLECTION="")
    out = {}
    for name, docs, reqs in sets:
        index = work / name.replace("/", "_")
        run = lambda *a, stdin=None: subprocess.run([sys.executable, str(tree / "cli.py"), *a], cwd=tree, env=env,  # noqa: E731
                                                    input=stdin, capture_output=True, text=True)
        r = run("build", *docs, "--index-dir", str(index))
        if r.returncode:
            raise SystemExit(f"{tree.name}: build of {name} failed: {r.stderr.strip()[-300:]}")
        r = run("batch", "--index-dir", str(index), stdin="".join(json.dumps(q) + "\n" for q in reqs))
        if r.returncode:
            raise SystemExit(f"{tree.name}: batch of {name} failed: {r.stderr.strip()[-300:]}")
        for q, line in zip(reqs, r.stdout.splitlines()):
            out[f"{name}:{q['id']}"] = json.loads(line)
        print(f"  {tree.name}: {name} ({len(reqs)} questions)", flush=True)
    return out


def gist(a: dict) -> dict:
    top = a["sources"][0] if a.get("sources") else {}
    return {"answer": a.get("answer"), "abstained": a.get("abstained"), "confidence": round(a.get("confidence", 0), 4),
            "source": (Path(top.get("doc", "")).name, top.get("start"), top.get("end")), "rewritten": a.get("rewritten")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--squad", action="store_true", help="also the dev half's 16 articles")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    sets = question_sets(args.squad)
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    got = {}
    for ref in (args.before, args.after):
        tree = work / ref.replace("/", "_")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref], check=True, capture_output=True)
        try:
            got[ref] = answers_of(tree, sets, work / f"index-{tree.name}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    a, b = got[args.before], got[args.after]
    diffs = [{"question": k, args.before: gist(a[k]), args.after: gist(b[k])} for k in a if gist(a[k]) != gist(b.get(k, {}))]
    report = {"before": args.before, "after": args.after, "questions": len(a), "different": len(diffs), "differences": diffs}
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    print(f"{len(a)} questions, {len(diffs)} answered differently by {args.after} than by {args.before}")
    for d in diffs[:20]:
        print(json.dumps(d))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
