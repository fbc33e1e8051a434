"""The Gradio Blocks app: Ask, Draft a reply and Library tabs, and the named API endpoints `ask` and `draft`.

Layout and events only: what the events do is in bot/ui/handlers.py (no Gradio there, tested on its own);
answers come from the Assistant, drafts from bot.drafting, files from bot.export, uploads and re-indexing
from bot.ui.library (which calls the ingest pipeline). Over 300 lines because the five tabs' layout is one
declarative `gr.Blocks` block whose components the events refer to; the Evaluate and Library handlers that
stay here return Gradio updates for several components at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.utils import get_upload_folder

from bot.errors import HelpdeskError, StoreUnavailable
from bot.settings import Settings
from bot.ui import handlers
from bot.ui.library import (
    DOCUMENT_COLUMNS,
    UPLOAD_EXTENSIONS,
    coverage_view,
    document_rows,
    ingest_uploads,
    library_stats,
    reindex,
    safe_upload_name,
)
from bot.ui.render import filter_choices, sources_html
from bot.user_input import clean_text

if TYPE_CHECKING:  # the server builds this page before it imports llama-index (bot/deferred.py)
    from bot.components import Components

EXAMPLES = [
    "How did other regions use innovation vouchers to get SMEs working with universities?",
    "Which three policy instruments does C3-Saxony use to foster cross-cluster collaboration?",
    "What is the entrepreneurial discovery process in smart specialisation?",
    "Which Interreg Europe projects deal with waste management?",
]
DRAFT_EXAMPLE = (
    "How can clusters and innovation vouchers support the green and digital transition of SMEs? "
    "We are preparing an action plan for our region and look for good practices and support."
)

EVAL_DEV = "Development set (shared/evals/dev.jsonl)"
EVAL_UPLOAD = "Uploaded file"

CSS = """
.sources .source {border-left: 3px solid #3b7dd8; padding: 4px 10px; margin-bottom: 10px;}
.sources blockquote {margin: 4px 0; color: #444; font-size: 0.92em;}
.source-meta {color: #666; font-size: 0.85em;}
.sources-title {font-weight: 600; margin-bottom: 8px; color: #333;}
#status, #draft-status, #lib-status {min-height: 1.5em; color: #555;}
#draft-md textarea {font-family: ui-monospace, monospace; font-size: 0.9em;}
#draft-preview {border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; max-height: 640px; overflow-y: auto;}
"""


# Gradio's temp-folder cleanup: every 30 minutes, files it received or made more than an hour ago are deleted
DELETE_CACHE = (1800, 3600)


def _kept(value: Any) -> Any:
    """A handler's value, or Gradio's "unchanged" for None."""
    return gr.update() if value is None else value


def launch_options(settings: Settings) -> dict[str, Any]:
    """Options of `Blocks.launch` that belong to the app: its CSS and the upload size limit."""
    return {"css": CSS, "max_file_size": int(settings.max_file_mb * 1024 * 1024), "show_error": False}


def build_app(comps: Components, staff_tools: bool = True, library: bool | None = None) -> gr.Blocks:
    """The app; tests build it on a temp store and drive it in a real browser.

    `staff_tools=False` gives the public app: the Ask tab and the `ask` API only (drafting and the
    library are then served by a second, password-protected app; see bot/server.py). `library=False`
    leaves out the Library tab (uploads, re-index) even with the staff tools: see bot.server.library_mount.
    """
    settings = comps.settings
    with_library = staff_tools if library is None else (library and staff_tools)
    # nothing is read from the index here: the page's load event (page_view) fills the filters, the table and
    # the map, so the server can build this page while its own components still load (bot/deferred.py)
    choices = filter_choices({})

    # ---- handlers (bot/ui/handlers.py; None from them means "leave the component as it is") ----------
    def respond(
        question: str, chat: list[dict[str, Any]], country: str | None, doc_type: str | None, topic: str | None
    ) -> Iterator[tuple[Any, ...]]:
        for shown, status_line, sources_view in handlers.respond(comps, question, chat, country, doc_type, topic):
            yield shown, "", status_line, _kept(sources_view)

    def api_ask(question: str, history_json: str = "[]", filters_json: str = "{}") -> tuple[str, str]:
        return handlers.api_ask(comps, question, history_json, filters_json)

    def make_draft(request: str, region: str | None, topic: str | None) -> tuple[Any, str]:
        text, status_line = handlers.make_draft(comps, request, region, topic)
        return _kept(text), status_line

    def prepare_downloads(markdown: str, folder: str | None) -> tuple[Any, Any, str, str]:
        md_path, docx_path, preview_md, folder = handlers.prepare_downloads(markdown, folder)
        return gr.update(value=md_path), gr.update(value=docx_path), preview_md, folder

    def api_draft(request: str, region: str = "", topic: str = "") -> str:
        return handlers.api_draft(comps, request, region, topic)

    find_practices = handlers.PracticeFinder(comps).find

    # ---- Evaluate ---------------------------------------------------------------------------------
    def run_evaluation(
        source: str,
        upload: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (how Gradio attaches a progress bar)
    ) -> Iterator[tuple[Any, ...]]:
        from evals import workbench

        runs_dir = workbench.runs_dir_for(settings)
        path = Path(upload) if source == EVAL_UPLOAD and upload else workbench.DEV_SET
        if source == EVAL_UPLOAD and not upload:
            yield "⚠️ Upload a question file (.jsonl) first.", *(gr.update(),) * 6
            return
        earlier = workbench.list_runs(runs_dir)
        yield f"Running {path.name}…", *(gr.update(),) * 6
        try:
            run = workbench.run_question_file(
                comps, path, runs_dir, progress=lambda i, n: progress((i, n), desc="questions")
            )
        except HelpdeskError as exc:
            yield f"⚠️ {exc}", *(gr.update(),) * 6
            return
        choices = [p.name for p in workbench.list_runs(runs_dir) if p != run]
        comparison = workbench.comparison_markdown(earlier[0], run) if earlier else "No earlier run to compare with."
        yield (
            f"Finished: {run.name}",
            workbench.report_markdown(run),
            str(run / "report.png"),
            workbench.worst_questions(run),
            gr.update(choices=choices, value=choices[0] if choices else None),
            comparison,
            str(run / "report.md"),
        )

    def compare_runs(earlier: str | None, status_text: str) -> str:
        from evals import workbench

        runs_dir = workbench.runs_dir_for(settings)
        current = status_text.removeprefix("Finished: ").strip()
        if not earlier or not (runs_dir / current).is_dir() or not (runs_dir / earlier).is_dir():
            return "Run an evaluation, then pick an earlier run."
        return workbench.comparison_markdown(runs_dir / earlier, runs_dir / current)

    # ---- Library ------------------------------------------------------------------------------
    def library_view(query: str = "") -> tuple[Any, ...]:
        records = comps.retriever.records
        c = filter_choices(records)
        return (
            gr.update(value=document_rows(records, query)),
            library_stats(records),
            gr.update(choices=c["country"]),
            gr.update(choices=c["doc_type"]),
            gr.update(choices=c["topic"]),
            gr.update(choices=c["topic"]),
            *coverage_view(records),
        )

    def page_view(query: str = "") -> dict[Any, Any]:
        """What the page shows from the index, fresh at every page load (uploads and other processes ingest)."""
        retriever = comps.retriever
        records = retriever.records
        with contextlib.suppress(StoreUnavailable):  # the page still loads; questions say the store is down
            current = comps.store.documents()  # one small read, not throttled like the retriever's own check
            if {d: r.version for d, r in current.items()} != {d: r.version for d, r in records.items()}:
                retriever.refresh(force=True)
            records = current
        c = filter_choices(records)
        view: dict[Any, Any] = {
            country: gr.update(choices=c["country"]),
            doc_type: gr.update(choices=c["doc_type"]),
            topic: gr.update(choices=c["topic"]),
        }
        if staff_tools:
            view[draft_topic] = gr.update(choices=c["topic"])
        if with_library:
            view[table] = gr.update(value=document_rows(records, query or ""))
            view[stats] = library_stats(records)
            view[coverage_image], view[coverage_gaps] = coverage_view(records)
        return view

    def on_upload(
        files: list[str] | None,
        query: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008  (how Gradio attaches a progress bar)
    ) -> Iterator[tuple[Any, ...]]:
        paths = [Path(f) for f in files or []]
        if not paths:
            return
        names = ", ".join(safe_upload_name(p.name) for p in paths)
        yield f"Adding {names} to the library…", *library_view(query), gr.update()
        report = ingest_uploads(
            comps.pipeline,
            comps.retriever,
            [(p, p.name) for p in paths],
            settings.corpus_dir,
            settings.max_file_mb,
            progress=True,
            received_in=Path(get_upload_folder()),  # only files Gradio received: never a path a client names
        )
        yield report.markdown(), *library_view(query), gr.update(value=None)

    def on_reindex(
        query: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008  (how Gradio attaches a progress bar)
    ) -> Iterator[tuple[Any, ...]]:
        yield f"Re-indexing {settings.corpus_dir}…", *library_view(query)
        report = reindex(comps.pipeline, comps.retriever, settings.corpus_dir, progress=True)
        yield report.markdown(), *library_view(query)

    # ---- layout -------------------------------------------------------------------------------
    with gr.Blocks(title="Policy Helpdesk Assistant", delete_cache=DELETE_CACHE) as app:
        gr.Markdown("## Policy Helpdesk Assistant\nAsk about good practices, policy briefs and helpdesk replies.")
        with gr.Tab("Ask", id="ask-tab", elem_id="ask-tab"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    elem_id="chat",
                    height=460,
                    sanitize_html=True,
                    placeholder="Ask a question about regional policy practices, or pick an example below.",
                )
                question = gr.Textbox(
                    label="Your question", elem_id="question", placeholder="e.g. " + EXAMPLES[0], lines=2
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation", elem_id="clear")
                status = gr.Markdown("", elem_id="status")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Column(scale=2):
                with gr.Row():
                    country = gr.Dropdown(choices["country"], label="Country", elem_id="f-country", value=None)
                    doc_type = gr.Dropdown(choices["doc_type"], label="Document type", elem_id="f-type", value=None)
                    topic = gr.Dropdown(choices["topic"], label="Topic", elem_id="f-topic", value=None)
                sources = gr.HTML(sources_html(None), elem_id="sources", label="Sources")

        if staff_tools:
            with gr.Tab("Draft a reply", id="draft-tab", elem_id="draft-tab"):
                gr.Markdown(
                    "Paste a helpdesk request. The draft quotes the library with numbered references; edit it, "
                    "then download it as Markdown or Word."
                )
                with gr.Row():
                    with gr.Column(scale=3):
                        request = gr.Textbox(
                            label="Request", elem_id="draft-request", lines=5, placeholder="e.g. " + DRAFT_EXAMPLE
                        )
                    with gr.Column(scale=2):
                        region = gr.Textbox(
                            label="Region or country (optional)", elem_id="draft-region", placeholder="e.g. Spain"
                        )
                        draft_topic = gr.Dropdown(
                            choices["topic"],
                            label="Topic (optional)",
                            elem_id="draft-topic",
                            value=None,
                            allow_custom_value=True,
                        )
                        make = gr.Button("Draft a reply", variant="primary", elem_id="draft-button")
                draft_state = gr.Markdown("", elem_id="draft-status")
                with gr.Row():
                    editor = gr.Textbox(
                        label="Draft (Markdown — edit freely; downloads follow your edits)",
                        elem_id="draft-md",
                        lines=26,
                        max_lines=60,
                        interactive=True,
                    )
                    preview = gr.Markdown("", elem_id="draft-preview", sanitize_html=True)
                with gr.Row():
                    download_md = gr.DownloadButton("Download .md", elem_id="download-md", value=None)
                    download_docx = gr.DownloadButton(
                        "Download .docx", elem_id="download-docx", value=None, variant="primary"
                    )
                folder = gr.State("")

            with gr.Tab("Find practices to transfer", id="transfer-tab", elem_id="transfer-tab"):
                gr.Markdown(
                    "Describe your region's challenge in plain words: good practices from **other** regions that "
                    "address it, ranked (several regions before many hits from one), each with the sentences that "
                    "show it and any transfer the library already records."
                )
                with gr.Row():
                    challenge = gr.Textbox(
                        label="Challenge",
                        elem_id="transfer-challenge",
                        lines=3,
                        scale=3,
                        placeholder="e.g. Our SMEs rarely work with universities; could innovation vouchers help?",
                    )
                    with gr.Column(scale=2):
                        asking_region = gr.Textbox(
                            label="Your region", elem_id="transfer-region", placeholder="e.g. Lapland"
                        )
                        asking_country = gr.Textbox(
                            label="Your country (optional)", elem_id="transfer-country", placeholder="e.g. Finland"
                        )
                        find_button = gr.Button("Find practices", variant="primary", elem_id="transfer-button")
                transfer_status = gr.Markdown("", elem_id="transfer-status")
                transfer_results = gr.Markdown("", elem_id="transfer-results", sanitize_html=True)

        if staff_tools:
            with gr.Tab("Evaluate", id="evaluate-tab", elem_id="evaluate-tab"):
                gr.Markdown(
                    "Run the shipped development set or your own question file (JSON lines, one "
                    '`{"id", "question", "gold_doc_ids", ...}` per line: see evals/README.md) against this library. '
                    "Runs are kept with their settings; each is compared with the one before."
                )
                with gr.Row():
                    eval_source = gr.Radio(
                        [EVAL_DEV, EVAL_UPLOAD], value=EVAL_DEV, label="Questions", elem_id="eval-source"
                    )
                    eval_file = gr.File(label="Question file (.jsonl)", elem_id="eval-file", type="filepath")
                    eval_button = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
                eval_status = gr.Markdown("", elem_id="eval-status")
                with gr.Row():
                    eval_report = gr.Markdown("", elem_id="eval-report")
                    eval_plot = gr.Image(label="Report plot", elem_id="eval-plot", interactive=False, type="filepath")
                gr.Markdown("**Worst questions** (open one to see its answer and retrieved documents)")
                eval_worst = gr.Markdown("", elem_id="eval-worst", sanitize_html=True)
                with gr.Row():
                    eval_earlier = gr.Dropdown([], label="Compare with an earlier run", elem_id="eval-earlier")
                    eval_download = gr.DownloadButton("Download report.md", elem_id="eval-download", value=None)
                eval_compare = gr.Markdown("", elem_id="eval-compare")

        if with_library:
            with gr.Tab("Library", id="library-tab", elem_id="library-tab"):
                stats = gr.Markdown("Reading the library…", elem_id="lib-stats")
                with gr.Row():
                    search = gr.Textbox(
                        label="Search documents",
                        elem_id="lib-search",
                        placeholder="title, type, country, topic…",
                        scale=4,
                    )
                    reindex_button = gr.Button(f"Re-index {settings.corpus_dir.name}/", elem_id="reindex", scale=1)
                table = gr.Dataframe(
                    value=document_rows({}),
                    headers=DOCUMENT_COLUMNS,
                    elem_id="lib-table",
                    interactive=False,
                    wrap=True,
                    max_height=420,
                    column_widths=["38%", "12%", "14%", "8%", "14%", "14%"],
                )
                # no `file_types`: Gradio would refuse other types with a bare "Error"; ingest_uploads names them
                upload = gr.File(
                    label=f"Add documents ({' '.join(UPLOAD_EXTENSIONS)}; up to {settings.max_file_mb:g} MB each)",
                    file_count="multiple",
                    elem_id="upload",
                )
                lib_status = gr.Markdown("", elem_id="lib-status")
                with gr.Accordion("Coverage map: documents per topic and country", open=True, elem_id="coverage"):
                    # drawn by the page's load event (page_view): matplotlib would add 2 s to the app's start
                    coverage_image = gr.Image(
                        value=None,
                        type="filepath",
                        label="Coverage map (white = no document)",
                        elem_id="coverage-map",
                        interactive=False,
                        buttons=["download"],
                    )
                    coverage_gaps = gr.Markdown("Drawing the coverage map…", elem_id="coverage-gaps")

        # ---- events ---------------------------------------------------------------------------
        inputs = [question, chat, country, doc_type, topic]
        outputs = [chat, question, status, sources]
        ask.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], "", sources_html(None)), None, [chat, status, sources], api_visibility="private")

        if staff_tools:
            make.click(
                lambda: "Drafting from the library…", None, draft_state, api_visibility="private", queue=False
            ).then(make_draft, [request, region, draft_topic], [editor, draft_state], api_visibility="private")
            find_button.click(
                lambda: ("", "Searching the library for practices…"),
                None,
                [transfer_results, transfer_status],
                api_visibility="private",
                queue=False,
            ).then(
                find_practices,
                [challenge, asking_region, asking_country],
                [transfer_results, transfer_status],
                api_visibility="private",
            )
            eval_button.click(
                run_evaluation,
                [eval_source, eval_file],
                [eval_status, eval_report, eval_plot, eval_worst, eval_earlier, eval_compare, eval_download],
                api_visibility="private",
            )
            eval_earlier.input(compare_runs, [eval_earlier, eval_status], eval_compare, api_visibility="private")
            editor.change(
                prepare_downloads,
                [editor, folder],
                [download_md, download_docx, preview, folder],
                api_visibility="private",
                trigger_mode="always_last",
            )

        if with_library:
            view_outputs = [table, stats, country, doc_type, topic, draft_topic, coverage_image, coverage_gaps]
            search.change(lambda q: library_view(clean_text(q or ""))[0], search, table, api_visibility="private")
            upload.upload(on_upload, [upload, search], [lib_status, *view_outputs, upload], api_visibility="private")
            reindex_button.click(on_reindex, search, [lib_status, *view_outputs], api_visibility="private")

        load_outputs = [country, doc_type, topic]
        load_outputs += [draft_topic] if staff_tools else []
        load_outputs += [table, stats, coverage_image, coverage_gaps] if with_library else []
        app.load(page_view, search if with_library else None, load_outputs, api_visibility="private")

        gr.api(api_ask, api_name="ask")
        if staff_tools:
            gr.api(api_draft, api_name="draft")
    return app
