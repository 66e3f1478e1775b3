"""Reading: a question and its fused candidates in; the answer, its evidence and its confidence out.

The neural reader reads the first candidates; the reranker orders them by what the reader found; the
top one's span, said as a person would, is the answer, unless a stored fact whose sentence the reader
also ranks near the top says it better; the confidence model decides whether to abstain.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field

from ..config import Settings
from ..lookup import best_fact, period_fits, question_period, say_fact
from ..question import Question
from ..records import PATH_SEPARATOR, PROSE_KINDS, Fact, Hit, Surroundings
from ..spans import reference_number
from .absent import absent_share
from .cause import agent_span
from .checks import NOT_SAID, OK, OPPOSED, Asked, Candidate, asked, check
from .combine import candidate_features, confidence, confidence_features, rerank_scores, weights
from .literal import literal_answer, term_of
from .reader import default_reader
from .say import is_yes_no, say, widen_to_entity
from .typed import fit, is_typed, typed_choice

POINTER = re.compile(r"^\s*(?:see(?: also)?|refer to|for (?:more )?(?:details|information),? see)\b(?:[^.;:]|\.(?=\S)){0,120}\.?\s*$", re.I)
STAND_IN_MARGIN = 6.0  # a candidate within this (reranker logit) of one whose spans all failed the checks answers
ECHO = "the best span is the question's own figure"
PAGE_MARGIN = 3.0  # a yes/no question's named page answers within this (reranker logit) of the best candidate
RIVAL_MARGIN = 1.0  # another document's candidate within this (reranker logit) of the best answers too
FACT_MARGIN = 1.0  # a fact's sentence must score within this (reranker logit) of the best candidate,
FACT_MARGIN_NAMED_PERIOD = 2.0  # or within this when the question names the fact's own period ("for 2021")


@dataclass
class Read:
    """What the reading stage makes of one question."""

    text: str | None
    abstained: bool
    confidence: float
    hits: list[Hit]                          # reranked; the answer's sentence first
    evidence: tuple[int, int] | None = None  # document offsets of the words the answer stands on
    facts: list[Fact] = field(default_factory=list)
    features: dict = field(default_factory=dict)
    others: list[dict] = field(default_factory=list)  # what other documents say: {"answer", "doc", "date"}
    reason: str | None = None  # why it abstained, or why the reader's first choice was passed over


@dataclass
class Readings:
    """The reader's scores for the candidates it read, in fused order."""

    span_scores: list[float]
    answers: list[float]
    nulls: list[float]
    alternatives: list[list[tuple[int, int, float]]] = field(default_factory=list)  # each one's n best spans
    contexts: list[tuple[str, str]] = field(default_factory=list)  # what was read before and after each


def read_candidates(questions: list[Question], hits: list[list[Hit]], near: list[Surroundings], n: int,
                    reader) -> list[Readings]:
    """The reader over the first n candidates of every question, in one batched call."""
    qs, cands, before, after, owner = [], [], [], [], []
    for qi, (q, hs, around) in enumerate(zip(questions, hits, near)):
        for h in hs[:n]:
            prev, nxt = around.around(h.sentence)
            qs.append(q.text)
            cands.append(h.sentence.text)
            before.append(context_before(around, h.sentence, prev))
            after.append(nxt.text if nxt else "")
            owner.append(qi)
    out = [Readings([], [], [], [], []) for _ in questions]
    for qi, r, b, a in zip(owner, reader.read(qs, cands, before, after) if qs else [], before, after):
        out[qi].span_scores.append(r.span)
        out[qi].answers.append(r.answers)
        out[qi].nulls.append(r.null)
        out[qi].alternatives.append(r.alternatives)
        out[qi].contexts.append((b, a))
    return out


def context_before(near: Surroundings, s, prev) -> str:
    """What the reader reads before a candidate: the sentence before it, after the path of headings
    and terms it stands under where it is a term's description ("the default" in an option's
    description is the default of that option)."""
    text = prev.text if prev is not None else ""
    speaker = _speaker_before(near, s, prev)
    if speaker is not None:  # "I have visited Musk twice": who "I" is, said a few sentences before
        text = f"{speaker.text} {text}"
    if s.section and PATH_SEPARATOR in s.section and s.kind in PROSE_KINDS and term_of(near, s, literal_only=False) is not None:
        if prev is not None and prev.kind == "term":
            text = ""  # the path ends with it already
        return f"{s.section}: {text}" if text else s.section
    return text


SPEAKS = re.compile(r"^\s*[\u201c\"]|^\s*(?:He|She)\b")  # a quotation, or a sentence about someone named before
FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|we|my|our|me)\b")


def _speaker_before(near: Surroundings, s, prev):
    """The unit a few before `s` that names the person `s` quotes in the first person or calls "he" or
    "she", where the unit just before names no one (None where it does, or none is found)."""
    if not SPEAKS.match(s.text) or (s.text.lstrip()[:1] in "\u201c\"" and not FIRST_PERSON.search(s.text)):
        return None
    person = lambda u: any(t.ent == "PERSON" for t in u.tokens)  # noqa: E731
    if prev is None or person(prev):
        return None
    for k in range(2, Surroundings.SPEAKER + 1):
        u = near.unit(s.id - k)
        if u is None or u.doc != s.doc:
            return None
        if person(u):
            return u
    return None


def terms_as_descriptions(near: Surroundings, hits: list[Hit], n: int) -> list[Hit]:
    """A term (an option, a FAQ's question) found among the first n candidates stands for its
    description: the description's first sentence is read in its place (the term is what a
    description's sentences are about, and the reader reads it there as context)."""
    out, seen = [], {h.sentence.id for h in hits}
    for i, h in enumerate(hits):
        if i < n and h.sentence.kind == "term":
            _, nxt = near.around(h.sentence)
            if nxt is not None and nxt.section == h.sentence.section and nxt.kind in PROSE_KINDS:
                if nxt.id not in seen:
                    out.append(Hit(nxt, h.score, h.dense, h.lexical, h.signals))
                    seen.add(nxt.id)
                continue
        out.append(h)
    return out


def read_batch(questions: list[Question], hits: list[list[Hit]], near: list[Surroundings], cfg: Settings,
               reader=None) -> list[Read]:
    """One Read per question; `hits` are each question's fused candidates, best first, and `near`
    what the documents hold around them (`qa.retrieve.surroundings`)."""
    if reader is None:
        reader = default_reader()
    hits = [terms_as_descriptions(around, hs, cfg.read_candidates) for around, hs in zip(near, hits)]
    readings = read_candidates(questions, hits, near, cfg.read_candidates, reader)
    return [read_one(around, q, hs, r, cfg) for around, q, hs, r in zip(near, questions, hits, readings)]


def question_words(q: Question) -> list[str]:
    """The question's words whose statistics reading weighs (`absent_share`): each lemma and its form."""
    return list(dict.fromkeys([*q.terms, *(w.lower() for w in q.terms.values())]))


def read_one(near: Surroundings, q: Question, hits: list[Hit], r: Readings, cfg: Settings, w: dict | None = None) -> Read:
    """The answer to one question from its candidates and the reader's scores; `w` overrides the
    combiners' weights (scripts/train_answer.py scores held-out folds with it)."""
    w = w or weights()
    if not r.answers:
        return Read(None, True, 0.0, hits)
    n = len(r.answers)
    read = hits[:n]
    wanted = asked(q) if not is_yes_no(q.text) else None  # what the question asks, read once
    rows, choices, refusals = candidate_rows(q, read, r, wanted)
    scores = rerank_scores(rows, w["rerank"])
    # a section's heading names what its sentences are about, a cross-reference ("See git-push(1) for
    # details.") where they are: either answers only where nothing else was read; a candidate with no
    # span that answers the question (every one of its spans failed a check) answers only after them
    order = sorted(range(n), key=lambda i: (read[i].sentence.kind == "heading" or bool(POINTER.match(read[i].sentence.text)),
                                            -scores[i]))
    best, reason = order[0], refusals[order[0]]
    if choices[best][0] is None and not (reason == ECHO or (reason or "").startswith((NOT_SAID, OPPOSED))):
        # its spans all failed the checks: the best other candidate with a span that passes answers in
        # its place (or none does); a candidate whose span is the question's own figure, or that says
        # what is where the question asks what is not, or the opposite of what it asks, says that the
        # documents hold something like the answer, not it (no stand-in: another passage's "not" or
        # "last" is rarely about the same thing)
        best = next((i for i in order if choices[i][0] is not None and scores[i] >= scores[best] - STAND_IN_MARGIN), best)
        order = [best] + [i for i in order if i != best]
    if is_yes_no(q.text):
        best = _on_the_named_page(q, read, scores, best, choices)
        order = [best] + [i for i in order if i != best]
    top = read[best].sentence
    absent, rarest_missing = absent_share(q, [top, *near.neighbours(top)], near.idf)
    unseen = absent >= cfg.absent_abstain and rarest_missing
    if unseen:
        reason = "the documents never say a word the question turns on"
    yes_no = is_yes_no(q.text)
    g = confidence_features(rows, scores, best, q.qtype, yes_no)
    conf = confidence(g, w["confidence"])
    floor = min(scores) - 1.0
    for i, h in enumerate(read):
        h.score = scores[i]
    for j, h in enumerate(hits[n:]):
        h.score = floor - 0.01 * j
    ranked = [read[i] for i in order] + hits[n:]
    cutoff = cfg.abstain_below if cfg.abstain_below is not None else w["threshold"]
    agent = agent_span(q, top.text)  # "What helped ...?" answered by the passive's "helped by X", not a fact
    fact, first = _agreed_fact(near, q, ranked, read, scores[best]) if agent is None else (None, None)
    if fact is not None and not _fact_passes(wanted, fact, first, read, r):
        fact = None
    if fact is not None and not unseen:
        i = read.index(first)
        conf_f = confidence(confidence_features(rows, scores, i, q.qtype, yes_no), w["confidence"])
        if conf_f >= cutoff:
            facts = [fact] + _facts_by_number(near, fact.derived_from or [])
            return Read(say_fact(fact, q.qtype), False, conf_f, [first] + [h for h in ranked if h is not first],
                        (fact.start, fact.end), facts, {**g, "fact": fact.id})
    s, e, _, _ = choices[best]
    if agent is not None:
        s, e = agent
    if s is None:
        return Read(None, True, conf, ranked, None, [], g, reason=reason or refusals[best] or "the reader found no answer in the passages")
    text, s, e = say(q.text, q.qtype, q.plural, top, s, e, near.date_of(top.doc) or near.dateline)
    if top.kind not in PROSE_KINDS and text:
        fuller = _fuller_in_body(near, q, text, read, scores, best, choices)
        if fuller is not None:
            i, text, s, e = fuller
            top = read[i].sentence
            ranked = [read[i]] + [h for h in ranked if h is not read[i]]
    evidence = (top.start + s, top.start + e)
    literal = literal_answer(near, q.text, top, s, e) if text else None
    if literal is not None:
        text, evidence = literal.text, (literal.unit.start + literal.start, literal.unit.start + literal.end)
        if literal.cited.id != top.id:  # the sentence that says what the literal is, cited first
            cited = next((h for h in ranked if h.sentence.id == literal.cited.id), None) or Hit(literal.cited, ranked[0].score)
            ranked = [cited] + [h for h in ranked if h is not cited]
    abstain = (conf < cutoff and not (literal is not None and literal.named)) or unseen or not text
    if abstain and not unseen:
        reason = f"confidence {conf:.2f} is below {cutoff:.2f}" + (f" (passed over: {reason})" if reason else "")
    result = Read(None if abstain else text, abstain, conf, ranked, evidence, [], g, reason=reason)
    return result if abstain else _newest_first(near, q, result, read, scores, best, choices)


def _fuller_in_body(near: Surroundings, q: Question, text: str, read: list[Hit], scores: list[float], best: int,
                    choices: list[tuple]) -> tuple[int, str, int, int] | None:
    """A headline or heading says things short ("will start mass production in 2024"); where a
    sentence of the same document, read and scored near it, says the same answer more fully ("in the
    first half of 2024"), that sentence answers: (its candidate, the answer, its span)."""
    top = read[best].sentence
    words = re.compile(r"(?<!\w)" + re.escape(text.lower()) + r"(?!\w)")
    for i in sorted(range(len(read)), key=lambda i: -scores[i]):
        h = read[i].sentence
        if i == best or h.doc != top.doc or h.kind not in PROSE_KINDS or choices[i][0] is None:
            continue
        if scores[i] < scores[best] - RIVAL_MARGIN:
            break
        said, s, e = say(q.text, q.qtype, q.plural, h, choices[i][0], choices[i][1], near.date_of(h.doc) or near.dateline)
        if said and len(said) > len(text) and words.search(said.lower()):
            return i, said, s, e
    return None


def page_name(title: str | None) -> list[str]:
    """The words of the name a page is titled by: "git-credential-store(1) Manual Page" -> [git,
    credential, store]; a title with no such name (a headline) is named by all its words."""
    name = re.split(r"\(|\s[-|\u2013\u2014:]\s", title or "", maxsplit=1)[0]
    return re.findall(r"[a-z0-9]+", name.lower())


def _on_the_named_page(q: Question, read: list[Hit], scores: list[float], best: int, choices: list[tuple]) -> int:
    """A yes/no question says what it is about, and "yes" or "no" is true only of that: where it names
    a page by its title's name ("Does git credential-store encrypt ...?") and the best candidate stands
    on another page ("All of these store credentials in an encrypted store", of other helpers), that
    page's best candidate within PAGE_MARGIN answers instead."""
    asked = " " + " ".join(re.findall(r"[a-z0-9]+", q.text.lower())) + " "
    named = lambda h: bool(page_name(h.sentence.title)) and f" {' '.join(page_name(h.sentence.title))} " in asked  # noqa: E731
    if named(read[best]):
        return best
    return next((i for i in sorted(range(len(read)), key=lambda i: -scores[i])
                 if named(read[i]) and choices[i][0] is not None and scores[i] >= scores[best] - PAGE_MARGIN), best)


def _newest_first(near: Surroundings, q: Question, result: Read, read: list[Hit], scores: list[float], best: int,
                  choices: list[tuple]) -> Read:
    """Where another document's candidate answers nearly as well, both are shown, the newer document's
    first (by publication date) and its answer given; what the other says is kept in `others`."""
    top = read[best].sentence
    rival = next((i for i in sorted(range(len(read)), key=lambda i: -scores[i])
                  if i != best and read[i].sentence.doc != top.doc and choices[i][0] is not None
                  and scores[i] >= scores[best] - RIVAL_MARGIN), None)
    if rival is None:
        return result
    other = read[rival].sentence
    mine, theirs = near.date_of(top.doc), near.date_of(other.doc)
    if mine is None or theirs is None:  # undated documents: nothing says which is current
        return result
    s, e, _, _ = choices[rival]
    text, s, e = say(q.text, q.qtype, q.plural, other, s, e, theirs or near.dateline)
    if not text:
        return result
    cited = result.hits[0]  # the answer's sentence (read[best], or the one a literal answer cites)
    rest = [h for h in result.hits if h is not cited and h is not read[rival]]
    if theirs > mine:
        said = {"answer": result.text, "doc": top.doc, "date": mine.isoformat()}
        return Read(text, False, result.confidence, [read[rival], cited] + rest, (other.start + s, other.start + e),
                    [], result.features, [said])
    said = {"answer": text, "doc": other.doc, "date": theirs.isoformat()}
    return Read(result.text, False, result.confidence, [cited, read[rival]] + rest, result.evidence, result.facts,
                result.features, [said])


FIGURE = re.compile(r"\d")
PARENTHESES = re.compile(r"\s*\([^()]*\)")


def echoes_a_figure(question: str, span: str) -> bool:
    """A span with a figure that the question already says, word for word ("30,000" for "How many of
    the 30,000 staff are paid hourly?", "£420 million ($533 million)" for a question about "the £420
    million loan"): no answer, but the reader's pick where the sentence holds none. Of the 87,611
    answers of SQuAD's training set, 7 are such a span (several of them annotation slips); an answer
    that repeats the question's words without a figure ("Bern Airport") is common and kept, and so is
    a figure that only shares a number with one of the question's ("10 years" after "$10 billion")."""
    said = " ".join(PARENTHESES.sub("", span).lower().split()).strip(" .,;:")
    asked = " ".join(question.lower().split())
    # the whole figure: "10" is not the question's "$10 billion"
    whole = r"(?<![\w$£€¥])" + re.escape(said) + r"(?![\w%]|\s+(?:thousand|million|billion|trillion|bn|m)\b)"
    return bool(FIGURE.search(said)) and re.search(whole, asked) is not None


def candidate_rows(q: Question, read: list[Hit], r: Readings,
                   wanted: Asked | None = None) -> tuple[list[dict[str, float]], list[tuple], list[str | None]]:
    """The combiners' features of each read candidate, its chosen span (start, end, score, fit), and
    why its reader's first span was refused (None where it was not)."""
    alternatives = [[a for a in alts if not reference_number(h.sentence.text, a[0], a[1])] or alts
                    for h, alts in zip(read, r.alternatives)]
    if wanted is None and not is_yes_no(q.text):
        wanted = asked(q)
    contexts = r.contexts or [("", "")] * len(read)
    picked = [checked_choice(q, wanted, h, alts, ctx) if alts else ((None, None, sc, 0.0), None)
              for h, alts, sc, ctx in zip(read, alternatives, r.span_scores, contexts)]
    choices = [c for c, _ in picked]
    rows = candidate_features(r, [c if c[0] is not None else (None, None, sc, 0.0) for c, sc in zip(choices, r.span_scores)],
                              [h.score for h in read], [h.dense for h in read],
                              [h.sentence.kind not in PROSE_KINDS for h in read], is_typed(q.qtype))
    return rows, choices, [why for _, why in picked]


def checked_choice(q: Question, wanted: Asked | None, h: Hit, alts: list[tuple[int, int, float]],
                   context: tuple[str, str]) -> tuple[tuple, str | None]:
    """The candidate's span that answers the question: the reader's choice among its n best (the
    question's kind preferred within a few logits), or the best of the others that passes the
    checks; ((None, None, score, 0), reason) where none does. A span that is the question's own figure
    answers nothing ("$533 million" for a question about "the £420 million loan")."""
    first = typed_choice(h.sentence, alts, q.qtype)
    if echoes_a_figure(q.text, h.sentence.text[first[0]:first[1]]):
        return (None, None, alts[0][2], 0.0), ECHO  # its other spans are its parts
    reason = None
    for s, e, sc, ft in [first] + [(s, e, sc, None) for s, e, sc in alts if (s, e) != first[:2]]:
        verdict = check(wanted, Candidate(h.sentence, *widen_to_entity(h.sentence, s, e), *context)) if wanted else OK
        if verdict.ok and not echoes_a_figure(q.text, h.sentence.text[s:e]):
            return (s, e, sc, ft if ft is not None else fit(h.sentence, s, e, q.qtype)), reason
        reason = reason or verdict.reason or "the span is the question's own figure"
    return (None, None, alts[0][2], 0.0), reason


def _fact_passes(wanted: Asked | None, fact: Fact, first: Hit, read: list[Hit], r: Readings) -> bool:
    """A stored fact answers only where its value passes the checks a span must pass ("Git" is no
    maintainer of Git)."""
    at = first.sentence.text.find(fact.value)
    if at < 0 or wanted is None:
        return True
    i = read.index(first)
    before, after = r.contexts[i] if r.contexts else ("", "")
    return check(wanted, Candidate(first.sentence, at, at + len(fact.value), before, after)).ok


def _facts_by_number(near: Surroundings, numbers: list[int]) -> list[Fact]:
    """Facts by their 0-based number in the store (what `derived_from` holds), in the order given."""
    return [near.derived[k] for k in numbers if k in near.derived]


def _agreed_fact(near: Surroundings, q: Question, ranked: list[Hit], read: list[Hit], best_score: float) -> tuple[Fact | None, Hit | None]:
    """A stored fact that answers the question and its sentence's hit, only where the reader read
    that sentence and ranks it near the best (so only the read sentences' facts are looked up)."""
    asked = question_period(q, near.dateline)
    fact = best_fact(q, near.facts_about(read), ranked, near.dateline)
    if fact is None:
        return None, None
    h = next((h for h in read if h.sentence.doc == fact.doc and h.sentence.start == fact.start), None)
    named = period_fits(asked, fact.period) >= 1.0
    if h is None or h.score < best_score - (FACT_MARGIN_NAMED_PERIOD if named else FACT_MARGIN):
        return None, None
    return fact, h
