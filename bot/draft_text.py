"""The fixed prose of a drafted reply: greeting, framing, section intros, services intro and closing."""

from __future__ import annotations

from collections.abc import Iterable

from bot.draft_records import Practice
from bot.draft_records import escape_tags as _esc

GREETING = "Dear colleague,"
GENERIC_SERVICES = (
    "If you would like to take this further, please get back to us: we will gladly look at how the Policy "
    "Learning Platform can support your policy challenge."
)
NOT_COVERED = (
    "Our library does not hold documents that cover this request, so we cannot point you to good practices "
    "on it yet. Please get back to us with more detail and we will look into it."
)
SERVICES_INTRO = (
    "The Policy Learning Platform offers services that might be of interest to you for responding to "
    "your policy challenge:"
)
DOC_TYPE_NAMES = {
    "good_practice": ("good practice", "good practices"),
    "policy_brief": ("policy brief", "policy briefs"),
    "helpdesk_reply": ("helpdesk reply", "helpdesk replies"),
    "project_summary": ("project summary", "project summaries"),
    "article": ("article", "articles"),
}


def quoted_request(request: str) -> str:
    """The request as quoted back in the framing: at most 400 characters, cut at a word."""
    return request if len(request) <= 400 else request[:400].rsplit(" ", 1)[0] + "…"


def thanks(quoted: str) -> str:
    """The opening of every framing paragraph, quoting the request back."""
    return f"Thank you for your request to the Policy Learning Platform helpdesk: “{_esc(quoted)}” "


def framing(quoted: str, n_resources: int, n_themes: int) -> str:
    """The framing paragraph of a covered request: what follows and how it is grouped."""
    return (
        thanks(quoted) + f"Below we summarise {plural(n_resources, 'resource')} from our library, grouped in "
        f"{plural(n_themes, 'theme')}, each with a link to learn more where one exists; then support "
        "services that may help you, and the list of references."
    )


def region_note(region: str, has_local: bool) -> str:
    """Says whether the requester's region has practices (listed first) or none on this subject."""
    return (
        f" Practices from {_esc(region)} are listed first."
        if has_local
        else f" The library holds no practice from {_esc(region)} on this subject, so the examples below "
        "come from other regions."
    )


def subject_of(themes: list[str]) -> str:
    """The reply's subject from its section titles (acronyms and names keep their capitals)."""
    return join([t.lower() if t[:2] != t[:2].upper() else t for t in themes])


def theme_title(label: str) -> str:
    """A topic label as a section heading."""
    return label[:1].upper() + label[1:]


def section_intro(theme: str, practices: list[Practice]) -> str:
    """The sentence opening a section: how many resources of which kinds the library holds on the theme."""
    counts: dict[str, int] = {}
    for p in practices:
        counts[p.doc_type] = counts.get(p.doc_type, 0) + 1
    kinds = join([_count(n, t) for t, n in counts.items()])
    name = theme.lower() if theme[1:2].islower() else theme
    return f"On {_esc(name)}, our library holds {kinds} relevant to your question."


def doc_type_group(doc_type: str) -> str:
    """A document type as a section heading ('Policy briefs') when sections fall back to document types."""
    return DOC_TYPE_NAMES.get(doc_type, (doc_type, doc_type.replace("_", " ") + "s"))[1].capitalize()


def plural(n: int, noun: str) -> str:
    """'1 theme', '3 themes'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def join(items: Iterable[str]) -> str:
    """'a, b and c' from the non-empty items."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def closing() -> str:
    """The sign-off of every reply."""
    return "We hope this is useful. Kind regards,\n\nThe Policy Learning Platform helpdesk team"


def _count(n: int, doc_type: str) -> str:
    one, many = DOC_TYPE_NAMES.get(doc_type, ("resource", "resources"))
    numerals = {1: "a" if one[0] not in "aeiou" else "an", 2: "two", 3: "three", 4: "four"}
    return f"{numerals.get(n, str(n))} {one if n == 1 else many}"
