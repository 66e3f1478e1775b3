"""Hybrid retrieval: a store's dense (FAISS or pgvector) and lexical (BM25) candidates fused, over
sentences and their windows."""
from __future__ import annotations

import numpy as np

from .records import Candidates, FactQuery, Hit, Surroundings
from .store import DocumentStore

WINDOW_WEIGHT = 0.5
HEADING_PENALTY = 1.0  # in z units: a heading must not outrank a sentence that answers
PLACES_A_QUERY = 200   # sentences whose facts one store query asks for (SQLite bounds an expression's depth)
POOL = 200             # each retriever's best rows that enter fusion (their union is scored)


def z(x: np.ndarray, spread: tuple[float, float]) -> np.ndarray:
    mean, sd = spread
    return (x - mean) / sd if sd > 1e-9 else np.zeros_like(x)


def retrieve_batch(index: DocumentStore, questions: list[str], vectors: np.ndarray, k: int,
                   only: list[np.ndarray | None] | None = None) -> list[list[Hit]]:
    """Top-k sentences per question by z(dense) + z(bm25) + 0.5 * (z(dense window) + z(bm25 window)),
    z-scores taken over all sentences of the index, over the union of each retriever's best POOL
    rows (among the rows `only` allows, for a question limited to some documents); each hit keeps
    the parts for the reranker. Either store finds the candidates (`candidates`)."""
    only = only or [None] * len(questions)
    found = index.candidates(questions, vectors, max(POOL, 5 * k), only)
    return [fuse(index, c, k) for c in found]


def fuse(index: DocumentStore, found: Candidates, k: int) -> list[Hit]:
    """The k best of one question's candidates by the fused score."""
    dense_z, lexical_z = z(found.dense, found.dense_spread), z(found.lexical, found.lexical_spread)
    window_dense_z = z(found.window_dense, found.window_dense_spread)
    window_lexical_z = z(found.window_lexical, found.window_lexical_spread)
    fused = dense_z + lexical_z + WINDOW_WEIGHT * (window_dense_z + window_lexical_z) - HEADING_PENALTY * found.heading
    top = np.argsort(-fused, kind="stable")[:k]
    ids = found.ids
    sents = dict(zip(ids[top].tolist(), index.sentences.many(ids[top].tolist())))
    return [Hit(sents[int(ids[i])], float(fused[i]), float(found.dense[i]), float(found.lexical[i]),
                {"dense_z": float(dense_z[i]), "lexical_z": float(lexical_z[i]), "window_dense_z": float(window_dense_z[i]),
                 "window_lexical_z": float(window_lexical_z[i]), "fused": float(fused[i])}) for i in top]


def surroundings(index: DocumentStore, words: list[list[str]], hits: list[list[Hit]], n: int) -> list[Surroundings]:
    """What reading needs around each question's first candidates (`words`: the question's words whose
    statistics it weighs), read in one batch for all questions: the units within Surroundings.FORWARD
    after each of the first n candidates (and as many more as terms among them, whose descriptions may
    take their place), within Surroundings.BACK before one in a structured page (Surroundings.SPEAKER before in prose),
    the documents' dates, and the facts of those sentences with their sources."""
    wanted: list[set[int]] = []
    readable: list[set[int]] = []  # the units that may be read as candidates: the first ones, a term's description
    for hs in hits:
        first = hs[: n + sum(h.sentence.kind == "term" for h in hs[:n])]
        ids = set()
        for h in first:
            s = h.sentence
            back = Surroundings.BACK if s.section else Surroundings.SPEAKER
            ids.update(range(max(0, s.id - back), s.id + Surroundings.FORWARD + 1))
        wanted.append(ids)
        readable.append({h.sentence.id for h in first} | {h.sentence.id + 1 for h in first if h.sentence.kind == "term"})
    total = len(index.sentences)
    every = sorted({i for ids in wanted for i in ids if i < total})
    units = {u.id: u for u in index.sentences.many(every)} if every else {}
    places = sorted({(u.doc, u.start) for ids in readable for i in ids if (u := units.get(i)) is not None})
    facts = [f for k in range(0, len(places), PLACES_A_QUERY)
             for f in index.facts(FactQuery(places=tuple(places[k:k + PLACES_A_QUERY])))]
    facts.sort(key=lambda f: f.id)
    numbers = sorted({k for f in facts for k in (f.derived_from or [])})
    derived = {f.id - 1: f for f in index.facts(FactQuery(ids=tuple(k + 1 for k in numbers)))} if numbers else {}
    dateline = index.dateline
    out = []
    for ids, can_read, qwords in zip(wanted, readable, words):
        mine = {i: units[i] for i in ids if i in units}
        docs = {u.doc for u in mine.values()}
        at = {(u.doc, u.start) for i in can_read if (u := units.get(i)) is not None}
        idf = {w: index.idf.get(w) for w in dict.fromkeys([*qwords, "<unk>"]) if w in index.idf}
        out.append(Surroundings(mine, {d: index.date_of(d) for d in docs}, dateline, idf,
                                [f for f in facts if (f.doc, f.start) in at], derived))
    return out
