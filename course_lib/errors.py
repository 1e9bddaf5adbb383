"""Errors that say what went wrong and what to do about it."""

from __future__ import annotations


class CourseError(Exception):
    """Base class for every error course_lib raises on purpose."""


class ServiceUnavailable(CourseError):
    """A service could not be reached. Names the URL and how to fix it."""

    def __init__(self, service: str, url: str, reason: str, fix: str) -> None:
        self.service = service
        self.url = url
        self.reason = reason
        self.fix = fix
        super().__init__(f"{service} is not reachable at {url}: {reason}\n  How to fix: {fix}")


class PortTaken(CourseError):
    """A port the course wants is held by something else."""
