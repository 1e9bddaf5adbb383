"""``require``: a notebook's first line, silent with its services up, the doctor's fix without a traceback otherwise."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_lib.config import Settings
from course_lib.ops.services import NOTEBOOK_NEEDS, ServiceMissing, require
from tests.conftest import ROOT


@pytest.fixture
def nothing_running(tmp_path: Path, closed_port: int) -> Settings:
    closed = closed_port
    return Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{closed}/%2F",
                    kafka_bootstrap_servers=f"127.0.0.1:{closed}",
                    postgres_url=f"postgresql://postgres@127.0.0.1:{closed}/test", state_dir=tmp_path)


def test_a_missing_service_raises_the_doctors_fix(nothing_running: Settings) -> None:
    with pytest.raises(ServiceMissing) as caught:
        require("rabbitmq", "kafka", settings=nothing_running)
    message = str(caught.value)
    assert caught.value.services == ["rabbitmq", "kafka"]
    assert "This notebook needs RabbitMQ (AMQP), and it is not ready: amqp://guest:***@127.0.0.1:" in message
    assert "This notebook needs Kafka broker, and it is not ready" in message
    assert message.count("nothing listens at 127.0.0.1:") == 2
    assert message.count("How to fix:") == 2 and message.count("python -m course_lib services start") == 2
    assert "restart the kernel" in message


def test_ipython_shows_the_message_alone_without_a_traceback(nothing_running: Settings,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    shell = InteractiveShell()
    shell.user_ns["require"], shell.user_ns["settings"] = require, nothing_running
    result = shell.run_cell('require("rabbitmq", settings=settings)')
    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, ServiceMissing)
    text = shown.out + shown.err
    assert "How to fix:" in text
    assert "Traceback" not in text and "File " not in text and "needs.py" not in text


def test_an_unknown_service_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="rabbitmq, kafka, postgres; got 'rabbit'"):
        require("rabbit")


def _first_code_cell(path: Path) -> str:
    """The first code cell after the browser track's install cell (which only does something in JupyterLite)."""
    notebook = json.loads(path.read_text())
    sources = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    return next(source for source in sources if "piplite" not in source)


def _required(source: str) -> tuple[str, ...]:
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "require"]
    return tuple(arg.value for call in calls for arg in call.args if isinstance(arg, ast.Constant))


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_each_notebook_requires_what_its_code_uses_in_its_first_cell(path: Path) -> None:
    source = _first_code_cell(path)
    assert _required(source) == NOTEBOOK_NEEDS[path.name[:2]]
    if NOTEBOOK_NEEDS[path.name[:2]]:
        first_statements = [ast.unparse(node) for node in ast.parse(source).body[:2]]
        assert first_statements[0] == "from course_lib.ops.services import require", "require must come first"
        assert first_statements[1].startswith("require("), "require must run before anything that connects"


def test_every_notebook_that_connects_to_a_broker_is_listed_as_needing_it() -> None:
    # PostgreSQL is not here: notebooks guard its sections with ``pg.section_available`` and run on without it
    # (tests/integration/test_notebooks_without_postgres.py)
    uses = {"rabbitmq": ("RabbitConnection", "rabbitmq_url", "RabbitMQPublisher"),
            "kafka": ("kafka_bootstrap", "Topics(", "KafkaPublisher")}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
        for service, markers in uses.items():
            if any(marker in code for marker in markers) and path.name[:2] != "00":  # 00 shows the doctor only
                assert service in NOTEBOOK_NEEDS[path.name[:2]], f"{path.name} uses {service}"
