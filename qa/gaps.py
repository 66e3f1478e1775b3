"""What customers asked that the documents do not answer: the logged questions (`qa.asked`) abstained
on, answered with low confidence or marked wrong, grouped by meaning so that one question asked ten
ways is one line of the report, biggest group first, each with the passages that come nearest to
answering it (where a help page almost does).

Grouping is greedy: the most asked question opens a group and takes every question not yet grouped
whose vector is within `SIMILAR` cosine of its own and whose answer type agrees (all-MiniLM-L6-v2
puts "Who founded X?" and "When was X founded?" at 0.98: the answer type tells them apart); then the
next most asked question left, and so on. Up to EXACT distinct questions every pair is compared; past
that, each question's 32 nearest are found through a FAISS IVF index and groups are merged in rounds."""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .errors import BadQuestion
from .records import Asked

SIMILAR = 0.72    # cosine of two phrasings of one question. Measured on pairs: 40 hand-made phrasings of 10
                  # questions, 77% of their pairs grouped (>= 0.72, types agreeing); 3,600 pairs of distinct
                  # SQuAD questions on one paragraph, 10% grouped (a wild type needing 0.76: 70% and 9%)
EXACT = 6000      # distinct questions up to which every pair is compared
NEIGHBOURS = 32   # nearest questions looked at past EXACT
WILD_TYPES = {"", "thing"}  # an answer type that agrees with any other ("What is the cost?" and "How much?")
# answer types one question may be read as, asked two ways ("How long is the warranty?", "How many years...?")
AKIN = {frozenset(p) for p in (("count", "duration"), ("count", "measure"), ("duration", "measure"),
                               ("count", "money"), ("count", "percent"), ("date", "duration"))}


@dataclass
class Gap:
    """One question asked one or more ways that the bot could not answer well."""

    count: int
    questions: list[str]         # its phrasings, the commonest first
    first_asked: float
    last_asked: float
    abstained: int
    marked_wrong: int
    corrections: list[str] = field(default_factory=list)  # what reviewers said the answer was
    nearest: list[dict] = field(default_factory=list)     # the passages nearest to it: doc, start, end, text, score

    def as_dict(self) -> dict:
        when = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
        out = {"count": self.count, "questions": self.questions, "first_asked": when(self.first_asked),
               "last_asked": when(self.last_asked), "abstained": self.abstained, "marked_wrong": self.marked_wrong,
               "nearest": self.nearest}
        if self.corrections:
            out["corrections"] = self.corrections
        return out


def since_time(text: str | None) -> float | None:
    """A report's start, from a date (2026-12-01) or a date and time (2026-12-01T09:30, UTC), as epoch
    seconds; None for None; a BadQuestion for anything else."""
    import datetime as dt

    if text is None or not str(text).strip():
        return None
    try:
        when = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadQuestion(f"since must be a date like 2026-12-01 (or 2026-12-01T09:30), not {text!r}.") from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()


def phrasing_key(text: str) -> str:
    """One phrasing however it is cased, spaced or punctuated."""
    return " ".join(re.findall(r"\w+", text.casefold()))


@dataclass
class _Item:
    """The entries of one phrasing (several, as one group below EXACT's rounds)."""

    vector: np.ndarray
    qtype: str
    count: int = 0
    phrasings: Counter = field(default_factory=Counter)
    first: float = float("inf")
    last: float = 0.0
    abstained: int = 0
    wrong: int = 0
    corrections: Counter = field(default_factory=Counter)

    def take(self, other: "_Item") -> None:
        self.count += other.count
        self.phrasings.update(other.phrasings)
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.abstained += other.abstained
        self.wrong += other.wrong
        self.corrections.update(other.corrections)
        if self.qtype in WILD_TYPES:
            self.qtype = other.qtype


def agree(a: str, b: str) -> bool:
    """Whether two answer types may be one question's."""
    return a == b or a in WILD_TYPES or b in WILD_TYPES or frozenset((a, b)) in AKIN


def group(entries: list[Asked], wrong: dict[str, dict] | None = None) -> list[Gap]:
    """The entries grouped by meaning, biggest group first (then the latest asked). `wrong`: the
    feedback rows of answers marked wrong, by answer id (their corrections are shown). Every entry
    needs its vector (`fill_vectors`)."""
    wrong = wrong or {}
    items: dict[str, _Item] = {}
    for e in entries:
        key = phrasing_key(e.read_as) or e.read_as
        it = items.get(key)
        if it is None:
            it = items[key] = _Item(np.asarray(e.vector, dtype=np.float32), e.qtype)
        it.count += 1
        it.phrasings[e.read_as] += 1
        it.first, it.last = min(it.first, e.asked), max(it.last, e.asked)
        it.abstained += e.abstained
        marked = wrong.get(e.answer_id)
        if marked is not None:
            it.wrong += 1
            if marked.get("correction"):
                it.corrections[marked["correction"]] += 1
    groups = list(items.values())
    for _ in range(4 if groups else 0):  # below EXACT one round is final; past it, rounds merge what 32 neighbours missed
        merged = _round(groups)
        if len(merged) == len(groups) or len(groups) <= EXACT:
            groups = merged
            break
        groups = merged
    groups.sort(key=lambda g: (-g.count, -g.last))
    return [Gap(g.count, [p for p, _ in g.phrasings.most_common()], g.first, g.last, g.abstained, g.wrong,
                [c for c, _ in g.corrections.most_common()]) for g in groups]


def _round(items: list[_Item]) -> list[_Item]:
    """One pass of greedy grouping over `items`, the most asked first."""
    items = sorted(items, key=lambda g: (-g.count, -g.last))
    x = np.stack([g.vector for g in items]).astype(np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)
    near = _neighbours(x)
    taken = np.zeros(len(items), dtype=bool)
    out = []
    for i, it in enumerate(items):
        if taken[i]:
            continue
        taken[i] = True
        for j in near(i):
            if not taken[j] and agree(it.qtype, items[j].qtype):
                taken[j] = True
                it.take(items[j])
        out.append(it)
    return out


def _neighbours(x: np.ndarray):
    """A function of a row giving the rows after it whose cosine to it is at least SIMILAR, most similar first."""
    n = len(x)
    if n <= EXACT:
        def exact(i: int) -> np.ndarray:
            s = x[i + 1:] @ x[i]
            j = np.flatnonzero(s >= SIMILAR)
            return i + 1 + j[np.argsort(-s[j], kind="stable")]
        return exact
    import faiss  # at use: a small log needs no index

    lists = max(16, int(np.sqrt(n)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    index.train(x)
    index.add(x)
    index.nprobe = 6
    sims, ids = index.search(x, NEIGHBOURS)

    def approximate(i: int) -> np.ndarray:
        keep = (ids[i] > i) & (sims[i] >= SIMILAR)
        return ids[i][keep]
    return approximate


def gold_line(r: dict) -> dict:
    """A marked-wrong answer as a gold question (../shared/data/gold's format): the correction is its
    answer; a reviewer's "no page answers" makes it unanswerable; `support` is the reviewer's to fill."""
    answerable = r.get("answerable") is not False
    return {"id": "fb-" + r["answer_id"][:12], "question": r["question"],
            "answers": [r["correction"]] if r.get("correction") and answerable else [], "support": [],
            "answerable": answerable, "marked_wrong": {"answer": r["answer"], "comment": r["comment"], "created": r["created"]}}


def fill_vectors(entries: list[Asked], encode) -> list[Asked]:
    """Give the entries that have no vector one (each distinct phrasing encoded once); the entries
    given one, for the log to keep."""
    todo = [e for e in entries if e.vector is None]
    texts = list(dict.fromkeys(e.read_as for e in todo))
    if texts:
        vectors = dict(zip(texts, encode(texts).astype(np.float16)))
        for e in todo:
            e.vector = vectors[e.read_as]
    return todo


def report(index, since: float | None = None, limit: int = 20, below: float | None = None) -> list[Gap]:
    """The content-gap report of `index`'s collection: its logged questions since `since` (default:
    as far back as the log keeps) that were abstained on, answered with a confidence below `below`
    (default QA_LOW_CONFIDENCE) or marked wrong, grouped, the `limit` biggest groups with the passages
    nearest to each. The CLI's `unanswered` asks this; the server asks its two halves on two threads."""
    return with_nearest(index, unanswered(index, since, limit, below))


def unanswered(index, since: float | None = None, limit: int = 20, below: float | None = None) -> list[Gap]:
    """The report's groups, without their passages: read from the collection's question log and its
    feedback (their own connections: any thread may ask), vectors worked out where the log had none."""
    from .asked import keep_days  # at use, as the others: a report is an admin's rare call
    from .config import ServeSettings, settings
    from .embed import question_encoder

    since = time.time() - keep_days() * 86400 if since is None else since
    below = settings().low_confidence if below is None else below
    sessions = index.session_store(ServeSettings().session_idle_seconds)
    try:
        wrong = {r["answer_id"]: r for r in sessions.feedback("down")}
    finally:
        sessions.close()
    table = index.question_log()
    try:
        entries = table.unanswered(since, below, sorted(wrong))
        filled = fill_vectors(entries, question_encoder().encode)
        if filled:
            table.keep_vectors(filled)
    finally:
        table.close()
    return group(entries, wrong)[:limit]


def with_nearest(index, gaps: list[Gap]) -> list[Gap]:
    """Each group with the two passages that come nearest to answering its commonest phrasing."""
    from .pipeline import retrieve  # at use

    if gaps:
        _, hits = retrieve(index, [g.questions[0] for g in gaps], 2)
        for g, found in zip(gaps, hits):
            g.nearest = [h.sentence.citation() | {"score": round(h.score, 4)} for h in found[:2]]
    return gaps
