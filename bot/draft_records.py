"""The records of a helpdesk-reply draft and their Markdown rendering (what staff edit and export)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.citations import MARKER
from bot.lexical import fold


def escape_tags(text: str) -> str:
    """No tag from a document or request survives into the Markdown (ampersands stay readable)."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


_esc = escape_tags


@dataclass
class Reference:
    """One numbered entry of the reference list."""

    n: int
    title: str
    location: str
    url: str
    doc_id: str
    source_path: str = ""

    def to_markdown(self) -> str:
        """'1. Title, section. <url>' (the library file when the document has no public link)."""
        head = _esc(self.title)
        if self.location:
            head += f", {_esc(self.location)}"
        head = head.rstrip(" .")
        link = f"<{self.url}>" if self.url else f"(library document {_esc(self.source_path or self.doc_id)})"
        return f"{self.n}. {head}. {link}"


@dataclass
class Practice:
    """A good practice or passage summarised in 1–2 quoted, cited sentences."""

    title: str
    place: str
    text: str
    url: str = ""
    doc_type: str = ""

    def to_markdown(self) -> str:
        """One paragraph: bold title, place, quoted sentences with [n], a link to learn more."""
        place = f" ({_esc(self.place)})" if self.place else ""
        more = f" [Learn more]({self.url})" if self.url else ""
        return f"**{_esc(self.title)}**{place}: {self.text}{more}"


@dataclass
class InsightSection:
    """One 'Policy insights' theme."""

    theme: str
    intro: str
    practices: list[Practice] = field(default_factory=list)


@dataclass
class ServiceNote:
    """A platform service the library describes, with the sentence that describes it."""

    name: str
    text: str

    def to_markdown(self) -> str:
        """A bullet; the service's name is not repeated when the quoted sentence opens with it."""
        opening = fold(self.text.replace("*", "").replace("-", " "))
        if opening.startswith(fold(self.name)[:8]):
            return f"- {self.text}"
        return f"- **{_esc(self.name)}**: {self.text}"


@dataclass
class Draft:
    """A helpdesk-reply draft; `to_markdown()` is what staff edit and export."""

    request: str
    subject: str
    greeting: str
    framing: str
    sections: list[InsightSection] = field(default_factory=list)
    services_intro: str = ""
    services: list[ServiceNote] = field(default_factory=list)
    closing: str = ""
    references: list[Reference] = field(default_factory=list)
    covered: bool = True

    def to_markdown(self) -> str:
        """The reply as Markdown: headings, paragraphs, bullets and a numbered reference list."""
        out = [f"# Helpdesk reply: {_esc(self.subject)}", self.greeting, self.framing]
        for i, section in enumerate(self.sections, 1):
            out.append(f"## Policy insights {i}. {_esc(section.theme)}")
            out.append(section.intro)
            out.extend(p.to_markdown() for p in section.practices)
        out.append("## Policy Learning Platform support services")
        out.append(self.services_intro)
        if self.services:
            out.append("\n".join(s.to_markdown() for s in self.services))
        out.append(self.closing)
        if self.references:
            out.append("## References")
            out.append("\n".join(r.to_markdown() for r in self.references))
        return "\n\n".join(part for part in out if part) + "\n"

    def cited(self) -> set[int]:
        """Every [n] used in the body."""
        return {int(n) for n in MARKER.findall(self.to_markdown().split("\n## References")[0])}
