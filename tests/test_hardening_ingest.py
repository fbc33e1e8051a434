"""Ingest never follows a symbolic link out of the library folder (issue 11)."""

from __future__ import annotations

from pathlib import Path

from bot.components import build_components
from bot.settings import Settings

SECRET = "Quokka-Zanzibar-7731 is the database password of the finance office."


def _secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text(f"# Finance\n\n{SECRET}\n", encoding="utf-8")
    return secret


def test_links_in_the_library_are_refused_with_one_line_each(library: Path, tmp_path: Path, embedder) -> None:
    secret = _secret_file(tmp_path)
    (library / "x.md").symlink_to(secret)
    (library / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    comps = build_components(Settings(), embedder=embedder, use_llm=False)

    summary = comps.pipeline.run([library], progress=False)

    messages = {Path(e.path).name: str(e) for e in summary.errors}
    assert set(messages) == {"x.md", "linked-folder"}
    for name, message in messages.items():
        assert name in message and "symbolic link" in message and "\n" not in message
    texts = [c.text for c in comps.store.current_chunks()]
    assert texts and not any("Quokka" in t for t in texts)
    assert len(comps.store.documents()) == 10  # the real files of the slice are all ingested


def test_a_link_given_on_the_command_line_is_refused(library: Path, tmp_path: Path, embedder) -> None:
    link = tmp_path / "looks-harmless.md"
    link.symlink_to(_secret_file(tmp_path))
    comps = build_components(Settings(), embedder=embedder, use_llm=False)

    summary = comps.pipeline.run([link], progress=False)

    assert [Path(e.path).name for e in summary.errors] == ["looks-harmless.md"]
    assert "symbolic link" in str(summary.errors[0])
    assert comps.store.documents() == {}


def test_a_link_swapped_in_after_an_ingest_drops_the_old_version(library: Path, tmp_path: Path, embedder) -> None:
    comps = build_components(Settings(), embedder=embedder, use_llm=False)
    assert comps.pipeline.run([library], progress=False).failed == 0
    target = library / "clusterfy-project-summary.md"
    target.unlink()
    target.symlink_to(_secret_file(tmp_path))

    summary = comps.pipeline.run([library], progress=False)

    assert [Path(e.path).name for e in summary.errors] == ["clusterfy-project-summary.md"]
    assert not any("Quokka" in c.text for c in comps.store.current_chunks())
