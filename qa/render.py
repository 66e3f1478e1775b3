"""Readable output for people: the answer, then the cited sentences with the answer highlighted."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from .records import Answer


def confidence_words(c: float) -> str:
    return "high" if c >= 0.8 else "fair" if c >= 0.5 else "low"  # by the reliability table of `eval`


def render_answer(console: Console, a: Answer, k: int = 3) -> None:
    if a.abstained:
        console.print(Text("The documents do not answer this.", style="bold yellow"))
        if a.reason:
            console.print(Text(f"(Why: {a.reason}.)", style="dim"))
        if a.hits:
            console.print(Text("Nearest passages:", style="dim"))
    else:
        console.print(Text.assemble(("Answer: ", "bold"), (a.answer or "", "bold green"),
                                    (f"   (confidence {confidence_words(a.confidence)}, {a.confidence:.2f})", "dim")))
    for n, h in enumerate(a.hits[:k], start=1):
        s = h.sentence
        line = Text(f"[{n}] {Path(s.doc).name} #{s.position + 1} ({s.start}-{s.end}{_where(s)}): ", style="cyan")
        body = Text(s.text)
        if not a.abstained and a.answer and n == 1:
            if a.evidence and s.start <= a.evidence[0] < a.evidence[1] <= s.end:
                body.stylize("bold reverse", a.evidence[0] - s.start, a.evidence[1] - s.start)
            else:
                body.highlight_words([a.answer] + [f.value for f in a.facts[:1]], style="bold reverse")
        console.print(line + body)


def _where(s) -> str:
    """', "Title", section 'Holidays', p. 2' as far as the document has them."""
    parts = [f'"{s.title}"' if s.title else "", f"section {s.section!r}" if s.section and s.section != s.title else "",
             f"p. {s.page}" if s.page else ""]
    return "".join(f", {p}" for p in parts if p)


def render_facts(console: Console, facts) -> None:
    from rich.table import Table

    table = Table("kind", "subject", "attribute", "period", "value", "normalized", show_lines=False)
    for f in facts:
        table.add_row(f.kind, f.subject or "", f.attribute or "", f.period or "", f.value, f.formula or describe(f.normalized))
    console.print(table)
    console.print(f"{len(facts)} fact(s)")


def describe(n) -> str:
    """A normalized value in short: "8.56e+10 CNY / 1.34e+10 USD, +21.4% year on year"."""
    if not isinstance(n, dict):
        return "" if n is None else str(n)
    if "mentions" in n:
        return f"{len(n['mentions'])} mention(s)"
    parts = []
    if "amounts" in n:
        parts.append(" / ".join(f"{a['value']:.4g} {a.get('unit') or ''}".strip() for a in n["amounts"]))
    if "value" in n:
        parts.append(" ".join(x for x in (n.get("qualifier"), f"{n['value']:g}", n.get("unit")) if x))
    if n.get("change"):
        parts.append(f"{n['change']['percent']:+g}% {n['change'].get('basis') or ''}".strip())
    if "people" in n:
        parts.append(", ".join(n["people"]))
    return ", ".join(parts)


def render_eval(console: Console, report: dict) -> None:
    from rich.table import Table

    t = Table("group", "questions", "answered", "top-1 support", "score")
    for g in report["groups"]:
        t.add_row(g["group"], str(g["questions"]), str(g["answered"]), f"{g['top1']:.3f}", f"{g['score']:.3f}")
    console.print(t)
    r = Table("confidence", "questions", "share right")
    for b in report["reliability"]:
        r.add_row(f"{b['from']:.1f}-{b['to']:.1f}", str(b["questions"]), f"{b['right']:.3f}")
    console.print(r)
    print(report["summary"])


def render_documents(console: Console, rows: list[dict]) -> None:
    from rich.table import Table

    table = Table("document", "title", "date", "format", "sentences", "facts", "indexed")
    for r in rows:
        table.add_row(Path(r["doc"]).name, r["title"] or "", r["date"] or "", r["format"], str(r["sentences"]),
                      str(r["facts"]), (r["indexed"] or "")[:16].replace("T", " "))
    console.print(table)


def render_gap(out: Console, g: dict) -> None:
    """One group of the content-gap report: the question, how often and when, its other phrasings, what
    reviewers said, and the passages nearest to answering it."""
    said = f"abstained {g['abstained']}" + (f", marked wrong {g['marked_wrong']}" if g["marked_wrong"] else "")
    lines = [f"{g['count']}x  {g['questions'][0]}", f"    {said}; asked {g['first_asked'][:10]} to {g['last_asked'][:10]}"]
    lines += [f"    also: {q}" for q in g["questions"][1:6]]
    lines += [f"    right answer: {c}" for c in g.get("corrections", [])[:3]]
    lines += [f"    nearest: {s['doc']} ({s['start']}-{s['end']}): {s['text']}" for s in g["nearest"]]
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def render_feedback(out: Console, r: dict) -> None:
    """One rating kept by the server: the question, what was said, the comment and correction, the sources."""
    said = r["answer"] if r["answer"] is not None else "(abstained)"
    out.print(f"[{r['created']}] {r['rating']}: {r['question']}\n  answer: {said}"
              + (f"\n  comment: {r['comment']}" if r["comment"] else "")
              + (f"\n  right answer: {r['correction']}" if r.get("correction") else "")
              + ("\n  no page answers it" if r.get("answerable") is False else "")
              + "".join(f"\n  [{i}] {s['doc']} ({s['start']}-{s['end']}): {s['text']}" for i, s in enumerate(r["sources"], 1)),
              markup=False, highlight=False, soft_wrap=True)


def terminal_progress(err: Console):
    """A progress callback that draws a bar on `err` where it is a terminal, and is silent elsewhere."""
    if not err.is_terminal:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.1f}/s" if task.speed else "", style="progress.data.speed")

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(),
                   console=err, transient=True)
    tasks = {}

    def update(stage: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage.capitalize(), total=total)
        bar.update(tasks[stage], completed=done, total=total)
        if stage in ("embedding", "documents") and done >= total:
            bar.stop()

    return update
