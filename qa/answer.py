"""The short answer: score candidate spans in the best sentences, then decide whether to abstain."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .match import question_words
from .question import Question
from .records import Hit, Sentence
from .spans import Span, candidates, text_of

NUMERIC = {"MONEY", "CARDINAL", "QUANTITY", "PERCENT", "COUNT"}
STOP_EDGE = {"the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those"}


@dataclass
class Choice:
    """The picked span with what the confidence is computed from."""

    text: str | None
    hit: Hit | None
    span: Span | None
    score: float
    features: dict


def span_score(q: Question, sent: Sentence, sp: Span, qlem: set[str], rank: int, rel: float) -> tuple[float, dict]:
    """Hand-set linear score: type match + nearness to question words - repetition of them - length."""
    toks = sent.tokens[sp.i:sp.j]
    content = [t for t in toks if t.pos not in ("DET", "PUNCT", "ADP", "CCONJ", "PRON")] or toks
    repeated = sum(t.lemma in qlem or t.text.lower() in qlem for t in content) / len(content)
    label = sp.label.removeprefix("LIST_")
    if label in q.wanted:
        type_fit = 1.0 - 0.2 * q.wanted.index(label)
    elif q.qtype == "reason":
        type_fit = 1.0 if label == "REASON" else 0.0
    elif q.qtype in ("thing", "manner"):
        type_fit = 0.5 if label in ("CHUNK", "CHUNK") else 0.35
    else:
        type_fit = 0.0
    if sp.label.startswith("LIST_"):
        type_fit += 0.3 if q.plural else -0.3
    matches = [k for k, t in enumerate(sent.tokens) if (t.lemma in qlem or t.text.lower() in qlem) and not sp.i <= k < sp.j]
    dist = min((sp.i - k if k < sp.i else k - sp.j + 1) for k in matches) if matches else 20
    near = 1.0 / (1.0 + dist / 3.0)
    length = 0 if sp.label.startswith("LIST_") else max(0, len(toks) - 5)
    f = {"type_fit": type_fit, "repeated": repeated, "near": near, "length": length, "rank": rank, "rel": rel}
    score = 2.0 * type_fit + 1.2 * near - 2.5 * repeated - 0.08 * length - 0.35 * rank + 0.5 * rel
    return score, f


def choose_span(q: Question, hits: list[Hit], n_sentences: int = 3) -> Choice:
    """The best span over the top sentences; its sentence is moved to the front of the sources."""
    qlem = question_words(q)
    best = Choice(None, None, None, -math.inf, {})
    top = hits[0].score if hits else 0.0
    for rank, hit in enumerate([h for h in hits if h.sentence.kind == "sentence"][:n_sentences]):
        rel = hit.score - top
        for sp in candidates(hit.sentence):
            score, f = span_score(q, hit.sentence, sp, qlem, rank, rel)
            if f["repeated"] >= 1.0:
                continue
            if score > best.score:
                best = Choice(None, hit, sp, score, f)
    if best.span is not None:
        best.text = answer_text(best.hit.sentence, best.span)
    return best


def answer_text(sent: Sentence, sp: Span) -> str:
    """The span as a person would say it: a figure keeps its conversion in brackets ("4.5 billion yuan
    ($706.8 million)"); leading articles and possessives are dropped."""
    i, j = sp.i, sp.j
    toks = sent.tokens
    while j - i > 1 and toks[i].text.lower() in STOP_EDGE and sp.label not in ("DATE",):
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


def confidence(choice: Choice, top: Hit, cover: float) -> float:
    """Logistic: 1 / (1 + exp(-(-4 + 3.5 cover + 2.5 cosine + 1.0 type_fit)))."""
    type_fit = choice.features.get("type_fit", 0.0)
    z = -4.0 + 3.5 * cover + 2.5 * top.dense + 1.0 * type_fit
    return 1.0 / (1.0 + math.exp(-z))
