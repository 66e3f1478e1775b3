"""The command line (Typer): thin commands over the pipeline; user errors become one line on stderr.

A command imports the stage it runs inside itself, and only it: importing the pipeline costs about
0.2 s, the server 0.45 s and evaluation 0.2 s on top of this module's 0.07-0.1 s (measured with
`import` timings on this machine), so `--help`, `docs` and `collections` answer at once and `ask`
loads no server. Those imports are marked "at use"."""
from __future__ import annotations

import functools
import gc
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from .collections import BadCollection, collection_name, embedded_names, folder_of, store_of
from .config import ServeSettings, settings
from .errors import BadDocument, QAError
from .render import (render_answer, render_documents, render_eval, render_facts, render_feedback, render_gap,
                     terminal_progress)
from .store import is_database

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Ask questions about your documents; answers cite the sentence they come from.")
err = Console(stderr=True)
out = Console()

GRACEFUL_SECONDS = 8  # see serve
IndexDir = typer.Option(None, "--index-dir", help="Index folder (default: index/ in the project, or $QA_INDEX_DIR).")
Glob = typer.Option(None, "--glob", help='Only files in folders matching this, e.g. "*.html".')
Exclude = typer.Option([], "--exclude", help=".gitignore-style pattern of files to leave out (repeatable).")


def user_errors(fn):
    """Turn the errors a user can cause into one clear line on stderr and exit 1."""

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except QAError as e:
            sys.stderr.write(f"error: {' '.join(str(e).split())}\n")
            raise typer.Exit(1)
        except KeyboardInterrupt:
            raise typer.Exit(130)

    return wrapper


def progress_bar():
    """A progress callback that draws a bar on stderr's terminal, and is silent elsewhere."""
    return terminal_progress(err)


@app.callback()
def options(store: Optional[str] = typer.Option(
        None, "--store", help="Where the index lives: a postgresql:// URL (PostgreSQL with pgvector), or "
                              "nothing for the embedded index folder (default: $QA_STORE)."),
            collection: Optional[str] = typer.Option(
        None, "--collection", help="Work on this collection: a library kept apart from the others, with its own "
                                   "documents and conversations (default: $QA_COLLECTION, else the default one).")):
    """Ask questions about your documents."""
    import os

    if collection is not None:
        try:
            collection_name(collection)
        except BadCollection as e:
            sys.stderr.write(f"error: --collection: {e}\n")
            raise typer.Exit(2)
        os.environ["QA_COLLECTION"] = collection
    if store is not None:
        if store and not is_database(store):
            sys.stderr.write("error: --store takes a PostgreSQL URL such as postgresql://user@host:5432/db, "
                             "or nothing for the embedded index.\n")
            raise typer.Exit(2)
        os.environ["QA_STORE"] = store


def _database() -> str | None:
    """The PostgreSQL URL the commands work on (in the collection's schema), or None for the embedded store."""
    cfg = settings()
    return store_of(cfg.store, collection_name(cfg.collection)) if is_database(cfg.store) else None


def _folder(index_dir: Optional[Path]) -> Path:
    """The embedded index folder the commands work on: the collection's, under --index-dir."""
    cfg = settings()
    return folder_of(index_dir or cfg.index_dir, collection_name(cfg.collection))


def _library(name: str, index_dir: Optional[Path]):
    """The library command `name` (add, remove, update) on the chosen store, and where it works."""
    from .pipeline import library_commands  # at use (see the module's docstring)

    chosen, where = library_commands(index_dir)
    return chosen[name], where


def _open(index_dir: Optional[Path], no_rebuild: bool = False):
    from .pipeline import open_index  # at use (see the module's docstring)

    return open_index(index_dir, rebuild=not no_rebuild, progress=progress_bar())


@app.command()
@user_errors
def build(docs: List[Path] = typer.Argument(..., help="Files or folders: text, Markdown, HTML, PDF or DOCX (told by content)."),
          index_dir: Optional[Path] = IndexDir,
          glob: Optional[str] = Glob, exclude: List[str] = Exclude):
    """Index documents. Example: python cli.py build seeds/ --index-dir index"""
    from .build import build as build_index  # at use (see the module's docstring)

    folder = _folder(index_dir)
    skipped: list[str] = []

    def skip(line: str) -> None:
        skipped.append(line)
        _say(line)

    if _database():
        from . import postgres  # at use (see the module's docstring)

        postgres.build([str(d) for d in docs], _database(), progress=progress_bar(), skipped=skip, glob=glob, exclude=exclude)
        m, folder = postgres.open_index(_database(), rebuild=False).manifest, "the PostgreSQL store"
        if settings().collection:
            folder += f" (collection {settings().collection})"
    else:
        gen = build_index([str(d) for d in docs], folder, progress=progress_bar(), skipped=skip, glob=glob, exclude=exclude)
        m = json.loads((gen / "manifest.json").read_text())
    err.print(f"Indexed {len(m['documents'])} document(s), {m['sentences']} units, {m['facts']} facts into {folder}"
              + (f"; skipped {len(skipped)} file(s)" if skipped else ""), markup=False, highlight=False, soft_wrap=True)


def _start_loading_models() -> None:
    """The question encoder and the reader load on threads while the question path is imported and
    the index opened."""
    from .embed import question_encoder  # at use (see the module's docstring)
    from .read.reader import default_reader  # at use (see the module's docstring)

    question_encoder.start()
    default_reader.start()


@app.command()
@user_errors
def ask(question: str = typer.Argument(..., help="The question, in plain words."), index_dir: Optional[Path] = IndexDir,
        as_json: bool = typer.Option(False, "--json", help="Print the answer object (CONTRACT.md)."),
        k: int = typer.Option(None, "--k", help="How many sources to show."),
        no_rebuild: bool = typer.Option(False, "--no-rebuild", help="Refuse a stale index instead of rebuilding it."),
        doc: Optional[str] = typer.Option(None, "--doc", help='Only documents whose path, name or title match, e.g. "*.pdf".'),
        since: Optional[str] = typer.Option(None, "--since", help="Only documents dated on or after, e.g. 2023-03."),
        until: Optional[str] = typer.Option(None, "--until", help="Only documents dated on or before, e.g. 2023.")):
    """Answer one question. Example: python cli.py ask "When does mass production start?" """
    _start_loading_models()
    from .pipeline import ask as ask_one, check_k, check_question  # at use (see the module's docstring)
    from .scope import make_scope  # at use (see the module's docstring)

    q = check_question(question, settings().max_question_chars)
    check_k(k)
    scope = make_scope(doc, since, until)
    index = _open(index_dir, no_rebuild)
    a = ask_one(index, q, k=k, scopes=[scope])
    if as_json:
        print(json.dumps(a.as_dict(), ensure_ascii=False), flush=True)
    else:
        render_answer(out, a, k or 3)
    from .asked import asked_from, write  # at use (see the module's docstring)

    write(index.question_log, [asked_from(a.as_dict(), "ask")])  # once the answer is out


@app.command()
@user_errors
def batch(index_dir: Optional[Path] = IndexDir,
          no_rebuild: bool = typer.Option(False, "--no-rebuild", help="Refuse a stale index instead of rebuilding it.")):
    """Answer JSON lines from stdin, one JSON line out each (CONTRACT.md).
    Example: echo '{"id": "q1", "question": "Who is the CEO?"}' | python cli.py batch"""
    _start_loading_models()
    from .batch import run_batch  # at use (see the module's docstring)

    # bytes that are not UTF-8 become lone surrogates, which that line's check refuses: the other lines go on
    sys.stdin.reconfigure(errors="surrogateescape")
    run_batch(sys.stdin, sys.stdout, lambda: _open(index_dir, no_rebuild))


@app.command()
@user_errors
def chat(index_dir: Optional[Path] = IndexDir):
    """Talk with the bot in the terminal; follow-up questions are understood. Example: python cli.py chat"""
    from .chat import run_chat  # at use (see the module's docstring)

    run_chat(lambda: _open(index_dir), out, err)


@app.command()
@user_errors
def facts(index_dir: Optional[Path] = IndexDir,
          kind: Optional[str] = typer.Option(None, "--type", help="entity, quantity, date, relation or derived."),
          subject: Optional[str] = typer.Option(None, "--subject", help="Only facts whose subject contains this."),
          attribute: Optional[str] = typer.Option(None, "--attribute", help="Only facts whose attribute contains this."),
          as_json: bool = typer.Option(False, "--json", help="One JSON object a line.")):
    """List the facts taken from the documents. Example: python cli.py facts --type relation --attribute revenue"""
    from .pipeline import select_facts  # at use (see the module's docstring)
    rows = select_facts(_open(index_dir), kind, subject, attribute)
    if as_json:
        for f in rows:
            print(json.dumps(f.as_dict(), ensure_ascii=False))
    else:
        render_facts(out, rows)


def _changed(summary: dict, folder) -> None:
    parts = [f"{summary[k]} {k}" for k in ("added", "updated", "removed") if summary[k]]
    err.print(f"{', '.join(parts) or 'Nothing changed'}; {summary['unchanged']} document(s) unchanged in {folder}",
              markup=False, highlight=False, soft_wrap=True)


def _say(line: str) -> None:
    err.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
@user_errors
def add(paths: List[Path] = typer.Argument(..., help="Files or folders to add (or to read again if they changed)."),
        index_dir: Optional[Path] = IndexDir,
        glob: Optional[str] = Glob, exclude: List[str] = Exclude):
    """Add documents to the index without reading the others again. Example: python cli.py add report.pdf"""
    add_documents, where = _library("add", index_dir)
    _changed(add_documents([str(p) for p in paths], progress_bar(), _say, glob, exclude), where)


@app.command()
@user_errors
def remove(names: List[str] = typer.Argument(..., help="Documents by path, file name, or a glob on path or title."),
           index_dir: Optional[Path] = IndexDir):
    """Remove documents from the index. Example: python cli.py remove old-report.pdf"""
    remove_documents, where = _library("remove", index_dir)
    _changed(remove_documents(names), where)


@app.command()
@user_errors
def update(index_dir: Optional[Path] = IndexDir):
    """Read again the indexed files that changed and drop the ones that are gone. Example: python cli.py update"""
    update_documents, where = _library("update", index_dir)
    _changed(update_documents(progress_bar(), _say), where)


@app.command()
@user_errors
def docs(index_dir: Optional[Path] = IndexDir, as_json: bool = typer.Option(False, "--json", help="One JSON object a line.")):
    """List the indexed documents: title, date, format, sentences, facts, when indexed. Example: python cli.py docs"""
    rows = _open(index_dir).catalogue()
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        render_documents(out, rows)


@app.command()
@user_errors
def collections(index_dir: Optional[Path] = IndexDir):
    """The collections: the default one and those made with --collection NAME build PATH..."""
    if _database():
        from . import postgres  # at use (see the module's docstring)

        names = postgres.collection_names(settings().store)
    else:
        names = embedded_names(index_dir or settings().index_dir)
    for name in ["default", *names]:
        out.print(name, markup=False, highlight=False)


@app.command()
@user_errors
def feedback(index_dir: Optional[Path] = IndexDir,
             every: bool = typer.Option(False, "--all", help="Every rating, not only the answers marked wrong."),
             as_json: bool = typer.Option(False, "--json", help="One JSON object a line."),
             gold: bool = typer.Option(False, "--gold", help="Each answer marked wrong as a line of a gold file, "
                                                           "for `eval` (the reviewer adds the support).")):
    """List what users of the server marked wrong: question, answer, sources, correction (the material of
    the next gold file). Example: python cli.py feedback --gold > reviewed.jsonl; python cli.py eval reviewed.jsonl --docs help/"""
    from .gaps import gold_line  # at use (see the module's docstring)

    store = _open(index_dir, no_rebuild=True).session_store(ServeSettings().session_idle_seconds)
    try:
        rows = store.feedback(None if every and not gold else "down")
    finally:
        store.close()
    for r in rows:
        if gold or as_json:
            print(json.dumps(gold_line(r) if gold else r, ensure_ascii=False))
            continue
        render_feedback(out, r)
    if not rows and not (as_json or gold):
        err.print("No feedback yet." if every else "No answer has been marked wrong.")


@app.command()
@user_errors
def unanswered(index_dir: Optional[Path] = IndexDir,
               since: Optional[str] = typer.Option(None, "--since", help="Only questions asked on or after this date "
                                                   "(2026-12-01, or 2026-12-01T09:30, UTC)."),
               limit: int = typer.Option(20, "--limit", min=1, help="At most this many groups."),
               as_json: bool = typer.Option(False, "--json", help="One group a JSON line.")):
    """What was asked that the documents do not answer: the logged questions abstained on, answered with
    low confidence or marked wrong, grouped by meaning, biggest group first, with the passages nearest
    to each. Example: python cli.py unanswered --since 2026-12-01"""
    from .gaps import report, since_time  # at use (see the module's docstring)

    start = since_time(since)
    gaps = report(_open(index_dir, no_rebuild=True), start, limit)
    for g in gaps:
        if as_json:
            print(json.dumps(g.as_dict(), ensure_ascii=False))
        else:
            render_gap(out, g.as_dict())
    if not gaps and not as_json:
        err.print("Nothing unanswered" + (f" since {since}" if since else "") + ".")


@app.command()
@user_errors
def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
          port: int = typer.Option(8000, "--port", help="Port to listen on."),
          index_dir: Optional[Path] = IndexDir,
          workers: int = typer.Option(1, "--workers", min=1, help="Worker processes, each with its own models.")):
    """Serve the bot over HTTP: JSON API, OpenAI-compatible endpoint, chat page and widget.
    Example: python cli.py serve --port 8000, then open http://127.0.0.1:8000/"""
    import os

    import uvicorn

    from .serve.app import create_app  # at use (see the module's docstring)
    from .serve.guard import ask_keys  # at use (see the module's docstring)
    from .serve.protocol import GuardedH11  # at use (see the module's docstring)
    from .serve.service import Service  # at use (see the module's docstring)

    folder = index_dir or settings().index_dir
    service = Service(folder)  # a bad index or a missing model stops here, in one line
    ask_keys(service.cfg)  # and an ask key naming a collection wrongly
    err.print(f"Serving {len(service.index.documents)} document(s) on http://{host}:{port}/ (Ctrl-C to stop)")
    cfg = service.cfg
    # the client's address is the socket's unless a trusted proxy says otherwise (uvicorn would believe
    # X-Forwarded-For from any loopback client, so every made-up value would get a fresh allowance)
    # told to stop, the server drains the requests in flight for at most this long (a question takes
    # well under it; an upload's reading is stopped at once, and its embedding, if any, is let go: the
    # index changes only when a change is whole)
    opts = dict(host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SECONDS, log_level="warning",
                proxy_headers=bool(cfg.trusted_proxies), forwarded_allow_ips=",".join(cfg.trusted_proxies) or None,
                timeout_keep_alive=cfg.idle_timeout, http=GuardedH11)
    if workers == 1:
        uvicorn.run(create_app(service), **opts)
    else:
        os.environ["QA_INDEX_DIR"] = str(Path(folder).resolve())
        del service
        uvicorn.run("qa.serve.app:app_from_env", factory=True, workers=workers, **opts)


@app.command("eval")
@user_errors
def evaluate(file: Path = typer.Argument(..., help="A gold JSON-lines file or a SQuAD-format JSON file."),
             docs: List[Path] = typer.Option(None, "--docs", help="Documents for a gold file (default: seeds/)."),
             pooled: bool = typer.Option(False, "--pooled", help="SQuAD: one index over all articles."),
             limit: int = typer.Option(0, "--limit-articles", help="SQuAD: only the first N articles."),
             plot: Optional[Path] = typer.Option(None, "--plot", help="Write a reliability plot (PNG) here."),
             as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object.")):
    """Score the bot on questions with known answers: a gold file (one JSON object a line: "question",
    "answers", "answerable") over --docs, or a SQuAD-format file over its own articles; answer
    accuracy, retrieval and abstention. Example: python cli.py eval my-gold.jsonl --docs help/"""
    from .evaluate import run_eval  # at use (see the module's docstring)
    if not file.is_file():
        raise BadDocument(f"{file}: no such file.")
    report = run_eval(file, docs or sorted(settings().seeds_dir.glob("*.txt")), pooled, limit, plot, progress_bar())
    if as_json:
        print(json.dumps(report))
    else:
        render_eval(out, report)


def main() -> None:
    try:
        app()
    finally:
        # the process ends here: what it loaded (the index's arrays, the models, the question lexicon)
        # is moved out of the collector's reach, so that the interpreter's collections at exit do not
        # walk it; measured on a cold `ask`: 0.37 -> 0.32 s
        gc.freeze()
