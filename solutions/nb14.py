"""Reference solutions for notebook 14 (operating it). Keys match ``course_lib.exercises.nb14.CHECKS``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


class Resequencer:
    """Per key: the next sequence number expected and the early arrivals; at most ``capacity`` held in all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.expected: dict[str, int] = defaultdict(lambda: 1)
        self.waiting: dict[str, dict[int, Any]] = defaultdict(dict)

    @property
    def held(self) -> int:
        return sum(len(w) for w in self.waiting.values())

    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        waiting = self.waiting[key]
        if seq < self.expected[key] or seq in waiting:
            return []  # a duplicate: released already, or already waiting
        if seq > self.expected[key]:
            if self.held >= self.capacity:
                raise OverflowError(f"{self.held} items already wait; nack {key}#{seq} for later")
            waiting[seq] = item
            return []
        released = [item]
        self.expected[key] += 1
        while self.expected[key] in waiting:
            released.append(waiting.pop(self.expected[key]))
            self.expected[key] += 1
        return released


ANSWERS: dict[str, Any] = {"resequencer": Resequencer}
