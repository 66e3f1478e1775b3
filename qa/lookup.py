"""Fact look-ups at question time: a question whose type, attribute and period match a stored fact."""
from __future__ import annotations

import datetime as dt
import re

from .periods import normalize
from .question import Question
from .records import Fact, Hit

STOP = {"the", "a", "an", "of", "for", "in", "on", "and", "to", "by", "with", "at", "its", "their"}
# Which facts may answer which question types. Dates are left to the span reader, which reads
# them well; facts add figures with their currency, change and qualifier, derived values, and roles.
TYPE_UNITS = {"money": ("money",), "count": ("count",), "measure": ("count",), "person": ("person",),
              "percent": ("money", "count"), "thing": ("money",)}


def _stems(words) -> set[str]:
    return {w.lower()[:5] for w in words if w.lower() not in STOP}


def fact_kind(f: Fact) -> str:
    """money | change | count | period | person | other, read from the fact's value."""
    n = f.normalized if isinstance(f.normalized, dict) else {}
    if f.unit == "period":
        return "period"
    if f.unit == "person":
        return "person"
    if "amounts" in n:
        return "money"
    if "value" in n:
        return "count"
    return "other"


def question_period(q: Question, base: dt.date | None) -> str | None:
    """The period a question names ("in the fourth quarter of 2021" -> "Q4 2021", "Q4 revenue" -> "Q4")."""
    for text, label in q.entities:
        if label in ("DATE", "TIME"):
            p = normalize(text, base)
            if p:
                return p
    m = re.search(r"\b(q[1-4]|h[12])\b", q.text.lower())
    if m:
        return normalize(m.group(1), base)
    return None


def period_fits(asked: str | None, stored: str | None) -> float:
    if asked is None:
        return 0.0
    if stored is None:
        return -1.0
    a, s = asked.replace("FY ", ""), stored.replace("FY ", "")
    if a == s:
        return 1.0
    if s.startswith(a + " ") or a == s.split(" ")[-1] and stored.startswith("FY"):
        return 0.8
    return -2.0


def best_fact(q: Question, facts: list[Fact], hits: list[Hit], base: dt.date | None) -> Fact | None:
    """The stored fact that answers the question, when one's attribute, type and period all fit."""
    wanted = TYPE_UNITS.get(q.qtype)
    if not wanted:
        return None
    qstems = _stems(list(q.terms) + list(q.terms.values()) + q.text.split())
    asked = question_period(q, base)
    rank = {(h.sentence.doc, h.sentence.start): n for n, h in enumerate(hits)}
    best, best_score = None, 0.0
    for f in facts:
        if f.kind not in ("relation", "derived") or fact_kind(f) not in wanted:
            continue
        if q.qtype == "percent" and not (isinstance(f.normalized, dict) and f.normalized.get("change")):
            continue
        words = [w for w in f.attribute.split() if w.lower() not in STOP]
        if not any(w[:1].islower() or w.isupper() for w in words):
            continue  # a bare name is no attribute
        attr = _stems(words)
        verb = f.normalized.get("verb") if isinstance(f.normalized, dict) else None
        by_verb = bool(verb and verb in q.terms and verb not in ("be", "have", "include"))
        if by_verb:
            attr = attr & qstems or _stems([verb])  # "Who leads ...?" matches "led by X as CEO"
        if not attr or _stems(words[-1:]) - qstems and not attr <= qstems or len(attr & qstems) < len(attr) / 2:
            continue
        period = period_fits(asked, f.period)
        if period < 0 or (f.kind == "derived" and period <= 0):
            continue
        r = rank.get((f.doc, f.start))
        depth = len(hits) if by_verb else 9 if attr <= qstems else 2
        if f.kind != "derived" and (r is None or r > depth) and period < 1.0:
            continue  # retrieval must agree, unless the question names the fact's period
        score = 1.0 + period + len(attr & qstems) * 0.3 - len(attr - qstems) * 0.2 + (0.5 / (1 + r) if r is not None else -0.5)
        if score > best_score:
            best, best_score = f, score
    return best


def say_fact(f: Fact, qtype: str) -> str:
    """The fact as a person would say it: "85.6 billion yuan ($13.4 billion), up 21.4% year on year"."""
    n = f.normalized if isinstance(f.normalized, dict) else {}
    if qtype == "percent" and n.get("change"):
        return f.qualifier or f"{n['change']['percent']:+g}%"
    if f.kind == "derived":
        return f"{f.value} (computed: {f.formula})"
    if fact_kind(f) == "count":
        q = f"{f.qualifier} " if f.qualifier and f.qualifier.split()[0].lower() not in f.value.lower() else ""
        unit = n.get("unit") or ""
        return f"{q}{f.value}{' ' + unit if unit and unit not in f.value else ''}"
    if f.qualifier:
        return f"{f.value}, {f.qualifier}"
    return f.value
