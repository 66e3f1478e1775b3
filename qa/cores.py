"""The two cores' use: on the question path the reader's lanes and retrieval's lexical thread take
them, in a build the encoder's lanes and spaCy; numpy's BLAS must not hold them between its calls."""
from __future__ import annotations

import sys

_modules_seen = 0


def one_blas_thread() -> None:
    """OpenBLAS's worker threads keep spinning for a while after any product large enough to split (the
    dense scores' spread over 20,000 sample rows, an exact search over up to 100,000), and on two cores
    they take the cores the reader's lanes start on next. Measured at 1,003,800 sentences: a question
    83 -> 60 ms, the reader's 8 passes 52 -> 35 ms of it. The products on this path are small enough
    for one thread. The limit holds for the process; it is set again only when modules were imported
    since (a BLAS library comes with a module: FAISS's, once an approximate index opens)."""
    global _modules_seen
    if len(sys.modules) == _modules_seen:
        return
    _modules_seen = len(sys.modules)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
