"""The reader's span as a person would say it: edges trimmed, a figure with its conversion, a relative
date resolved against the dateline, a whole list, and "yes" or "no" for a yes/no question."""
from __future__ import annotations

import datetime as dt
import re

from ..periods import normalize
from ..question import NEGATIONS, WH
from ..records import Sentence
from ..spans import candidates, token_range
from .negation import denies_a_word

ONE_FIGURE = {"count", "money", "percent", "measure", "duration", "date"}
MODIFIER_POS = {"DET", "ADJ", "NOUN", "PROPN", "PART", "NUM"}  # what may stand before a name in a list member
DASHES = {"-", "\u2013", "\u2014"}  # "three lenders - Norden Bank": a name set off by a dash
ABBREVIATIONS = {"inc", "ltd", "co", "corp", "jr", "sr", "st", "bros", "plc", "llc", "no", "vs", "etc", "dr", "mr",
                 "mrs", "ms", "prof", "gen", "col", "capt", "lt", "sgt", "ave", "mt", "ft", "jan", "feb", "aug", "sept", "oct", "nov", "dec"}
STOP_EDGE = {"the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those"}
AUXILIARIES = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
               "would", "should", "shall", "may", "might", "must", "am"}
# A sentence also says "no" with a verb of refusal ("the council rejected the plan").
DENIALS = NEGATIONS | {"denied", "rejected", "refused", "failed"}
RELATIVE = re.compile(r"\b(last|next|this|previous|coming|past)\s+(year|month|quarter|spring|summer|autumn|fall|winter)\b"
                      r"|\b(today|yesterday|earlier this|later this|a year earlier|a year ago)\b", re.I)


# wh-words that open a clause of time inside a yes/no question ("Are branches created when I clone with
# --bare?"), unless a verb of knowing or saying asks it ("Do you know when it opens?"); a "where" is more
# often a relative clause that names what is asked ("Are there any regions where ...?")
CLAUSE_WH = {"when", "whenever"}
KNOWING = {"know", "knows", "known", "tell", "told", "say", "said", "remember", "explain", "show", "wonder", "sure",
           "understand", "find", "ask", "clear", "idea"}


def is_yes_no(question: str) -> bool:
    """A question that opens with an auxiliary verb and asks no wh-question: "Has the council approved
    it?", "Are remote-tracking branches created when I clone with --bare?"."""
    words = re.findall(r"[a-z']+", question.lower())
    if not words or words[0] not in AUXILIARIES:
        return False
    return all(w not in WH or (w in CLAUSE_WH and not KNOWING & set(words[:i])
                                and (i + 1 == len(words) or words[i + 1] not in AUXILIARIES))  # "where does it go?" asks
               for i, w in enumerate(words))


def yes_or_no(question: str, sentence: str) -> str:
    """"no" when exactly one of the question and the sentence is negated, else "yes". A sentence that
    says a question word with a negating prefix denies it ("store your passwords unencrypted" for
    "Does it encrypt the passwords?")."""
    words = lambda t: re.findall(r"[a-z']+", t.lower().replace("\u2019", "'").replace("n't", " not"))  # noqa: E731
    asked, said = words(question), words(sentence)
    neg = lambda ws: bool(DENIALS & set(ws))  # noqa: E731
    return "no" if neg(asked) != (neg(said) or denies_a_word(asked, said)) else "yes"


def wants_year_or_date(question: str, qtype: str) -> bool:
    return qtype == "date" or bool(re.search(r"\b(what|which) (year|date|month|day)\b", question.lower()))


SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
NAMED = re.compile(r"\b(?:(early|mid|late)[\s-]+)?(last|next|this|previous|coming|past)\s+(year|spring|summer|autumn|fall|winter|"
                   + "|".join(MONTHS) + r")\b", re.I)


def resolved_date(span: str, base: dt.date | None) -> str | None:
    """A relative date resolved against the dateline: "last year" -> "2021", "early next year" ->
    "early 2023", "next spring" (dated November 2024) -> "spring 2025", "earlier this month" -> "2022-05"."""
    if base is None or not (RELATIVE.search(span) or NAMED.search(span)) or re.search(r"\b(1[5-9]\d\d|20\d\d)\b", span):
        return None
    m = NAMED.search(span)
    if m:
        part, which, unit = (m.group(1) or "").lower(), m.group(2).lower(), m.group(3).lower()
        step = -1 if which in ("last", "previous", "past") else 1 if which in ("next", "coming") else 0
        if unit == "year":
            label = str(base.year + step)
        else:
            month = SEASONS.get(unit) or MONTHS.index(unit) + 1
            year = base.year
            if step > 0 and month <= base.month:
                year += 1
            elif step < 0 and month >= base.month:
                year -= 1
            label = f"{unit} {year}" if unit in SEASONS else f"{year}-{month:02d}"
        return f"{part} {label}" if part else label
    period = normalize(span, base)
    return period if period and re.search(r"\d{4}", period) else None


def widen_to_list(sent: Sentence, start: int, end: int) -> tuple[int, int, list[tuple[int, int]]]:
    """[start, end) widened to the whole list that holds it ("Wang Xiang" -> "Wang Xiang, Lu Weibing and
    Liu De"), with its members' character ranges (none when the span is in no list)."""
    r = token_range(sent, sent.start + start, sent.start + end)
    if r is None:
        return start, end, []
    best = None
    for sp in candidates(sent):
        if sp.label.startswith("LIST_") and sp.i <= r[0] and r[1] <= sp.j and (sp.i, sp.j) != r:
            if best is None or sp.j - sp.i > best.j - best.i:
                best = sp
    if best is None:
        return start, end, []
    at = lambda i, j: (sent.tokens[i].start - sent.start, sent.tokens[j - 1].end - sent.start)  # noqa: E731
    return (*at(best.i, best.j), [at(i, j) for i, j in best.parts])


def names_of(sent: Sentence, members: list[tuple[int, int]]) -> str | None:
    """A list of named things said by their names: each member ends in a name (proper nouns or
    capitalized words: "Ferrotunnel SpA") with nothing before it but the name's modifiers ("Portuguese
    contractor Mendes Lobo Construções, together with Spain's Obras Meridiano" -> "Mendes Lobo
    Construções and Obras Meridiano"). None where a member is not ("the University of Chicago")."""
    names = []
    for a, b in members:
        toks = [t for t in sent.tokens if a <= t.start - sent.start and t.end - sent.start <= b]
        k = len(toks)
        while k > 0 and (toks[k - 1].pos == "PROPN" or toks[k - 1].text[:1].isupper()):
            k -= 1
        if k == len(toks) or any(t.pos not in MODIFIER_POS and t.text not in DASHES for t in toks[:k]):
            return None
        names.append(sent.text[toks[k].start - sent.start: toks[-1].end - sent.start])
    if len(names) < 2:
        return None
    last = "or" if re.search(r"\bor\b", sent.text[members[-2][1]:members[-1][0]]) else "and"
    return ", ".join(names[:-1]) + f" {last} " + names[-1]


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """A span never starts or ends inside a word ("doesn’t" is not cut to "t")."""
    inside = lambda i: text[i].isalnum() or (text[i] in "'\u2019" and 0 < i < len(text) - 1  # noqa: E731
                                             and text[i - 1].isalnum() and text[i + 1].isalnum())
    while 0 < start < len(text) and inside(start - 1) and inside(start):
        start -= 1
    while 0 < end < len(text) and inside(end - 1) and inside(end):
        end += 1
    return start, end


# "Between which versions ...?", "From when to when ...?": the answer is both ends of a range
RANGE_ASKED = re.compile(r"\bbetween (?:which|what)\b|\bfrom (?:which|what|when)\b.*\b(?:to|until|till)\b", re.I)
RANGE_BEFORE = re.compile(r"\b(?:from|between)\s+(\S+(?:\s+\S+)?)\s+(?:until|till|to|through|and)\s+$", re.I)
RANGE_AFTER = re.compile(r"^\s+(?:until|till|to|through|and)\s+[^\s,;]+(?:\s+\d[^\s,;]*)?", re.I)


def widen_to_range(text: str, start: int, end: int) -> tuple[int, int]:
    """One end of "from X until Y" / "between X and Y" widened to the whole range (the words after
    "from" or "between")."""
    m = RANGE_BEFORE.search(text[:start])
    if m:
        return m.start(1), end
    before = text[:start]
    if re.search(r"\b(?:from|between)\s+(?:[A-Za-z]\S*\s+)?$", before):
        m = RANGE_AFTER.match(text[end:])
        if m:
            return start, end + m.end()
    return start, end


def widen_to_entity(sent: Sentence, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to the named entity or figure it cuts ("2024" -> "the first half of 2024",
    "Reid" -> "Thomas Reid"): readers trained on SQuAD answer with the shortest span."""
    a, b = sent.start + start, sent.start + end
    for s, e, _ in sent.entities:
        if s <= a and b <= e and (s, e) != (a, b) and e - s <= 80:
            a, b = s, e
            break
    for s, e, label in sent.entities:  # a literal is said whole: a span never cuts inline code
        if label == "CODE":
            if s < a < e:
                a = s
            if s < b < e:
                b = e
    return a - sent.start, b - sent.start


def with_conversion(sent: Sentence, end: int) -> int:
    """A figure followed by its conversion in brackets keeps it: "4.5 billion yuan ($706.8 million)"."""
    rest = sent.text[end:]
    m = re.match(r"\s*\([^()]{0,30}\d[^()]{0,30}\)", rest)
    return end + m.end() if m and re.search(r"\d", sent.text[max(0, end - 12):end]) else end


UNIT_AFTER = re.compile(r"^[\s-]*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|decades?|"
                        r"milliseconds?|ms|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|inches|inch|cm|mm|"
                        r"kg|kilograms?|grams?|tonnes?|tons?|litres?|liters?|gallons?|acres?|hectares?|percent|per cent|"
                        r"bytes?|[kmgt]i?b|bits?|degrees?|mph|km/h)\b", re.I)


def with_unit(text: str, end: int) -> int:
    """A bare figure keeps the unit written after it: "900" -> "900 seconds" (a figure without its
    unit answers nothing)."""
    if not re.search(r"\d$", text[:end]):
        return end
    m = UNIT_AFTER.match(text[end:])
    return end + m.end() if m else end


def trim(text: str) -> str:
    """The span without a leading article, edge punctuation or the sentence's full stop ("Shoreditch,
    London." -> "Shoreditch, London"; "Merit Network, Inc." keeps its abbreviation's); "" when nothing
    but punctuation is left."""
    words = text.split()
    while len(words) > 1 and words[0].lower() in STOP_EDGE:
        words = words[1:]
    out = " ".join(words).strip(" ,;:")
    last = out.rsplit(" ", 1)[-1]
    if last.endswith(".") and "." not in last[:-1] and last[:-1].lower() not in ABBREVIATIONS:
        out = out[:-1].rstrip(" ,;:")
    if not re.search(r"\w", out):
        return ""
    for suffix in ("\u2019s", "'s"):
        if out.endswith(suffix) and len(out) > len(suffix) + 1:
            out = out[: -len(suffix)]
    return out


def say(question: str, qtype: str, plural: bool, sent: Sentence, start: int, end: int,
        base: dt.date | None) -> tuple[str, int, int]:
    """What to answer and the [start, end) of the sentence's words it stands on."""
    start, end = whole_words(sent.text, start, end)
    if is_yes_no(question):
        short = trim(sent.text[start:end])
        word = yes_or_no(question, sent.text)
        return (f"{word} ({short})" if len(short.split()) <= 8 else word), start, end
    start, end = widen_to_entity(sent, start, end)
    if plural and qtype not in ONE_FIGURE:  # "how many stations" wants one number, not a list of them
        start, end, members = widen_to_list(sent, start, end)
        names = names_of(sent, members)
        if names and len(names.split()) < len(sent.text[start:end].split()):
            return names, start, end
    end = with_conversion(sent, with_unit(sent.text, end))
    if RANGE_ASKED.search(question):
        start, end = widen_to_range(sent.text, start, end)
    text = trim(sent.text[start:end])
    if wants_year_or_date(question, qtype):
        when = resolved_date(text, base)
        if when:
            return when, start, end
    return text, start, end
