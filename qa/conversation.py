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

from .lexical import LITERAL
from .nlp import english
from .question import analyze_batch

PERSON_PRONOUNS = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
THING_PRONOUNS = {"it", "its", "this", "that"}
GROUP_PRONOUNS = {"they", "them", "their", "theirs"}
WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
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
# words before an option that are not the command it belongs to ("What does git clone --jobs set?")
NOT_COMMAND = WH | {"do", "does", "did", "is", "are", "was", "were", "can", "could", "should", "will", "would", "has",
                    "have", "the", "a", "an", "of", "for", "in", "on", "with", "to", "and", "or", "use", "pass", "give",
                    "option", "options", "flag", "setting", "i", "you", "we"}
NAMED = {"ORG", "PRODUCT", "WORK_OF_ART", "FAC", "GPE", "LOC", "EVENT", "LAW", "NORP"}


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
        prev_doc = next((d for d in (nlp(t.rewritten) for t in reversed(self.turns)) if _has_verb(d)), nlp(self.turns[-1].rewritten))
        w = WH_FRAGMENT.match(question)
        if w and not _has_verb(nlp(w.group(1))):
            said = next((t.answer for t in reversed(self.turns) if t.rewritten == prev_doc.text), None)
            asked = _ask_again(prev_doc, w.group(1), said)
            if asked:
                return asked
        m = ELLIPSIS.match(question)
        if m and m.group(1) and not _has_verb(nlp(m.group(1))):
            fragment = m.group(1).strip()
            if TIME_WORDS.search(fragment):
                swapped = _swap_time(prev_doc, fragment)
            elif fragment.split()[0].lower() in PREPOSITIONS:  # "And for a single remote?": a modifier
                swapped = _swap_modifier(prev_doc, fragment)
            else:  # "And its wage costs?": the fragment's own pronouns resolved first
                fragment = _resolve_pronouns(nlp(fragment), Referents(self, nlp, prev_doc)) or fragment
                swapped = _swap_topic(prev_doc, fragment)
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
                people = [_bare(e.text) for e in ents if e.label_ == "PERSON"]
                if people:
                    return people[0]
                if t.qtype == "person" and not labels & {"ORG", "GPE", "NORP", "PRODUCT"} and len(t.answer.split()) <= 4:
                    return t.answer
            people = [_bare(e.text) for e in self.nlp(t.rewritten).ents if e.label_ == "PERSON"]
            if people:
                return people[0]  # the question's subject comes first
        for t in reversed(self.conv.turns[-2:]):
            people = [_bare(e.text) for e in self.nlp(t.cited).ents if e.label_ == "PERSON"] if t.cited else []
            if people:
                return people[0]
        return None

    def thing(self) -> str | None:
        """The thing last named: the previous answer when it is a name, else the named thing the
        previous question asks about, else its topic."""
        prev = next((t for t in reversed(self.conv.turns) if t.rewritten == self.prev_doc.text), self.conv.turns[-1])
        if prev.answer and prev.qtype not in AMOUNT_TYPES | {"person"} and _is_name(prev.answer, self.nlp):
            # "the University and College Union" where the cited sentence says it so
            the = re.search(r"\bthe\s+" + re.escape(prev.answer), prev.cited or "", re.I)
            return ("the " if the and prev.answer[:1].isupper() else "") + prev.answer
        return _named_thing(self.prev_doc) or self.topic()

    def topic(self) -> str | None:
        return _topic_phrase(self.prev_doc)

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


def _has_verb(doc) -> bool:
    return any(t.pos_ in ("VERB", "AUX") for t in doc)


def _topic_head(doc):
    """The head noun of what the question asks about: the root of its first noun phrase that is not a
    wh-word, a pronoun, a date or a person."""
    for chunk in doc.noun_chunks:
        root = chunk.root
        if root.lower_ in WH | {"much", "many"} or root.pos_ == "PRON" or root.ent_type_ in ("DATE", "PERSON"):
            continue
        return root
    for t in doc:
        if t.pos_ == "NOUN" and t.lower_ not in WH and t.ent_type_ not in ("DATE", "PERSON", "GPE"):
            while t.dep_ == "compound" and t.head.pos_ == "NOUN":
                t = t.head
            return t
    return None


def _topic_phrase(doc) -> str | None:
    """The topic with what hangs on it: "the revenue for 2021", "Northgate Athletic's loss before tax"."""
    head = _topic_head(doc)
    if head is None:
        return None
    chunk = next((c for c in doc.noun_chunks if c.root == head), None)
    left = chunk.start if chunk is not None else min([t.i for t in head.lefts] + [head.i])
    # a noun phrase the parse ran over the verb ("How much will the new stadium cost"): from after it
    left = max([left] + [t.i + 1 for t in doc[left:head.i] if t.pos_ in ("AUX", "VERB") or t.lower_ in WH])
    right = [t for r in head.rights if r.dep_ == "prep" for t in r.subtree]
    toks = [t for t in doc[left: max([head.i] + [t.i for t in right]) + 1]
            if t.lower_ not in WH and t.lower_ not in ("many", "much")]
    if not toks:
        return None
    while toks and toks[-1].is_punct:
        toks.pop()
    text = doc[toks[0].i: toks[-1].i + 1].text
    first = toks[0]
    if first.pos_ not in ("DET", "PROPN", "PRON", "NUM") and first.tag_ != "PRP$" and not text[:1].isupper():
        text = "the " + text
    return text


def _code_literal(text: str):
    """The first option or dotted name in `text` (a match of LITERAL), leaving out abbreviations made of
    single letters ("U.S.", "e.g."), which name no option or setting."""
    return next((m for m in LITERAL.finditer(text) if not all(len(part) == 1 for part in m.group().split("."))), None)


def _named_thing(doc) -> str | None:
    """The named thing (an organization, a product, a place, a name-like noun such as "git
    credential-cache") the question asks about, or None: the first one named, whole. An option or a
    dotted name is the thing asked about, with the command it is given to ("git clone --jobs")."""
    literal = _code_literal(doc.text)
    if literal:  # the whole word it is part of ("Android/Filecoder.C", "--depth=<depth>")
        start = doc.text.rfind(" ", 0, literal.start()) + 1
        end = doc.text.find(" ", literal.end())
        word = doc.text[start:end if end >= 0 else len(doc.text)].rstrip("?.,;:!")
        words = doc.text[:start].split()
        command = []
        while words and len(command) < 3 and re.fullmatch(r"[a-z][\w.-]*", words[-1]) and words[-1] not in NOT_COMMAND:
            command.insert(0, words.pop())
        return " ".join(command + [word])
    found = [(e.start, -(e.end - e.start), _bare(e.text)) for e in doc.ents if e.label_ in NAMED]
    for chunk in doc.noun_chunks:
        names = [t for t in chunk if t.pos_ == "PROPN" or (t.pos_ == "NOUN" and "-" in t.text)
                 or (t.is_upper and len(t.text) > 1 and t.is_alpha)]
        if names and chunk.root.lower_ not in WH:
            start, end = names[0].i, names[-1].i
            # the whole name: "Line C", "git credential-cache" (a compound run ending at the last name word)
            while start > chunk.start and doc[start - 1].dep_ == "compound":
                start -= 1
            found.append((start, -(end + 1 - start), doc[start:end + 1].text.removesuffix("'s")))
    # an acronym the parse took for something else ("AMTV" as an adjective)
    found += [(t.i, -1, t.text) for t in doc if t.is_upper and t.is_alpha and len(t.text) > 1 and t.lower_ not in WH]
    return min(found)[2] if found else None


def _bare(name: str) -> str:
    """A name without the possessive it was found with ("Marta Sousa's" -> "Marta Sousa")."""
    return re.sub(r"(?:'s|’s|')$", "", name.strip())


def _ask_again(prev_doc, fragment: str, answer: str | None) -> str | None:
    """The previous question asked again with the fragment's wh-phrase in front and the previous answer
    where its own wh-phrase was: "How many trains will AMTV buy?" (answered "nearly 40") + "Over how many
    years?" -> "Over how many years will AMTV buy nearly 40 trains?"; None when the previous question's
    wh-phrase is its subject (no auxiliary follows it)."""
    toks = list(prev_doc)
    if not toks or toks[0].lower_ not in WH:
        return None
    end = 1
    while end < len(toks) and toks[end].lower_ in ("much", "many", "long", "often", "far", "big", "large"):
        end += 1
    noun = ""
    for chunk in prev_doc.noun_chunks:  # "How many trains", "Which company"
        if chunk.start < end < chunk.end or (chunk.start == end and toks[end - 1].lower_ in ("many", "much", "which", "what")):
            noun = prev_doc[max(end, chunk.start):chunk.end].text
            end = chunk.end
            break
    if end >= len(toks) or toks[end].pos_ not in ("AUX", "VERB"):
        return None
    rest = [t for t in prev_doc[end:] if not (t.is_punct and t.i == len(toks) - 1)]
    said = ""
    if answer and len(answer.split()) <= 6:
        said = answer if not noun or noun.lower() in answer.lower() else f"{answer} {noun}"
    elif noun:
        said = noun
    verb = next((t for t in rest[1:] if t.pos_ == "VERB"), None)
    words = [t.text_with_ws for t in rest]
    if said:
        at = rest.index(verb) + 1 if verb is not None else len(rest)
        words.insert(at, (" " if at == len(rest) or not words[at - 1].endswith(" ") else "") + said + (" " if at < len(rest) else ""))
    return f"{fragment[:1].upper()}{fragment[1:]} {''.join(words).strip()}?"


def _is_name(text: str, nlp) -> bool:
    """Whether an answer names something ("University and College Union", "Android/Filecoder.C") rather
    than saying an amount, a time or a phrase."""
    words = text.split()
    if not words or len(words) > 8 or any(ch.isdigit() for ch in text[:1]):
        return False
    if len(words) == 1 and ((_code_literal(text) and LITERAL.fullmatch(text)) or re.fullmatch(r"[~.$]?[\w.$-]*/[\w./$-]+", text)):
        return True  # an option, a dotted setting or a path ("~/.git-credentials") names one thing
    if any(e.label_ in ("DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY", "ORDINAL", "PERSON")
           for e in nlp(text).ents):
        return False
    caps = [w for w in words if w[:1].isupper() or any(c.isupper() for c in w[1:])]
    return len(caps) >= max(1, len([w for w in words if len(w) > 3]) // 2 + (len(words) > 3))


def _swap_topic(prev_doc, new_topic: str) -> str | None:
    """The previous question with its topic noun phrase replaced: "What was the revenue for 2021?"
    + "the adjusted net profit" -> "What was the adjusted net profit for 2021?"."""
    head = _topic_head(prev_doc)
    if head is None:
        return None
    left = min([t.i for t in head.lefts] + [head.i])
    while left < head.i and prev_doc[left].lower_ in WH | {"many", "much"}:
        left += 1
    start = prev_doc[left].idx
    end = head.idx + len(head.text)
    text = prev_doc.text
    return text[:start] + new_topic.strip() + text[end:]


PREPOSITIONS = {"in", "for", "during", "by", "on", "at", "over", "since", "until", "before", "after", "of", "with",
                "without", "from", "to", "under", "between", "among", "against", "across", "into", "through", "per"}


def _swap_time(prev_doc, fragment: str) -> str | None:
    """The previous question with its time replaced by the fragment's: "... for the year?" + "the year
    before" -> "... for the year before?"; "... for 2021?" + "in 2019" -> "... in 2019?"; with no time
    in it, the fragment added at the end."""
    text = prev_doc.text.rstrip(" ?.!")
    has_prep = fragment.split()[0].lower() in PREPOSITIONS
    dates = [e for e in prev_doc.ents if e.label_ == "DATE"]
    if dates:
        e = dates[-1]
        start, end = e.start_char, e.end_char
        before = prev_doc[e.start - 1] if e.start > 0 else None
        if has_prep and before is not None and before.lower_ in PREPOSITIONS:
            start = before.idx
        if end > len(text):
            end = len(text)
        return text[:start] + fragment + text[end:] + "?"
    return f"{text} {fragment if has_prep else 'in ' + fragment}?"


def _swap_modifier(prev_doc, fragment: str) -> str | None:
    """The previous question with the fragment's prepositional phrase in place of its own with the same
    preposition (not a time), or added at its end: "Which setting makes git fetch always prune?" +
    "for a single remote" -> "Which setting makes git fetch always prune for a single remote?"."""
    text = prev_doc.text.rstrip(" ?.!")
    prep = fragment.split()[0].lower()
    for t in prev_doc:
        if t.lower_ == prep and t.dep_ == "prep" and not any(x.ent_type_ in ("DATE", "TIME") for x in t.subtree):
            span = list(t.subtree)
            start, end = span[0].idx, span[-1].idx + len(span[-1].text)
            return (text[:start] + fragment + text[end:]).rstrip(" ?.!") + "?"
    return f"{text} {fragment}?"


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
        if rep and possessive and _code_literal(rep) and t.head.i > t.i:
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
