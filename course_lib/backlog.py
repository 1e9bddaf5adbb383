"""Backlog alerting: from depth samples to "is this queue falling behind?", without I/O.

A fixed depth threshold alerts too late for a fast-growing queue and too often for a big batch that drains
quickly. What matters is the **trend**: the net rate (rate in − rate out, the slope of depth over a recent
window) and the **time to drain** at that rate. :func:`trend` fits a least-squares slope to the samples in a
window; :class:`BacklogRule` is one such rule; :class:`BacklogAlert` feeds samples to any rule (a callable
``trend -> reason or None``, so a learner can write their own) and records when it fires and clears.

The samples come from wherever the depth is known: a passive declare (exact ready count), the RabbitMQ
management API (ready + unacked, sampled every few seconds), or a Kafka group's lag in records.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DepthSample:
    """The backlog at one moment (``at``: seconds on a monotonic clock): messages ready and delivered-unacked."""

    at: float
    ready: int
    unacked: int = 0

    @property
    def depth(self) -> int:
        """Everything not yet acknowledged: what a consumer still has to finish."""
        return self.ready + self.unacked


@dataclass(frozen=True)
class Trend:
    """Depth now, its slope (messages per second; > 0 is growing) over ``span_s``, and the time to drain."""

    depth: int
    growth_per_s: float
    span_s: float
    samples: int

    @property
    def drain_s(self) -> float:
        """Seconds until empty at the current net rate: 0 if empty, ``inf`` if not shrinking."""
        if self.depth == 0:
            return 0.0
        return self.depth / -self.growth_per_s if self.growth_per_s < 0 else math.inf


def trend(samples: Iterable[DepthSample], window_s: float) -> Trend:
    """The least-squares slope of depth over the last ``window_s`` seconds of ``samples`` (oldest first)."""
    points = list(samples)
    if not points:
        raise ValueError("no samples: sample the depth at least once")
    recent = [s for s in points if s.at >= points[-1].at - window_s]
    t0 = recent[0].at
    xs = [s.at - t0 for s in recent]
    ys = [float(s.depth) for s in recent]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = 0.0 if spread == 0 else sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Trend(recent[-1].depth, slope, xs[-1], len(recent))


Rule = Callable[[Trend], "str | None"]


@dataclass(frozen=True)
class BacklogRule:
    """Fire when a backlog of at least ``min_depth`` grows faster than ``max_growth_per_s``, or would take longer
    than ``max_drain_s`` to drain at the current net rate (a backlog that is not shrinking never drains)."""

    max_growth_per_s: float = 5.0
    max_drain_s: float = 30.0
    min_depth: int = 10

    def __call__(self, t: Trend) -> str | None:
        """The reason to alert, or ``None``."""
        if t.depth < self.min_depth:
            return None
        if t.growth_per_s > self.max_growth_per_s:
            return f"backlog growing {t.growth_per_s:.1f}/s (limit {self.max_growth_per_s:g}/s), depth {t.depth}"
        if t.drain_s > self.max_drain_s:
            drain = "never (not shrinking)" if math.isinf(t.drain_s) else f"in {t.drain_s:.0f}s"
            return f"depth {t.depth} drains {drain} (limit {self.max_drain_s:g}s)"
        return None


@dataclass(frozen=True)
class AlertChange:
    """The alert fired (with its reason) or cleared at ``at``."""

    at: float
    firing: bool
    reason: str


class BacklogAlert:
    """Feeds depth samples to ``rule`` over a sliding window and records each time the alert fires or clears.

    ``min_span_s``: no verdict until the window holds that many seconds of samples (one sample has no slope).
    """

    def __init__(self, rule: Rule, *, window_s: float = 3.0, min_span_s: float = 1.0, keep: int = 600) -> None:
        if min_span_s > window_s:
            raise ValueError("min_span_s must fit in window_s")
        self.rule = rule
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.samples: deque[DepthSample] = deque(maxlen=keep)
        self.changes: list[AlertChange] = []
        self.reason: str | None = None
        self.last: Trend | None = None

    @property
    def firing(self) -> bool:
        """Whether the alert is firing now."""
        return self.reason is not None

    def add(self, sample: DepthSample) -> str | None:
        """Record one sample and evaluate the rule; returns the current reason (``None``: not firing)."""
        if self.samples and sample.at < self.samples[-1].at:
            raise ValueError("samples must come in time order")
        self.samples.append(sample)
        self.last = trend(self.samples, self.window_s)
        if self.last.span_s < self.min_span_s:
            return self.reason
        reason = self.rule(self.last)
        if (reason is None) != (self.reason is None):
            self.changes.append(AlertChange(sample.at, reason is not None, reason or "cleared"))
        self.reason = reason
        return reason

    def fired_and_cleared(self) -> bool:
        """Whether the alert fired at some point and later cleared."""
        fired = [c.at for c in self.changes if c.firing]
        return bool(fired) and any(not c.firing and c.at > fired[0] for c in self.changes)
