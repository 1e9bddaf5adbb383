"""A windowed aggregation job over a Kafka topic: results to a topic, offsets committed only when safe.

The job owns all partitions of its source (assigned, no group join) and commits its progress to ``group_id``.
Open windows live in memory, so a crash loses them; to make the totals still end right after a restart:

- the committed offset of a partition never passes the first record of a window that is still open, so a
  restart re-reads every record of every window that was not emitted yet;
- on start, the job reads its own results topic: the latest window end emitted there becomes the resume
  watermark, and replayed records of windows already emitted are skipped (no partial duplicates).

Results are keyed by ``<window start>|<key>``: re-emitting a window (crash after emit, before commit) writes the
same value under the same key, so a table built from the topic holds each total once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.consumer import _poll_bounded, read_topic
from course_lib.messaging.kafka.errors import TopicNotFound
from course_lib.messaging.kafka.producer import Producer
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS, bootstrap_or_default
from course_lib.streams import HoppingWindows, Window, WindowedAggregator, WindowResult

Extract = Callable[[Record], tuple[int, str, float] | None]


def result_to_json(result: WindowResult[str]) -> dict[str, Any]:
    """A window result as the JSON written to the results topic."""
    return {"window_start_ms": result.window.start_ms, "window_end_ms": result.window.end_ms,
            "key": result.key, "total": result.total, "count": result.count}


def results_table(topic: str, bootstrap: str | None = None, timeout: float = 5.0) -> dict[tuple[int, str], float]:
    """Read a results topic into {(window start, key): total}; a later record for the same key replaces it.

    Totals come back as written: integer cents stay ``int``.
    """
    table: dict[tuple[int, str], float] = {}
    for record in read_topic(topic, bootstrap, timeout=timeout, max_messages=1_000_000):
        data = record.json()
        total = data["total"]
        table[(int(data["window_start_ms"]), str(data["key"]))] = total if isinstance(total, int) else float(total)
    return table


class WindowedJob:
    """Aggregates ``extract(record) -> (event_ms, key, value)`` per window; ``run()`` is bounded and re-callable."""

    def __init__(self, source: str, results_topic: str, group_id: str, windows: HoppingWindows,
                 extract: Extract, *, grace_ms: int = 0, bootstrap: str | None = None,
                 on_result: Callable[[WindowResult[str]], None] | None = None) -> None:
        self.source = source
        self.results_topic = results_topic
        self.group_id = group_id
        self.extract = extract
        self.bootstrap = bootstrap_or_default(bootstrap)
        emitted_starts = [start for (start, _key) in results_table(results_topic, self.bootstrap, timeout=3.0)]
        resume = max(emitted_starts) + windows.size_ms if emitted_starts else None
        self._consumer: KafkaConsumer = connect(
            lambda: KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group_id, **CONSUMER_DEFAULTS),
            self.bootstrap)
        partitions = self._consumer.partitions_for_topic(source) or set()
        if not partitions:
            self._consumer.close(autocommit=False)
            raise TopicNotFound(source)
        self._partitions = [TopicPartition(source, p) for p in sorted(partitions)]
        self.aggregator: WindowedAggregator[str] = WindowedAggregator(
            windows, grace_ms=grace_ms, resume_watermark_ms=resume, inputs=len(partitions))
        self.aggregator.on_result.append(self._emit)
        if on_result is not None:
            self.aggregator.on_result.append(on_result)
        self.unparseable = 0
        self._producer = Producer(self.bootstrap, client_id=f"{group_id}-results")
        self._consumer.assign(self._partitions)
        for tp in self._partitions:  # resume where the last run safely got to
            committed = self._consumer.committed(tp)
            self._consumer.seek(tp, committed if committed is not None else 0)
        self._first_offset: dict[Window, dict[int, int]] = {}  # open window → partition → first offset in it
        self._next_offset: dict[int, int] = {}
        self.records_read = 0

    @property
    def resumed_from_watermark_ms(self) -> int | None:
        return self.aggregator.resume_watermark_ms

    def run(self, max_messages: int = 1000, timeout: float = 5.0, *, stop_when_idle: bool = True) -> int:
        """Process up to ``max_messages`` records within ``timeout`` s, emit closed windows, commit safely.

        With ``stop_when_idle``, return early once a poll after this run's first records comes back empty (the
        backlog is drained). Before the first records it waits, up to ``timeout``: a restarted job's first fetch
        can take longer than one poll on a busy machine.
        """
        done = 0
        deadline = time.monotonic() + timeout
        while done < max_messages:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            records = _poll_bounded(self._consumer, min(100, max_messages - done), timeout=min(0.3, remaining))
            if not records:
                if stop_when_idle and done:
                    break
                continue
            for record in records:
                self._add(record)
            done += len(records)
            self.commit()
        return done

    def _add(self, record: Record) -> None:
        self.records_read += 1
        self._next_offset[record.partition] = record.offset + 1
        try:
            parsed = self.extract(record)
        except (ValueError, KeyError, TypeError):
            parsed = None
        if parsed is None:
            self.unparseable += 1
            return
        event_ms, key, value = parsed
        watermark = self.aggregator.watermark_ms
        for window in self.aggregator.windows.windows_for(event_ms):
            if watermark is None or window.end_ms > watermark:
                self._first_offset.setdefault(window, {}).setdefault(record.partition, record.offset)
        self.aggregator.add(event_ms, key, value, source=record.partition)
        open_windows = set(self.aggregator.open_totals())
        for window in [w for w in self._first_offset if w not in open_windows]:
            del self._first_offset[window]

    def _emit(self, result: WindowResult[str]) -> None:
        value = json.dumps(result_to_json(result)).encode()
        self._producer.send_bytes(self.results_topic, value, key=f"{result.window.start_ms}|{result.key}")

    def safe_offsets(self) -> dict[int, int]:
        """Per partition, the offset a restart must begin at: the first record of any still-open window."""
        safe = dict(self._next_offset)
        for firsts in self._first_offset.values():
            for partition, offset in firsts.items():
                safe[partition] = min(safe.get(partition, offset), offset)
        return safe

    def commit(self) -> dict[int, int]:
        """Make emitted results durable, then commit the safe offsets."""
        self._producer.flush()
        safe = self.safe_offsets()
        if safe:
            self._consumer.commit({TopicPartition(self.source, p): OffsetAndMetadata(o, "", -1)
                                   for p, o in safe.items()})
        return safe

    def finish(self) -> int:
        """End of a bounded stream: emit every open window and commit. Returns how many results were emitted."""
        results = self.aggregator.flush()
        self._first_offset.clear()
        self.commit()
        return len(results)

    def crash(self) -> None:
        """Stop abruptly, as a killed process would: open windows are lost and nothing more is committed."""
        self._producer.raw.close(timeout=0)
        self._consumer.close(autocommit=False)

    def close(self) -> None:
        """Commit what is safe and close."""
        self.commit()
        self._producer.close()
        self._consumer.close(autocommit=False)
