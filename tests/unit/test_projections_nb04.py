"""Notebook 04: the exercise check (solution passes, placeholder and wrong answers do not), the dashboard widget,
and a projector killed for real in the middle of a batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from course_lib.buses import CommandBus, QueryBus
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.exercises import nb04
from course_lib.labs.projector_crash import KILLED_EXIT_CODE
from course_lib.messages import Envelope, Message
from course_lib.projections import Projection, Projector, SQLiteReadModels, Tx, WaitForGap, dump
from course_lib.shop.commands import register_shop_handlers
from course_lib.shop.events import OrderItemAdded
from course_lib.shop.projections import OrderSummaries, register_shop_queries
from course_lib.shop.testing import seed_shop_history
from course_lib.widgets.cqrs_dashboard import CqrsDashboard
from solutions import nb04 as solution


def test_every_check_has_a_reference_solution() -> None:
    assert set(solution.ANSWERS) == set(nb04.CHECKS)


@pytest.mark.parametrize("name", sorted(nb04.CHECKS))
def test_reference_solution_passes(name: str) -> None:
    result = nb04.CHECKS[name](solution.ANSWERS[name])
    assert result.solved, str(result)


def test_placeholder_is_not_solved_yet() -> None:
    result = nb04.check_sku_units(None)
    assert not result.solved and not result.attempted and result.hints
    assert str(result).startswith("… Not solved yet")


class IgnoresRemovals(solution.SkuUnits):
    def on_OrderItemRemoved(self, tx: Tx, e: Any, env: Envelope[Message]) -> None:
        pass


class CountsLines(Projection):
    name: ClassVar[str] = "sku_units"
    tables: ClassVar[tuple[str, ...]] = ("sku_units",)

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS sku_units (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_units VALUES (?, 1) ON CONFLICT (sku) DO UPDATE SET units = sku_units.units + 1",
                   (e.sku,))


@pytest.mark.parametrize(("answer", "says"), [
    (IgnoresRemovals, "units of a removed line are still counted"),
    (CountsLines, "expected {'mug': 3"),
    (solution.SkuUnits(), "subclass itself (the class"),
    ("SkuUnits", "subclass itself (the class"),
    (OrderSummaries, "must list 'sku_units'"),
])
def test_wrong_answers_say_what_is_wrong(answer: Any, says: str) -> None:
    result = nb04.check_sku_units(answer)
    assert not result.solved and result.attempted
    assert says in result.message


# ------------------------------------------------------------------------------------------------- widget


def _dashboard(tmp_path: Path) -> CqrsDashboard:
    store = InMemoryEventStore()
    read_models = SQLiteReadModels(tmp_path / "read.db")
    projector = Projector(store, read_models, OrderSummaries())
    return CqrsDashboard(register_shop_handlers(CommandBus(store)), register_shop_queries(QueryBus(), read_models),
                         projector, step=2)


def test_dashboard_shows_the_write_side_ahead_of_the_read_side(tmp_path: Path) -> None:
    board = _dashboard(tmp_path)
    assert board.state().head == 0 and "lag <b" in board.status_view.value
    order = board.place_order("grace")
    board.add_item()
    board.add_item("tea", 2, 400)
    state = board.refresh()
    assert (state.head, state.checkpoint, state.lag, state.orders) == (3, 0, 3, [])
    assert board.project() == 2
    state = board.state()
    assert (state.checkpoint, state.lag) == (2, 1)
    assert [(o.order_id, o.total_cents) for o in state.orders] == [(order, 1250)]
    board.submit_order()
    assert board.catch_up() == 2
    state = board.state()
    assert state.lag == 0 and state.orders[0].status == "submitted" and state.orders[0].total_cents == 2050
    assert "submitted" in board.model_view.value and "checkpoint <b>4</b>" in board.status_view.value
    assert board.rebuild() == 4 and board.state().orders == state.orders


def test_dashboard_buttons_drive_it_and_rejections_are_shown_not_raised(tmp_path: Path) -> None:
    board = _dashboard(tmp_path)
    board.add_button.click()  # no current order yet
    assert "rejected: ValueError: no current order" in board.output.outputs[-1]["text"]
    board.place_button.click()
    board.submit_button.click()  # an empty order cannot be submitted
    assert "rejected: OrderRuleBroken" in board.output.outputs[-1]["text"]
    board.add_button.click()
    board.catch_up_button.click()
    assert board.state().orders[0].item_count == 1
    board.rebuild_button.click()
    assert "rebuilt order_summaries from 2 event(s)" in board.output.outputs[-1]["text"]
    board.submit_button.click()
    board.submit_button.click()  # the order is submitted: there is no current order any more
    assert "rejected: ValueError: no current order" in board.output.outputs[-1]["text"]


def test_dashboard_shows_the_projectors_alarm(tmp_path: Path) -> None:
    class Alarmed(WaitForGap):
        alarm = "projection waits at position 3 for 31 s: pid 4242 is still open"

    store = InMemoryEventStore()
    read_models = SQLiteReadModels(tmp_path / "read.db")
    projector = Projector(store, read_models, OrderSummaries(), gap_policy=Alarmed())
    board = CqrsDashboard(register_shop_handlers(CommandBus(store)), register_shop_queries(QueryBus(), read_models),
                          projector)
    assert board.state().alarm == Alarmed.alarm
    assert "projector alarm</b>: projection waits at position 3 for 31 s: pid 4242" in board.status_view.value


# ------------------------------------------------------------------------------- a real kill mid-batch


def test_a_projector_killed_mid_batch_restarts_to_the_exact_read_model(tmp_path: Path) -> None:
    events = tmp_path / "events.db"
    store = SQLiteEventStore(events)
    head = seed_shop_history(store, orders=12)
    read_db = tmp_path / "read.db"
    killed = subprocess.run(
        [sys.executable, "-m", "course_lib.labs.projector_crash", str(events), str(read_db), "17",
         "--batch-size", "5"], capture_output=True, text=True, timeout=60)
    assert killed.returncode == KILLED_EXIT_CODE, killed.stderr
    read_models = SQLiteReadModels(read_db)
    assert read_models.checkpoint("order_summaries") == 15  # batches 1-5, 6-10, 11-15 committed; 16-17 lost
    restarted = Projector(store, read_models, OrderSummaries(), batch_size=5)
    assert restarted.catch_up() == head - 15
    reference = SQLiteReadModels(tmp_path / "reference.db")
    Projector(store, reference, OrderSummaries()).catch_up()
    assert dump(read_models, OrderSummaries()) == dump(reference, OrderSummaries())
    for closeable in (store, read_models, reference):
        closeable.close()
