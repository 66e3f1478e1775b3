"""How much of a question a sentence holds: shared words (by lemma) and spans of the wanted type."""
from __future__ import annotations

from .question import NEGATIONS, Question
from .records import Sentence

EXTRA_LABELS = {"COUNT"}


def words(sents: list[Sentence]) -> set[str]:
    """Every lemma and lower-cased form in `sents`: what a question word is matched against."""
    return {w for s in sents for t in s.tokens for w in (t.lemma, t.text.lower())}


def question_words(q: Question) -> set[str]:
    return set(q.terms) | {w.lower() for w in q.terms.values()}


def coverage(q: Question, sents: list[Sentence], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's content words found (by lemma or form) in `sents`;
    the wh-phrase's own noun ("times" in "how many times") counts half."""
    if not q.terms:
        return 1.0
    have = words(sents)
    total = got = 0.0
    for lemma, surface in q.terms.items():
        w = idf.get(lemma, idf.get("<unk>", 5.0)) * (0.5 if lemma == q.type_noun else 1.0)
        total += w
        got += w * (lemma in have or surface.lower() in have)
    return got / total if total else 1.0


def has_wanted_span(q: Question, sent: Sentence) -> float:
    """1 when the sentence holds an entity of the answer type the question wants (first choice),
    0.5 for a second choice, else 0; an entity the question itself names does not count."""
    named = {t.lower() for t, _ in q.entities}
    best = 0.0
    labels = [(s, e, l) for s, e, l in sent.entities]
    labels += [(t.start, t.end, "COUNT") for t in sent.tokens if t.text.lower() in ("once", "twice", "thrice")]
    for s, e, label in labels:
        if label in q.wanted[:2] and sent.text[s - sent.start:e - sent.start].lower() not in named:
            best = max(best, 1.0 if label == q.wanted[0] else 0.5)
    return best


def missing(q: Question, sents: list[Sentence], idf: dict[str, float]) -> dict[str, float]:
    """Signs that the documents lack what the question is about: the IDF-weighted share of its words
    that are common nouns found nowhere in the index (verbs and adjectives are too often paraphrased
    to count), and whether its rarest word is among them and missing from `sents`."""
    if not q.terms:
        return {"absent": 0.0, "rarest_missing": 0.0}
    have = words(sents)
    unk = idf.get("<unk>", 5.0)
    from .periods import normalize

    weight = {l: idf.get(l, unk) for l, w in q.terms.items() if l != q.type_noun and not normalize(w, None)} or {l: idf.get(l, unk) for l in q.terms}
    absent = {l for l in weight if l not in idf and q.terms[l].lower() not in idf and q.tags.get(l, "NN") in ("NN", "NNS")}
    rarest = max(weight, key=weight.get)
    return {"absent": sum(weight[l] for l in absent) / sum(weight.values()),
            "rarest_missing": float(rarest in absent and rarest not in have and q.terms[rarest].lower() not in have)}


def checks(q: Question, sents: list[Sentence], question_tokens: list[str]) -> dict[str, float]:
    """Is what the question names really there? Its named entities and numbers (by text), its
    content-word pairs in order (a swapped relation breaks them), and negation on one side only
    (a sentence that does not say "not" cannot answer a question that does)."""
    text = " ".join(s.text for s in sents).lower()
    ents = [t.lower() for t, label in q.entities if label not in ("DATE", "TIME", "ORDINAL")]
    nums = [w for w in question_tokens if any(c.isdigit() for c in w)]
    lemmas = [t.lemma for s in sents for t in s.tokens]
    have = set(zip(lemmas, lemmas[1:])) | set(zip(lemmas, lemmas[2:]))
    terms = list(q.terms)
    pairs = list(zip(terms, terms[1:]))
    q_neg = q.negated
    s_neg = any(t.text.lower() in NEGATIONS for s in sents for t in s.tokens)
    return {**swaps(q, sents),
            "ent_missing": sum(e not in text for e in ents) / len(ents) if ents else 0.0,
            "num_missing": sum(n.lower() not in text for n in nums) / len(nums) if nums else 0.0,
            "pair_cover": sum(p in have for p in pairs) / len(pairs) if pairs else 0.5,
            "neg_q_only": float(q_neg and not s_neg), "neg_s_only": float(s_neg and not q_neg)}


FIGURES = {"DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY", "ORDINAL"}


def swaps(q: Question, sents: list[Sentence]) -> dict[str, float]:
    """A name or figure of the question missing from the sentences, where they hold another of the same
    kind the question does not name ("1945" asked, "1944" written): a question about something else."""
    text = " ".join(s.text for s in sents).lower()
    asked = q.text.lower()
    held: dict[str, set[str]] = {}
    for s in sents:
        for a, b, label in s.entities:
            held.setdefault(label, set()).add(s.text[a - s.start:b - s.start].lower())
    out = {"name_swap": 0.0, "num_swap": 0.0}
    for name, label in q.entities:
        if name.lower() not in text and any(e not in asked for e in held.get(label, ())):
            out["num_swap" if label in FIGURES else "name_swap"] = 1.0
    return out


def word_class(tag: str) -> str:
    """A coarse class of a Penn tag: what kind of change a missing question word suggests."""
    if tag in ("NNP", "NNPS"):
        return "propn"   # a swapped name
    if tag == "CD":
        return "num"
    if tag in ("JJS", "JJR", "RBS", "RBR"):
        return "degree"  # "largest" for "smallest"
    if tag[:2] in ("JJ", "RB"):
        return "adj"
    return "verb" if tag.startswith("VB") else "noun"


def unmatched(q: Question, sentence: Sentence, window: list[Sentence], paragraph: list[Sentence],
              idf: dict[str, float]) -> dict[str, float]:
    """The question's words the answer's sentence, its window and its paragraph do not hold, by kind of
    word and IDF-weighted; and those the documents hold elsewhere (an entity moved in from another passage)."""
    unk = idf.get("<unk>", 5.0)
    terms = {l: w.lower() for l, w in q.terms.items() if l != q.type_noun}
    total = sum(idf.get(l, unk) for l in terms) or 1.0
    places = {"S": words([sentence]), "W": words(window), "P": words(paragraph)}
    f: dict[str, float] = {"n_terms": min(len(terms), 10) / 10,
                           "q_degree": float(any(word_class(t) == "degree" for t in q.tags.values()))}
    missing_in_sentence = []
    for lemma, low in terms.items():
        w = idf.get(lemma, unk) / total
        kind = word_class(q.tags.get(lemma, "NN"))
        for place, have in places.items():
            if lemma not in have and low not in have:
                f[f"miss{place}_{kind}"] = f.get(f"miss{place}_{kind}", 0.0) + w
                if place == "S":
                    missing_in_sentence.append(idf.get(lemma, unk))
                if place == "P":
                    f["missP_n"] = f.get("missP_n", 0.0) + 1
                    if lemma in idf or low in idf:
                        f["elsewhere"] = f.get("elsewhere", 0.0) + w
    rarest = max((idf.get(l, unk) for l in terms), default=1.0) or 1.0
    f["missS_max"] = max(missing_in_sentence, default=0.0) / rarest
    f["missS_n"] = min(len(missing_in_sentence), 5) / 5
    return f
