"""Evaluation: question sets, metrics (pure functions), runner, reports and benchmarks."""
