"""Generated documents: the README's configuration table and the stack file's JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import regress

from components.fields import Nested, fields_of
from components.settings import StackSettings
from tools import docs


def test_readme_table_is_current() -> None:
    readme = docs.README.read_text()
    assert docs.readme_with_table(readme) == readme, "README is stale: run `make docs`"


def test_schema_file_is_current() -> None:
    assert docs.SCHEMA.read_text() == docs.schema_text(), "schema is stale: run `make docs`"


def test_check_mode_fails_on_a_stale_readme_and_make_docs_mends_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# title\n{docs.CONTENTS_BEGIN}\n{docs.CONTENTS_END}\n{docs.BEGIN}\n| an old row |\n"
        f"{docs.END}\nafter\n"
    )
    schema = tmp_path / "schema" / "pulumi-stack.schema.json"
    monkeypatch.setattr(docs, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(docs, "README", readme)
    monkeypatch.setattr(docs, "SCHEMA", schema)
    assert docs.main(["--check"]) == 1
    assert "README.md is stale: run `make docs`" in capsys.readouterr().err
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    text = readme.read_text()
    assert "| an old row |" not in text and text.endswith("after\n")
    assert json.loads(schema.read_text()) == docs.stack_schema()


def _leaves(cls: type[Any], prefix: str = "") -> list[str]:
    """Every setting's name under `cls`, nested ones as `a.b`."""
    found: list[str] = []
    for f in fields_of(cls):
        kind = f.spec.kind
        found += (
            _leaves(kind.cls, f"{prefix}{f.key}.") if isinstance(kind, Nested) else [prefix + f.key]
        )
    return found


def test_every_setting_has_one_row() -> None:
    lines = docs.config_table().splitlines()[2:]
    rows = [[c.strip().strip("`") for c in re.split(r"(?<!\\)\|", x[1:-1])] for x in lines]
    assert all(len(cells) == 5 for cells in rows)
    keys = {cells[0] for cells in rows} - {""}
    names = [cells[1] for cells in rows if cells[1]]
    assert keys == {"aws:region"} | {f"webstack:{f.key}" for f in fields_of(StackSettings)}
    sections = [f.spec.kind for f in fields_of(StackSettings)]
    expected = [name for kind in sections if isinstance(kind, Nested) for name in _leaves(kind.cls)]
    assert names == expected


def test_rows_show_default_accepted_values_and_meaning() -> None:
    table = docs.config_table()
    assert "| `multiAz` | `false` | `true`, `false` | a standby in a second zone |" in table
    assert "| `backupRetentionDays` | `7` | 1 to 35 | days of automated backups |" in table
    assert "| `engine` | `postgres` | `postgres`, `mysql`, `mariadb` |" in table
    assert "| `managedUpdates.window` | `Sun:03:00` |" in table


def test_schema_names_every_webstack_key_and_refuses_others() -> None:
    config = json.loads(docs.schema_text())["properties"]["config"]
    keys = {k for k in config["properties"] if k.startswith("webstack:")}
    assert keys == {f"webstack:{f.key}" for f in fields_of(StackSettings)}
    assert config["additionalProperties"] is False
    assert config["properties"]["webstack:database"]["properties"]["backupRetentionDays"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "description": "days of automated backups",
    }


def test_the_readme_opens_with_its_contents_linking_every_section() -> None:
    readme = docs.README.read_text()
    listed = readme.split(docs.CONTENTS_BEGIN, 1)[1].split(docs.CONTENTS_END, 1)[0]
    assert "- [Layout](#layout)" in listed
    assert "  - [The database's life](#the-databases-life)" in listed
    assert "- [Checked by the real AWS provider: make verify]" in listed
    assert readme.index(docs.CONTENTS_BEGIN) < readme.index("## Two commands")
    assert docs.anchor("Compute: a single instance, Graviton, Spot") == (
        "compute-a-single-instance-graviton-spot"
    )


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        found += [p for key in ("patternProperties",) for p in node.get(key, {})]
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_every_schema_pattern_is_ecma_262_in_unicode_mode() -> None:
    # What check-jsonschema and ajv compile patterns as: `\'` or `\"` is an invalid escape there.
    patterns = _patterns(json.loads(docs.SCHEMA.read_text()))
    assert len(patterns) > 20
    for pattern in patterns:
        regress.Regex(pattern, "u")


def test_editors_map_the_schema_to_every_stack_file() -> None:
    settings = json.loads((docs.PROJECT_DIR / ".vscode" / "settings.json").read_text())
    assert settings["yaml.schemas"] == {"./schema/pulumi-stack.schema.json": "Pulumi.*.yaml"}
