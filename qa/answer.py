"""The short answer: score candidate spans in the best sentences, then decide whether to abstain."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .match import question_words
from .question import Question
from .records import Hit, Sentence
from .spans import Span, candidates

NUMERIC = {"MONEY", "CARDINAL", "QUANTITY", "PERCENT", "COUNT"}
STOP_EDGE = {"the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those"}
PREPS = {"in", "on", "at", "by", "for", "from", "of", "to", "with", "as", "than", "into", "during", "after", "before",
         "since", "until", "about", "under", "over", "between", "like", "against", "through"}
COMMON_TYPES = {"thing", "person", "date", "place", "count", "manner"}  # enough SQuAD questions to learn type x label
MODEL_FILE = Path(__file__).with_name("answer_model.json")


@dataclass
class Choice:
    """The picked span with what the confidence is computed from."""

    text: str | None
    hit: Hit | None
    span: Span | None
    score: float
    features: dict
    margin: float = 0.0  # best span score minus the runner-up's


@lru_cache(maxsize=1)
def weights() -> dict:
    """Logistic-regression weights for spans and for answering vs abstaining (scripts/train_answer.py)."""
    return json.loads(MODEL_FILE.read_text())


def span_features(q: Question, sent: Sentence, sp: Span, qlem: set[str], rank: int, rel: float) -> dict[str, float]:
    """What makes a span the answer: its type against the wanted type, nearness to the question's
    words in the sentence, repeating them, its length, its syntactic role and the sentence's rank."""
    toks = sent.tokens[sp.i:sp.j]
    content = [t for t in toks if t.pos not in ("DET", "PUNCT", "ADP", "CCONJ", "PRON")] or toks
    repeated = sum(t.lemma in qlem or t.text.lower() in qlem for t in content) / len(content)
    label = "LIST" if sp.label.startswith("LIST_") else "CARDINAL" if sp.label == "COUNT" else sp.label
    base = sp.label.removeprefix("LIST_")
    qt = q.qtype if q.qtype in COMMON_TYPES else "other"
    f = {f"lab={label}": 1.0, "repeated": repeated,
         "repeated_any": float(repeated > 0), f"rank{min(rank, 2)}": 1.0, "rel": max(rel, -5.0)}
    if qt != "other":
        f[f"qt={qt}|lab={label}"] = 1.0
    lab = "CARDINAL" if base == "COUNT" else base
    if base in q.wanted:
        f[f"wanted{min(q.wanted.index(base), 2)}"] = 1.0
    if q.qtype not in ("thing", "manner", "reason"):
        f["typed_match" if lab in q.wanted[:2] or base in q.wanted[:2] else "typed_mismatch"] = 1.0
    matched = [k for k, t in enumerate(sent.tokens) if (t.lemma in qlem or t.text.lower() in qlem) and not sp.i <= k < sp.j]
    if matched:
        dist = min((sp.i - k if k < sp.i else k - sp.j + 1) for k in matched)
        f["near"] = 1.0 / (1.0 + dist / 3.0)
        f["adjacent"] = float(dist == 1)
    else:
        f["no_match"] = 1.0
    n = len(toks)
    f["len1" if n == 1 else "len2_3" if n <= 3 else "len4_6" if n <= 6 else "len7plus"] = 1.0
    f["len"] = min(n, 20) / 10.0
    root = next((k for k in range(sp.i, sp.j) if not sp.i <= sent.tokens[k].head < sp.j or sent.tokens[k].head == k), sp.j - 1)
    f[f"dep={sent.tokens[root].dep}"] = 1.0
    head = sent.tokens[sent.tokens[root].head] if 0 <= sent.tokens[root].head < len(sent.tokens) else None
    if head is not None and (head.lemma in qlem or head.text.lower() in qlem):
        f["head_matched"] = 1.0
    if head is not None and head.pos == "ADP":
        f[f"prep={head.text.lower() if head.text.lower() in PREPS else 'other'}|qt={qt}"] = 1.0
        grand = sent.tokens[head.head] if 0 <= head.head < len(sent.tokens) else None
        if grand is not None and (grand.lemma in qlem or grand.text.lower() in qlem):
            f["prep_head_matched"] = 1.0
    if sp.i > 0:
        prev = sent.tokens[sp.i - 1]
        f[f"prev={prev.text.lower() if prev.text.lower() in PREPS else prev.pos}"] = 1.0
        if q.focus and prev.lemma == q.focus:
            f["after_focus"] = 1.0
    if q.focus and any(t.lemma == q.focus for t in toks):
        f["focus_in_span"] = 1.0
    if any(t.pos == "PROPN" for t in toks):
        f["has_propn"] = 1.0
    if any(t.pos == "NUM" for t in toks):
        f["has_num"] = 1.0
    if label == "LIST":
        f["list_plural" if q.plural else "list_singular"] = 1.0
    f["pos_in_sentence"] = sp.i / max(len(sent.tokens), 1)
    return f


def linear(w: dict, f: dict) -> float:
    return w.get("__bias__", 0.0) + sum(w.get(k, 0.0) * v for k, v in f.items())


def best_span_score(q: Question, sent: Sentence, qlem: set[str]) -> float:
    """How well the sentence's best span answers the question, wherever the sentence ranks."""
    scores = [linear(weights()["span"], f) for f in (span_features(q, sent, sp, qlem, 0, 0.0) for sp in candidates(sent))
              if f["repeated"] < 1.0]
    return max(scores, default=-10.0)


READ_WITHIN = 0.5  # sentences read for the span: those whose reranker logit is this close to the best one


def choose_span(q: Question, hits: list[Hit], n_sentences: int = 3, w: dict | None = None) -> Choice:
    """The span with the highest learned score over the top sentences (at most n_sentences, and only
    those the reranker scores within READ_WITHIN of its best)."""
    qlem = question_words(q)
    w = weights()["span"] if w is None else w
    best = Choice(None, None, None, -math.inf, {})
    second = -math.inf
    top = hits[0].score if hits else 0.0
    read = [h for h in hits if h.sentence.kind == "sentence"][:n_sentences]
    for rank, hit in enumerate(h for h in read if h.score >= read[0].score - READ_WITHIN):
        for sp in candidates(hit.sentence):
            f = span_features(q, hit.sentence, sp, qlem, rank, hit.score - top)
            if f["repeated"] >= 1.0:
                continue
            score = linear(w, f)
            if score > best.score:
                second = best.score
                best = Choice(None, hit, sp, score, f)
            elif score > second:
                second = score
    if best.span is not None:
        best.text = answer_text(best.hit.sentence, best.span)
        best.margin = best.score - second if second > -math.inf else 5.0
    return best


def answer_text(sent: Sentence, sp: Span) -> str:
    """The span as a person would say it: a figure keeps its conversion in brackets ("4.5 billion yuan
    ($706.8 million)"); leading articles and possessives are dropped."""
    i, j = sp.i, sp.j
    toks = sent.tokens
    while j - i > 1 and toks[i].text.lower() in STOP_EDGE and sp.label != "DATE":
        i += 1
    if sp.label in NUMERIC and j < len(toks) and toks[j].text == "(":
        close = next((k for k in range(j, min(j + 8, len(toks))) if toks[k].text == ")"), None)
        if close and any(t.pos == "NUM" for t in toks[j:close]):
            j = close + 1
    text = sent.text[toks[i].start - sent.start: toks[j - 1].end - sent.start]
    for suffix in ("\u2019s", "'s"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip(" ,;:")


def abstain_features(choice: Choice, top: Hit, cover: float, cover_top: float, qtype: str) -> dict[str, float]:
    """What tells an answerable question from one the documents do not answer."""
    span_p = 1.0 / (1.0 + math.exp(-choice.score)) if choice.span is not None else 0.0
    return {"cover": cover, "cover_top": cover_top, "dense": top.dense, "fused": min(top.score, 15.0) / 5.0,
            "span_p": span_p, "wanted0": choice.features.get("wanted0", 0.0), "wanted1": choice.features.get("wanted1", 0.0),
            "near": choice.features.get("near", 0.0), f"qt={qtype}": 1.0, "cover_full": float(cover >= 0.999)}


def threshold(override: float | None = None) -> float:
    """Abstain below this confidence: the override (QA_ABSTAIN_BELOW), else the one fitted with the model."""
    return override if override is not None else weights()["threshold"]


def confidence(features: dict[str, float]) -> float:
    """P(answerable and answered) = logistic(w . features + b), weights fitted on SQuAD 2.0."""
    z = linear(weights()["abstain"], features)
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


SIGNALS = {"dense": "cosine of the question and the sentence", "cover": "question words in the sentence's window",
           "cover_top": "question words in the sentence", "span_p": "the answer span's score",
           "rr_top": "the reranker's score", "rr_margin": "lead over the next sentence",
           "missS_max": "its rarest word missing from the sentence", "elsewhere": "words from another passage",
           "neg_q_only": "the question says \"not\", the sentence does not", "ent_missing": "names missing from the sentence",
           "num_missing": "numbers missing from the sentence", "wanted0": "a span of the wanted type",
           "pair_cover": "question word pairs kept in order"}


def signals(features: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    """The n features that moved the confidence most, described, with their signed contribution."""
    w = weights()["abstain"]
    parts = sorted(((k, w.get(k, 0.0) * v) for k, v in features.items()), key=lambda t: -abs(t[1]))
    return [(SIGNALS.get(k, k), c) for k, c in parts[:n] if c]
