"""Read documents; split them into paragraphs and sentences with exact [start, end) offsets."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import BadDocument
from .records import Document, Sentence, Token

MAX_DOC_BYTES = 50_000_000
SENTENCE_END = (".", "!", "?", "\u201d", '"', "\u2019", ":", ";", "\u2026")


def read_document(path: str | Path) -> Document:
    """A UTF-8 text or Markdown file, refused with a clear reason when it cannot be one."""
    p = Path(path)
    if not p.exists():
        raise BadDocument(f"{p}: no such file.")
    if not p.is_file():
        raise BadDocument(f"{p}: not a file.")
    data = p.read_bytes()
    if len(data) > MAX_DOC_BYTES:
        raise BadDocument(f"{p}: larger than {MAX_DOC_BYTES // 1_000_000} MB; split it into smaller files.")
    if b"\x00" in data:
        raise BadDocument(f"{p}: looks binary; give a UTF-8 text or Markdown file.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadDocument(f"{p}: not UTF-8 text (bad byte at {e.start}); convert it to UTF-8 first.") from None
    if not text.strip():
        raise BadDocument(f"{p}: the file is empty.")
    return Document(path=str(p.resolve()), text=text, sha256=hashlib.sha256(data).hexdigest())


def paragraphs(text: str) -> list[tuple[int, int]]:
    """[start, end) of each paragraph: text between blank lines, whitespace trimmed."""
    spans, pos = [], 0
    for m in re.finditer(r"\n[ \t\r\f\v]*\n", text + "\n\n"):
        _add_trimmed(text, pos, min(m.start(), len(text)), spans)
        pos = m.end()
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        s = start + (len(chunk) - len(chunk.lstrip()))
        out.append((s, s + len(stripped)))


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for line in text[start:end].split("\n"):
        _add_trimmed(text, pos, pos + len(line), out)
        pos += len(line) + 1
    return out


def _is_markdown_heading(line: str) -> bool:
    return bool(re.match(r"#{1,6}\s", line))


def _is_title_like(line: str) -> bool:
    """One short line with no sentence-final punctuation: a headline or section heading."""
    words = line.split()
    return 0 < len(words) <= 16 and not line.rstrip().endswith(SENTENCE_END) and "\n" not in line


def _parse_dateline(line: str) -> str | None:
    """ISO date when the whole line is a date ("May 13, 2022"), else None."""
    if len(line) > 40 or not re.search(r"\d", line):
        return None
    import dateparser

    d = dateparser.parse(line, languages=["en"], settings={"STRICT_PARSING": True, "REQUIRE_PARTS": ["year"]})
    return d.date().isoformat() if d else None


def split_units(doc: Document, nlp) -> tuple[list[Sentence], str | None, str | None]:
    """The document's units (sentences, headline, dateline, headings) with its title and date."""
    text, units, title, date = doc.text, [], None, None
    para_spans = paragraphs(text)
    prose: list[tuple[int, int, int]] = []  # (paragraph, start, end) to segment with spaCy
    for pi, (ps, pe) in enumerate(para_spans):
        for ls, le in (_lines(text, ps, pe) if _line_units(text[ps:pe]) else [(ps, pe)]):
            line = text[ls:le]
            kind = None
            if _is_markdown_heading(line):
                ls = ls + len(re.match(r"#{1,6}\s+", line).group(0))
                line, kind = text[ls:le], "heading"
            elif date is None and not units and (iso := _parse_dateline(line)):
                date, kind = iso, "dateline"
            elif _is_title_like(line):
                kind = "heading"
            if kind is None:
                prose.append((pi, ls, le))
                continue
            if kind == "heading" and title is None and not any(u.kind == "sentence" for u in units) and not prose:
                kind, title = "headline", line
            units.append(Sentence(doc.path, ls, le, line, kind, pi))
    for (pi, ps, pe), parsed in zip(prose, nlp.pipe([text[s:e] for _, s, e in prose], batch_size=64)):
        units.extend(_sentences(doc.path, text, ps, pi, parsed))
    whole = [u for u in units if u.kind != "sentence"]
    for u, parsed in zip(whole, nlp.pipe([u.text for u in whole])):
        (one,) = _sentences(doc.path, text, u.start, u.paragraph, parsed, whole=True)
        u.tokens, u.entities, u.chunks = one.tokens, one.entities, one.chunks
    units.sort(key=lambda u: u.start)
    for i, u in enumerate(units):
        u.position = i
    return units, title, date


def _line_units(para: str) -> bool:
    """A paragraph whose lines stand alone: Markdown headings or list items, or title-like lines."""
    lines = [l.strip() for l in para.split("\n") if l.strip()]
    return len(lines) > 1 and any(_is_markdown_heading(l) or re.match(r"[-*+]\s|\d+[.)]\s", l) for l in lines)


def _sentences(path: str, text: str, offset: int, pi: int, parsed, whole: bool = False) -> list[Sentence]:
    """Sentences of a parsed paragraph (or the paragraph as one unit when `whole`), tokens included."""
    out = []
    for sent in ([parsed[:]] if whole else parsed.sents):
        s, e = offset + sent.start_char, offset + sent.end_char
        raw = text[s:e]
        s += len(raw) - len(raw.lstrip())
        e = s + len(raw.strip())
        if s >= e:
            continue
        toks = [t for t in sent if not t.is_space]
        first = sent.start
        tokens = [Token(offset + t.idx, offset + t.idx + len(t.text), t.text, t.lemma_.lower(), t.pos_, t.dep_,
                        t.head.i - first, t.ent_type_) for t in toks]
        ents = [(offset + x.start_char, offset + x.end_char, x.label_) for x in sent.ents]
        chunks = [(offset + c.start_char, offset + c.end_char) for c in parsed.noun_chunks
                  if c.start >= sent.start and c.end <= sent.end]
        out.append(Sentence(path, s, e, text[s:e], "sentence", pi, tokens=tokens, entities=ents, chunks=chunks))
    return out if whole else _merge_fragments(out, text)


def _merge_fragments(sents: list[Sentence], text: str) -> list[Sentence]:
    """Join a piece that spaCy cut off without a real sentence end (e.g. after "U.S.") to the one before."""
    merged: list[Sentence] = []
    for s in sents:
        prev = merged[-1] if merged else None
        if prev and (len(s.text.split()) < 3 and not s.text[0].isupper() or not prev.text.rstrip().endswith(SENTENCE_END)):
            merged[-1] = Sentence(prev.doc, prev.start, s.end, text[prev.start:s.end], "sentence", prev.paragraph,
                                  tokens=prev.tokens + [_shift(t, len(prev.tokens)) for t in s.tokens],
                                  entities=prev.entities + s.entities, chunks=prev.chunks + s.chunks)
        else:
            merged.append(s)
    return merged


def _shift(t: Token, n: int) -> Token:
    return Token(t.start, t.end, t.text, t.lemma, t.pos, t.dep, t.head + n, t.ent)
