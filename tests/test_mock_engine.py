"""The mock engine: stack config as Pulumi would hand it over, realistic invokes, isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from tools.engine.fake_aws import AwsError, answer_invoke
from tools.engine.mock_engine import (
    SECRET_PLACEHOLDER,
    Secret,
    run_component,
    run_stack,
    stack_config,
)
from tools.engine.stack_file import StackFileError, load

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
    with pytest.raises(StackFileError, match=r"Pulumi\.qa\.yaml: no such stack file"):
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
    assert env.inputs["solutionStackName"] == "64bit Amazon Linux 2023 v4.8.1 running Python 3.12"
    params = run.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "postgres17"


def test_solution_stack_lookup_filters_like_the_provider() -> None:
    token = "aws:elasticbeanstalk/getSolutionStack:getSolutionStack"
    found = answer_invoke(token, {"nameRegex": "running Python 3.1[0-9]$"}, "us-east-1")
    assert found["name"] == "64bit Amazon Linux 2023 v4.8.1 running Python 3.13"
    found = answer_invoke(token, {"nameRegex": "(?i)PYTHON 3.12$"}, "us-east-1")
    assert found["name"] == "64bit Amazon Linux 2023 v4.8.1 running Python 3.12"
    with pytest.raises(AwsError, match="Your query returned no results"):
        answer_invoke(token, {"nameRegex": "running Ruby"}, "us-east-1")
    with pytest.raises(AwsError, match="error parsing regexp"):
        answer_invoke(token, {"nameRegex": "(?<=x)y"}, "us-east-1")


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


# Stack files as Pulumi reads them (YAML 1.2), or refused with the file's name.


def stack_file(tmp_path: Path, text: str, name: str = "Pulumi.x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "Pulumi.x.yaml: is a list; expected a YAML map of settings"),
        ("just words\n", "Pulumi.x.yaml: is a string; expected a YAML map of settings"),
        ("config: [1, 2]\n", "Pulumi.x.yaml: config: is a list; expected a map of keys"),
        ("config:\n  a: b: c\n", "Pulumi.x.yaml: line 2, column 7: mapping values are not allowed"),
        (
            "config:\n  aws:region: us-east-1\n  aws:region: eu-west-1\n",
            'Pulumi.x.yaml: line 3, column 3: found duplicate key "aws:region"',
        ),
        ("config: !!python/object:os.system x\n", "Pulumi.x.yaml: line 1, column 9: could not"),
        ("config:\n  1: x\n", "Pulumi.x.yaml: config key 1 is not a string"),
        ("config:\n  a: .inf\n", "a: inf is not a number Pulumi can pass on"),
    ],
)
def test_a_malformed_stack_file_is_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n")
    stack_file(tmp_path, text)
    with pytest.raises(StackFileError) as caught:
        stack_config("x", project_dir=tmp_path)
    assert str(caught.value).startswith(message)


def test_stack_files_are_read_as_yaml_1_2_like_pulumi(tmp_path: Path) -> None:
    document = load(
        stack_file(tmp_path, "config:\n  a: yes\n  b: on\n  c: 1:30\n  d: 2026-11-20\n  e: no\n")
    )
    assert document["config"] == {"a": "yes", "b": "on", "c": "1:30", "d": "2026-11-20", "e": "no"}


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  a: " + "[" * 5000 + "]" * 5000 + "\n",
        "config:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(200)) + "  " * 201 + "x\n",
        # nine levels of nine aliases: a "billion laughs" of 387 million strings
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
            for i in range(8)
        ),
    ],
    ids=["deep-flow", "deep-block", "alias-bomb"],
)
def test_hostile_nesting_is_refused_quickly_without_recursion_errors(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(StackFileError, match=r"Pulumi\.x\.yaml: (nested more than|expands to)"):
        load(stack_file(tmp_path, text))


def test_numbers_reach_the_program_as_pulumi_encodes_them(tiny_project: Path) -> None:
    overrides = {"tiny:n": {"big": 12345678, "whole": 8.0, "half": 1.5, "flag": True}}
    config, _ = stack_config("dev", overrides, tiny_project)
    assert json.loads(config["tiny:n"]) == {"big": 12345678, "whole": 8, "half": 1.5, "flag": True}
    assert '"whole": 8,' in config["tiny:n"]


def test_a_nested_secret_marks_its_key_and_its_own_path(tiny_project: Path) -> None:
    (tiny_project / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  tiny:app:\n    env:\n      - plain\n"
        "      - secure: AAABAKJ0ZXN0\n    token:\n      secure: AAABAKJ0ZXN0\n"
    )
    config, secret = stack_config("dev", None, tiny_project)
    assert secret == ["tiny:app", "tiny:app.env[1]", "tiny:app.token"]
    assert json.loads(config["tiny:app"]) == {
        "env": ["plain", SECRET_PLACEHOLDER],
        "token": SECRET_PLACEHOLDER,
    }
