"""Exports of a (possibly staff-edited) reply: Markdown bytes and a Word document with clickable links.

The DOCX is built from the Markdown text, so whatever staff changed in the editor is what gets exported.
Markdown is parsed with markdown-it-py (CommonMark); python-docx writes the document. python-docx has no
API to add an external hyperlink, so `add_hyperlink` adds the standard w:hyperlink element pointing to an
external relationship of the document part.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

LINK_COLOR = "0563C1"
_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")


def _markdown_of(draft: Any) -> str:
    text = draft.to_markdown() if hasattr(draft, "to_markdown") else str(draft)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def export_markdown(draft_md: Any) -> bytes:
    """The reply as UTF-8 Markdown bytes (a `Draft` or its Markdown text), ending with a newline."""
    text = _markdown_of(draft_md).rstrip() + "\n"
    return text.encode("utf-8")


def add_hyperlink(paragraph: Paragraph, url: str, text: str, bold: bool = False, italic: bool = False) -> None:
    """Append a clickable external hyperlink run (blue, underlined) to a python-docx paragraph."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), LINK_COLOR)
    props.append(color)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(underline)
    for flag, tag in ((bold, "w:b"), (italic, "w:i")):
        if flag:
            props.append(OxmlElement(tag))
    run.append(props)
    text_el = OxmlElement("w:t")
    text_el.text = text
    text_el.set(qn("xml:space"), "preserve")
    run.append(text_el)
    link.append(run)
    paragraph._p.append(link)


class _InlineWriter:
    """Writes one inline token stream (text, bold, italic, code, links) into a paragraph."""

    def __init__(self, paragraph: Paragraph) -> None:
        self.paragraph = paragraph
        self.bold = 0
        self.italic = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def text(self, content: str, code: bool = False) -> None:
        if self.href is not None:
            self.link_text.append(content)
            return
        pos = 0
        for m in _URL.finditer(content):  # bare URLs typed by staff become links too
            self._run(content[pos : m.start()], code)
            add_hyperlink(self.paragraph, m.group(0), m.group(0), bool(self.bold), bool(self.italic))
            pos = m.end()
        self._run(content[pos:], code)

    def _run(self, content: str, code: bool) -> None:
        if not content:
            return
        run = self.paragraph.add_run(content)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        if code:
            run.font.name = "Consolas"

    def write(self, tokens: list[Token]) -> None:
        for tok in tokens:
            kind = tok.type
            if kind == "text":
                self.text(tok.content)
            elif kind == "code_inline":
                self.text(tok.content, code=True)
            elif kind in ("softbreak",):
                self.text(" ")
            elif kind == "hardbreak":
                self.paragraph.add_run().add_break()
            elif kind == "strong_open":
                self.bold += 1
            elif kind == "strong_close":
                self.bold = max(0, self.bold - 1)
            elif kind == "em_open":
                self.italic += 1
            elif kind == "em_close":
                self.italic = max(0, self.italic - 1)
            elif kind == "link_open":
                href = str(tok.attrs.get("href", ""))
                if href.startswith(("http://", "https://", "mailto:")):
                    self.href, self.link_text = href, []
            elif kind == "link_close" and self.href is not None:
                href, label = self.href, "".join(self.link_text) or self.href
                self.href = None
                add_hyperlink(self.paragraph, href, label, bool(self.bold), bool(self.italic))
            elif kind == "html_inline":
                self.text(tok.content)
            elif kind == "image":
                self.text(tok.content or str(tok.attrs.get("alt", "")))


def export_docx(draft_markdown_or_draft: Any, path: Path | str) -> Path:
    """Write the reply as a .docx: headings, paragraphs, bullet and numbered lists, clickable links."""
    md = _markdown_of(draft_markdown_or_draft)
    tokens = MarkdownIt("commonmark").parse(md)
    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    lists: list[dict[str, Any]] = []  # stack of open lists: {"ordered": bool, "n": next number}
    paragraph: Paragraph | None = None
    pending_item = False
    for tok in tokens:
        kind = tok.type
        if kind == "heading_open":
            level = int(tok.tag[1])
            paragraph = doc.add_heading("", level=min(level, 9))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = int(tok.attrs.get("start", 1) or 1) if kind == "ordered_list_open" else 0
            lists.append({"ordered": kind == "ordered_list_open", "n": start})
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            pending_item = True
        elif kind == "paragraph_open":
            if pending_item and lists:
                current = lists[-1]
                depth = min(len(lists), 3)
                if current["ordered"]:
                    # the number is written out so that [n] markers keep matching after edits
                    paragraph = doc.add_paragraph(f"{current['n']}. ")
                    paragraph.paragraph_format.left_indent = Pt(18 * depth)
                    paragraph.paragraph_format.first_line_indent = Pt(-18)
                    current["n"] += 1
                else:
                    style = "List Bullet" if depth == 1 else f"List Bullet {depth}"
                    paragraph = doc.add_paragraph(style=style)
                pending_item = False
            elif lists:
                paragraph = doc.add_paragraph()
                paragraph.paragraph_format.left_indent = Pt(18 * min(len(lists), 3))
            else:
                paragraph = doc.add_paragraph()
        elif kind == "inline" and paragraph is not None:
            _InlineWriter(paragraph).write(tok.children or [])
        elif kind in ("fence", "code_block"):
            para = doc.add_paragraph()
            run = para.add_run(tok.content.rstrip("\n"))
            run.font.name = "Consolas"
        elif kind == "hr":
            doc.add_paragraph("—" * 20)
        elif kind == "html_block":
            doc.add_paragraph(tok.content.strip())
    for heading in (p for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")):
        for run in heading.runs:
            run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def export_files(draft_markdown: str, folder: Path | str, stem: str = "helpdesk-reply") -> tuple[Path, Path]:
    """Write `<stem>.md` and `<stem>.docx` from the same Markdown into `folder`; returns both paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    md_path = out / f"{stem}.md"
    md_path.write_bytes(export_markdown(draft_markdown))
    return md_path, export_docx(draft_markdown, out / f"{stem}.docx")
