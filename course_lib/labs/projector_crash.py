"""Kill a projector for real, mid-batch: ``python -m course_lib.labs.projector_crash EVENTS_DB READ_DB DIE_AT``.

Runs the ``OrderSummaries`` projector over the SQLite event store ``EVENTS_DB`` into ``READ_DB`` in batches of
``--batch-size`` and ends the process with ``os._exit`` (no clean-up, no rollback by Python — like ``kill -9``)
right after applying the event at position ``DIE_AT``, in the middle of its batch's transaction.
"""

from __future__ import annotations

import argparse
import os

from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.projections.projector import Projector
from course_lib.projections.readmodels import SQLiteReadModels
from course_lib.shop.projections import OrderSummaries

KILLED_EXIT_CODE = 137


def main(argv: list[str] | None = None) -> int:
    """Project until position ``DIE_AT`` is applied, then die without committing that batch."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.labs.projector_crash", description=__doc__)
    parser.add_argument("events_db")
    parser.add_argument("read_db")
    parser.add_argument("die_at", type=int)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)

    def die(point: str, position: int) -> None:
        if point == "after_apply" and position == args.die_at:
            os._exit(KILLED_EXIT_CODE)

    projector = Projector(SQLiteEventStore(args.events_db), SQLiteReadModels(args.read_db), OrderSummaries(),
                          batch_size=args.batch_size, fault=die)
    projector.catch_up(progress=False)
    return 0  # reached only when DIE_AT is beyond the head


if __name__ == "__main__":
    raise SystemExit(main())
