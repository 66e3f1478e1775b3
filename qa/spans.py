"""Candidate answer spans of a sentence: entities, noun chunks, numbers, lists and reason clauses."""
from __future__ import annotations

from dataclasses import dataclass

from .records import Sentence

COUNT_WORDS = {"once", "twice", "thrice"}
REASON_CUES = {"because", "due", "owing", "thanks"}
LIST_GLUE = {",", "and", "or", "etc", "etc.", ", and", "as well as", ""}


@dataclass(frozen=True)
class Span:
    """A piece of a sentence that could be the answer: token range [i, j) and a label."""

    i: int
    j: int
    label: str  # an entity label, COUNT, CHUNK, LIST, REASON


def token_range(sent: Sentence, start: int, end: int) -> tuple[int, int] | None:
    idx = [k for k, t in enumerate(sent.tokens) if t.start >= start and t.end <= end]
    return (idx[0], idx[-1] + 1) if idx else None


def candidates(sent: Sentence) -> list[Span]:
    """Every span worth scoring in `sent`, without duplicates."""
    out: dict[tuple[int, int], Span] = {}
    ents = []
    for s, e, label in sent.entities:
        r = token_range(sent, s, e)
        if r:
            ents.append(Span(*r, label))
    for sp in ents:
        out.setdefault((sp.i, sp.j), sp)
    for sp in _entity_lists(sent, ents):
        out.setdefault((sp.i, sp.j), sp)
    chunks = [Span(*r, "CHUNK") for s, e in sent.chunks if (r := token_range(sent, s, e))]
    for sp in chunks:
        out.setdefault((sp.i, sp.j), sp)
    for sp in _coordinations(sent, chunks):
        out.setdefault((sp.i, sp.j), sp)
    for k, t in enumerate(sent.tokens):
        if t.text.lower() in COUNT_WORDS:
            out.setdefault((k, k + 1), Span(k, k + 1, "COUNT"))
        elif t.pos == "NUM" and not t.ent:
            out.setdefault((k, k + 1), Span(k, k + 1, "CARDINAL"))
    for sp in _reasons(sent):
        out.setdefault((sp.i, sp.j), sp)
    return list(out.values())


def _between(sent: Sentence, a: Span, b: Span) -> str:
    return " ".join(t.text.lower() for t in sent.tokens[a.j:b.i])


def _entity_lists(sent: Sentence, ents: list[Span]) -> list[Span]:
    """Runs of same-label entities joined by commas or "and": "Wang Xiang, Lu Weibing and Liu De"."""
    out, run = [], []
    for sp in sorted(ents, key=lambda s: s.i):
        if run and sp.label == run[-1].label and _between(sent, run[-1], sp).replace(" ", "") in {"," , "and", ",and", "or", ",or"}:
            run.append(sp)
            continue
        if len(run) > 1:
            out.append(Span(run[0].i, run[-1].j, "LIST_" + run[0].label))
        run = [sp]
    if len(run) > 1:
        out.append(Span(run[0].i, run[-1].j, "LIST_" + run[0].label))
    return out


def _coordinations(sent: Sentence, chunks: list[Span]) -> list[Span]:
    """Noun chunks joined by conjunction ("autonomous driving and smart cockpits") as one span."""
    root_of = {}
    for sp in chunks:
        root = next((k for k in range(sp.i, sp.j) if not (sp.i <= sent.tokens[k].head < sp.j) or sent.tokens[k].head == k), sp.j - 1)
        root_of[root] = sp
    out = []
    for root, sp in root_of.items():
        members = [sp]
        frontier = [root]
        while frontier:
            r = frontier.pop()
            for k, t in enumerate(sent.tokens):
                if t.head == r and t.dep == "conj" and k != r and k in root_of:
                    members.append(root_of[k])
                    frontier.append(k)
        if len(members) > 1:
            out.append(Span(min(m.i for m in members), max(m.j for m in members), "LIST_CHUNK"))
    return out


def _reasons(sent: Sentence) -> list[Span]:
    """A clause opened by a reason cue ("because ...", "due to ...") up to the next comma or the end."""
    out = []
    toks = sent.tokens
    for k, t in enumerate(toks):
        low = t.text.lower()
        cue = low in REASON_CUES or (low == "to" and k > 0 and toks[k - 1].text.lower() == "order")
        cue = cue or (low == "to" and t.dep == "aux" and toks[t.head].dep in ("advcl", "xcomp"))
        if not cue:
            continue
        end = k + 1
        while end < len(toks) and toks[end].text not in (",", ";", ".", ":", "\u2014"):
            end += 1
        if end - k > 1:
            out.append(Span(k, end, "REASON"))
    return out


def text_of(sent: Sentence, sp: Span) -> str:
    return sent.text[sent.tokens[sp.i].start - sent.start: sent.tokens[sp.j - 1].end - sent.start]
