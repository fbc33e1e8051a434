"""The replicated library of `helpdesk bench ingest`: the corpus copied s times with unique ids and titles.

Metadata is read with the ingest's own readers (`split_front_matter` of the Markdown loader, `read_sidecar`
of the PDF loader), so a copy carries exactly the fields the ingest sees, and written back with
python-frontmatter (Markdown) or PyYAML (`.meta.yaml` sidecars). The round trip keeps every value but not
the original layout (comments, quoting, key spacing): nothing downstream reads the metadata block's bytes,
only its fields, and the document body is written unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from bot.errors import HelpdeskError, IngestError

SIDECAR_SUFFIX = ".meta.yaml"


def replica_fields(doc_id: str, title: str, k: int) -> dict[str, str]:
    """The id and title of copy `k` of a document (copy 0 is the original)."""
    return {"id": f"{doc_id}-copy{k}", "title": f"{title} (copy {k})"}


def _dump_yaml(meta: dict[str, Any]) -> str:
    """A mapping as block YAML, in its own key order."""
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)


def write_replica(src: Path, dest: Path, fields: dict[str, str]) -> None:
    """Write `src` to `dest` with the document-level `fields` overridden.

    Markdown files get them in their YAML front matter (added when missing); other formats in their
    `.meta.yaml` sidecar (copied and rewritten, or created). Metadata the ingest would ignore (bad YAML, not
    a mapping) is replaced by `fields` alone; an unclosed block stays in the body, as the ingest reads it.
    """
    from ingest.loaders.markdown import split_front_matter
    from ingest.loaders.pdf import read_sidecar

    dest.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []  # the ingest reports them for the original; the copy drops what it ignores
    if src.suffix.lower() in (".md", ".markdown"):
        meta, body = split_front_matter(src, src.read_text(encoding="utf-8-sig"), warnings)
        post = frontmatter.Post(body)
        post.metadata.update({**meta, **fields})
        dest.write_text(frontmatter.dumps(post, sort_keys=False), encoding="utf-8")
        return
    shutil.copyfile(src, dest)
    meta = read_sidecar(src, warnings)
    dest.with_name(dest.name + SIDECAR_SUFFIX).write_text(_dump_yaml({**meta, **fields}), encoding="utf-8")


def replicate_library(src: Path, dest: Path, copies: int) -> int:
    """Build a library under `dest` holding `copies` copies of the folder `src`, each with unique ids and titles.

    Copy 0 is `src` as is (under `dest/copy0/`); copy k ≥ 1 (under `dest/copy<k>/`) has every document's id
    rewritten to `<id>-copy<k>` and ` (copy k)` appended to its title. Returns the number of documents.
    """
    from ingest.loaders import SUPPORTED_EXTENSIONS, load_document

    src = src.resolve()
    files = [
        p
        for p in sorted(src.rglob("*"))
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(src).parts)
        and not p.name.endswith(SIDECAR_SUFFIX)
        and p.suffix.lower() in SUPPORTED_EXTENSIONS
    ]
    if not files:
        raise HelpdeskError(f"no documents to benchmark in {src}")
    for p in files:
        rel = p.relative_to(src)
        target = dest / "copy0" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
        sidecar = p.with_name(p.name + SIDECAR_SUFFIX)
        if sidecar.exists():
            shutil.copyfile(sidecar, target.with_name(target.name + SIDECAR_SUFFIX))
        if copies < 2:
            continue
        try:
            doc = load_document(p, src)
        except IngestError:
            doc_id, title = rel.with_suffix("").as_posix(), p.stem  # fails in the ingest too, and is reported
        else:
            doc_id, title = doc.doc_id, doc.title
        for k in range(1, copies):
            write_replica(p, dest / f"copy{k}" / rel, replica_fields(doc_id, title, k))
    return len(files)
