"""Wrong answers to notebook 14's exercise (the resequencer)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from solutions.wrong import Wrong


class _Base:
    """The right shape; each subclass gets one thing wrong."""

    first = 1

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.expected: dict[str, int] = defaultdict(lambda: self.first)
        self.waiting: dict[str, dict[int, Any]] = defaultdict(dict)

    def held(self) -> int:
        return sum(len(w) for w in self.waiting.values())

    def full(self) -> bool:
        return self.held() >= self.capacity

    def key(self, key: str) -> str:
        return key

    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        key = self.key(key)
        waiting = self.waiting[key]
        if seq < self.expected[key] or seq in waiting:
            return []
        if seq > self.expected[key]:
            if self.full():
                raise OverflowError("full")
            waiting[seq] = item
            return []
        released = [item]
        self.expected[key] += 1
        while self.expected[key] in waiting:
            released.append(waiting.pop(self.expected[key]))
            self.expected[key] += 1
        return released


class StartsAtZero(_Base):
    first = 0


class OneSequenceForAllKeys(_Base):
    def key(self, key: str) -> str:
        return "all"


class Unbounded(_Base):
    def full(self) -> bool:
        return False


class HoldsOneTooMany(_Base):
    def full(self) -> bool:
        return self.held() > self.capacity


class ReleasesOnArrival(_Base):
    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        if seq < self.expected[key]:
            return []
        self.expected[key] = seq + 1  # jumps over the gap: whatever comes is passed on
        return [item]


class DropsEarlyArrivals(_Base):
    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        if seq != self.expected[key]:
            return []  # anything not expected next is taken for a duplicate
        self.expected[key] += 1
        return [item]


class WaitingDuplicatesCountTwice(_Base):
    """Keeps the early arrivals in a list: a redelivered early item is held (and released) twice."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.early: dict[str, list[tuple[int, Any]]] = defaultdict(list)

    def held(self) -> int:
        return sum(len(w) for w in self.early.values())

    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        if seq < self.expected[key]:
            return []
        if seq > self.expected[key]:
            if self.full():
                raise OverflowError("full")
            self.early[key].append((seq, item))
            return []
        released = [item]
        self.expected[key] += 1
        while matches := [w for s, w in self.early[key] if s == self.expected[key]]:
            released.extend(matches)  # the same number twice in the list: released twice
            self.early[key] = [(s, w) for s, w in self.early[key] if s != self.expected[key]]
            self.expected[key] += 1
        return released


class RefusesGapFillers(_Base):
    """Checks the bound before looking at the sequence number: a full buffer refuses the item it waits for."""

    def push(self, key: str, seq: int, item: Any) -> list[Any]:
        if self.full() and seq not in self.waiting[key]:
            raise OverflowError("full")
        return super().push(key, seq, item)


WRONG = {"resequencer": [
    Wrong("numbering starts at 0 (off by one)", StartsAtZero),
    Wrong("one sequence for all keys", OneSequenceForAllKeys),
    Wrong("an unbounded buffer", Unbounded),
    Wrong("holds one more item than its capacity", HoldsOneTooMany),
    Wrong("releases on arrival, skipping the gap", ReleasesOnArrival),
    Wrong("drops early arrivals as duplicates", DropsEarlyArrivals),
    Wrong("a waiting item delivered twice is released twice", WaitingDuplicatesCountTwice),
    Wrong("a full buffer refuses the item that fills the gap", RefusesGapFillers),
]}

GIVEAWAYS = {"resequencer": ("while self.expected[key] in", "waiting.pop(", "seq in waiting")}
