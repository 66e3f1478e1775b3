"""Small typed records passed between the pipeline stages."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

PATH_SEPARATOR = " \u203a "  # between the headings of a unit's section path

if TYPE_CHECKING:  # annotations only: the CLI's start-up imports records without numpy
    import numpy as np


@dataclass(frozen=True)
class Block:
    """A block of a structured document's extracted text (HTML read from its DOM): a heading, a term of
    a definition list, a paragraph or list item, a code block or a table row, with the path of
    headings and terms it stands under (its own text last for a heading or term)."""

    start: int
    end: int
    kind: str                 # headline | heading | term | text | item | code | row
    path: tuple[str, ...] = ()


# Units read as prose by the reader and retrieval (a table row, said as "Header: cell; ..." is one)
PROSE_KINDS = ("sentence", "row")


@dataclass(frozen=True)
class Document:
    """A file as read from disk."""

    path: str
    text: str
    sha256: str
    title: str | None = None
    date: str | None = None  # ISO date of publication, when the text gives one
    format: str = "text"     # text | markdown | html | pdf | docx
    pages: tuple = ()        # (start offset, 1-based page number) of each page, for paged formats
    skip: tuple = ()         # (start, end) spans kept apart from sentences: front matter, code, tables
    blocks: tuple = ()       # Block records, for formats read from their structure (then used instead
                             # of blank lines and heading-like lines)
    literals: tuple = ()     # (start, end) of inline code: options, values, file names said as written
    code: tuple = ()         # (start, end) of code blocks kept verbatim as units (Markdown fences)


@dataclass(frozen=True)
class Token:
    """One spaCy token of a sentence, with offsets into the document."""

    start: int
    end: int
    text: str
    lemma: str
    pos: str
    dep: str
    head: int  # index of the head token within the sentence
    ent: str   # entity label or ""


@dataclass
class Sentence:
    """A unit of a document: a sentence, or a headline, dateline or heading kept whole."""

    doc: str
    start: int
    end: int
    text: str
    kind: str = "sentence"  # sentence | headline | dateline | heading | term | code | row
    paragraph: int = 0
    position: int = 0       # index of the unit within its document
    id: int = -1            # row in the store
    tokens: list[Token] = field(default_factory=list)
    entities: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, label), doc offsets
    chunks: list[tuple[int, int]] = field(default_factory=list)         # noun chunks, doc offsets
    section: str | None = None  # the heading the unit stands under (a path "A › B › C" in structured documents)
    page: int | None = None     # 1-based page, for paged formats
    title: str | None = None    # the document's title

    def citation(self) -> dict:
        """Where the unit is: document, offsets and text; title, section and page where known."""
        out = {"doc": self.doc, "start": self.start, "end": self.end, "text": self.text}
        for key in ("title", "section", "page"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


Spread = tuple[float, float]  # a score's mean and standard deviation over all rows of a store


@dataclass
class Candidates:
    """One question's candidates from a store's search: the union of the dense and the lexical
    retrievers' best rows, each row's four scores, its heading flag, and each score's spread over all
    rows of the store (fusion z-scores against it: `qa.retrieve.fuse`)."""

    ids: np.ndarray             # rows of the store
    dense: np.ndarray           # cosine of the question and the sentence
    window_dense: np.ndarray    # ... and the sentence's window (it with its neighbours)
    lexical: np.ndarray         # BM25 of the sentence
    window_lexical: np.ndarray  # BM25 of its window
    heading: np.ndarray         # 1.0 where the unit is a headline, dateline or heading
    dense_spread: Spread
    window_dense_spread: Spread
    lexical_spread: Spread
    window_lexical_spread: Spread


@dataclass
class Hit:
    """A sentence retrieved for a question, with its fused score."""

    sentence: Sentence
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    # the fused score's parts: dense_z, lexical_z, window_dense_z, window_lexical_z, fused
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FactQuery:
    """Which stored facts to read: each field given narrows them (a filter as data; each store writes
    its own SQL from it)."""

    kind: str | None = None
    subject: str | None = None     # the subject contains these words (case ignored)
    attribute: str | None = None   # the attribute contains these words (case ignored)
    places: tuple[tuple[str, int], ...] | None = None  # stated in one of these sentences: (document, start)
    ids: tuple[int, ...] | None = None                 # the facts with these ids


@dataclass
class Fact:
    """A typed fact taken from a sentence."""

    kind: str            # entity | quantity | date | relation | derived
    subject: str
    attribute: str
    value: str
    normalized: Any = None
    unit: str | None = None
    period: str | None = None
    qualifier: str | None = None
    doc: str = ""
    start: int = 0
    end: int = 0
    derived_from: list[int] | None = None
    formula: str | None = None
    id: int = -1

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}


@dataclass
class Answer:
    """What the bot says to a question."""

    question: str
    answer: str | None
    abstained: bool
    confidence: float
    hits: list[Hit]
    facts: list[Fact] = field(default_factory=list)
    rewritten: str | None = None
    qtype: str = ""
    features: dict = field(default_factory=dict)  # what the confidence was computed from
    evidence: tuple[int, int] | None = None       # document offsets of the words the answer stands on
    others: list[dict] = field(default_factory=list)  # other documents' answers: {"answer", "doc", "date"}
    reason: str | None = None  # why it abstained, or why the reader's first choice was passed over

    def as_dict(self, k: int | None = None) -> dict:
        hits = self.hits[:k] if k else self.hits
        out = {
            "question": self.question,
            "answer": None if self.abstained else self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 3),
            "sources": [h.sentence.citation() | {"score": round(h.score, 4)} for h in hits],
            "facts": [f.as_dict() for f in self.facts],
            "question_type": self.qtype,
        }
        if self.evidence and not self.abstained and hits:
            out["evidence"] = {"doc": hits[0].sentence.doc, "start": self.evidence[0], "end": self.evidence[1]}
        if self.rewritten and self.rewritten != self.question:
            out["rewritten"] = self.rewritten
        if self.others and not self.abstained:
            out["others"] = self.others
        if self.reason:
            out["abstained_because" if self.abstained else "passed_over"] = self.reason
        return out


@dataclass
class Surroundings:
    """What reading needs of the documents around one question's candidates, read by retrieval in one
    batch so that reading is a function of its input: the units near each candidate (its neighbours,
    the term a description stands under, the code block a how-to gives a few sentences on), the
    candidates' documents' dates, the index's statistics of the question's words, and the facts the
    candidates' sentences state with the facts those derive from."""

    BACK = 40     # units before a candidate in a structured page (where the term it describes may stand)
    FORWARD = 5   # units after one (a description read in a term's place, a how-to's code block)
    SPEAKER = 3   # units before one in prose (the person a quotation's "I" or a "he" stands for)

    units: dict[int, "Sentence"] = field(default_factory=dict)
    dates: dict[str, Any] = field(default_factory=dict)   # document path -> datetime.date or None
    dateline: Any = None                                  # the first dated document's date
    idf: dict[str, float] = field(default_factory=dict)   # the question's words the index has ("<unk>" too)
    facts: list["Fact"] = field(default_factory=list)     # stated in the candidates' sentences, id order
    derived: dict[int, "Fact"] = field(default_factory=dict)  # those facts' sources, by 0-based number

    def unit(self, i: int) -> "Sentence | None":
        return self.units.get(i)

    def around(self, s: "Sentence") -> tuple["Sentence | None", "Sentence | None"]:
        """The unit just before `s` and the one just after, in its document (None at an edge)."""
        same = lambda u: u if u is not None and u.doc == s.doc else None  # noqa: E731
        return same(self.units.get(s.id - 1)), same(self.units.get(s.id + 1))

    def neighbours(self, s: "Sentence") -> list["Sentence"]:
        return [x for x in self.around(s) if x is not None]

    def date_of(self, path: str):
        return self.dates.get(path)

    def facts_about(self, hits: list["Hit"]) -> list["Fact"]:
        """The facts stated in the hits' sentences, in id order."""
        places = {(h.sentence.doc, h.sentence.start) for h in hits}
        return [f for f in self.facts if (f.doc, f.start) in places]


@dataclass
class Request:
    """One question as the batch command and the server hand it to the pipeline (`ask_requests`)."""

    question: str | None
    id: Any = None
    session: str | None = None      # a conversation kept by the caller's store, by id
    k: int | None = None
    scope: Any = None               # a `qa.scope.Scope`, or None
    error: str | None = None        # why it was refused before it was asked: answered with this error
    conversation: Any = None        # a conversation the caller holds (OpenAI's messages): used, not stored
    cache_key: tuple | None = None  # the server's answer-cache key, for a stand-alone question


@dataclass
class Asked:
    """One question as it was asked and answered: what the log keeps."""

    question: str                    # as asked
    read_as: str                     # as read: a follow-up's rewrite, else the question
    answer: str | None               # None when the bot abstained
    abstained: bool
    confidence: float
    qtype: str = ""
    reason: str | None = None        # why it abstained
    sources: list[dict] = field(default_factory=list)  # the best three: doc, start, end, text
    via: str = ""                    # ask, batch, chat, api, session, openai
    session: str | None = None
    answer_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    asked: float = field(default_factory=time.time)
    vector: np.ndarray | None = None  # read_as's vector (float16), where the encoder still had it
