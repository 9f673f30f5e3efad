"""The offline plan: exit codes, the tree, the counts, the outputs and the JSON file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.engine.mock_engine import Secret
from tools.review.plan import main
from tools.review.readable import REDACTED, plain

PROJECT = Path(__file__).resolve().parents[1]


def test_good_stack_prints_the_tree_counts_and_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Previewing stack 'dev' of project 'webstack'" in out
    assert " + pulumi:pulumi:Stack" in out
    assert "├─ webstack:network:Network" in out
    assert "├─ aws:ec2:Vpc" in out and "cidrBlock=10.0.0.0/16" in out
    assert "    1  aws:rds:Instance" in out
    assert "    appUrl: http://[unknown: app-environment.cname]" in out
    assert "warning: webstack:app.environmentType is SingleInstance without instanceHttps" in out


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Both stacks' printed plans (the JSON files land in a folder of their own)."""
    out = tmp_path_factory.mktemp("plans")
    texts: dict[str, str] = {}
    for stack in ("dev", "prod"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            main([stack, "--out", str(out)])
        texts[stack] = buffer.getvalue()
        texts[f"{stack}.json"] = (out / f"plan-{stack}.json").read_text()
    return texts


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_plan_fits_120_columns(printed: dict[str, str], stack: str) -> None:
    lines = printed[stack].splitlines()
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)


MOCK_LOOKING = re.compile(
    r"\b(sg|subnet|vpc|rtb|igw|nat|eipalloc|vpce)-[0-9a-f]{8,}|[a-z]{2}-[a-z]+-[0-9]\.rds\.amazonaws\.com"
)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deployment_time_values_are_unknown_not_mock_values(
    printed: dict[str, str], stack: str
) -> None:
    for text in (printed[stack], printed[f"{stack}.json"]):
        assert not MOCK_LOOKING.findall(text)
    plan = json.loads(printed[f"{stack}.json"])
    by_name = {r["name"]: r for r in plan["resources"]}
    rule = by_name["database-from-app-instance-sg"]["inputs"]
    assert rule["referencedSecurityGroupId"] == "[unknown: app-instance-sg.id]"
    instance = by_name["database-instance"]["inputs"]
    assert instance["vpcSecurityGroupIds"] == ["[unknown: database-sg.id]"]
    # What the program states itself stays known; what a resource gets at creation does not.
    assert instance["identifier"] == f"webstack-{stack}-db"
    assert plan["outputs"]["dbName"] == "app"
    assert plan["outputs"]["dbAddress"] == "[unknown: database-instance.address]"
    assert plan["outputs"]["bucketName"] == "[unknown: storage-bucket.id]"
    assert "tcp 5432 from [unknown: app-instance-sg.id]" in printed[stack]


def test_nested_documents_are_data_with_unknowns_inside(printed: dict[str, str]) -> None:
    plan = json.loads(printed["prod.json"])
    by_name = {r["name"]: r for r in plan["resources"]}
    policy = by_name["storage-bucket-policy"]["inputs"]["policy"]
    assert policy["Statement"][0]["Resource"] == [
        "[unknown: storage-bucket.arn]",
        "[unknown: storage-bucket.arn]/*",
    ]
    trust = by_name["app-instance-role"]["inputs"]["assumeRolePolicy"]
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert by_name["aws"]["inputs"]["defaultTags"]["tags"]["stack"] == "prod"
    assert plan["format"] == 2


def test_the_tree_shows_what_a_reviewer_checks(printed: dict[str, str]) -> None:
    prod = printed["prod"]
    for item in (
        "storageEncrypted=true",
        "publiclyAccessible=false",
        "deletionProtection=true",
        "backupRetentionPeriod=30",
        "instanceTypes=t4g.small  minSize=2  maxSize=6",
        "variables=AWS_REGION,BUCKET_NAME,DB_ENGINE,DB_HOST,DB_NAME,DB_PORT,DB_SECRET_ARN",
        "bucketPrefix=webstack-prod-storage-  forceDestroy=false  [protect]",
        "tcp 443 from 0.0.0.0/0",
        "all traffic to 0.0.0.0/0",
        "retentionPeriod=30  provider=aws-us-west-2",
        "actions:  secretsmanager:GetSecretValue  secretsmanager:DescribeSecret",
    ):
        assert item in prod, item


def test_plan_json_lists_resources_dependencies_and_outputs(printed: dict[str, str]) -> None:
    plan = json.loads(printed["prod.json"])
    assert plan["stack"] == "prod"
    by_name = {r["name"]: r for r in plan["resources"]}
    instance = by_name["database-instance"]
    assert instance["type"] == "aws:rds/instance:Instance"
    assert (instance["protect"], instance["deleteBeforeReplace"]) == (True, False)
    assert instance["inputs"]["multiAz"] is True
    assert instance["parent"].endswith("webstack:database:Database::database")
    assert any("SubnetGroup" in urn for urn in instance["dependencies"])
    assert by_name["app-platform"]["inputs"]["input"].startswith("64bit Amazon Linux 2023")
    assert set(plan["outputs"]) >= {"vpcId", "bucketName", "dbSecretArn", "appUrl"}


def test_secrets_are_redacted_and_numbers_kept_whole() -> None:
    assert plain({"a": Secret("pw"), "b": [1.0, 2.5], "c": True}) == {
        "a": REDACTED,
        "b": [1, 2.5],
        "c": True,
    }
    assert plain({"a": Secret("pw"), "doc": '{"n": 1.0}'}) == {"a": REDACTED, "doc": {"n": 1}}
    # The policy rules get documents as strings, as CrossGuard hands them over.
    assert plain({"doc": '{"n": 1.0}'}, documents=False) == {"doc": '{"n": 1.0}'}


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


def test_prod_with_a_teams_own_hosted_zone_plans_and_says_what_it_could_not_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = (PROJECT / "Pulumi.prod.yaml").read_text()
    assert "Z0123456789EXAMPLE" in prod
    (project / "Pulumi.team.yaml").write_text(
        prod.replace("Z0123456789EXAMPLE", "Z04567891ABCDEFGHIJKL")
    )
    out = project / "build"
    assert main(["team", "--project-dir", str(project), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Checked by `pulumi preview`, not offline (not in offline-account.yaml):" in printed
    assert "  - hosted zone Z04567891ABCDEFGHIJKL" in printed
    # Recorded in the account file, the zone is checked offline and nothing is left unchecked.
    (project / "offline-account.yaml").write_text(
        "hostedZones:\n  Z04567891ABCDEFGHIJKL: example.com\n"
    )
    assert main(["team", "--project-dir", str(project), "--out", str(out)]) == 0
    assert "not offline" not in capsys.readouterr().out


def test_the_plan_says_which_policy_rules_ran_and_how_to_run_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prod", "--out", str(tmp_path)]) == 0
    base = capsys.readouterr().out
    assert "Policy rules: the base set (the production-only rules were not run: add" in base
    assert "POLICY_CONFIG=policy/production.json" in base
    production = PROJECT / "policy" / "production.json"
    assert main(["prod", "--out", str(tmp_path), "--policy-config", str(production)]) == 0
    assert f"Policy rules: the base set and {production}" in capsys.readouterr().out


def test_a_missing_stack_lists_the_stacks_that_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stagin"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: Pulumi.stagin.yaml: no such stack file in")
    assert error.rstrip().endswith("the stacks here: dev, prod")
