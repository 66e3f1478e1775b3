"""Constraint negatives for the reader: a question whose year, quarter, month, ordinal, figure, person,
role, organization or place is swapped for another of the same kind that the paragraph mentions
*elsewhere* (outside the answer sentence and its neighbours), asked of the answer sentence. The words
still match; only the constraint breaks, so the sentence no longer answers. Found by the mention's
shape (regular expressions) and spaCy's entities, never by a list of questions: it holds for any
English text.

    mentions(text, ents) -> [(start, end, kind, text)]
    constraint_swap(question, q_ents, window, elsewhere, rng, kinds) -> (kind, new question) | None
"""
from __future__ import annotations

import re

MONTHS = ("January February March April May June July August September October November December").split()
ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
# Nouns that name a role or office: generic English (any news article, manual or encyclopedia page).
ROLES = ("president vice-president chairman chairwoman chair chief executive ceo director manager "
         "founder co-founder owner king queen prince princess emperor empress duke bishop archbishop pope "
         "governor mayor senator minister secretary ambassador general admiral captain commander colonel "
         "coach head coach player striker goalkeeper editor publisher author writer composer producer "
         "professor lecturer dean chancellor rector principal teacher student treasurer spokesman "
         "spokeswoman spokesperson leader deputy prime minister chief justice judge sheriff architect "
         "engineer designer maintainer administrator").split()
ROLE = re.compile(r"\b(?:vice[- ]president|prime minister|chief executive|head coach|chief justice|"
                  + "|".join(sorted({r for r in ROLES if " " not in r}, key=len, reverse=True)) + r")s?\b", re.I)
QUARTER = re.compile(r"\b(?:(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter|Q[1-4])\b", re.I)
MONTH = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b")
ORDINAL = re.compile(r"\b(?:" + "|".join(ORDINALS) + r"|\d+(?:st|nd|rd|th))\b", re.I)
YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b")
FIGURE = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|\b\d+(?:\.\d+)?\b")
ENTITY_KINDS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place"}
KINDS = ("year", "quarter", "month", "ordinal", "figure", "person", "role", "organization", "place")


def mentions(text: str, ents=()) -> list[tuple[int, int, str, str]]:
    """The constraint-bearing mentions of a text: (start, end, kind, text), earlier shapes first, no two
    overlapping. `ents` are (start, end, label) from spaCy's entity recogniser."""
    found: list[tuple[int, int, str, str]] = []
    taken: list[tuple[int, int]] = []

    def add(s, e, kind):
        if not any(s < b and a < e for a, b in taken):
            taken.append((s, e))
            found.append((s, e, kind, text[s:e]))

    for kind, rx in (("quarter", QUARTER), ("month", MONTH), ("year", YEAR), ("ordinal", ORDINAL), ("role", ROLE)):
        for m in rx.finditer(text):
            add(m.start(), m.end(), kind)
    for s, e, label in ents:
        if label in ENTITY_KINDS:
            add(s, e, ENTITY_KINDS[label])
    for m in FIGURE.finditer(text):
        add(m.start(), m.end(), "figure")
    return sorted(found)


def constraint_swap(question: str, q_ents, window: str, elsewhere: list[tuple[str, list]], rng,
                    kinds=KINDS) -> tuple[str, str] | None:
    """(kind, the question with one mention swapped) or None. The mention must be one the answer's
    window (the sentence and its neighbours) says too (so the swap contradicts what it reads); the
    replacement is a mention of the same kind in `elsewhere` (the paragraph's other sentences, with
    their entities) that the window never says."""
    low_window = window.lower()
    ours = [m for m in mentions(question, q_ents)
            if m[2] in kinds and m[3].lower() in low_window and not (m[0] == 0 and m[2] in ("role", "ordinal"))]
    if not ours:
        return None
    rng.shuffle(ours)
    for s, e, kind, said in ours:
        pool = sorted({m[3] for text, ents in elsewhere for m in mentions(text, ents)
                       if m[2] == kind and m[3].lower() not in low_window and m[3].lower() != said.lower()
                       and m[3].lower() not in question.lower()})
        if pool:
            new = rng.choice(pool)
            if said[:1].isupper() and not new[:1].isupper() and kind == "role":
                new = new[:1].upper() + new[1:]
            return kind, question[:s] + new + question[e:]
    return None
