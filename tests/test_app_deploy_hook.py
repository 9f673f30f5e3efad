"""The sample app's deploy hook: it fetches the RDS certificate bundle onto every instance."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[1] / "app/.platform/hooks/prebuild/01_rds_ca_bundle.sh"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def run_hook(tmp_path: Path, region: str, answer: str) -> subprocess.CompletedProcess[str]:
    """The hook in a staging folder, with Beanstalk's get-config and curl stood in for."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "get-config").write_text(f"#!/bin/sh\necho {region}\n")
    # curl: record the arguments, write the canned answer to --output.
    (tools / "curl").write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/curl-args\n'
        'while [ "$1" != "--output" ]; do shift; done\n'
        f'cat {tmp_path}/answer > "$2"\n'
    )
    for tool in tools.iterdir():
        tool.chmod(0o755)
    (tmp_path / "answer").write_text(answer)
    staging = tmp_path / "staging"
    staging.mkdir()
    return subprocess.run(
        ["bash", str(HOOK)],
        cwd=staging,
        env={
            "PATH": f"{tools}:{os.environ['PATH']}",
            "EB_GET_CONFIG": str(tools / "get-config"),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_hook_is_executable_with_unix_line_endings() -> None:
    assert os.access(HOOK, os.X_OK)
    assert b"\r\n" not in HOOK.read_bytes()


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("us-east-1", "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"),
        (
            "us-gov-west-1",
            "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem",
        ),
    ],
)
def test_the_bundle_for_the_region_lands_next_to_the_app(
    tmp_path: Path, region: str, url: str
) -> None:
    result = run_hook(tmp_path, region, PEM)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staging" / "rds-ca-bundle.pem").read_text() == PEM
    assert (tmp_path / "curl-args").read_text().split()[-1] == url
    assert "--fail" in (tmp_path / "curl-args").read_text()


def test_an_answer_that_is_not_certificates_stops_the_deploy(tmp_path: Path) -> None:
    result = run_hook(tmp_path, "eu-west-1", "<html>maintenance</html>")
    assert result.returncode == 1
    assert "did not answer with PEM certificates" in result.stderr
    assert list((tmp_path / "staging").iterdir()) == []


def test_a_region_without_a_known_bundle_stops_the_deploy(tmp_path: Path) -> None:
    result = run_hook(tmp_path, "cn-north-1", PEM)
    assert result.returncode == 1
    assert "no RDS certificate bundle address is known for cn-north-1" in result.stderr
