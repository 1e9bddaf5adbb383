"""Rewrite ``course_lib`` imports after the re-layering (issue 16), so every notebook's imports change in one step.

    python -m tools.relayer PATH [PATH ...]      # rewrite .py, .ipynb and .md files in place (folders recursively)
    python -m tools.relayer --check PATH ...     # exit 1 and list the files that still use old names

The moves are data: one block per owner (``MOVES_CORE``, ``MOVES_MESSAGING``), merged into ``MOVES``. A key is

- ``"course_lib.old.module"``: the module (and every module under it) now lives at the value's module path;
- ``"course_lib.old.module:Name"``: one name left that module; the value is ``"course_lib.new.module"`` (same
  name) or ``"course_lib.new.module:NewName"`` (renamed: the file's uses of the name follow).

Only what names a module changes: ``from``-imports (split when their names now live in different modules),
``import`` statements, dotted references (``mock.patch("course_lib.doctor.x")``) and ``course_lib/…`` paths; in a
notebook only the cells' sources, written back in the JSON layout ``tools.notebooks`` uses.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

# ---- owner: the core re-layering (shop / labs / ops / sql) -------------------------------------------------------
MOVES_CORE: dict[str, str] = {
    # the sample app leaves the generic packages
    "course_lib.domain.events": "course_lib.shop.events",
    "course_lib.domain.commands": "course_lib.shop.commands",
    "course_lib.domain.order": "course_lib.shop.order",
    "course_lib.domain.services": "course_lib.shop.services",
    "course_lib.domain": "course_lib.shop",
    "course_lib.sagas.shop": "course_lib.shop.saga",
    "course_lib.sagas:ORDER_STEPS": "course_lib.shop.saga",
    "course_lib.sagas:order_saga": "course_lib.shop.saga",
    "course_lib.sagas:order_data": "course_lib.shop.saga",
    "course_lib.projections.shop": "course_lib.shop.projections",
    "course_lib.projections:CustomerTotals": "course_lib.shop.projections",
    "course_lib.projections:DailySales": "course_lib.shop.projections",
    "course_lib.projections:OrderSummaries": "course_lib.shop.projections",
    "course_lib.projections:register_shop_queries": "course_lib.shop.projections",
    "course_lib.projections.shop:dump": "course_lib.projections.projector",
    "course_lib.sagas.choreography:CheckoutRequested": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:ItemsReserved": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:ReservationFailed": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:ItemsReleased": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:ShipmentFailed": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:OrderConfirmed": "course_lib.shop.choreography",
    "course_lib.sagas.choreography:shop_participants": "course_lib.shop.choreography",
    "course_lib.eventstore.testing:SAMPLES": "course_lib.shop.events",
    "course_lib.projections.testing:seed_shop_history": "course_lib.shop.testing",
    "course_lib.projections.testing:HeldAppend": "course_lib.shop.testing",
    "course_lib.capstone.system:PRICES": "course_lib.shop.catalog",
    "course_lib.capstone:PRICES": "course_lib.shop.catalog",
    "course_lib.capstone.system:saga_facts": "course_lib.shop.saga",
    "course_lib.capstone:saga_facts": "course_lib.shop.saga",
    # demo and drill processes the notebooks run
    "course_lib.outbox.dualwrite": "course_lib.labs.dualwrite",
    "course_lib.outbox.chaos": "course_lib.labs.outbox_chaos",
    "course_lib.projections.crashdemo": "course_lib.labs.projector_crash",
    # operations: the command line, the pre-flight check, reset, the services
    "course_lib.cli": "course_lib.ops.cli",
    "course_lib.cli_reset": "course_lib.ops.cli_reset",
    "course_lib.doctor": "course_lib.ops.doctor",
    "course_lib.doctor_checks": "course_lib.ops.doctor_checks",
    "course_lib.reset": "course_lib.ops.reset",
    "course_lib.services": "course_lib.ops.services",
    "course_lib.services.failures": "course_lib.failures",  # connect-failure advice: the brokers' clients use it
    "course_lib.services.kafka_probe": "course_lib.kafka_probe",  # the Kafka wire probe: the Kafka clients use it
    # one SQL helper for every SQLite/PostgreSQL twin
    "course_lib.sqlitedb": "course_lib.sql",
    "course_lib.sqlitedb:connect": "course_lib.sql:connect_sqlite",
    # one vocabulary: SQLite (as in SQLiteEventStore), and no exception named like an event or a kernel error
    "course_lib.outbox:SqliteOutbox": "course_lib.outbox:SQLiteOutbox",
    "course_lib.outbox.outbox:SqliteOutbox": "course_lib.outbox.outbox:SQLiteOutbox",
    "course_lib.outbox:SqliteInbox": "course_lib.outbox:SQLiteInbox",
    "course_lib.outbox.inbox:SqliteInbox": "course_lib.outbox.inbox:SQLiteInbox",
    "course_lib.sagas:SqliteSagaLog": "course_lib.sagas:SQLiteSagaLog",
    "course_lib.sagas.log:SqliteSagaLog": "course_lib.sagas.log:SQLiteSagaLog",
    "course_lib.domain.services:PaymentDeclined": "course_lib.shop.services:CardDeclined",
    "course_lib.shop.services:PaymentDeclined": "course_lib.shop.services:CardDeclined",
    "course_lib.domain.services:ServiceUnavailable": "course_lib.shop.services:ServiceOutage",
    "course_lib.shop.services:ServiceUnavailable": "course_lib.shop.services:ServiceOutage",
}
# ---- end MOVES_CORE ------------------------------------------------------------------------------------------------

# ---- owner: the broker packages (messaging/) ---------------------------------------------------------------------
MOVES_MESSAGING: dict[str, str] = {}
# ---- end MOVES_MESSAGING -------------------------------------------------------------------------------------------

MOVES: dict[str, str] = {**MOVES_CORE, **MOVES_MESSAGING}

SUFFIXES = (".py", ".ipynb", ".md")
EXEMPT = {Path(__file__).resolve(), Path(__file__).resolve().parents[1] / "tests" / "unit" / "test_relayer.py"}
_DOTTED = re.compile(r"(?<![\w.])course_lib(?:\.\w+)+")
_PATH = re.compile(r"(?<![\w/])course_lib(?:/\w+)+(?:\.py)?")


def _split(target: str) -> tuple[str, str | None]:
    module, _, name = target.partition(":")
    return module, name or None


def module_moves() -> dict[str, str]:
    """Whole-module moves, old dotted path -> new dotted path."""
    return {old: new for old, new in MOVES.items() if ":" not in old}


def name_moves() -> dict[tuple[str, str], tuple[str, str]]:
    """Single names that moved or were renamed: (old module, old name) -> (new module, new name)."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for old, new in MOVES.items():
        if ":" in old:
            old_module, old_name = _split(old)
            new_module, new_name = _split(new)
            found[(old_module, old_name or "")] = (new_module, new_name or old_name or "")
    return found


def new_module(module: str) -> str:
    """Where ``module`` lives now (the longest moved prefix wins; unchanged when nothing moved it)."""
    moves = module_moves()
    parts = module.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in moves:
            return ".".join([moves[prefix], *parts[cut:]])
    return module


def new_name(module: str, name: str) -> tuple[str, str]:
    """Where ``module.name`` lives now: (module, name). A moved submodule imported by name counts too."""
    moved = name_moves().get((module, name))
    if moved is not None:
        return moved
    as_module = f"{module}.{name}"
    if new_module(as_module) != as_module:
        relocated = new_module(as_module)
        parent, _, last = relocated.rpartition(".")
        return parent, last
    return new_module(module), name


def _parseable(source: str) -> str:
    """Notebook cells may hold IPython magics and shell escapes: blank them (keeping line numbers) for ``ast``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _format(indent: str, module: str, names: list[str], comment: str) -> str:
    """One line when it fits in 120 characters (the project's ruff line length), else the names packed into
    indented lines in parentheses (``ruff --fix`` re-sorts a .py file's imports afterwards)."""
    single = f"{indent}from {module} import {', '.join(names)}{comment}"
    if len(single) <= 120:
        return single
    rows: list[str] = []
    for name in names:
        if rows and len(rows[-1]) + len(name) + 2 <= 120:
            rows[-1] += f" {name},"
        else:
            rows.append(f"{indent}    {name},")
    return f"{indent}from {module} import ({comment}\n" + "\n".join(rows) + f"\n{indent})"


def _rewrite_imports(source: str) -> tuple[str, dict[str, str], dict[str, tuple[str, dict[str, str]]]]:
    """Rewrite ``from course_lib… import …`` statements. Returns the new source, the renamed names the file must
    follow, and modules imported by name whose attributes were renamed: local name -> (new local, attr renames)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        try:
            tree = ast.parse(_parseable(source))
        except SyntaxError:
            return source, {}, {}
    lines = source.split("\n")
    edits: list[tuple[int, int, str]] = []
    renames: dict[str, str] = {}
    module_attrs: dict[str, tuple[str, dict[str, str]]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not (node.module or "").startswith("course_lib"):
            continue
        module = node.module or ""
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            target_module, target_name = new_name(module, alias.name)
            local = alias.asname or alias.name
            if target_name != alias.name and alias.asname is None:
                renames[alias.name] = target_name
            text = target_name if local == target_name else f"{target_name} as {local}"
            if alias.asname is None and target_name != alias.name:
                text = target_name
            groups.setdefault(target_module, []).append(text)
            attr_renames = {
                old_name: moved_name for (old_module, old_name), (_, moved_name) in name_moves().items()
                if old_module == f"{module}.{alias.name}" and moved_name != old_name
            }
            if attr_renames and alias.asname is None:
                module_attrs[alias.name] = (target_name, attr_renames)
        pure_move = list(groups) == [new_module(module)] and all(
            new_name(module, alias.name)[1] == alias.name for alias in node.names)
        if pure_move:  # only the module's path changed: the dotted-name pass rewrites it in place, layout kept
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        indent = lines[first][: node.col_offset]
        hash_at = lines[first].find("#", node.col_offset) if first != last else -1
        tail = lines[last][node.end_col_offset or 0:] if hash_at < 0 else "  " + lines[first][hash_at:]
        comment = tail if tail.strip().startswith("#") else ""
        statements = [_format(indent, target, names, comment if i == 0 else "")
                      for i, (target, names) in enumerate(groups.items())]
        edits.append((first, last, "\n".join(statements)))
    for first, last, text in sorted(edits, reverse=True):
        lines[first:last + 1] = text.split("\n")
    return "\n".join(lines), renames, module_attrs


def _rewrite_dotted(text: str) -> str:
    def dotted(match: re.Match[str]) -> str:
        name = match.group(0)
        moved = new_module(name)
        if moved != name:
            return moved
        module, _, last = name.rpartition(".")  # course_lib.old.module.Name where only Name moved
        target_module, target_name = name_moves().get((module, last), (module, last))
        return f"{target_module}.{target_name}"

    def path(match: re.Match[str]) -> str:
        found = match.group(0)
        suffix = ".py" if found.endswith(".py") else ""
        dotted_name = found.removesuffix(".py").replace("/", ".")
        return new_module(dotted_name).replace(".", "/") + suffix

    return _PATH.sub(path, _DOTTED.sub(dotted, text))


Renames = tuple[dict[str, str], dict[str, tuple[str, dict[str, str]]]]


def _follow(text: str, renames: Renames) -> str:
    """Uses of renamed names (and renamed attributes of modules imported by name) follow their imports."""
    names, module_attrs = renames
    if not names and not module_attrs:
        return text
    lines, in_import = text.split("\n"), False
    for index, line in enumerate(lines):
        starts_import = bool(re.match(r"\s*(from\s+\S+\s+import|import)\s", line))
        if starts_import or in_import:  # import statements were rewritten already; other names there stay as they are
            in_import = (in_import or line.rstrip().endswith("(")) and ")" not in line
            continue
        for local, (new_local, attrs) in module_attrs.items():
            for old_attr, new_attr in attrs.items():
                pattern = rf"(?<![\w.]){re.escape(local)}\.{re.escape(old_attr)}\b"
                line = re.sub(pattern, f"{new_local}.{new_attr}", line)
        for old, new in names.items():
            line = re.sub(rf"(?<![\w.]){re.escape(old)}\b", new, line)
        lines[index] = line
    return "\n".join(lines)


def rewrite_python(source: str) -> str:
    """The source with every old module path and moved or renamed name replaced."""
    text, names, module_attrs = _rewrite_imports(source)
    return _follow(_rewrite_dotted(text), (names, module_attrs))


def rewrite_notebook(text: str) -> str:
    """The notebook with its cells' sources rewritten; outputs and metadata untouched. A name renamed in one
    cell's import is followed in every code cell (the cells share one namespace)."""
    notebook = json.loads(text)
    cells = notebook.get("cells", [])
    sources = ["".join(cell.get("source", [])) for cell in cells]
    names: dict[str, str] = {}
    module_attrs: dict[str, tuple[str, dict[str, str]]] = {}
    new_sources = []
    for cell, source in zip(cells, sources, strict=True):
        if cell.get("cell_type") != "code":
            new_sources.append(_rewrite_dotted(source))
            continue
        rewritten_cell, cell_names, cell_attrs = _rewrite_imports(source)
        names.update(cell_names)
        module_attrs.update(cell_attrs)
        new_sources.append(_rewrite_dotted(rewritten_cell))
    changed = False
    for cell, source, new in zip(cells, sources, new_sources, strict=True):
        if cell.get("cell_type") == "code":
            new = _follow(new, (names, module_attrs))
        if new != source:
            cell["source"] = new.splitlines(keepends=True)
            changed = True
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n" if changed else text


def rewritten(path: Path) -> str:
    """The file's text as the moves want it."""
    text = path.read_text()
    if path.suffix == ".ipynb":
        return rewrite_notebook(text)
    if path.suffix == ".py":
        return rewrite_python(text)
    return _rewrite_dotted(text)


def rewrite(path: Path) -> bool:
    """Rewrite one file in place; True when it changed."""
    text = path.read_text()
    new = rewritten(path)
    if new != text:
        path.write_text(new)
        return True
    return False


def files(paths: Iterable[Path]) -> list[Path]:
    """Every .py, .ipynb and .md file under ``paths`` (skipping hidden folders, and this file and its test, which
    name the old paths on purpose)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES
                            and not any(part.startswith(".") for part in p.parts))
        elif path.suffix in SUFFIXES:
            found.append(path)
    return [path for path in found if path.resolve() not in EXEMPT]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(arg) for arg in argv if arg != "--check"]
    if not paths:
        print(__doc__)
        return 2
    changed = []
    for path in files(paths):
        if check:
            if rewritten(path) != path.read_text():
                changed.append(path)
        elif rewrite(path):
            changed.append(path)
    for path in changed:
        print(("uses old names: " if check else "rewrote ") + str(path))
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
