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
    label: str  # an entity label, COUNT, CHUNK, LIST_..., REASON
    parts: tuple[tuple[int, int], ...] = ()  # a list's members, token ranges in order


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
            out.append(Span(run[0].i, run[-1].j, "LIST_" + run[0].label, tuple((m.i, m.j) for m in run)))
        run = [sp]
    if len(run) > 1:
        out.append(Span(run[0].i, run[-1].j, "LIST_" + run[0].label, tuple((m.i, m.j) for m in run)))
    return out


def _coordinations(sent: Sentence, chunks: list[Span]) -> list[Span]:
    """Noun chunks joined by conjunction ("autonomous driving and smart cockpits") as one span: each
    whole list once, from its first member, with "X, together with Y and Z" one list and a member's
    name in apposition kept ("the Danish pension fund NordPension")."""
    toks = sent.tokens
    root_of = {}
    for sp in chunks:
        root = next((k for k in range(sp.i, sp.j) if not (sp.i <= toks[k].head < sp.j) or toks[k].head == k), sp.j - 1)
        root_of[root] = sp
    joined: dict[int, list[int]] = {r: [] for r in root_of}  # chunk root -> the chunk roots joined to it
    for k, t in enumerate(toks):
        if k in root_of and t.dep == "conj" and t.head in root_of and t.head != k:
            joined[t.head].append(k)
        elif t.dep == "pobj" and k in root_of and toks[t.head].text.lower() == "with":
            left = _joined_by_together(toks, t.head, root_of)
            if left is not None and left != k:
                joined[left].append(k)
    members_of = {k for ks in joined.values() for k in ks}
    out = []
    for root in root_of:
        if root in members_of or not joined[root]:
            continue
        members, frontier, seen = [], [root], {root}
        while frontier:  # `seen`: an odd parse may join a chunk twice, or back to an earlier one
            r = frontier.pop()
            members.append(_with_apposition(sent, root_of[r], root_of))
            for k in joined[r]:
                if k not in seen:
                    seen.add(k)
                    frontier.append(k)
        members.sort(key=lambda m: m.i)
        out.append(Span(members[0].i, max(m.j for m in members), "LIST_CHUNK", tuple((m.i, m.j) for m in members)))
    return out


def _joined_by_together(toks, prep: int, root_of: dict[int, Span]) -> int | None:
    """The chunk root that "together with" / "along with" at `prep` joins its object to: the chunk
    right before those words (a comma between), wherever the parser hung the "with"."""
    adv = next((a for a in range(prep) if toks[a].head == prep and toks[a].text.lower() in ("together", "along")), None)
    if adv is None:
        return None
    end = adv - 1 if adv > 0 and toks[adv - 1].text == "," else adv
    return next((r for r, sp in root_of.items() if sp.j == end), None)


def _with_apposition(sent: Sentence, sp: Span, root_of: dict[int, Span]) -> Span:
    """A chunk widened over a name in apposition right after it ("the pension fund NordPension")."""
    for k, t in enumerate(sent.tokens):
        if k in root_of and t.dep == "appos" and sp.i <= t.head < sp.j and root_of[k].i == sp.j:
            return Span(sp.i, root_of[k].j, sp.label)
    return sp


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


def reference_number(text: str, start: int, end: int) -> bool:
    """A number that is part of a name: a manual page's section ("git-push(1)", "printf(3)")."""
    return (start >= 2 and end < len(text) and text[start - 1] == "(" and text[end] == ")"
            and text[start - 2].isalnum() and text[start:end].isdigit() and len(text[start:end]) == 1)
