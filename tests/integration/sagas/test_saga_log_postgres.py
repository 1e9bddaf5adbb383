"""The saga log in PostgreSQL: the same crash-anywhere-then-resume guarantee as with SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.sagas import Orchestrator, PostgresSagaLog, open_log
from course_lib.sagas.log import ConcurrentSagaWriter, LogEntry
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import Shop, SimulatedCrash


def _table(unique_name: Callable[[str], str]) -> str:
    return unique_name("saga").replace("-", "_")


@pytest.mark.parametrize("failing", [None, "payment.charge"])
def test_crash_at_every_point_resumes_to_the_uninterrupted_result(
        postgres_url: str, unique_name: Callable[[str], str], failing: str | None) -> None:
    table = _table(unique_name)
    log = PostgresSagaLog(postgres_url, table)
    try:
        def shop() -> Shop:
            s = Shop.seeded(1)
            if failing:
                s.faults.fail(failing, "declined", times=None)
            return s

        reference = shop()
        expected = Orchestrator(order_saga(reference), log, sleep=lambda _: None).start("ref", order_data("o-1"))
        points: list[str] = []
        Orchestrator(order_saga(shop()), log, sleep=lambda _: None, crash_hook=points.append).start(
            "points", order_data("o-1"))
        for n, point in enumerate(points):
            victim = shop()

            def die(where: str, point: str = point, fired: list[bool] = []) -> None:  # noqa: B006
                if where == point and not fired:
                    fired.append(True)
                    raise SimulatedCrash(where)

            with pytest.raises(SimulatedCrash):
                Orchestrator(order_saga(victim), log, sleep=lambda _: None, crash_hook=die).start(
                    f"c{n}", order_data("o-1"))
            restarted = PostgresSagaLog(postgres_url, table)  # a new process: its own connection
            try:
                state = Orchestrator(order_saga(victim), restarted, sleep=lambda _: None).resume(f"c{n}")
            finally:
                restarted.close()
            assert state.status == expected.status, point
            assert victim.snapshot() == reference.snapshot(), point
    finally:
        log.drop()
        log.close()


def test_two_writers_on_one_saga_are_refused(postgres_url: str, unique_name: Callable[[str], str]) -> None:
    table = _table(unique_name)
    with open_log(postgres_url, table) as log:
        try:
            log.append(LogEntry("s", 1, "order", "saga_started"))
            with pytest.raises(ConcurrentSagaWriter, match="another orchestrator"):
                log.append(LogEntry("s", 1, "order", "saga_started"))
            assert log.saga_ids() == ["s"]
        finally:
            assert isinstance(log, PostgresSagaLog)
            log.drop()
