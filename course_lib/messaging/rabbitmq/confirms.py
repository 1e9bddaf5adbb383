"""Publisher confirms counted per delivery tag: which messages the broker took, refused or returned.

In confirm mode the broker numbers a channel's publishes 1, 2, 3, … (the *delivery tags*) and later answers each
with ``basic.ack`` (it has taken responsibility: for a persistent message to a durable queue, written to disk or,
for a quorum queue, committed by a majority) or ``basic.nack`` (it refused: e.g. a full queue with
``overflow=reject-publish``). One answer with ``multiple=True`` settles every tag up to and including its own.

The answers do **not** arrive in publish order. An unroutable message, or one for a queue that confirms fast, can
be acked before an earlier message still waiting for an fsync. So "the highest tag acked so far" says nothing
about the tags below it: the tracker keeps the set of outstanding tags and a batch is settled only when none of
its tags is outstanding.

A ``mandatory`` message that matched no queue comes back as ``basic.return`` (sent before its ack) and is then
acked — "acked" alone does not mean "delivered", so returned messages are reported apart from confirmed ones.

Pure bookkeeping, no I/O: the publisher feeds it the broker's frames; unit tests feed it any order they like.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SentMessage:
    """One message of a batch, as the publisher knows it (its message id may be empty for raw bodies)."""

    tag: int
    message_id: str
    routing_key: str
    body: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class FailedMessage:
    """A message the broker did not take: which one, and why (``returned``, ``nacked`` or ``unconfirmed``)."""

    message_id: str
    routing_key: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class ConfirmReport:
    """What the broker said about one batch: confirmed messages, and every other one with its reason."""

    confirmed: tuple[SentMessage, ...]
    failed: tuple[FailedMessage, ...]

    @property
    def returned(self) -> tuple[FailedMessage, ...]:
        """Messages that matched no queue (``mandatory``), sent back by the broker."""
        return tuple(f for f in self.failed if f.reason == "returned")

    @property
    def nacked(self) -> tuple[FailedMessage, ...]:
        """Messages the broker refused (out of resources, a full ``reject-publish`` queue)."""
        return tuple(f for f in self.failed if f.reason == "nacked")

    @property
    def unconfirmed(self) -> tuple[FailedMessage, ...]:
        """Messages with no answer yet (timeout, or the channel closed): their fate is unknown."""
        return tuple(f for f in self.failed if f.reason == "unconfirmed")

    @property
    def ok(self) -> bool:
        """True when every message of the batch was confirmed and none was returned."""
        return not self.failed


class ConfirmTracker:
    """Outstanding delivery tags of one confirm-mode channel, settled by acks, nacks and returns in any order."""

    def __init__(self) -> None:
        self.next_tag = 1
        self._outstanding: dict[int, SentMessage] = {}
        self._settled: dict[int, str] = {}  # tag -> "acked" | "nacked", for the current batch
        self._returned: dict[int, str] = {}  # tag -> the broker's reply text
        self._batch: list[SentMessage] = []

    def sent(self, message_id: str, routing_key: str, body: bytes = b"") -> SentMessage:
        """Record a publish; returns it with the delivery tag the broker will use for it."""
        message = SentMessage(self.next_tag, message_id, routing_key, body)
        self.next_tag += 1
        self._outstanding[message.tag] = message
        self._batch.append(message)
        return message

    def _settle(self, tag: int, multiple: bool, outcome: str) -> None:
        tags = [t for t in self._outstanding if t <= tag] if multiple else [tag]
        for t in tags:
            if self._outstanding.pop(t, None) is not None:
                self._settled[t] = outcome

    def acked(self, tag: int, multiple: bool = False) -> None:
        """``basic.ack``: the broker has taken responsibility for ``tag`` (and every earlier one if ``multiple``)."""
        self._settle(tag, multiple, "acked")

    def nacked(self, tag: int, multiple: bool = False) -> None:
        """``basic.nack``: the broker refused ``tag`` (and every earlier outstanding one if ``multiple``)."""
        self._settle(tag, multiple, "nacked")

    def returned(self, message_id: str, routing_key: str, body: bytes, reply: str = "") -> None:
        """``basic.return``: a mandatory message matched no queue. Returns carry no tag: match it by content."""
        for message in self._batch:
            if message.tag in self._returned:
                continue
            same_id = message_id != "" and message.message_id == message_id
            same_content = message_id == "" and message.body == body
            if (same_id or same_content) and message.routing_key == routing_key:
                self._returned[message.tag] = reply
                return

    @property
    def outstanding(self) -> int:
        """How many published messages have no answer yet."""
        return len(self._outstanding)

    def report(self) -> ConfirmReport:
        """The current batch's outcome (outstanding tags count as unconfirmed), then start a new batch."""
        confirmed: list[SentMessage] = []
        failed: list[FailedMessage] = []
        for m in self._batch:
            outcome = self._settled.get(m.tag, "unconfirmed")
            if m.tag in self._returned:
                failed.append(FailedMessage(m.message_id, m.routing_key, "returned", self._returned[m.tag]))
            elif outcome == "acked":
                confirmed.append(m)
            else:
                failed.append(FailedMessage(m.message_id, m.routing_key, outcome))
        self._batch, self._settled, self._returned = [], {}, {}
        return ConfirmReport(tuple(confirmed), tuple(failed))
