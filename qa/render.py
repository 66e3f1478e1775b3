"""Readable output for people: the answer, then the cited sentences with the answer highlighted."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from .records import Answer


def confidence_words(c: float) -> str:
    return "high" if c >= 0.8 else "fair" if c >= 0.6 else "low"


def render_answer(console: Console, a: Answer, k: int = 3) -> None:
    if a.abstained:
        console.print(Text("The documents do not answer this.", style="bold yellow"))
        if a.hits:
            console.print(Text("Nearest passages:", style="dim"))
    else:
        console.print(Text.assemble(("Answer: ", "bold"), (a.answer or "", "bold green"),
                                    (f"   (confidence {confidence_words(a.confidence)}, {a.confidence:.2f})", "dim")))
    for n, h in enumerate(a.hits[:k], start=1):
        s = h.sentence
        line = Text(f"[{n}] {Path(s.doc).name} #{s.position + 1} ({s.start}-{s.end}): ", style="cyan")
        body = Text(s.text)
        if not a.abstained and a.answer and n == 1:
            body.highlight_words([a.answer], style="bold reverse")
        console.print(line + body)
