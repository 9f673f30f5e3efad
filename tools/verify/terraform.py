"""Terraform and the real AWS provider, run offline: fake credentials, the provider's `skip_*`
flags, `-refresh=false`, and the provider from a filesystem mirror (this machine image ships one)
or, where allowed, downloaded once from the Terraform registry.

`terraform init` runs once into a data directory shared by every configuration of a run (and
kept between runs); each configuration is a folder with its `main.tf.json`, the lock file and,
for a second `up`, a state.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.verify.schema import ProviderSchema
from tools.verify.translate import PROVIDER_VERSION

MIRROR_ENV = "WEBSTACK_TF_MIRROR"
DOWNLOAD_ENV = "WEBSTACK_TF_DOWNLOAD"
# Where a filesystem mirror usually is (Terraform's implied local mirror directories, and where
# machine images put one); a shallow search finds others.
MIRROR_CANDIDATES = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
)
PROVIDER_DIR = "registry.terraform.io/hashicorp/aws"
TIMEOUT = 900
INSTALL = f"""\
make verify needs Terraform (1.5 or newer) and the hashicorp/aws provider {PROVIDER_VERSION}:
  - Terraform: https://developer.hashicorp.com/terraform/install (one binary on PATH);
  - the provider, either from a filesystem mirror (`terraform providers mirror DIR` on a machine
    with network writes one; then {MIRROR_ENV}=DIR make verify), or downloaded by Terraform
    itself on the first run ({DOWNLOAD_ENV}=1 make verify: about 700 MB, kept in
    build/verify/ for later runs)."""


class ToolMissingError(Exception):
    """Terraform or the provider is not here; the message says what to install."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str
    address: str | None  # the resource, when Terraform says
    line: int | None  # the line of main.tf.json it points at

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Diagnostic:
        start = (raw.get("range") or {}).get("start") or {}
        return cls(
            raw.get("severity", "error"),
            raw.get("summary", ""),
            raw.get("detail", ""),
            raw.get("address"),
            start.get("line"),
        )


@dataclass
class PlanResult:
    diagnostics: list[Diagnostic]
    document: dict[str, Any] | None  # `terraform show -json` of the plan, when it planned

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def find_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws at the pinned version, or None."""
    wanted = f"{PROVIDER_DIR}/{PROVIDER_VERSION}"
    given = os.environ.get(MIRROR_ENV)
    if given:
        return Path(given) if (Path(given) / wanted).is_dir() else None
    found = [Path(p).expanduser() for p in MIRROR_CANDIDATES]
    found += [Path(p).parent for p in glob.glob("/*/*/registry.terraform.io")]
    found += [Path(p).parent for p in glob.glob("/*/*/*/registry.terraform.io")]
    return next((p for p in found if (p / wanted).is_dir()), None)


class Terraform:
    """Runs Terraform for a build folder (`build/verify`)."""

    def __init__(self, work: Path, binary: str, mirror: Path | None) -> None:
        self.work = work.resolve()
        self.binary = binary
        self.mirror = mirror
        self.data = self.work / "terraform-data"
        self.base = self.work / "base"

    @classmethod
    def find(cls, work: Path) -> Terraform:
        """Terraform with the provider at hand, or ToolMissingError saying what to install."""
        binary = shutil.which("terraform")
        if binary is None:
            raise ToolMissingError("Terraform is not on PATH.\n" + INSTALL)
        mirror = find_mirror()
        may_download = os.environ.get(DOWNLOAD_ENV) == "1"
        if mirror is None and not may_download:
            where = os.environ.get(MIRROR_ENV) or "any filesystem mirror found"
            raise ToolMissingError(
                f"hashicorp/aws {PROVIDER_VERSION} is not in {where}, and downloading it is not "
                f"allowed ({DOWNLOAD_ENV} is not 1).\n" + INSTALL
            )
        return cls(work, binary, mirror)

    def env(self) -> dict[str, str]:
        config = self.work / "terraform.rc"
        if self.mirror is not None:
            text = (
                "provider_installation {\n"
                f'  filesystem_mirror {{\n    path = "{self.mirror}"\n'
                '    include = ["registry.terraform.io/*/*"]\n  }\n'
                '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
            )
        else:
            text = f'plugin_cache_dir = "{self.work / "plugin-cache"}"\n'
            (self.work / "plugin-cache").mkdir(parents=True, exist_ok=True)
        if not config.exists() or config.read_text() != text:
            config.write_text(text)
        return {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_DATA_DIR": str(self.data),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            # Fake credentials everywhere the provider may look for them.
            "AWS_ACCESS_KEY_ID": "offline",
            "AWS_SECRET_ACCESS_KEY": "offline",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def run(self, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, f"-chdir={folder}", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def init(self) -> None:
        """`terraform init` into the shared data folder, unless an earlier run did it."""
        lock = self.base / ".terraform.lock.hcl"
        installed = self.data / "providers" / PROVIDER_DIR / PROVIDER_VERSION
        if lock.exists() and installed.is_dir():
            return
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "main.tf.json").write_text(
            json.dumps(
                {
                    "terraform": {
                        "required_providers": {
                            "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}
                        }
                    }
                }
            )
        )
        done = self.run(self.base, "init", "-input=false", "-no-color", "-backend=false")
        if done.returncode != 0:
            raise ToolMissingError(
                f"terraform init failed:\n{done.stderr or done.stdout}\n{INSTALL}"
            )

    def schema(self) -> ProviderSchema:
        """The provider's schema, read once per provider version and kept."""
        cached = self.work / f"schema-aws-{PROVIDER_VERSION}.json"
        if not cached.exists():
            self.init()
            done = self.run(self.base, "providers", "schema", "-json")
            if done.returncode != 0:
                raise ToolMissingError(f"terraform providers schema failed:\n{done.stderr}")
            cached.write_text(done.stdout)
        return ProviderSchema.load(cached)

    def folder(self, name: str, text: str, state: dict[str, Any] | None = None) -> Path:
        """A configuration folder holding `text` as main.tf.json (and `state`, if any)."""
        self.init()
        folder = self.work / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "main.tf.json").write_text(text)
        shutil.copy(self.base / ".terraform.lock.hcl", folder / ".terraform.lock.hcl")
        if state is not None:
            (folder / "terraform.tfstate").write_text(json.dumps(state))
        return folder

    def validate(self, folder: Path) -> list[Diagnostic]:
        done = self.run(folder, "validate", "-json", "-no-color")
        try:
            found = json.loads(done.stdout)
        except ValueError:
            return [Diagnostic("error", "terraform validate failed", done.stderr, None, None)]
        return [Diagnostic.of(d) for d in found.get("diagnostics", [])]

    def plan(self, folder: Path) -> PlanResult:
        done = self.run(
            folder,
            "plan",
            "-refresh=false",
            "-lock=false",
            "-input=false",
            "-json",
            "-out=plan.bin",
        )
        diagnostics = []
        for line in done.stdout.splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("type") == "diagnostic":
                diagnostics.append(Diagnostic.of(message["diagnostic"]))
        if done.returncode != 0:
            if not any(d.severity == "error" for d in diagnostics):
                diagnostics.append(
                    Diagnostic("error", "terraform plan failed", done.stderr, None, None)
                )
            return PlanResult(diagnostics, None)
        shown = self.run(folder, "show", "-json", "plan.bin")
        return PlanResult(diagnostics, json.loads(shown.stdout))
