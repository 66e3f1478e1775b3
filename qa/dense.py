"""FAISS inner-product index over L2-normalized vectors (so scores are cosines)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def build(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype="float32"))
    return index


def save(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path):
    import faiss

    return faiss.read_index(str(path))


def all_scores(index, queries: np.ndarray) -> np.ndarray:
    """Cosine of every query against every stored vector: shape (queries, ntotal)."""
    n = index.ntotal
    scores, ids = index.search(np.ascontiguousarray(queries, dtype="float32"), n)
    out = np.full((len(queries), n), -1.0, dtype="float32")
    rows = np.arange(len(queries))[:, None]
    valid = ids >= 0
    out[np.broadcast_to(rows, ids.shape)[valid], ids[valid]] = scores[valid]
    return out
