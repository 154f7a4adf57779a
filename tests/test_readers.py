"""Readers: every format on files the tests make, encodings, and bad input with clear errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.readers import read_document
from regiograph.errors import InputError

TEXT = "Regional cooperation helps small firms export. The Region Midtjylland runs study visits for SMEs.\n\nSecond paragraph with more words about the Interreg Europe programme and its partners."


def test_utf8_text_keeps_paragraph_blocks(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(TEXT, encoding="utf-8")
    doc = read_document(path)
    assert doc.source == "note.txt"
    assert len(doc.content_hash) == 64
    assert [doc.text[b.start : b.end] for b in doc.blocks] == TEXT.split("\n\n")


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "cp1252", "utf-8-sig"])
def test_encodings_come_out_right(tmp_path: Path, encoding: str) -> None:
    text = "Københavns Kommune støtter små virksomheder – café, Œuvre, €100 for the région Hauts-de-France.\n"
    if encoding == "latin-1":
        text = text.replace("–", "-").replace("Œ", "O").replace("€", "EUR")
    path = tmp_path / f"doc-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_document(path)
    assert doc.text.strip() == text.strip()


def test_mixed_line_endings_are_unified(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"First line one.\r\nStill first.\rThird\n\nNew paragraph here.\r\n")
    doc = read_document(path)
    assert "\r" not in doc.text
    assert len(doc.blocks) == 2


def test_markdown_headings_and_list_items(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text("# Study visits\n\nRegions host visits.\n\n- matchmaking events\n- peer review\n", encoding="utf-8")
    doc = read_document(path)
    kinds = [b.kind for b in doc.blocks]
    assert kinds == ["heading", "paragraph", "list_item", "list_item"]


def test_html_main_text_without_navigation_or_scripts(tmp_path: Path) -> None:
    body = " ".join(["The cluster organised matchmaking events for companies from Skåne and Kent."] * 5)
    html = f"""<html><head><title>ISE project</title><script>alert('x')</script></head>
    <body><nav><a href='/'>Home</a> <a href='/about'>About us</a> <a href='/x'>Menu item</a></nav>
    <article><h1>Innovative exchange</h1><p>{body}</p><p>A second paragraph on taster sessions for SMEs in Flanders.</p></article>
    <footer>Cookie policy and legal notice</footer></body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    doc = read_document(path)
    assert "matchmaking events" in doc.text
    assert "alert(" not in doc.text
    assert "Cookie policy" not in doc.text
    assert doc.title in {"ISE project", "Innovative exchange"}


def _make_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    _make_pdf(path, ["Page one talks about cluster internationalisation in the Baltic Sea Region.",
                     "Page two describes peer review of business support in Hampshire."])
    doc = read_document(path)
    pages = {b.page for b in doc.blocks}
    assert pages == {1, 2}
    second = next(b for b in doc.blocks if b.page == 2)
    assert "peer review" in doc.text[second.start : second.end]


def test_pdf_without_text_layer_says_scanned(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 100)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(InputError, match="no extractable text — scanned"):
        read_document(path)


def test_encrypted_pdf_is_reported(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    _make_pdf(plain, ["Secret practice description for small and medium-sized enterprises."])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="s3cret", algorithm="AES-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(InputError, match="encrypted"):
        read_document(path)


def test_truncated_pdf_is_reported(tmp_path: Path) -> None:
    full = tmp_path / "full.pdf"
    _make_pdf(full, ["Some text on trade missions and export vouchers for firms."] * 3)
    data = full.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError) as err:
        read_document(path)
    assert "truncated.pdf" in str(err.value)


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Diagnostic tool", level=1)
    d.add_paragraph("The agency offers an export diagnostic tool to SMEs in Midtjylland.")
    d.add_paragraph("Study visits", style="List Bullet")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Budget"
    table.rows[0].cells[1].text = "2 855 597"
    path = tmp_path / "practice.docx"
    d.save(str(path))
    doc = read_document(path)
    kinds = [b.kind for b in doc.blocks]
    assert kinds == ["heading", "paragraph", "list_item", "table_row"]
    assert "Budget | 2 855 597" in doc.text


def test_docx_that_is_another_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not a word document")
    with pytest.raises(InputError, match="not a Word document"):
        read_document(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("junk.txt", bytes(range(256)) * 20, "binary"),
        ("junk.pdf", b"\x00\x01garbage" * 100, "not a PDF"),
        ("image.png", b"\x89PNG....", "unsupported file type"),
    ],
)
def test_bad_files_raise_input_error_with_name(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason) as err:
        read_document(path)
    assert name in str(err.value)


def test_size_limit_refuses_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as fh:
        fh.seek(5_000_000)
        fh.write(b"x")
    with pytest.raises(InputError, match=r"over the .* limit"):
        read_document(path, max_bytes=1_000_000)


def test_awkward_file_names(tmp_path: Path) -> None:
    path = tmp_path / "rapport $(rm -rf) ø; `x` 'q'.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert read_document(path).source == path.name
