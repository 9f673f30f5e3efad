"""`make diff`: update or replace from the providers' schemas, blocking on protected data; on
real plans a resize updates and renaming prod's database blocks."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pulumi_aws
import pulumi_random
import pytest

from tests.support import run
from tools.engine import stack_file
from tools.review.diff import Change, compare, differences, floor_lines, render_stack
from tools.review.plan import plan_document
from tools.review.replacements import FORCE_NEW, TAGGABLE

PROJECT = Path(__file__).resolve().parents[1]
INSTANCE = "aws:rds/instance:Instance"


def _database_config(stack: str) -> dict[str, Any]:
    path = PROJECT / f"Pulumi.{stack}.yaml"
    found: dict[str, Any] = stack_file.config_of(stack_file.load(path), path.name)
    return dict(found["webstack:database"])


DEV_DATABASE = _database_config("dev")
PROD_DATABASE = _database_config("prod")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@pytest.mark.parametrize("token", sorted(t for t in FORCE_NEW if not t.startswith("pulumi:")))
def test_every_replacing_argument_is_an_input_of_its_pulumi_type(token: str) -> None:
    package, module, name = token.split(":")
    root = pulumi_aws if package == "aws" else pulumi_random
    module_name = module.split("/")[0]
    resource = getattr(root if module_name == "index" else getattr(root, module_name), name)
    inputs = set(inspect.signature(resource._internal_init).parameters)
    for argument in FORCE_NEW[token].arguments:
        assert _snake(argument) in inputs, f"{token}: {argument}"
    assert FORCE_NEW[token].source.startswith("https://github.com/hashicorp/")


def resource(
    name: str, type_: str = INSTANCE, protect: bool = False, **inputs: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "urn": f"urn:pulumi:prod::webstack::{type_}::{name}",
        "protect": protect,
        "inputs": inputs,
    }


def plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"format": 2, "resources": list(resources), "outputs": {}}


def one(base: dict[str, Any], head: dict[str, Any]) -> Change:
    (change,) = compare(plan(base), plan(head))
    return change


def test_an_argument_the_schema_updates_in_place_is_an_update() -> None:
    change = one(
        resource("db", instanceClass="db.t4g.small"), resource("db", instanceClass="db.m7g.large")
    )
    assert (change.op, change.blocking, change.because) == ("update", False, [])
    assert change.values == [("instanceClass", "db.t4g.small", "db.m7g.large")]


def test_a_force_new_argument_replaces_and_cites_the_schema() -> None:
    change = one(resource("db", dbName="app"), resource("db", dbName="orders"))
    assert change.op == "replace" and change.loses_data
    assert change.because == [
        "`dbName` forces a replacement ([schema](https://github.com/hashicorp/"
        "terraform-provider-aws/blob/main/internal/service/rds/instance.go))"
    ]
    assert not change.blocking


@pytest.mark.parametrize(
    ("before", "after", "op"),
    [
        (
            resource("db", protect=True, dbName="a"),
            resource("db", protect=True, dbName="b"),
            "replace",
        ),
        (resource("db", protect=True), None, "delete"),
    ],
)
def test_replacing_or_deleting_protected_data_is_blocking(
    before: dict[str, Any], after: dict[str, Any] | None, op: str
) -> None:
    (change,) = compare(plan(before), plan(*([after] if after else [])))
    assert (change.op, change.blocking) == (op, True)
    text = render_stack("prod", [change])
    assert "— **1 blocking**" in text and "> **Blocking:** `db` would be" in text


def test_ignored_inputs_and_the_replacement_trigger_follow_the_engine() -> None:
    restored = {
        **resource("db", snapshotIdentifier="snap-1"),
        "ignoreChanges": ["snapshotIdentifier"],
    }
    assert compare(plan(resource("db")), plan(restored)) == []
    stash = "pulumi:index:Stash"
    before = {**resource("pin", stash, input="v4.8.1"), "replacementTrigger": "Python 3.12"}
    after = {**resource("pin", stash, input="v4.9.0"), "replacementTrigger": "Python 3.13"}
    assert one(before, after).because == ["its replacement trigger changes"]
    same_branch = {**after, "replacementTrigger": "Python 3.12"}
    assert one(before, same_branch).op == "update"


def test_a_security_group_rule_that_changes_its_kind_of_peer_is_replaced() -> None:
    rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    from_group = resource("r", rule, referencedSecurityGroupId="[unknown: app-sg.id]")
    from_range = resource("r", rule, cidrIpv4="10.0.0.0/16")
    assert one(from_group, from_range).op == "replace"
    assert one(from_range, resource("r", rule, cidrIpv4="10.1.0.0/16")).op == "update"


def test_a_replacement_reaches_what_takes_its_ids() -> None:
    group_type = "aws:ec2/securityGroup:SecurityGroup"
    rule_type = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    base = plan(
        resource("sg", group_type, description="old"),
        resource("rule", rule_type, securityGroupId="[unknown: sg.id]", fromPort=5432),
        resource("db", vpcSecurityGroupIds=["[unknown: sg.id]"]),
    )
    head = plan(
        resource("sg", group_type, description="new"),
        resource("rule", rule_type, securityGroupId="[unknown: sg.id]", fromPort=5432),
        resource("db", vpcSecurityGroupIds=["[unknown: sg.id]"]),
    )
    ops = {c.name: c.op for c in compare(base, head)}
    # The rule's group forces a new rule; the instance moves to the new group in place.
    assert ops == {"sg": "replace", "rule": "replace", "db": "update"}


def test_settings_lists_compare_by_option_not_by_position() -> None:
    def option(name: str, value: str) -> dict[str, str]:
        return {"namespace": "aws:autoscaling:asg", "name": name, "value": value}

    before = [option("MaxSize", "6"), option("MinSize", "2")]
    after = [option("MaxSize", "8"), option("MinSize", "2"), option("Cooldown", "360")]
    assert list(differences(before, after, "settings")) == [
        ("settings[aws:autoscaling:asg:Cooldown]", None, option("Cooldown", "360")),
        ("settings[aws:autoscaling:asg:MaxSize].value", "6", "8"),
    ]


def test_a_base_plan_of_format_1_is_read_leniently() -> None:
    # Before format 2 a plan held mock values where values are unknown, and JSON as strings.
    policy = {"Statement": [{"Resource": "[unknown: bucket.arn]"}]}
    old = resource(
        "p",
        "aws:iam/rolePolicy:RolePolicy",
        role="role-1a2b3c4d",
        policy=json.dumps({"Statement": [{"Resource": "arn:aws:s3:::bucket-1a2b3c4d"}]}),
    )
    new = resource("p", "aws:iam/rolePolicy:RolePolicy", role="[unknown: role.id]", policy=policy)
    assert compare({"resources": [old], "outputs": {}}, plan(new)) == []
    renamed = resource(
        "p",
        "aws:iam/rolePolicy:RolePolicy",
        role="[unknown: role.id]",
        policy=policy,
        namePrefix="x",
    )
    assert one(new, renamed).op == "replace"


def test_types_not_in_the_table_say_they_were_not_assessed() -> None:
    change = one(resource("x", "aws:foo/bar:Bar", a=1), resource("x", "aws:foo/bar:Bar", a=2))
    assert (change.op, change.assessed) == ("update", False)
    assert "replacement not assessed" in render_stack("dev", [change])


# Real plans, in-process (`.ci/run` also runs `tools.diff` itself on a git repository).


def test_resizing_the_database_is_an_update_in_place() -> None:
    base = plan_document(run("dev"))
    resized = {**DEV_DATABASE, "instanceClass": "db.t4g.small"}
    head = plan_document(run("dev", {"webstack:database": resized}))
    (change,) = compare(base, head)
    assert (change.name, change.op, change.blocking) == ("database-instance", "update", False)
    assert change.values == [("instanceClass", "db.t4g.micro", "db.t4g.small")]


def test_renaming_the_prod_database_is_a_blocking_replacement() -> None:
    base = plan_document(run("prod"))
    head = plan_document(run("prod", {"webstack:database": {**PROD_DATABASE, "dbName": "orders"}}))
    changes = {c.name: c for c in compare(base, head)}
    instance = changes["database-instance"]
    assert (instance.op, instance.blocking) == ("replace", True)
    assert instance.values == [("dbName", "app", "orders")]
    # What takes the new instance's ARN follows it: the backup copy in the other region.
    assert changes["database-backup-replication"].op == "replace"
    assert changes["app-environment"].op == "update"
    text = render_stack("prod", list(changes.values()))
    assert "**1 blocking**" in text
    assert (
        "| +- **blocking** | `database-instance` | `aws:rds:Instance` | replace | `dbName` forces "
        "a replacement"
    ) in text


def test_new_tags_update_every_taggable_resource_listed_folded_under_one_line() -> None:
    base = plan_document(run("dev"))
    head = plan_document(run("dev", {"webstack:tags": {"environment": "dev", "team": "web"}}))
    changes = compare(base, head)
    retagged = [c for c in changes if c.retagged]
    # The provider's own row, and each resource whose tags_all takes its default tags.
    assert [(c.name, c.op) for c in changes if not c.retagged] == [("aws", "update")]
    assert len(retagged) == 34
    assert {c.type for c in retagged} <= TAGGABLE and all(c.op == "update" for c in retagged)
    assert "aws:ec2/vpc:Vpc" in {c.type for c in retagged}
    assert "aws:iam/rolePolicy:RolePolicy" not in {c.type for c in retagged}  # no tags
    text = render_stack("dev", changes)
    assert "34 resources update their tags in place" in text
    assert "<details><summary>34 retagged resources</summary>" in text
    assert "- `network-vpc` (`aws:ec2:Vpc`)" in text
    assert "| `network-vpc` |" not in text  # folded, not a table row each


def test_moving_the_backup_copy_to_another_region_replaces_it() -> None:
    base = plan_document(run("prod"))
    moved = {**PROD_DATABASE, "backupReplicaRegion": "eu-west-1"}
    changes = {
        c.name: c for c in compare(base, plan_document(run("prod", {"webstack:database": moved})))
    }
    # Pulumi's engine replaces a resource whose provider changes; Terraform would not know.
    replication = changes["database-backup-replication"]
    assert replication.op == "replace"
    assert "its provider changes" in " ".join(replication.because)
    moved_from = {path: (before, after) for path, before, after in replication.values}
    assert moved_from["(provider)"][1].endswith("pulumi:providers:aws::aws-eu-west-1")
    assert changes["database-replica-key"].op == "replace"
    assert changes["aws-eu-west-1"].op == "create" and changes["aws-us-west-2"].op == "delete"


def test_removing_a_restore_from_the_stack_file_changes_nothing() -> None:
    restored = {**DEV_DATABASE, "allocatedStorage": 50}
    for restore in (
        {"snapshot": "webstack-prod-db-final-0a1b2c3d"},
        {"sourceInstance": "webstack-prod-db", "time": "2026-11-20T10:00:00Z"},
    ):
        base = plan_document(run("dev", {"webstack:database": {**restored, "restore": restore}}))
        head = plan_document(run("dev", {"webstack:database": restored}))
        assert compare(base, head) == []


def test_a_new_instance_type_says_the_instances_are_replaced_and_the_floor_moves() -> None:
    dev_app = stack_file.config_of(stack_file.load(PROJECT / "Pulumi.dev.yaml"), "Pulumi.dev.yaml")[
        "webstack:app"
    ]
    base = plan_document(run("dev"))
    head = plan_document(run("dev", {"webstack:app": {**dev_app, "instanceTypes": ["t3.micro"]}}))
    (change,) = compare(base, head)
    assert change.op == "update"
    text = render_stack("dev", [change])
    assert "in place; Beanstalk replaces its instances" in text
    assert "(aws:ec2:instances:InstanceTypes)" in text
    assert "the instances move from arm64 to x86_64" in text
    # The floor before and after: t3.micro costs more than t4g.micro.
    assert base["floor"]["total"] == 24.16 and head["floor"]["total"] > base["floor"]["total"]
    line = floor_lines(base, head)[1]
    assert line == f"Monthly list-price floor: $24.16 → ${head['floor']['total']:,.2f} (+$1.46)"
    assert floor_lines({**base, "floor": None}, head)[1].endswith("(not known at BASE)")
