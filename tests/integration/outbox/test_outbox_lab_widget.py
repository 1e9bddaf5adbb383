"""Notebook 10's widget against the real RabbitMQ, driven from code."""

from __future__ import annotations

from course_lib.labs.outbox_chaos import verdict
from course_lib.widgets.outbox_lab import OutboxLab, lab_name


def test_counters_follow_the_story(rabbitmq_url: str) -> None:
    lab = OutboxLab(lab_name(), rabbitmq_url, seed=3)
    try:
        assert lab.place_orders(2) == 4
        assert lab.counters()["outbox pending"] == 4
        assert lab.kill_relay_after_publish() is True
        assert lab.counters()["outbox sent"] == 0 and lab.counters()["relay crashes"] == 1
        lab.buttons["relay"].click()
        assert lab.counters()["outbox pending"] == 0
        assert lab.deliver() == 5  # one duplicate from the killed relay
        c = lab.counters()
        assert c["effects applied"] == 4 and c["duplicates absorbed"] == 1 and c["events with >1 effect"] == 0
        lab.place_orders(10)
        assert lab.chaos(relays=100, crash_probability=0.3) > 0
        assert lab.counters()["outbox pending"] == 0
        lab.deliver()
        result = verdict(lab.written_ids(), lab.consumer.effects())
        assert result.ok and result.applied == 24
        assert "effects applied" in lab.table.value
    finally:
        lab.close()
