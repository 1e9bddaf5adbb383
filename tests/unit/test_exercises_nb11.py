"""Notebook 11's check accepts the reference upcaster and rejects wrong ones with a reason and a hint."""

from __future__ import annotations

from course_lib.exercises.nb11 import CHECKS, check_upcast_payment
from course_lib.messages import RawEvent
from solutions.nb11 import ANSWERS


def test_every_check_accepts_the_reference_solution() -> None:
    assert set(CHECKS) == set(ANSWERS)
    for name, check in CHECKS.items():
        result = check(ANSWERS[name])
        assert result.solved, result


def test_placeholder_is_not_attempted() -> None:
    result = check_upcast_payment(None)
    assert not result.solved and not result.attempted and "not solved yet" in str(result).lower()


def test_truncating_to_int_loses_a_cent() -> None:
    def truncating(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"], "amount_cents": int(raw.data["amount"] * 100),
                                      "currency": "EUR"})

    result = check_upcast_payment(truncating)
    assert not result.solved and result.attempted
    assert "instead of 1999" in result.message and not any("round(" in h for h in result.hints)


def test_forgetting_the_version_bump() -> None:
    def same_version(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, 1, {"order_id": raw.data["order_id"], "amount_cents": round(raw.data["amount"] * 100),
                                      "currency": "EUR"})

    result = check_upcast_payment(same_version)
    assert not result.solved and "schema_version 1" in result.message


def test_keeping_the_old_field_and_mutating_the_stored_data() -> None:
    def keeps_amount(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, 2, {**raw.data, "amount_cents": round(raw.data["amount"] * 100), "currency": "EUR"})

    def in_place(raw: RawEvent) -> RawEvent:
        raw.data["amount_cents"] = round(raw.data.pop("amount") * 100)
        raw.data["currency"] = "EUR"
        return RawEvent(raw.type, 2, raw.data)

    assert "old 'amount' field" in check_upcast_payment(keeps_amount).message
    assert "in place" in check_upcast_payment(in_place).message


def test_missing_currency_and_a_crashing_answer_are_reported() -> None:
    def no_currency(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"],
                                      "amount_cents": round(raw.data["amount"] * 100)})

    def crashes(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, 2, {"order_id": raw.data["id"]})

    assert "currency is None" in check_upcast_payment(no_currency).message
    crashed = check_upcast_payment(crashes)
    assert not crashed.solved and "KeyError" in crashed.message
    assert "must be a function" in check_upcast_payment(42).message


def test_the_notebooks_hasty_upcaster_changes_the_store_and_breaks_the_read() -> None:
    """What notebook 11's find-the-bug text says of the upcaster it hands over."""
    from pathlib import Path

    import nbformat

    from course_lib.exercises.nb11 import replay_items

    notebook = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "11_event_versioning.ipynb",
                             as_version=4)
    (source,) = [c.source for c in notebook.cells if "# Broken on purpose: repair it" in c.source]
    namespace: dict[str, object] = {}
    exec(source, namespace)
    replay = replay_items(namespace["add_currency"])  # type: ignore[arg-type]
    assert replay.changed_in_place and replay.error is not None and "quantity" in replay.error
