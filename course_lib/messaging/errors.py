"""Errors both broker packages raise, so a caller can handle a missing queue and a missing topic alike."""

from __future__ import annotations

from course_lib.errors import CourseError


class DestinationNotFound(CourseError):
    """A queue (RabbitMQ) or topic (Kafka) that does not exist. Declare or create it first."""


class WorkerStuck(CourseError):
    """``stop()`` waited its whole timeout and the worker thread still runs (a handler that does not return)."""


class WorkerAlreadyStarted(CourseError):
    """``start()`` on a worker that was started before: a worker runs once; create a new one to run again."""
