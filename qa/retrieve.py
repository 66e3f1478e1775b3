"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused, over sentences and their windows."""
from __future__ import annotations

import numpy as np

from .dense import top_ids
from .embed import Once
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
    if hasattr(index, "candidates"):  # a database store finds them with its own queries
        found = index.candidates(questions, vectors, pool, only)
    else:
        found = embedded_candidates(index, questions, vectors, pool, only)
    return [fuse(index, c, k) for c in found]


def embedded_candidates(index: Index, questions: list[str], vectors: np.ndarray, pool: int,
                        only: list[np.ndarray | None]) -> list[dict]:
    """Per question: the union of each retriever's best `pool` rows, their four scores and heading
    flags, and each score's mean and spread over all rows."""
    lex_sent, lex_win = index.lexical
    lexical = _aside().submit(lambda: [lexical_side(lex_sent, lex_win, q, pool, rows) for q, rows in zip(questions, only)])
    # the union's exact cosines are read below: the approximate index's own ranking picks the pools
    dense_sent = index.sentence_vectors.search(vectors, pool, rescore=False)
    dense_win = index.window_vectors.search(vectors, pool, rescore=False)
    out = []
    for qi, (bm, bw, bm_top, bw_top, bm_stats, bw_stats) in enumerate(lexical.result()):
        (ds_ids, ds_mean, ds_sd, ds_all), (dw_ids, dw_mean, dw_sd, dw_all) = dense_sent[qi], dense_win[qi]
        if only[qi] is not None:
            rows = only[qi]
            cos_in = index.sentence_vectors.cosines(vectors[qi], rows)
            wcos_in = index.window_vectors.cosines(vectors[qi], rows)
            pick = union(top_ids(cos_in, pool), top_ids(wcos_in, pool), bm_top, bw_top)
            ids, cos, wcos = rows[pick], cos_in[pick], wcos_in[pick]
        else:
            ids = union(ds_ids, dw_ids, bm_top, bw_top)
            cos = ds_all[ids] if ds_all is not None else index.sentence_vectors.cosines(vectors[qi], ids)
            wcos = dw_all[ids] if dw_all is not None else index.window_vectors.cosines(vectors[qi], ids)
        out.append({"ids": ids, "cos": cos, "wcos": wcos, "bm": bm[ids], "bw": bw[ids], "heading": index.heading[ids],
                    "stats": {"dense_sentences": (ds_mean, ds_sd), "dense_windows": (dw_mean, dw_sd),
                              "bm25_sentences": bm_stats, "bm25_windows": bw_stats}})
    return out


def lexical_side(lex_sent, lex_win, question: str, pool: int, rows: np.ndarray | None) -> tuple:
    """One question's BM25 scores of every sentence and window, the best `pool` of each (positions in
    `rows` where the question is limited to them), and each one's mean and spread over all rows."""
    bm, bw = lex_sent.scores(question), lex_win.scores(question)
    tops = (top_ids(bm, pool), top_ids(bw, pool)) if rows is None else (top_ids(bm[rows], pool), top_ids(bw[rows], pool))
    return bm, bw, *tops, (float(bm.mean()), float(bm.std())), (float(bw.mean()), float(bw.std()))


@Once
def _aside():
    """One thread beside the caller's: the lexical scores are computed there while the dense searches
    run here (numpy and FAISS let go of the GIL), so retrieval uses both cores."""
    from concurrent.futures import ThreadPoolExecutor  # here, not at import: the CLI's start-up does not need it

    return ThreadPoolExecutor(1, thread_name_prefix="lexical")


def union(*ids: np.ndarray) -> np.ndarray:
    """The sorted distinct row numbers of all `ids` (np.unique's result, without the numpy.ma import
    np.unique costs a cold start)."""
    a = np.sort(np.concatenate(ids))
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def fuse(index: Index, found: dict, k: int) -> list[Hit]:
    """The k best of one question's candidates by the fused score."""
    ids, cos, bm, s = found["ids"], found["cos"], found["bm"], found["stats"]
    zd, zb = z(cos, *s["dense_sentences"]), z(bm, *s["bm25_sentences"])
    zwd, zwb = z(found["wcos"], *s["dense_windows"]), z(found["bw"], *s["bm25_windows"])
    fused = zd + zb + WINDOW_WEIGHT * (zwd + zwb) - HEADING_PENALTY * found["heading"]
    top = np.argsort(-fused, kind="stable")[:k]
    sents = dict(zip(ids[top].tolist(), index.sentences.many(ids[top].tolist())))
    return [Hit(sents[int(ids[i])], float(fused[i]), float(cos[i]), float(bm[i]),
                {"zd": float(zd[i]), "zb": float(zb[i]), "zwd": float(zwd[i]), "zwb": float(zwb[i]),
                 "fused": float(fused[i])}) for i in top]
