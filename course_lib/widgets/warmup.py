"""A warm-up widget for notebook 00: a slider bound to a tiny computation.

How long do N competing consumers need to drain a queue? Each message goes to exactly one consumer, so the work
splits into rounds of N messages; the last round may be partly idle. Notebook 05 measures this on a real queue.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets


def drain_time_s(messages: int, consumers: int, seconds_per_message: float) -> float:
    """Seconds for ``consumers`` competing consumers to process ``messages`` (each takes the same time)."""
    if messages < 0 or consumers < 1 or seconds_per_message < 0:
        raise ValueError("need messages >= 0, consumers >= 1 and seconds_per_message >= 0")
    return math.ceil(messages / consumers) * seconds_per_message


class DrainTimeSlider:
    """A consumers slider and the drain time it implies; ``set_consumers`` is what moving the slider does."""

    def __init__(self, messages: int = 12, seconds_per_message: float = 0.5, max_consumers: int = 16) -> None:
        self.messages = messages
        self.seconds_per_message = seconds_per_message
        self.consumers = 1
        self.history: list[tuple[int, float]] = []  # (consumers, drain time) for each value the slider took
        self.slider = widgets.IntSlider(value=1, min=1, max=max_consumers, description="consumers",
                                        continuous_update=False)
        self.slider.add_class("course-drain-slider")
        self.result = widgets.HTML()
        self.result.add_class("course-drain-result")
        self.slider.observe(self._on_change, names="value")
        self.view = widgets.VBox([self.slider, self.result])
        self._update()

    @property
    def seconds(self) -> float:
        """The drain time for the current number of consumers."""
        return drain_time_s(self.messages, self.consumers, self.seconds_per_message)

    def set_consumers(self, consumers: int) -> float:
        """Move the slider from code; returns the new drain time."""
        self.slider.value = consumers  # triggers _on_change, exactly like a drag in the browser
        return self.seconds

    def _on_change(self, change: dict[str, Any]) -> None:
        self.consumers = int(change["new"])
        self._update()

    def _update(self) -> None:
        seconds = self.seconds
        self.history.append((self.consumers, seconds))
        busy = min(self.consumers, self.messages)
        self.result.value = (
            f"<span data-seconds='{seconds:g}'>{self.messages} messages × {self.seconds_per_message:g} s with "
            f"{self.consumers} consumer(s): drained in <b>{seconds:g} s</b>"
            + (f" — {self.consumers - busy} consumer(s) never get a message" if self.consumers > busy else "")
            + "</span>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
