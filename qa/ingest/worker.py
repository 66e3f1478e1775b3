"""The reading worker (`qa.ingest.bounded` starts it): reads documents one at a time, each request a
(path, limits) pickled on stdin and each answer ("ok", Document) or ("bad", (message, limit)) on
stdout, length-prefixed. Its address space is capped at the request's memory limit while it reads;
out of memory it says so and exits, so that the next document gets a fresh process."""
from __future__ import annotations

import os
import pickle
import resource
import sys

from ..errors import BadDocument, DocumentTooLarge
from .bounded import HEADER, OUT_OF_MEMORY
from .detect import read_document


def _outcome(path: str, limits) -> tuple:
    try:
        return "ok", read_document(path, limits)
    except DocumentTooLarge as e:
        return "bad", (str(e), e.limit)
    except BadDocument as e:
        return "bad", (str(e), None)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - a reader's own fault on a strange file: one bad file
        return "bad", (f"{path}: the file could not be read ({type(e).__name__}).", None)


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    sink.write(HEADER.pack(0))  # ready: the readers are imported, and a document's time starts now
    sink.flush()
    while True:
        head = source.read(HEADER.size)
        if len(head) < HEADER.size:
            return  # the caller is gone
        path, limits = pickle.loads(source.read(HEADER.unpack(head)[0]))
        cap = limits.read_memory_mb * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
            outcome = _outcome(path, limits)
            data = pickle.dumps(outcome)
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        except MemoryError:
            outcome = None
        if outcome is None:
            try:
                resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
                data = pickle.dumps(("memory", None))
                sink.write(HEADER.pack(len(data)) + data)
                sink.flush()
            finally:
                os._exit(OUT_OF_MEMORY)
        sink.write(HEADER.pack(len(data)) + data)
        sink.flush()


if __name__ == "__main__":
    try:
        main()
    except MemoryError:
        os._exit(OUT_OF_MEMORY)
    except (BrokenPipeError, KeyboardInterrupt):
        os._exit(0)
