"""Id factories: the default ids are time-ordered UUIDs (version 7)."""

from __future__ import annotations

import time
import uuid

from course_lib.clock import SequentialIds, random_ids, time_ordered_ids


def test_default_ids_are_version_7_uuids_that_sort_by_creation_time() -> None:
    first = [time_ordered_ids() for _ in range(200)]
    newest_millisecond = max(first).int >> 80
    while time.time_ns() // 1_000_000 <= newest_millisecond:  # at most a millisecond: let the clock move on
        pass
    later = random_ids()
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in [*first, later])
    assert len({*first, later}) == 201
    assert max(first) < later  # a later millisecond sorts after every earlier id
    assert abs((first[0].int >> 80) - time.time_ns() // 1_000_000) < 60_000  # the high 48 bits are Unix ms


def test_sequential_ids_are_readable() -> None:
    ids = SequentialIds()
    assert [str(ids()), str(ids())] == ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"]
