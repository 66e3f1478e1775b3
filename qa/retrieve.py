"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused, over sentences and their windows."""
from __future__ import annotations

import numpy as np

from . import dense
from .index import Index
from .match import coverage, has_wanted_span
from .question import Question
from .records import Hit

WINDOW_WEIGHT = 0.5
COVER_WEIGHT = 1.0  # rerank: fused + 1.0 * coverage(sentence) + 0.5 * wanted-type span present
TYPE_WEIGHT = 0.5
HEADING_PENALTY = 1.0  # in z units: a heading must not outrank a sentence that answers


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def retrieve_batch(index: Index, questions: list[str], vectors: np.ndarray, k: int) -> list[list[Hit]]:
    """Top-k sentences per question by z(dense) + z(bm25) + 0.5 * (z(dense window) + z(bm25 window)),
    z-scores taken over all sentences of the index."""
    sent_cos = dense.all_scores(index.sentence_vectors, vectors)
    win_cos = dense.all_scores(index.window_vectors, vectors)
    lex_sent, lex_win = index.lexical
    kinds = np.array([s.kind != "sentence" for s in index.sentences])
    out = []
    for qi, q in enumerate(questions):
        bm, bw = lex_sent.scores(q), lex_win.scores(q)
        fused = zscore(sent_cos[qi]) + zscore(bm) + WINDOW_WEIGHT * (zscore(win_cos[qi]) + zscore(bw))
        fused = fused - HEADING_PENALTY * kinds
        top = np.argsort(-fused, kind="stable")[:k]
        out.append([Hit(index.sentences[i], float(fused[i]), float(sent_cos[qi][i]), float(bm[i])) for i in top])
    return out


def rerank(index: Index, q: Question, hits: list[Hit]) -> list[Hit]:
    """Candidates reordered by fused + COVER_WEIGHT * coverage + TYPE_WEIGHT * has_wanted_span:
    what the question asks for (its words, by lemma, and its answer type) read in each sentence."""
    for h in hits:
        s = h.sentence
        cover = coverage(q, [s], index.idf)
        if s.tokens and s.tokens[0].pos == "PRON" and s.id > 0 and index.sentences[s.id - 1].doc == s.doc:
            cover = max(cover, coverage(q, [index.sentences[s.id - 1], s], index.idf))  # "Its profit ..."
        h.score += COVER_WEIGHT * cover + TYPE_WEIGHT * has_wanted_span(q, s)
    return sorted(hits, key=lambda h: -h.score)
