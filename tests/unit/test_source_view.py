"""The "show the source" view: the code that runs, highlighted, one accordion pane per function."""

from __future__ import annotations

import inspect

import pytest

from course_lib.messaging.rabbitmq import consume
from course_lib.widgets.source_view import SourceView, highlighted


def test_each_function_gets_a_pane_titled_with_its_qualified_name_and_its_real_source() -> None:
    view = SourceView(consume, SourceView.title)
    titles = ["course_lib.messaging.rabbitmq.consumer.consume", "course_lib.widgets.source_view.SourceView.title"]
    assert list(view.sources) == titles
    assert view.sources[titles[0]] == inspect.getsource(consume)
    assert tuple(view.view.titles) == tuple(titles) and view.view.selected_index == 0
    assert len(view.view.children) == 2 and "basic_qos" in view.view.children[0].value


def test_highlighting_keeps_the_code_and_escapes_it() -> None:
    html = highlighted("if a < b:\n    return '<b>'\n")
    assert "<span" in html and "&lt;" in html and "<b>" not in html


def test_nothing_to_show_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SourceView()
