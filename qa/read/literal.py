"""Answers that are literals: documentation is asked "which option ...", "how do I ...", and the
answer is an option, a value or a command, said exactly as written. Where the page gives it is a
matter of the page's structure: inline code in the sentence read, the code block the sentence (or
one just after it) introduces ("... use the following:"), or the term (`dt`) whose description the
sentence is. "What does --prune do?" is answered by the named term's description.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..lexical import LITERAL
from ..records import PROSE_KINDS as PROSE
from ..records import Sentence, Surroundings

# what a "which/what X" question names when it asks for a literal; said generically of documentation
LITERAL_NOUNS = (r"options?|flags?|switch(?:es)?|settings?|commands?|sub-?commands?|values?|variables?|parameters?|"
                 r"arguments?|keys?|helpers?|strategy|strategies|modes?|fields?|propert(?:y|ies)|attributes?|"
                 r"functions?|methods?|groups?|users?|accounts?|packages?|librar(?:y|ies)|config(?:uration)?(?: variables?| options?| keys?)?|environment variables?")
WHICH_LITERAL = re.compile(r"^\s*(?:which|what)\s+(?:(?!(?:is|are|was|were|does|do|did|can|will|should|would)\b)"
                           r"[\w.:/=-]+\s+){0,3}?(?:" + LITERAL_NOUNS + r")\b", re.I)
HOW_TO = re.compile(r"^\s*(?:how\s+(?:do|can|could|should|would|may)\s+(?:i|we|you|one)\b|"
                    r"what\s+(?:command|option|flag)s?\s+(?:do|can|should|would)\s+(?:i|we|you)\b)", re.I)
CODE_LINES = 3       # a code block said whole up to this many lines; past it, its first command
TERM_WALK = Surroundings.BACK  # units walked back to find the term a description stands under
FOLLOW_WALK = 3      # sentences walked forward to find the code block a how-to passage gives
MAX_TERM_CHARS = 120
DEFINE = re.compile(r"^\s*what\s+(?:does|do|is|are)\b", re.I)


def literal_ask(question: str) -> str | None:
    """'which' for "Which option/setting/value ...", 'how' for "How do I ...", 'define' for "What
    does --prune do?" (a question naming a literal), else None."""
    if WHICH_LITERAL.match(question):
        return "which"
    if HOW_TO.match(question):
        return "how"
    if DEFINE.match(question) and LITERAL.search(question):
        return "define"
    return None


@dataclass
class Literal:
    """A literal answer: its text, the unit it is in and its [start, end) there, and the sentence to
    cite for it (the one that introduces a code block, a term's description's first sentence)."""

    text: str
    unit: Sentence
    start: int
    end: int
    cited: Sentence
    named: bool = False  # the question names the term it describes: the page answers whatever the reader made of it


def literal_answer(near: Surroundings, question: str, top: Sentence, start: int, end: int) -> Literal | None:
    """The literal answer when the question asks for one and the page's structure gives one the
    reader's span is not; None to keep the reader's span."""
    ask = literal_ask(question)
    if ask is None or top.kind not in (*PROSE, "code", "term"):
        return None
    if top.kind in ("code", "term"):
        return _whole(top, top)
    if ask == "define":  # what the named option does: its description's first sentence
        term = term_of(near, top)
        named = {m.group(0) for m in LITERAL.finditer(question)}
        if term is None or not named & {m.group(0) for m in LITERAL.finditer(term.text)}:
            return None
        if not _says_what_is_asked(near, term, asked_property(question)):
            return None  # "What is the default value of push.negotiate?": its description gives no default
        first = _description(near, term)
        said = first.text.rstrip(" .") if first else ""
        return Literal(said, first, 0, len(said), first, named=True) if said else None
    in_code = _code_at(top, start, end)
    if ask == "how" or in_code is None:
        introduced = _introduced_code(near, top)
        if introduced is not None:
            return _whole(introduced, top)
    if ask == "how" and in_code is None:  # a how-to passage gives its command just after it
        given = _code_given_after(near, top)
        if given is not None:
            return _whole(*given)
    if in_code is not None:
        return None  # the reader's span is a literal already (widened to it when it says it)
    term = term_of(near, top)
    return _whole(term, _description(near, term) or top) if term is not None else None


# "What is the default value of X?" asks for one property of the term, not what it is
PROPERTY_ASKED = re.compile(r"^\s*what\s+(?:is|are|was|were)\s+the\s+([a-z][a-z\s-]*?)\s+(?:value\s+|setting\s+)?(?:of|for)\b", re.I)
GENERIC_PROPERTY = {"value", "values", "meaning", "purpose", "use", "name", "role", "effect", "function", "type", "kind",
                    "format", "point", "idea", "job", "syntax", "setting"}


def asked_property(question: str) -> list[str]:
    """The words of the property a define question asks for ("What is the default value of X?" ->
    [default]); none for "What is X?", "What is the purpose of X?"."""
    m = PROPERTY_ASKED.match(question)
    return [w for w in m.group(1).lower().split() if w not in GENERIC_PROPERTY] if m else []


def _says_what_is_asked(near: Surroundings, term: Sentence, words: list[str]) -> bool:
    """The term or a unit of its description (those read) says each word the question asks about."""
    text = " ".join(u.text for u in near.units.values() if u.doc == term.doc and u.section == term.section).lower()
    return all(re.search(r"\b" + re.escape(w[: max(4, len(w) - 2)]), text) for w in words)


def _code_at(s: Sentence, start: int, end: int) -> tuple[int, int] | None:
    a, b = s.start + start, s.start + end
    return next(((x, y) for x, y, label in s.entities if label == "CODE" and x < b and a < y), None)


def _introduced_code(near: Surroundings, s: Sentence) -> Sentence | None:
    """The code block a sentence ending in a colon introduces ("..., use a syntax like the following:")."""
    if not s.text.rstrip().endswith(":"):
        return None
    _, nxt = near.around(s)
    return nxt if nxt is not None and nxt.kind == "code" else None


def _code_given_after(near: Surroundings, s: Sentence) -> tuple[Sentence, Sentence] | None:
    """(code block, the sentence introducing it) for one of the few sentences after `s` in its
    section ("To change the password, erase the credentials. [...] To erase credentials, use a syntax
    like the following:")."""
    cur = s
    for _ in range(FOLLOW_WALK):
        _, nxt = near.around(cur)
        if nxt is None or nxt.section != s.section or nxt.kind not in PROSE:
            return None
        code = _introduced_code(near, nxt)
        if code is not None:
            return code, nxt
        cur = nxt
    return None


def _description(near: Surroundings, term: Sentence) -> Sentence | None:
    """A term's description's first sentence (what the term is, by the convention of reference pages)."""
    _, nxt = near.around(term)
    return nxt if nxt is not None and nxt.section == term.section and nxt.kind in PROSE else None


def term_of(near: Surroundings, s: Sentence, literal_only: bool = True) -> Sentence | None:
    """The term (`dt`) whose description `s` is part of: the nearest term unit before it whose path
    is its path (only one that is a literal, not a FAQ's question, unless `literal_only` is false)."""
    if not s.section:
        return None
    for i in range(s.id - 1, max(0, s.id - TERM_WALK) - 1, -1):
        prev = near.unit(i)
        if prev is None:
            continue  # no unit at that row (a store's rows may have gaps)
        if prev.doc != s.doc or prev.section != s.section:
            return None
        if prev.kind == "term":  # a term that is a sentence (a FAQ's question) is no literal
            literal = len(prev.text) <= MAX_TERM_CHARS and not prev.text.rstrip().endswith("?")
            return prev if literal or not literal_only else None
    return None


def _whole(u: Sentence, cited: Sentence) -> Literal:
    """A term or code unit said as written: a short code block whole, a long one by its first line."""
    if u.kind == "code":
        lines = u.text.split("\n")
        if len(lines) > CODE_LINES:
            return Literal(lines[0].strip(), u, 0, len(lines[0]), cited)
    return Literal(u.text.strip(), u, 0, len(u.text), cited)
