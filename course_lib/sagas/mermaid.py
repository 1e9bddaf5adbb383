"""Mermaid flowcharts of a saga: its definition, and the path one run actually took.

JupyterLab renders ```` ```mermaid ```` fences in Markdown and ``text/vnd.mermaid`` outputs; ``MermaidDiagram``
offers both, plus the source as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from course_lib.sagas.definition import SagaDefinition
from course_lib.sagas.log import SagaState

STYLES = {
    "succeeded": "fill:#d1f7d6,stroke:#1a7f37,color:#0b3d1a",
    "failed": "fill:#ffd8d3,stroke:#cf222e,color:#5c0a0a",
    "compensated": "fill:#fff1c2,stroke:#9a6700,color:#3d2a00",
    "attention": "fill:#cf222e,stroke:#5c0a0a,color:#ffffff",
    "idle": "fill:#f6f8fa,stroke:#8c959f,color:#57606a",
}


def _label(text: str) -> str:
    return text.replace('"', "'")


def definition_mermaid(definition: SagaDefinition) -> str:
    """The saga's shape: steps left to right, each failure falling back through the compensations."""
    lines = ["flowchart LR", "  start((start))"]
    previous = "start"
    for i, step in enumerate(definition.steps, 1):
        lines.append(f'  S{i}["{_label(step.name)}"]')
        lines.append(f"  {previous} --> S{i}")
        previous = f"S{i}"
    lines.append("  done((completed))")
    lines.append(f"  {previous} --> done")
    lines.append("  undone((compensated))")
    for i, step in enumerate(definition.steps, 1):
        if step.compensation is not None:
            lines.append(f'  C{i}["{_label(step.undo_name)}"]')
    for i in range(1, len(definition.steps) + 1):
        target = _previous_compensation(definition, i)
        lines.append(f"  S{i} -. fails .-> {target}")
    for i, step in enumerate(definition.steps, 1):
        if step.compensation is not None:
            lines.append(f"  C{i} --> {_previous_compensation(definition, i)}")
    return "\n".join(lines)


def _previous_compensation(definition: SagaDefinition, index: int) -> str:
    """The compensation to run after step ``index`` (1-based) failed or was undone: the nearest earlier one."""
    for j in range(index - 1, 0, -1):
        if definition.steps[j - 1].compensation is not None:
            return f"C{j}"
    return "undone"


def run_mermaid(definition: SagaDefinition, state: SagaState) -> str:
    """The definition's diagram with one run's path coloured: succeeded, failed, compensated, needs attention."""
    lines = definition_mermaid(definition).splitlines()
    lines += [f"  classDef {name} {style}" for name, style in STYLES.items()]
    index = {step.name: i for i, step in enumerate(definition.steps, 1)}
    classes: dict[str, str] = {f"S{i}": "idle" for i in index.values()}
    classes.update({f"C{i}": "idle" for s, i in index.items() if definition.step(s).compensation is not None})
    for step, outcome in state.path():
        i = index.get(step)
        if i is None:
            continue
        if outcome in {"succeeded", "failed"}:
            classes[f"S{i}"] = outcome
        elif outcome == "compensated" and f"C{i}" in classes:
            classes[f"C{i}"] = "compensated"
        elif outcome == "compensation_failed":
            classes[f"C{i}"] = "attention"
    end = {"completed": "done", "compensated": "undone"}.get(state.status)
    if end:
        classes[end] = "succeeded" if end == "done" else "compensated"
    lines += [f"  class {node} {cls}" for node, cls in classes.items()]
    return "\n".join(lines)


@dataclass(frozen=True)
class MermaidDiagram:
    """A diagram that JupyterLab draws; its ``source`` is plain Mermaid text."""

    source: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {
            "text/vnd.mermaid": self.source,
            "text/markdown": f"```mermaid\n{self.source}\n```",
            "text/plain": self.source,
        }

    def __str__(self) -> str:
        return self.source
