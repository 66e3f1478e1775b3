"""Reading a document where it can be stopped: each file's format is parsed in a worker process
(`python -m qa.ingest.worker`, started on first use and kept for the next file), its address space
capped for the document (QA_READ_MEMORY_MB) and killed past QA_READ_SECONDS; either ends that
document's reading alone, with one clear line, a fresh worker reads the next file, and the caller
goes on. The worker is a process of its own, not a fork: nothing of the caller (its threads, its
models, its main script) is copied into it. A server stopping kills the worker (`stop_all`), so no
upload holds up its shutdown."""
from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import BadDocument, DocumentTooLarge
from ..records import Document
from .limits import Limits, refuse

OUT_OF_MEMORY = 3  # the worker's exit code when it ran out of memory (it says so, or could not)
HEADER = struct.Struct("<Q")
START_SECONDS = 120  # the worker's start (its imports) on a slow machine
_lock = threading.Lock()  # one document at a time through the one worker
_worker: subprocess.Popen | None = None
_stopping = threading.Event()


def read_bounded(path: str | Path, limits: Limits | None = None) -> Document:
    """`read_document(path)` in the worker, bounded in time and memory; its BadDocument (or
    DocumentTooLarge, naming the limit) raised here as it was there."""
    limits = limits or Limits()
    with _lock:
        if _stopping.is_set():
            raise BadDocument(f"{path}: not read: the server is stopping.")
        worker = _started()
        try:
            _send(worker, (str(path), limits))
            kind, value = _receive(worker, limits.read_seconds)
        except (BrokenPipeError, EOFError, OSError):
            kind, value = "died", None
        if kind != "ok" and kind != "bad":
            _end(worker)
    if kind == "ok":
        return value
    if kind == "bad":
        message, limit = value
        raise DocumentTooLarge(message, limit) if limit else BadDocument(message)
    if _stopping.is_set():
        raise BadDocument(f"{path}: not read: the server is stopping.")
    if kind == "late":
        raise refuse(path, f"reading it took longer than {limits.read_seconds:g} s", "QA_READ_SECONDS")
    if kind == "memory" or worker.returncode == OUT_OF_MEMORY:
        raise refuse(path, f"reading it needed more than {limits.read_memory_mb:,} MB of memory", "QA_READ_MEMORY_MB")
    raise refuse(path, f"its reader stopped (exit code {worker.returncode})", "QA_READ_MEMORY_MB")


def _started() -> subprocess.Popen:
    global _worker
    if _worker is None or _worker.poll() is not None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        worker = subprocess.Popen([sys.executable, "-m", "qa.ingest.worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=root)
        # it says it is ready once its imports are done: they are not the first document's time
        ready, _, _ = select.select([worker.stdout], [], [], START_SECONDS)
        if not ready or worker.stdout.read(HEADER.size) != HEADER.pack(0):
            _end(worker)
            raise BadDocument("the document reader could not be started; check the installation (python -m qa.ingest.worker).")
        _worker = worker
    return _worker


def _send(worker: subprocess.Popen, message) -> None:
    data = pickle.dumps(message)
    worker.stdin.write(HEADER.pack(len(data)) + data)
    worker.stdin.flush()


def _receive(worker: subprocess.Popen, seconds: float):
    """The worker's answer, or ("late", None) when none began within `seconds`."""
    ready, _, _ = select.select([worker.stdout], [], [], seconds)
    if not ready:
        return "late", None
    head = worker.stdout.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (n,) = HEADER.unpack(head)
    data = worker.stdout.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)


def _end(worker: subprocess.Popen) -> None:
    """The worker killed (late, out of memory or gone): the next document gets a fresh one."""
    global _worker
    if worker.poll() is None:
        worker.kill()
    worker.wait()
    for pipe in (worker.stdin, worker.stdout):
        try:
            pipe.close()
        except OSError:
            pass
    if _worker is worker:
        _worker = None


def stop_all() -> None:
    """Kill the worker (whatever it is reading) and refuse new reads: the process is stopping."""
    _stopping.set()
    worker = _worker
    if worker is not None and worker.poll() is None:
        try:
            worker.kill()
        except OSError:
            pass
