"""An app's source bundle: which folders may be one, and the digest that names its version."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Beanstalk's source bundle limit ("Create an application source bundle", EB developer guide).
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
# Project folders that are never part of an app: the virtualenv, git's store, build output.
NOT_BUNDLED = ("venv", ".venv", ".git", "build")


def source_bundle_problem(project_dir: Path, source: str) -> str | None:
    """Why `source` cannot be the app's bundle, or None: it must be a folder inside the project,
    not the project's own tooling, without links out of it, and within Beanstalk's size limit."""
    root = project_dir.resolve()
    folder = (project_dir / source).resolve()
    if not folder.is_relative_to(root) or folder == root:
        return f"a folder inside the project ({root}), not the project itself"
    if not folder.is_dir():
        return f"a folder that exists under {root}"
    if set(folder.relative_to(root).parts) & set(NOT_BUNDLED):
        return f"a folder outside {', '.join(NOT_BUNDLED)}"
    size = 0
    for path in folder.rglob("*"):
        if set(path.relative_to(folder).parts) & set(NOT_BUNDLED):
            return f"a folder without {', '.join(NOT_BUNDLED)} in it (found {path.name})"
        if path.is_symlink() and not path.resolve().is_relative_to(folder):
            return f"a folder whose links stay inside it ({path.name} points outside)"
        size += path.stat().st_size if path.is_file() else 0
        if size > MAX_BUNDLE_BYTES:
            return "a folder of at most 500 MB (Beanstalk's limit for a source bundle)"
    return None


def bundle_digest(folder: Path) -> str:
    """A digest of every file's path and bytes: the version label changes exactly when the app does."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def version_label(physical: str, bundle: str, bucket: str) -> str:
    """`<project>-<stack>-<12 hex>`: a digest of the bundle's digest and the bucket holding it."""
    both = hashlib.sha256(f"{bundle}\0{bucket}".encode()).hexdigest()[:12]
    return f"{physical}-{both}"
