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


def error_message(error: BaseException) -> str:
    """``str(error)`` — even when the exception's own ``__str__`` raises.

    Workers format errors they did not make (a handler's, a library's); a broken ``__str__`` must not turn one
    failed message into a dead worker.
    """
    try:
        return str(error)
    except Exception as exc:  # anything a hostile __str__ raises
        return f"<str() of this error raised {type(exc).__name__}>"


def describe_error(error: BaseException | str) -> str:
    """``"Type: message"`` for logs and dead-letter headers (a string is returned as it is)."""
    if isinstance(error, str):
        return error
    text = error_message(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class WorkerFailed(CourseError):
    """A background worker stopped on its own. Its cause is chained (``raise ... from cause``) and in ``cause``."""

    def __init__(self, worker: str, cause: BaseException) -> None:
        self.worker = worker
        self.cause = cause
        super().__init__(
            f"{worker} stopped on its own: {describe_error(cause)}. Messages after that point were not processed "
            "(they wait in the queue or topic). Fix the cause shown above, then start a new worker."
        )
        self.__cause__ = cause


def raise_if_failed(worker: str, error: BaseException | None) -> None:
    """What ``stop()`` and ``join()`` of every background worker end with: raise ``WorkerFailed`` if it died."""
    if error is not None:
        raise WorkerFailed(worker, error) from error
