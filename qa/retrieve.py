"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused, over sentences and their windows."""
from __future__ import annotations

import numpy as np

from .dense import top_ids
from .index import Index
from .records import Hit

WINDOW_WEIGHT = 0.5
HEADING_PENALTY = 1.0  # in z units: a heading must not outrank a sentence that answers
POOL = 200             # each retriever's best rows that enter fusion (their union is scored)


def z(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return (x - mean) / sd if sd > 1e-9 else np.zeros_like(x)


def retrieve_batch(index: Index, questions: list[str], vectors: np.ndarray, k: int,
                   only: list[np.ndarray | None] | None = None) -> list[list[Hit]]:
    """Top-k sentences per question by z(dense) + z(bm25) + 0.5 * (z(dense window) + z(bm25 window)),
    z-scores taken over all sentences of the index, over the union of each retriever's best POOL
    rows (among the rows `only` allows, for a question limited to some documents); each hit keeps
    the parts for the reranker."""
    only = only or [None] * len(questions)
    pool = max(POOL, 5 * k)
    dense_sent = index.sentence_vectors.search(vectors, pool)
    dense_win = index.window_vectors.search(vectors, pool)
    lex_sent, lex_win = index.lexical
    out = []
    for qi, q in enumerate(questions):
        bm, bw = lex_sent.scores(q), lex_win.scores(q)
        (ds_ids, ds_mean, ds_sd, ds_all), (dw_ids, dw_mean, dw_sd, dw_all) = dense_sent[qi], dense_win[qi]
        if only[qi] is not None:
            rows = only[qi]
            cos_in = index.sentence_vectors.cosines(vectors[qi], rows)
            wcos_in = index.window_vectors.cosines(vectors[qi], rows)
            pick = np.unique(np.concatenate([top_ids(cos_in, pool), top_ids(wcos_in, pool),
                                             top_ids(bm[rows], pool), top_ids(bw[rows], pool)]))
            ids, cos, wcos = rows[pick], cos_in[pick], wcos_in[pick]
        else:
            ids = np.unique(np.concatenate([ds_ids, dw_ids, top_ids(bm, pool), top_ids(bw, pool)]))
            cos = ds_all[ids] if ds_all is not None else index.sentence_vectors.cosines(vectors[qi], ids)
            wcos = dw_all[ids] if dw_all is not None else index.window_vectors.cosines(vectors[qi], ids)
        zd, zb = z(cos, ds_mean, ds_sd), z(bm[ids], float(bm.mean()), float(bm.std()))
        zwd, zwb = z(wcos, dw_mean, dw_sd), z(bw[ids], float(bw.mean()), float(bw.std()))
        fused = zd + zb + WINDOW_WEIGHT * (zwd + zwb) - HEADING_PENALTY * index.heading[ids]
        top = np.argsort(-fused, kind="stable")[:k]
        sents = dict(zip(ids[top].tolist(), index.sentences.many(ids[top].tolist())))
        out.append([Hit(sents[int(ids[i])], float(fused[i]), float(cos[i]), float(bm[ids[i]]),
                        {"zd": float(zd[i]), "zb": float(zb[i]), "zwd": float(zwd[i]), "zwb": float(zwb[i]),
                         "fused": float(fused[i])}) for i in top])
    return out
