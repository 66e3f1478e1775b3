"""Reading a document where it can be stopped: each file's format is parsed in a worker process of its
own, forked from a small server process that has the readers imported (multiprocessing's
"forkserver": no thread or model of the caller is copied into it). The worker's address space is
capped (QA_READ_MEMORY_MB) and it is killed past QA_READ_SECONDS; either ends that document's
reading alone, with one clear line, and the caller goes on with the next file. A server stopping
kills the workers it waits on (`stop_all`), so no upload holds up its shutdown."""
from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

from ..errors import BadDocument, DocumentTooLarge
from ..records import Document
from .limits import Limits, refuse

PRELOAD = ["qa.ingest.detect", "trafilatura", "lxml.html", "pypdf", "docx", "yaml"]
_context = None
_context_lock = threading.Lock()
_running: set = set()  # the workers reading now (killed by stop_all)
_stopping = threading.Event()
OUT_OF_MEMORY = 3  # a worker's exit code when it could not even say it ran out of memory


def _forkserver():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def read_bounded(path: str | Path, limits: Limits | None = None) -> Document:
    """`read_document(path)` in a worker process bounded in time and memory; its BadDocument (or
    DocumentTooLarge, naming the limit) raised here as it was there."""
    limits = limits or Limits()
    if _stopping.is_set():
        raise BadDocument(f"{path}: not read: the server is stopping.")
    ctx = _forkserver()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_work, args=(send, str(path), limits), daemon=True)
    _running.add(worker)
    try:
        worker.start()
        send.close()
        if receive.poll(limits.read_seconds):
            try:
                kind, value = receive.recv()
            except EOFError:  # it died before it could say anything
                kind, value = "died", None
        else:
            kind, value = "late", None
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        _running.discard(worker)
        receive.close()
    if kind == "ok":
        return value
    if kind == "bad":
        message, limit = value
        raise DocumentTooLarge(message, limit) if limit else BadDocument(message)
    if kind == "memory" or worker.exitcode == OUT_OF_MEMORY:
        raise refuse(path, f"reading it needed more than {limits.read_memory_mb:,} MB of memory", "QA_READ_MEMORY_MB")
    if _stopping.is_set():
        raise BadDocument(f"{path}: not read: the server is stopping.")
    if kind == "late":
        raise refuse(path, f"reading it took longer than {limits.read_seconds:g} s", "QA_READ_SECONDS")
    raise refuse(path, f"its reader stopped (exit code {worker.exitcode}), most likely out of memory",
                 "QA_READ_MEMORY_MB")


def _work(send, path: str, limits: Limits) -> None:
    """In the worker: the address space capped, the document read, the outcome sent back. It ends with
    os._exit, never a traceback: out of memory, even saying so may fail, and the exit code says it."""
    try:
        import resource

        cap = limits.read_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        outcome = _outcome(path, limits)
    except MemoryError:
        outcome = ("memory", None)
    for attempt in (outcome, ("memory", None)):
        try:
            send.send(attempt)
            os._exit(0)
        except MemoryError:
            continue
        except BaseException:  # noqa: BLE001 - the parent was told nothing: it reports the exit
            os._exit(1)
    os._exit(OUT_OF_MEMORY)


def _outcome(path: str, limits: Limits) -> tuple:
    from .detect import read_document

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


def stop_all() -> None:
    """Kill every worker reading now and refuse new reads: the process is stopping."""
    _stopping.set()
    for worker in list(_running):
        try:
            worker.kill()
        except (OSError, ValueError, AttributeError):
            pass
