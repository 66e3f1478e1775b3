"""Read a question: the kind of answer it wants and the words that must be matched."""
from __future__ import annotations

from dataclasses import dataclass, field

from .question_words import tag

# Entity labels wanted by each answer type, best first (spaCy's OntoNotes labels).
WANTED = {
    "date": ["DATE", "TIME"],
    "duration": ["DATE", "TIME", "QUANTITY", "CARDINAL"],
    "count": ["CARDINAL", "COUNT", "QUANTITY", "MONEY", "PERCENT"],
    "money": ["MONEY", "CARDINAL", "QUANTITY"],
    "percent": ["PERCENT", "MONEY", "CARDINAL", "QUANTITY"],
    "measure": ["QUANTITY", "CARDINAL", "MONEY", "PERCENT", "DATE"],
    "person": ["PERSON", "ORG", "NORP"],
    "place": ["GPE", "LOC", "FAC", "ORG"],
    "organization": ["ORG", "NORP", "PERSON", "GPE"],
    "group": ["NORP", "ORG", "GPE", "LANGUAGE"],
    "reason": [],
    "manner": [],
    "thing": ["WORK_OF_ART", "EVENT", "PRODUCT", "LAW", "LANGUAGE", "ORG", "NORP", "GPE", "PERSON"],
}
FOCUS_TYPES = {
    "year": "date", "date": "date", "day": "date", "month": "date", "century": "date", "decade": "date",
    "time": "date", "era": "date", "period": "date", "season": "date", "age": "measure",
    "city": "place", "country": "place", "state": "place", "region": "place", "place": "place", "location": "place",
    "continent": "place", "town": "place", "island": "place", "river": "place", "area": "place", "province": "place",
    "person": "person", "man": "person", "woman": "person", "king": "person", "president": "person",
    "leader": "person", "scientist": "person", "author": "person", "player": "person", "name": "thing",
    "company": "organization", "organization": "organization", "organisation": "organization", "team": "organization",
    "university": "organization", "group": "organization", "agency": "organization", "party": "organization",
    "firm": "organization", "institution": "organization", "school": "organization", "club": "organization",
    "percentage": "percent", "percent": "percent", "proportion": "percent", "share": "percent", "rate": "percent",
    "number": "count", "amount": "money", "price": "money", "cost": "money", "sum": "money",
    "nationality": "group", "language": "group", "religion": "group", "ethnicity": "group",
}
# Nouns that only name the answer's type ("what year", "which city"); a text need not repeat them.
TYPE_NOUNS = {"year", "date", "day", "month", "century", "decade", "time", "city", "country", "person", "man",
              "woman", "name", "number", "company", "organization", "place", "location", "type", "kind", "amount", "size", "count", "population"}
MONEY_WORDS = {"money", "cost", "price", "pay", "spend", "invest", "worth", "cash", "revenue", "profit", "fund",
               "budget", "sell", "buy", "earn", "raise", "charge", "salary", "income", "loss", "fee", "value"}
CHANGE_WORDS = {"grow", "increase", "rise", "fall", "drop", "decline", "decrease", "change", "jump", "climb", "shrink"}
MEASURE_ADJ = {"big", "large", "tall", "high", "far", "deep", "wide", "fast", "heavy", "long", "old", "small",
               "long", "hot", "cold", "strong", "much"}
NEGATIONS = {"not", "n't", "never", "no", "without", "neither", "nor", "none", "nothing", "nobody", "nowhere"}
WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}


@dataclass
class Question:
    """A question as the answer stage reads it."""

    text: str
    qtype: str
    wanted: list[str]
    focus: str | None = None                             # "areas" in "What key areas ...?"
    terms: dict[str, str] = field(default_factory=dict)  # lemma -> surface, of the content words
    entities: list[tuple[str, str]] = field(default_factory=list)
    plural: bool = False
    tags: dict[str, str] = field(default_factory=dict)   # lemma -> Penn tag, of the content words
    negated: bool = False                                # "Which city did not ...?"

    @property
    def type_noun(self) -> str | None:
        """The focus noun when it only names the answer's type ("times" in "how many times")."""
        if self.focus and (self.focus in TYPE_NOUNS or self.qtype in ("count", "measure", "duration")):
            return self.focus
        return None


def analyze_batch(texts: list[str]) -> list[Question]:
    """Questions read from their words' usual analyses (qa.question_words), without loading spaCy."""
    return [analyze_parsed(t, tag(t)) for t in texts]


def analyze_parsed(text: str, doc) -> Question:
    """The answer type from the wh-word and its focus noun; the content words to match."""
    toks = [t for t in doc if not t.is_punct and not t.is_space]
    low = [t.lower_ for t in toks]
    lem = [t.lemma_.lower() for t in toks]
    qtype, focus, plural = "thing", None, False
    wi = next((i for i, w in enumerate(low) if w in WH), None)
    nxt = low[wi + 1] if wi is not None and wi + 1 < len(low) else ""
    wh = low[wi] if wi is not None else ""
    if wh in ("what", "which") or (wh == "how" and nxt in ("many", "much")):
        focus_tok = _focus_noun(toks, wi)
        if focus_tok is not None:
            focus = focus_tok.lemma_.lower()
            plural = focus_tok.tag_ in ("NNS", "NNPS")
    if wh == "when":
        qtype = "date"
    elif wh == "where":
        qtype = "place"
    elif wh in ("who", "whom", "whose"):
        qtype = "person"
        plural = nxt in ("are", "were")
    elif wh == "why":
        qtype = "reason"
    elif wh == "how":
        if nxt == "many":
            qtype = "count"
        elif nxt == "much":
            rest = set(lem[wi + 2:])
            qtype = "percent" if rest & CHANGE_WORDS else "money" if rest & MONEY_WORDS or focus in MONEY_WORDS else "money"
        elif nxt == "long":
            qtype, focus = "duration", nxt
        elif nxt in MEASURE_ADJ:
            qtype, focus = "measure", nxt
        else:
            qtype = "manner"
    elif wh in ("what", "which"):
        qtype = FOCUS_TYPES.get(focus or "", "money" if focus in MONEY_WORDS else "thing")
        plural = plural or nxt in ("are", "were")
    elif wi is None:
        qtype, focus = _keyword_type(lem)
    if focus and qtype == "count" and focus in MONEY_WORDS:
        qtype = "money"
    terms = {t.lemma_.lower(): t.text for t in toks
             if not t.is_stop and t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV", "X")
             and t.lower_ not in WH and len(t.text) > 1}
    tags = {t.lemma_.lower(): t.tag_ for t in toks if t.lemma_.lower() in terms}
    ents = [(e.text, e.label_) for e in doc.ents]
    negated = any(t.lower_ in NEGATIONS for t in toks)
    return Question(text, qtype, WANTED[qtype], focus, terms, ents, plural, tags, negated)


def _focus_noun(toks, wi: int):
    """The noun the wh-phrase asks about: "What key areas" -> areas; "What is the name of" -> name;
    "What was Line C's original budget" -> budget."""
    for t in toks[wi + 1: wi + 8]:
        if t.pos_ in ("NOUN", "PROPN") and t.dep_ not in ("poss", "compound"):
            return t
        if t.pos_ in ("AUX", "VERB") and t.lemma_ != "be":
            return None
    return None


def _keyword_type(lemmas: list[str]) -> tuple[str, str | None]:
    """A keyword query ("R&D team size"): its type from the nouns it names."""
    for w in lemmas:
        if w in ("size", "number", "count", "many", "population"):
            return "count", w
    for w in lemmas:
        if w in FOCUS_TYPES:
            return FOCUS_TYPES[w], w
        if w in MONEY_WORDS:
            return "money", None
    return "thing", None
