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
        rows.append({"ans": a, "span": max(s, -10.0), "gap": max(s - n, -20.0), "drop": max(s - s0, -10.0),
                     "fit": ft if typed else 0.0, "typed": float(typed), "fused": f, "cos": d,
                     "rank": math.log1p(i), "heading": float(h)})
    for k in ("ans", "span", "gap", "fused", "cos", "fit"):
        best = max(r[k] for r in rows)
        for r in rows:
            r["d_" + k] = r[k] - best
    return rows


def rerank_scores(rows: list[dict[str, float]], w: dict | None = None) -> list[float]:
    w = weights()["rerank"] if w is None else w
    return [linear(w, r) for r in rows]


def confidence_features(rows: list[dict[str, float]], scores: list[float], best: int, qtype: str,
                        yes_no: bool) -> dict[str, float]:
    """What tells a question the documents answer from one they do not."""
    second = max((s for i, s in enumerate(scores) if i != best), default=scores[best] - 6.0)
    r = rows[best]
    g = {"ans": r["ans"], "span": max(r["span"], -5.0), "gap": r["gap"], "gap_max": max(x["gap"] for x in rows),
         "rr": scores[best], "rr_margin": min(scores[best] - second, 6.0),
         "fused": min(r["fused"], 15.0) / 5.0, "cos": r["cos"], "ans_max": max(x["ans"] for x in rows),
         "yes_no": float(yes_no), "fit": r["fit"], "typed": r["typed"], "drop": r["drop"],
         "fit_max": max(x["fit"] for x in rows)}
    g[f"qt={qtype if qtype in QTYPES else 'thing'}"] = 1.0
    return g


def confidence(g: dict[str, float], w: dict | None = None) -> float:
    return logistic(linear(weights()["confidence"] if w is None else w, g))


def threshold(override: float | None = None) -> float:
    """Abstain below this confidence: the override (QA_ABSTAIN_BELOW), else the one fitted with the weights."""
    return override if override is not None else weights()["threshold"]


SIGNALS = {"ans": "the reader: this passage answers", "span": "the reader's answer span score",
           "gap": "the reader's span against no answer", "gap_max": "the reader's best span against no answer",
           "rr": "the reranker's score", "rr_margin": "lead over the next passage", "fused": "retrieval score",
           "cos": "cosine of the question and the sentence", "ans_max": "the reader's best passage score",
           "yes_no": "a yes/no question", "fit": "the answer is of the kind asked for",
           "typed": "the question asks for a kind (date, figure, name)", "drop": "the reader's first choice set aside",
           "fit_max": "some passage has an answer of the kind asked for"}


def signals(g: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    """The n features that moved the confidence most, described, with their signed contribution."""
    w = weights()["confidence"]
    parts = sorted(((k, w.get(k, 0.0) * v) for k, v in g.items()), key=lambda t: -abs(t[1]))
    return [(SIGNALS.get(k, k), c) for k, c in parts[:n] if c]
