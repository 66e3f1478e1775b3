"""BM25 over sentences (bm25s, Lucene variant, k1=1.5, b=0.75), built at build time and memory-mapped at
load; typo-tolerant query words."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d[\d,.]*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _bm25s():
    """bm25s, imported without scipy unless something already imported it: bm25s imports scipy.sparse
    only to build its matrix faster (its numpy path gives the same matrix), and scipy costs a third of
    a second at every start. scipy is hidden only while bm25s looks for it."""
    import sys

    if "bm25s" in sys.modules or "scipy" in sys.modules:
        import bm25s

        return bm25s
    sys.modules["scipy"] = None  # type: ignore[assignment]  # makes `import scipy.sparse` raise ImportError
    try:
        import bm25s
    finally:
        del sys.modules["scipy"]
    return bm25s


def _tokenize(texts: list[str], **kw):
    return _bm25s().tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False, **kw)


class Lexical:
    """A BM25 index of texts; `scores` gives every text's BM25 score for a query."""

    def __init__(self, retriever, n: int):
        self.retriever = retriever
        self.n = n

    @classmethod
    def build(cls, texts: list[str]) -> "Lexical":
        retriever = _bm25s().BM25(k1=1.5, b=0.75)
        retriever.index(_tokenize(texts or [""]), show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path, n: int) -> "Lexical":
        """The saved index, its score matrix memory-mapped: opening costs the vocabulary alone."""
        return cls(_bm25s().BM25.load(str(folder), mmap=True), n)

    def scores(self, query: str) -> np.ndarray:
        toks = _tokenize([query], return_ids=False)[0]
        if not toks:
            return np.zeros(self.n, dtype="float32")
        return np.asarray(self.retriever.get_scores(toks), dtype="float32")[: self.n]


def text_words(texts: Iterable[str]) -> set[str]:
    """Every word of `texts`, lower-cased: the vocabulary typos are corrected against."""
    return {w.lower() for t in texts for w in WORD.findall(t)}


def correct(question: str, known: Callable[[list[str]], set[str]], vocabulary: Callable[[], list[str]]) -> str:
    """The question with words absent from the documents replaced by their closest document word
    ("prodution" -> "production"): Levenshtein ratio >= 85 over words of five letters or more.
    `known` says which of some words the documents use; `vocabulary` lists them all (read only when a
    word is unknown)."""
    candidates = [m.group(0) for m in WORD.finditer(question)]
    candidates = [w for w in candidates if len(w) >= 5 and not w[0].isupper() and not w[0].isdigit()]
    if not candidates:
        return question
    have = known([w.lower() for w in candidates])
    missing = {w for w in candidates if w.lower() not in have}
    if not missing:
        return question
    from rapidfuzz import fuzz, process

    words = vocabulary()

    def fix(m: re.Match) -> str:
        w = m.group(0)
        if w not in missing:
            return w
        best = process.extractOne(w.lower(), words, scorer=fuzz.ratio, score_cutoff=85)
        return best[0] if best else w

    return WORD.sub(fix, question)
