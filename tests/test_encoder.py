"""The question encoder: int8 ONNX on onnxruntime, close to the fp32 model, and a real `ask` that never
imports torch, transformers, sentence-transformers or scikit-learn."""
import subprocess
import sys

import numpy as np

from conftest import ROOT

QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "how much did castlebridge pay for jonah whitlok", "And the adjusted net profit for 2021?",
             "What key areas will the R&D team focus on?", "Why did digging on Line C come to a standstill for seven months?",
             "In what year did the Normans conquer England, and who led them across the Channel?"]


def test_question_vectors_match_the_fp32_model():
    from qa.embed import fp32_encoder, question_encoder

    a = question_encoder().encode(QUESTIONS)
    b = fp32_encoder().encode(QUESTIONS)
    assert a.shape == b.shape == (len(QUESTIONS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(1).min() >= 0.999
    # one text's vector does not depend on what it is encoded with
    assert np.array_equal(question_encoder().encode(QUESTIONS[:1])[0], a[0])


HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")


def heavy_imports(args: list[str], heavy: tuple[str, ...]):
    """`cli.py ARGS` run in a new process: the process, and which of `heavy` it had imported at exit."""
    code = ("import sys, atexit; "
            f"atexit.register(lambda: print('HEAVY', [m for m in {heavy!r} if m in sys.modules])); "
            f"sys.argv = ['cli.py', *{args!r}]; "
            "from qa.cli_app import main; main()")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run, run.stdout.rsplit("HEAVY ", 1)[-1].strip()


def test_a_real_ask_imports_no_torch_nor_spacy(serve_index):
    run, heavy = heavy_imports(["ask", "When does mass production start?", "--index-dir", str(serve_index)],
                               HEAVY + ("spacy", "thinc"))
    assert "2024" in run.stdout
    assert heavy == "[]"


def test_a_build_and_an_add_import_no_torch(tmp_path):
    """Builds embed with the same int8 ONNX encoder as questions: no torch, transformers or
    sentence-transformers in `build` or `add` (spaCy, which reads the documents, is expected)."""
    from conftest import SEED

    note = tmp_path / "note.txt"
    note.write_text("The harbour master is Anna Berg. She took office in 2019.\n", encoding="utf-8")
    for args in (["build", str(SEED)], ["add", str(note)]):
        assert heavy_imports([*args, "--index-dir", str(tmp_path / "index")], HEAVY)[1] == "[]", args


def test_the_kept_optimized_graph_gives_the_same_outputs(tmp_path, monkeypatch):
    """The first session of a model keeps onnxruntime's optimized graph in the cache folder; later
    sessions load it (no optimizing at start-up) and give the same vectors and readings; a damaged
    copy is made again."""
    from qa.embed import OnnxEncoder
    from qa.read.reader import Reader

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    pairs = (QUESTIONS[:2], ["Mass production will start in the first half of 2024.", "Lei Jun is the CEO."], [""] * 2, [""] * 2)
    first, reader = OnnxEncoder().encode(QUESTIONS), Reader().read(*pairs)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and all(n.endswith(".onnx") for n in kept), kept
    assert np.array_equal(OnnxEncoder().encode(QUESTIONS), first)
    assert repr(Reader().read(*pairs)) == repr(reader)
    for p in tmp_path.iterdir():
        p.write_bytes(b"not a model")
    assert np.array_equal(OnnxEncoder().encode(QUESTIONS), first)
    assert repr(Reader().read(*pairs)) == repr(reader)
    assert all(p.stat().st_size > 1_000_000 for p in tmp_path.iterdir())


def test_many_texts_on_the_encoders_lanes_get_the_vectors_each_gets_alone():
    """A build's many texts are shared out between one-thread sessions, side by side: each text's
    vector must be what the question's session gives it alone, in the texts' order."""
    from qa.embed import LANES_FROM, default_encoder, question_encoder

    enc = default_encoder()
    texts = [f"{q} (variant {i})" for i in range(LANES_FROM) for q in QUESTIONS][: 3 * LANES_FROM]
    seen = []
    many = enc.encode(texts, progress=seen.append)
    alone = np.vstack([question_encoder().encode([t]) for t in texts])
    assert np.array_equal(many, alone) and sum(seen) == len(texts)
    assert np.array_equal(question_encoder().encode(texts), alone)  # the questions' encoder has no lanes
