"""The offline plan: exit codes, the tree, the counts, the outputs and the JSON file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.mock_engine import Secret
from tools.plan import REDACTED, main, redact

PROJECT = Path(__file__).resolve().parents[1]


def test_good_stack_prints_the_tree_counts_and_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Previewing stack 'dev' of project 'webstack'" in out
    assert " +   pulumi:pulumi:Stack" in out
    assert "├─ webstack:network:Network" in out
    assert "aws:ec2/vpc:Vpc" in out and "cidrBlock=10.0.0.0/16" in out
    assert "    1  aws:rds/instance:Instance" in out
    assert '    appUrl: "http://webstack-dev.us-east-1.elasticbeanstalk.com"' in out
    assert "warning: webstack:app.certificateArn is not set" in out


def test_plan_json_lists_resources_dependencies_and_outputs(tmp_path: Path) -> None:
    assert main(["prod", "--out", str(tmp_path)]) == 0
    plan = json.loads((tmp_path / "plan-prod.json").read_text())
    assert plan["stack"] == "prod"
    by_name = {r["name"]: r for r in plan["resources"]}
    instance = by_name["database-instance"]
    assert instance["type"] == "aws:rds/instance:Instance"
    assert instance["protect"] is True
    assert instance["inputs"]["multiAz"] is True
    assert instance["parent"].endswith("webstack:database:Database::database")
    assert any("SubnetGroup" in urn for urn in instance["dependencies"])
    assert set(plan["outputs"]) >= {"vpcId", "bucketName", "dbSecretArn", "appUrl"}


def test_secrets_are_redacted_and_numbers_kept_whole() -> None:
    assert redact({"a": Secret("pw"), "b": [1.0, 2.5], "c": True}) == {
        "a": REDACTED,
        "b": [1, 2.5],
        "c": True,
    }


def test_bad_config_exits_non_zero_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py", "app"):
        (tmp_path / name).symlink_to(PROJECT / name)
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  webstack:database:\n    instanceClas: db.t4g.micro\n"
        "  webstack:app:\n    minInstances: 3\n    maxInstances: 1\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.plan",
            "broken",
            "--project-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "build"),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    assert result.returncode == 2
    assert (
        "webstack:database.instanceClas: unknown key (did you mean 'instanceClass'?)"
        in result.stderr
    )
    assert "webstack:app.minInstances: 3 is greater than maxInstances (1)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "build").exists()


def test_unknown_stack_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuch"]) == 2
    assert "Pulumi.nosuch.yaml" in capsys.readouterr().err
