"""course_lib.tracing on hand-made envelopes: tree shape, ordering, orphans, the Mermaid text."""

from __future__ import annotations

import uuid

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import Envelope, envelope
from course_lib.shop.commands import PayOrder, PlaceOrder, SubmitOrder
from course_lib.shop.events import OrderCreated, OrderPaid, OrderSubmitted, PaymentCharged, StockReserved
from course_lib.tracing import (
    TraceError,
    build_trace,
    correlations,
    mermaid_markdown,
    sequence_diagram,
)


@pytest.fixture
def journey() -> dict[str, Envelope]:
    clock, ids = FixedStepClock(), SequentialIds()
    place = envelope(PlaceOrder(order_id="o1", customer_id="c1"), clock=clock, ids=ids)
    created = place.caused(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids)
    submit = place.caused(SubmitOrder(order_id="o1"), clock=clock, ids=ids)
    submitted = submit.caused(OrderSubmitted(order_id="o1", total_cents=500), clock=clock, ids=ids)
    reserved = submitted.caused(StockReserved(order_id="o1", sku="mug", quantity=1), clock=clock, ids=ids)
    charged = submitted.caused(PaymentCharged(order_id="o1", payment_id="p", amount_cents=500), clock=clock, ids=ids)
    pay = submitted.caused(PayOrder(order_id="o1", payment_id="p"), clock=clock, ids=ids)
    paid = pay.caused(OrderPaid(order_id="o1", amount_cents=500, payment_id="p"), clock=clock, ids=ids)
    return {"place": place, "created": created, "submit": submit, "submitted": submitted, "reserved": reserved,
            "charged": charged, "pay": pay, "paid": paid}


def test_parents_come_before_children_whatever_the_input_order(journey: dict[str, Envelope]) -> None:
    shuffled = list(reversed(journey.values()))
    trace = build_trace(shuffled)
    order = [step.message_id for step in trace.ordered()]
    for step in trace.ordered():
        if step.parent is not None:
            assert order.index(step.parent) < order.index(step.message_id)
    assert trace.roots == [journey["place"].message_id]
    assert trace.orphans == []
    assert len(trace) == 8


def test_siblings_are_in_time_order(journey: dict[str, Envelope]) -> None:
    trace = build_trace(reversed(journey.values()))
    assert trace.types() == ["PlaceOrder", "OrderCreated", "SubmitOrder", "OrderSubmitted", "StockReserved",
                             "PaymentCharged", "PayOrder", "OrderPaid"]
    depths = {step.type: step.depth for step in trace.ordered()}
    assert depths == {"PlaceOrder": 0, "OrderCreated": 1, "SubmitOrder": 1, "OrderSubmitted": 2,
                      "StockReserved": 3, "PaymentCharged": 3, "PayOrder": 3, "OrderPaid": 4}


def test_a_missing_cause_is_reported_as_an_orphan(journey: dict[str, Envelope]) -> None:
    kept = [env for name, env in journey.items() if name != "pay"]
    trace = build_trace(kept)
    assert trace.orphans == [journey["paid"].message_id]
    assert journey["paid"].message_id in trace.roots
    text = sequence_diagram(trace, lambda env: "Orders")
    assert f"cause {str(journey['pay'].message_id)[:8]} not recorded" in text


def test_duplicates_count_once_and_other_conversations_are_left_out(journey: dict[str, Envelope]) -> None:
    other = envelope(PlaceOrder(order_id="o2", customer_id="c2"))
    records = [*journey.values(), journey["paid"], journey["created"], other]
    assert correlations(records) == {journey["place"].metadata.correlation_id: 8,
                                     other.metadata.correlation_id: 1}
    with pytest.raises(TraceError, match="correlation_id="):
        build_trace(records)
    trace = build_trace(records, correlation_id=str(journey["place"].metadata.correlation_id))
    assert len(trace) == 8
    with pytest.raises(TraceError, match="no recorded message"):
        build_trace(records, correlation_id=uuid.uuid4())


def test_a_causation_cycle_is_an_error_not_a_hang() -> None:
    a_id, b_id, corr = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a = envelope(OrderCreated(order_id="x", customer_id="c"), message_id=a_id, correlation_id=corr,
                 causation_id=b_id)
    b = envelope(OrderSubmitted(order_id="x", total_cents=1), message_id=b_id, correlation_id=corr,
                 causation_id=a_id)
    with pytest.raises(TraceError, match="cycle"):
        build_trace([a, b])


def test_sequence_diagram_draws_one_arrow_per_message(journey: dict[str, Envelope]) -> None:
    lanes = {"PlaceOrder": "Orders", "SubmitOrder": "Orders", "PayOrder": "Orders", "StockReserved": "Inventory",
             "PaymentCharged": "Payment"}
    text = sequence_diagram(build_trace(journey.values()), lambda env: lanes.get(env.type, "Event log"),
                            origin="Customer")
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert lines[1:6] == ["    participant Customer as Customer", "    participant Orders as Orders",
                          "    participant Event_log as Event log", "    participant Inventory as Inventory",
                          "    participant Payment as Payment"]
    arrows = [line.strip() for line in lines if "->>" in line]
    assert arrows == ["Customer->>Orders: PlaceOrder", "Orders-->>Event_log: OrderCreated",
                      "Orders->>Orders: SubmitOrder", "Orders-->>Event_log: OrderSubmitted",
                      "Event_log-->>Inventory: StockReserved", "Event_log-->>Payment: PaymentCharged",
                      "Event_log->>Orders: PayOrder", "Orders-->>Event_log: OrderPaid"]
    assert mermaid_markdown(text).startswith("```mermaid\nsequenceDiagram")
    assert mermaid_markdown(text).endswith("\n```")
