"""The library's coverage map: how many documents and passages the index holds per topic and country.

Topics come from each document's `topics` metadata (front matter or PDF sidecar). A document without
topics is counted under its document type ("report", "good practice"...) marked as such, so it is not lost,
and under "(no topic)" when it has no type either; a document without a country is counted under
"(no country)". A document with several topics counts once in each of their rows, so the rows do not add
up to the number of documents: the totals row ("(all topics)") counts each document once. Empty cells of
the matrix are the gaps ("no document on clusters from Italy"). The heat-map and the gaps in words cover
the `top` topics with the most documents (all topics are in the CSV and the Markdown table).

No Gradio here: `helpdesk coverage --out DIR` and the Library tab both call `coverage_map` / `write_coverage`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.types import DocumentRecord

NO_TOPIC = "(no topic)"
NO_COUNTRY = "(no country)"
ALL_TOPICS = "(all topics)"
ALL_COUNTRIES = "(all countries)"
DEFAULT_TOP = 25


def document_topics(rec: DocumentRecord) -> list[str]:
    """A document's topics; without any, its document type ("type: report"), else "(no topic)"."""
    topics = [t.strip() for t in rec.topics if t.strip()]
    if topics:
        return list(dict.fromkeys(topics))
    if rec.doc_type.strip():
        return [f"type: {rec.doc_type.strip().replace('_', ' ')}"]
    return [NO_TOPIC]


def document_country(rec: DocumentRecord) -> str:
    """A document's country, or "(no country)"."""
    return rec.country.strip() or NO_COUNTRY


@dataclass
class CoverageMap:
    """Documents and passages per (topic, country), with the totals that count each document once."""

    topics: list[str]  # most documents first
    countries: list[str]  # most documents first
    documents: dict[tuple[str, str], int] = field(default_factory=dict)
    passages: dict[tuple[str, str], int] = field(default_factory=dict)
    country_documents: dict[str, int] = field(default_factory=dict)
    country_passages: dict[str, int] = field(default_factory=dict)
    total_documents: int = 0
    total_passages: int = 0

    def topic_documents(self, topic: str) -> int:
        """Documents on a topic, all countries."""
        return sum(self.documents.get((topic, c), 0) for c in self.countries)

    def shown_topics(self, top: int = DEFAULT_TOP) -> list[str]:
        """The `top` topics with the most documents (the heat-map's rows)."""
        return self.topics[:top]

    def gaps(self, top: int = DEFAULT_TOP) -> list[tuple[str, str]]:
        """Empty cells (topic, country) among the shown topics: the library has no document there."""
        return [(t, c) for t in self.shown_topics(top) for c in self.countries if not self.documents.get((t, c))]

    def gap_lines(self, top: int = DEFAULT_TOP) -> list[str]:
        """The gaps in words, one line per topic: "no document on clusters from Italy, Spain"."""
        by_topic: dict[str, list[str]] = {}
        for t, c in self.gaps(top):
            by_topic.setdefault(t, []).append(c)
        return [f"no document on {t} from {', '.join(cs)}" for t, cs in by_topic.items()]


def coverage_map(records: Iterable[DocumentRecord]) -> CoverageMap:
    """Count the documents and passages of each (topic, country) cell."""
    docs: dict[tuple[str, str], int] = {}
    passages: dict[tuple[str, str], int] = {}
    c_docs: dict[str, int] = {}
    c_passages: dict[str, int] = {}
    n_docs = n_passages = 0
    for rec in records:
        country = document_country(rec)
        n_docs += 1
        n_passages += rec.n_chunks
        c_docs[country] = c_docs.get(country, 0) + 1
        c_passages[country] = c_passages.get(country, 0) + rec.n_chunks
        for topic in document_topics(rec):
            docs[(topic, country)] = docs.get((topic, country), 0) + 1
            passages[(topic, country)] = passages.get((topic, country), 0) + rec.n_chunks
    countries = sorted(c_docs, key=lambda c: (-c_docs[c], c.casefold()))
    topic_totals: dict[str, int] = {}
    for (t, _), n in docs.items():
        topic_totals[t] = topic_totals.get(t, 0) + n
    topics = sorted(topic_totals, key=lambda t: (-topic_totals[t], t.casefold()))
    return CoverageMap(topics, countries, docs, passages, c_docs, c_passages, n_docs, n_passages)


def coverage_csv(cov: CoverageMap) -> str:
    """Long-format CSV: one row per (topic, country) cell, zeros included, then per-country and grand totals."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["topic", "country", "documents", "passages"])
    for t in cov.topics:
        for c in cov.countries:
            w.writerow([t, c, cov.documents.get((t, c), 0), cov.passages.get((t, c), 0)])
    for c in cov.countries:
        w.writerow([ALL_TOPICS, c, cov.country_documents[c], cov.country_passages[c]])
    w.writerow([ALL_TOPICS, ALL_COUNTRIES, cov.total_documents, cov.total_passages])
    return out.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def coverage_markdown(cov: CoverageMap, top: int = DEFAULT_TOP) -> str:
    """The matrix as a Markdown table ("documents (passages)" per cell; empty cells are gaps), then the gaps."""
    if not cov.total_documents:
        return "The library is empty: no coverage to show."
    head = ["topic", *cov.countries]
    lines = [
        f"**{cov.total_documents} documents, {cov.total_passages} passages** — documents (passages) per topic "
        "and country; an empty cell is a gap.",
        "",
        "| " + " | ".join(_md(h) for h in head) + " |",
        "|" + "---|" * len(head),
    ]
    for t in cov.topics:
        cells = [
            f"{cov.documents[(t, c)]} ({cov.passages[(t, c)]})" if cov.documents.get((t, c)) else ""
            for c in cov.countries
        ]
        lines.append("| " + " | ".join([_md(t), *cells]) + " |")
    totals = [f"{cov.country_documents[c]} ({cov.country_passages[c]})" for c in cov.countries]
    lines.append("| " + " | ".join([f"**{ALL_TOPICS}**", *totals]) + " |")
    gaps = cov.gap_lines(top)
    lines += ["", f"### Gaps (the {min(top, len(cov.topics))} topics with most documents)", ""]
    lines += [f"- {_md(g)}" for g in gaps] or ["- none: every shown topic has a document from every country"]
    return "\n".join(lines)


def coverage_png(cov: CoverageMap, path: Path, top: int = DEFAULT_TOP) -> Path:
    """A heat-map of documents per (topic, country) for the `top` topics; empty cells stay white."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in server threads
    import matplotlib.pyplot as plt
    import numpy as np

    topics = cov.shown_topics(top) or [NO_TOPIC]
    countries = cov.countries or [NO_COUNTRY]
    grid = np.array([[cov.documents.get((t, c), 0) for c in countries] for t in topics], dtype=float)
    masked = np.ma.masked_equal(grid, 0)
    fig, ax = plt.subplots(figsize=(1.6 + 0.75 * len(countries), 1.2 + 0.32 * len(topics)), dpi=110)
    try:
        cmap = plt.get_cmap("YlGnBu").with_extremes(bad="white")
        image = ax.imshow(masked, cmap=cmap, aspect="auto", vmin=0, vmax=max(1.0, float(grid.max())))
        for i in range(len(topics)):
            for j in range(len(countries)):
                if grid[i, j]:
                    dark = grid[i, j] > 0.6 * grid.max()
                    ax.text(
                        j, i, int(grid[i, j]), ha="center", va="center", fontsize=7, color="white" if dark else "black"
                    )
        ax.set_xticks(range(len(countries)), labels=countries, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(topics)), labels=topics, fontsize=8)
        ax.set_xticks(np.arange(-0.5, len(countries)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(topics)), minor=True)
        ax.grid(which="minor", color="#dddddd", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
        ax.set_title(
            f"Library coverage: documents per topic and country ({cov.total_documents} documents; white = gap)",
            fontsize=9,
        )
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="documents")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path


def write_coverage(records: Iterable[DocumentRecord], out_dir: Path, top: int = DEFAULT_TOP) -> dict[str, Path]:
    """Write coverage.csv, coverage.md and coverage.png into `out_dir`; returns their paths."""
    cov = coverage_map(records)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / "coverage.csv", "markdown": out_dir / "coverage.md", "png": out_dir / "coverage.png"}
    paths["csv"].write_text(coverage_csv(cov), encoding="utf-8")
    paths["markdown"].write_text("# Library coverage\n\n" + coverage_markdown(cov, top) + "\n", encoding="utf-8")
    coverage_png(cov, paths["png"], top)
    return paths
