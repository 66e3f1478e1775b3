"""BM25 over sentences (bm25s, Lucene variant, k1=1.5, b=0.75), with typo-tolerant query words."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d[\d,.]*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class Lexical:
    """A BM25 index of texts; `scores` gives every text's BM25 score for a query."""

    def __init__(self, texts: list[str]):
        import bm25s

        self._bm25s = bm25s
        self.vocabulary = {w.lower() for t in texts for w in WORD.findall(t)}
        self.retriever = bm25s.BM25(k1=1.5, b=0.75)
        tokens = bm25s.tokenize(texts or [""], stopwords="en", stemmer=_stemmer(), show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.n = len(texts)

    def scores(self, query: str) -> np.ndarray:
        toks = self._bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), show_progress=False,
                                    return_ids=False)[0]
        if not toks:
            return np.zeros(self.n, dtype="float32")
        return np.asarray(self.retriever.get_scores(toks), dtype="float32")[: self.n]

    def correct(self, question: str) -> str:
        """The question with words absent from the documents replaced by their closest document word
        ("prodution" -> "production"): Levenshtein ratio >= 85 over words of five letters or more."""
        from rapidfuzz import fuzz, process

        def fix(m: re.Match) -> str:
            w = m.group(0)
            if len(w) < 5 or w.lower() in self.vocabulary or w[0].isupper() or w[0].isdigit():
                return w
            best = process.extractOne(w.lower(), self.vocabulary, scorer=fuzz.ratio, score_cutoff=85)
            return best[0] if best else w

        return WORD.sub(fix, question)
