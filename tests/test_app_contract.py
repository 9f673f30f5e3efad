"""Contract test: the env vars the dev stack hands the app reach a real database and bucket.

The dev stack is synthesized offline; the Beanstalk environment's variables are taken exactly as
Beanstalk would receive them, and only the endpoints are pointed at local stand-ins: a real
PostgreSQL server (Debian's package, with TLS) and moto's S3 + Secrets Manager server, holding
the secret in the form RDS writes it. The sample app runs under gunicorn, as on Beanstalk.
Everything listens on loopback and is stopped by the fixtures.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support import option_settings, run

PROJECT = Path(__file__).resolve().parents[1]
ENV_NAMESPACE = "aws:elasticbeanstalk:application:environment"
LOOPBACK = "127.0.0.1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered at {url} within {STARTUP_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Postgres:
    bin: Path
    data: Path
    port: int
    as_user: list[str]

    def ctl(self, *args: str) -> None:
        log = self.data / "server.log"
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-w",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def superuser(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=str(self.data), port=self.port, user="postgres", dbname="postgres", autocommit=True
        )


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries are not installed (.ci/run installs Debian's postgresql)"
        )
    # PostgreSQL refuses to run as root: run it as the package's postgres user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user and not _has_user("postgres"):
        pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
    data = Path(tempfile.mkdtemp(prefix="webstack-pg-"))
    server = Postgres(bin_dir, data, _free_port(), as_user)
    try:
        if as_user:
            shutil.chown(data, "postgres", "postgres")
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cert, key = _self_signed(data)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '{LOOPBACK}'\nport = {server.port}\n"
                f"unix_socket_directories = '{data}'\nssl = on\n"
                f"ssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n"
            )
        if as_user:
            for path in (cert, key, data / "postgresql.conf"):
                shutil.chown(path, "postgres", "postgres")
        server.ctl("start")
        yield server
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{LOOPBACK}:{port}"
        _wait_for(f"{url}/moto-api/", process)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """The app's environment exactly as the dev stack's Beanstalk environment declares it."""
    return {
        name: str(value)
        for (namespace, name), value in option_settings(run("dev")).items()
        if namespace == ENV_NAMESPACE
    }


@pytest.fixture(scope="module")
def app_env(stack_env: dict[str, str], postgres: Postgres, aws_endpoint: str) -> dict[str, str]:
    """The stack's variables with the endpoints pointed at the stand-ins, the rest untouched."""
    region = stack_env["AWS_REGION"]
    clients: dict[str, Any] = {
        "endpoint_url": aws_endpoint,
        "region_name": region,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    password = "probe-" + os.urandom(8).hex()
    with postgres.superuser() as admin:
        admin.execute(psycopg.sql.SQL("CREATE ROLE app_admin LOGIN PASSWORD {}").format(password))
        admin.execute(
            psycopg.sql.SQL("CREATE DATABASE {} OWNER app_admin").format(
                psycopg.sql.Identifier(stack_env["DB_NAME"])
            )
        )
    # RDS names its managed secret rds!db-<id> and stores {"username": ..., "password": ...}.
    secret_name = stack_env["DB_SECRET_ARN"].split(":secret:", 1)[1].rsplit("-", 1)[0]
    secret = boto3.client("secretsmanager", **clients).create_secret(
        Name=secret_name, SecretString=json.dumps({"username": "app_admin", "password": password})
    )
    boto3.client("s3", **clients).create_bucket(Bucket=stack_env["BUCKET_NAME"])
    local = {
        **stack_env,
        "DB_HOST": LOOPBACK,
        "DB_PORT": str(postgres.port),
        "DB_SECRET_ARN": secret["ARN"],
    }
    return local


@pytest.fixture(scope="module")
def app_url(app_env: dict[str, str], aws_endpoint: str) -> Iterator[str]:
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **app_env,
        **FAKE_CREDENTIALS,
        # boto3 sends every call to this endpoint; the app has no test-only code.
        "AWS_ENDPOINT_URL": aws_endpoint,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{LOOPBACK}:{port}",
            "--workers",
            "1",
            "--chdir",
            str(PROJECT / "app"),
            "application:application",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{LOOPBACK}:{port}"
        _wait_for(url + "/", process)
        yield url
    finally:
        _stop(process)


def get_health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url + "/health", timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_app_gets_the_stacks_variables_and_only_endpoints_change(
    stack_env: dict[str, str], app_env: dict[str, str]
) -> None:
    assert (
        set(app_env)
        == set(stack_env)
        == {"BUCKET_NAME", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SECRET_ARN", "AWS_REGION"}
    )
    unchanged = {k for k in stack_env if stack_env[k] == app_env[k]}
    assert unchanged == {"BUCKET_NAME", "DB_NAME", "AWS_REGION"}


def test_health_is_200_when_database_and_bucket_are_up(
    app_url: str, app_env: dict[str, str]
) -> None:
    status, report = get_health(app_url)
    assert status == 200, report
    assert report["status"] == "ok" and report["failing"] == []
    assert report["database"]["ok"] is True
    assert report["database"]["database"] == app_env["DB_NAME"]
    assert report["database"]["tls"] is True  # the server offered TLS, so the app used it
    assert report["storage"] == {"ok": True, "bucket": app_env["BUCKET_NAME"]}


def test_health_is_503_naming_storage_when_the_bucket_is_missing(
    app_url: str, app_env: dict[str, str], aws_endpoint: str
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=aws_endpoint,
        region_name=app_env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.delete_bucket(Bucket=app_env["BUCKET_NAME"])
    try:
        status, report = get_health(app_url)
    finally:
        s3.create_bucket(Bucket=app_env["BUCKET_NAME"])
    assert status == 503
    assert report["failing"] == ["storage"]
    assert "NoSuchBucket" in report["storage"]["error"]
    assert report["database"]["ok"] is True


def test_health_is_503_naming_the_database_when_postgres_is_stopped(
    app_url: str, postgres: Postgres
) -> None:
    postgres.ctl("-m", "fast", "stop")
    try:
        status, report = get_health(app_url)
    finally:
        postgres.ctl("start")
    assert status == 503
    assert report["failing"] == ["database"]
    assert report["database"]["step"] == "connect"
    assert report["storage"]["ok"] is True
