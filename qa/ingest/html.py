"""HTML: the page's main content (menus, footers, scripts and cookie banners dropped by trafilatura),
read from its structure, not through Markdown. Trafilatura's cleaned tree keeps the page's blocks
(headings, paragraphs, list items, definition-list terms and descriptions, code, table rows); each
block becomes one stretch of text (whitespace normalized, so a sentence wrapped over source lines is
one sentence; a code block kept verbatim), blocks are joined by blank lines, and each carries the
path of headings and terms it stands under. Inline code is remembered as a literal (an option, a
value, a file name). Offsets are into this extracted text, which the store keeps."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import BadDocument
from ..records import Block, Document

SPACE = re.compile(r"\s+")
CONTAINERS = {"doc", "main", "body", "div", "quote", "item", "cell", "list", "table", "row", "section"}
BLOCKS = {"head", "p", "list", "item", "table", "row", "cell", "quote", "div", "section"}
SKIPPED = {"graphic", "comments", "fw", "note"}


def read(path: Path, data: bytes) -> Document:
    import trafilatura

    page = data.decode("utf-8", errors="replace")
    try:
        found = trafilatura.bare_extraction(_prepared(page), include_comments=False, include_tables=True, include_images=False,
                                            include_links=False, favor_recall=True, include_formatting=True,
                                            with_metadata=True)
    except MemoryError:
        raise  # past the reading worker's memory ceiling: said as that limit
    except Exception as e:  # noqa: BLE001 - a broken page is one bad file, not a failed build
        raise BadDocument(f"{path}: the HTML could not be read ({type(e).__name__}).") from None
    if found is None or found.body is None:
        return Document(path=str(path), text="", sha256="")
    title = _without_permalink(found.title or "") or None
    date = found.date[:10] if found.date else None
    page_text = PageText(title)
    page_text.walk(found.body)
    return Document(path=str(path), text=page_text.text(), sha256="", title=title, date=date,
                    blocks=tuple(page_text.blocks), literals=tuple(page_text.literals))


def _prepared(page: str):
    """The page's tree made plain where a content extractor would misread it: each heading taken out
    of wrappers that hold nothing else (DocBook puts its titles three `div`s deep, where they pass for
    layout and are dropped), and each preformatted block's text made plain and marked as code (a
    `pre` with markup inside, such as a synopsis with its command in italics, or with nothing that
    looks like code to the extractor, would be taken for a quotation and its lines run together);
    the page as is when it does not parse. Navigation is taken out (`_drop_navigation`)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return page
    _drop_navigation(tree)
    for pre in list(tree.iter("pre")):
        text = pre.text_content()
        for child in list(pre):
            pre.remove(child)
        pre.text = None
        lxml.html.etree.SubElement(pre, "span").text = text  # one span: what the extractor keeps as code
    for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        box = h.getparent()
        while (box is not None and box.tag == "div" and len(box) == 1 and not (box.text or "").strip()
               and not (h.tail or "").strip() and box.getparent() is not None):
            box.drop_tag()
            box = h.getparent()
    return tree


# links a generator marks as the manual's navigation: the relations of HTML's link types, and access keys
NAVIGATION_RELS = {"next", "prev", "previous", "up", "index", "contents", "toc", "start", "first", "last", "home",
                   "top", "chapter", "section", "subsection", "glossary", "appendix", "help", "search"}
# what a navigation bar says besides its links: its labels, separators and brackets
NAVIGATION_WORDS = re.compile(r"(?:\b(?:next|prev|previous|up|home|top|index|contents|table of contents|toc)\b|"
                              r"[\s,;:|\[\]()<>\u00ab\u00bb\u2022\u00b7/\u2190-\u21ff-])*", re.I)
NAVIGATION_BOXES = ("div", "p", "ul", "ol", "li", "table", "tr", "td", "nav", "header", "footer", "span")


NAVIGATION_LABEL = re.compile(r"\b(?:next|prev|previous|up)\s*:\s*$", re.I)  # "Next: <a>...</a>"


def _is_navigation_link(a) -> bool:
    """A link marked as navigation (its `rel`, an access key) or labelled so ("Up: <a>libffi</a>", as a
    Texinfo bar below a node says it without marks)."""
    rels = set((a.get("rel") or "").lower().split())
    if rels & NAVIGATION_RELS or a.get("accesskey") is not None:
        return True
    before = a.getprevious()
    said = (before.tail if before is not None else a.getparent().text) or ""
    return bool(NAVIGATION_LABEL.search(said[-40:]))


def _drop_navigation(tree) -> None:
    """Take out the navigation of generated manuals: a bar ("Next: What is libffi?, Up: libffi
    [Index]" in Texinfo's output, "Prev | Up | Next" in DocBook's) or a node's menu of its subsections,
    recognized by its links (marked as navigation by their `rel` or an access key) and by saying
    nothing else than those links and navigation labels. Outermost first, so a bar goes whole; a
    box that also says something else stays."""
    marked_all = [a for a in tree.iter("a") if a.get("href") is not None and _is_navigation_link(a)]
    if not marked_all:
        return  # most pages: nothing marked as navigation
    # held in a list: lxml gives an element the same Python object only while one is alive
    ancestors = [box for a in marked_all for box in a.iterancestors(*NAVIGATION_BOXES)]
    holders = set(map(id, ancestors))
    for box in [b for b in tree.iter(*NAVIGATION_BOXES) if id(b) in holders]:  # document order: outermost first
        if box.getparent() is None:
            continue  # the page itself, or inside a box already taken out
        links = [a for a in box.iter("a") if a.get("href") is not None]
        marked = [a for a in links if _is_navigation_link(a)]
        if len(marked) < len(links):
            continue
        said = _text_outside(box, set(map(id, marked)))
        if NAVIGATION_WORDS.fullmatch(said):
            box.drop_tree()  # its tail (the text after it) stays


def _text_outside(box, skipped: set[int]) -> str:
    """The text of `box` without the text of the elements whose ids are in `skipped`."""
    parts = [box.text or ""]
    for child in box:
        if id(child) not in skipped:
            parts.append(_text_outside(child, skipped))
        parts.append(child.tail or "")
    return "".join(p for p in parts if isinstance(p, str))


PERMALINK = re.compile(r"[\s\u00b6\u00a7#\U0001f517\u2693\u2302]+$")  # ¶ § # 🔗 ⚓ after a heading: its anchor link


def _without_permalink(text: str) -> str:
    return PERMALINK.sub("", SPACE.sub(" ", text).strip())


class PageText:
    """The extracted text, built block by block, with each block's kind and path."""

    def __init__(self, title: str | None):
        self.parts: list[str] = []
        self.size = 0
        self.blocks: list[Block] = []
        self.literals: list[tuple[int, int]] = []
        self.title = title
        self.headings: list[tuple[int, str]] = []  # (level, text), the open sections

    def text(self) -> str:
        return "".join(self.parts) + ("\n" if self.parts else "")

    def path(self) -> tuple[str, ...]:
        root = () if not self.title or (self.headings and self.headings[0][0] == 1) else (self.title,)
        return root + tuple(t for _, t in self.headings)

    # -- blocks ---------------------------------------------------------------------------------------
    def emit(self, kind: str, pieces: list[tuple[str, bool]], path: tuple[str, ...] | None = None) -> None:
        """One block from inline pieces (text, is_literal), whitespace normalized; nothing when empty."""
        text, literals = normalized(pieces)
        if text:
            self._append(kind, text, literals, self.path() if path is None else path)

    def emit_code(self, raw: str) -> None:
        """A code block, verbatim but for trailing spaces and blank edge lines (a blank line inside
        it is kept as a line holding one space: a blank line is a block break in the text)."""
        lines = [l.rstrip() for l in raw.replace("\r\n", "\n").split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            self._append("code", "\n".join(l if l.strip() else " " for l in lines), [], self.path())

    def _append(self, kind: str, text: str, literals: list[tuple[int, int]], path: tuple[str, ...]) -> None:
        if not self.blocks and self.title and not (kind == "heading" and text == self.title):
            self._place("headline", self.title, [], ())  # the page's title first, as a news page shows it
        self._place(kind, text, literals, path)

    def _place(self, kind: str, text: str, literals: list[tuple[int, int]], path: tuple[str, ...]) -> None:
        if self.parts:
            self.parts.append("\n\n")
            self.size += 2
        start = self.size
        self.parts.append(text)
        self.size += len(text)
        self.blocks.append(Block(start, self.size, kind, path))
        self.literals += [(start + a, start + b) for a, b in literals]

    # -- the tree -------------------------------------------------------------------------------------
    def walk(self, el, path: tuple[str, ...] | None = None) -> None:
        """Every block under `el`, in document order."""
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in SKIPPED:
            return
        if tag == "head":
            self.heading(el)
        elif tag == "list" and (el.get("rend") or "").startswith("dl"):
            self.definitions(el, path)
        elif tag == "table":
            self.table(el, path)
        elif tag == "code" and _is_block_code(el):
            self.emit_code(el.xpath("string()"))
        else:
            self.mixed(el, "item" if tag == "item" else "text", path)

    def mixed(self, el, kind: str, path) -> None:
        """An element of text and inline children with block children among them: the inline runs
        between blocks are blocks of their own."""
        pieces: list[tuple[str, bool]] = []
        if el.text:
            pieces.append((el.text, False))
        for child in el:
            ctag = child.tag if isinstance(child.tag, str) else ""
            if ctag in BLOCKS or (ctag == "code" and _is_block_code(child)):
                self.emit(kind, pieces, path)
                pieces = []
                self.walk(child, path)
            elif ctag not in SKIPPED:
                pieces += inline(child)
            if child.tail:
                pieces.append((child.tail, False))
        self.emit(kind, pieces, path)

    def heading(self, el) -> None:
        m = re.match(r"h([1-6])", el.get("rend") or "")
        level = int(m.group(1)) if m else 2
        text = _without_permalink(normalized(inline_content(el))[0])
        if not text:
            return
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, text))
        self.emit("heading", [(text, False)])

    def definitions(self, el, path) -> None:
        """A definition list: each run of terms (`dt`) a term block, its descriptions (`dd`) under it
        in the path."""
        base = self.path() if path is None else path
        terms: list[str] = []
        term_path = base
        for item in el:
            rend = item.get("rend") or ""
            if rend.startswith("dt"):
                text = _without_permalink(normalized(inline_content(item))[0])
                if text:
                    terms.append(text)
                continue
            if terms:
                term = ", ".join(terms)
                term_path = base + (term,)
                self.emit("term", [(term, True)], term_path)  # a term is said as written
                terms = []
            self.mixed(item, "text", term_path)
        if terms:
            term = ", ".join(terms)
            self.emit("term", [(term, True)], base + (term,))

    def table(self, el, path) -> None:
        """A table: each row one unit, its cells named by the header row's cells ("Option: --depth;
        Meaning: ...")."""
        rows = [r for r in el.iter("row")]
        header: list[str] = []
        if rows and all(c.get("role") == "head" for c in rows[0].iter("cell")):
            header = [normalized([(c.xpath("string()"), False)])[0] for c in rows[0].iter("cell")]
            rows = rows[1:]
        for r in rows:
            cells = [normalized([(c.xpath("string()"), False)])[0] for c in r.iter("cell")]
            named = [(f"{header[i]}: {c}" if i < len(header) and header[i] else c) for i, c in enumerate(cells) if c]
            if named:
                self.emit("row", [("; ".join(named), False)], path)


def inline(el) -> list[tuple[str, bool]]:
    """The pieces of an inline element with its tail left out; inline code is a literal."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "code":
        return [(SPACE.sub(" ", el.xpath("string()")).strip(), True)]
    if tag == "lb":
        return [(" ", False)]
    return inline_content(el)


def inline_content(el) -> list[tuple[str, bool]]:
    pieces = [(el.text, False)] if el.text else []
    for child in el:
        ctag = child.tag if isinstance(child.tag, str) else ""
        if ctag not in SKIPPED:
            pieces += inline(child)
        if child.tail:
            pieces.append((child.tail, False))
    return pieces


def _is_block_code(el) -> bool:
    """A code element that stands as a block (a `pre`), not a word inside a sentence."""
    parent = el.getparent()
    if parent is None or parent.tag not in CONTAINERS:
        return False
    before = el.getprevious().tail if el.getprevious() is not None else parent.text
    return "\n" in (el.text or "") or (not (before or "").strip() and not (el.tail or "").strip())


def normalized(pieces: list[tuple[str, bool]]) -> tuple[str, list[tuple[int, int]]]:
    """The pieces joined with runs of whitespace made one space and the ends trimmed, and the
    [start, end) of each literal piece in the result."""
    out, literals = "", []
    for text, literal in pieces:
        piece = SPACE.sub(" ", text)
        if not out or out.endswith(" "):
            piece = piece.lstrip(" ")
        if literal:
            piece = piece.strip()
            if not piece:
                continue
            literals.append((len(out), len(out) + len(piece)))
        out += piece
    trimmed = out.rstrip()
    return trimmed, [(a, min(b, len(trimmed))) for a, b in literals if a < len(trimmed)]
