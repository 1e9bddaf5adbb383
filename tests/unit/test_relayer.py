"""tools/relayer.py: the import rewriter other branches' notebooks go through after the re-layering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import relayer

ROOT = Path(__file__).resolve().parents[2]


def test_a_moved_module_keeps_the_statement_layout() -> None:
    source = "from course_lib.domain.commands import (  # noqa: E402\n    AddItem, PlaceOrder,\n)\n"
    assert relayer.rewrite_python(source) == source.replace("course_lib.domain.commands", "course_lib.shop.commands")


def test_names_that_left_a_module_get_their_own_import() -> None:
    source = "from course_lib.sagas import Orchestrator, order_saga  # noqa: E402\n"
    assert relayer.rewrite_python(source) == (
        "from course_lib.sagas import Orchestrator  # noqa: E402\nfrom course_lib.shop.saga import order_saga\n")


def test_a_module_imported_by_name_follows_its_move_and_its_renamed_names() -> None:
    source = "from course_lib import sqlitedb, doctor\nconn = sqlitedb.connect(p)\nsqlitedb.needs_fullfsync()\n"
    assert relayer.rewrite_python(source) == (
        "from course_lib import sql\nfrom course_lib.ops import doctor\n"
        "conn = sql.connect_sqlite(p)\nsql.needs_fullfsync()\n")


def test_dotted_references_and_paths_follow() -> None:
    source = 'patch("course_lib.doctor.run")\n# see course_lib/domain/events.py\nimport course_lib.domain.events\n'
    assert relayer.rewrite_python(source) == (
        'patch("course_lib.ops.doctor.run")\n# see course_lib/shop/events.py\nimport course_lib.shop.events\n')


def test_unrelated_code_is_untouched() -> None:
    source = "from course_lib.sagas import Orchestrator\nfrom course_libx import domain\nx = 'course_lib'\n"
    assert relayer.rewrite_python(source) == source


def test_a_notebook_changes_only_in_its_cell_sources(tmp_path: Path) -> None:
    notebook = {"cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["%matplotlib inline\n", "from course_lib.services import require\n", "require('kafka')"]},
        {"cell_type": "markdown", "id": "b", "metadata": {}, "source": ["See `course_lib.domain.order`."]},
    ], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    assert relayer.rewrite(path)
    after = json.loads(path.read_text())
    assert after["cells"][0]["source"] == [
        "%matplotlib inline\n", "from course_lib.ops.services import require\n", "require('kafka')"]
    assert after["cells"][1]["source"] == ["See `course_lib.shop.order`."]
    assert path.read_text() == json.dumps(after, indent=1, ensure_ascii=False) + "\n"  # tools.notebooks' layout
    assert not relayer.rewrite(path)  # a second run changes nothing


def test_every_owner_block_is_merged_and_keys_are_well_formed() -> None:
    assert relayer.MOVES == {**relayer.MOVES_CORE, **relayer.MOVES_MESSAGING}
    for old, new in relayer.MOVES.items():
        assert old.startswith("course_lib.") and new.startswith("course_lib."), (old, new)
        assert old.count(":") <= 1 and new.count(":") <= 1


@pytest.mark.parametrize("folder", ["notebooks", "solutions", "tests", "benchmarks", "tools", "docs", "course_lib"])
def test_the_repository_uses_no_old_name(folder: str) -> None:
    stale = [str(p.relative_to(ROOT)) for p in relayer.files([ROOT / folder])
             if relayer.rewritten(p) != p.read_text()]
    assert stale == [], f"run `python -m tools.relayer {folder}`"


def test_a_renamed_name_is_followed_in_every_cell_of_a_notebook() -> None:
    cells = [{"cell_type": "code", "id": str(n), "metadata": {}, "execution_count": None, "outputs": [],
              "source": source} for n, source in enumerate([
                  ["from course_lib.outbox import SqliteOutbox\n"], ["outbox = SqliteOutbox(db)"]])]
    text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"
    after = json.loads(relayer.rewrite_notebook(text))
    assert [c["source"] for c in after["cells"]] == [
        ["from course_lib.outbox import SQLiteOutbox\n"], ["outbox = SQLiteOutbox(db)"]]


def test_an_exception_renamed_apart_from_its_event_leaves_the_event_alone() -> None:
    source = ("from course_lib.domain.events import PaymentDeclined as Declined\n"
              "from course_lib.domain.services import PaymentDeclined\n"
              "raise PaymentDeclined('no')\n")
    assert relayer.rewrite_python(source) == (
        "from course_lib.shop.events import PaymentDeclined as Declined\n"
        "from course_lib.shop.services import CardDeclined\n"
        "raise CardDeclined('no')\n")
