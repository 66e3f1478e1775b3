"""What a figure in a sentence is of, read from the sentence's words for the answer checks
(`qa.read.checks`): the period reported or the one before ("narrowed to £9.8 million from £21.6 million
a year earlier"), a level or a change ("an 11.4% rise"), a part of what the question names ("a
6.1-kilometre extension of Line C"), the part of a whole a sentence counts ("16 stations, 11 of them
underground"), a list item's number ("1) in the command line"). Generic English: nothing here knows a
document. `a` below is a `qa.read.checks.Asked`."""
from __future__ import annotations

import re

from ..quantities import parse_number
from ..records import Sentence
from .typed import NUMBER, YEAR

ENUMERATOR = re.compile(r"^\(?(?:\d{1,2}|[a-z])\)\s")  # "1) ", "(2) ", "a) ": a list item's number
# the thing a figure measures or counts, when it is a part of what the question names ("a 6.1-kilometre
# extension of Line C" for "How long is Line C?")
PART_OF = re.compile(r"^[\s-]*(?:[a-z]+-)?([a-z]+)\s+of\s+(?:the\s+|its\s+|their\s+)?([\w'-]+(?:\s+[\w'-]+){0,3})", re.I)
# a percentage that is a change ("an 11.4% rise", "rose 11.4%", "up 7.2%"), not a level or share; and the
# questions that ask for one
CHANGE_BESIDE = re.compile(r"\b(?:rose|rise[sn]?|rising|increased?|increases|increasing|grew|grow(?:s|n|ing)?|growth|climb(?:ed|s|ing)?|"
                           r"jump(?:ed|s)?|gain(?:ed|s)?|surge[sd]?|soar(?:ed|s)?|fell|fall(?:s|en|ing)?|drop(?:ped|s)?|declined?|"
                           r"declines|decreased?|decreases|slump(?:ed|s)?|shr[ai]nk|shrunk|up|down)\s+(?:by\s+)?(?:about\s+|some\s+|nearly\s+|almost\s+)?"
                           r"[\d.,]+\s?(?:%|per\s?cent|percent)|[\d.,]+\s?(?:%|per\s?cent|percent)\s+(?:rise|increase|jump|gain|growth|fall|drop|"
                           r"decline|decrease|reduction|cut|rises|increases|higher|lower|more|less|up|down)\b", re.I)
CHANGE_ASKED = re.compile(r"\b(?:growth|change|by how much|how much (?:more|less|higher|lower)|up|down|year[- ]on[- ]year|"
                          r"compared|increase|decrease|rise|fall)\b")
# the part a sentence counts of a whole it has named: "16 stations, 11 of them underground"
PART_COUNT = re.compile(r"\b(?:\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+of\s+"
                        r"(?:them|which|these|those|whom)\b", re.I)
# nouns of a part or an addition (a quantity "of" its substance, "265,517 bales of cotton", "90 percent of
# water", is none: measured, such units were refused as parts on SQuAD's training answers)
PART_NOUNS = {"extension", "section", "stretch", "segment", "portion", "part", "branch", "spur", "phase", "stage", "leg",
              "wing", "arm", "division", "subsidiary", "piece", "addition", "annex", "expansion"}
# the period before the one a passage reports: asked for ("and the year before?", "in the previous
# quarter") and said beside the earlier figure of a change ("to £9.8 million from £21.6 million a year
# earlier", "up from 29,400", "2.1 billion the previous year"); "last year" alone is often
# the period reported ("rose 12% last year"), an earlier one only after "from"
PERIOD = r"(?:year|quarter|month|season|half|week|financial year|fiscal year|period)"
EARLIER_ASKED = re.compile(rf"\b(?:the|a|one)\s+{PERIOD}\s+(?:before|earlier|prior)\b|"
                           rf"\bthe\s+(?:previous|prior|preceding)\s+{PERIOD}\b|\bbefore that\b", re.I)
EARLIER_AFTER = re.compile(rf"^\W*(?:\([^()]*\)\W*)?(?:a\s+{PERIOD}\s+(?:earlier|before|ago)|(?:in\s+)?the\s+(?:previous|prior|"
                           rf"preceding|same)\s+{PERIOD}(?:\s+a\s+year\s+earlier|\s+last\s+year)?|the\s+{PERIOD}\s+before)\b", re.I)
EARLIER_BEFORE = re.compile(r"\bfrom\s+(?:about\s+|around\s+|some\s+|just\s+)?$", re.I)  # "versus", "against": other groups
FIGURE_IN_TEXT = re.compile(r"(?:[$£€¥]\s?)?\d[\d,.]*(?:\s?(?:%|per\s?cent|percent|million|billion|trillion|thousand|bn|m|k)\b)?", re.I)
NUMERIC_KINDS = {"money", "percent", "date", "duration", "measure", "count", "ordinal"}


def asks_earlier(question: str) -> bool:
    """Whether the question asks about the period before the one reported ("And the year before?")."""
    return bool(EARLIER_ASKED.search(question))


def figure_context(a, sentence: str, start: int, end: int, kind: str, kinds: set[str]) -> str | None:
    """Why the figure at [start, end) of `sentence` does not answer what the question names of its
    context (a part's figure, a change for a level, the whole for "how many of"), or None."""
    span = sentence[start:end]
    figures = list(re.finditer(r"\d[\d,.]*(?:-[a-z]+)?", span))
    part = PART_OF.match(span[figures[-1].end():] + sentence[end:end + 80]) \
        if figures and a.kind in ("measure", "duration", "count", "amount") and kinds & NUMERIC_KINDS else None
    if part and part.group(1).lower().rstrip("s") in PART_NOUNS and part.group(1).lower().rstrip("s") not in a.words \
            and set(part.group(2).lower().split()) & a.words:
        return f"the passage's figure is of the {part.group(1).lower()} of {part.group(2)}, not of what the question names"
    if a.level and kind == "percent" and a_change(sentence, start, end):
        return "the question asks for a rate or share; the passage's percentage is a change"
    if a.whole is not None and kind == "count":
        value = parse_number(span.split())
        if value is not None and value >= a.whole:  # a part is fewer than its whole
            return f"the question asks how many of {a.whole:,.0f}; the passage's figure is not fewer"
    part_of = PART_COUNT.search(sentence) if a.partitive and kind == "count" else None
    if part_of and not (start <= part_of.start() < end and not NUMBER.search(sentence[start:part_of.start()])):
        return "the question asks how many of them; the passage's figure is the whole"
    return None


WHOLE = re.compile(r"\s*how many of (?:the |these |those |its |their |all )?(\d[\d,.]*(?:\s+(?:thousand|million|billion))?)\b")


def whole_asked(question: str) -> float | None:
    """The number of the whole a "how many of" question takes its part of ("How many of the 30,000
    contracted staff ...?" -> 30000), or None."""
    m = WHOLE.match(question.lower())
    return parse_number(m.group(1).split()) if m else None


def period_of(a, sentence: str, start: int, end: int) -> str | None:
    """Why the figure at [start, end) is of the other period than the one asked, where the sentence
    gives a change (one figure now, one before), or None."""
    earlier = earlier_figures(sentence)
    if not earlier:
        return None
    first = next((m.start() + start for m in FIGURE_IN_TEXT.finditer(sentence[start:end])), None)
    mine = first is not None and any(s <= first < e for s, e in earlier)  # the span opens with the earlier figure
    if a.earlier and not mine:
        return "the question asks about the period before; the passage's figure is the later one"
    if not a.earlier and mine and len(earlier) < len(FIGURE_IN_TEXT.findall(sentence)):
        return "the question asks about the period reported; the passage's figure is the one before"
    return None


def earlier_figures(sentence: str) -> list[tuple[int, int]]:
    """The figures of a sentence that it says are the earlier period's: after "from", or followed by
    "a year earlier", "the previous quarter"."""
    out = []
    for m in FIGURE_IN_TEXT.finditer(sentence):
        if YEAR.fullmatch(m.group(0).strip()):
            continue  # a year names a period; it is no figure of one
        if EARLIER_BEFORE.search(sentence[max(0, m.start() - 30):m.start()]) or EARLIER_AFTER.match(sentence[m.end():m.end() + 60]):
            out.append(m.span())
    return out


def a_change(sentence: str, start: int, end: int) -> bool:
    """Whether the percentage at [start, end) is said as a change ("rose 11.4%", "an 11.4% rise")."""
    lo = max(0, start - 30)
    return any(m.start() + lo < end and start < m.end() + lo for m in CHANGE_BESIDE.finditer(sentence[lo:end + 30]))


def noun_after_figure(sentence: Sentence, start: int, end: int) -> str | None:
    """The noun a span counts inside itself ("More than 100 men" -> man): its last noun after its last number."""
    inside = [t for t in sentence.tokens if start <= t.start - sentence.start and t.end - sentence.start <= end]
    last_num = max((i for i, t in enumerate(inside) if t.pos == "NUM"), default=None)
    if last_num is None:
        return None
    nouns = [t.lemma.lower() for t in inside[last_num + 1:] if t.pos == "NOUN"]
    return nouns[-1] if nouns else None
