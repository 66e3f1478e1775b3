"""What did it: "What helped the loss shrink?" is answered by the agent of the passive the passage
puts the question's verb in ("... narrowed to £9.8 million, helped by a £52.3 million profit on player
sales"). The reader reads such a question as one about the figure it names; the passive's "by" says
the answer in the passage's own grammar, in any English text."""
from __future__ import annotations

import re

from ..question import Question

WHAT_VERB = re.compile(r"^\s*what\s+([a-z]+)\b", re.I)
IRREGULAR = {"drive": "driven", "lead": "led", "bring": "brought", "make": "made", "hit": "hit", "hurt": "hurt",
             "cut": "cut", "set": "set", "spur": "spurred", "fuel": "fuell?ed", "rise": "risen", "take": "taken",
             "give": "given", "hold": "held", "keep": "kept", "win": "won", "buy": "bought", "sell": "sold",
             "write": "written", "build": "built", "pay": "paid", "offset": "offset", "undermine": "undermined"}
AGENT = r"\s+(?:(?:in\s+)?part(?:ly)?\s+|largely\s+|mainly\s+|mostly\s+|chiefly\s+|primarily\s+)?by\s+(?P<agent>[^,;:!?()\"\u201c\u201d]{3,160}?)(?=[,;:!?()\"\u201c\u201d]|\.(?:\s|$)|$)"


def participle(lemma: str) -> str:
    """A pattern of the verb's past participle ("help" -> "helped", "drive" -> "driven")."""
    if lemma in IRREGULAR:
        return IRREGULAR[lemma]
    forms = {lemma + "ed", lemma + "d" if lemma.endswith("e") else lemma + "ed"}
    if lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        forms.add(lemma[:-1] + "ied")
    if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", lemma):
        forms.add(lemma + lemma[-1] + "ed")
    return "(?:" + "|".join(sorted(forms)) + ")"


def asked_verb(q: Question) -> str | None:
    """The lemma of the verb a "What <verb> ...?" question asks the subject of, if it is one."""
    m = WHAT_VERB.match(q.text)
    if not m:
        return None
    word = m.group(1).lower()
    return next((lemma for lemma, surface in q.terms.items()
                 if surface.lower() == word and q.tags.get(lemma, "").startswith("VB")), None)


def agent_span(q: Question, text: str) -> tuple[int, int] | None:
    """Where `text` names what did the question's verb ("helped by X" for "What helped ...?"): X's
    [start, end), or None."""
    verb = asked_verb(q)
    if verb is None:
        return None
    m = re.search(rf"\b{participle(verb)}{AGENT}", text, re.I)
    if not m:
        return None
    start, end = m.span("agent")
    agent = text[start:end].rstrip()
    return start, start + len(agent)
