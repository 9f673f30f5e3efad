"""The mock engine: stack config as Pulumi would hand it over, realistic invokes, isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from tools.fake_aws import answer_invoke
from tools.mock_engine import SECRET_PLACEHOLDER, Secret, run_component, run_stack, stack_config

TINY_PROGRAM = """
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
aws.s3.Bucket("only-" + pulumi.get_stack())
aws.ssm.Parameter("token", type="SecureString", value=config.require_secret("password"))
pulumi.export("only_" + pulumi.get_stack(), config.require("marker"))
pulumi.export("password", config.require_secret("password"))
"""


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tiny\nruntime: python\nconfig:\n  tiny:marker:\n    default: from-project\n"
    )
    for stack in ("dev", "prod"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(
            "config:\n  aws:region: eu-west-1\n"
            f"  tiny:marker: {stack}-marker\n"
            "  tiny:password:\n    secure: AAABAKJ0ZXN0\n"
        )
    (tmp_path / "__main__.py").write_text(TINY_PROGRAM)
    return tmp_path


def test_stack_config_reads_both_files_marks_secrets_and_applies_overrides(
    tiny_project: Path,
) -> None:
    config, secret_keys = stack_config("dev", {"tiny:extra": {"a": [1, True]}}, tiny_project)
    assert config["tiny:marker"] == "dev-marker"
    assert config["tiny:password"] == SECRET_PLACEHOLDER
    assert secret_keys == ["tiny:password"]
    assert json.loads(config["tiny:extra"]) == {"a": [1, True]}
    removed, _ = stack_config("dev", {"tiny:marker": None}, tiny_project)
    assert "tiny:marker" not in removed


def test_project_defaults_apply_when_the_stack_sets_nothing(tiny_project: Path) -> None:
    config, _ = stack_config("dev", {"tiny:marker": None}, tiny_project)
    assert "tiny:marker" not in config
    (tiny_project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    config, _ = stack_config("dev", None, tiny_project)
    assert config["tiny:marker"] == "from-project"


def test_two_runs_in_one_process_leak_nothing(tiny_project: Path) -> None:
    dev = run_stack("dev", project_dir=tiny_project)
    prod = run_stack("prod", project_dir=tiny_project)
    assert set(dev.outputs) == {"only_dev", "password"}
    assert set(prod.outputs) == {"only_prod", "password"}
    assert [r.name for r in prod.resources if r.type == "aws:s3/bucket:Bucket"] == ["only-prod"]
    assert prod.outputs["only_prod"] == "prod-marker"


def test_secret_config_stays_secret_in_outputs(tiny_project: Path) -> None:
    run = run_stack("dev", project_dir=tiny_project)
    assert run.outputs["password"] == SECRET_PLACEHOLDER
    assert run.secret_outputs == {"password"}


def test_missing_stack_file_is_a_clear_error(tiny_project: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Pulumi\.qa\.yaml"):
        run_stack("qa", project_dir=tiny_project)


def test_invokes_answer_like_aws() -> None:
    run = run_stack("dev")
    tokens = {token for token, _ in run.invokes}
    assert {
        "aws:index/getAvailabilityZones:getAvailabilityZones",
        "aws:rds/getEngineVersion:getEngineVersion",
        "aws:elasticbeanstalk/getSolutionStack:getSolutionStack",
    } <= tokens
    env = run.one("aws:elasticbeanstalk/environment:Environment")
    # The newest Amazon Linux 2023 Python 3.12 stack, picked by the program's regex.
    assert env.inputs["solutionStackName"] == "64bit Amazon Linux 2023 v4.7.2 running Python 3.12"
    params = run.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "postgres17"


def test_solution_stack_lookup_filters_like_the_provider() -> None:
    token = "aws:elasticbeanstalk/getSolutionStack:getSolutionStack"
    found = answer_invoke(token, {"nameRegex": "running Python 3.1[0-9]$"}, "us-east-1")
    assert found["name"] == "64bit Amazon Linux 2023 v4.7.2 running Python 3.13"
    # Tested on the answer itself: a failing invoke inside a full run makes Pulumi format
    # tracebacks on several threads, which trips a CPython 3.11 AST bug (gh-106905).
    with pytest.raises(ValueError, match="Your query returned no results"):
        answer_invoke(token, {"nameRegex": "running Ruby"}, "us-east-1")


def test_unknown_invokes_are_refused_so_new_ones_get_an_answer() -> None:
    with pytest.raises(NotImplementedError, match="aws:kms/getKey:getKey"):
        answer_invoke("aws:kms/getKey:getKey", {}, "us-east-1")


def test_registrations_record_parent_dependencies_and_flags() -> None:
    run = run_stack("prod")
    bucket = run.one("aws:s3/bucket:Bucket", "storage-bucket")
    assert run.by_urn(bucket.parent).type == "webstack:storage:Storage"
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    policy = run.one("aws:s3/bucketPolicy:BucketPolicy", "storage-bucket-policy")
    assert bucket.urn in policy.property_dependencies["bucket"]
    assert bucket.id and bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.id}"


def test_secret_inputs_are_marked(tiny_project: Path) -> None:
    run = run_stack("dev", project_dir=tiny_project)
    parameter = run.one("aws:ssm/parameter:Parameter")
    assert parameter.inputs["value"] == Secret(SECRET_PLACEHOLDER)
    assert parameter.plain_inputs["value"] == SECRET_PLACEHOLDER


def test_a_component_runs_alone_in_an_empty_stack() -> None:
    def build() -> None:
        group = pulumi.ComponentResource("test:index:Group", "group")
        aws.s3.Bucket("group-bucket", opts=pulumi.ResourceOptions(parent=group))
        pulumi.export("region", pulumi.Config("aws").require("region"))

    run = run_component(build, {"aws:region": "eu-west-1"})
    group = run.one("test:index:Group")
    bucket = run.one("aws:s3/bucket:Bucket")
    assert [r.name for r in run.resources] == ["group", "group-bucket"]
    assert bucket.parent == group.urn
    assert bucket.outputs["region"] == "eu-west-1"
    assert run.outputs == {"region": "eu-west-1"}
