"""A conversation: earlier turns, and follow-up questions rewritten to stand alone.

Rewrites, read from spaCy's parse of the question and of the turn before it:
- pronouns: he/she/him/his/her -> the person last asked about or answered; it/its/that/this ->
  the previous question's topic phrase ("the adjusted net profit for 2021"); they/their -> the
  last organization or group;
- ellipsis: "And the net profit?" / "What about X?" -> the previous question with its topic
  swapped for X (its subject and period kept);
- comparisons: "How did that compare with a year earlier?" -> "that" resolved as above.
A question that names its own subject and has no pronoun is a new topic and is left alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PERSON_PRONOUNS = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
THING_PRONOUNS = {"it", "its", "that", "this"}
GROUP_PRONOUNS = {"they", "them", "their", "theirs"}
WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
KEPT_TURNS = 12  # a follow-up refers to the last few turns; older ones are let go, so a turn costs the same at any length
ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about|also)\b[\s,]*(.*?)[\s?.!]*$", re.I)


@dataclass
class Turn:
    question: str
    rewritten: str
    answer: str | None
    qtype: str = ""


@dataclass
class Conversation:
    """The state of one session; a plain value that can be saved (`to_dict`) and restored (`from_dict`)."""

    turns: list[Turn] = field(default_factory=list)

    def rewrite(self, question: str) -> str:
        """The question made to stand alone in the light of the earlier turns."""
        if not self.turns:
            return question
        from .nlp import english

        nlp = english()
        prev = self.turns[-1]
        prev_doc = nlp(prev.rewritten)
        m = ELLIPSIS.match(question)
        if m and m.group(1) and not _has_verb(nlp(m.group(1))):
            swapped = _swap_topic(prev_doc, m.group(1))
            if swapped:
                return swapped
        body = re.sub(r"^\s*(?:and|also|so)\s*,?\s+", "", question, flags=re.I)
        body = body[:1].upper() + body[1:]
        doc = nlp(body)
        return _resolve_pronouns(doc, self._person(nlp), _topic_phrase(prev_doc), self._group(nlp)) or body

    def _person(self, nlp) -> str | None:
        """The person the conversation is about: the latest answered or named PERSON."""
        for t in reversed(self.turns):
            if t.qtype == "person" and t.answer:
                return t.answer
            people = [e.text for e in nlp(t.rewritten).ents if e.label_ == "PERSON"]
            if people:
                return people[-1]
        return None

    def _group(self, nlp) -> str | None:
        for t in reversed(self.turns):
            orgs = [e.text for e in nlp(t.rewritten).ents if e.label_ in ("ORG", "NORP")]
            if orgs:
                return orgs[-1]
        return None

    def remember(self, question: str, rewritten: str, answer: str | None, qtype: str = "") -> None:
        self.turns.append(Turn(question, rewritten, answer, qtype))
        del self.turns[:-KEPT_TURNS]

    def to_dict(self) -> dict:
        return {"turns": [t.__dict__ for t in self.turns]}

    @classmethod
    def from_dict(cls, d: dict) -> "Conversation":
        return cls([Turn(**t) for t in d.get("turns", [])][-KEPT_TURNS:])


def _has_verb(doc) -> bool:
    return any(t.pos_ in ("VERB", "AUX") for t in doc)


def _topic_head(doc):
    """The head noun of what the question asks about: the first noun that is not a wh-word, a date or a name."""
    for t in doc:
        if t.pos_ == "NOUN" and t.lower_ not in WH and t.ent_type_ not in ("DATE", "PERSON", "GPE"):
            while t.dep_ == "compound" and t.head.pos_ == "NOUN":
                t = t.head
            return t
    return None


def _topic_phrase(doc) -> str | None:
    """The topic with what hangs on it: "the revenue for 2021"."""
    head = _topic_head(doc)
    if head is None:
        return None
    toks = [t for t in head.subtree if t.lower_ not in WH]
    return doc[toks[0].i: toks[-1].i + 1].text if toks else None


def _swap_topic(prev_doc, new_topic: str) -> str | None:
    """The previous question with its topic noun phrase replaced: "What was the revenue for 2021?"
    + "the adjusted net profit" -> "What was the adjusted net profit for 2021?"."""
    head = _topic_head(prev_doc)
    if head is None:
        return None
    left = min([t.i for t in head.lefts] + [head.i])
    start = prev_doc[left].idx
    end = head.idx + len(head.text)
    text = prev_doc.text
    return text[:start] + new_topic.strip() + text[end:]


def _resolve_pronouns(doc, person: str | None, topic: str | None, group: str | None) -> str | None:
    """`doc` with its pronouns replaced by what they stand for, or None when nothing was replaced."""
    out, changed = [], False
    for t in doc:
        low = t.lower_
        rep = None
        if low in PERSON_PRONOUNS and person:
            rep = person + ("'s" if low in ("his",) or (low == "her" and t.dep_ == "poss") else "")
        elif low in THING_PRONOUNS and topic and t.pos_ == "PRON" and t.dep_ not in ("mark", "expl"):
            rep = topic + ("'s" if low == "its" else "")
        elif low in GROUP_PRONOUNS and group and t.pos_ == "PRON":
            rep = group + ("'s" if low == "their" else "")
        if rep:
            changed = True
            out.append(rep + t.whitespace_)
        else:
            out.append(t.text_with_ws)
    return "".join(out) if changed else None
