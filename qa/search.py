"""The embedded store's search: a question's candidate rows from FAISS (dense) and BM25 (lexical),
over sentences and their windows, with the scores fusion needs (`Index.candidates`)."""
from __future__ import annotations

import numpy as np

from .dense import top_ids
from .embed import Once
from .records import Candidates


def candidates(index, questions: list[str], vectors: np.ndarray, pool: int,
               only: list[np.ndarray | None]) -> list[Candidates]:
    """Per question: the union of each retriever's best `pool` rows (among the rows `only` allows,
    for a question limited to some documents), their four scores and heading flags, and each score's
    spread over all rows."""
    lex_sent, lex_win = index.lexical
    lexical = _aside().submit(lambda: [lexical_side(lex_sent, lex_win, q, pool, rows) for q, rows in zip(questions, only)])
    # the union's exact cosines are read below: the approximate index's own ranking picks the pools
    dense_sent = index.sentence_vectors.search(vectors, pool, rescore=False)
    dense_win = index.window_vectors.search(vectors, pool, rescore=False)
    out = []
    for qi, (bm, bw, bm_top, bw_top, bm_spread, bw_spread) in enumerate(lexical.result()):
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
        out.append(Candidates(ids, cos, wcos, bm[ids], bw[ids], index.heading[ids], (ds_mean, ds_sd), (dw_mean, dw_sd),
                              bm_spread, bw_spread))
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
