"""The phrases of a parsed question that a follow-up refers to (its topic, the named thing it asks
about) and the fragments that replace one of them ("And the year before?", "And in 2019?", "And the
net profit?", "Over how many years?"): the previous question said again with the fragment in place."""
from __future__ import annotations

import re

from .lexical import LITERAL

WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
# words before an option that are not the command it belongs to ("What does git clone --jobs set?")
NOT_COMMAND = WH | {"do", "does", "did", "is", "are", "was", "were", "can", "could", "should", "will", "would", "has",
                    "have", "the", "a", "an", "of", "for", "in", "on", "with", "to", "and", "or", "use", "pass", "give",
                    "option", "options", "flag", "setting", "i", "you", "we"}
NAMED = {"ORG", "PRODUCT", "WORK_OF_ART", "FAC", "GPE", "LOC", "EVENT", "LAW", "NORP"}


def has_verb(doc) -> bool:
    return any(t.pos_ in ("VERB", "AUX") for t in doc)


def topic_head(doc):
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


def topic_phrase(doc) -> str | None:
    """The topic with what hangs on it: "the revenue for 2021", "Northgate Athletic's loss before tax"."""
    head = topic_head(doc)
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


def code_literal(text: str):
    """The first option or dotted name in `text` (a match of LITERAL), leaving out abbreviations made of
    single letters ("U.S.", "e.g."), which name no option or setting."""
    return next((m for m in LITERAL.finditer(text) if not all(len(part) == 1 for part in m.group().split("."))), None)


def named_thing(doc) -> str | None:
    """The named thing (an organization, a product, a place, a name-like noun such as "git
    credential-cache") the question asks about, or None: the first one named, whole. An option or a
    dotted name is the thing asked about, with the command it is given to ("git clone --jobs")."""
    literal = code_literal(doc.text)
    if literal:  # the whole word it is part of ("Android/Filecoder.C", "--depth=<depth>")
        start = doc.text.rfind(" ", 0, literal.start()) + 1
        end = doc.text.find(" ", literal.end())
        word = doc.text[start:end if end >= 0 else len(doc.text)].rstrip("?.,;:!")
        words = doc.text[:start].split()
        command = []
        while words and len(command) < 3 and re.fullmatch(r"[a-z][\w.-]*", words[-1]) and words[-1] not in NOT_COMMAND:
            command.insert(0, words.pop())
        return " ".join(command + [word])
    found = [(e.start, -(e.end - e.start), bare(e.text)) for e in doc.ents if e.label_ in NAMED]
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


def bare(name: str) -> str:
    """A name without the possessive it was found with ("Marta Sousa's" -> "Marta Sousa")."""
    return re.sub(r"(?:'s|’s|')$", "", name.strip())


def ask_again(prev_doc, fragment: str, answer: str | None) -> str | None:
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


def is_name(text: str, nlp) -> bool:
    """Whether an answer names something ("University and College Union", "Android/Filecoder.C") rather
    than saying an amount, a time or a phrase."""
    words = text.split()
    if not words or len(words) > 8 or any(ch.isdigit() for ch in text[:1]):
        return False
    if len(words) == 1 and ((code_literal(text) and LITERAL.fullmatch(text)) or re.fullmatch(r"[~.$]?[\w.$-]*/[\w./$-]+", text)):
        return True  # an option, a dotted setting or a path ("~/.git-credentials") names one thing
    if any(e.label_ in ("DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY", "ORDINAL", "PERSON")
           for e in nlp(text).ents):
        return False
    caps = [w for w in words if w[:1].isupper() or any(c.isupper() for c in w[1:])]
    return len(caps) >= max(1, len([w for w in words if len(w) > 3]) // 2 + (len(words) > 3))


def swap_topic(prev_doc, new_topic: str) -> str | None:
    """The previous question with its topic noun phrase replaced: "What was the revenue for 2021?"
    + "the adjusted net profit" -> "What was the adjusted net profit for 2021?"."""
    head = topic_head(prev_doc)
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


def swap_time(prev_doc, fragment: str) -> str | None:
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


def swap_modifier(prev_doc, fragment: str) -> str | None:
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
