"""A learner's machine without RabbitMQ: the course still opens, says what to run, and notebooks stop cleanly.

RabbitMQ is "missing" by pointing COURSE_RABBITMQ_URL at a port held closed for the whole test; the shared services
are never touched.
The embedded Kafka broker that `services start` launches gets its own free port and state folder, and is stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_lib.config import Settings
from course_lib.ops.doctor import run_doctor
from course_lib.ops.services import kafka_broker
from tests.conftest import ROOT
from tests.ports import free_port
from tools.solved_notebooks import KERNEL_STARTUP_S


@pytest.fixture
def no_rabbitmq_env(tmp_path: Path, closed_port: int) -> Iterator[dict[str, str]]:
    closed = closed_port
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COURSE_RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{closed}/%2F",
        "COURSE_RABBITMQ_MANAGEMENT_URL": f"http://guest:guest@127.0.0.1:{closed}",
        "COURSE_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{closed}/test",
        "COURSE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "COURSE_STATE_DIR": str(tmp_path / "state"),
    }
    yield env
    settings = Settings(_env_file=None, kafka_bootstrap_servers=env["COURSE_KAFKA_BOOTSTRAP_SERVERS"],
                        state_dir=Path(env["COURSE_STATE_DIR"]))
    kafka_broker.stop(settings, say=lambda _line: None)  # the private broker `services start` launched, if any


def test_services_start_starts_kafka_warns_about_rabbitmq_and_exits_0(no_rabbitmq_env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "course_lib", "services", "start"], env=no_rabbitmq_env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    bootstrap = no_rabbitmq_env["COURSE_KAFKA_BOOTSTRAP_SERVERS"]
    assert f"waiting up to 15 s for the embedded Kafka broker to open {bootstrap}" in out
    assert "Kafka:      tansu is running (started by the course" in out
    assert out.index("Kafka:") < out.index("RabbitMQ:")
    assert "warning: RabbitMQ is not ready" in out and "How to fix:" in out
    assert "Traceback" not in out + done.stderr
    settings = Settings(_env_file=None, kafka_bootstrap_servers=bootstrap,
                        state_dir=Path(no_rabbitmq_env["COURSE_STATE_DIR"]))
    assert kafka_broker.status(settings).managed_pid is not None


def test_the_doctor_shows_a_red_rabbitmq_row_with_the_fix(no_rabbitmq_env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "course_lib", "doctor"], env=no_rabbitmq_env,
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1
    rabbit_row = next(line for line in done.stdout.splitlines() if "RabbitMQ (AMQP)" in line)
    assert rabbit_row.startswith("XX")
    assert "fix: python -m course_lib services start" in done.stdout
    settings = Settings(_env_file=None, rabbitmq_url=no_rabbitmq_env["COURSE_RABBITMQ_URL"])
    assert not run_doctor(settings).row("RabbitMQ (AMQP)").ok


def test_a_rabbitmq_notebook_stops_at_its_first_cell_with_the_fix(no_rabbitmq_env: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in no_rabbitmq_env.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    path = ROOT / "notebooks" / "05_rabbitmq_routing.ipynb"
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=60, kernel_name="python3", startup_timeout=KERNEL_STARTUP_S,
                            resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first = code_cells[0]
    errors = [output for output in first.outputs if output.output_type == "error"]
    assert len(errors) == 1, "the first code cell must be the one that stops"
    assert errors[0].ename == "ServiceMissing"
    shown = "\n".join(errors[0].traceback)
    assert "This notebook needs RabbitMQ (AMQP), and it is not ready" in shown
    assert "How to fix:" in shown and "python -m course_lib services start" in shown
    assert "Traceback" not in shown and ".py" not in shown, "the learner sees the fix, not a stack"
    assert all(cell.get("execution_count") is None for cell in code_cells[1:]), "nothing after it ran"
