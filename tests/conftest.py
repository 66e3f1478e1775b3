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
    from qa.index import build

    folder = tmp_path_factory.mktemp("seed") / "index"
    doc = folder.parent / SEED.name
    shutil.copy(SEED, doc)
    build([str(doc)], folder)
    return folder


@pytest.fixture(scope="session")
def loaded(seed_index):
    from qa.index import load

    return load(seed_index)


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, timeout: int = 600):
    e = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          input=stdin, env=e, timeout=timeout, cwd=ROOT)
