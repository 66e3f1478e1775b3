"""The index: persistence, staleness, corruption, the model checksum, and atomic rebuilds."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from qa.embed import verified_weights
from qa.errors import IndexCorrupt, IndexMissing, IndexStale, ModelError
from qa.build import build
from qa.index import live_generation
from qa.library import load

from conftest import ROOT, SEED


def test_persisted_index_reloads_the_same(seed_index, loaded):
    again = load(seed_index)
    assert [s.text for s in again.sentences] == [s.text for s in loaded.sentences]
    assert again.sentence_vectors.__len__() == len(loaded.sentences)
    assert loaded.manifest["model"] == "all-MiniLM-L6-v2"
    assert len(loaded.manifest["model_sha256"]) == 64


def test_changed_document_rebuilds_or_refuses(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("The bridge opened in 1932. It cost 20 million dollars.\n", encoding="utf-8")
    folder = tmp_path / "index"
    build([str(doc)], folder)
    first = live_generation(folder)
    doc.write_text("The tunnel opened in 1950. It cost 9 million dollars.\n", encoding="utf-8")
    with pytest.raises(IndexStale):
        load(folder, rebuild=False)
    index = load(folder)
    assert live_generation(folder) != first
    assert any("tunnel" in s.text for s in index.sentences)
    assert not first.exists()


def test_missing_and_corrupt_index(tmp_path, seed_index):
    with pytest.raises(IndexMissing):
        load(tmp_path / "absent")
    broken = tmp_path / "broken"
    shutil.copytree(seed_index, broken)
    for f in broken.rglob("*"):
        if f.is_file() and f.name != "CURRENT":
            f.write_bytes(b"\x00garbage" * 7)
    with pytest.raises(IndexCorrupt):
        load(broken)
    (broken / "CURRENT").write_bytes(b"\x00garbage")
    with pytest.raises(IndexCorrupt):
        load(broken)


def test_model_checksum_is_checked(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ModelError, match="checksum"):
        verified_weights(tmp_path)
    with pytest.raises(ModelError, match="missing"):
        verified_weights(tmp_path / "nowhere")


def test_killed_rebuild_leaves_the_old_index(tmp_path, seed_index):
    """Kill a real rebuild midway (SIGKILL) several times; the folder always loads a whole index."""
    folder = tmp_path / "index"
    shutil.copytree(seed_index, folder)
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(f"Paragraph {i} says the river {i} is {i * 3} miles long. It floods in spring."
                               for i in range(400)), encoding="utf-8")
    for delay in (2.0, 5.0):
        p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "build", str(big), "--index-dir", str(folder)],
                             env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        index = load(folder, rebuild=False)
        texts = {s.text for s in index.sentences}
        assert any("Xiaomi" in t for t in texts) or any("river" in t for t in texts)
        assert index.sentence_vectors.__len__() == len(index.sentences)
