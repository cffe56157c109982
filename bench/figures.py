"""What the benchmarks share: the percentile they report, and a fresh database for each run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from standins.databases import throwaway_schema


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 = median, 0.99 = p99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def database(postgres: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database for one run: a new PostgreSQL schema (dropped after) or a new SQLite file."""
    if postgres is None:
        yield f"sqlite:///{workdir / 'bridge.sqlite'}"
        return
    with throwaway_schema(postgres, "bench") as url:
        yield url
