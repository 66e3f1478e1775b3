"""Rerank the fused candidates with what the question tells us: a logistic regression over each
candidate's retrieval scores, the question words it and its neighbours hold, the answer type it
offers, and how it compares with the best of the other candidates (scripts/train_answer.py fits it)."""
from __future__ import annotations

import math

from .answer import best_span_score, linear, weights
from .index import Index
from .match import checks, coverage, has_wanted_span, question_words
from .question import Question
from .records import Hit

SPAN_SCORED = 8   # candidates (in fused order) whose best answer span is scored; the rest get NO_SPAN
NO_SPAN = -10.0
RELATIVE = ("covp", "span", "cos", "zb", "covw", "fused")  # also given as the distance to the best candidate


def candidate_features(index: Index, q: Question, hits: list[Hit]) -> list[dict[str, float]]:
    """One feature dict per hit, in the hits' order."""
    qlem = question_words(q)
    words = q.text.split()
    rows = []
    for rank, h in enumerate(hits):
        s = h.sentence
        prev = index.sentences[s.id - 1] if s.id > 0 else None
        same_doc_prev = prev is not None and prev.doc == s.doc
        cov = coverage(q, [s], index.idf)
        pron_first = bool(s.tokens) and s.tokens[0].pos == "PRON"
        covp = max(cov, coverage(q, [prev, s], index.idf)) if pron_first and same_doc_prev else cov  # "Its profit ..."
        ck = checks(q, [s], words)
        f = dict(h.signals)
        f.update({"cos": h.dense, "cov": cov, "covp": covp, "covw": coverage(q, [s, *index.neighbours(s)], index.idf),
                  "wanted": has_wanted_span(q, s), "pair": ck["pair_cover"], "ent_miss": ck["ent_missing"],
                  "num_miss": ck["num_missing"], "len": math.log(1 + len(s.tokens)), "kind": float(s.kind != "sentence"),
                  "par_first": float(not same_doc_prev or prev.paragraph != s.paragraph), "pron_first": float(pron_first)})
        f["span"] = best_span_score(q, s, qlem) if rank < SPAN_SCORED and s.kind == "sentence" else NO_SPAN
        f["span_pos"] = max(f["span"], -5.0)
        rows.append(f)
    for name in RELATIVE:
        best = max((f[name] for f in rows), default=0.0)
        for f in rows:
            f["d_" + name] = f[name] - best
    return rows


def rerank(index: Index, q: Question, hits: list[Hit], w: dict | None = None) -> list[Hit]:
    """The hits reordered by the learned score, which becomes each hit's score (a logit:
    how likely the sentence holds the answer)."""
    w = weights()["rerank"] if w is None else w
    for h, f in zip(hits, candidate_features(index, q, hits)):
        h.score = linear(w, f)
    return sorted(hits, key=lambda h: -h.score)
