"""The document library at help-centre scale: build throughput on short documents beside the bare
encoder, and the latency of adding and removing one document on an index of many.

- throughput: `build` of --sample short documents (real spaCy, real encoder, loaded beforehand) and
  the bare encoder on the same texts (each sentence and its window), same run;
- add / remove: an index of --docs short documents (units and facts by the real spaCy pipeline;
  vectors random unit vectors, which the latency of carrying them over does not depend on), then
  `add` of one new document and `remove` of it, in-process and as `python cli.py` commands (median
  of --runs each).

Usage: .venv/bin/python bench/bench_library.py [--docs 10000] [--sample 10000] [--runs 3] [--part both|throughput|library]
Writes bench/REPORT-library.md."""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPICS = ["password reset", "invoice download", "team invitation", "data export", "two-factor login",
          "billing address", "API token", "calendar sync", "mobile notifications", "storage quota"]


def article(i: int, rng: random.Random) -> str:
    topic = TOPICS[i % len(TOPICS)]
    n, days, price = rng.randint(2, 60), rng.randint(1, 30), rng.randint(5, 500)
    return (f"# How to manage {topic} (article {i})\n\n"
            f"Customers on the Plan{i % 7} tier can change their {topic} settings from the account page. "
            f"The change takes effect within {days} days for workspaces with more than {n} members. "
            f"Support agent Alex{i} wrote this guide on {2020 + i % 6}-0{1 + i % 9}-1{i % 10}. "
            f"An upgrade that includes {topic} costs {price} dollars a month.\n")


def write_docs(folder: Path, n: int, start: int = 0) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7 + start)
    paths = []
    for i in range(start, start + n):
        p = folder / f"article-{i:05d}.md"
        if not p.exists():
            p.write_text(article(i, rng), encoding="utf-8")
        paths.append(str(p))
    return paths


class RandomVectors:
    """Unit vectors of the encoder's width, for an index whose vectors' values do not matter here."""

    def __init__(self, real):
        self.name, self.checksum = real.name, real.checksum
        self.rng = np.random.default_rng(3)

    def encode(self, texts, progress=None):
        v = self.rng.standard_normal((len(texts), 384)).astype("float32")
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def throughput(work: Path, sample: int) -> dict:
    from qa.embed import default_encoder
    from qa.generation import windows
    from qa.build import build
    from qa.library import load

    enc = default_encoder()
    paths = write_docs(work / "sample", sample, start=50_000)
    enc.encode(["warm up"])
    t = time.perf_counter()
    build(paths, work / "sample-index", encoder=enc)
    took = time.perf_counter() - t
    idx = load(work / "sample-index")
    units = idx.sentences.many(list(range(len(idx.sentences))))
    step = max(1, len(units) // BARE_SAMPLE)  # the bare encoder's rate, measured on every step-th unit
    some = units[::step]
    texts = [u.text for u in some] + windows(units)[::step]
    t = time.perf_counter()
    enc.encode(texts)
    bare = (time.perf_counter() - t) * len(units) / len(some)
    return {"docs": sample, "units": len(units), "build_s": took, "bare_s": bare, "bare_sampled_units": len(some),
            "docs_per_s": sample / took, "units_per_s": len(units) / took, "bare_units_per_s": len(units) / bare,
            "ratio": bare / took}


BARE_SAMPLE = 5_000  # units whose texts the bare encoder times; its rate does not depend on more


def library(work: Path, docs: int, runs: int) -> dict:
    from qa.embed import default_encoder
    from qa.build import build
    from qa.library import EmbeddedShelf, add, remove

    folder = work / f"index-{docs}"
    paths = write_docs(work / "docs", docs)
    if not (folder / "CURRENT").exists():
        t = time.perf_counter()
        build(paths, folder, encoder=RandomVectors(default_encoder()))
        print(f"index of {docs} documents made in {time.perf_counter() - t:.0f} s", flush=True)
    extra = write_docs(work / "extra", 1, start=90_000)[0]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out: dict = {"docs": docs, "add_s": [], "remove_s": [], "cli_add_s": [], "cli_remove_s": []}
    for _ in range(runs):
        t = time.perf_counter()
        add(EmbeddedShelf(folder), [extra])
        out["add_s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        remove(EmbeddedShelf(folder), [Path(extra).name])
        out["remove_s"].append(time.perf_counter() - t)
        for cmd, key in ((["add", extra], "cli_add_s"), (["remove", Path(extra).name], "cli_remove_s")):
            t = time.perf_counter()
            subprocess.run([sys.executable, "cli.py", *cmd, "--index-dir", str(folder)], cwd=ROOT, env=env, check=True,
                           capture_output=True)
            out[key].append(time.perf_counter() - t)
    from qa.index import read_manifest

    out["units"] = read_manifest(folder)["sentences"]
    return out


def report(tp: dict, lib: dict) -> str:
    med = statistics.median
    return "\n".join([
        "# Document library benchmark (bench/bench_library.py)", "",
        "Machine: 2 cores; one run; medians.", "",
        "## Build throughput (short help-centre articles, real spaCy and encoder)", "",
        f"- {tp['docs']} documents, {tp['units']} units: build {tp['build_s']:.1f} s = {tp['docs_per_s']:.2f} documents/s, "
        f"{tp['units_per_s']:.1f} units/s; the bare encoder on the same texts (each unit and its window; timed on "
        f"{tp['bare_sampled_units']:,} of the units, scaled) {tp['bare_s']:.1f} s = {tp['bare_units_per_s']:.1f} units/s; "
        f"build / bare = {tp['ratio']:.2f}.", "",
        f"## Adding and removing one document on an index of {lib['docs']:,} documents ({lib['units']:,} units)", "",
        f"- in-process: add {med(lib['add_s']):.2f} s, remove {med(lib['remove_s']):.2f} s (median of {len(lib['add_s'])})",
        f"- `python cli.py add` {med(lib['cli_add_s']):.2f} s, `python cli.py remove` {med(lib['cli_remove_s']):.2f} s "
        "(whole process, start-up included)", "",
        "A change writes a new generation: the other documents' rows are copied inside SQLite and their vectors "
        "and BM25 term counts sliced from the live generation's files (nothing parsed, embedded or tokenized "
        "again); BM25 is computed again from the counts, term frequencies change by difference. What remains "
        "grows with the index's size (copying, fsync), not with parsing. `python cli.py add` also loads spaCy "
        "and the torch encoder (most of its extra time).", ""])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-bench-library"))
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=10_000)
    ap.add_argument("--part", choices=["both", "throughput", "library"], default="both",
                    help="measure one part again; the other's figures are read from the last run's results")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT-library.md")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    a.work.mkdir(parents=True, exist_ok=True)
    saved = a.report.with_name("library-results.json")
    results = json.loads(saved.read_text()) if saved.exists() and a.part != "both" else {}
    if a.part in ("both", "throughput"):
        shutil.rmtree(a.work / "sample-index", ignore_errors=True)
        results["throughput"] = throughput(a.work, a.sample)
        print(results["throughput"], flush=True)
    if a.part in ("both", "library"):
        results["library"] = library(a.work, a.docs, a.runs)
        print(results["library"], flush=True)
    saved.write_text(json.dumps(results, indent=1))
    a.report.write_text(report(results["throughput"], results["library"]))
    print(a.report.read_text())


if __name__ == "__main__":
    main()
