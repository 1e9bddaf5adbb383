"""Peak memory of the two streaming workloads at two sizes: it must not grow with the number of events.

- the ``OrderSummaries`` rebuild from the SQLite event store (pages of 2,000 events, 1,000 per transaction);
- consuming a Kafka topic with ``GroupWorker`` (``max_poll_records=500``, commit per batch).

Each point runs in a fresh process (``course_lib.perf.memory.peak_memory``). The verdict compares the larger
size with the smaller one: *flat* when the peak grew by less than ``ALLOWED_GROWTH`` — memory may hold a page,
a batch or the client's read-ahead, never the whole log.
"""

from __future__ import annotations

from typing import Any

from course_lib.perf.memory import MemoryPeak, peak_memory

ALLOWED_GROWTH = 0.25  # 2-5x the events may cost at most 25 % more peak memory (noise, allocator, caches)

# name, target, argument, (quick sizes), (full sizes), tracemalloc on?
SPECS: list[tuple[str, str, str, tuple[int, int], tuple[int, int], bool]] = [  # see Spec
    ("projection rebuild (OrderSummaries, SQLite)", "course_lib.perf.scenarios:prepare_projection_rebuild",
     "n_events", (4_000, 20_000), (20_000, 100_000), True),
    # kafka-python reads ahead of the handler (several fetch responses can be buffered), so below ~100,000
    # 200-byte records the peak still grows as that read-ahead fills; from there on it is flat. Both sizes are
    # therefore beyond it. tracemalloc slows the consumer's threads several-fold: RSS tells the story here.
    ("Kafka consume (GroupWorker)", "course_lib.perf.scenarios:prepare_kafka_consume",
     "n_records", (100_000, 200_000), (100_000, 200_000), False),
]


def _growth(small: MemoryPeak, large: MemoryPeak, traced: bool) -> float:
    if traced:
        return large.traced_mb / small.traced_mb - 1
    return (large.rss_mb - large.baseline_rss_mb) / max(small.rss_mb - small.baseline_rss_mb, 1.0) - 1


Spec = tuple[str, str, str, tuple[int, int], tuple[int, int], bool]


def measure(*, quick: bool, specs: list[Spec] | None = None, progress: Any = print) -> list[dict[str, Any]]:
    """Measure every spec (default: ``SPECS``) at its two sizes; one dict per spec with the points and a verdict."""
    results: list[dict[str, Any]] = []
    for name, target, argument, quick_sizes, full_sizes, traced in SPECS if specs is None else specs:
        points = []
        for size in quick_sizes if quick else full_sizes:
            progress(f"  memory: {name}, {size:,}")
            points.append(peak_memory(target, trace=traced, **{argument: size}))
        small, large = points
        growth = _growth(small, large, traced)
        what = "traced peak" if traced else "RSS growth"
        factor = large.items / small.items
        flat = growth <= ALLOWED_GROWTH
        verdict = (f"{factor:.0f}x the items, {what} {'+' if growth >= 0 else ''}{growth:.0%} — "
                   + ("flat: it does not grow with the number of events" if flat else
                      f"it GROWS with the number of events (allowed: +{ALLOWED_GROWTH:.0%})"))
        results.append({"name": name, "flat": flat, "growth": growth, "verdict": verdict,
                        "points": [p.__dict__ for p in points]})
    return results
