"""The UI's handlers without Gradio (bot/ui/handlers.py), on the real dev-set library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.ui import handlers

ROOT = Path(__file__).resolve().parents[1]


def test_the_handlers_module_does_not_load_gradio() -> None:
    code = "import sys, bot.ui.handlers; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_respond_streams_the_steps_and_ends_with_sources(eval_components) -> None:
    steps = list(handlers.respond(eval_components, "Who is the lead partner of ClusterFY?", []))
    assert steps[0][1] == "Searching the library…" and steps[0][2] is None
    chat, status, sources = steps[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"] and "MITA" in chat[-1]["content"]
    assert status.startswith("Answered from") and "clusterfy" in (sources or "").lower()


def test_respond_refuses_an_empty_question_and_reports_a_rejected_one(eval_components) -> None:
    assert list(handlers.respond(eval_components, "   ", [])) == [([], "⚠️ Please type a question.", None)]
    *_, (chat, status, sources) = handlers.respond(eval_components, "x" * 50_000, [])
    assert status.startswith("⚠️") and "characters" in status and sources is None
    assert chat[-1]["role"] == "assistant" and chat[-1]["content"] == status


def test_a_follow_up_reads_the_chat_the_page_sent(eval_components) -> None:
    page_chat = [
        {"role": "user", "content": "Which voucher scheme did Sunrise Valley introduce in Lithuania?"},
        {"role": "assistant", "content": [{"type": "text", "text": "InoStartas LT [1]."}]},  # Gradio's list form
        {"role": "system", "content": "ignored"},
    ]
    *_, (chat, _status, _sources) = handlers.respond(eval_components, "And which TRLs did it cover?", page_chat)
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert "TRL" in chat[-1]["content"]


def test_api_ask_turns_bad_history_into_a_sentence(eval_components) -> None:
    text, citations = handlers.api_ask(eval_components, "Who is the lead partner of ClusterFY?", "not json")
    assert text.startswith("⚠️") and "history" in text and citations == "[]"


def test_downloads_of_an_edited_draft(tmp_path: Path) -> None:
    assert handlers.prepare_downloads("  ", None) == (None, None, "", "")
    md, docx, preview, folder = handlers.prepare_downloads("# Reply\n\nVouchers help SMEs [1].", str(tmp_path))
    assert Path(md).read_text(encoding="utf-8").startswith("# Reply") and Path(docx).stat().st_size > 0
    assert preview.startswith("# Reply") and folder == str(tmp_path)
