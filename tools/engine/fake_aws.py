"""Fake AWS: what the provider would answer for each invoke, and the state AWS reports per resource.

The mock engine (`tools/engine/mock_engine.py`) asks this module; keeping the answers here lets the data
grow (regions, engine versions, solution stacks) without touching the engine's mechanics.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from components.engines import ENGINES
from components.re2 import NotRe2Error, python_equivalent
from components.regions import REGIONS, partition_of
from tools.engine.stack_file import StackFileError

ACCOUNT_ID = "123456789012"

# The zones a new account sees in each region ("AWS Availability Zones", AWS documentation,
# November 2026): three almost everywhere; letters as AWS names them where they skip one.
ZONE_LETTERS: dict[str, str] = {
    **{region: "abc" for region in REGIONS},
    "us-east-1": "abcdef",
    "us-west-1": "ac",  # newer accounts see two of its three zones
    "us-west-2": "abcd",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ca-central-1": "abd",
    "eu-west-2": "abc",
}

# What `DescribeAvailableSolutionStacks` answers (a realistic subset, newest first); the
# getSolutionStack mock filters it with the program's RE2 regex as the provider does.
SOLUTION_STACKS = (
    "64bit Amazon Linux 2023 v4.8.1 running Python 3.13",
    "64bit Amazon Linux 2023 v4.8.1 running Python 3.12",
    "64bit Amazon Linux 2023 v4.8.1 running Python 3.11",
    "64bit Amazon Linux 2023 v4.8.1 running Python 3.9",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.13",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.12",
    "64bit Amazon Linux 2023 v6.7.0 running Node.js 22",
    "64bit Amazon Linux 2023 v4.7.0 running Docker",
)
# The newest minor of each major version RDS offers, with its parameter group family (a
# snapshot of `describe-db-engine-versions`, late 2026).
ENGINE_VERSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "postgres": (
        ("18.1", "postgres18"),
        ("17.7", "postgres17"),
        ("16.11", "postgres16"),
        ("15.15", "postgres15"),
        ("14.20", "postgres14"),
        ("13.23", "postgres13"),
    ),
    "mysql": (("8.4.7", "mysql8.4"), ("8.0.44", "mysql8.0")),
    "mariadb": (
        ("11.8.5", "mariadb11.8"),
        ("11.4.9", "mariadb11.4"),
        ("10.11.15", "mariadb10.11"),
        ("10.6.24", "mariadb10.6"),
    ),
}


# Route 53 hosted zones of the offline account: the example zone the shipped prod stack names.
HOSTED_ZONES = {"Z0123456789EXAMPLE": "example.com."}
# Elastic Beanstalk's hosted zone per region, as the provider's data source knows them (AWS
# General Reference, "AWS Elastic Beanstalk endpoints and quotas"); other regions are refused.
BEANSTALK_ZONES = {
    "us-east-1": "Z117KPS5GTRQ2G",
    "us-east-2": "Z14LCN19Q5QHIC",
    "us-west-1": "Z1LQECGX5PH1X",
    "us-west-2": "Z38NKT9BP95V3O",
    "eu-west-1": "Z2NYPWQ7DFZAZH",
    "eu-west-2": "Z1GKAAAUGATPF1",
    "eu-west-3": "Z5WN6GAYWG5OB",
    "eu-central-1": "Z1FRNW7UH4DEZJ",
    "eu-north-1": "Z23GO28BZ5AETM",
    "eu-south-1": "Z10VDYYOA2JFKM",
    "ap-northeast-1": "Z1R25G3KIG2GBW",
    "ap-northeast-2": "Z3JE5OI70TWKCP",
    "ap-south-1": "Z18NTBI3Y7N9TZ",
    "ap-southeast-1": "Z16FZ9L249IFLT",
    "ap-southeast-2": "Z2PCDNR3VC2G1N",
    "ca-central-1": "ZJFCZL7SSZB5I",
    "sa-east-1": "Z10X7K2B4QSOFV",
}


# Backups of the offline account a restore may name: a final snapshot of prod (encrypted, as
# webstack's are), an unencrypted one, and prod's instance for point-in-time restores.
SNAPSHOTS = {
    "webstack-prod-db-final-0a1b2c3d": {
        "engine": "postgres",
        "version": "17.7",
        "encrypted": True,
        "gib": 50,
    },
    "legacy-unencrypted": {"engine": "postgres", "version": "16.11", "encrypted": False, "gib": 20},
}
INSTANCES = {
    "webstack-prod-db": {
        "engine": "postgres",
        "version": "17.7",
        "encrypted": True,
        "gib": 50,
        "username": "app_admin",
        "dbName": "app",
    },
}


class AwsError(Exception):
    """An error the provider would report for an invoke, as AWS or the provider words it; the
    message says it comes from fake AWS, so nobody mistakes it for their account's answer."""

    def __init__(self, message: str) -> None:
        super().__init__(f"fake AWS, offline: {message}")


ACCOUNT_FILE = "offline-account.yaml"


@dataclass
class Account:
    """What fake AWS knows of the account: the example hosted zone, snapshots and instance
    above, and what a team records of its own in `offline-account.yaml`.

    An identifier it does not know is answered as the stack asks (a zone the domain is in, a
    source the restore accepts) and listed in `unchecked`: offline, a real account's ids plan,
    and `pulumi preview` checks them. `strict` (in the file: `strict: true`) refuses what it does
    not know instead, as AWS refuses what is not there."""

    hosted_zones: dict[str, str] = field(default_factory=lambda: dict(HOSTED_ZONES))
    snapshots: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(SNAPSHOTS))
    instances: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(INSTANCES))
    strict: bool = False
    # What the stack file asks for, to answer an unknown id with: section -> its config.
    asked: dict[str, Any] = field(default_factory=dict)
    unchecked: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, project_dir: Path, config: Mapping[str, str]) -> Account:
        """The account of `project_dir`'s `offline-account.yaml` (if any), for a stack's config."""
        account = cls(asked={k: _parsed(v) for k, v in config.items()})
        path = project_dir / ACCOUNT_FILE
        if not path.exists():
            return account
        facts = YAML(typ="safe").load(path.read_text()) or {}
        if not isinstance(facts, dict) or set(facts) - ACCOUNT_KEYS:
            raise StackFileError(
                f"{ACCOUNT_FILE}: expected a map of {', '.join(sorted(ACCOUNT_KEYS))}, "
                f"got {sorted(facts) if isinstance(facts, dict) else type(facts).__name__}"
            )
        account.hosted_zones.update(
            {str(k): str(v).rstrip(".") + "." for k, v in (facts.get("hostedZones") or {}).items()}
        )
        account.snapshots.update(facts.get("snapshots") or {})
        account.instances.update(facts.get("instances") or {})
        account.strict = bool(facts.get("strict", False))
        return account

    def section(self, key: str) -> dict[str, Any]:
        found = self.asked.get(key)
        return found if isinstance(found, dict) else {}

    def unknown(self, what: str, error: str) -> None:
        """An id this account does not know: refused when strict, else noted unchecked."""
        if self.strict:
            raise AwsError(f"{error} ({what} is not in {ACCOUNT_FILE}, which is strict)")
        self.unchecked.append(what)


ACCOUNT_KEYS = frozenset({"hostedZones", "snapshots", "instances", "strict"})


def _parsed(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _zones(region: str) -> dict[str, Any]:
    letters = ZONE_LETTERS.get(region, "")
    short = "".join(part[0] for part in region.split("-")[:-1]) + region.rsplit("-", 1)[-1]
    return {
        "names": [f"{region}{c}" for c in letters],
        "zoneIds": [f"{short}-az{i}" for i in range(1, len(letters) + 1)],
        "id": region,
    }


def _solution_stack(inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        pattern = re.compile(python_equivalent(inputs["nameRegex"]))
    except (NotRe2Error, re.error) as error:
        raise AwsError(f"error parsing regexp: {error}") from None
    matches = [s for s in SOLUTION_STACKS if pattern.search(s)]
    if not matches:
        raise AwsError(
            "Your query returned no results. Please change your search criteria and try again."
        )
    return {"name": matches[0], "nameRegex": inputs["nameRegex"], "id": "mock"}


def _engine_version(inputs: dict[str, Any]) -> dict[str, Any]:
    """The newest version that starts with the one asked for, as the provider's data source does."""
    engine, asked = inputs["engine"], inputs.get("version", "")
    for version, family in ENGINE_VERSIONS.get(engine, ()):
        if version == asked or version.startswith(f"{asked}."):
            return {
                "engine": engine,
                "version": version,
                "versionActual": version,
                "parameterGroupFamily": family,
                "id": version,
            }
    raise AwsError(f"no RDS Engine Versions matched; engine {engine!r}, version {asked!r}")


def _default_rds_key(region: str) -> str:
    return f"arn:{partition_of(region)}:kms:{region}:{ACCOUNT_ID}:key/{_uuid('aws/rds')}"


def _source_asked(account: Account, region: str) -> dict[str, Any]:
    """A backup the stack's restore accepts: its engine, the newest minor of its major,
    encrypted, no larger than asked, under no key to compare (unknown facts pass checks)."""
    database = account.section("webstack:database")
    engine = str(database.get("engine", "postgres"))
    spec = ENGINES.get(engine, ENGINES["postgres"])
    major = str(database.get("engineVersion", spec.default_version))
    version = next(
        (v for v, _ in ENGINE_VERSIONS.get(engine, ()) if v.startswith(f"{major}.")), major
    )
    return {"engine": engine, "version": version, "encrypted": True, "gib": 0, "key": ""}


def _snapshot(name: str, region: str, account: Account) -> dict[str, Any]:
    short = name.rsplit(":snapshot:", 1)[-1]
    found = account.snapshots.get(short)
    if found is None:
        account.unknown(
            f"DB snapshot {name}",
            "Your query returned no results. Please change your search criteria.",
        )
        found = _source_asked(account, region)
    encrypted = bool(found.get("encrypted", True))
    return {
        "dbSnapshotIdentifier": short,
        "engine": found["engine"],
        "engineVersion": str(found["version"]),
        "encrypted": encrypted,
        "allocatedStorage": int(found.get("gib", 0)),
        "kmsKeyId": found.get("key", _default_rds_key(region) if encrypted else ""),
        "id": short,
    }


def _db_instance(name: str, region: str, account: Account) -> dict[str, Any]:
    found = account.instances.get(name)
    if found is None:
        account.unknown(
            f"DB instance {name}", f"couldn't find resource (DBInstanceNotFound: {name})"
        )
        found = _source_asked(account, region)
    return {
        "dbInstanceIdentifier": name,
        "engine": found["engine"],
        "engineVersion": str(found["version"]),
        "storageEncrypted": bool(found.get("encrypted", True)),
        "allocatedStorage": int(found.get("gib", 0)),
        "kmsKeyId": found.get("key", _default_rds_key(region)),
        "masterUsername": found.get("username"),
        "dbName": found.get("dbName"),
        "id": name,
    }


def _hosted_zone(zone_id: str, account: Account) -> dict[str, Any]:
    name = account.hosted_zones.get(zone_id)
    if name is None:
        account.unknown(f"hosted zone {zone_id}", "no matching Route 53 Hosted Zone found")
        # The zone the stack's domain is in, as far as offline can tell: the domain itself.
        name = str((account.section("webstack:app").get("domain") or {}).get("name", "")) + "."
    return {"zoneId": zone_id, "name": name, "id": zone_id}


# The public parameters the program reads: Amazon Linux 2023's current AMI per architecture.
AL2023_AMI = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"


def _ssm_parameter(name: str, region: str) -> dict[str, Any]:
    if not name.startswith(AL2023_AMI) or name[len(AL2023_AMI) :] not in ("arm64", "x86_64"):
        raise AwsError(f"ParameterNotFound: {name}")
    ami = f"ami-{_hex(name + region)}"
    return {"name": name, "value": ami, "insecureValue": ami, "type": "String", "id": name}


# Interface endpoints AWS names with a `cn.` prefix in China (AWS CDK's vpc-endpoint.ts list).
CHINA_PREFIXED = frozenset(
    {"sqs", "sts", "monitoring", "elasticbeanstalk", "elasticbeanstalk-health"}
)


def _endpoint_service(service: str, region: str) -> dict[str, Any]:
    china = region.startswith("cn-") and service in CHINA_PREFIXED
    prefix = "cn.com.amazonaws" if china else "com.amazonaws"
    name = f"{prefix}.{region}.{service}"
    # Offline, every zone offers every service; AWS's answer may leave zones out.
    zones = _zones(region)["names"]
    return {
        "service": service,
        "serviceName": name,
        "serviceType": "Interface",
        "availabilityZones": zones,
        "privateDnsName": f"{service}.{region}.amazonaws.com",
        "id": name,
    }


def answer_invoke(
    token: str, inputs: dict[str, Any], region: str, account: Account | None = None
) -> dict[str, Any]:
    """What AWS (through the provider) would answer for one invoke of the program."""
    account = account if account is not None else Account()
    partition = partition_of(region)
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:{partition}:iam::{ACCOUNT_ID}:user/mock",
            "userId": "AIDAMOCK",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getPartition:getPartition":
        return {"partition": partition, "dnsSuffix": "amazonaws.com", "id": partition}
    if token == "aws:index/getRegion:getRegion":
        return {"region": region, "name": region, "id": region}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return _zones(region)
    if token == "aws:elasticbeanstalk/getSolutionStack:getSolutionStack":
        return _solution_stack(inputs)
    if token == "aws:rds/getEngineVersion:getEngineVersion":
        return _engine_version(inputs)
    if token == "aws:route53/getZone:getZone":
        return _hosted_zone(inputs.get("zoneId", ""), account)
    if token == "aws:elasticbeanstalk/getHostedZone:getHostedZone":
        if region not in BEANSTALK_ZONES:
            raise AwsError(f"unsupported Elastic Beanstalk Region ({region})")
        return {"id": BEANSTALK_ZONES[region], "region": region}
    if token == "aws:rds/getSnapshot:getSnapshot":
        return _snapshot(inputs["dbSnapshotIdentifier"], region, account)
    if token == "aws:rds/getInstance:getInstance":
        return _db_instance(inputs["dbInstanceIdentifier"], region, account)
    if token == "aws:ec2/getVpcEndpointService:getVpcEndpointService":
        return _endpoint_service(inputs["service"], region)
    if token == "aws:ssm/getParameter:getParameter":
        return _ssm_parameter(inputs["name"], region)
    if token == "aws:lb/getListener:getListener":
        arn = inputs["loadBalancerArn"].replace(":loadbalancer/", ":listener/")
        return {
            "arn": f"{arn}/{_hex(arn, 16)}",
            "loadBalancerArn": inputs["loadBalancerArn"],
            "port": inputs["port"],
            "protocol": "HTTP",
            "id": arn,
        }
    raise NotImplementedError(f"the mock engine has no answer for invoke {token}")


def resource_state(
    typ: str, name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """The id and state AWS would report for a new resource of this type."""
    state = dict(inputs)
    suffix = _hex(f"{typ}/{name}", 8)
    partition = partition_of(region)
    arn_head = f"arn:{partition}:{{}}:{region}:{ACCOUNT_ID}"
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc",
        "aws:ec2/subnet:Subnet": "subnet",
        "aws:ec2/securityGroup:SecurityGroup": "sg",
        "aws:ec2/routeTable:RouteTable": "rtb",
        "aws:ec2/internetGateway:InternetGateway": "igw",
        "aws:ec2/natGateway:NatGateway": "nat",
        "aws:ec2/eip:Eip": "eipalloc",
        "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
        "aws:ec2/flowLog:FlowLog": "fl",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
        "aws:ec2/instance:Instance": "i",
    }
    if typ in prefixes:
        resource_id = f"{prefixes[typ]}-{_hex(f'{typ}/{name}')}"
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            state["arn"] = f"{arn_head.format('ec2')}:security-group/{resource_id}"
        if typ == "aws:ec2/instance:Instance":
            state.update(
                arn=f"{arn_head.format('ec2')}:instance/{resource_id}",
                primaryNetworkInterfaceId=f"eni-{_hex(resource_id)}",
                privateIp=f"10.0.{int(_hex(resource_id, 2), 16) % 16}.{int(_hex(name, 2), 16)}",
            )
        if typ == "aws:ec2/eip:Eip":
            state["publicIp"] = f"203.0.113.{int(_hex(resource_id, 2), 16) % 254 + 1}"
        return resource_id, state
    if typ == "aws:sqs/queue:Queue":
        queue = inputs.get("name") or f"{name}-{suffix}"
        url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{queue}"
        state.update(name=queue, url=url, arn=f"{arn_head.format('sqs')}:{queue}")
        return url, state
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{suffix}"
        state.update(
            bucket=bucket,
            arn=f"arn:{partition}:s3:::{bucket}",
            bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
            bucketDomainName=f"{bucket}.s3.amazonaws.com",
            region=region,
        )
        return bucket, state
    if typ == "aws:rds/instance:Instance":
        identifier = inputs.get("identifier") or f"{name}-{suffix}"
        address = f"{identifier}.c{_hex(identifier, 11)}.{region}.rds.amazonaws.com"
        port = int(inputs.get("port") or 5432)
        secret_arn = (
            f"{arn_head.format('secretsmanager')}:secret:rds!db-{_hex(identifier, 8)}-"
            f"{_hex(identifier + 'x', 6)}"
        )
        state.update(
            identifier=identifier,
            address=address,
            port=port,
            endpoint=f"{address}:{port}",
            arn=f"{arn_head.format('rds')}:db:{identifier}",
            resourceId=f"db-{_hex(identifier, 26).upper()}",
            masterUserSecrets=[
                {
                    "secretArn": secret_arn,
                    "kmsKeyId": f"{arn_head.format('kms')}:key/{_hex(identifier, 8)}",
                    "secretStatus": "active",
                }
            ],
        )
        return identifier, state
    if typ == "aws:elasticbeanstalk/environment:Environment":
        env_name = inputs.get("name") or f"{name}-{suffix}"
        state.update(
            name=env_name,
            cname=f"{env_name}.{region}.elasticbeanstalk.com",
            endpointUrl=f"awseb-AWSEB-{suffix}.{region}.elb.amazonaws.com",
            loadBalancers=[
                f"{arn_head.format('elasticloadbalancing')}:loadbalancer/app/awseb-AWSEB-{suffix}/{_hex(env_name, 16)}"
            ],
            arn=f"{arn_head.format('elasticbeanstalk')}:environment/{inputs.get('application')}/{env_name}",
        )
        return f"e-{_hex(env_name, 10)}", state
    if typ == "random:index/randomId:RandomId":
        digest = _hex(name, int(inputs.get("byteLength", 4)) * 2)
        state.update(hex=digest, dec=str(int(digest, 16)), b64Url=digest, b64Std=digest)
        return digest, state
    if typ.startswith("pulumi:providers:"):
        return f"{name}-provider-id", state
    if typ == "aws:acm/certificate:Certificate":
        domain = inputs["domainName"]
        state.update(
            arn=f"{arn_head.format('acm')}:certificate/{_uuid(domain)}",
            domainValidationOptions=[
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{_hex(domain, 32)}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_hex(domain + 'v', 32)}.acm-validations.aws.",
                }
            ],
            status="PENDING_VALIDATION",
        )
        return state["arn"], state
    if typ == "aws:acm/certificateValidation:CertificateValidation":
        return f"validation-{suffix}", state
    if typ == "aws:route53/record:Record":
        fqdn = str(inputs["name"]).rstrip(".")
        state["fqdn"] = fqdn
        return f"{inputs['zoneId']}_{fqdn}_{inputs['type']}", state
    if typ == "aws:sns/topic:Topic":
        physical = f"{name}-{suffix}"
        state.update(name=physical, arn=f"{arn_head.format('sns')}:{physical}")
        return state["arn"], state
    if typ == "aws:kms/key:Key":
        key_id = _uuid(name)
        state.update(keyId=key_id, arn=f"{arn_head.format('kms')}:key/{key_id}")
        return key_id, state
    if typ == "aws:wafv2/webAcl:WebAcl":
        physical = f"{name}-{suffix}"
        acl_id = _uuid(physical)
        state.update(
            name=physical,
            arn=f"{arn_head.format('wafv2')}:regional/webacl/{physical}/{acl_id}",
        )
        return acl_id, state
    if typ == "pulumi:index:Stash":
        # A new stash saves its input; later runs keep the saved value (the engine's builtin).
        state["output"] = inputs.get("input")
        return f"stash-{suffix}", state
    physical = inputs.get("name") or f"{name}-{suffix}"
    state.setdefault("name", physical)
    service = typ.split(":")[1].split("/")[0]
    kinds = {
        "aws:iam/role:Role": f"arn:{partition}:iam::{ACCOUNT_ID}:role/{physical}",
        "aws:iam/instanceProfile:InstanceProfile": f"arn:{partition}:iam::{ACCOUNT_ID}:instance-profile/{physical}",
        "aws:cloudwatch/logGroup:LogGroup": f"{arn_head.format('logs')}:log-group:{physical}",
        "aws:elasticbeanstalk/application:Application": f"{arn_head.format('elasticbeanstalk')}:application/{physical}",
    }
    state.setdefault(
        "arn", kinds.get(typ, f"{arn_head.format(service)}:{typ.split(':')[-1].lower()}/{physical}")
    )
    return str(physical), state
