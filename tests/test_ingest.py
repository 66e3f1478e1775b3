"""Ingest: exact offsets, units kept whole, title and date, refused files."""
import pytest

from qa.errors import BadDocument
from qa.ingest import read_document, split_units
from qa.nlp import english

from conftest import SEED


def units_of(path):
    doc = read_document(path)
    return doc, *split_units(doc, english())


def test_offsets_round_trip_exactly():
    doc, units, _, _ = units_of(SEED)
    raw = SEED.read_text(encoding="utf-8")
    assert len(units) > 20
    for u in units:
        assert raw[u.start:u.end] == u.text
        for t in u.tokens:
            assert raw[t.start:t.end] == t.text


def test_headline_dateline_and_heading_are_their_own_units():
    _, units, title, date = units_of(SEED)
    kinds = {u.text: u.kind for u in units}
    assert kinds["May 13, 2022"] == "dateline"
    assert kinds["Xiaomi Car will start mass production in 2024"] == "headline"
    assert kinds["Xiaomi car"] == "heading"
    assert title == "Xiaomi Car will start mass production in 2024"
    assert date == "2022-05-13"


def test_sentences_are_split_by_a_real_segmenter(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("# Rivers\n\nThe U.S. has many rivers. Dr. Smith counted 3.5 million of them!\n\n- one item\n- two items\n",
                 encoding="utf-8")
    _, units, title, _ = units_of(p)
    texts = [u.text for u in units]
    assert title == "Rivers"
    assert "The U.S. has many rivers." in texts
    assert "Dr. Smith counted 3.5 million of them!" in texts
    assert p.read_text()[units[0].start:units[0].end] == "Rivers"


@pytest.mark.parametrize("content,why", [
    (b"", "empty"), (b"  \n\n \n", "empty"), (bytes(range(256)) * 8, "binary"),
    ("Caf\xe9 costs 5 euros.".encode("latin-1"), "UTF-8"),
])
def test_bad_documents_are_refused_with_a_reason(tmp_path, content, why):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(BadDocument, match=why):
        read_document(p)


def test_missing_document(tmp_path):
    with pytest.raises(BadDocument, match="no such file"):
        read_document(tmp_path / "nope.txt")


def test_pipeline_on_numpy_annotates_like_spacy_as_shipped():
    """english() runs spaCy's matrix products on numpy's BLAS (faster than thinc's blis here): every
    token's tag, part of speech, lemma, morphology, dependency and entity must stay as shipped."""
    import spacy
    from thinc.api import NumpyOps

    from qa.config import SPACY_MODEL

    nlp = english()
    assert all(not node.ops.use_blis for _, c in nlp.pipeline
               if getattr(c, "model", None) is not None for node in c.model.walk())
    shipped = spacy.load(SPACY_MODEL)
    assert isinstance(shipped.get_pipe("ner").model.ops, NumpyOps) and shipped.get_pipe("ner").model.ops.use_blis
    texts = [p for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]

    def annotations(pipeline):
        return [[(t.idx, t.tag_, t.pos_, t.lemma_, str(t.morph), t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in d]
                for d in pipeline.pipe(texts)]

    assert annotations(nlp) == annotations(shipped)
