"""A conversation: earlier turns, and follow-up questions rewritten to stand alone.

A follow-up is read against the conversation, not only the previous question's words: the earlier
questions (as read), their answers and answer types, and the sentence each answer came from. From
spaCy's parse of the follow-up:
- he/she/him/his/her -> the person last answered, asked about or named in a cited sentence;
- it/its/this -> what it stands for by its role: the subject of a change ("How much did it grow?") is
  the previous question's topic ("the adjusted net profit for 2021"); otherwise the thing last named:
  the previous answer when it is a name ("Who is its general secretary?" after "University and College
  Union"), else the named thing the previous question asked about ("How much did it cost?" after
  "Line C's budget" -> Line C), else its topic;
- they/them/their -> the previous question's plural subject ("the wild goats"), else its organization;
- ellipsis: "And the year before?" / "And in 2019?" replace the previous question's time; "And the
  net profit?" / "What about X?" its topic (its subject and period kept).
A pronoun whose antecedent comes earlier in the same question is left alone, and a question with
nothing to resolve is never rewritten.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .followup import (PREPOSITIONS, WH, ask_again, bare, code_literal, has_verb, is_name, named_thing, swap_modifier,
                       swap_time, swap_topic, topic_phrase)
from .nlp import english
from .question import analyze_batch

PERSON_PRONOUNS = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
THING_PRONOUNS = {"it", "its", "this", "that"}
GROUP_PRONOUNS = {"they", "them", "their", "theirs"}
KEPT_TURNS = 12  # a follow-up refers to the last few turns; older ones are let go, so a turn costs the same at any length
# "Over how many years?", "And in which quarter?": a wh-phrase with a preposition and no verb
WH_FRAGMENT = re.compile(r"^\s*(?:and\s+)?((?:over|for|in|at|by|since|until|from|to|during|within|after|before)\s+"
                         r"(?:how|what|which|whom)\b.*?)[\s?.!]*$", re.I)
ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about|also)\b[\s,]*(.*?)[\s?.!]*$", re.I)
# verbs whose subject is an amount: "it" there is the amount asked about before, not a named thing
CHANGE_VERBS = {"grow", "rise", "fall", "shrink", "increase", "decrease", "drop", "decline", "climb", "jump", "change",
                "compare", "double", "halve", "soar", "plunge", "widen", "narrow", "improve", "worsen", "fluctuate"}
TIME_WORDS = re.compile(r"\b(?:year|years|month|months|quarter|quarters|week|weeks|day|days|decade|season|"
                        r"before|earlier|previous|prior|later|ago|since|until|next|last|"
                        r"january|february|march|april|may|june|july|august|september|october|november|december|"
                        r"(?:1[6-9]|20)\d{2}s?)\b", re.I)
AMOUNT_TYPES = {"count", "money", "percent", "measure", "duration", "date", "number", "quantity"}


@dataclass
class Turn:
    question: str
    rewritten: str
    answer: str | None
    qtype: str = ""
    cited: str = ""   # the sentence the answer came from (or the best one, when it abstained)


@dataclass
class Conversation:
    """The state of one session; a plain value that can be saved (`to_dict`) and restored (`from_dict`)."""

    turns: list[Turn] = field(default_factory=list)

    def rewrite(self, question: str) -> str:
        """The question made to stand alone in the light of the earlier turns (unchanged when it does)."""
        if not self.turns:
            return question
        nlp = english()
        # the last turn that was a whole question (a fragment's own antecedents are the turn's before it)
        prev_doc = next((d for d in (nlp(t.rewritten) for t in reversed(self.turns)) if has_verb(d)), nlp(self.turns[-1].rewritten))
        w = WH_FRAGMENT.match(question)
        if w and not has_verb(nlp(w.group(1))):
            said = next((t.answer for t in reversed(self.turns) if t.rewritten == prev_doc.text), None)
            asked = ask_again(prev_doc, w.group(1), said)
            if asked:
                return asked
        m = ELLIPSIS.match(question)
        if m and m.group(1) and not has_verb(nlp(m.group(1))):
            fragment = m.group(1).strip()
            if TIME_WORDS.search(fragment):
                swapped = swap_time(prev_doc, fragment)
            elif fragment.split()[0].lower() in PREPOSITIONS:  # "And for a single remote?": a modifier
                swapped = swap_modifier(prev_doc, fragment)
            else:  # "And its wage costs?": the fragment's own pronouns resolved first
                fragment = _resolve_pronouns(nlp(fragment), Referents(self, nlp, prev_doc)) or fragment
                swapped = swap_topic(prev_doc, fragment)
            if swapped:
                return swapped
        body = re.sub(r"^\s*(?:and|also|so)\s*,?\s+", "", question, flags=re.I)
        body = body[:1].upper() + body[1:]
        resolved = _resolve_pronouns(nlp(body), Referents(self, nlp, prev_doc))
        return resolved or question

    def remember(self, question: str, rewritten: str, answer: str | None, qtype: str = "", cited: str = "") -> None:
        self.turns.append(Turn(question, rewritten, answer, qtype, cited))
        del self.turns[:-KEPT_TURNS]

    @classmethod
    def replayed(cls, exchanges: list[tuple[str, str | None, str]]) -> "Conversation":
        """The conversation that a client's own history makes (OpenAI's messages): each earlier
        (question, answer or None, cited sentence) read again in turn as a follow-up is, its answer
        type told from the question as read. Only the last KEPT_TURNS are read, so the cost is bounded."""
        conv = cls()
        for q, said, cited in exchanges[-KEPT_TURNS:]:
            rewritten = conv.rewrite(q)
            conv.remember(q, rewritten, said, analyze_batch([rewritten])[0].qtype, cited)
        return conv

    def to_dict(self) -> dict:
        return {"turns": [t.__dict__ for t in self.turns]}

    @classmethod
    def from_dict(cls, d: dict) -> "Conversation":
        return cls([Turn(**t) for t in d.get("turns", [])][-KEPT_TURNS:])


class Referents:
    """What a pronoun of the follow-up may stand for, found in the conversation when first needed."""

    def __init__(self, conv: Conversation, nlp, prev_doc):
        self.conv, self.nlp, self.prev_doc = conv, nlp, prev_doc

    def person(self) -> str | None:
        """The person last answered or asked about; else one named in the last cited sentence."""
        for t in reversed(self.conv.turns):
            if t.answer:
                ents = self.nlp(t.answer).ents
                labels = {e.label_ for e in ents}
                people = [bare(e.text) for e in ents if e.label_ == "PERSON"]
                if people:
                    return people[0]
                if t.qtype == "person" and not labels & {"ORG", "GPE", "NORP", "PRODUCT"} and len(t.answer.split()) <= 4:
                    return t.answer
            people = [bare(e.text) for e in self.nlp(t.rewritten).ents if e.label_ == "PERSON"]
            if people:
                return people[0]  # the question's subject comes first
        for t in reversed(self.conv.turns[-2:]):
            people = [bare(e.text) for e in self.nlp(t.cited).ents if e.label_ == "PERSON"] if t.cited else []
            if people:
                return people[0]
        return None

    def thing(self) -> str | None:
        """The thing last named: the previous answer when it is a name, else the named thing the
        previous question asks about, else its topic."""
        prev = next((t for t in reversed(self.conv.turns) if t.rewritten == self.prev_doc.text), self.conv.turns[-1])
        if prev.answer and prev.qtype not in AMOUNT_TYPES | {"person"} and is_name(prev.answer, self.nlp):
            # "the University and College Union" where the cited sentence says it so
            the = re.search(r"\bthe\s+" + re.escape(prev.answer), prev.cited or "", re.I)
            return ("the " if the and prev.answer[:1].isupper() else "") + prev.answer
        return named_thing(self.prev_doc) or self.topic()

    def topic(self) -> str | None:
        return topic_phrase(self.prev_doc)

    def group(self) -> str | None:
        """The previous question's plural subject ("the wild goats"), else its last organization."""
        for chunk in self.prev_doc.noun_chunks:
            if chunk.root.tag_ in ("NNS", "NNPS") and chunk.root.lower_ not in WH:
                words = [t for t in chunk if t.lower_ not in WH and t.lower_ not in ("many", "much") and t.pos_ != "DET"]
                if words:
                    text = self.prev_doc[words[0].i: words[-1].i + 1].text
                    return text if words[0].pos_ == "PROPN" else "the " + text
        for t in reversed(self.conv.turns):
            orgs = [e.text for e in self.nlp(t.rewritten).ents if e.label_ in ("ORG", "NORP")]
            if orgs:
                return orgs[-1]
        return None


def _antecedent_before(doc, pronoun) -> bool:
    """Whether the pronoun's antecedent comes earlier in the same question ("How many goats lived there
    before they were moved?"): a noun phrase of its kind before it."""
    low = pronoun.lower_
    for chunk in doc.noun_chunks:
        if chunk.end > pronoun.i:
            break
        root = chunk.root
        if root.pos_ == "PRON" or root.lower_ in WH:
            continue
        verb = _governor(root)
        if pronoun.dep_ != "poss" and verb is not None and verb == _governor(pronoun) and doc[verb].lemma_ != "be":
            continue  # two arguments of one verb are two things ("Which option does it imply?": it is not
            #           the option), though a possessive may be its own clause's subject ("its prices") and
            #           "be" may join one thing to itself ("What share of turnover was that?")
        if low in PERSON_PRONOUNS and root.ent_type_ == "PERSON":
            return True
        if low in GROUP_PRONOUNS and root.tag_ in ("NNS", "NNPS"):
            return True
        if low in THING_PRONOUNS and root.tag_ in ("NN", "NNP") and root.ent_type_ != "PERSON":
            return True
    return False


def _governor(token) -> int | None:
    """The position of the verb whose argument `token` is (through a preposition: "written in it" ->
    written), or None."""
    t = token
    while t.head.i != t.i and t.pos_ not in ("VERB", "AUX"):
        t = t.head
    return t.i if t.pos_ in ("VERB", "AUX") else None


def _resolve_pronouns(doc, ref: Referents) -> str | None:
    """`doc` with its pronouns replaced by what they stand for, or None when nothing was replaced."""
    out, changed = [], False
    after: dict[int, str] = {}  # words to add after a token
    changing = any(t.lemma_ in CHANGE_VERBS for t in doc)
    for t in doc:
        if t.i - 1 in after:
            out[-1] = out[-1].rstrip() + after.pop(t.i - 1) + (" " if out[-1][-1:].isspace() else "")
        low = t.lower_
        rep = None
        possessive = low in ("his", "its", "their") or (low == "her" and t.dep_ == "poss")
        if low in PERSON_PRONOUNS | THING_PRONOUNS | GROUP_PRONOUNS and not _antecedent_before(doc, t):
            if low in PERSON_PRONOUNS:
                rep = ref.person()
            elif low in THING_PRONOUNS and (t.pos_ == "PRON" or possessive) and t.dep_ not in ("mark", "expl", "det") \
                    and t.tag_ != "WDT":  # not a relative "that"
                rep = ref.topic() if changing and not possessive else ref.thing()
            elif low in GROUP_PRONOUNS and (t.pos_ == "PRON" or possessive):
                rep = ref.group()
        if rep and possessive and code_literal(rep) and t.head.i > t.i:
            # "its default" -> "the default of git clone --jobs": an option takes no "'s"
            changed = True
            out.append("the" + t.whitespace_)
            after[t.head.i] = " of " + rep
        elif rep:
            if possessive:
                rep = rep + ("'" if rep.endswith("s") and not rep.endswith("ss") and rep[:1].isupper() else "'s")
            changed = True
            out.append(rep + t.whitespace_)
        else:
            out.append(t.text_with_ws)
    if after and out:  # the noun was the question's last word
        out[-1] = out[-1].rstrip() + "".join(after.values())
    return "".join(out) if changed else None
