"""Validate the YAML files that only Docker or GitHub run against their JSON schemas (in ``tools/schemas/``).

    python -m tools.schema_check            # docker-compose.yml, .devcontainer/docker-compose.yml, workflows
    python -m tools.schema_check FILE ...   # the schema is chosen by the file's place

Exit 1 and one line per problem (file, where, what) when something does not validate.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "tools" / "schemas"
COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / ".devcontainer" / "docker-compose.yml"]


class Yaml12Loader(yaml.SafeLoader):
    """YAML as GitHub and Compose read it: only true/false are booleans (PyYAML's YAML 1.1 turns ``on:`` into True)."""


Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                       [_first])


def load_yaml(path: Path) -> Any:
    """A YAML file read with YAML 1.2 booleans."""
    return yaml.load(path.read_text(), Loader=Yaml12Loader)  # a SafeLoader subclass: no arbitrary objects


@cache
def _validator(schema_file: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_for(path: Path) -> str:
    """Which schema file a YAML file is checked against, by where it lives."""
    return "github-workflow.json" if path.parent.name == "workflows" else "compose-spec.json"


def problems(document: Any, schema_file: str, name: str) -> list[str]:
    """Every schema violation in ``document``, as "name: at where: what"."""
    errors = sorted(_validator(schema_file).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{name}: at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


def check_file(path: Path) -> list[str]:
    """Load one YAML file and validate it against its schema."""
    return problems(load_yaml(path), schema_for(path), str(path.relative_to(ROOT)))


def default_files() -> list[Path]:
    """The compose files and every GitHub workflow in the repository."""
    return [p for p in COMPOSE_FILES if p.exists()] + sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or default_files()
    found = [problem for path in paths for problem in check_file(path)]
    print("\n".join(found) or f"{len(paths)} files match their schemas")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
