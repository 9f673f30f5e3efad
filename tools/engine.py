"""The one mock engine: runs `__main__.py` for a named stack under Pulumi mocks, offline.

It reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` (the mocks read neither), turns `secure:` values
into placeholders marked secret, answers the invokes the program makes with realistic data,
returns realistic outputs for every resource type, and records every registration with its
parent, dependencies, protect/retain flags and inputs, plus the stack outputs. The tests and the
offline plan (`tools/plan.py`) both run stacks through `run_stack`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_DIR = Path(__file__).resolve().parents[1]
ACCOUNT_ID = "123456789012"
SECRET_PLACEHOLDER = "mock-secret-value"

# What `DescribeAvailableSolutionStacks` answers (a realistic subset); the getSolutionStack mock
# filters it with the program's regex like the provider does, newest first.
SOLUTION_STACKS = (
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.13",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.12",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.11",
    "64bit Amazon Linux 2023 v4.6.0 running Python 3.12",
    "64bit Amazon Linux 2023 v6.6.1 running Node.js 22",
    "64bit Amazon Linux 2023 v4.6.1 running Docker",
    "64bit Amazon Linux 2 v3.8.4 running Python 3.8",
)
# Latest minor version and parameter group family RDS reports per engine and major version.
ENGINE_VERSIONS = {
    ("postgres", "17"): ("17.6", "postgres17"),
    ("postgres", "16"): ("16.10", "postgres16"),
    ("postgres", "15"): ("15.14", "postgres15"),
    ("mysql", "8.4"): ("8.4.6", "mysql8.4"),
    ("mysql", "8.0"): ("8.0.43", "mysql8.0"),
    ("mariadb", "11.4"): ("11.4.8", "mariadb11.4"),
    ("mariadb", "10.11"): ("10.11.14", "mariadb10.11"),
}


@dataclass(frozen=True)
class Secret:
    """An input value the program marked secret."""

    value: Any


@dataclass
class Registration:
    """One resource as the engine saw it registered."""

    type: str
    name: str
    urn: str
    id: str
    parent: str
    custom: bool
    provider: str
    inputs: dict[str, Any]  # secret values wrapped in `Secret`
    outputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (what the provider would receive)."""
        plain: dict[str, Any] = unwrap(self.inputs)
        return plain


@dataclass
class Run:
    """Everything one run of the program registered and exported."""

    stack: str
    project: str = ""  # set by run_stack from Pulumi.yaml
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {names}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: Registration) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent.urn]

    def types(self) -> set[str]:
        return {r.type for r in self.resources}


def unwrap(value: Any) -> Any:
    if isinstance(value, Secret):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _mark_secrets(value: Any) -> Any:
    """Deserialized RPC values carry secrets as signature dicts; turn those into `Secret`."""
    if rpc.is_rpc_secret(value):
        return Secret(_mark_secrets(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: _mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    return value


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _config_value(value: Any) -> tuple[Any, bool]:
    """The value with `secure:` leaves replaced by a placeholder, and whether it held any."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        items = {k: _config_value(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        elements = [_config_value(v) for v in value]
        return [v for v, _ in elements], any(s for _, s in elements)
    return value, False


def _project(project_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    return document


def _as_config_string(value: Any) -> str:
    """Pulumi hands config to programs as strings: structured values as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def stack_config(
    stack: str, overrides: Mapping[str, Any] | None = None, project_dir: Path = PROJECT_DIR
) -> tuple[dict[str, str], list[str]]:
    """The config a stack's program would receive, and which keys are secret.

    `overrides` replaces whole keys (`{"webstack:database": {...}}`); a value of None removes one.
    """
    project = _project(project_dir)
    namespace = project["name"]
    values: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{namespace}:{key}"
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            values[full] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            values[full] = spec
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise FileNotFoundError(f"no stack file {stack_file.name} in {project_dir}")
    stack_doc = yaml.safe_load(stack_file.read_text()) or {}
    values.update(stack_doc.get("config") or {})
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        plain, secret = _config_value(value)
        config[key] = _as_config_string(plain)
        if secret:
            secret_keys.append(key)
    return config, secret_keys


def answer_invoke(token: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """What AWS (through the provider) would answer for one invoke of the program."""
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
            "userId": "AIDAMOCK",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
    if token == "aws:index/getRegion:getRegion":
        return {"region": region, "name": region, "id": region}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = "abcdef"
        return {
            "names": [f"{region}{c}" for c in letters],
            "zoneIds": [f"use1-az{i}" for i in range(1, len(letters) + 1)],
            "id": region,
        }
    if token == "aws:elasticbeanstalk/getSolutionStack:getSolutionStack":
        pattern = re.compile(inputs["nameRegex"])
        matches = [s for s in SOLUTION_STACKS if pattern.search(s)]
        if not matches:
            raise ValueError(
                "Your query returned no results. Please change your search criteria and try again."
            )
        return {"name": matches[0], "nameRegex": inputs["nameRegex"], "id": "mock"}
    if token == "aws:rds/getEngineVersion:getEngineVersion":
        key = (inputs["engine"], inputs.get("version"))
        if key not in ENGINE_VERSIONS:
            raise ValueError(f"no RDS engine versions match the arguments {key}")
        version, family = ENGINE_VERSIONS[key]
        return {
            "engine": key[0],
            "version": version,
            "versionActual": version,
            "parameterGroupFamily": family,
            "id": version,
        }
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


class _Mocks(pulumi.runtime.Mocks):
    """Realistic answers for every invoke and resource type the program uses."""

    def __init__(self, run: Run, region: str) -> None:
        self.run = run
        self.region = region

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        inputs = unwrap(_mark_secrets(args.args))
        self.run.invokes.append((args.token, inputs))
        return answer_invoke(args.token, inputs, self.region)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = unwrap(_mark_secrets(args.inputs))
        return _resource_state(args.typ, args.name, inputs, self.region)


def _resource_state(
    typ: str, name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """The id and state AWS would report for a new resource of this type."""
    state = dict(inputs)
    suffix = _hex(f"{typ}/{name}", 8)
    arn_head = f"arn:aws:{{}}:{region}:{ACCOUNT_ID}"
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
    }
    if typ in prefixes:
        resource_id = f"{prefixes[typ]}-{_hex(f'{typ}/{name}')}"
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            state["arn"] = f"{arn_head.format('ec2')}:security-group/{resource_id}"
        return resource_id, state
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{suffix}"
        state.update(
            bucket=bucket,
            arn=f"arn:aws:s3:::{bucket}",
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
    physical = inputs.get("name") or f"{name}-{suffix}"
    state.setdefault("name", physical)
    service = typ.split(":")[1].split("/")[0]
    kinds = {
        "aws:iam/role:Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}",
        "aws:iam/instanceProfile:InstanceProfile": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{physical}",
        "aws:cloudwatch/logGroup:LogGroup": f"{arn_head.format('logs')}:log-group:{physical}",
        "aws:elasticbeanstalk/application:Application": f"{arn_head.format('elasticbeanstalk')}:application/{physical}",
    }
    state.setdefault(
        "arn", kinds.get(typ, f"{arn_head.format(service)}:{typ.split(':')[-1].lower()}/{physical}")
    )
    return str(physical), state


class _RecordingMonitor(mocks.MockMonitor):
    """Sees the full registration request: parent, dependencies, protect, retain."""

    def __init__(self, mocks_: _Mocks, run: Run) -> None:
        super().__init__(mocks_)
        self.run = run

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = self.resources[response.urn]
        self.run.resources.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                id=registered.id or "",
                parent=request.parent,
                custom=bool(request.custom),
                provider=request.provider,
                inputs=_mark_secrets(rpc.deserialize_properties(request.object)),
                outputs=dict(registered.state),
                dependencies=list(request.dependencies),
                property_dependencies={
                    key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
            )
        )
        return response


class _WarningLog(logging.Handler):
    def __init__(self, run: Run) -> None:
        super().__init__(logging.WARNING)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.warnings.append(record.getMessage())


@contextlib.contextmanager
def _isolated_logger(run: Run) -> Iterator[logging.Logger]:
    logger = logging.getLogger(f"webstack.mock.{id(run)}")
    logger.propagate = False
    handler = _WarningLog(run)
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)


def run_stack(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    record: Run | None = None,
) -> Run:
    """Run the program for `stack` as `pulumi preview` would, against mocks; raise what it raises.

    Pass `record` to keep what was registered even when the program raises.
    """
    config, secret_keys = stack_config(stack, overrides, project_dir)
    project = _project(project_dir)["name"]
    run = record if record is not None else Run(stack=stack)
    run.project = project
    region = config.get("aws:region", "us-east-1")
    # Start from nothing: no root stack, config, outputs or RPCs left by an earlier run.
    settings.reset_options(project=project, stack=stack, preview=True)
    settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config(config, secret_keys)
    with _isolated_logger(run) as logger, contextlib.chdir(project_dir):
        monitor = _RecordingMonitor(_Mocks(run, region), run)
        mocks.set_mocks(
            monitor.mocks,
            project=project,
            stack=stack,
            preview=True,
            logger=logger,
            monitor=monitor,
        )
        settings.SETTINGS.outputs.clear()

        def program() -> None:
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

        try:
            _sync_await(run_pulumi_func(program))
            root = settings.get_root_resource()
            exported: dict[str, Any] = dict(getattr(root, "outputs", {}))
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                run.outputs[key] = _sync_await(output.future())
                if _sync_await(output.is_secret()):
                    run.secret_outputs.add(key)
        finally:
            settings.reset_options()
    return run
