"""Two small learned combiners over the reader's scores (weights fitted by scripts/train_answer.py on
the SQuAD 2.0 dev half, cross-validated by article):

- the reranker: a score w . f whose softmax over a question's candidates is P(this one holds the
  answer) (fitted listwise), f = the reader's "answers" logit
  and span score, the fused retrieval score and each one's distance to the best candidate's;
- the confidence: P(the question is answerable and the top candidate answers it) = logistic(w . g + b),
  g = the top candidate's reader scores, its lead over the next one, retrieval agreement and the
  question's kind.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError

WEIGHTS_FILE = Path(__file__).resolve().parent.parent / "models" / "combiners.json"
QTYPES = ("date", "count", "money", "percent", "person", "place", "thing", "reason", "manner", "duration",
          "measure", "organization", "group")


@lru_cache(maxsize=1)
def weights() -> dict:
    """{"rerank": {...}, "confidence": {...}, "threshold": t}: see scripts/train_answer.py."""
    if not WEIGHTS_FILE.is_file():
        raise ModelError(f"the combiners' weights are missing at {WEIGHTS_FILE} - reinstall the project (pip install -e .)")
    return json.loads(WEIGHTS_FILE.read_text())


def linear(w: dict, f: dict) -> float:
    return w.get("__bias__", 0.0) + sum(w.get(k, 0.0) * v for k, v in f.items())


def logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def candidate_features(readings, choices, fused: list[float], dense: list[float], headings: list[bool],
                       typed: bool) -> list[dict[str, float]]:
    """One feature dict per read candidate, in fused order: the reader's "answers" logit, the chosen
    span's score, its lead over no-answer ([CLS]) and its fall from the reader's first choice, how well
    it fits the kind of answer wanted (typed questions), retrieval's scores, and each one's distance to
    the best candidate's."""
    rows = []
    for i, (a, s0, n, (_, _, s, ft), f, d, h) in enumerate(zip(readings.answers, readings.span_scores, readings.nulls,
                                                                 choices, fused, dense, headings)):
        rows.append({"reader_answers": a, "span_score": max(s, -10.0), "span_over_null": max(s - n, -20.0),
                     "span_below_first": max(s - s0, -10.0), "kind_fit": ft if typed else 0.0,
                     "typed_question": float(typed), "retrieval_score": f, "dense_cosine": d, "log_rank": math.log1p(i),
                     "is_heading": float(h)})
    for k in ("reader_answers", "span_score", "span_over_null", "retrieval_score", "dense_cosine", "kind_fit"):
        best = max(r[k] for r in rows)
        for r in rows:
            r[k + "_below_best"] = r[k] - best
    return rows


def rerank_scores(rows: list[dict[str, float]], w: dict | None = None) -> list[float]:
    w = weights()["rerank"] if w is None else w
    return [linear(w, r) for r in rows]


def confidence_features(rows: list[dict[str, float]], scores: list[float], best: int, qtype: str,
                        yes_no: bool) -> dict[str, float]:
    """What tells a question the documents answer from one they do not."""
    second = max((s for i, s in enumerate(scores) if i != best), default=scores[best] - 6.0)
    r = rows[best]
    g = {"reader_answers": r["reader_answers"], "span_score": max(r["span_score"], -5.0),
         "span_over_null": r["span_over_null"], "best_span_over_null": max(x["span_over_null"] for x in rows),
         "rerank_score": scores[best], "rerank_lead": min(scores[best] - second, 6.0),
         "retrieval_score": min(r["retrieval_score"], 15.0) / 5.0, "dense_cosine": r["dense_cosine"],
         "best_reader_answers": max(x["reader_answers"] for x in rows), "yes_no_question": float(yes_no),
         "kind_fit": r["kind_fit"], "typed_question": r["typed_question"], "span_below_first": r["span_below_first"],
         "best_kind_fit": max(x["kind_fit"] for x in rows)}
    g[f"question_type={qtype if qtype in QTYPES else 'thing'}"] = 1.0
    return g


def confidence(g: dict[str, float], w: dict | None = None) -> float:
    return logistic(linear(weights()["confidence"] if w is None else w, g))


def threshold(override: float | None = None) -> float:
    """Abstain below this confidence: the override (QA_ABSTAIN_BELOW), else the one fitted with the weights."""
    return override if override is not None else weights()["threshold"]


SIGNALS = {"reader_answers": "the reader: this passage answers", "span_score": "the reader's answer span score",
           "span_over_null": "the reader's span against no answer",
           "best_span_over_null": "the reader's best span against no answer", "rerank_score": "the reranker's score",
           "rerank_lead": "lead over the next passage", "retrieval_score": "retrieval score",
           "dense_cosine": "cosine of the question and the sentence", "best_reader_answers": "the reader's best passage score",
           "yes_no_question": "a yes/no question", "kind_fit": "the answer is of the kind asked for",
           "typed_question": "the question asks for a kind (date, figure, name)",
           "span_below_first": "the reader's first choice set aside",
           "best_kind_fit": "some passage has an answer of the kind asked for"}


def signals(g: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    """The n features that moved the confidence most, described, with their signed contribution."""
    w = weights()["confidence"]
    parts = sorted(((k, w.get(k, 0.0) * v) for k, v in g.items()), key=lambda t: -abs(t[1]))
    return [(SIGNALS.get(k, k), c) for k, c in parts[:n] if c]
