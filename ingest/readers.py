"""Files → text + structure: plain text, Markdown, HTML, PDF and DOCX.

Every reader returns a :class:`ReadDocument` whose ``text`` is what passage offsets point into
and whose ``blocks`` are the document's own structure (paragraphs, headings, list items, pages).
A file that cannot be read raises :class:`InputError` naming the file and the reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from ingest.document import Block, ReadDocument
from regiograph.errors import InputError

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES

_LIST_MARKER = re.compile(r"^\s*(?:[-*•▪◦‣–]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_PAGE_BREAK = "\f"


def read_bytes_limited(path: Path, max_bytes: int) -> bytes:
    """Read a file, refusing (without loading it) one larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if size > max_bytes:
        raise InputError(
            f"{path.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit "
            "(raise it with REGIOGRAPH_MAX_FILE_MB)"
        )
    if size == 0:
        raise InputError(f"{path.name}: empty file")
    try:
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes of a text file: BOMs, UTF-8, then charset-normalizer, then cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if _looks_binary(data):
        raise InputError(f"{name}: binary content, not text (is it really a text file?)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data[:200_000]))
    encoding = "cp1252"
    if matches:
        best = min(matches, key=lambda m: (m.chaos, -m.coherence))
        tied = [m.encoding for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
        # Single-byte code pages often tie (Danish Latin-1 is valid cp1250): prefer Windows-1252,
        # the usual Western European one, unless another page reads strictly better.
        encoding = "cp1252" if "cp1252" in tied else best.encoding
    if encoding in {"ascii", "utf_8"}:
        encoding = "cp1252"  # it failed as UTF-8 above
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return data.decode("cp1252", errors="replace"), "cp1252"


def _looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB mean binary, not text."""
    head = data[:8192]
    if b"\x00" in head:
        # UTF-16 without BOM has NULs every other byte: tolerate that pattern.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        return not (len(head) >= 16 and (even > len(head) // 3 or odd > len(head) // 3) and min(even, odd) == 0)
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(head) // 50)


def _decode_utf16_nobom(data: bytes) -> str | None:
    head = data[:8192]
    if b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > len(head) // 3 and even == 0:
        return data.decode("utf-16-le", errors="replace")
    if even > len(head) // 3 and odd == 0:
        return data.decode("utf-16-be", errors="replace")
    return None


def normalise_text(text: str) -> str:
    """Unify line endings and strip characters that break text handling (keeps form feeds)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\x00", "")
    return re.sub(r"[\x01-\x08\x0b\x0e-\x1f\x7f]", " ", text)


def blocks_from_text(text: str, markdown: bool = False) -> tuple[Block, ...]:
    """Blocks from plain text: paragraphs between blank lines, list items, headings, pages.

    Form feeds separate pages (PDF text); blocks then carry their 1-based page number.
    """
    blocks: list[Block] = []
    paged = _PAGE_BREAK in text
    page_start = 0
    for page_index, page_text in enumerate(text.split(_PAGE_BREAK)):
        _page_blocks(text, page_start, page_start + len(page_text), page_index + 1 if paged else None, markdown, blocks)
        page_start += len(page_text) + 1
    return tuple(blocks)


def _page_blocks(text: str, begin: int, stop: int, page: int | None, markdown: bool, blocks: list[Block]) -> None:
    pos = begin
    para_start: int | None = None
    para_end = 0

    def close() -> None:
        nonlocal para_start
        if para_start is not None:
            chunk = text[para_start:para_end]
            kind = "heading" if _is_heading(chunk, markdown) else "paragraph"
            blocks.append(Block(para_start, para_end, kind, page))
            para_start = None

    for line in text[begin:stop].splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\n"))
        pos += len(line)
        body = text[start:end]
        if not body.strip():
            close()
            continue
        lstart = start + (len(body) - len(body.lstrip()))
        lend = start + len(body.rstrip())
        if _LIST_MARKER.match(body) or (markdown and _MD_HEADING.match(body)):
            close()
            kind = "heading" if markdown and _MD_HEADING.match(body) else "list_item"
            blocks.append(Block(lstart, lend, kind, page))
            continue
        if para_start is None:
            para_start = lstart
        para_end = lend
    close()


def _is_heading(chunk: str, markdown: bool) -> bool:
    words = chunk.split()
    if markdown and _MD_HEADING.match(chunk):
        return True
    if "\n" in chunk.strip() or not words or len(words) > 12:
        return False
    return not chunk.rstrip().endswith((".", ",", ";", ":", "!", "?", "”", '"', ")")) or chunk.isupper()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text_file(path: Path, data: bytes) -> ReadDocument:
    """Plain text and Markdown."""
    utf16 = None if data.startswith((b"\xff\xfe", b"\xfe\xff")) else _decode_utf16_nobom(data)
    if utf16 is not None:
        raw, encoding = utf16, "utf-16"
    else:
        raw, encoding = decode_text(data, path.name)
    text = normalise_text(raw)
    markdown = path.suffix.lower() in {".md", ".markdown"}
    return _document(path, data, "text/markdown" if markdown else "text/plain", text, blocks_from_text(text, markdown), encoding)


def read_html_file(path: Path, data: bytes) -> ReadDocument:
    """HTML: the main text (trafilatura), not navigation; falls back to all visible text."""
    raw, encoding = decode_text(data, path.name)
    import trafilatura

    extracted = trafilatura.extract(
        raw, include_comments=False, include_tables=True, favor_recall=True, deduplicate=False
    )
    if not extracted or len(extracted.split()) < 20:
        extracted = _visible_html_text(raw)
    text = normalise_text(extracted or "")
    title = None
    meta = trafilatura.extract_metadata(raw)
    if meta is not None and meta.title:
        title = meta.title
    return _document(path, data, "text/html", text, blocks_from_text(text, markdown=True), encoding, title)


def _visible_html_text(raw: str) -> str:
    """All visible text of an HTML page (scripts, styles and templates dropped)."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(raw)
    except (ValueError, Exception):  # lxml raises ParserError/ValueError on junk
        return ""
    for bad in tree.xpath("//script|//style|//noscript|//template|//iframe|//nav|//header|//footer"):
        bad.drop_tree()
    parts = [t.strip() for t in tree.itertext() if t and t.strip()]
    return "\n\n".join(parts)


def read_pdf_file(path: Path, data: bytes) -> ReadDocument:
    """PDF: text per page (pages separated by form feeds so blocks keep page numbers)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise InputError(f"{path.name}: encrypted PDF (needs a password); save an unencrypted copy")
            except NotImplementedError as exc:
                raise InputError(f"{path.name}: encrypted PDF with an unsupported cipher") from exc
        pages = [(page.extract_text() or "") for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise InputError(f"{path.name}: not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from exc
    except Exception as exc:  # pypdf raises many private errors on damaged files
        raise InputError(f"{path.name}: damaged PDF ({type(exc).__name__}: {str(exc)[:120]})") from exc
    text = normalise_text(_PAGE_BREAK.join(p.replace(_PAGE_BREAK, "\n") for p in pages))
    if len(text.split()) < 3:
        raise InputError(f"{path.name}: no extractable text — scanned? (OCR it first)")
    title = None
    try:
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
    except Exception:
        title = None
    blocks = blocks_from_text(text)
    if blocks and blocks[0].page is None:
        blocks = tuple(Block(b.start, b.end, b.kind, 1) for b in blocks)
    return _document(path, data, "application/pdf", text, blocks, None, title)


def read_docx_file(path: Path, data: bytes) -> ReadDocument:
    """DOCX: paragraphs with heading and list styles, then table rows."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(f"{path.name}: not a DOCX (not a zip container)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "word/document.xml" not in zf.namelist():
                raise InputError(f"{path.name}: a zip file but not a Word document (no word/document.xml)")
        import docx

        document = docx.Document(io.BytesIO(data))
    except InputError:
        raise
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on broken files
        raise InputError(f"{path.name}: damaged DOCX ({type(exc).__name__}: {str(exc)[:120]})") from exc
    parts: list[tuple[str, str]] = []
    for para in document.paragraphs:
        body = para.text.strip()
        if not body:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        kind = "heading" if style.lower().startswith(("heading", "title")) else "paragraph"
        if "list" in style.lower():
            kind = "list_item"
        parts.append((body, kind))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                parts.append((" | ".join(dict.fromkeys(cells)), "table_row"))
    text, blocks = _join_parts(parts)
    title = document.core_properties.title or None
    return _document(path, data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", text, blocks, None, title)


def _join_parts(parts: Iterable[tuple[str, str]]) -> tuple[str, tuple[Block, ...]]:
    chunks: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for body, kind in parts:
        body = normalise_text(body)
        if chunks:
            chunks.append("\n\n")
            pos += 2
        blocks.append(Block(pos, pos + len(body), kind))
        chunks.append(body)
        pos += len(body)
    return "".join(chunks), tuple(blocks)


def _document(
    path: Path,
    data: bytes,
    media_type: str,
    text: str,
    blocks: tuple[Block, ...],
    encoding: str | None,
    title: str | None = None,
) -> ReadDocument:
    if not text.strip() or not blocks:
        raise InputError(f"{path.name}: no text found in the file")
    if title is None:
        first = next((b for b in blocks if text[b.start : b.end].strip()), None)
        title = text[first.start : first.end].strip()[:200] if first else path.name
    return ReadDocument(
        source=path.name,
        path=str(path),
        content_hash=content_hash(data),
        media_type=media_type,
        text=text,
        blocks=blocks,
        title=title.strip() or path.name,
        encoding=encoding,
    )


def read_document(path: Path, max_bytes: int = 100_000_000) -> ReadDocument:
    """Read any supported file into a :class:`ReadDocument`; raise :class:`InputError` if it cannot be."""
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise InputError(f"{path.name}: unsupported file type {suffix or '(none)'}")
    data = read_bytes_limited(path, max_bytes)
    if suffix in PDF_SUFFIXES:
        if not data.lstrip()[:5].startswith(b"%PDF"):
            raise InputError(f"{path.name}: not a PDF (no %PDF header)")
        return read_pdf_file(path, data)
    if suffix in DOCX_SUFFIXES:
        return read_docx_file(path, data)
    if suffix in HTML_SUFFIXES:
        return read_html_file(path, data)
    return read_text_file(path, data)
