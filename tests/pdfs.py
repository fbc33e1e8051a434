"""Real PDFs written with a real PDF writer (reportlab) for the tests."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def write_pdf(path: Path, pages: list[str], encrypt: str | None = None, with_text: bool = True) -> Path:
    """One page per string; wrapped lines; optionally password-protected or image-only (no text)."""
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    for body in pages:
        if with_text:
            y = 780
            words = body.split()
            line: list[str] = []
            for w in words:
                if len(" ".join([*line, w])) > 90:
                    c.drawString(60, y, " ".join(line))
                    y -= 16
                    line = []
                line.append(w)
            if line:
                c.drawString(60, y, " ".join(line))
        else:
            c.rect(60, 60, 300, 300, fill=1)
        c.showPage()
    c.save()
    return path
