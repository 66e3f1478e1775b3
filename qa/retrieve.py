"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused, over sentences and their windows."""
from __future__ import annotations

import numpy as np

from . import dense
from .index import Index
from .records import Hit

WINDOW_WEIGHT = 0.5
HEADING_PENALTY = 1.0  # in z units: a heading must not outrank a sentence that answers


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def retrieve_batch(index: Index, questions: list[str], vectors: np.ndarray, k: int) -> list[list[Hit]]:
    """Top-k sentences per question by z(dense) + z(bm25) + 0.5 * (z(dense window) + z(bm25 window)),
    z-scores taken over all sentences of the index; each hit keeps the parts for the reranker."""
    sent_cos = dense.all_scores(index.sentence_vectors, vectors)
    win_cos = dense.all_scores(index.window_vectors, vectors)
    lex_sent, lex_win = index.lexical
    kinds = np.array([s.kind != "sentence" for s in index.sentences])
    out = []
    for qi, q in enumerate(questions):
        bm, bw = lex_sent.scores(q), lex_win.scores(q)
        zd, zb, zwd, zwb = zscore(sent_cos[qi]), zscore(bm), zscore(win_cos[qi]), zscore(bw)
        fused = zd + zb + WINDOW_WEIGHT * (zwd + zwb) - HEADING_PENALTY * kinds
        top = np.argsort(-fused, kind="stable")[:k]
        out.append([Hit(index.sentences[i], float(fused[i]), float(sent_cos[qi][i]), float(bm[i]),
                        {"zd": float(zd[i]), "zb": float(zb[i]), "zwd": float(zwd[i]), "zwb": float(zwb[i]),
                         "fused": float(fused[i])}) for i in top])
    return out
