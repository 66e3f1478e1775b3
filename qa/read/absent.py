"""Question words the documents never use: a question about something no document mentions."""
from __future__ import annotations

from ..periods import normalize
from ..question import Question
from ..records import Sentence


def words(sents: list[Sentence]) -> set[str]:
    """Every lemma and lower-cased form in `sents`: what a question word is matched against."""
    return {w for s in sents for t in s.tokens for w in (t.lemma, t.text.lower())}


def absent_share(q: Question, near: list[Sentence], idf: dict[str, float]) -> tuple[float, bool]:
    """The IDF-weighted share of the question's content words that are common nouns found nowhere in
    the index (verbs and adjectives are too often paraphrased to count), and whether its rarest word is
    among them and missing from `near` too."""
    if not q.terms:
        return 0.0, False
    have = words(near)
    unk = idf.get("<unk>", 5.0)
    weight = {l: idf.get(l, unk) for l, w in q.terms.items() if l != q.type_noun and not normalize(w, None)}
    weight = weight or {l: idf.get(l, unk) for l in q.terms}
    absent = {l for l in weight if l not in idf and q.terms[l].lower() not in idf and q.tags.get(l, "NN") in ("NN", "NNS")}
    rarest = max(weight, key=weight.get)
    return (sum(weight[l] for l in absent) / sum(weight.values()),
            rarest in absent and rarest not in have and q.terms[rarest].lower() not in have)
