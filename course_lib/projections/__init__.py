"""Projections: read models kept up to date from the event log, with checkpoints stored atomically beside them."""

from course_lib.projections.gaps import GapPolicy, PostgresGapPolicy, WaitForGap
from course_lib.projections.projector import (
    CRASH_POINTS,
    Projection,
    Projector,
    ProjectorStats,
    ProjectorStatus,
    ProjectorStopped,
    dump,
)
from course_lib.projections.readmodels import PostgresReadModels, ReadModelStore, SQLiteReadModels, Tx

__all__ = [
    "CRASH_POINTS",
    "GapPolicy",
    "PostgresGapPolicy",
    "PostgresReadModels",
    "Projection",
    "Projector",
    "ProjectorStats",
    "ProjectorStatus",
    "ProjectorStopped",
    "ReadModelStore",
    "SQLiteReadModels",
    "Tx",
    "WaitForGap",
    "dump",
]
