"""Sagas: long business transactions made of steps with compensations, run by an orchestrator over a persisted
log (``orchestrator``, ``log``), or by services reacting to each other's events (``choreography``)."""

from course_lib.sagas.definition import SagaDefinition, SagaDefinitionError, Step, StepContext
from course_lib.sagas.log import (
    LogEntry,
    PostgresSagaLog,
    SagaLog,
    SagaState,
    SQLiteSagaLog,
    UnknownSaga,
    open_log,
    unfinished,
)
from course_lib.sagas.mermaid import MermaidDiagram, definition_mermaid, run_mermaid
from course_lib.sagas.orchestrator import Backoff, Orchestrator, ResumeFailed, StepResultInvalid, StepTimeout

__all__ = [
    "Backoff",
    "LogEntry",
    "MermaidDiagram",
    "Orchestrator",
    "PostgresSagaLog",
    "ResumeFailed",
    "SQLiteSagaLog",
    "SagaDefinition",
    "SagaDefinitionError",
    "SagaLog",
    "SagaState",
    "Step",
    "StepContext",
    "StepResultInvalid",
    "StepTimeout",
    "UnknownSaga",
    "definition_mermaid",
    "open_log",
    "run_mermaid",
    "unfinished",
]
