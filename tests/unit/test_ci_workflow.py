"""The GitHub Actions workflow cannot run here (no Docker, no runner): it is validated against its schema instead."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.schema_check import load_yaml, problems

WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"


def _workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(WORKFLOW)
    return loaded


def test_the_workflow_matches_github_s_schema() -> None:
    assert problems(_workflow(), "github-workflow.json", WORKFLOW.name) == []


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda w: w["jobs"]["tests"].update({"runs_on": "ubuntu-latest"}), "runs_on"),
    (lambda w: w["jobs"]["tests"]["steps"][0].update({"uses": 4}), "4"),
    (lambda w: w.pop("jobs"), "'jobs' is a required property"),
])
def test_the_schema_check_catches_a_broken_workflow(change: Any, complaint: str) -> None:
    workflow = _workflow()
    change(workflow)
    found = problems(workflow, "github-workflow.json", WORKFLOW.name)
    assert found and any(complaint in line for line in found), found


def test_on_is_read_as_the_trigger_key_not_as_a_boolean() -> None:
    assert set(_workflow()["on"]) == {"push", "pull_request", "workflow_dispatch"}


def test_both_stacks_run_every_suite_in_ci_mode() -> None:
    job = _workflow()["jobs"]["tests"]
    stacks = {row["stack"]: row["services"].split() for row in job["strategy"]["matrix"]["include"]}
    assert stacks["compose"] == ["rabbitmq", "kafka", "postgres"]  # Apache Kafka: apache_kafka_only tests run
    assert "kafka" not in stacks["embedded"]  # `make services` starts the embedded broker
    assert job["env"]["CI"] == "true"  # a missing service fails instead of skipping
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "make setup-dev" in runs and "make lint" in runs and "make services" in runs
    assert re.search(r"pytest .*\btests notebooks\b", " ".join(runs.split()))


def test_every_matrix_value_used_is_defined_in_every_row() -> None:
    job = _workflow()["jobs"]["tests"]
    used = set(re.findall(r"\$\{\{\s*matrix\.(\w+)\s*}}", WORKFLOW.read_text()))
    assert used, "the workflow uses matrix values"
    for row in job["strategy"]["matrix"]["include"]:
        assert used <= set(row), f"{row} lacks {used - set(row)}"


def test_the_readme_says_it_runs_only_on_github() -> None:
    readme = (ROOT / "README.md").read_text()
    assert ".github/workflows/tests.yml" in readme and "only on GitHub" in readme

