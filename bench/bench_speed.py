"""Speed, one command: on the seed article, cold `ask` beside the bare floor, warm latency (in-process and
in batch) beside the bare model time of the same questions, peak memory of `ask`, `batch` and `serve`;
then the index at 10k, 100k and 1M sentences: build throughput beside the bare encoder, open time,
question latency, recall of the approximate index, memory. Writes a Markdown report.

10k: the 61 SQuAD training articles and the news articles, built with `cli.py build`'s own code (its
throughput is measured beside the bare encoder on the same texts). 100k and 1M: that index's rows
repeated, each copy a new document whose numbers and the vowels of its names are changed (same length,
so offsets stay exact), its vectors the originals plus noise (cosine ~0.9 to them), written through the
same generation writer (vectors, BM25, SQLite, manifest) as a build.

Usage: .venv/bin/python bench/bench_speed.py [--work DIR] [--tiers 10000,100000,1000000] [--report F]
Takes about an hour on 2 cores the first time (tiers are kept in --work and reused)."""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
SQUAD = [SHARED / "squad" / "squad-v2.0-train-part.json", SHARED / "squad" / "squad-v2.0-train-extra.json"]
NEWS = sorted((SHARED / "news").glob("*.txt")) + sorted((ROOT / "seeds").glob("*.txt"))


def squad_articles() -> list[tuple[str, str, list[str]]]:
    """(title, text, questions) of each training article: paragraphs separated by blank lines."""
    out = []
    for path in SQUAD:
        for a in json.loads(path.read_text())["data"]:
            text = a["title"].replace("_", " ") + "\n\n" + "\n\n".join(p["context"] for p in a["paragraphs"])
            qs = [q["question"] for p in a["paragraphs"] for q in p["qas"] if not q.get("is_impossible")]
            out.append((a["title"], text, qs))
    return out


def peak_child(cmd: list[str], stdin: bytes | None = None) -> tuple[float, float, bytes]:
    """Wall seconds, peak resident MiB and stdout of one child process (measured by a wrapper)."""
    wrap = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],input=sys.stdin.buffer.read(),capture_output=True);"
            "w=time.perf_counter()-t;sys.stderr.buffer.write(p.stdout);"
            "print(json.dumps([w,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,p.returncode]))")
    p = subprocess.run([sys.executable, "-c", wrap, *cmd], input=stdin or b"", capture_output=True, cwd=ROOT,
                       env=dict(os.environ, HF_HUB_OFFLINE="1"))
    wall, mib, rc = json.loads(p.stdout)
    if rc != 0:
        raise SystemExit(f"{cmd[:3]} failed with {rc}")
    return wall, mib, p.stderr


def write_base_docs(work: Path, articles: int | None = None) -> list[str]:
    """The SQuAD training articles (the first `articles` of them, or all and the news) as text files."""
    docs = work / "docs" / ("base" if articles is None else f"first-{articles}")
    docs.mkdir(parents=True, exist_ok=True)
    paths = []
    chosen = squad_articles()[:articles] if articles else squad_articles()
    for title, text, _ in chosen:
        p = docs / f"{title}.txt"
        p.write_text(text, encoding="utf-8")
        paths.append(str(p))
    for n in ([] if articles else NEWS):
        p = docs / n.name
        p.write_text(n.read_text(encoding="utf-8"), encoding="utf-8")
        paths.append(str(p))
    return paths


def build_base(work: Path) -> Path:
    """The 10k tier, by the build's own code."""
    from qa.build import build

    folder = work / "tier-base"
    if not (folder / "CURRENT").exists():
        build(write_base_docs(work), folder)
    return folder


def throughput(work: Path, articles: int, runs: int = 3) -> dict:
    """Build throughput on the first SQuAD articles beside the bare encoder on the same texts (each
    sentence and its window), in this run: `runs` builds, each followed by the bare encoder, and the
    medians (the machine is shared, so one pair alone can be off by a few percent). Both are timed
    warm: the models are loaded first (the encoder with its lanes, made by its first call with many
    texts, and spaCy's pipeline) and a build of one short document imports the writing stage (SQLite,
    FAISS, BM25) before the builds timed."""
    import shutil

    from qa.store import sqlite as store
    from qa.embed import LANES_FROM, default_encoder
    from qa.build import build
    from qa.generation import windows
    from qa.index import live_generation
    from qa.nlp import english

    folder = work / f"throughput-{articles}"
    shutil.rmtree(folder, ignore_errors=True)
    paths = write_base_docs(work, articles)
    enc = default_encoder()
    enc.encode(["warm up"] * LANES_FROM)
    english()
    warm = work / "docs" / "warm-up.txt"
    warm.write_text(Path(paths[0]).read_text(encoding="utf-8")[:2000], encoding="utf-8")
    build([str(warm)], work / "throughput-warm-up", encoder=enc)
    builds, bares = [], []
    for _ in range(runs):
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        build(paths, folder, encoder=enc)
        builds.append(time.perf_counter() - t)
        db = store.open_readonly(live_generation(folder) / "store.sqlite")
        units = store.read_sentences(db)
        db.close()
        texts = [u.text for u in units] + windows(units)
        t = time.perf_counter()
        enc.encode(texts)
        bares.append(time.perf_counter() - t)
    return {"documents": len(paths), "sentences": len(units), "build_s": statistics.median(builds),
            "bare_encoder_s": statistics.median(bares), "texts_encoded": len(texts), "runs": runs,
            "ratios": [round(b / a, 3) for a, b in zip(builds, bares)],
            "ratio_median": statistics.median(b / a for a, b in zip(builds, bares))}


def variant(text: str, c: int) -> str:
    """Copy c of a text: digits rotated by c, vowels of capitalized words rotated by c // 10 (same length)."""
    digits = str.maketrans("0123456789", "".join(str((d + c) % 10) for d in range(10)))
    text = text.translate(digits)
    shift = (c // 10) % 5
    if not shift:
        return text
    vowels = "aeiou"
    table = str.maketrans(vowels, vowels[shift:] + vowels[:shift])
    return " ".join(w.translate(table) if w[:1].isupper() else w for w in text.split(" "))


def build_tier(work: Path, base: Path, target: int) -> Path:
    """An index of about `target` sentences made of varied copies of the base index."""
    from qa.store import sqlite as store
    from qa.generation import commit_generation, document_entry, new_generation, windows, write_search_files
    from qa.index import live_generation
    from qa.lexical import TermCounts

    folder = work / f"tier-{target}"
    if (folder / "CURRENT").exists():
        return folder
    gen = live_generation(base)
    src = sqlite3.connect(str(gen / "store.sqlite"))
    doc_rows = src.execute("SELECT id, path, sha256, title, date FROM documents ORDER BY id").fetchall()
    sent_rows = src.execute("SELECT doc_id, position, paragraph, start, end, kind, text, tokens, entities, chunks"
                            " FROM sentences ORDER BY id").fetchall()
    fact_rows = src.execute("SELECT kind, subject, attribute, value, normalized, unit, period, qualifier, doc, start,"
                            " end, derived_from, formula FROM facts ORDER BY id").fetchall()
    terms = src.execute("SELECT word, df FROM terms").fetchall()
    words = [w for (w,) in src.execute("SELECT word FROM words")]
    units = store.read_sentences(src)
    base_windows = windows(units)
    sv0, wv0 = np.load(gen / "sentences.npy"), np.load(gen / "windows.npy")
    heading0 = np.load(gen / "heading.npy")
    copies = max(1, round(target / len(sent_rows)))
    tmp = new_generation(folder)
    db = store.create(tmp / "store.sqlite")
    rng = np.random.default_rng(7)
    texts, win_texts, sv, wv, docs = [], [], [], [], []
    nd, nf = len(doc_rows), len(fact_rows)
    for c in range(copies):
        print(f"  copy {c + 1}/{copies}", end="\r", flush=True)
        paths = {}
        for did, path, sha, title, date in doc_rows:
            p = work / "docs" / f"tier-{target}" / f"c{c:03d}" / Path(path).name
            p.parent.mkdir(parents=True, exist_ok=True)
            if not p.exists():
                p.write_text(variant(Path(path).read_text(encoding="utf-8"), c), encoding="utf-8")
            paths[path] = str(p)
            db.execute("INSERT INTO documents (id, path, sha256, title, date) VALUES (?,?,?,?,?)", (c * nd + did, str(p), f"{c}-{sha}", title, date))
            docs.append(document_entry(str(p), f"{c}-{sha}"))
        db.executemany("INSERT INTO sentences (doc_id, position, paragraph, start, end, kind, text, tokens, entities,"
                       " chunks) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       [(c * nd + r[0], *r[1:6], variant(r[6], c), *r[7:]) for r in sent_rows])
        db.executemany("INSERT INTO facts (kind, subject, attribute, value, normalized, unit, period, qualifier, doc,"
                       " start, end, derived_from, formula) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       [(*r[:8], paths.get(r[8], r[8]), r[9], r[10],
                         json.dumps([c * nf + k for k in json.loads(r[11])]) if r[11] != "null" else r[11], r[12])
                        for r in fact_rows])
        texts += [variant(r[6], c) for r in sent_rows]
        win_texts += [variant(w, c) for w in base_windows]
        for v0, out in ((sv0, sv), (wv0, wv)):
            v = v0 if c == 0 else v0 + rng.normal(0, 0.5 / np.sqrt(v0.shape[1]), v0.shape).astype("float32")
            out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    print()
    db.executemany("INSERT INTO terms VALUES (?,?)", [(w, df * copies) for w, df in terms])
    db.executemany("INSERT OR IGNORE INTO words (word) VALUES (?)", [(variant(w, c),) for c in range(min(copies, 50)) for w in words])
    db.commit()
    db.close()
    t = time.perf_counter()
    write_search_files(tmp, np.tile(heading0, copies), np.concatenate(sv), np.concatenate(wv),
                       TermCounts.of_texts(texts), TermCounts.of_texts(win_texts))
    print(f"  search files for {len(texts):,} sentences in {time.perf_counter() - t:.0f} s")
    manifest = json.loads((gen / "manifest.json").read_text())
    commit_generation(folder, tmp, {"model": manifest["model"], "model_sha256": manifest["model_sha256"],
                                    "documents": docs, "facts": nf * copies})
    return folder


OPEN = """
import sys, time
from pathlib import Path
from qa.library import load
t = time.perf_counter()
index = load(Path(sys.argv[1]), rebuild=False)
print(time.perf_counter() - t)
"""


def measure(folder: Path, questions: list[str], runs: int) -> dict:
    """Open time (fresh processes), warm question latency, recall@10 of the approximate index, memory."""
    from qa.config import settings
    from qa.dense import top_ids
    from qa.embed import question_encoder
    from qa.library import load
    from qa.pipeline import ask_batch, retrieve
    from qa.read.reader import default_reader

    opens = sorted(float(subprocess.run([sys.executable, "-c", OPEN, str(folder)], capture_output=True, cwd=ROOT,
                                        check=True).stdout) for _ in range(runs))
    index = load(folder, rebuild=False)
    enc, reader, cfg = question_encoder(), default_reader(), settings()
    for q in questions[:3]:
        ask_batch(index, [q], encoder=enc, reader=reader)
    retrieval, total = [], []
    for q in questions:  # asked first, so that the question's rows are not yet in the page cache
        t = time.perf_counter()
        ask_batch(index, [q], encoder=enc, reader=reader)
        total.append(time.perf_counter() - t)
        t = time.perf_counter()
        retrieve(index, [q], cfg.candidates, enc)
        retrieval.append(time.perf_counter() - t)
    vecs = enc.encode(questions)
    recall = []
    if index.sentence_vectors.ann is not None:
        for found, v in zip(index.sentence_vectors.search(vecs, 10), vecs):
            exact = top_ids(np.asarray(index.sentence_vectors.matrix @ v), 10)
            recall.append(len(set(found[0][:10].tolist()) & set(exact.tolist())) / 10)
    wall, mib, _ = peak_child([sys.executable, "cli.py", "ask", questions[0], "--index-dir", str(folder)])
    batch_in = "".join(json.dumps({"question": q}) + "\n" for q in questions[:20]).encode()
    bwall, bmib, _ = peak_child([sys.executable, "cli.py", "batch", "--index-dir", str(folder)], batch_in)
    pct = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    return {"sentences": len(index.sentences), "dense": index.manifest["dense"],
            "open_s": statistics.median(opens), "retrieve_p50_ms": pct(retrieval, 0.5),
            "retrieve_p95_ms": pct(retrieval, 0.95), "ask_p50_ms": pct(total, 0.5), "ask_p95_ms": pct(total, 0.95),
            "recall_at_10": statistics.mean(recall) if recall else 1.0, "ask_cold_s": wall, "ask_peak_mib": mib,
            "batch20_s": bwall, "batch_peak_mib": bmib,
            "disk_mib": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20}


def seed_figures(work: Path, runs: int) -> dict:
    """Cold and warm figures on the seed article, each beside its bare baseline, and peak memory."""
    import shutil
    import socket

    from bench_startup import FLOOR, timed
    from qa.config import settings
    from qa.embed import question_encoder
    from qa.build import build
    from qa.library import load
    from qa.pipeline import ask, ask_batch, retrieve
    from qa.read.reader import default_reader

    folder = work / "seed-index"
    seed = ROOT / "seeds" / "000_04952f5ecc9a8f4e.txt"
    doc = work / seed.name
    shutil.copy(seed, doc)
    if not (folder / "CURRENT").exists():
        build([str(doc)], folder)
    gold = SHARED / "gold" / "seed-questions.jsonl"
    questions = [json.loads(line)["question"] for line in gold.read_text().splitlines() if line.strip()]
    ask_cmd = [sys.executable, "cli.py", "ask", questions[0], "--index-dir", str(folder)]
    colds = [peak_child(ask_cmd)[:2] for _ in range(runs)]
    floors = [timed([sys.executable, "-c", FLOOR]) for _ in range(runs)]
    index, enc, reader = load(folder), question_encoder(), default_reader()
    n_read = settings().read_candidates
    ask(index, questions[0], encoder=enc, reader=reader)
    warm, bare = [], []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            a = ask(index, q, encoder=enc, reader=reader)
            warm.append(time.perf_counter() - t)
            read = [h.sentence for h in retrieve(index, [q], settings().candidates, enc)[1][0][:n_read]]  # what it read
            around = [index.around(s) for s in read]
            t = time.perf_counter()
            enc.encode([q])
            reader.read([q] * len(read), [s.text for s in read], [b.text if b else "" for b, _ in around],
                        [x.text if x else "" for _, x in around])
            bare.append(time.perf_counter() - t)
    t = time.perf_counter()
    ask_batch(index, questions, encoder=enc, reader=reader)
    batch_per_q = (time.perf_counter() - t) / len(questions)
    batch_in = "".join(json.dumps({"question": q}) + "\n" for q in questions).encode()
    bwall, bmib, _ = peak_child([sys.executable, "cli.py", "batch", "--index-dir", str(folder)], batch_in)
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    server = subprocess.Popen([sys.executable, "cli.py", "serve", "--port", str(port), "--index-dir", str(folder)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for q in questions:
            httpx.post(f"http://127.0.0.1:{port}/v1/ask", json={"question": q}, timeout=60)
        status = Path(f"/proc/{server.pid}/status").read_text()
        serve_mib = int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024
    finally:
        server.terminate()
        server.wait()
    med = statistics.median
    return {"questions": len(questions), "runs": runs, "cold_s": med(w for w, _ in colds),
            "ask_peak_mib": max(m for _, m in colds), "floor_s": med(w for w, _ in floors),
            "warm_p50_ms": med(warm) * 1000, "warm_p95_ms": sorted(warm)[int(0.95 * (len(warm) - 1))] * 1000,
            "bare_p50_ms": med(bare) * 1000, "ratio": med(w / b for w, b in zip(warm, bare)),
            "batch_per_q_ms": batch_per_q * 1000, "batch_per_q_ratio": batch_per_q / med(bare),
            "batch_wall_s": bwall, "batch_peak_mib": bmib, "serve_peak_mib": serve_mib, "read": n_read}


def seed_report(f: dict) -> list[str]:
    return ["## Seed article", "",
            f"- cold `ask` (new process, median of {f['runs']}): {f['cold_s']:.2f} s, peak {f['ask_peak_mib']:.0f} MiB; "
            f"the floor (a process that imports onnxruntime and tokenizers, loads the encoder and the reader and "
            f"reads one question): {f['floor_s']:.2f} s; ratio {f['cold_s'] / f['floor_s']:.2f}",
            f"- warm `ask` in-process ({f['questions']} gold questions x 3): p50 {f['warm_p50_ms']:.0f} ms, p95 "
            f"{f['warm_p95_ms']:.0f} ms; the bare model time of the same questions (encoder + the reader's "
            f"{f['read']} forward passes over the sentences it read): p50 {f['bare_p50_ms']:.0f} ms; median "
            f"per-question ratio {f['ratio']:.2f}",
            f"- in one batch (`ask_batch` of all {f['questions']}): {f['batch_per_q_ms']:.0f} ms a question, "
            f"{f['batch_per_q_ratio']:.2f}x the bare p50; `cli.py batch` of them in a new process: "
            f"{f['batch_wall_s']:.1f} s wall, peak {f['batch_peak_mib']:.0f} MiB",
            f"- `serve` after answering them: peak {f['serve_peak_mib']:.0f} MiB", ""]


def report(base: dict, rows: list[dict], seed: dict | None = None) -> str:
    lines = ["# Speed benchmark (`bench/bench_speed.py`)", "", *(seed_report(seed) if seed else []),
             "## Index scale", "",
             f"Machine: {os.cpu_count()} cores. Same run for every figure. Build throughput (`build` of "
             f"{base['documents']} SQuAD training articles, {base['sentences']:,} sentences, the models "
             f"loaded and warm): {base['build_s']:.0f} s, {base['sentences'] / base['build_s']:.1f} sentences/s; the bare "
             f"encoder on the same texts (each sentence and its window, {base['texts_encoded']:,} texts): "
             f"{base['bare_encoder_s']:.0f} s, {base['sentences'] / base['bare_encoder_s']:.1f} sentences/s; "
             f"build / bare = {base['bare_encoder_s'] / base['build_s']:.2f} (medians of {base['runs']} builds, each "
             f"followed by the bare encoder; the pairs' ratios: {', '.join(f'{r:.2f}' for r in base['ratios'])}).", "",
             "| sentences | dense search | open (median) | retrieve p50 / p95 | ask p50 / p95 (with reader) | "
             "recall@10 vs exact | cold `ask` wall, peak | `batch` of 20, peak | on disk |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r["dense"]["kind"] + (f" (nlist {r['dense']['nlist']}, nprobe {r['dense']['nprobe']})" if "nlist" in r["dense"] else "")
        lines.append(f"| {r['sentences']:,} | {d} | {r['open_s'] * 1000:.0f} ms | {r['retrieve_p50_ms']:.0f} / "
                     f"{r['retrieve_p95_ms']:.0f} ms | {r['ask_p50_ms']:.0f} / {r['ask_p95_ms']:.0f} ms | "
                     f"{r['recall_at_10']:.3f} | {r['ask_cold_s']:.1f} s, {r['ask_peak_mib']:.0f} MiB | "
                     f"{r['batch20_s']:.1f} s, {r['batch_peak_mib']:.0f} MiB | {r['disk_mib']:.0f} MiB |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-bench-scale"))
    ap.add_argument("--tiers", default="10000,100000,1000000")
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--articles", type=int, default=8, help="SQuAD articles built for the throughput figure")
    ap.add_argument("--build-only", action="store_true", help="make the tiers, measure nothing")
    ap.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT-speed.md")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    a.work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "bench"))
    targets = [int(t) for t in a.tiers.split(",")]
    base = build_base(a.work)
    n_base = json.loads((base / "CURRENT").parent.joinpath((base / "CURRENT").read_text().strip(), "manifest.json").read_text())["sentences"]
    folders = [base if t <= n_base * 1.5 else build_tier(a.work, base, t) for t in targets]
    if a.build_only:
        return
    seed = seed_figures(a.work, a.runs)
    print(json.dumps(seed))
    base_stats = throughput(a.work, a.articles)
    print(json.dumps(base_stats))
    rng = random.Random(5)
    questions = rng.sample([q for _, _, qs in squad_articles() for q in qs], a.questions)
    rows = []
    for folder in folders:
        rows.append(measure(folder, questions, a.runs))
        print(json.dumps(rows[-1]))
        a.report.write_text(report(base_stats, rows, seed))
    print(a.report.read_text())


if __name__ == "__main__":
    main()
