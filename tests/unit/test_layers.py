"""Which way imports may point in course_lib (docs/CONVENTIONS.md, "Layers"), checked on the real import graph.

Every ``import`` and ``from … import`` of every module counts, including those inside functions: a lazy import is
still a dependency. The checker is a plain function over a graph, so the tests below also prove it catches a
forbidden edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "course_lib"

KERNEL = {"messages", "clock", "errors", "config", "waiting", "streams", "failures", "processes", "sql", "pg",
          "platform_hints", "browser"}
"""The kernel (with ``sql``, the one SQLite/PostgreSQL helper, and ``pg``, PostgreSQL's connect): imports nothing
above it."""

ADAPTERS = {"messaging", "kafka_probe"}
"""The broker packages (and the Kafka wire probe they share with the doctor)."""

GENERIC = KERNEL | ADAPTERS | {"eventstore", "aggregates", "buses", "versioning", "tracing",
                    "projections", "sagas", "outbox", "backlog", "pacing"}
"""The patterns and what they stand on: they work for any application, so they never import the course's."""

COURSE = {"shop", "labs", "widgets", "exercises", "capstone", "perf", "ops"}
"""The sample app, the demos, the course's top floor and operations: what generic code must never import."""

APP_MAY_NOT_IMPORT = {"labs", "widgets", "exercises", "capstone", "perf", "ops"}
"""The sample shop is the app the course builds on: it never reaches into the course around it."""

def module_name(path: Path) -> str:
    """``course_lib/a/b.py`` -> ``course_lib.a.b``; a package's ``__init__`` is the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, modules: set[str]) -> set[str]:
    """The course_lib modules ``source`` imports (``from course_lib import x`` names module ``course_lib.x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("course_lib")}
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("course_lib"):
            module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in modules else module)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every course_lib module and the course_lib modules it imports."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p.read_text(), modules) for p in paths}


def area(module: str) -> str:
    """The top-level part of course_lib a module belongs to: ``course_lib.sagas.log`` -> ``sagas``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import that points the wrong way, as ``importer -> imported (rule)``."""
    found = []
    for importer, imported in sorted(graph.items()):
        for target in sorted(imported):
            source_area, target_area = area(importer), area(target)
            if not target_area or source_area == target_area:
                continue  # the package's own __init__, or a module of the same part
            if source_area in KERNEL and target_area not in KERNEL:
                found.append(f"{importer} -> {target} (the kernel imports nothing above it)")
            elif source_area in GENERIC and target_area in COURSE:
                found.append(f"{importer} -> {target} (generic code never imports {target_area})")
            elif source_area == "shop" and target_area in APP_MAY_NOT_IMPORT:
                found.append(f"{importer} -> {target} (the sample app never imports {target_area})")
    return found


def test_every_import_points_down_the_layers() -> None:
    assert violations(import_graph()) == []


def test_every_part_of_course_lib_has_a_layer() -> None:
    parts = {area(module) for module in import_graph()} - {"", "__main__"}
    unplaced = parts - GENERIC - COURSE - {"progress", "labconfig"}
    assert unplaced == set(), f"add {sorted(unplaced)} to a layer in this test and in docs/CONVENTIONS.md"


@pytest.mark.parametrize(("importer", "imported", "rule"), [
    ("course_lib.sagas.log", "course_lib.shop.events", "generic code never imports shop"),
    ("course_lib.outbox.relay", "course_lib.labs.dualwrite", "generic code never imports labs"),
    ("course_lib.eventstore.sqlite", "course_lib.ops.doctor", "generic code never imports ops"),
    ("course_lib.messaging.kafka.worker", "course_lib.widgets.partition_view", "generic code never imports widgets"),
    ("course_lib.messages", "course_lib.eventstore.base", "the kernel imports nothing above it"),
    ("course_lib.sql", "course_lib.outbox.outbox", "the kernel imports nothing above it"),
    ("course_lib.shop.order", "course_lib.capstone.system", "the sample app never imports capstone"),
])
def test_a_forbidden_import_is_reported(importer: str, imported: str, rule: str) -> None:
    graph = {importer: {imported, "course_lib.errors"}}
    assert violations(graph) == [f"{importer} -> {imported} ({rule})"]


def test_allowed_imports_are_not_reported() -> None:
    graph = {
        "course_lib.shop.commands": {"course_lib.aggregates", "course_lib.buses", "course_lib.shop.order"},
        "course_lib.capstone.system": {"course_lib.shop.saga", "course_lib.labs.outbox_chaos", "course_lib.sql"},
        "course_lib.widgets.doctor": {"course_lib.ops.doctor"},
        "course_lib.sql": {"course_lib.pg", "course_lib.errors"},
    }
    assert violations(graph) == []


def test_lazy_and_package_imports_count() -> None:
    source = "def f():\n    from course_lib import shop\n    import course_lib.labs.dualwrite\n"
    found = imports_of(source, {"course_lib.shop", "course_lib.labs.dualwrite"})
    assert found == {"course_lib.shop", "course_lib.labs.dualwrite"}
    assert violations({"course_lib.outbox.outbox": found}) == [
        "course_lib.outbox.outbox -> course_lib.labs.dualwrite (generic code never imports labs)",
        "course_lib.outbox.outbox -> course_lib.shop (generic code never imports shop)",
    ]
