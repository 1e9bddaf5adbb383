"""Notebook 08's exercise: revenue per tumbling window on event time, with a watermark and a grace period.

The learner completes ``RevenueWindows(size_ms, grace_ms)``: ``add(event_ms, cents)`` puts an event into its window
``[start, start + size)`` and returns the windows that became final as ``[(start_ms, total_cents), ...]``, oldest
first; an event whose window is already final goes to ``late`` as ``(event_ms, cents)`` — kept aside, never
dropped and never added to a window that was already emitted. ``flush()`` (given) emits what is still open.

The rule is the one ``course_lib.streams.WindowedAggregator`` follows with one input: the watermark is the largest
event time seen so far minus the grace; a window is final once the watermark reaches its end. The check feeds a
script of events — out of order, on boundaries, late — and compares every step's output with the expected one.
The mistakes it tells apart: a window that includes its end, a watermark taken from the current event instead of
the largest seen (it goes backwards and reopens a final window), late events dropped or judged by their own time
instead of their window's end, and the grace added on the wrong side (windows closed early).
"""

from __future__ import annotations

from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

HINTS = Hints(
    concept="Windows are cut on event time, but events arrive out of order, so a window can only be declared "
            "final when the stream says no more of its events are expected: that is the watermark — event time "
            "so far, held back by a grace period. Once final, a window is emitted once and never reopened; an "
            "event that still arrives for it is late, and late events are kept aside, not lost.",
    approach="Per event: find its window's start. Is that window already final by the watermark as it stood "
             "before this event (its end at or below the watermark)? Then the event is late. Otherwise add its "
             "cents to the open window. Then move event time forward — it never moves back — recompute the "
             "watermark and emit, oldest first, every open window whose end it has reached.",
    skeleton="def add(self, event_ms, cents):\n    start = ...\n    watermark = ...  # before this event\n"
             "    if watermark is not None and ...:\n        self.late.append(...)\n    else:\n"
             "        self.open[start] = ...\n    self.max_seen = ...\n    watermark = ...\n"
             "    final = sorted(s for s in self.open if ...)\n    return [(s, self.open.pop(s)) for s in final]",
)

Step = tuple[int, int, list[tuple[int, int]], str]  # event_ms, cents, the windows it makes final, what it tests

SCRIPT: list[Step] = [
    (1_000, 100, [], "the first event"),
    (9_999, 10, [], "the last millisecond of [0 s, 10 s)"),
    (10_000, 1, [], "an event exactly on the boundary between [0 s, 10 s) and [10 s, 20 s)"),
    (11_999, 1000, [], "event time 11.999 s: [0 s, 10 s) is still within its 2 s grace"),
    (7_000, 5, [], "an event out of order, but within the grace: its window is still open"),
    (12_000, 20, [(0, 115)], "event time reaches 12 s: [0 s, 10 s) is now final"),
    (9_000, 7, [], "an event for [0 s, 10 s), which is already final"),
    (20_500, 30, [], "an event in the next window; [10 s, 20 s) is still open"),
    (40_500, 3, [(10_000, 1021), (20_000, 30)], "event time jumps to 40.5 s: two windows become final at once"),
    (31_000, 4, [], "an event older than the watermark, for a window that is still open"),
    (42_000, 2, [(30_000, 4)], "event time reaches 42 s: [30 s, 40 s) is final"),
]
"""Size 10 s, grace 2 s. Each step: the event, the windows its ``add`` must return, and what the step tests."""
LATE = [(9_000, 7)]
FLUSHED = [(40_000, 5)]

SECOND: list[Step] = [
    (4_999, 1, [], "the last millisecond of [0 s, 5 s)"),
    (5_000, 2, [(0, 1)], "with no grace, event time reaching a window's end closes it"),
    (4_000, 3, [], "an event for a window that is already final"),
    (21_000, 4, [(5_000, 2)], "a jump over windows that had no events (nothing to emit for them)"),
]
"""Size 5 s, no grace: the same rules with other numbers (nothing may be hard-coded)."""
SECOND_LATE = [(4_000, 3)]
SECOND_FLUSHED = [(20_000, 4)]


def _secs(ms: int) -> str:
    return f"{ms / 1000:g} s"


def _window(start: int, size: int) -> str:
    return f"[{_secs(start)}, {_secs(start + size)})"


def _pairs(value: Any, what: str) -> list[tuple[int, int]]:
    """A learner's list of pairs as ``[(int, int)]``; raises TypeError with what was expected."""
    try:
        return [(int(a), int(b)) for a, b in value]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a list of (start_ms, total_cents) or (event_ms, cents) pairs, got "
                        f"{value!r}") from exc


def _compare(got: list[tuple[int, int]], expected: list[tuple[int, int]], emitted: set[int], size: int,
             now_ms: int, about: str) -> str | None:
    """What is wrong with one step's output, or None."""
    if got == expected:
        return None
    got_starts, expected_starts = [s for s, _ in got], [s for s, _ in expected]
    at = f"after the event at {_secs(now_ms)} ({about})"
    again = [s for s in got_starts if s in emitted]
    if again:
        return (f"{at}: {_window(again[0], size)} was emitted a second time. A final window is emitted once and "
                "never reopened — an event for it must be late")
    early = [s for s in got_starts if s not in expected_starts]
    if early:
        return (f"{at}: {_window(early[0], size)} was emitted although event time had reached only "
                f"{_secs(now_ms)} — too early: a window stays open until the watermark (largest event time minus "
                "the grace) reaches its end")
    missing = [s for s in expected_starts if s not in got_starts]
    if missing:
        return (f"{at}: {_window(missing[0], size)} should have become final here, but add returned {got}. The "
                "watermark (largest event time minus the grace) has reached its end")
    if sorted(got) == sorted(expected) and got != expected:
        return f"{at}: the final windows must come oldest first, got {got}"
    start, total = next((s, t) for s, t in got if dict(expected)[s] != t)
    return (f"{at}: {_window(start, size)} was emitted with {total} cents, expected {dict(expected)[start]}. Which "
            "events belong to it? A window includes its start, not its end; an out-of-order event counts while its "
            "window is open; a late one does not count")


def _run(windows_class: Any, size: int, grace: int, script: list[Step], late: list[tuple[int, int]],
         flushed: list[tuple[int, int]]) -> str | None:
    """Run one script through a fresh instance; what went wrong, or None."""
    windows = windows_class(size, grace)
    if not hasattr(windows, "late"):
        return "RevenueWindows needs a `late` list: the events too late for their window, kept aside"
    emitted: set[int] = set()
    late_so_far: list[tuple[int, int]] = []
    for event_ms, cents, expected, about in script:
        result = windows.add(event_ms, cents)
        got = _pairs(result if result is not None else [], "add's result")
        problem = _compare(got, expected, emitted, size, event_ms, about)
        if problem:
            return problem
        emitted.update(s for s, _ in got)
        if (event_ms, cents) in late:
            late_so_far.append((event_ms, cents))
        got_late = _pairs(windows.late, "late")
        if got_late == late_so_far:
            continue
        at = f"after the event at {_secs(event_ms)} ({about})"
        if len(got_late) > len(late_so_far):
            return (f"{at}: it was put in late, but its window {_window(event_ms - event_ms % size, size)} is not "
                    "final yet. An event is late only when its window is final — not merely because it is older "
                    "than the watermark or than an event seen before")
        reopened = [s for s, _ in _pairs(windows.flush(), "flush()") if s in emitted]
        if reopened:
            return (f"{at}: the event went back into {_window(reopened[0], size)}, which had already been emitted "
                    "as final — the watermark went backwards. Event time only moves forward: the watermark comes "
                    "from the largest event time seen, not from the event in hand. Such an event goes to late")
        return (f"{at}: its window was final, yet the event is not in late: it was dropped silently. Keep it "
                "aside in late as (event_ms, cents), so an operator can see how often the grace is too short")
    got_flushed = _pairs(windows.flush(), "flush()")
    if got_flushed != flushed:
        return (f"at the end of the stream flush() emitted {got_flushed}, expected {flushed}: keep every window "
                "that is not final in self.open (start_ms → cents), as flush() expects")
    return None


@exercise("nb08.revenue_windows", title="tumbling windows with a watermark, a grace period and late events",
          level="★★", minutes=20, hints=HINTS)
def check_revenue_windows(windows_class: Any) -> CheckResult:
    """Feed two scripts of events (10 s windows with 2 s grace; 5 s windows, no grace) and compare every step."""
    if windows_class is None:
        return not_attempted("complete RevenueWindows.add, then pass the class: check_revenue_windows(RevenueWindows)")
    if not callable(windows_class):
        return wrong(f"pass the class itself (RevenueWindows), not {type(windows_class).__name__}")
    for size, grace, script, late, flushed in ((10_000, 2_000, SCRIPT, LATE, FLUSHED),
                                              (5_000, 0, SECOND, SECOND_LATE, SECOND_FLUSHED)):
        problem = _run(windows_class, size, grace, script, late, flushed)
        if problem:
            return wrong(f"{_secs(size)} windows, {_secs(grace)} grace — {problem}")
    return solved("every step right on both scripts: half-open windows, out-of-order events counted while their "
                  "window is open, each window emitted once when the watermark reaches its end, late events kept "
                  "aside")


CHECKS: dict[str, Check] = {"revenue_windows": check_revenue_windows}
