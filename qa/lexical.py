"""BM25 over sentences (bm25s, Lucene variant, k1=1.5, b=0.75), built at build time and memory-mapped at
load; typo-tolerant query words."""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from .embed import model_dir

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d[\d,.]*")


_per_thread = threading.local()


def _stemmer():
    """This thread's Snowball stemmer (a PyStemmer object must not be shared by threads: retrieval
    scores the lexical side on a thread of its own)."""
    stemmer = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _per_thread.stemmer = Stemmer.Stemmer("english")
    return stemmer


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
    quiet = os.environ.get("DISABLE_TQDM")
    os.environ["DISABLE_TQDM"] = "1"  # nor tqdm (40 ms, and a multiprocessing lock at each tokenize): no bars shown
    try:
        import bm25s
    finally:
        del sys.modules["scipy"]
        if quiet is None:
            del os.environ["DISABLE_TQDM"]
    return bm25s


# A literal of documentation: an option (--prune, -q) or a dotted name (fetch.prune, os.path.join)
LITERAL = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*|(?<![\w.])[A-Za-z]\w*(?:\.[A-Za-z]\w*)+")


def with_literal_words(text: str) -> str:
    """The text with one more word for each literal in it, the literal joined up ("--prune" adds
    "litprune", "fetch.prune" "litfetchprune"): BM25's words split a literal into common words, and
    a question that names the option then finds the option's own text."""
    found = LITERAL.findall(text)
    if not found:
        return text
    return text + " " + " ".join("lit" + re.sub(r"[\W_]+", "", f).lower() for f in found)


def _tokenize(texts: list[str], **kw):
    texts = [with_literal_words(t) for t in texts]
    return _bm25s().tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False, **kw)


@dataclass
class TermCounts:
    """How often each term (a bm25s token: lower-cased, stop words out, Snowball-stemmed) occurs in each
    text: rows [rows[i], rows[i+1]) of `terms`/`tf` belong to text i. What BM25 is computed from, kept
    beside the index so that a library change scores kept texts again without tokenizing them again."""

    rows: np.ndarray  # int64, len(texts) + 1
    terms: np.ndarray  # int32 ids into vocab
    tf: np.ndarray  # int32
    vocab: list[str]

    @classmethod
    def of_texts(cls, texts: list[str]) -> "TermCounts":
        tok = _tokenize(texts)
        vocab = [""] * len(tok.vocab)
        for term, i in tok.vocab.items():
            vocab[i] = term
        lengths = np.fromiter((len(ids) for ids in tok.ids), dtype=np.int64, count=len(tok.ids))
        flat = np.fromiter((i for ids in tok.ids for i in ids), dtype=np.int64, count=int(lengths.sum()))
        text = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, tf = np.unique(text * max(len(vocab), 1) + flat, return_counts=True)
        text, terms = np.divmod(keys, max(len(vocab), 1))
        rows = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(text, minlength=len(texts)), out=rows[1:])
        return cls(rows, terms.astype(np.int32), tf.astype(np.int32), vocab)

    def __len__(self) -> int:
        return len(self.rows) - 1

    def take(self, lo: int, hi: int) -> "TermCounts":
        """Texts lo..hi-1, sharing this vocabulary."""
        a, b = int(self.rows[lo]), int(self.rows[hi])
        return TermCounts(np.asarray(self.rows[lo:hi + 1]) - a, np.asarray(self.terms[a:b]), np.asarray(self.tf[a:b]),
                          self.vocab)

    @classmethod
    def join(cls, parts: list["TermCounts"]) -> "TermCounts":
        """The texts of every part in order, over one vocabulary of the terms they use."""
        index: dict[str, int] = {}
        rows, terms, tfs, base = [np.zeros(1, dtype=np.int64)], [], [], 0
        for p in parts:
            used = np.unique(p.terms)
            remap = np.zeros(max(len(p.vocab), 1), dtype=np.int32)
            remap[used] = [index.setdefault(p.vocab[t], len(index)) for t in used.tolist()]
            terms.append(remap[p.terms])
            tfs.append(p.tf)
            rows.append(p.rows[1:] + base)
            base += int(p.rows[-1])
        return cls(np.concatenate(rows), np.concatenate(terms or [np.zeros(0, np.int32)]).astype(np.int32),
                   np.concatenate(tfs or [np.zeros(0, np.int32)]).astype(np.int32), list(index))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("rows", "terms", "tf"):
            np.save(folder / f"counts-{name}.npy", getattr(self, name))
        (folder / "counts-vocab.json").write_text(json.dumps(self.vocab))

    @classmethod
    def load(cls, folder: Path) -> "TermCounts":
        arrays = [np.load(folder / f"counts-{name}.npy", mmap_mode="r") for name in ("rows", "terms", "tf")]
        return cls(*arrays, json.loads((folder / "counts-vocab.json").read_text()))


def bm25_matrix(counts: TermCounts, k1: float = 1.5, b: float = 0.75) -> dict:
    """bm25s's score matrix (Lucene BM25: idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
    tf / (tf + k1 (1 - b + b dl / avgdl))), computed over whole arrays instead of a text at a time."""
    n, nv = len(counts), len(counts.vocab)
    tf = np.asarray(counts.tf, dtype=np.float64)
    lengths = np.diff(counts.rows)
    text = np.repeat(np.arange(n, dtype=np.int64), lengths)
    dl = np.bincount(text, weights=tf, minlength=n)
    avgdl = dl.mean() if n else 1.0
    df = np.bincount(counts.terms, minlength=nv)
    idf = np.where(df > 0, np.log(1 + (n - df + 0.5) / (df + 0.5)), 0.0).astype(np.float32)
    tfc = tf / (k1 * ((1 - b) + b * dl[text] / (avgdl or 1.0)) + tf)
    data = (idf[counts.terms].astype(np.float64) * tfc).astype(np.float32)
    order = np.lexsort((text, counts.terms))
    indptr = np.zeros(nv + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return {"data": data[order], "indices": text[order].astype(np.int32), "indptr": indptr, "num_docs": n}


class Lexical:
    """A BM25 index of texts; `scores` gives every text's BM25 score for a query."""

    def __init__(self, retriever, n: int, counts: TermCounts | None = None):
        self.retriever = retriever
        self.n = n
        self.counts = counts

    @classmethod
    def build(cls, texts: list[str]) -> "Lexical":
        return cls.from_counts(TermCounts.of_texts(texts))

    @classmethod
    def from_counts(cls, counts: TermCounts) -> "Lexical":
        """The BM25 index of the counted texts, in bm25s's form (saved and searched by bm25s)."""
        retriever = _bm25s().BM25(k1=1.5, b=0.75)
        vocab = {t: i for i, t in enumerate(counts.vocab)}
        scores = bm25_matrix(counts)
        if "" not in vocab:  # bm25s's empty token, which a query of stop words alone looks up
            vocab[""] = len(vocab)
            scores["indptr"] = np.append(scores["indptr"], scores["indptr"][-1])
        retriever.scores, retriever.vocab_dict = scores, vocab
        retriever.unique_token_ids_set = set(vocab.values())
        retriever.nonoccurrence_array = None  # Lucene BM25 has none
        return cls(retriever, len(counts), counts)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder))
        if self.counts is not None:
            self.counts.save(folder)

    @classmethod
    def load(cls, folder: Path, n: int) -> "Lexical":
        """The saved index, its score matrix memory-mapped: opening costs the vocabulary alone."""
        return cls(_bm25s().BM25.load(str(folder), mmap=True), n)

    def scores(self, query: str) -> np.ndarray:
        toks = with_other_forms(_tokenize([query], return_ids=False)[0])
        if not toks:
            return np.zeros(self.n, dtype="float32")
        return np.asarray(self.retriever.get_scores(toks), dtype="float32")[: self.n]

@lru_cache(maxsize=1)
def _word_forms() -> dict[str, list[str]]:
    """Stem -> the stems of the same word's other forms, where Snowball stems them apart ("led" ->
    ["lead"]); made by scripts/make_word_forms.py."""
    return json.loads((Path(__file__).parent / "word-forms.json").read_text(encoding="utf-8"))


def with_other_forms(stems: list[str]) -> list[str]:
    """A query's stems and, once each, the stems of their words' other forms: "Who leads the
    project?" finds "The project is led by ...", "What did they buy?" finds "they bought"."""
    forms = _word_forms()
    more = [o for s in stems for o in forms.get(s, ()) if o not in stems]
    return stems + list(dict.fromkeys(more))


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """English words the encoder's WordPiece vocabulary holds whole ("original", "chairs"): a question
    may use them though no document does, so they are never "corrected" into a document's word."""
    lines = (model_dir() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in lines if w.isalpha() and w.islower())


def correct(question: str, known: Callable[[list[str]], set[str]], vocabulary: Callable[[], list[str]]) -> str:
    """The question with misspelt words replaced by their closest document word ("prodution" ->
    "production"): words of five letters or more that neither the documents nor the dictionary
    (`dictionary_words`) know, at a Levenshtein ratio >= 85. `known` says which of some words the
    documents use; `vocabulary` lists them all (read only when a word is unknown)."""
    candidates = [m.group(0) for m in WORD.finditer(question)]
    candidates = [w for w in candidates if len(w) >= 5 and not w[0].isupper() and not w[0].isdigit()]
    if not candidates:
        return question
    bare = {w: re.sub(r"['\u2019]s$", "", w.lower()) for w in candidates}  # "bridge's" is "bridge"
    have = known(sorted(set(bare.values())))
    missing = {w for w in candidates if bare[w] not in have}
    if missing:
        missing -= {w for w in missing if bare[w] in dictionary_words()}
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
