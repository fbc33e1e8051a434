"""`helpdesk bench ingest|query|load|start`: registers the benchmark subcommands (each lives in its own module).

evals/bench_ingest.py (with bench_replica and bench_report), evals/bench_query.py, evals/bench_load.py and
evals/bench_start.py each measure one thing; evals/bench_common.py holds what they share. Only this module
imports them all.
"""

from __future__ import annotations

import argparse

from evals.bench_ingest import add_ingest_parser
from evals.bench_load import add_load_parser
from evals.bench_query import add_query_parser
from evals.bench_start import add_start_parser


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench ...` subcommands."""
    bench = sub.add_parser("bench", help="performance benchmarks (ingest, query, load, start)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    add_ingest_parser(bench_sub)
    add_query_parser(bench_sub)
    add_load_parser(bench_sub)
    add_start_parser(bench_sub)
