"""Show the source: a library function's code, syntax-highlighted, one collapsible pane per function.

Broker lessons start with the raw client; then the notebook shows the course's wrapper *as code*, so the learner
can see it is the same calls plus error handling. The text comes from ``inspect.getsource`` — the code that
actually runs, not a copy that could drift.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets


def highlighted(source: str) -> str:
    """``source`` as HTML with Python syntax highlighting (Pygments, which IPython already depends on)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - IPython installs Pygments
        return f"<pre>{html.escape(source)}</pre>"
    formatter = HtmlFormatter(noclasses=True, style="default")
    return str(highlight(source, PythonLexer(), formatter))


def source_of(obj: Callable[..., Any] | type) -> str:
    """The source code of a function or class, as the interpreter loaded it."""
    return inspect.getsource(obj)


class SourceView:
    """An accordion with one pane per function: its qualified name as the title, its highlighted source inside."""

    def __init__(self, *objects: Callable[..., Any] | type, open_first: bool = True) -> None:
        if not objects:
            raise ValueError("give at least one function or class to show")
        self.objects = objects
        self.sources = {self.title(obj): source_of(obj) for obj in objects}
        panes = [widgets.HTML(highlighted(source)) for source in self.sources.values()]
        self.view = widgets.Accordion(children=panes, titles=tuple(self.sources))
        self.view.add_class("course-source-view")
        if open_first:
            self.view.selected_index = 0

    @staticmethod
    def title(obj: Callable[..., Any] | type) -> str:
        """``module.qualname`` of what is shown."""
        return f"{obj.__module__}.{obj.__qualname__}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)  # type: ignore[no-untyped-call]
