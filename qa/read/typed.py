"""Does a span hold the kind of answer the question asks for? A date for "when", a figure with a
currency for "how much money", a person for "who": read from the sentence's spaCy entities and the
span's own words. The reader proposes its few best spans; the best one of the wanted kind may stand in
for its first choice, and how well the chosen span fits joins the combiners' features.
"""
from __future__ import annotations

import re

from ..records import Sentence

# For each typed question: entity labels that fit fully, and labels that fit half (a "who" answered by
# an organization). Untyped questions (what, why, how) are not judged.
FITS = {
    "date": ({"DATE", "TIME"}, set()),
    # "how long": a span of time or a length, known by their units ("seven months", "6.1-kilometre");
    # a point in time ("Saturday", "2028") or another figure only half fits
    "duration": (set(), {"DATE", "TIME", "QUANTITY", "CARDINAL"}),
    "count": ({"CARDINAL", "QUANTITY"}, {"MONEY", "PERCENT"}),
    "money": ({"MONEY"}, {"CARDINAL", "QUANTITY"}),
    "percent": ({"PERCENT"}, {"CARDINAL", "QUANTITY"}),
    "measure": ({"QUANTITY"}, {"CARDINAL", "PERCENT", "MONEY", "DATE"}),
    "person": ({"PERSON"}, {"ORG", "NORP"}),
    "place": ({"GPE", "LOC", "FAC"}, {"ORG"}),
    "organization": ({"ORG"}, {"NORP", "PERSON", "GPE"}),
    "group": ({"NORP"}, {"ORG", "GPE", "LANGUAGE"}),
}
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                    r"hundred|thousand|million|billion|trillion|dozens?|once|twice)\b", re.I)
CURRENCY = re.compile(r"[$£€¥₹]|\b(dollars?|euros?|pounds?|yuan|yen|rupees?|francs?|pence|cents?|usd|eur|gbp)\b", re.I)
PERCENT = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b", re.I)
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
TIME_UNIT = re.compile(r"\b(years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century)\b", re.I)
LENGTH_UNIT = re.compile(r"\b(km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|ft|yards?|inches|inch|cm|"
                         r"centimetres?|centimeters?|mm|millimetres?|millimeters?|light-years?)\b", re.I)
NUMERIC = {"count", "money", "percent", "measure", "duration"}
MAX_WORDS = 6  # a figure or date said in words fits only in a short span
SLACK = 3.0  # a span of the wanted kind may stand in for the reader's first choice within this many logits


def is_typed(qtype: str) -> bool:
    return qtype in FITS


def fit(sentence: Sentence, start: int, end: int, qtype: str) -> float:
    """1 when the span (character offsets in the sentence) is of the kind the question wants, 0.5 when it
    is of a kind that sometimes answers it, 0 otherwise (and for untyped questions). A span that holds
    the wanted thing among many other words ("11.4% rise in revenue and a £420 million deal") does not fit."""
    if qtype not in FITS:
        return 0.0
    full, half = FITS[qtype]
    text = sentence.text[start:end]
    if len(text.split()) <= MAX_WORDS and _by_words(text, qtype):
        return 1.0
    labels = span_labels(sentence, start, end)
    if labels & full:
        return 1.0
    if labels & half or (qtype in NUMERIC and len(text.split()) <= MAX_WORDS and NUMBER.search(text)):
        return 0.5
    return 0.0


def _by_words(text: str, qtype: str) -> bool:
    """Figures and dates said in words spaCy may not tag: "£47m", "11.4 percent", "2027-28", "25 years"."""
    if qtype == "percent":
        return bool(PERCENT.search(text) and NUMBER.search(text))
    if qtype == "money":
        return bool(CURRENCY.search(text) and NUMBER.search(text))
    if qtype == "date":
        return bool(YEAR.search(text))
    if qtype == "duration":
        return bool((TIME_UNIT.search(text) or LENGTH_UNIT.search(text)) and NUMBER.search(text))
    if qtype == "count":
        return bool(NUMBER.search(text)) and not PERCENT.search(text) and not CURRENCY.search(text) and not YEAR.fullmatch(text.strip())
    return False


def span_labels(sentence: Sentence, start: int, end: int) -> set[str]:
    """Labels of the entities inside the span, where together they make up most of it."""
    inside = {}
    for es, ee, label in sentence.entities:
        es, ee = es - sentence.start, ee - sentence.start
        inter = min(end, ee) - max(start, es)
        if inter > 0 and inter >= 0.5 * (ee - es):
            inside[label] = inside.get(label, 0) + inter
    chars = len(sentence.text[start:end].strip()) or 1
    return {label for label, n in inside.items() if n >= 0.5 * chars}


def typed_choice(sentence: Sentence, alternatives: list[tuple[int, int, float]], qtype: str) -> tuple[int, int, float, float]:
    """(start, end, score, fit): the reader's best span, or a lower one of a better-fitting kind within
    SLACK logits of it."""
    s, e, score = alternatives[0]
    best = (s, e, score, fit(sentence, s, e, qtype))
    if best[3] == 1.0 or qtype not in FITS:
        return best
    for s, e, sc in alternatives[1:]:
        if sc < score - SLACK:
            break
        f = fit(sentence, s, e, qtype)
        if f > best[3]:
            best = (s, e, sc, f)
            if f == 1.0:
                break
    return best
