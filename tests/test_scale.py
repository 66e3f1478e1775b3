"""An index that opens without loading: sentences read by id when needed, and above the size threshold
an approximate dense index (IVF, memory-mapped) that finds what exact search finds."""
import numpy as np
import pytest

from qa import dense
from qa.dense import top_ids
from qa.embed import question_encoder
from qa.build import build
from qa.index import live_generation
from qa.library import load
from qa.pipeline import ask

from conftest import SEED

QUESTIONS = ["When does mass production start?", "Who is the CEO of the Xiaomi car company?",
             "How many people work on research and development?", "What was the adjusted net profit?",
             "How much did total revenue grow?", "Where is the factory?"]


@pytest.fixture(scope="module")
def approximate_index(tmp_path_factory):
    """Five copies of the seed article (numbers changed) indexed with the threshold lowered to 50 rows."""
    folder = tmp_path_factory.mktemp("approx")
    text = SEED.read_text(encoding="utf-8")
    docs = []
    for c in range(5):
        p = folder / f"copy{c}.txt"
        p.write_text(text.translate(str.maketrans("0123456789", "".join(str((d + c) % 10) for d in range(10)))),
                     encoding="utf-8")
        docs.append(str(p))
    mp = pytest.MonkeyPatch()
    mp.setattr(dense, "APPROXIMATE_FROM", 50)
    try:
        build(docs, folder / "index")
    finally:
        mp.undo()
    return folder / "index"


def test_large_index_is_approximate_and_recorded(approximate_index):
    index = load(approximate_index, rebuild=False)
    assert index.manifest["dense"]["kind"] == "ivf-sq8"
    assert (live_generation(approximate_index) / "sentences.ivf").is_file()
    assert index.sentence_vectors.ann is not None and len(index.sentences) > 50


def test_approximate_search_finds_what_exact_search_finds(approximate_index):
    index = load(approximate_index, rebuild=False)
    vectors = question_encoder().encode(QUESTIONS)
    recalls = []
    for (found, mean, sd, _), v in zip(index.sentence_vectors.search(vectors, 10), vectors):
        exact = np.asarray(index.sentence_vectors.matrix @ v)
        assert abs(mean - exact.mean()) < 0.02 and abs(sd - exact.std()) < 0.02
        recalls.append(len(set(found.tolist()) & set(top_ids(exact, 10).tolist())) / 10)
    assert np.mean(recalls) >= 0.9


def test_opening_reads_no_sentence_and_a_question_reads_few(approximate_index):
    index = load(approximate_index, rebuild=False)
    assert len(index.sentences._cache) == 0
    a = ask(index, "When does mass production start?")
    assert a.answer and not a.abstained
    assert 0 < len(index.sentences._cache) < len(index.sentences)


def test_sentences_by_id_match_a_full_read(loaded):
    from qa.store import sqlite as store

    every = store.read_sentences(loaded.db)
    assert [s.text for s in loaded.sentences] == [s.text for s in every]
    assert loaded.sentences[3].text == every[3].text and loaded.sentences[-1].id == len(every) - 1
    assert [s.id for s in loaded.sentences.many([5, 1, 5])] == [5, 1, 5]


def test_questions_asked_from_threads_at_once_get_the_answers_asked_alone(approximate_index):
    """Retrieval scores its lexical side on a thread of its own and the reader runs on two lanes:
    questions answered side by side must come out as they do one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    index = load(approximate_index, rebuild=False)
    alone = [ask(index, q) for q in QUESTIONS]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda q: ask(index, q), QUESTIONS * 2))
    key = lambda a: (a.answer, a.abstained, [(h.sentence.doc, h.sentence.start) for h in a.hits])  # noqa: E731
    assert [key(a) for a in together] == [key(a) for a in alone] * 2


def test_numpy_works_on_one_blas_thread_once_a_question_is_asked(loaded):
    """OpenBLAS's spinning workers would take the cores the reader's lanes need."""
    from threadpoolctl import threadpool_info

    ask(loaded, "When does mass production start?")
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)
