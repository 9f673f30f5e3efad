"""The mock engine: runs the program, or a single component, under Pulumi mocks, offline.

`run_stack` runs `__main__.py` for a named stack: it reads `Pulumi.yaml` and `Pulumi.<stack>.yaml`
(the mocks read neither) and turns `secure:` values into placeholders marked secret.
`run_component` runs one function that builds a component in an otherwise empty program, as a
CDK test puts one construct in an empty stack. Either way the invokes are answered and resources
get their state from fake AWS (`tools/engine/fake_aws.py`), and every registration is recorded with its
parent, dependencies, protect/retain flags and inputs, plus the stack outputs. The tests and the
offline plan (`tools/review/plan.py`) share this engine.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import runpy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tools.engine import stack_file
from tools.engine.fake_aws import Account, AwsError, answer_invoke, resource_state

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "mock-secret-value"


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
    # None when the program leaves it to the provider, else what the program asked for.
    delete_before_replace: bool | None = None
    replacement_trigger: Any = None
    ignore_changes: list[str] = field(default_factory=list)
    # Operation -> timeout the program set (`{"create": "15m"}`); empty: the provider's own.
    custom_timeouts: dict[str, str] = field(default_factory=dict)

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
    # What fake AWS answered without knowing it (a real account's hosted zone, say): checked by
    # `pulumi preview`, not offline.
    unchecked: list[str] = field(default_factory=list)

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


def _config_value(value: Any, path: str) -> tuple[Any, list[str]]:
    """The value with `secure:` leaves replaced by a placeholder, and the paths of those leaves
    (`webstack:app.environmentVariables.TOKEN`, as `pulumi config set --path` names them)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, [path]
        items = {k: _config_value(v, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, [p for _, ps in items.values() for p in ps]
    if isinstance(value, list):
        elements = [_config_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in elements], [p for _, ps in elements for p in ps]
    return value, []


def _project(project_dir: Path) -> dict[str, Any]:
    return stack_file.load(project_dir / "Pulumi.yaml")


def _as_go_json(value: Any, key: str) -> Any:
    """The value as Pulumi's Go side encodes it to JSON: a float with no fraction becomes an
    integer (YAML `8.0` reaches the program as `8`), and infinity or NaN is no number at all."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise stack_file.StackFileError(f"{key}: {value} is not a number Pulumi can pass on")
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _as_go_json(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_go_json(v, key) for v in value]
    return value


def _as_config_string(value: Any, key: str = "") -> str:
    """Pulumi hands config to programs as strings: structured values as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(_as_go_json(value, key))


def stack_config(
    stack: str, overrides: Mapping[str, Any] | None = None, project_dir: Path = PROJECT_DIR
) -> tuple[dict[str, str], list[str]]:
    """The config a stack's program would receive, and which keys and paths are secret.

    `overrides` replaces whole keys (`{"webstack:database": {...}}`); a value of None removes one.
    A secret nested in a key marks the key secret, as Pulumi does, and also its own path.
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
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        existing = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise stack_file.StackFileError(
            f"{path.name}: no such stack file in {project_dir}; the stacks here: "
            + (", ".join(existing) or "none (create Pulumi.<stack>.yaml)")
        )
    values.update(stack_file.config_of(stack_file.load(path), path.name))
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        plain, secret_paths = _config_value(value, key)
        config[key] = _as_config_string(plain, key)
        if secret_paths:
            secret_keys += [key] + [p for p in secret_paths if p != key]
    return config, secret_keys


class _Mocks(pulumi.runtime.Mocks):
    """Realistic answers for every invoke and resource type the program uses."""

    def __init__(self, run: Run, region: str, account: Account) -> None:
        self.run = run
        self.region = region
        self.account = account
        # AWS provider name -> its region, so a resource made through a second provider (another
        # region) gets that region's ARNs.
        self.provider_regions: dict[str, str] = {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        inputs = unwrap(_mark_secrets(args.args))
        self.run.invokes.append((args.token, inputs))
        return answer_invoke(args.token, inputs, self.region, self.account)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = unwrap(_mark_secrets(args.inputs))
        if args.typ == "pulumi:providers:aws" and inputs.get("region"):
            self.provider_regions[args.name] = inputs["region"]
        # A provider reference is "<urn>::<id>", and a URN ends with "::<name>".
        provider = (args.provider or "").split("::")[-2:-1]
        region = self.provider_regions.get(provider[0], self.region) if provider else self.region
        return resource_state(args.typ, args.name, inputs, region)


class _ProviderError(grpc.RpcError):
    """How the engine hands a provider's invoke error to the program: as a gRPC error, which the
    SDK turns into an exception the program can catch (a plain exception would not be)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self._message = message

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._message


class _RecordingMonitor(mocks.MockMonitor):
    """Sees the full registration request: parent, dependencies, protect, retain."""

    def __init__(self, mocks_: _Mocks, run: Run) -> None:
        super().__init__(mocks_)
        self.run = run

    def Invoke(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        try:
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        except AwsError as error:
            raise _ProviderError(str(error)) from None

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
                delete_before_replace=(
                    bool(request.deleteBeforeReplace)
                    if request.deleteBeforeReplaceDefined
                    else None
                ),
                replacement_trigger=(
                    unwrap(
                        _mark_secrets(
                            rpc.deserialize_property(
                                json_format.MessageToDict(request.replacement_trigger)
                            )
                        )
                    )
                    if request.HasField("replacement_trigger")
                    else None
                ),
                ignore_changes=list(request.ignoreChanges),
                custom_timeouts={
                    operation: getattr(request.customTimeouts, operation)
                    for operation in ("create", "update", "delete")
                    if getattr(request.customTimeouts, operation)
                },
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
    strict: bool | None = None,
) -> Run:
    """Run the program for `stack` as `pulumi preview` would, against mocks; raise what it raises.

    Pass `record` to keep what was registered even when the program raises; `strict` to have
    fake AWS refuse (True) or plan unchecked (False) what its account does not know, whatever
    `offline-account.yaml` says.
    """
    config, secret_keys = stack_config(stack, overrides, project_dir)
    project = _project(project_dir)["name"]

    def program() -> None:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    run = record if record is not None else Run(stack=stack)
    return _execute(program, run, project, config, secret_keys, project_dir, strict)


def run_component(
    build: Callable[[], None],
    config: Mapping[str, Any] | None = None,
    stack: str = "test",
    project: str = "webstack",
    strict: bool | None = None,
) -> Run:
    """Run `build` (which creates one component) as the whole program of an empty stack.

    `config` holds full keys (`{"aws:region": "eu-west-1"}`); the region defaults to us-east-1.
    """
    values = {"aws:region": "us-east-1", **(config or {})}
    plain = {key: _as_config_string(value) for key, value in values.items()}
    return _execute(build, Run(stack=stack), project, plain, [], PROJECT_DIR, strict)


def _no_stack_trace() -> Any:
    return source_pb2.StackTrace()


def _execute(
    program: Callable[[], None],
    run: Run,
    project: str,
    config: dict[str, str],
    secret_keys: list[str],
    project_dir: Path,
    strict: bool | None = None,
) -> Run:
    run.project = project
    region = config.get("aws:region", "us-east-1")
    account = Account.load(project_dir, config)
    if strict is not None:
        account.strict = strict
    account.unchecked = run.unchecked
    # Start from nothing: no root stack, config, outputs or RPCs left by an earlier run.
    settings.reset_options(project=project, stack=run.stack, preview=True)
    settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config(config, secret_keys)
    # The SDK walks the Python stack at every registration to tell the engine where it came
    # from; mocks never read it, and it is a seventh of a run's time.
    runtime_resource._get_stack_trace = _no_stack_trace
    with _isolated_logger(run) as logger, contextlib.chdir(project_dir):
        monitor = _RecordingMonitor(_Mocks(run, region, account), run)
        mocks.set_mocks(
            monitor.mocks,
            project=project,
            stack=run.stack,
            preview=True,
            logger=logger,
            monitor=monitor,
        )
        settings.SETTINGS.outputs.clear()
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
