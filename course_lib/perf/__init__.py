"""Honest measurement: warm-up, repeats, medians and percentiles, side-by-side interleaving, peak memory.

The rules this module encodes (notebook 14 teaches them):

- **Warm up** before timing: the first run pays for imports, caches, connections and JIT-like effects.
- **Repeat** and report the **median**: one run is an anecdote; the median ignores the odd noisy run.
- **Interleave** the cases you compare (A, B, A, B, …) and report a **ratio**: a busy neighbour then slows both
  alike, so the ratio stays meaningful even when absolute numbers move by ±30 %.
- Give the ratio a **confidence interval**: each round's pair of runs gives one ratio; the bootstrap over those
  pairs (``ratio_interval``) says how far the median ratio could move, and whether a claim is inside that range.
- **Latency is a distribution**: report p50/p95/p99, not the mean (one slow outlier moves the mean, not p50; and the
  tail is what users feel).
- **Time the batch, not each message**: per-message timers cost as much as the work they time and hide the
  batching that makes systems fast.

    from course_lib.perf import percentile, summarize, side_by_side
"""

from course_lib.perf.stats import Interval, Summary, percentile, ratio_interval, ratio_spread, summarize
from course_lib.perf.timing import Comparison, Run, Throughput, side_by_side, throughput, timed

__all__ = [
    "Comparison", "Interval", "Run", "Summary", "Throughput", "percentile", "ratio_interval", "ratio_spread",
    "side_by_side", "summarize", "throughput", "timed",
]
