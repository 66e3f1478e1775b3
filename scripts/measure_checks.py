"""How often do the answer checks (qa/read/checks.py) refuse a right answer? Over a sample of SQuAD
v1.0 training questions (never the dev half), each gold answer span is checked as if the reader had
chosen it, in its sentence as the bot splits and tags it; printed: per wanted kind, the share of gold
answers refused, and examples of each refusal reason. A check must refuse few right answers.

    .venv/bin/python scripts/measure_checks.py [--questions 3000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=3000)
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args()
    from qa.nlp import english
    from qa.question import analyze_batch
    from qa.read.checks import Candidate, asked, check
    from qa.records import Sentence, Token

    data = json.load(open(ROOT.parent / "shared" / "data" / "squad" / "squad-v1.0-train.json"))["data"]
    rng = random.Random(7)
    items = [(p["context"], q["question"], q["answers"][0]) for a in data for p in a["paragraphs"] for q in p["qas"]]
    rng.shuffle(items)
    nlp = english()
    total, refused, reasons = Counter(), Counter(), defaultdict(list)
    for context, question, ans in items[: args.questions]:
        s, t = ans["answer_start"], ans["text"]
        doc = nlp(context)
        sent = next((x for x in doc.sents if x.start_char <= s and s + len(t) <= x.end_char), None)
        if sent is None:
            continue
        u = Sentence(doc="squad", start=sent.start_char, end=sent.end_char, text=sent.text,
                     entities=[(e.start_char, e.end_char, e.label_) for e in sent.ents],
                     tokens=[Token(t.idx, t.idx + len(t.text), t.text, t.lemma_, t.pos_, t.dep_, t.head.i - sent.start, t.ent_type_)
                             for t in sent])
        prev = context[max(0, sent.start_char - 200): sent.start_char]
        q = analyze_batch([question])[0]
        a = asked(q)
        v = check(a, Candidate(u, s - sent.start_char, s - sent.start_char + len(t), prev, ""))
        total[a.kind] += 1
        if not v.ok:
            refused[a.kind] += 1
            reasons[v.reason.split(";")[0] + "; " + (v.reason.split(";")[1].split("(")[0] if ";" in v.reason else "")].append((question, t))
    print(f"{sum(total.values())} gold answers checked; refused {sum(refused.values())} ({sum(refused.values()) / max(1, sum(total.values())):.3%})")
    for k in sorted(total, key=lambda k: -total[k]):
        print(f"  {k:13} {total[k]:5}  refused {refused[k]:4} ({refused[k] / total[k]:.1%})")
    for r, ex in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
        print(f"{len(ex):4}  {r}")
        for q, t in ex[: args.examples]:
            print(f"        {q} -> {t}")


if __name__ == "__main__":
    main()
