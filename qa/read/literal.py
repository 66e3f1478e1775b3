"""Answers that are literals: documentation is asked "which option ...", "how do I ...", and the
answer is an option, a value or a command, said exactly as written. Where the page gives it is a
matter of the page's structure: inline code in the sentence read, the code block the sentence
introduces ("... use the following:"), or the term (`dt`) whose description the sentence is.
"""
from __future__ import annotations

import re

from ..records import Sentence

# what a "which/what X" question names when it asks for a literal; said generically of documentation
LITERAL_NOUNS = (r"options?|flags?|switch(?:es)?|settings?|commands?|sub-?commands?|values?|variables?|parameters?|"
                 r"arguments?|keys?|helpers?|strategy|strategies|modes?|fields?|propert(?:y|ies)|attributes?|"
                 r"functions?|methods?|config(?:uration)?(?: variables?| options?| keys?)?|environment variables?")
WHICH_LITERAL = re.compile(r"^\s*(?:which|what)\s+(?:(?!(?:is|are|was|were|does|do|did|can|will|should|would)\b)"
                           r"[\w.:/=-]+\s+){0,3}?(?:" + LITERAL_NOUNS + r")\b", re.I)
HOW_TO = re.compile(r"^\s*(?:how\s+(?:do|can|could|should|would|may)\s+(?:i|we|you|one)\b|"
                    r"what\s+(?:command|option|flag)s?\s+(?:do|can|should|would)\s+(?:i|we|you)\b)", re.I)
CODE_LINES = 3       # a code block said whole up to this many lines; past it, its first command
TERM_WALK = 40       # units walked back to find the term a description stands under
MAX_TERM_CHARS = 120


def literal_ask(question: str) -> str | None:
    """'which' for "Which option/setting/value ...", 'how' for "How do I ...", else None."""
    if WHICH_LITERAL.match(question):
        return "which"
    if HOW_TO.match(question):
        return "how"
    return None


def literal_answer(index, question: str, top: Sentence, start: int, end: int) -> tuple[str, Sentence, int, int] | None:
    """(answer, the unit it is in, start, end in that unit) when the question asks for a literal and
    the page's structure gives one the reader's span is not; None to keep the reader's span."""
    ask = literal_ask(question)
    if ask is None or top.kind not in ("sentence", "row", "code", "term"):
        return None
    if top.kind in ("code", "term"):
        return _whole(top)
    in_code = _code_at(top, start, end)
    introduced = _introduced_code(index, top) if ask == "how" or in_code is None else None
    if introduced is not None:
        return _whole(introduced)
    if in_code is not None:
        return None  # the reader's span is a literal already (widened to it when it says it)
    term = _term_of(index, top)
    return _whole(term) if term is not None else None


def _code_at(s: Sentence, start: int, end: int) -> tuple[int, int] | None:
    a, b = s.start + start, s.start + end
    return next(((x, y) for x, y, label in s.entities if label == "CODE" and x < b and a < y), None)


def _introduced_code(index, s: Sentence) -> Sentence | None:
    """The code block a sentence ending in a colon introduces ("..., use a syntax like the following:")."""
    if not s.text.rstrip().endswith(":"):
        return None
    _, nxt = index.around(s)
    return nxt if nxt is not None and nxt.kind == "code" else None


def _term_of(index, s: Sentence) -> Sentence | None:
    """The term (`dt`) whose description `s` is part of: the nearest term unit before it whose path
    is its path."""
    if not s.section:
        return None
    cur = s
    for _ in range(TERM_WALK):
        prev, _ = index.around(cur)
        if prev is None or prev.section != s.section:
            return None
        if prev.kind == "term":
            return prev if len(prev.text) <= MAX_TERM_CHARS else None
        cur = prev
    return None


def _whole(u: Sentence) -> tuple[str, Sentence, int, int]:
    """A term or code unit said as written: a short code block whole, a long one by its first line."""
    if u.kind == "code":
        lines = u.text.split("\n")
        if len(lines) > CODE_LINES:
            return lines[0].strip(), u, 0, len(lines[0])
    return u.text.strip(), u, 0, len(u.text)
