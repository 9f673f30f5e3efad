"""Do the hash-locked requirement files still match the requirement files they are made from?

`make lock` writes them with uv (`uv pip compile --universal --generate-hashes`); the workflows
that preview or deploy install them with `pip install --require-hashes`, so a change to a
`requirements*.txt` that is not re-locked would deploy what the lock says, not what the change
asks. This check runs offline: every requirement (and every file it includes with `-r`) must be
pinned in its lock at a version it accepts, every pin must carry a hash, and the program's and
the policy pack's locks must pin what the dev lock pins, so the tests run the deployed versions.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parents[1]
DEV_LOCK = Path("requirements-dev.lock")
# Each lock and the requirement file it is compiled from.
LOCKS = {
    DEV_LOCK: Path("requirements-dev.txt"),
    Path("requirements.lock"): Path("requirements.txt"),
    Path("policy/requirements.lock"): Path("policy/requirements.txt"),
}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: str  # "" when it applies everywhere
    hashes: int


def requirements(path: Path) -> list[tuple[Path, Requirement]]:
    """Each requirement of `path` with the file that states it, following `-r` includes."""
    found: list[tuple[Path, Requirement]] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            found += requirements(path.parent / line.split(maxsplit=1)[1])
        else:
            found.append((path, Requirement(line)))
    return found


def pins(text: str) -> list[Pin]:
    """The pins of a lock as uv writes it: `name==version [; marker] \\` and its `--hash` lines."""
    found: list[Pin] = []
    for line in text.splitlines():
        if match := _PIN.match(line):
            name, version, marker = match.groups()
            found.append(Pin(canonicalize_name(name), Version(version), marker or "", 0))
        elif line.strip().startswith("--hash=sha256:") and found:
            last = found[-1]
            found[-1] = Pin(last.name, last.version, last.marker, last.hashes + 1)
    return found


def problems(
    lock: Path, source: Path, dev: list[Pin] | None = None, root: Path = PROJECT
) -> list[str]:
    """What is wrong with `lock` as the lock of `source` (paths relative to `root`)."""
    locked = pins((root / lock).read_text())
    by_name: dict[str, list[Pin]] = {}
    for pin in locked:
        by_name.setdefault(pin.name, []).append(pin)
    found = [f"{lock}: {p.name}=={p.version} has no --hash" for p in locked if not p.hashes]
    for stated_in, requirement in requirements(root / source):
        where = f"{stated_in.relative_to(root)} asks for {requirement}"
        candidates = by_name.get(canonicalize_name(requirement.name), [])
        if not candidates:
            found.append(f"{where}; {lock} does not pin it")
        elif not any(
            requirement.specifier.contains(p.version, prereleases=True) for p in candidates
        ):
            versions = ", ".join(str(p.version) for p in candidates)
            found.append(f"{where}; {lock} pins {versions}")
    if dev is not None:
        devs = {(p.name, p.marker): p.version for p in dev}
        for pin in locked:
            other = devs.get((pin.name, pin.marker))
            if other is not None and other != pin.version:
                found.append(f"{lock} pins {pin.name}=={pin.version}; {DEV_LOCK} pins {other}")
    return found


def check(root: Path = PROJECT) -> list[str]:
    """Every lock's problems; none when `make lock` has run since the last change."""
    dev = pins((root / DEV_LOCK).read_text())
    found: list[str] = []
    for lock, source in LOCKS.items():
        found += problems(lock, source, None if lock == DEV_LOCK else dev, root)
    return found


def main() -> int:
    found = check()
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print("The locks do not match requirements*.txt: run `make lock`.", file=sys.stderr)
        return 1
    print(f"{len(LOCKS)} locks match their requirement files.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
