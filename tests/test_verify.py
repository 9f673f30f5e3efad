"""`make verify`: the translation to Terraform JSON, the synthesized state, the reading of the
provider's answers and the comparison with make diff, on a small schema of the provider's own
shape (fast, no Terraform). The checks that need the provider's real schema run where Terraform
and the provider are installed, and fail under CI=true where they are not: never skipped there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import run
from tools.review.diff import compare
from tools.review.plan import plan_document
from tools.review.replacements import FORCE_NEW, TAGGABLE
from tools.verify import __main__ as verify_main
from tools.verify.matrix import CHANGES, VARIANTS, Variant, merged
from tools.verify.names import RESOURCE_TYPES
from tools.verify.report import config_key, locate, section
from tools.verify.schema import ProviderSchema
from tools.verify.second_up import disagreements, explained, operation, provider_operations
from tools.verify.skew import KNOWN_SKEW
from tools.verify.state import Synthesizer, evaluate
from tools.verify.terraform import Diagnostic, Terraform, ToolMissingError, find_mirror
from tools.verify.translate import Member, dump, escape, terraform_name, translate

AWS_SOURCE = "registry.terraform.io/hashicorp/aws"
STACK_URN = "urn:pulumi:dev::webstack::pulumi:pulumi:Stack"
PROVIDER_URN = f"{STACK_URN}$pulumi:providers:aws::aws"
PROVIDER_REF = f"{PROVIDER_URN}::aws-provider-id"


def _attr(type_: Any, *flags: str) -> dict[str, Any]:
    return {"type": type_, **{flag: True for flag in flags}}


SCHEMA = ProviderSchema(
    {
        "provider_schemas": {
            AWS_SOURCE: {
                "provider": {"block": {"attributes": {"region": _attr("string", "optional")}}},
                "resource_schemas": {
                    "aws_vpc": {
                        "version": 1,
                        "block": {
                            "attributes": {
                                "id": _attr("string", "optional", "computed"),
                                "arn": _attr("string", "computed"),
                                "cidr_block": _attr("string", "optional", "computed"),
                                "tags": _attr(["map", "string"], "optional"),
                                "tags_all": _attr(["map", "string"], "optional", "computed"),
                                "main_route_table_id": _attr("string", "computed"),
                            }
                        },
                    },
                    "aws_iam_role": {
                        "version": 0,
                        "block": {
                            "attributes": {
                                "id": _attr("string", "optional", "computed"),
                                "arn": _attr("string", "computed"),
                                "name": _attr("string", "optional", "computed"),
                                "assume_role_policy": _attr("string", "required"),
                            }
                        },
                    },
                    "aws_elastic_beanstalk_environment": {
                        "version": 1,
                        "block": {
                            "attributes": {
                                "id": _attr("string", "optional", "computed"),
                                "name": _attr("string", "required"),
                                "application": _attr("string", "required"),
                                "version_label": _attr("string", "optional", "computed"),
                                "load_balancers": _attr(["list", "string"], "computed"),
                                "cname": _attr("string", "computed"),
                            },
                            "block_types": {
                                "setting": {
                                    "nesting_mode": "set",
                                    "block": {
                                        "attributes": {
                                            "namespace": _attr("string", "required"),
                                            "name": _attr("string", "required"),
                                            "value": _attr("string", "required"),
                                            "resource": _attr("string", "optional"),
                                        }
                                    },
                                }
                            },
                        },
                    },
                    "aws_subnet": {
                        "version": 1,
                        "block": {
                            "attributes": {
                                "id": _attr("string", "optional", "computed"),
                                "vpc_id": _attr("string", "required"),
                                "cidr_block": _attr("string", "optional"),
                            }
                        },
                    },
                },
            }
        }
    }
)


def _resource(type_: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    component = "webstack:network:Network" if name.startswith("network") else "x:y:Z"
    return {
        "type": type_,
        "name": name,
        "urn": f"urn:pulumi:dev::webstack::{component}${type_}::{name}",
        "provider": PROVIDER_REF,
        "protect": False,
        "retainOnDelete": False,
        "replacementTrigger": None,
        "ignoreChanges": [],
        "inputs": inputs,
        **extra,
    }


PROVIDER = {
    **_resource(
        "pulumi:providers:aws",
        "aws",
        {"region": "eu-west-1", "defaultTags": {"tags": {"stack": "dev"}}},
    ),
    "urn": PROVIDER_URN,
    "provider": "",
}
VPC = _resource("aws:ec2/vpc:Vpc", "network-vpc", {"cidrBlock": "10.0.0.0/16"})
SUBNET = _resource(
    "aws:ec2/subnet:Subnet",
    "network-public-a",
    {"vpcId": "[unknown: network-vpc.id]", "cidrBlock": "10.0.0.0/20"},
)
ROLE = _resource(
    "aws:iam/role:Role",
    "app-role",
    {"assumeRolePolicy": {"Statement": [{"Resource": "arn:aws:s3:::b/${aws:username}"}]}},
)
ENVIRONMENT = _resource(
    "aws:elasticbeanstalk/environment:Environment",
    "app-environment",
    {
        "name": "webstack-dev",
        "application": "webstack-dev",
        "version": "v1",
        "settings": [
            {"namespace": "aws:ec2:vpc", "name": "VPCId", "value": "[unknown: network-vpc.id]"},
            {"namespace": "aws:ec2:instances", "name": "InstanceTypes", "value": "t4g.micro"},
        ],
        "platformArn": "arn:aws:elasticbeanstalk:eu-west-1::platform/x",
    },
    ignoreChanges=["version"],
)
STASH = _resource("pulumi:index:Stash", "app-platform", {"input": "Python 3.12"})
PLAN = {"resources": [PROVIDER, VPC, SUBNET, ROLE, ENVIRONMENT, STASH]}
CONFIG = {"webstack:app": {"instanceTypes": ["t4g.micro"]}, "webstack:network": {}}


def _translation() -> Any:
    return translate(SCHEMA, [Member("dev", PLAN, "eu-west-1", CONFIG)])


# Translation -------------------------------------------------------------------------------------


def test_inputs_become_the_providers_names_and_nesting() -> None:
    resources = _translation().document["resource"]
    env = resources["aws_elastic_beanstalk_environment"]["dev__app-environment"]
    # `settings` is Pulumi's plural of the `setting` block; `version` its name for version_label.
    assert env["version_label"] == "v1"
    assert env["setting"][1] == {
        "namespace": "aws:ec2:instances",
        "name": "InstanceTypes",
        "value": "t4g.micro",
    }
    assert env["lifecycle"] == {"ignore_changes": ["version_label"]}
    assert env["provider"] == "aws.dev__aws"
    assert terraform_name(SCHEMA.resource("aws_vpc").block, "cidrBlock", {}) == "cidr_block"


def test_an_unknown_value_is_a_reference_and_a_document_a_string_with_iam_variables_literal() -> (
    None
):
    resources = _translation().document["resource"]
    subnet = resources["aws_subnet"]["dev__network-public-a"]
    assert subnet["vpc_id"] == "${aws_vpc.dev__network-vpc.id}"
    role = resources["aws_iam_role"]["dev__app-role"]
    assert (
        json.loads(role["assume_role_policy"].replace("$${", "${"))
        == ROLE["inputs"]["assumeRolePolicy"]
    )
    assert "$${aws:username}" in role["assume_role_policy"]
    assert escape("%{if}") == "%%{if}"


def test_what_pulumi_auto_names_gets_a_name_and_providers_their_region_and_tags() -> None:
    translation = _translation()
    role = translation.document["resource"]["aws_iam_role"]["dev__app-role"]
    assert role["name"].startswith("app-role-") and len(role["name"]) == len("app-role-") + 7
    aliases = {p.get("alias"): p for p in translation.document["provider"]["aws"]}
    assert aliases["dev__aws"]["region"] == "eu-west-1"
    assert aliases["dev__aws"]["default_tags"] == [{"tags": {"stack": "dev"}}]
    assert aliases["dev__aws"]["skip_credentials_validation"] is True


def test_pulumi_only_resources_are_left_out_and_listed() -> None:
    left = {(o.name, o.type) for o in _translation().left_out}
    assert left == {("aws", "pulumi:providers:aws"), ("app-platform", "pulumi:index:Stash")}


def test_an_input_the_provider_does_not_know_is_skew_never_dropped_silently() -> None:
    skew = _translation().skew
    assert [(s.name, s.path, s.reason) for s in skew] == [("app-environment", "platformArn", None)]
    for (type_, path), reason in KNOWN_SKEW.items():
        assert type_ in RESOURCE_TYPES and path and reason


def test_a_set_indexed_by_a_reference_is_made_a_list() -> None:
    plan = {
        "resources": [
            *PLAN["resources"],
            _resource(
                "aws:ec2/subnet:Subnet",
                "network-private-a",
                {"vpcId": "[unknown: app-environment.settings[0].value]"},
            ),
        ]
    }
    document = translate(SCHEMA, [Member("dev", plan, "eu-west-1")]).document
    subnet = document["resource"]["aws_subnet"]["dev__network-private-a"]
    assert subnet["vpc_id"] == (
        "${tolist(aws_elastic_beanstalk_environment.dev__app-environment.setting)[0].value}"
    )


# Reading the provider's answers ---------------------------------------------------------------


def test_a_diagnostic_names_the_pulumi_resource_its_input_and_the_stack_file_key() -> None:
    translation = _translation()
    text, lines = dump(translation.document)
    number = next(
        i + 1 for i, line in enumerate(text.splitlines()) if '"value": "t4g.micro"' in line
    )
    found = locate(
        Diagnostic("error", "invalid value", "expected a type", None, number),
        translation,
        lines,
        {"dev": CONFIG},
    )
    assert (found.name, found.input, found.key) == (
        "app-environment",
        "settings[1].value",
        "webstack:app.instanceTypes",
    )
    assert "input: settings[1].value" in str(found)
    assert "from: webstack:app.instanceTypes" in str(found)


def test_without_a_matching_value_the_key_is_the_components_section() -> None:
    address = _translation().by_pulumi_name("dev", "network-vpc")
    assert address is not None
    assert config_key({}, address, "cidrBlock") == "webstack:network"
    assert section("app-versions-bucket") == "webstack:app.sourceBundle"
    assert section("alarms-topic") == "webstack:alarms"


# The synthesized state ----------------------------------------------------------------------------


def _created(address: str, type_: str, after: dict[str, Any], unknown: dict[str, Any]) -> Any:
    return {
        "address": address,
        "mode": "managed",
        "type": type_,
        "name": address.split(".")[1],
        "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown},
    }


def test_a_first_up_leaves_well_formed_ids_arns_and_the_referenced_values() -> None:
    translation = _translation()
    plan = {
        "resource_changes": [
            _created(
                "aws_subnet.dev__network-public-a",
                "aws_subnet",
                {"cidr_block": "10.0.0.0/20"},
                {"id": True, "vpc_id": True},
            ),
            _created(
                "aws_vpc.dev__network-vpc",
                "aws_vpc",
                {"cidr_block": "10.0.0.0/16", "tags": None},
                {"id": True, "arn": True, "main_route_table_id": True, "tags_all": True},
            ),
        ]
    }
    state = Synthesizer(translation, SCHEMA).state(plan)
    vpc = state.entries["aws_vpc.dev__network-vpc"].values
    assert vpc["id"].startswith("vpc-")
    assert vpc["arn"] == f"arn:aws:ec2:eu-west-1:{vpc['arn'].split(':')[4]}:vpc/{vpc['id']}"
    # What AWS leaves out is the zero value the provider stores, not null.
    assert vpc["main_route_table_id"] == "" and vpc["tags_all"] == {}
    subnet = state.entries["aws_subnet.dev__network-public-a"].values
    assert subnet["vpc_id"] == vpc["id"]
    assert evaluate("aws_vpc.dev__network-vpc.id", state) == vpc["id"]
    document = state.document()
    assert document["version"] == 4
    vpc_state = next(r for r in document["resources"] if r["type"] == "aws_vpc")
    assert vpc_state["provider"].endswith('hashicorp/aws"].dev__aws')
    assert vpc_state["instances"][0]["schema_version"] == 1
    moved = state.renamed("dev", "db_class")
    assert set(moved) == {"aws_vpc.db_class__network-vpc", "aws_subnet.db_class__network-public-a"}
    assert moved["aws_vpc.db_class__network-vpc"].provider == "aws.db_class__aws"


# The second up against make diff ------------------------------------------------------------------


def _change(actions: list[str], before: Any, after: Any, unknown: Any = None) -> dict[str, Any]:
    return {
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": unknown or {},
        }
    }


def test_an_update_that_changes_nothing_is_no_operation() -> None:
    assert operation(_change(["update"], {"a": 1}, {"a": 1})) is None
    assert operation(_change(["update"], {"a": 1}, {"a": 1}, {"b": True})) == "update"
    assert operation(_change(["update"], {"a": 1}, {"a": 2})) == "update"
    assert operation(_change(["delete", "create"], {}, {})) == "replace"
    assert operation(_change(["create", "delete"], {}, {})) == "replace"
    assert operation(_change(["no-op"], {}, {})) is None


def test_provider_operations_are_read_per_pulumi_resource_and_member() -> None:
    translation = _translation()
    plan = {
        "resource_changes": [
            {
                "address": "aws_vpc.dev__network-vpc",
                "name": "dev__network-vpc",
                "mode": "managed",
                **_change(["delete", "create"], {"a": 1}, {"a": 2}),
            },
            {
                "address": "aws_subnet.dev__gone",
                "name": "dev__gone",
                "mode": "managed",
                **_change(["delete"], {"a": 1}, None),
            },
        ]
    }
    assert provider_operations(translation, plan, "dev") == {
        "network-vpc": "replace",
        "gone": "delete",
    }


def _plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"format": 2, "resources": list(resources), "outputs": {}}


def test_make_diff_and_the_provider_must_agree_on_every_resource() -> None:
    head_vpc = {**VPC, "inputs": {"cidrBlock": "10.1.0.0/16"}}
    # make diff replaces a VPC whose CIDR changes; a provider that only updated it disagrees.
    found, _ = disagreements(_plan(VPC), _plan(head_vpc), {"network-vpc": "update"})
    assert [(d.name, d.diff, d.provider, d.values) for d in found] == [
        ("network-vpc", "replace", "update", ("cidrBlock",))
    ]
    assert "make diff says replace, the provider plans update" in str(found[0])
    assert disagreements(_plan(VPC), _plan(head_vpc), {"network-vpc": "replace"}) == ([], {})
    assert "aws:ec2/vpc:Vpc" in FORCE_NEW


def test_only_pulumi_level_rules_explain_a_disagreement() -> None:
    triggered = {**ENVIRONMENT, "replacementTrigger": "SingleInstance"}
    moved = {**ENVIRONMENT, "replacementTrigger": "LoadBalanced"}
    found, rules = disagreements(_plan(triggered), _plan(moved), {})
    assert found == [] and rules == {"app-environment": "replacement trigger"}
    other_provider = {**VPC, "provider": f"{STACK_URN}$pulumi:providers:aws::aws-us-west-2::id"}
    found, rules = disagreements(_plan(VPC), _plan(other_provider), {})
    assert found == [] and rules == {"network-vpc": "changed provider"}
    protected = {**VPC, "protect": True}
    found, rules = disagreements(_plan(VPC), _plan(protected), {})
    assert found == [] and rules == {"network-vpc": "protect"}
    # A real input change is never explained away.
    head = {**VPC, "inputs": {"cidrBlock": "10.1.0.0/16"}, "protect": True}
    (change,) = compare(_plan(VPC), _plan(head))
    assert explained(change, "none") is None


# The matrix ---------------------------------------------------------------------------------------


def test_a_variant_merges_its_changes_into_the_stack_files_sections() -> None:
    assert merged({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
    }
    overrides = Variant("x", "dev", {"webstack:database": {"engine": "mysql"}}).overrides()
    database = overrides["webstack:database"]
    assert database["engine"] == "mysql" and database["instanceClass"] == "db.t4g.micro"


def test_the_matrix_covers_what_the_issue_names_with_unique_keys() -> None:
    keys = [v.key for v in VARIANTS] + [c.key for c in CHANGES]
    assert len(keys) == len(set(keys))
    assert all(k.replace("_", "").isalnum() for k in keys)
    changed = {key for case in CHANGES for key in case.head.changes}
    assert changed >= {
        "webstack:database",
        "webstack:app",
        "webstack:network",
        "webstack:storage",
        "webstack:tags",
        "webstack:protectData",
        "webstack:alarms",
    }
    assert len(CHANGES) >= 40 and len(VARIANTS) >= 15


def test_every_aws_type_the_shipped_stacks_plan_has_a_terraform_type() -> None:
    types = {
        r["type"]
        for stack in ("dev", "prod")
        for r in plan_document(run(stack))["resources"]
        if r["type"].startswith("aws:")
    }
    assert types - RESOURCE_TYPES.keys() == set()


# Terraform and the provider -----------------------------------------------------------------------


def test_without_terraform_make_verify_says_what_to_install_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match="Terraform is not on PATH"):
        Terraform.find(Path("build/verify"))
    monkeypatch.setenv("CI", "true")
    assert verify_main.main(["dev"]) == 2
    error = capsys.readouterr().err
    assert "developer.hashicorp.com/terraform/install" in error
    assert "WEBSTACK_TF_MIRROR" in error and "cannot be skipped" in error


def test_a_mirror_named_without_the_provider_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WEBSTACK_TF_MIRROR", str(tmp_path))
    assert find_mirror() is None


def _real_schema() -> ProviderSchema:
    """The provider's schema, where Terraform and the provider are here; under CI=true their
    absence fails the test instead of skipping it."""
    try:
        if shutil.which("terraform") is None:
            raise ToolMissingError("Terraform is not on PATH")
        return Terraform.find(Path("build/verify")).schema()
    except ToolMissingError as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the provider is missing: {missing}")
        pytest.skip(f"needs Terraform and the provider: {missing}")


def test_the_type_table_and_the_taggable_types_match_the_providers_schema() -> None:
    schema = _real_schema()
    assert [t for t in RESOURCE_TYPES.values() if not schema.knows(t)] == []
    taggable = {
        pulumi
        for pulumi, tf in RESOURCE_TYPES.items()
        if "tags_all" in schema.resource(tf).block.attributes
    }
    assert taggable == set(TAGGABLE)
