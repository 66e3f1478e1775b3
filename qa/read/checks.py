"""Answers checked against the question: a candidate span either holds what the question asks for, or
it does not answer, with the reason said.

Two kinds of check, in the manner of YodaQA's answer types and clues:
- the kind: what the question wants (a count, a sum of money, a point or span of time, a person...)
  against what the span is (read from its words and spaCy's entities); a contradiction is never the
  answer ("72 hours" for "how much Bitcoin", "Portuguese" for "who is the chief executive");
- what the question names must hold where the answer stands: the unit a figure is per ("a single
  ride", "each flight"), the period (a year against the quarter's figure, "on its opening day"), what
  happened against what is expected ("forecast to attract"), the role ("chairs", "chief executive").

Everything is read from the question's grammar and the document's words; nothing here knows a
document. The stage takes data (`Asked`, `Candidate`) and gives a `Verdict`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..lexical import LITERAL
from ..periods import years_named
from ..question import CHANGE_WORDS, MONEY_WORDS, Question
from ..records import Sentence
from .figures import CHANGE_ASKED, ENUMERATOR, asks_earlier, figure_context, noun_after_figure, period_of, whole_asked
from .negation import asks_not, denied_word, opposite_said, plain_words, said_plainly, says_not
from .typed import CURRENCY, LENGTH_UNIT, NUMBER, PERCENT, TIME_UNIT, YEAR, span_labels

# ------------------------------------------------------------------ what a span is
# months and weekdays by their capitalised names ("Jun" in "Lei Jun" is no month: an abbreviation
# counts only beside a day's number), and the words of periods
MONTH = re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|November|December|"
                   r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
                   r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d|\d\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b|"
                   r"(?i:\b(?:today|yesterday|tomorrow|spring|summer|autumn|winter|century|centuries|decade|q[1-4]|h[12]|"
                   r"quarter|season)\b)")
ANCHOR = re.compile(r"\b(?:ago|later|earlier|before|after|since|until|by)\b|^in\b", re.I)  # a point in time, not a span
RELATIVE_DATE = re.compile(r"\b(?:last|next|this|previous|coming|past|that|the same|the following)\s+(?:year|month|week|"
                           r"quarter|season|spring|summer|autumn|fall|winter|weekend|night|morning|evening)\b", re.I)
MEASURE_UNIT = re.compile(LENGTH_UNIT.pattern[:-3] + r"|kg|kilograms?|grams?|tonnes?|tons?|pounds|lbs?|ounces?|litres?|liters?|"
                          r"gallons?|acres?|hectares?|square|cubic|degrees?|mph|km/h|kph|knots?|volts?|watts?|kw|mw|gw|kwh|"
                          r"bytes?|kb|mb|gb|tb|bits?|pixels?|hz|mhz|ghz)\b", re.I)
UNIT_SUFFIX = re.compile(r"\d[-\s]?(?:inch|foot|metre|meter|mile|kilometre|kilometer|minute|hour|day|week|month|year|second)\b", re.I)
ORDINAL_WORD = re.compile(r"^(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                          r"\d+(?:st|nd|rd|th))\b", re.I)
CENTURY = re.compile(r"\b(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                     r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|"
                     r"twentieth|twenty-first)[-\s]+(?:and\s+\S+\s+)?centur(?:y|ies)\b|^\d{1,2}(?:st|nd|rd|th)$", re.I)
DATE_UNIT_AFTER_ORDINAL = re.compile(r"^\S+\s+(?:half|quarter|week|day|month|year|century|decade|season|time)\b", re.I)
FRACTION = re.compile(r"\b(?:half|halves|thirds?|quarters?|fifths?|tenths?)\b", re.I)
COUNT_WORDS = re.compile(r"\b(?:several|few|many|dozens?|hundreds|thousands|millions|billions|none|no one|nobody|"
                         r"single|couple|both|all)\b", re.I)
# the nouns that close the name of an organization ("Premier League club", "the city council")
ORG_NOUN = re.compile(r"\b(?:club|company|companies|team|group|firm|authority|council|union|university|agency|ministry|"
                      r"department|bank|corporation|consortium|committee|commission|association|federation|party|"
                      r"government|board|organi[sz]ation|institute|foundation|society|league|network|operator|"
                      r"contractor|lender|studio|publisher|school|college|court|parliament|army|navy|police)s?$", re.I)
MAX_FIGURE_WORDS = 8
NOT_SAID = "the question asks what is not so; the passage says nothing is not"
OPPOSED = "the passage says the opposite of what the question asks"
FIGURE_ASKED = {"count", "money", "amount", "percent", "measure", "duration"}  # what happened, when and per what holds


def span_kinds(sentence: Sentence, start: int, end: int) -> tuple[str, set[str]]:
    """What a span (character offsets in the sentence) may be: (its likeliest kind, every kind it may
    be). Kinds: money, percent, date, duration, measure, ordinal, count, person, organization, place,
    group, phrase. "988" may be a count or a year; "72 hours" is only a span of time."""
    text = sentence.text[start:end].strip()
    words = len(text.split())
    labels = span_labels(sentence, start, end)
    has_number = bool(NUMBER.search(text))
    if ENUMERATOR.match(text) and not NUMBER.search(text[ENUMERATOR.match(text).end():]):
        return "phrase", {"phrase"}  # "1) in the command line": a list's item, its number no figure
    joined = re.match(r"-[A-Za-z]+\b", sentence.text[end:]) if text and NUMBER.search(text.split()[-1]) else None
    if joined:  # "rare, six" of "a rare, six-inch animal" is read as "rare, six-inch": the unit's figure
        text += joined.group(0)
    if words > MAX_FIGURE_WORDS:
        return "phrase", {"phrase"}  # a figure among many other words is a passage, not a figure
    if (CURRENCY.search(text) and has_number) or "MONEY" in labels:
        return "money", {"money", "count"} if not CURRENCY.search(text) else {"money"}
    if (PERCENT.search(text) and has_number) or "PERCENT" in labels or (FRACTION.search(text) and has_number and words <= 4):
        return "percent", {"percent"}
    if re.match(r"(?i)since\b", text) and (YEAR.search(text) or MONTH.search(text) or has_number):
        return "date", {"date", "duration"}  # "since 1898" answers "how long" too
    if CENTURY.search(text):
        return "date", {"date"}
    if ORDINAL_WORD.match(text) and not DATE_UNIT_AFTER_ORDINAL.match(text) and not YEAR.search(text):
        return "ordinal", {"ordinal"}
    time_unit = TIME_UNIT.search(text) or re.search(r"\d[-\s]?(?:minute|hour|day|week|month|year|second)\b", text, re.I)
    if time_unit and re.search(r"\b(?:a|an|per|each|every)\s*$", text[: time_unit.start()], re.I):
        time_unit = None  # "1.2 million bales a year": a rate, not a span of time
    if time_unit and (has_number or COUNT_WORDS.search(text) or re.match(r"^(?:a|an|the next|the past)\b", text, re.I)) \
            and not ANCHOR.search(text[: time_unit.start()] + " " + text[time_unit.end():]) and not YEAR.search(text):
        return "duration", {"duration"}
    if MONTH.search(text) or RELATIVE_DATE.search(text) or (time_unit and not has_number):
        return "date", {"date"}
    if YEAR.search(text) or labels & {"DATE", "TIME"}:
        bare = re.fullmatch(r"(?:c\.\s*)?\d{1,4}(?:\s*[–-]\s*\d{1,4})?(?:\s*(?:BC|BCE|AD|CE|Ma))?", text, re.I)
        if bare and re.search(r"\b(?:in|by|since|until|till|from|before|after|during|of|year|early|late|mid)\s*$", sentence.text[:start], re.I):
            bare = None  # "in 2028": a year
        return "date", {"date", "count"} if bare or not YEAR.search(text) else {"date"}
    if has_number and (MEASURE_UNIT.search(text) or UNIT_SUFFIX.search(text) or "QUANTITY" in labels):
        return "measure", {"measure"}  # "six-inch" is no count
    if has_number or "CARDINAL" in labels or (COUNT_WORDS.search(text) and words <= 3):
        plain = re.fullmatch(r"(?:c\.\s*|about\s+|around\s+)?\d{1,4}(?:\s*[–-]\s*\d{1,4})?(?:\s*(?:BC|BCE|AD|CE|Ma|am|pm|a\.m\.|p\.m\.))?",
                             text, re.I)
        kinds = {"count", "date"} if plain else {"count"}
        # "66 Portland Place", "E3 attendees": a name or a phrase that holds a figure
        if re.search(r"[A-Za-z]", NUMBER.sub("", text)) and words >= 2 and re.search(r"\b[A-Z][a-z]|\b[a-z]{4,}\b", NUMBER.sub("", text)):
            kinds.add("phrase")
        return "count", kinds
    if "ORDINAL" in labels:
        return "ordinal", {"ordinal"}
    names = {"phrase"}
    if labels & {"NORP", "LANGUAGE"} and not labels & {"PERSON", "ORG"}:
        return "group", {"group"}  # "Portuguese": a nationality, never a person's name
    for label, kind in (("PERSON", "person"), ("ORG", "organization"), ("GPE", "place"), ("LOC", "place"),
                        ("FAC", "place")):
        if label in labels:
            names.add(kind)
    if ORG_NOUN.search(text) or re.fullmatch(r"[A-Z]{2,6}", text):
        return "organization", {"organization"}
    first = next((k for k in ("person", "organization", "place", "group") if k in names), "phrase")
    return first, names


# ------------------------------------------------------------------ what the question asks
# Nouns and verbs that name a role, and the words that say the same role (a "boss" is a "chief
# executive"): generic English, for any news article, manual or encyclopedia page.
ROLE_FAMILIES = [
    {"chair", "chairs", "chaired", "chairman", "chairwoman", "chairperson"},
    {"chief executive", "ceo", "boss", "chief", "head", "managing director", "executive"},
    {"heads", "head", "headed", "leads", "led", "leader", "director", "chief", "boss", "runs", "ran", "president"},
    {"manager", "manages", "managed", "boss", "coach", "head coach"},
    {"coach", "coaches", "coached", "head coach", "manager"},
    {"maintainer", "maintains", "maintained", "maintainers"},
    {"founder", "founded", "co-founder", "co-founded", "founders"},
    {"owner", "owns", "owned", "owners"},
    {"president", "presidents"}, {"vice president", "vice-president"}, {"mayor"}, {"governor"},
    {"prime minister", "premier"}, {"minister"}, {"secretary"}, {"spokesman", "spokeswoman", "spokesperson", "spokesman's"},
    {"captain", "skipper"}, {"editor", "edits", "edited"}, {"author", "wrote", "written", "writer"},
    {"architect", "designed", "designer"}, {"director", "directed", "directs"}, {"treasurer"}, {"chancellor"},
    {"professor"}, {"dean"}, {"principal"}, {"ambassador"}, {"general secretary"}, {"senator"}, {"judge"},
]
ROLE_WORDS = sorted({w for f in ROLE_FAMILIES for w in f if w not in ("head", "executive", "chief", "ran", "led", "wrote",
                                                                          "written", "designed", "edited", "owned", "founded")},
                    key=len, reverse=True)
ROLE_IN_QUESTION = re.compile(r"\b(" + "|".join(re.escape(w) for w in ROLE_WORDS) + r")\b", re.I)
# what is expected, not what happened: "is forecast to attract", "expected to reach", "a target of"
EXPECTED = re.compile(r"\b(?:expect(?:s|ed|ing|ation|ations)?|forecasts?|forecast(?:ed|ing)?|predict(?:s|ed|ing|ion|ions)?|"
                      r"projected|projections?|targets?|targeted|is set to|are set to|is due to|are due to|"
                      r"anticipated?|planned|plans? to)\b", re.I)
PER_UNIT = re.compile(r"\b(?:one|an?)\s+([a-z-]+(?:\s+[a-z-]+)?)(?=\s+(?:cost|costs|price|fare|on|at|of|in|for)\b|\s*\?)", re.I)
PER_WORDS = re.compile(r"\b(?:a single|each|every|per)\s+(?!of\b)([a-z-]+(?:\s+[a-z-]+)?)", re.I)
FIGURE_NOUNS = {"version", "release", "edition"}  # "which version": a figure
NETWORK_PORT = re.compile(r"\b(?:tcp|udp|http|https|ssh|network|listens?|server|socket|protocol)\b")  # a port number, no harbour
TIME_UNIT_FOCUS = {"year", "month", "week", "day", "hour", "minute", "second", "decade", "century"}
MEASURE_FOCUS = {"kilometre", "kilometer", "km", "mile", "metre", "meter", "foot", "feet", "inch", "kilogram", "kg",
                 "ton", "tonne", "litre", "liter", "gallon", "acre", "hectare", "degree", "byte", "megabyte", "gigabyte"}
QUALIFIER = re.compile(r"\b(?:on|during|in|at|over)\s+(?:its|the|their|his|her)\s+((?:[a-z]+\s+)?(?:day|night|weekend|week|"
                       r"month|season|year|quarter|trip|journey|run|visit|flight))\b", re.I)
QUARTER = re.compile(r"\b(?:q[1-4]|(?:first|second|third|fourth|1st|2nd|3rd|4th|final|last)\s+quarter|"
                     r"(?:first|second|1st|2nd)\s+half|h[12])\b", re.I)
# what "how many" may count without naming a thing ("how many times", "how many of them")
GENERIC_COUNTED = {"time", "number", "one", "kind", "type", "sort", "way", "part", "piece", "unit", "item", "thing", "case"}
# nouns for people, which say the same count in other words ("spectators" are "people", "fans")
PEOPLE = {"people", "person", "man", "woman", "child", "resident", "inhabitant", "citizen", "spectator", "fan",
          "supporter", "visitor", "tourist", "passenger", "rider", "worker", "employee", "staff", "member", "student",
          "teacher", "player", "voter", "user", "customer", "soldier", "troop", "adult", "individual", "attendee",
          "participant", "volunteer", "official", "officer", "pupil", "patient", "victim", "casualty", "life", "death",
          "household", "family", "academic", "researcher", "scientist", "subscriber", "viewer", "listener", "reader",
          "protester", "protestor", "demonstrator", "attendant", "delegate", "athlete", "crew", "pilot", "driver",
          "immigrant", "refugee", "migrant", "prisoner", "survivor", "guest", "client", "author", "artist",
          "civilian", "associate", "colleague", "native", "local", "personnel", "follower", "believer", "adherent",
          "speaker", "owner", "farmer", "fighter", "recruit", "graduate", "alumnus", "alumni", "baby", "infant"}
GENERIC_QUALIFIER = {"the", "its", "day", "week", "month", "year", "season", "first", "last", "next", "whole", "entire",
                     "previous", "prior", "preceding"}  # (the period before is checked as such: qa.read.figures)


@dataclass(frozen=True)
class Asked:
    """What a question asks for and names, read once per question."""

    kind: str                  # the answer kind wanted ("thing" when the question does not say)
    role: str | None = None    # the role it names ("chief executive", "chairs")
    per: str | None = None     # the unit a figure is per ("ride" in "a single ride")
    years: tuple[str, ...] = ()
    quarter: bool = False      # it names a quarter or half
    qualifier: str | None = None  # the occasion it names ("opening" in "on its opening day")
    expected: bool = False     # it asks what is expected, planned or forecast
    alternatives: bool = False  # it offers the answers ("local or state government?")
    counted: str | None = None  # what "how many" counts ("devices" -> device)
    words: frozenset[str] = frozenset()  # its words, lower case
    earlier: bool = False      # it asks about the period before the one reported ("the year before")
    partitive: bool = False    # it asks how many of a whole ("How many of the line's stations ...?")
    whole: float | None = None  # the whole's number ("How many of the 30,000 staff ...?" -> 30000)
    level: bool = False        # it asks a percentage that is a level, not a change ("What interest rate ...?")
    negated: bool = False      # it asks what is not so ("What is not used for ...?")
    denied: str | None = None  # the word its "not" denies ("used")
    plain: frozenset[str] = frozenset()  # its words other than names, lower case (their opposites contradict it)
    literals: tuple[str, ...] = ()  # the options and dotted names it names ("--timeout", "push.default")
    periods: tuple[tuple[int, int], ...] = ()  # the years it names, as spans ("in the 19th century" -> 1801-1900)
    counts: tuple[tuple[float, frozenset[str]], ...] = ()  # the figures it says of a thing ("three finite graphs")


def asked(q: Question) -> Asked:
    text = q.text
    low = text.lower()
    kind = q.qtype
    focus = (q.focus or "").lower()
    if kind == "count" and focus in TIME_UNIT_FOCUS:
        kind = "duration"
    elif kind == "count" and focus in MEASURE_FOCUS:
        kind = "measure"
    elif kind == "thing" and (focus in FIGURE_NOUNS or (focus == "port" and NETWORK_PORT.search(low))):
        kind = "figure"
    elif kind == "money" and re.search(r"\bhow much (?:time|longer)\b", low):
        kind = "duration"
    elif kind == "money" and focus == "value" and not re.search(r"\bhow much\b", low):
        kind = "thing"  # "what is the default value of push.default": a setting's value, not money
    elif kind == "money" and (not _asks_money(q) or re.search(r"\bhow much of\b", low)):
        kind = "amount"  # "how much rain", "how much of the budget": a quantity, maybe of money
    elif kind == "percent" and re.search(r"\bhow much\b", low):
        kind = "amount"  # "how much did the deficit increase": a change, in money or in per cent
    elif kind == "measure" and _asks_money(q):
        kind = "amount"  # "how high was his income"
    role = None
    if kind == "person":
        m = ROLE_IN_QUESTION.search(text)
        # the role a "who" question names, not the focus of "what leader" (which only says a person)
        role = m.group(1).lower() if m and m.group(1).lower().split()[-1] != focus else None
    per = None
    if kind in ("money", "count", "amount", "measure"):
        m = PER_WORDS.search(text) or (PER_UNIT.search(text) if re.search(r"\b(?:cost|price|fare|charge|pay)\w*", low) else None)
        if m:
            per = _unit_noun(m.group(1), q)
    qual = QUALIFIER.search(text)
    qualifier = None
    if qual:
        rest = [w for w in qual.group(1).lower().split() if w not in GENERIC_QUALIFIER]
        qualifier = rest[0] if rest else None
    return Asked(kind, role, per, tuple(m.group(0)[:4] for m in YEAR.finditer(text)), bool(QUARTER.search(text)),
                 qualifier, expected=bool(EXPECTED.search(text)), words=frozenset(re.findall(r"[\w'-]+", low)),
                 alternatives=bool(re.search(r"\bor\b", low)),
                 counted=focus if kind == "count" and q.plural and focus and focus not in GENERIC_COUNTED else None,
                 earlier=asks_earlier(text), partitive=bool(re.match(r"\s*how many of\b", low)),
                 whole=whole_asked(low),
                 level=kind == "percent" and not (set(q.terms) & CHANGE_WORDS or CHANGE_ASKED.search(low)),
                 negated=asks_not(text), denied=denied_word(text) if asks_not(text) else None, plain=frozenset(plain_words(text)),
                 literals=tuple(m.group(0) for m in LITERAL.finditer(text)  # an option, a setting: not "Filecoder.C"
                                if not m.group(0)[0].isupper() and any(len(p) > 1 for p in m.group(0).split("."))),
                 periods=tuple(years_named(text, open_ended=True)), counts=tuple(figures_of_things(text)))


def _unit_noun(words: str, q: Question) -> str | None:
    """The noun a figure is per among the words after "each", "per", "a single" ("season ticket" ->
    ticket; "of these" -> None): the last one the question's tagger calls a noun."""
    nouns = [w for w in words.lower().split() if q.tags.get(w, q.tags.get(w.rstrip("s"), "")).startswith("NN")]
    return nouns[-1].rstrip("s") if nouns and len(nouns[-1]) > 2 else None


def _asks_money(q: Question) -> bool:
    return bool(set(q.terms) & MONEY_WORDS or (q.focus or "") in MONEY_WORDS or CURRENCY.search(q.text))


# wanted kind -> the span kinds that can answer it (names and phrases answer a "when" too: "the
# Christian era", "after the war"; a figure of another kind never does)
NAMES = {"person", "organization", "place", "group", "phrase"}
ANSWERS = {
    "count": {"count"},
    "money": {"money", "count"},
    "amount": {"money", "count", "measure", "percent"},
    "percent": {"percent", "count"},
    "date": {"date"} | NAMES,
    "duration": {"duration", "measure", "count"},
    "measure": {"measure", "count", "duration"},
    "figure": {"count", "date", "measure"},
    "person": NAMES,
    "organization": NAMES,
    "place": NAMES | {"ordinal"},  # "where did the side finish?" -> "ninth"
    "group": NAMES,
}
ROLE_ANSWERS = {"person", "phrase"}
KIND_NAMES = {"count": "a count", "money": "a sum of money", "amount": "an amount", "percent": "a percentage",
              "date": "a point in time", "duration": "a span of time", "measure": "a quantity with its unit",
              "figure": "a figure", "person": "a person", "organization": "an organization", "place": "a place",
              "group": "a group", "ordinal": "a position (an ordinal)", "phrase": "a phrase"}


@dataclass(frozen=True)
class Candidate:
    """A span of a candidate sentence, with the context it stands in."""

    sentence: Sentence
    start: int        # offsets in the sentence's text
    end: int
    before: str = ""  # the sentence before it (and the headings it stands under)
    after: str = ""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None


OK = Verdict(True)


def check(a: Asked, c: Candidate) -> Verdict:
    """Does the candidate answer what the question asks? The first check that fails gives the reason."""
    kind, kinds = span_kinds(c.sentence, c.start, c.end)
    allowed = ANSWERS.get(a.kind)
    if allowed is not None and not kinds & allowed:
        return Verdict(False, f"the question asks for {KIND_NAMES[a.kind]}; the best span is {KIND_NAMES[kind]}")
    if a.negated and not says_not(c.sentence.text):
        return Verdict(False, NOT_SAID)
    if a.denied and said_plainly(a.denied, c.sentence.text):
        return Verdict(False, f"{NOT_SAID} of '{a.denied}'")
    where = " ".join((c.before, c.sentence.text, c.sentence.section or "")).lower()
    if a.literals and not any(x.lower() in where for x in a.literals):
        return Verdict(False, f"the question names {a.literals[0]}; the passage is about something else")
    opposed = opposite_said(a.plain, c.sentence.text)
    if opposed:
        return Verdict(False, f"{OPPOSED} (the question says '{opposed[0]}', the passage '{opposed[1]}')")
    other_period = _another_period(a, c)
    if other_period:
        return Verdict(False, other_period)
    other_count = _another_count(a, c.sentence.text)
    if other_count:
        return Verdict(False, other_count)
    span = c.sentence.text[c.start:c.end]
    if a.kind in ("person", "organization", "place", "group") and not a.alternatives and _only_question_words(span, a.words):
        return Verdict(False, "the best span only repeats the question's words")
    if a.role and "person" not in kinds:
        if not kinds & ROLE_ANSWERS or not re.search(r"\b[A-Z][a-z]", span):
            return Verdict(False, f"the question asks for a person ({a.role}); the best span is {KIND_NAMES[kind]}")
    sentence = c.sentence.text
    near = " ".join((c.before, sentence))
    if a.role and not _says_role(a.role, near):
        return Verdict(False, f"the question names the role '{a.role}'; the passage does not say it")
    said_of = figure_context(a, sentence, c.start, c.end, kind, kinds)  # a part's, a change, the whole
    if said_of:
        return Verdict(False, said_of)
    if a.kind in ("duration", "measure") and kinds == {"count"} and len(span.split()) > 2:
        return Verdict(False, f"the question asks for {KIND_NAMES[a.kind]}; the best span is a count")
    if a.kind == "money" and kind == "count" and not _currency_beside(sentence, c.start, c.end):
        return Verdict(False, "the question asks for a sum of money; the best span is a count")
    counted = (_counted_noun(c.sentence, c.end) or noun_after_figure(c.sentence, c.start, c.end)) \
        if a.counted and kind == "count" else None
    if counted and not _same_thing(a.counted, counted):
        return Verdict(False, f"the question counts {a.counted}; the passage's figure counts {counted}")
    if a.per and kind in ("money", "count", "measure") and not _says_word(a.per, sentence):
        return Verdict(False, f"the question asks for a figure per {a.per}; the passage's figure is not said per {a.per}")
    if a.kind in FIGURE_ASKED:
        years = {m.group(0)[:4] for m in YEAR.finditer(sentence)}
        if a.years and years and not years & set(a.years):
            return Verdict(False, f"the question names {', '.join(a.years)}; the passage is about {', '.join(sorted(years))}")
        if a.years and not a.quarter and QUARTER.search(_clause(sentence, c.start, c.end)):
            return Verdict(False, f"the question asks about the year {', '.join(a.years)}; the passage's figure is a quarter's")
        if a.qualifier and not _says_word(a.qualifier, near + " " + c.after):
            return Verdict(False, f"the question names '{a.qualifier}'; the passage does not say it")
        if not a.expected and EXPECTED.search(_lead_in(sentence, c.start)):
            return Verdict(False, "the question asks what happened; the passage gives what is expected")
        period = None if a.years else period_of(a, sentence, c.start, c.end)
        if period:
            return Verdict(False, period)
    return OK


def _another_period(a: Asked, c: Candidate) -> str | None:
    """Why the passage is about another time than the one the question names ("in the 19th century"
    against a passage, its neighbours and headings that say 1910 and the 20th century), or None: a
    passage that names no year, or one said relative to the document's date ("last year"), may be
    about any."""
    if not a.periods or RELATIVE_DATE.search(c.sentence.text):
        return None
    said = years_named(" ".join((c.before, c.sentence.text, c.after, c.sentence.section or "")))
    if not said or any(lo <= h and l <= hi for lo, hi in a.periods for l, h in said):
        return None
    return f"the question names {_years(a.periods[0])}; the passage is about {_years(said[0])}"


FIGURE_WORD = (r"(?<![\w.,$£€¥#/-])(\d(?:[\d,]*\d)?(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
               r"twenty|thirty|forty|fifty|hundred)")
FIGURE_OF_THING = re.compile(FIGURE_WORD + r"((?:\s+[a-z]+){1,2})", re.I)
LIGHT = {"the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "and", "or", "is", "are", "was", "were", "per", "more",
         "than", "times", "percent", "cent", "million", "billion", "thousand", "hundred", "years", "year", "its", "their",
         "which", "what", "who", "that", "this", "these", "those", "with", "from", "into", "as", "be", "been"}


def figures_of_things(text: str) -> list[tuple[float, frozenset[str]]]:
    """The figures a text says of a thing, with the first letters of the two words after each
    ("three finite graphs" -> (3, {"finit", "graph"})); years, sums ("85.6 billion") and names'
    numbers ("X.25") left out."""
    from ..quantities import parse_number

    out = []
    for m in FIGURE_OF_THING.finditer(text):
        words = m.group(2).lower().split()
        value = parse_number([m.group(1)])
        if value is None or YEAR.fullmatch(m.group(1)) or words[0] in LIGHT:
            continue
        out.append((value, frozenset(w[:5] for w in words if w not in LIGHT and len(w) >= 3)))
    return out


def _another_count(a: Asked, sentence: str) -> str | None:
    """Why the passage is about another number of the thing the question counts ("two finite graphs"
    for "three finite graphs"), or None where the passage says the question's figure or no other."""
    from ..quantities import parse_number

    said = figures_of_things(sentence)
    values = {parse_number([m.group(1)]) for m in re.finditer(FIGURE_WORD + r"\b", sentence, re.I)}
    for value, thing in a.counts:
        if value in values:
            continue
        other = next((v for v, t in said if t & thing), None)
        if other is not None:
            return f"the question says {value:g} of a thing the passage says {other:g} of"
    return None


def _years(span: tuple[int, int]) -> str:
    lo, hi = span
    return str(lo) if lo == hi else f"the years after {lo}" if hi == 9999 else f"the years to {hi}" if lo == 0 else f"{lo}-{hi}"


def _counted_noun(sentence: Sentence, end: int) -> str | None:
    """The noun a figure counts, where the sentence says it just after the figure ("two domain links" ->
    link; "More than 100 men" -> man); None where none follows."""
    after = [t for t in sentence.tokens if t.start - sentence.start >= end][:4]
    head = None
    for t in after:
        if t.pos in ("ADJ", "NOUN", "PROPN", "NUM") or (t.pos == "PUNCT" and t.text == "-"):
            if t.pos == "NOUN":
                head = t.lemma.lower()
            continue
        break
    return head


def _same_thing(asked: str, said: str) -> bool:
    """Could the two nouns count the same things? Told apart only where one counts people and the other
    does not ("100 men" for "how many dragons"): other nouns are too often said in other words ("suras"
    are "chapters"; of 171 SQuAD count answers, a word-form match refused 22)."""
    a, b = asked.lower(), said.lower()
    return a == b or a.rstrip("s") == b.rstrip("s") or (a in PEOPLE) == (b in PEOPLE)


def _currency_beside(sentence: str, start: int, end: int) -> bool:
    """A plain figure that is a sum of money says so just beside it ("187.3 million pounds", "$ 4bn")."""
    return CURRENCY.search(sentence[max(0, start - 3):start] + " " + " ".join(sentence[end:].split()[:2])) is not None


def _only_question_words(span: str, words: frozenset[str]) -> bool:
    toks = [t for t in re.findall(r"[\w'-]+", span.lower()) if t not in ("the", "a", "an", "of", "'s")]
    return bool(toks) and all(t in words for t in toks)


def _says_word(word: str, text: str) -> bool:
    """The word or a form of it ("ride" in "rides", "ticket" in "season-ticket")."""
    stem = word[:-1] if len(word) > 4 and word.endswith("e") else word
    return re.search(r"\b" + re.escape(stem), text, re.I) is not None


def _says_role(role: str, text: str) -> bool:
    family = set().union(*(f for f in ROLE_FAMILIES if role in f)) or {role}
    low = text.lower()
    return any(re.search(r"\b" + re.escape(w) + r"\b", low) for w in family)


def _lead_in(sentence: str, start: int, words: int = 6) -> str:
    """The few words before a span in its clause: where "forecast to attract" or "is expected to" stands."""
    before = re.split(r"[;:]|,\s+(?:but|while|and)\b", sentence[:start])[-1]
    return " ".join(before.split()[-words:])


def _clause(sentence: str, start: int, end: int) -> str:
    """The clause a span stands in (between semicolons, or commas before 'but/while/and')."""
    parts = re.split(r"(;|,\s+(?:but|while|whereas|and)\b)", sentence)
    pos = 0
    for p in parts:
        if pos <= start < pos + len(p):
            return p
        pos += len(p)
    return sentence
