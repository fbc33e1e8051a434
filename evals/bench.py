"""Benchmarks: `helpdesk bench ingest|query|load`."""

from __future__ import annotations

import argparse


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench ...` subcommands."""
    bench = sub.add_parser("bench", help="performance benchmarks (ingest, query)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    del bench_sub  # subcommands are added as they are implemented
