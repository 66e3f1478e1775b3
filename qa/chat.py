"""The terminal chat: a line editor with history, rendered answers, and follow-up questions."""
from __future__ import annotations

from typing import Callable

from rich.console import Console

from .asked import asked_from, write
from .config import settings
from .conversation import Conversation
from .embed import question_encoder
from .errors import QAError
from .pipeline import ask, check_question, explain
from .render import render_answer

HELP = """Ask a question in plain words; follow-ups ("And the net profit?") are understood.
  /sources  the full passages behind the last answer
  /facts    the facts behind the last answer
  /why      how the last question was read
  /reset    forget the conversation
  /help     this text
  /quit     leave (or Ctrl-D)"""


def history_file():
    from pathlib import Path

    from platformdirs import user_data_dir

    base = settings().data_dir or Path(user_data_dir("qa-bot"))
    base.mkdir(parents=True, exist_ok=True)
    return base / "chat_history"


def run_chat(open_index: Callable, out: Console, err: Console) -> None:
    import os

    os.environ.setdefault("PROMPT_TOOLKIT_NO_CPR", "1")
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    with out.status("Loading the index and the model..."):
        index = open_index()
        question_encoder()
    out.print("Ask about the documents. /help for commands, Ctrl-D to leave.")
    prompt = PromptSession(history=FileHistory(str(history_file())))
    conv, last = Conversation(), None
    while True:
        try:
            line = prompt.prompt("you> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            out.print("Bye.")
            return
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            if _command(line, out, last, conv) == "quit":
                return
            if line == "/reset":
                conv, last = Conversation(), None
            continue
        try:
            q = check_question(line, settings().max_question_chars)
            last = ask(index, q, conv)
        except QAError as e:
            err.print(f"error: {e}", markup=False)
            continue
        render_answer(out, last)
        write(index.question_log, [asked_from(last.as_dict(), "chat")])


def _command(line: str, out: Console, last, conv) -> str | None:
    cmd = line.split()[0].lower()
    if cmd in ("/quit", "/exit"):
        return "quit"
    if cmd == "/help":
        out.print(HELP, markup=False)
    elif cmd == "/reset":
        out.print("Conversation forgotten.")
    elif last is None:
        out.print("Ask a question first.")
    elif cmd == "/sources":
        for n, h in enumerate(last.hits, start=1):
            out.print(f"[{n}] {h.sentence.doc} #{h.sentence.position + 1} score {h.score:.2f}\n    {h.sentence.text}", markup=False)
    elif cmd == "/facts":
        if not last.facts:
            out.print("No stored facts behind this answer.")
        for f in last.facts:
            out.print(f"- {f.subject} | {f.attribute} | {f.period or ''} | {f.value}", markup=False)
    elif cmd == "/why":
        out.print(f"Question type: {last.qtype}\nRead as: {last.rewritten or last.question}", markup=False)
        if last.reason:
            out.print(f"{'Abstained' if last.abstained else 'Passed over'}: {last.reason}", markup=False)
        if last.features:
            cutoff, strongest = explain(last)
            out.print(f"Confidence {last.confidence:.2f} (abstains below {cutoff:.2f}); strongest signals:", markup=False)
            for name, c in strongest:
                out.print(f"  {'+' if c > 0 else '-'} {name} ({c:+.2f})", markup=False)
    else:
        out.print(f"Unknown command {cmd}; /help lists them.", markup=False)
    return None
