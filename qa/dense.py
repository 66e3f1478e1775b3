"""Unit vectors (L2-normalized, so inner products are cosines), memory-mapped from a .npy file.

Up to APPROXIMATE_FROM rows every question is scored against every row (exact). Above it, FAISS
IVF with 8-bit scalar-quantized codes (the inverted lists memory-mapped, so opening reads almost
nothing) proposes candidates, which are rescored exactly from the vectors file; the mean and spread
of the scores, which fusion needs, come from a fixed sample of rows saved beside them. Candidate rows
are read with pread, not through the memory map: a page fault maps its neighbours too, and scattered
faults would soon map most of a gigabyte file into the process.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

APPROXIMATE_FROM = 100_000
STATS_SAMPLE = 20_000   # rows whose scores stand for all rows' mean and spread in an approximate index
SEARCH_EXTRA = 4        # the approximate index proposes this many times the rows asked for


def plan(n: int) -> dict:
    """How `n` vectors are searched: recorded in the manifest at build time."""
    if n <= APPROXIMATE_FROM:
        return {"kind": "exact"}
    nlist = int(2 ** round(math.log2(4 * math.sqrt(n))))
    return {"kind": "ivf-sq8", "nlist": nlist, "nprobe": max(16, nlist // 16)}  # recall@10 >= 0.97 at 100k and 1M (bench)


def save(vectors: np.ndarray, path: Path, how: dict) -> None:
    """`path`.npy, and when the plan is approximate `path`.ivf and `path`.sample.npy (the rows whose
    scores stand for all rows' mean and spread)."""
    vectors = np.ascontiguousarray(vectors, dtype="float32")
    np.save(path.with_suffix(".npy"), vectors)
    if how["kind"] == "exact":
        return
    import faiss

    np.save(path.with_suffix(".sample.npy"), vectors[:: max(1, len(vectors) // STATS_SAMPLE)])
    d = vectors.shape[1]
    ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, how["nlist"], faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(len(vectors), min(len(vectors), 64 * how["nlist"]), replace=False))]
    ivf.train(sample)
    for i in range(0, len(vectors), 100_000):
        ivf.add(vectors[i:i + 100_000])
    faiss.write_index(ivf, str(path.with_suffix(".ivf")))


class Vectors:
    """One kind of vectors (sentences or windows) of an index, opened without reading them."""

    def __init__(self, path: Path, how: dict):
        self.matrix = np.load(path.with_suffix(".npy"), mmap_mode="r")  # scanned whole by exact search only
        self.how = how
        self.ann = None
        if how["kind"] != "exact":
            import faiss

            self.ann = faiss.read_index(str(path.with_suffix(".ivf")), faiss.IO_FLAG_MMAP)
            self.ann.nprobe = how["nprobe"]
            self._rows = RowFile(path.with_suffix(".npy"))
            self._sample = np.load(path.with_suffix(".sample.npy"))

    def __len__(self) -> int:
        return len(self.matrix)

    def search(self, queries: np.ndarray, n: int, rescore: bool = True) -> list[tuple[np.ndarray, float, float, np.ndarray | None]]:
        """Per query: the ids of its n best rows, the mean and spread of its scores over all rows, and
        (exact only) every row's score. An approximate index ranks by the 8-bit codes' scores when
        `rescore` is off (a caller that reads the exact cosines of what it keeps: retrieval's union),
        else it proposes SEARCH_EXTRA times n rows and ranks them by their exact cosines."""
        queries = np.ascontiguousarray(queries, dtype="float32")
        if self.ann is None:
            out = []
            for q in queries:
                scores = np.asarray(self.matrix @ q, dtype="float32")
                out.append((top_ids(scores, n), float(scores.mean()), float(scores.std()), scores))
            return out
        _, ids = self.ann.search(queries, n * (SEARCH_EXTRA if rescore else 1))
        sample = self._sample @ queries.T
        out = []
        for qi, q in enumerate(queries):
            found = ids[qi][ids[qi] >= 0]
            if rescore:
                found = found[top_ids(self.cosines(q, found), n)]
            out.append((found, float(sample[:, qi].mean()), float(sample[:, qi].std()), None))
        return out

    def cosines(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact cosines of one query with the given rows (read from the memory-mapped file)."""
        ids = np.asarray(ids, dtype="int64")
        if self.ann is not None:
            return np.asarray(self._rows.read(ids) @ query, dtype="float32")
        return np.asarray(self.matrix[ids] @ query, dtype="float32")


class RowFile:
    """Rows of a 2-D float32 .npy file read by position with pread (no memory map). The kernel is told
    of every row wanted before the first is read, so that rows not in the page cache are fetched side
    by side instead of one after another: at 1,003,800 sentences, with the index's files out of the
    cache, a question p50 104-108 -> 73-82 ms (the ~1,100 rows a question rescores); none when cached."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            fmt = np.lib.format
            major, _ = fmt.read_magic(f)
            shape, _, dtype = (fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0)(f)
            self._offset = f.tell()
        self._width = shape[1] * np.dtype(dtype).itemsize
        self._dtype, self._dim = np.dtype(dtype), shape[1]
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, ids: np.ndarray) -> np.ndarray:
        at = [self._offset + int(i) * self._width for i in ids]
        if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the rows are read as before
            for a in at:
                os.posix_fadvise(self._fd, a, self._width, os.POSIX_FADV_WILLNEED)
        buf = b"".join(os.pread(self._fd, self._width, a) for a in at)
        return np.frombuffer(buf, dtype=self._dtype).reshape(len(ids), self._dim)

    def __del__(self):
        try:
            os.close(self._fd)
        except (AttributeError, OSError):
            pass


def top_ids(scores: np.ndarray, n: int) -> np.ndarray:
    """The indices of the n highest scores, best first (ties by index)."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n)[:n]
    return part[np.lexsort((part, -scores[part]))]
