"""Conversations that hold: the follow-up turns of `bench/conversations.jsonl` (our own set, 71
follow-ups over the seed article, the two public news articles and the eleven Git pages as one
library: pronouns for people, things and groups, ellipsis of a time, a measure or a topic, bare
fragments such as "Over how many years?"; a line's `doc` or `docs` names what it is asked of)
and of the public gold files' sessions, answered through the pipeline as `batch` sessions are.

    .venv/bin/python bench/bench_conversations.py [--show]

Prints, for each set, the follow-ups answered right (the scorer's rule: a gold answer inside the
answer), the first turns answered right, and with --show every turn with the question as read."""
from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOLD = ROOT.parent / "shared" / "data" / "gold"


def sessions_of(lines: list[dict]) -> dict[str, list[dict]]:
    out = collections.defaultdict(list)
    for g in lines:
        if g.get("session"):
            out[g["session"]].append(g)
    return out


def run(name: str, sessions: dict[str, list[dict]], docs_of, work: Path, show: bool) -> dict:
    from qa.conversation import Conversation
    from qa.evaluate import norm
    from qa.build import build
    from qa.library import load
    from qa.pipeline import ask_batch

    indexes: dict[tuple, object] = {}
    first = follow = first_ok = follow_ok = 0
    for sid, turns in sessions.items():
        docs = tuple(docs_of(turns[0]))
        if docs not in indexes:
            folder = work / f"index-{len(indexes)}"
            build(list(docs), folder)
            indexes[docs] = load(folder)
        conv = Conversation()
        for n, g in enumerate(turns):
            a = ask_batch(indexes[docs], [g["question"]], [conv], k=10)[0]
            said = "" if a.abstained else (a.answer or "")
            ok = bool(g["answers"]) and not a.abstained and any(norm(x) in norm(said) for x in g["answers"])
            if n == 0:
                first, first_ok = first + 1, first_ok + ok
            else:
                follow, follow_ok = follow + 1, follow_ok + ok
            if show:
                print(f"  {'ok ' if ok else 'BAD'} {sid} {g['question']!r} -> read as {a.rewritten or '(as asked)'!r}: {said!r}")
    print(f"{name}: follow-ups right {follow_ok}/{follow} ({follow_ok / max(1, follow):.2f}); "
          f"first turns right {first_ok}/{first}", flush=True)
    return {"follow_ups": follow, "follow_ups_right": follow_ok, "first_turns": first, "first_turns_right": first_ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-conv-"))
    ours = [json.loads(line) for line in (ROOT / "bench" / "conversations.jsonl").read_text().splitlines() if line.strip()]
    results = {"ours": run("bench/conversations.jsonl", sessions_of(ours),
                           lambda g: [str((ROOT / d).resolve()) for d in g.get("docs") or [g["doc"]]], work, args.show)}
    docs = json.loads((GOLD / "docs.json").read_text()) if GOLD.is_dir() else {}
    for name, paths in sorted(docs.items()):
        lines = [json.loads(line) for line in (GOLD / name).read_text().splitlines() if line.strip()]
        results[name] = run(name, sessions_of(lines), lambda g, p=paths: [str((ROOT / x).resolve()) for x in p], work, args.show)
    gold = [r for k, r in results.items() if k != "ours"]
    if gold:
        print(f"public gold files: follow-ups right {sum(r['follow_ups_right'] for r in gold)}/{sum(r['follow_ups'] for r in gold)}")


if __name__ == "__main__":
    main()
