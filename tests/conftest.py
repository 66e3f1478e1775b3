"""Shared fixtures: the real model, a real index of the seed article built once per session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_04952f5ecc9a8f4e.txt"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    from qa.build import build

    folder = tmp_path_factory.mktemp("seed") / "index"
    doc = folder.parent / SEED.name
    shutil.copy(SEED, doc)
    build([str(doc)], folder)
    return folder


def article_index(tmp_path_factory, name: str, text: str):
    """The loaded index of one small article a test writes (`name`.txt)."""
    from qa.build import build
    from qa.library import load

    folder = tmp_path_factory.mktemp(name)
    doc = folder / f"{name}.txt"
    doc.write_text(text, encoding="utf-8")
    build([str(doc)], folder / "index")
    return load(folder / "index")


@pytest.fixture(scope="session")
def loaded(seed_index):
    from qa.library import load

    return load(seed_index)


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, timeout: int = 600):
    e = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          input=stdin, env=e, timeout=timeout, cwd=ROOT)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python cli.py serve` on a free loopback port, in its own process; stopped with SIGTERM."""

    def __init__(self, index_dir: Path, env: dict | None = None):
        self.port = free_port()
        self.index_dir = index_dir
        self.url = f"http://127.0.0.1:{self.port}"
        e = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(self.port),
                                      "--index-dir", str(index_dir)], cwd=ROOT, env=e,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 180) -> None:
        import time

        import httpx

        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the server did not become ready")

    def stop(self, timeout: float = 60) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture(scope="session")
def serve_index(seed_index, tmp_path_factory) -> Path:
    """A copy of the seed index for servers (their conversations file lives beside it)."""
    folder = tmp_path_factory.mktemp("served") / "index"
    shutil.copytree(seed_index, folder)
    return folder
