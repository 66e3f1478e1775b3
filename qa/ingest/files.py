"""The files a build names: files as given, folders walked recursively (hidden entries skipped), kept
by a glob and dropped by .gitignore-style patterns (the folder's own .gitignore included)."""
from __future__ import annotations

from pathlib import Path

# What a folder walk picks up when no --glob is given; a file named on the command line is always read.
KNOWN = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx"}


def collect(paths: list[str | Path], glob: str | None = None, exclude: list[str] | None = None) -> list[Path]:
    """Every file to read, in a stable order, each once; a missing path is returned as is so that
    reading it says why."""
    import pathspec

    out: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            out.setdefault(p if not p.exists() else p.resolve())
            continue
        lines = list(exclude or [])
        ignore = p / ".gitignore"
        if ignore.is_file():
            lines += ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                continue
            if spec.match_file(rel.as_posix()):
                continue
            if glob is not None and not (rel.match(glob) or f.match(glob)):
                continue
            if glob is None and f.suffix.lower() not in KNOWN:
                continue
            out.setdefault(f.resolve())
    return list(out)
