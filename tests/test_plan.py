"""The offline plan: exit codes, the tree, the counts, the outputs and the JSON file."""

from __future__ import annotations

import json
import os
import shutil
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
    assert "warning: webstack:app.domain and certificateArn are not set" in out


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


def plan_of(project: Path, stack: str) -> subprocess.CompletedProcess[str]:
    """`python -m tools.plan` run as CI runs it, on a project folder of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.plan",
            stack,
            "--project-dir",
            str(project),
            "--out",
            str(project / "build"),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project to break: the program linked, the app copied."""
    for name in ("Pulumi.yaml", "__main__.py", "components"):
        (tmp_path / name).symlink_to(PROJECT / name)
    shutil.copytree(PROJECT / "app", tmp_path / "app")
    return tmp_path


def test_bad_config_exits_2_with_every_problem_and_no_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  webstack:database:\n    instanceClas: db.t4g.micro\n"
        "  webstack:app:\n    minInstances: 3\n    maxInstances: 1\n"
    )
    out = project / "build"
    assert main(["broken", "--project-dir", str(project), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stack 'broken': invalid stack configuration (2 problem(s)):")
    assert "webstack:database.instanceClas: unknown key (did you mean 'instanceClass'?)" in err
    assert "webstack:app.minInstances: 3 is greater than maxInstances (1)" in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[not, a, map]\n", "error: Pulumi.bad.yaml: is a list"),
        ("config:\n  a: 1\n  a: 2\n", "error: Pulumi.bad.yaml: line 3, column 3: found duplicate"),
        ("config: {\n", "error: Pulumi.bad.yaml: line 2, column 1:"),
    ],
)
def test_a_broken_stack_file_exits_2_naming_the_file(
    project: Path, text: str, message: str
) -> None:
    (project / "Pulumi.bad.yaml").write_text(text)
    result = plan_of(project, "bad")
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_a_crash_exits_1_with_its_traceback(project: Path) -> None:
    (project / "__main__.py").unlink()
    (project / "__main__.py").write_text("raise RuntimeError('a bug in the program')\n")
    (project / "Pulumi.ok.yaml").write_text("config:\n  aws:region: us-east-1\n")
    result = plan_of(project, "ok")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "RuntimeError: a bug in the program" in result.stderr


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuch"]) == 2
    assert "Pulumi.nosuch.yaml: no such stack file" in capsys.readouterr().err
