"""The learner's progress: which exercises they have passed, kept in a small JSON file on their own machine.

A passing check calls :func:`record_pass`. The file lives in the course state folder
(``<state_dir>/progress.json``; ``COURSE_PROGRESS_FILE`` points elsewhere, as the tests do). It is written
atomically (a temporary file renamed over the old one), and a disk that is read-only or full never fails a check:
recording is best effort, the verdict is what matters. ``python -m course_lib progress`` prints the table.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOTEBOOKS = tuple(f"{n:02d}" for n in range(15))


def progress_file() -> Path:
    """Where progress is kept: ``COURSE_PROGRESS_FILE``, else ``progress.json`` in the course state folder."""
    override = os.environ.get("COURSE_PROGRESS_FILE")
    if override:
        return Path(override)
    from course_lib.config import get_settings

    return Path(get_settings().state_dir) / "progress.json"


@dataclass(frozen=True)
class Passed:
    """One exercise's record: when it was first and last passed, and how often."""

    first: str
    last: str
    times: int


def load(path: Path | None = None) -> dict[str, Passed]:
    """Every passed exercise by id; an absent or unreadable file is no progress yet."""
    path = path or progress_file()
    try:
        raw = json.loads(path.read_text())
        return {exercise_id: Passed(**record) for exercise_id, record in raw.get("passed", {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def record_pass(exercise_id: str, *, path: Path | None = None, now: datetime | None = None) -> bool:
    """Record that ``exercise_id`` passed; False (and nothing raised) when the file cannot be written."""
    path = path or progress_file()
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    passed = load(path)
    before = passed.get(exercise_id)
    passed[exercise_id] = Passed(before.first if before else stamp, stamp, (before.times if before else 0) + 1)
    document = {"passed": {key: vars(record) for key, record in sorted(passed.items())}}
    try:
        _write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False))
    except OSError:
        return False
    return True


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@dataclass(frozen=True)
class ExerciseInfo:
    """One exercise of the course, as the progress table lists it."""

    exercise_id: str
    notebook: str
    title: str
    level: str
    minutes: int


def all_exercises() -> list[ExerciseInfo]:
    """Every exercise in the course, notebook by notebook, from each ``course_lib.exercises.nbNN.CHECKS``."""
    found: list[ExerciseInfo] = []
    for notebook in NOTEBOOKS:
        try:
            module = importlib.import_module(f"course_lib.exercises.nb{notebook}")
        except ImportError:
            continue
        for check in getattr(module, "CHECKS", {}).values():
            found.append(_info(check, notebook))
    return found


def _info(check: Any, notebook: str) -> ExerciseInfo:
    return ExerciseInfo(getattr(check, "exercise_id", f"nb{notebook}.{check.__name__}"), notebook,
                        getattr(check, "title", check.__name__), getattr(check, "level", "?"),
                        int(getattr(check, "minutes", 0)))


def rows(path: Path | None = None) -> list[tuple[ExerciseInfo, Passed | None]]:
    """Each exercise with its record (None when not passed yet)."""
    passed = load(path)
    return [(info, passed.get(info.exercise_id)) for info in all_exercises()]


def table(path: Path | None = None) -> str:
    """A plain-text table: notebook, exercise, level, minutes, passed or not."""
    listed = rows(path)
    lines = [f"{'nb':<3} {'exercise':<26} {'level':<5} {'min':>4}  {'passed':<10} title", "-" * 96]
    for info, record in listed:
        done = f"✔ {record.first[:10]}" if record else "·"
        lines.append(f"{info.notebook:<3} {info.exercise_id.split('.', 1)[-1]:<26} {info.level:<5} "
                     f"{info.minutes:>4}  {done:<10} {info.title}")
    done_count = sum(1 for _, record in listed if record)
    minutes_left = sum(info.minutes for info, record in listed if not record)
    lines.append("-" * 96)
    lines.append(f"{done_count} of {len(listed)} exercises passed; about {minutes_left} minutes of exercises left. "
                 f"(kept in {path or progress_file()})")
    return "\n".join(lines)
