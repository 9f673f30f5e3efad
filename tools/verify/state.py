"""The state a first `pulumi up` would leave, synthesized from the provider's own plan, so a second
`up` can be planned against it offline.

Every value the plan knows is kept as planned. A value known only after apply is, where the
configuration says where it comes from (a reference to another resource), that resource's value;
where the resource makes it itself, a well-formed fake: an id in the form AWS gives that type,
an ARN where an ARN is expected, one element where a computed list is indexed (a database's
master secret, an environment's load balancers, a certificate's validation records). Other
computed values get the zero value of their type, as the provider stores what AWS leaves out:
an empty value is better than a wrong one (a faked SNS `fifo_throughput_scope` would claim a
FIFO topic). Planning again against that state shows what
the provider still changes; its planned values are taken in and the plan repeated until nothing
changes (`converge`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.regions import partition_of
from tools.engine.fake_aws import ACCOUNT_ID
from tools.verify.schema import ProviderSchema
from tools.verify.translate import PLACEHOLDER, SEPARATOR, Translation

AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
BUILTIN_PROVIDER = 'provider["terraform.io/builtin/terraform"]'
REFERENCE = re.compile(r"(?<!\$)\$\{([^}]+)\}")
EXPRESSION = re.compile(
    r"^(?:tolist\((?P<set>[^)]+)\)|(?P<plain>[A-Za-z0-9_.\-]+?))(?P<rest>(?:\[\d+\]|\.[a-z0-9_]+)*)$"
)
STEP = re.compile(r"\[(\d+)\]|\.([a-z0-9_]+)")

# The form of a resource's id, by Terraform type: a prefix for AWS's generated ids, or the
# attribute the id is (`=name`), or `arn` (the id is the ARN).
ID_FORMS: dict[str, str] = {
    "aws_vpc": "vpc-",
    "aws_subnet": "subnet-",
    "aws_security_group": "sg-",
    "aws_default_security_group": "sg-",
    "aws_internet_gateway": "igw-",
    "aws_nat_gateway": "nat-",
    "aws_eip": "eipalloc-",
    "aws_route_table": "rtb-",
    "aws_route_table_association": "rtbassoc-",
    "aws_route": "r-rtb-",
    "aws_vpc_endpoint": "vpce-",
    "aws_flow_log": "fl-",
    "aws_instance": "i-",
    "aws_eip_association": "eipassoc-",
    "aws_vpc_security_group_ingress_rule": "sgr-",
    "aws_vpc_security_group_egress_rule": "sgr-",
    "aws_db_instance": "db-",
    "aws_elastic_beanstalk_environment": "e-",
    "aws_db_subnet_group": "=name",
    "aws_db_parameter_group": "=name",
    "aws_db_option_group": "=name",
    "aws_rds_cluster_parameter_group": "=name",
    "aws_rds_cluster": "=cluster_identifier",
    "aws_rds_cluster_instance": "=identifier",
    "aws_cloudwatch_log_group": "=name",
    "aws_cloudwatch_metric_alarm": "=alarm_name",
    "aws_cloudwatch_dashboard": "=dashboard_name",
    "aws_iam_role": "=name",
    "aws_iam_instance_profile": "=name",
    "aws_iam_role_policy": "=name",
    "aws_iam_role_policy_attachment": "=role",
    "aws_s3_bucket": "=bucket",
    "aws_s3_bucket_versioning": "=bucket",
    "aws_s3_bucket_server_side_encryption_configuration": "=bucket",
    "aws_s3_bucket_public_access_block": "=bucket",
    "aws_s3_bucket_ownership_controls": "=bucket",
    "aws_s3_bucket_policy": "=bucket",
    "aws_s3_bucket_lifecycle_configuration": "=bucket",
    "aws_s3_bucket_logging": "=bucket",
    "aws_s3_bucket_cors_configuration": "=bucket",
    "aws_s3_object": "=key",
    "aws_elastic_beanstalk_application": "=name",
    "aws_elastic_beanstalk_application_version": "=name",
    "aws_secretsmanager_secret_rotation": "=secret_id",
    "aws_route53_record": "=name",
    "aws_sns_topic_policy": "=arn",
    "aws_acm_certificate_validation": "=certificate_arn",
    "aws_wafv2_web_acl_association": "=resource_arn",
    "aws_wafv2_web_acl_logging_configuration": "=resource_arn",
    "aws_sqs_queue_policy": "=queue_url",
    "aws_sqs_queue_redrive_policy": "=queue_url",
    "aws_kms_alias": "=name",
    "aws_sns_topic": "arn",
    "aws_sns_topic_subscription": "arn",
    "aws_acm_certificate": "arn",
    "aws_lb_listener_rule": "arn",
    "aws_iam_policy": "arn",
    "aws_db_instance_automated_backups_replication": "arn",
    "aws_kms_key": "uuid",
    "aws_wafv2_web_acl": "uuid",
    PLACEHOLDER: "uuid",
}
# service and resource part of an ARN, by Terraform type (`{id}`, `{name}`: attributes).
ARN_FORMS: dict[str, tuple[str, str]] = {
    "aws_vpc": ("ec2", "vpc/{id}"),
    "aws_subnet": ("ec2", "subnet/{id}"),
    "aws_security_group": ("ec2", "security-group/{id}"),
    "aws_default_security_group": ("ec2", "security-group/{id}"),
    "aws_internet_gateway": ("ec2", "internet-gateway/{id}"),
    "aws_route_table": ("ec2", "route-table/{id}"),
    "aws_eip": ("ec2", "elastic-ip/{id}"),
    "aws_vpc_endpoint": ("ec2", "vpc-endpoint/{id}"),
    "aws_flow_log": ("ec2", "vpc-flow-log/{id}"),
    "aws_instance": ("ec2", "instance/{id}"),
    "aws_vpc_security_group_ingress_rule": ("ec2", "security-group-rule/{id}"),
    "aws_vpc_security_group_egress_rule": ("ec2", "security-group-rule/{id}"),
    "aws_db_instance": ("rds", "db:{identifier}"),
    "aws_db_subnet_group": ("rds", "subgrp:{name}"),
    "aws_db_parameter_group": ("rds", "pg:{name}"),
    "aws_db_option_group": ("rds", "og:{name}"),
    "aws_rds_cluster": ("rds", "cluster:{cluster_identifier}"),
    "aws_rds_cluster_instance": ("rds", "db:{identifier}"),
    "aws_rds_cluster_parameter_group": ("rds", "cluster-pg:{name}"),
    "aws_db_instance_automated_backups_replication": ("rds", "auto-backup:ab-{hex}"),
    "aws_cloudwatch_log_group": ("logs", "log-group:{name}"),
    "aws_cloudwatch_metric_alarm": ("cloudwatch", "alarm:{alarm_name}"),
    "aws_cloudwatch_dashboard": ("cloudwatch", "dashboard/{dashboard_name}"),
    "aws_iam_role": ("iam", "role/{name}"),
    "aws_iam_instance_profile": ("iam", "instance-profile/{name}"),
    "aws_iam_policy": ("iam", "policy/{name}"),
    "aws_kms_key": ("kms", "key/{id}"),
    "aws_sns_topic": ("sns", "{name}"),
    "aws_sns_topic_subscription": ("sns", "{hex}:{uuid}"),
    "aws_acm_certificate": ("acm", "certificate/{uuid}"),
    "aws_lb_listener_rule": ("elasticloadbalancing", "listener-rule/app/awseb/{hex}/{hex}/{hex}"),
    "aws_wafv2_web_acl": ("wafv2", "regional/webacl/{name}/{id}"),
    "aws_elastic_beanstalk_application": ("elasticbeanstalk", "application/{name}"),
    "aws_elastic_beanstalk_application_version": (
        "elasticbeanstalk",
        "applicationversion/{application}/{name}",
    ),
    "aws_elastic_beanstalk_environment": (
        "elasticbeanstalk",
        "environment/{application}/{name}",
    ),
    "aws_s3_bucket": ("s3", "{bucket}"),
    "aws_s3_object": ("s3", "{bucket}/{key}"),
    "aws_sqs_queue": ("sqs", "{name}"),
}
ZERO: dict[str, Any] = {"string": "", "number": 0, "bool": False, "list": [], "set": [], "map": {}}
GLOBAL_SERVICES = frozenset({"iam", "s3", "route53"})


def _hex(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.md5("/".join(parts).encode()).hexdigest()))


@dataclass
class Fakes:
    """Well-formed stand-ins for what AWS makes, stable for a resource's address."""

    region: str

    def arn(self, tf_type: str, values: Mapping[str, Any], address: str) -> str:
        service, form = ARN_FORMS.get(tf_type, (tf_type.split("_")[1], "{hex}"))
        fields = {k: v for k, v in values.items() if isinstance(v, str)}
        fields.setdefault("id", _hex(address))
        fields.setdefault("name", address.split(SEPARATOR, 1)[-1])
        text = form.format_map(
            _Defaulting({**fields, "hex": _hex(address, length=12), "uuid": _uuid(address)})
        )
        region = "" if service in GLOBAL_SERVICES else self.region
        account = "" if service == "s3" else ACCOUNT_ID
        return f"arn:{partition_of(self.region)}:{service}:{region}:{account}:{text}"

    def id(self, tf_type: str, values: Mapping[str, Any], address: str) -> str | None:
        form = ID_FORMS.get(tf_type)
        if form is None:
            return _hex(address)
        if form == "arn":
            return self.arn(tf_type, values, address)
        if form == "uuid":
            return _uuid(address)
        if form.startswith("="):
            found = values.get(form[1:])
            return found if isinstance(found, str) else None
        return form + _hex(address)

    def computed(self, tf_type: str, name: str, values: Mapping[str, Any], address: str) -> Any:
        """What AWS gives a computed attribute that other resources take, or None."""
        makers: dict[str, Callable[[], Any]] = {
            "address": lambda: (
                f"{values.get('identifier', 'db')}.c{_hex(address, length=10)}."
                f"{self.region}.rds.amazonaws.com"
            ),
            "endpoint": lambda: (
                f"{values.get('identifier', 'db')}.c{_hex(address, length=10)}."
                f"{self.region}.rds.amazonaws.com:{values.get('port', 5432)}"
            ),
            "cname": lambda: f"{values.get('name', 'env')}.{self.region}.elasticbeanstalk.com",
            "endpoint_url": lambda: (
                f"awseb-e-{_hex(address, length=10)}.{self.region}.elb.amazonaws.com"
            ),
            "fqdn": lambda: str(values.get("name", "")).rstrip("."),
            "bucket": lambda: f"{values.get('bucket_prefix', 'bucket-')}{_hex(address, length=20)}",
            "load_balancers": lambda: [
                f"arn:{partition_of(self.region)}:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:"
                f"loadbalancer/app/awseb--AWSEB-{_hex(address, length=12)}/{_hex(address, length=16)}"
            ],
            "master_user_secret": lambda: [
                {
                    "kms_key_id": self.arn("aws_kms_key", {}, address + "/secret-key"),
                    "secret_arn": f"arn:{partition_of(self.region)}:secretsmanager:{self.region}:"
                    f"{ACCOUNT_ID}:secret:rds!db-{_uuid(address)}-{_hex(address, length=6)}",
                    "secret_status": "active",
                }
            ],
            "domain_validation_options": lambda: [
                {
                    "domain_name": values.get("domain_name"),
                    "resource_record_name": f"_{_hex(address, length=32)}.{values.get('domain_name')}.",
                    "resource_record_type": "CNAME",
                    "resource_record_value": f"_{_hex(address, 'v', length=32)}.acm-validations.aws.",
                }
            ],
            "key_id": lambda: values.get("id"),
        }
        maker = makers.get(name)
        if maker is not None:
            return maker()
        if name == "arn" or name.endswith("_arn"):
            return self.arn(tf_type, values, address)
        return None


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return key


@dataclass
class Entry:
    address: str
    tf_type: str
    provider: str
    values: dict[str, Any]


@dataclass
class State:
    """Synthesized resource values by address, and the state file holding them."""

    schema: ProviderSchema
    entries: dict[str, Entry] = field(default_factory=dict)
    serial: int = 1

    def document(self) -> dict[str, Any]:
        resources = []
        for entry in self.entries.values():
            builtin = entry.tf_type == PLACEHOLDER
            version = 0 if builtin else self.schema.resource(entry.tf_type).version
            if builtin:
                provider = BUILTIN_PROVIDER
            else:
                alias = entry.provider.split(".", 1)[1] if "." in entry.provider else ""
                provider = AWS_PROVIDER + (f".{alias}" if alias else "")
            resources.append(
                {
                    "mode": "managed",
                    "type": entry.tf_type,
                    "name": entry.address.split(".", 1)[1],
                    "provider": provider,
                    "instances": [
                        {
                            "schema_version": version,
                            "attributes": entry.values,
                            "sensitive_attributes": [],
                        }
                    ],
                }
            )
        self.serial += 1
        return {
            "version": 4,
            "terraform_version": "1.11.4",
            "serial": self.serial,
            "lineage": "00000000-0000-4000-8000-000000000000",
            "outputs": {},
            "resources": resources,
        }

    def renamed(self, old: str, new: str) -> dict[str, Entry]:
        """The entries of member `old` as member `new`'s (same values, new addresses)."""
        prefix, replacement = f".{old}{SEPARATOR}", f".{new}{SEPARATOR}"
        found: dict[str, Entry] = {}
        for address, entry in self.entries.items():
            if prefix not in address:
                continue
            moved = address.replace(prefix, replacement, 1)
            provider = entry.provider.replace(f".{old}{SEPARATOR}", f".{new}{SEPARATOR}", 1)
            found[moved] = Entry(moved, entry.tf_type, provider, entry.values)
        return found


class Synthesizer:
    """Fills a plan's unknowns for one configuration."""

    def __init__(self, translation: Translation, schema: ProviderSchema) -> None:
        self.translation = translation
        self.schema = schema
        self.bodies: dict[str, dict[str, Any]] = {}
        for tf_type, named in translation.document["resource"].items():
            for name, body in named.items():
                self.bodies[f"{tf_type}.{name}"] = body
        self.regions: dict[str, str] = {}
        for block in translation.document["provider"]["aws"]:
            self.regions[f"aws.{block.get('alias', '')}"] = block["region"]

    def state(self, plan: dict[str, Any], state: State | None = None) -> State:
        """`state` (or a new one) with every resource the plan creates or changes as planned."""
        state = state or State(self.schema)
        changes = {
            c["address"]: c
            for c in plan.get("resource_changes", [])
            if c["mode"] == "managed" and c["change"]["actions"] != ["no-op"]
        }
        pending = dict(changes)
        resolved: set[str] = set()

        def settle(address: str) -> None:
            if address in resolved or address not in pending:
                return
            resolved.add(address)
            for target in self._targets(address):
                settle(target)
            change = pending[address]
            if change["change"]["actions"] == ["delete"]:
                state.entries.pop(address, None)
                return
            state.entries[address] = self._entry(change, state)

        for address in list(pending):
            settle(address)
        return state

    def _targets(self, address: str) -> Iterator[str]:
        text = json.dumps(self.bodies.get(address, {}))
        for found in REFERENCE.finditer(text):
            parsed = EXPRESSION.match(found.group(1))
            if parsed:
                root = parsed.group("set") or parsed.group("plain") or ""
                yield ".".join(root.split(".")[:2])

    def _entry(self, change: dict[str, Any], state: State) -> Entry:
        address, tf_type = change["address"], change["type"]
        body = self.bodies.get(address, {})
        provider = body.get("provider", "aws")
        fakes = Fakes(self.regions.get(provider, "us-east-1"))
        after = dict(change["change"]["after"] or {})
        unknown = change["change"]["after_unknown"] or {}
        values: dict[str, Any] = {}
        for name, value in after.items():
            values[name] = value
        for name, marker in unknown.items():
            if not has_unknown(marker):
                continue
            if name in body and name != "provider":
                values[name] = self._evaluated(body[name], state)
            elif marker is True:
                values[name] = None
            else:  # partly known: what AWS makes of it whole, or its known part
                values[name] = fakes.computed(tf_type, name, values, address) or values[name]
        if tf_type == PLACEHOLDER:
            text = {"value": body.get("input", ""), "type": "string"}
            return Entry(
                address,
                tf_type,
                provider,
                {"id": _uuid(address), "input": text, "output": text, "triggers_replace": None},
            )
        if values.get("id") is None:
            values["id"] = fakes.id(tf_type, values, address)
        block = self.schema.resource(tf_type).block
        for name, marker in unknown.items():
            if marker is True and values.get(name) is None and name != "id":
                values[name] = fakes.computed(tf_type, name, values, address)
            if values.get(name) is None and name in block.attributes and name != "id":
                # What the provider stores for a value AWS did not give: the zero value of its
                # type (an SDK resource always does; a framework resource's computed string
                # too, or `UseStateForUnknown` would have nothing to keep and the next plan
                # would replace it), an empty collection, not null.
                values[name] = ZERO.get(block.attributes[name].kind)
        if values.get("id") is None:
            values["id"] = fakes.id(tf_type, values, address) or _hex(address)
        return Entry(address, tf_type, provider, values)

    def _evaluated(self, value: Any, state: State) -> Any:
        """A configuration value with its references read from the state being built."""
        if isinstance(value, dict):
            return {k: self._evaluated(v, state) for k, v in value.items()}
        if isinstance(value, list):
            return [self._evaluated(v, state) for v in value]
        if not isinstance(value, str):
            return value
        whole = REFERENCE.fullmatch(value)
        if whole:
            return evaluate(whole.group(1), state)
        text = REFERENCE.sub(lambda m: str(evaluate(m.group(1), state) or ""), value)
        return text.replace("$${", "${").replace("%%{", "%{")


def has_unknown(marker: Any) -> bool:
    """Whether a plan's `after_unknown` marker leaves anything to be known after apply."""
    if isinstance(marker, dict):
        return any(has_unknown(v) for v in marker.values())
    if isinstance(marker, list):
        return any(has_unknown(v) for v in marker)
    return marker is True


def evaluate(expression: str, state: State) -> Any:
    """A reference this translation writes (`aws_x.name.attr[0].sub`, `tolist(...)[0]`)."""
    parsed = EXPRESSION.match(expression)
    if parsed is None:
        return None
    root = (parsed.group("set") or parsed.group("plain") or "").split(".")
    entry = state.entries.get(".".join(root[:2]))
    if entry is None:
        return None
    value: Any = entry.values
    for name in root[2:]:
        value = value.get(name) if isinstance(value, dict) else None
    for step in STEP.finditer(parsed.group("rest") or ""):
        index, name = step.group(1), step.group(2)
        if index is not None:
            value = (
                value[int(index)] if isinstance(value, list) and len(value) > int(index) else None
            )
        else:
            value = value.get(name) if isinstance(value, dict) else None
    return value
