"""The import contracts of .importlinter (ingest and the bot core never import the UI, the CLI, the JSON
server or the evals; only bot.store imports chromadb), checked with import-linter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the packages under `root` (which shadow the installed ones)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_are_kept() -> None:
    res = lint_imports(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 kept, 0 broken" in res.stdout


def test_a_core_module_importing_the_ui_breaks_the_contract(tmp_path: Path) -> None:
    for package in ("bot", "ingest", "evals"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    retrieval = tmp_path / "bot" / "retrieval.py"
    retrieval.write_text(retrieval.read_text() + "\nfrom bot.ui import render  # noqa: E402\n")
    res = lint_imports(tmp_path)
    assert res.returncode == 1
    assert "bot.retrieval -> bot.ui.render" in res.stdout and "1 kept, 1 broken" in res.stdout
