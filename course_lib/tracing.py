"""Message-flow tracing: rebuild one business transaction from correlation and causation ids, and draw it.

Every envelope carries a ``correlation_id`` (the conversation it belongs to) and a ``causation_id`` (the message
that directly caused it). Grouping by the first and linking by the second turns a pile of recorded messages —
commands, stored events, broker deliveries — into a tree: the order's journey. ``build_trace`` builds it,
``Trace.ordered`` lists it parents-before-children with siblings in time order, ``sequence_diagram`` renders it
as a Mermaid sequence diagram, and ``mermaid_markdown`` wraps that for JupyterLab to render.

A message whose cause is not among the recorded ones is an **orphan**: a hole in the record (a message that was
never stored, or stored elsewhere). Orphans are reported, not hidden; they are drawn as roots.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from course_lib.errors import CourseError
from course_lib.messages import Envelope, Event


@dataclass(frozen=True)
class TraceStep:
    """One message in a trace, with its depth in the causation tree (0 for a root)."""

    envelope: Envelope[Any]
    depth: int
    parent: uuid.UUID | None

    @property
    def message_id(self) -> uuid.UUID:
        return self.envelope.message_id

    @property
    def type(self) -> str:
        return self.envelope.type


@dataclass
class Trace:
    """The messages of one correlation id as a causation tree."""

    correlation_id: uuid.UUID
    messages: dict[uuid.UUID, Envelope[Any]]
    children: dict[uuid.UUID, list[uuid.UUID]]
    roots: list[uuid.UUID]
    orphans: list[uuid.UUID] = field(default_factory=list)
    """Messages whose ``causation_id`` names a message that is not in the record."""

    def ordered(self) -> list[TraceStep]:
        """Depth-first, parents before children, siblings by (occurred_at, position, message id)."""
        out: list[TraceStep] = []

        def visit(mid: uuid.UUID, depth: int, parent: uuid.UUID | None) -> None:
            out.append(TraceStep(self.messages[mid], depth, parent))
            for child in self.children.get(mid, []):
                visit(child, depth + 1, mid)

        for root in self.roots:
            visit(root, 0, None)
        return out

    def types(self) -> list[str]:
        """The message types in ``ordered()`` order."""
        return [step.type for step in self.ordered()]

    def __len__(self) -> int:
        return len(self.messages)


class TraceError(CourseError):
    """The recorded messages cannot be traced as asked."""


def _sort_key(env: Envelope[Any]) -> tuple[datetime, int, str]:
    meta = env.metadata
    return (meta.occurred_at, meta.position or 0, str(meta.message_id))


def build_trace(envelopes: Iterable[Envelope[Any]], correlation_id: uuid.UUID | str | None = None) -> Trace:
    """The causation tree of one correlation id (default: the only one present).

    Duplicate deliveries of the same message id are counted once. A cycle in the causation ids (which correct
    producers cannot create) raises ``TraceError`` rather than looping.
    """
    unique: dict[uuid.UUID, Envelope[Any]] = {}
    for env in envelopes:
        unique.setdefault(env.message_id, env)
    correlations = {env.metadata.correlation_id for env in unique.values()}
    if correlation_id is None:
        if len(correlations) != 1:
            raise TraceError(f"the messages belong to {len(correlations)} correlation ids; pass correlation_id= "
                             "to choose the conversation to trace")
        wanted = next(iter(correlations))
    else:
        wanted = uuid.UUID(str(correlation_id))
    messages = {mid: env for mid, env in unique.items() if env.metadata.correlation_id == wanted}
    if not messages:
        raise TraceError(f"no recorded message has correlation id {wanted}; check the id (CommandResult."
                         "correlation_id) and that the messages were recorded")
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    roots: list[uuid.UUID] = []
    orphans: list[uuid.UUID] = []
    for mid, env in messages.items():
        cause = env.metadata.causation_id
        if cause is None:
            roots.append(mid)
        elif cause in messages and cause != mid:
            children.setdefault(cause, []).append(mid)
        else:
            orphans.append(mid)
            roots.append(mid)
    roots.sort(key=lambda m: _sort_key(messages[m]))
    orphans.sort(key=lambda m: _sort_key(messages[m]))
    for kids in children.values():
        kids.sort(key=lambda m: _sort_key(messages[m]))
    trace = Trace(wanted, messages, children, roots, orphans)
    reached = len(trace.ordered()) if roots else 0
    if reached != len(messages):
        raise TraceError(f"{len(messages) - reached} message(s) form a causation cycle; a message cannot cause "
                         "its own cause — check how causation ids are set")
    return trace


Participant = Callable[[Envelope[Any]], str]
"""Who handles a message: the lifeline its arrow points to."""


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name) or "_"


def sequence_diagram(trace: Trace, participant: Participant, *, origin: str = "Client",
                     title: str | None = None) -> str:
    """A Mermaid ``sequenceDiagram``: one arrow per message, from its cause's participant to its own.

    Roots come from ``origin``; orphans get a note saying their cause is missing from the record.
    """
    steps = trace.ordered()
    lanes: list[str] = [origin]
    for step in steps:
        name = participant(step.envelope)
        if name not in lanes:
            lanes.append(name)
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    title {title}")
    lines += [f"    participant {_ident(lane)} as {lane}" for lane in lanes]
    orphans = set(trace.orphans)
    for step in steps:
        target = _ident(participant(step.envelope))
        source = _ident(origin if step.parent is None else participant(trace.messages[step.parent]))
        arrow = "-->>" if _is_event(step.envelope) else "->>"  # events dashed, commands solid
        lines.append(f"    {source}{arrow}{target}: {step.type}")
        if step.message_id in orphans:
            lines.append(f"    Note over {target}: cause {str(step.envelope.metadata.causation_id)[:8]} not recorded")
    return "\n".join(lines)


def _is_event(env: Envelope[Any]) -> bool:
    return isinstance(env.message, Event)


def mermaid_markdown(diagram: str) -> str:
    """The diagram in a ```` ```mermaid ```` fence: display it with ``IPython.display.Markdown``."""
    return f"```mermaid\n{diagram}\n```"


def correlations(envelopes: Iterable[Envelope[Any]]) -> dict[uuid.UUID, int]:
    """How many distinct messages each correlation id has: which conversations the record holds."""
    seen: dict[uuid.UUID, set[uuid.UUID]] = {}
    for env in envelopes:
        seen.setdefault(env.metadata.correlation_id, set()).add(env.message_id)
    return {cid: len(ids) for cid, ids in seen.items()}
