"""Typed facts taken from a document's sentences at build time: entities, figures, dates, relations.

Everything is read from spaCy's annotations kept on each sentence (entities, lemmas, the
dependency parse): a figure's relation is the noun phrase that governs it ("the total revenue for
the fourth quarter reached 85.6 billion yuan" -> attribute "total revenue", period Q4), its owner
the possessor or "of" phrase, or the organization last named when it is "its"/"the company".
"""
from __future__ import annotations

import datetime as dt

from . import quantities as qn
from .periods import _year_in, normalize, previous_year
from .records import Document, Fact, Sentence

ENTITY_KINDS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place",
                "PRODUCT": "product", "NORP": "group", "EVENT": "event", "WORK_OF_ART": "work"}
ANAPHORS = {"it", "its", "company", "firm", "group", "they", "their"}
DROP = {"DET", "PRON", "PUNCT"}


def strip_possessive(text: str) -> str:
    for s in ("\u2019s", "'s", "\u2019", "'"):
        if text.endswith(s):
            return text[: -len(s)]
    return text


def _ent_spans(s: Sentence):
    """(first token, last token + 1, label, text) of each entity of the sentence."""
    out = []
    for start, end, label in s.entities:
        idx = [k for k, t in enumerate(s.tokens) if t.start >= start and t.end <= end]
        if idx:
            out.append((idx[0], idx[-1] + 1, label, s.text[start - s.start:end - s.start]))
    return out


def extract_facts(doc: Document, units: list[Sentence], nlp=None) -> list[Fact]:
    """Entities, quantities, dates, relations and derived figures of one document."""
    base = dt.date.fromisoformat(doc.date) if doc.date else None
    orgs = {strip_possessive(t) for s in units for *_, label, t in _ent_spans(s) if label == "ORG"}
    facts: list[Fact] = []
    state = {"year": base.year if base else None, "org": None, "period": None, "paragraph": -1}
    entities: dict[tuple[str, str], Fact] = {}
    for s in units:
        if s.paragraph != state["paragraph"]:
            state["paragraph"], state["period"] = s.paragraph, None
        spans = _ent_spans(s)
        for i, j, label, text in spans:
            if label == "DATE" and (y := _explicit_year(text)):
                state["year"] = y
        for i, j, label, text in spans:
            if label in ENTITY_KINDS:
                name = strip_possessive(text)
                kind = ENTITY_KINDS[label]
                if label in ("PERSON", "NORP") and any(o.split()[0] in (name, name.split()[0]) for o in orgs):
                    kind = "organization"  # "Xiaomi" beside "Xiaomi Group"
                f = entities.setdefault((name, kind), Fact("entity", name, kind, name, {"mentions": []}, doc=doc.path,
                                                           start=s.start, end=s.end))
                f.normalized["mentions"].append([s.tokens[i].start, s.tokens[j - 1].end])
                if kind == "organization":
                    state["org"] = name
                if kind == "person":
                    state["person"] = name
        facts.extend(_sentence_facts(doc, s, spans, base, state))
    facts = list(entities.values()) + facts
    return facts + derive(facts)


def _explicit_year(text: str) -> int | None:
    return _year_in(text)


def _sentence_facts(doc: Document, s: Sentence, spans, base, state) -> list[Fact]:
    out: list[Fact] = []
    toks = s.tokens
    periods = [(i, j, normalize(text, base, state["year"]), text) for i, j, label, text in spans if label in ("DATE", "TIME")]
    sentence_period = next((p for _, _, p, _ in periods if p), None) or state["period"]
    if sentence_period:
        state["period"] = sentence_period
    changes = [(i, j, text) for i, j, label, text in spans if label == "PERCENT"]
    used_parens: set[int] = set()
    for n, (i, j, label, text) in enumerate(spans):
        where = dict(doc=doc.path, start=s.start, end=s.end)
        if label in ("DATE", "TIME"):
            p = next((p for a, b, p, _ in periods if a == i), None)
            out.append(Fact("date", text, "period", text, p, **where))
            rel = _relation(s, i, j, state)
            if rel and p:
                out.append(Fact("relation", rel[0], rel[1], text, p, unit="period", period=p, **where))
        elif label == "MONEY" and i not in used_parens:
            words = [t.text for t in toks[i:j]]
            amount = qn.money(words)
            if amount is None:
                continue
            value = {"amounts": [amount.as_dict()]}
            shown = text
            paren = _parenthetical(s, j, spans)
            if paren:
                pi, pj, ptext = paren
                used_parens.add(pi)
                other = qn.money([t.text for t in toks[pi:pj]])
                if other:
                    other.unit = other.unit or ("USD" if amount.unit != "USD" else None)
                    value["amounts"].append(other.as_dict())
                    shown = f"{text} ({'$' if other.unit == 'USD' and not ptext.startswith('$') else ''}{ptext})"
            out.append(Fact("quantity", "money", "amount", shown, value, unit=amount.unit, **where))
            out.extend(_figure_relation(s, i, j, shown, value, changes, periods, sentence_period, state, where))
        elif label == "PERCENT":
            amount = qn.percent([t.text for t in toks[i:j]])
            if amount:
                sign = qn.direction({t.lemma for t in toks[max(0, i - 4):j + 2]})
                out.append(Fact("quantity", "percent", "change" if sign else "share", text, amount.as_dict(), unit="%",
                                qualifier=_change_words(sign, s, i, j) if sign else None, **where))
        elif label in ("CARDINAL", "QUANTITY") and i not in used_parens:
            out.extend(_count_facts(s, i, j, text, sentence_period, state, where))
    for k, t in enumerate(toks):
        if t.text.lower() in ("once", "twice", "thrice"):
            verb = toks[_governor(s, k)]
            obj = next((toks[c].text for c, x in enumerate(toks) if x.head == t.head and x.dep == "dobj"), None)
            attr = f"times {verb.lemma}" + (f" {obj}" if obj else "")
            subj = _subject_of(s, _governor(s, k), state)
            out.append(Fact("quantity", "count", "times", t.text, {"value": qn.parse_number([t.text]), "unit": "times"},
                            unit="times", doc=doc.path, start=s.start, end=s.end))
            out.append(Fact("relation", subj, attr, t.text, {"value": qn.parse_number([t.text])}, unit="times",
                            doc=doc.path, start=s.start, end=s.end))
    out.extend(_person_relations(s, spans, state, dict(doc=doc.path, start=s.start, end=s.end)))
    return out


def _parenthetical(s: Sentence, j: int, spans):
    """The figure in brackets right after token j: "85.6 billion yuan (13.4 billion)"."""
    toks = s.tokens
    if j < len(toks) and toks[j].text == "(":
        for a, b, label, text in spans:
            if a in (j + 1, j + 2) and label in ("MONEY", "CARDINAL") and b < len(toks) + 1:
                return a, b, text
    return None


def _change_words(sign: int, s: Sentence, i: int, j: int) -> str:
    toks = s.tokens
    near = s.text[toks[max(0, i - 8)].start - s.start: toks[min(j + 6, len(toks) - 1)].end - s.start].lower()
    yoy = "year-on-year" in near or "year over year" in near or "yoy" in near or "year-over-year" in near
    return ("up" if sign > 0 else "down") + (" year on year" if yoy else "")


def _governor(s: Sentence, k: int) -> int:
    """The verb (or the root) that a token hangs from."""
    toks, seen = s.tokens, set()
    while toks[k].pos not in ("VERB", "AUX") and 0 <= toks[k].head < len(toks) and toks[k].head != k and k not in seen:
        seen.add(k)
        k = toks[k].head
    return k


def _phrase(s: Sentence, head: int, stop_dates: bool = True) -> tuple[str, str | None]:
    """(attribute, owner) of a noun: "Xiaomi Group's total revenue for the fourth quarter" -> ("total revenue",
    "Xiaomi Group"); "the R&D team of the Xiaomi Car project" -> ("R&D team", "Xiaomi Car project")."""
    toks = s.tokens
    left = head
    while left > 0 and toks[left - 1].head in (head, left) and toks[left - 1].dep in ("compound", "amod", "nmod", "nummod", "punct") and toks[left - 1].pos not in ("DET", "PRON"):
        left -= 1
    attr = " ".join(t.text for t in toks[left:head + 1])
    owner = None
    for c, t in enumerate(toks):
        if t.head == head and t.dep == "poss" and c != head:
            start = c
            while start > 0 and toks[start - 1].head == c and toks[start - 1].dep == "compound":
                start -= 1
            owner = strip_possessive(" ".join(x.text for x in toks[start:c + 1]))
        if t.head == head and t.dep == "prep" and t.text.lower() in ("of", "for") and c != head:
            obj = next((d for d, x in enumerate(toks) if x.head == c and x.dep == "pobj"), None)
            if obj is not None and toks[obj].ent not in ("DATE", "TIME"):
                a, _ = _phrase(s, obj)
                owner = owner or a
    return attr, owner


def _resolve(owner: str | None, state) -> str | None:
    if owner is None or owner.lower().split()[-1] in ANAPHORS:
        return state["org"]
    return owner


def _subject_of(s: Sentence, verb: int, state) -> str | None:
    toks = s.tokens
    for c, t in enumerate(toks):
        if t.head == verb and t.dep in ("nsubj", "nsubjpass") and c != verb:
            if t.text.lower() in ("i", "he", "she", "me", "him", "her") and state.get("person"):
                return state["person"]
            if t.pos == "PRON" or t.lemma in ANAPHORS:
                return _resolve(None, state)
            if t.ent == "PERSON" or t.pos == "PROPN":
                start = c
                while start > 0 and toks[start - 1].head == c and toks[start - 1].dep == "compound":
                    start -= 1
                return " ".join(x.text for x in toks[start:c + 1])
            attr, owner = _phrase(s, c)
            if owner is None:
                return _resolve(None, state) if t.lemma in ANAPHORS else attr
            return _resolve(owner, state)
    if 0 <= toks[verb].head < len(toks) and toks[verb].head != verb:
        return _subject_of(s, _governor(s, toks[verb].head), state)
    return state["org"]


def _relation(s: Sentence, i: int, j: int, state) -> tuple[str, str] | None:
    """(subject, attribute) of a date: "enter mass production in the first half of 2024" -> (org, "mass production")."""
    toks = s.tokens
    k = j - 1
    while toks[k].head != k and i <= toks[k].head < j:
        k = toks[k].head
    h = toks[k].head
    if not 0 <= h < len(toks) or h == k:
        return None
    if toks[h].pos == "ADP":
        h = toks[h].head
    if toks[h].pos == "NOUN":
        attr, owner = _phrase(s, h)
        return (_resolve(owner, state) or "", attr)
    v = _governor(s, h)
    obj = next((c for c, t in enumerate(toks) if t.head == v and t.dep in ("dobj", "attr") and c != v), None)
    if obj is None:
        prep = next((c for c, t in enumerate(toks) if t.head == v and t.dep == "prep" and not i <= c < j), None)
        obj = next((c for c, t in enumerate(toks) if prep is not None and t.head == prep and t.dep == "pobj" and not i <= c < j), None)
    attr = _phrase(s, obj)[0] if obj is not None else toks[v].lemma
    if any(ch.isdigit() for ch in attr):
        return None
    return (_subject_of(s, v, state) or "", attr)


def _in_subtree(toks, k: int, root: int) -> bool:
    seen = set()
    while k != root and k not in seen and 0 <= toks[k].head < len(toks):
        seen.add(k)
        k = toks[k].head
    return k == root


def _figure_relation(s: Sentence, i: int, j: int, shown: str, value, changes, periods, period, state, where) -> list[Fact]:
    v = _governor(s, j - 1)
    subj = next((c for c, t in enumerate(s.tokens) if t.head == v and t.dep in ("nsubj", "nsubjpass") and c != v), None)
    if subj is None:  # "According to X, the initial investment ... is $10 billion": parsed as an apposition
        subj = next((c for c in range(i - 1, -1, -1) if s.tokens[c].pos == "NOUN" and s.tokens[c].dep in ("appos", "attr")), None)
    if subj is None:
        return []
    if s.tokens[subj].pos == "PROPN" or s.tokens[subj].ent:
        owner = _subject_of(s, v, state)
        obj = next((d for d, x in enumerate(s.tokens) if x.dep == "pobj" and 0 <= x.head < len(s.tokens)
                    and s.tokens[x.head].dep == "prep" and s.tokens[x.head].head in range(i, j)), None)
        attr = _phrase(s, obj)[0] if obj is not None else s.tokens[v].lemma
    else:
        attr, owner = _phrase(s, subj)
        owner = _resolve(owner, state)
    own = [p for a, b, p, _ in periods if p and _in_subtree(s.tokens, b - 1, subj)]
    period = own[0] if own else period
    value = dict(value)
    qualifier = None
    if changes:
        a, b, ptext = changes[0]
        sign = qn.direction({t.lemma for t in s.tokens[max(0, a - 4):b + 2]})
        if sign:
            pct = qn.percent([t.text for t in s.tokens[a:b]])
            value["change"] = {"percent": sign * pct.value, "basis": "year on year" if "year" in _change_words(sign, s, a, b) else None}
            qualifier = f"{_change_words(sign, s, a, b).split(' year')[0]} {ptext}{' year on year' if 'year on year' in _change_words(sign, s, a, b) else ''}"
    return [Fact("relation", owner or "", attr, shown, value, unit=value["amounts"][0].get("unit"), period=period,
                 qualifier=qualifier, **where)]


def _count_facts(s: Sentence, i: int, j: int, text: str, period, state, where) -> list[Fact]:
    toks = s.tokens
    words = [t.text for t in toks[i:j]]
    n = qn.parse_number(words)
    if n is None:
        return []
    k = j - 1
    unit_tok = toks[k].head if toks[k].dep == "nummod" and 0 <= toks[k].head < len(toks) else None
    unit = toks[unit_tok].text if unit_tok is not None else None
    v = _governor(s, unit_tok if unit_tok is not None else k)
    qualifier = qn.qualifier_of(words) or qn.qualifier_of([toks[v].text]) or qn.qualifier_of([toks[i - 1].text] if i else [])
    value = {"value": n, "unit": unit, "qualifier": qualifier}
    out = [Fact("quantity", "count", "count", text, value, unit=unit, qualifier=qualifier, **where)]
    subj = next((c for c, t in enumerate(toks) if t.head == v and t.dep in ("nsubj", "nsubjpass") and c != v), None)
    if subj is not None and toks[subj].pos in ("NOUN", "PROPN"):
        attr, owner = _phrase(s, subj)
        if toks[v].lemma in ("exceed", "reach", "be", "have", "number", "total", "include"):
            out.append(Fact("relation", _resolve(owner, state) or "", f"{attr} size", text, value, unit=unit,
                            period=period or "now", qualifier=qualifier, **where))
    return out


def _conj_of(toks, k: int, root: int) -> bool:
    """Whether token k is joined to `root` by a chain of conjunctions."""
    seen = set()
    while toks[k].dep == "conj" and k not in seen:
        seen.add(k)
        k = toks[k].head
        if k == root:
            return True
    return False


def _person_relations(s: Sentence, spans, state, where) -> list[Fact]:
    """People in a role: "led by Lei Jun as CEO" -> (org, CEO, Lei Jun); "core members include A, B" -> (org, core members, A, B)."""
    toks, out = s.tokens, []
    people = [(i, j, strip_possessive(t)) for i, j, label, t in spans if label == "PERSON"]
    done = set()
    for i, j, name in people:
        if i in done:
            continue
        root = j - 1
        if toks[root].dep == "conj":
            continue
        group = [name] + [p for a, b, p in people if a > i and _conj_of(toks, b - 1, root)]
        done.update(a for a, b, p in people if p in group)
        head = toks[root].head
        role = None
        for c, t in enumerate(toks):
            if t.head in (root, head) and t.text.lower() == "as" and t.dep == "prep":
                obj = next((d for d, x in enumerate(toks) if x.head == c and x.dep == "pobj"), None)
                role = toks[obj].text if obj is not None else None
        v = _governor(s, root)
        if role is None and toks[root].dep in ("dobj", "attr", "pobj", "appos"):
            subj = next((c for c, t in enumerate(toks) if t.head == v and t.dep in ("nsubj", "nsubjpass") and c != v), None)
            if subj is not None and toks[subj].pos == "NOUN":
                role = _phrase(s, subj)[0]
        if role:
            value = ", ".join(group)
            out.append(Fact("relation", state["org"] or "", role, value, {"people": group, "verb": toks[v].lemma},
                            unit="person", **where))
    return out


def derive(facts: list[Fact]) -> list[Fact]:
    """Figures computed from stated ones, labelled as derived, with their formula: the prior year's
    value from a value and its year-on-year change (prior = value / (1 + change))."""
    out = []
    for n, f in enumerate(facts):
        ch = (f.normalized or {}).get("change") if isinstance(f.normalized, dict) else None
        if f.kind != "relation" or not ch or ch.get("basis") != "year on year" or not f.period:
            continue
        prior_period = previous_year(f.period)
        amounts = []
        for a in f.normalized["amounts"]:
            amounts.append({"value": a["value"] / (1 + ch["percent"] / 100), "unit": a.get("unit")})
        first = amounts[0]
        shown = f"about {_say(first['value'])} {_currency_word(first['unit'])}".strip()
        formula = f"{_say(f.normalized['amounts'][0]['value'])} / (1 + {ch['percent']:g}%) = {_say(first['value'])}"
        out.append(Fact("derived", f.subject, f.attribute, shown, {"amounts": amounts}, unit=first["unit"],
                        period=prior_period, qualifier="computed", doc=f.doc, start=f.start, end=f.end,
                        derived_from=[n], formula=formula))
        change = f.normalized["amounts"][0]["value"] - first["value"]
        out.append(Fact("derived", f.subject, f"{f.attribute} change", f"{'up' if change >= 0 else 'down'} about "
                        f"{_say(abs(change))} {_currency_word(first['unit'])}".strip(), {"amounts": [{"value": change, "unit": first["unit"]}]},
                        unit=first["unit"], period=f.period, qualifier="computed", doc=f.doc, start=f.start, end=f.end,
                        derived_from=[n], formula=f"{_say(f.normalized['amounts'][0]['value'])} - {_say(first['value'])} = {_say(change)}"))
    return out + _rest_of_year(facts)


def _rest_of_year(facts: list[Fact]) -> list[Fact]:
    """Differences of same-unit figures of one attribute and year: full year minus a quarter or half
    ("FY 2021" 328.3 billion - "Q4 2021" 85.6 billion = 242.7 billion for the rest of 2021)."""
    out = []
    money = [(n, f) for n, f in enumerate(facts) if f.kind == "relation" and f.period and isinstance(f.normalized, dict)
             and f.normalized.get("amounts")]
    for n, whole in money:
        if not whole.period.startswith("FY "):
            continue
        year = whole.period[3:]
        for m, part in money:
            if part.attribute.lower() != whole.attribute.lower() or not part.period.endswith(" " + year):
                continue
            if part.period[:1] not in ("Q", "H") or part.unit != whole.unit:
                continue
            a, b = whole.normalized["amounts"][0]["value"], part.normalized["amounts"][0]["value"]
            out.append(Fact("derived", whole.subject, whole.attribute, f"about {_say(a - b)} {_currency_word(whole.unit)}".strip(),
                            {"amounts": [{"value": a - b, "unit": whole.unit}]}, unit=whole.unit,
                            period=f"{year} excluding {part.period.split()[0]}", qualifier="computed", doc=whole.doc,
                            start=whole.start, end=whole.end, derived_from=[n, m], formula=f"{_say(a)} - {_say(b)} = {_say(a - b)}"))
    return out


def _say(v: float) -> str:
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if abs(v) >= scale:
            return f"{v / scale:.1f} {word}"
    return f"{v:.1f}"


def _currency_word(code: str | None) -> str:
    return {"CNY": "yuan", "USD": "dollars", "EUR": "euros", "GBP": "pounds", "JPY": "yen"}.get(code or "", code or "")
