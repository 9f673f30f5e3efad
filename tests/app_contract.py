"""The sample app against real software: the stack's variables are all it needs, for every engine.

Shared by `test_app_contract_postgres.py` and `test_app_contract_mariadb.py`, which each name the
engine (the `engine` fixture) and so run on a worker of their own. The worker tier's side runs
the same app with the worker environment's variables, called the way sqsd calls it, and its
queue is moto's.

The dev stack is synthesized offline with PostgreSQL and with MariaDB (which also speaks the MySQL
protocol); the Beanstalk environment's variables are taken as they are, and only the endpoints are
pointed at stand-ins: a real database server with TLS (Debian's postgresql, or mariadb-server-core)
whose certificate comes from a throwaway certificate authority the test hands the app in place of
the RDS bundle, and moto's S3 + Secrets Manager server. The app runs under gunicorn, as on
Beanstalk. `.ci/run` installs the servers; where they are missing the tests skip, saying why.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import ipaddress
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import boto3
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from mypy_boto3_s3 import S3Client
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient

from app import application
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


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {port} within {STARTUP_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# A throwaway certificate authority stands in for the RDS ones -----------------------------------


@dataclass(frozen=True)
class Authority:
    """A CA the app is told to trust, the server's certificate from it, and a CA it is not."""

    ca: Path
    cert: Path
    key: Path
    unknown_ca: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """A server certificate for the address the app connects to (an IP SAN, as RDS's certificate
    carries the endpoint's name), signed by a CA the app is given as its bundle."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca("webstack test CA")
    _, unknown = _ca("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = Authority(
        directory / "ca.pem",
        directory / "server.crt",
        directory / "server.key",
        directory / "unknown-ca.pem",
    )
    files.ca.write_bytes(_pem(ca))
    files.unknown_ca.write_bytes(_pem(unknown))
    files.cert.write_bytes(_pem(server))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)
    directory.chmod(0o755)
    return files


# Database servers, started by the test ---------------------------------------------------------


class Server(Protocol):
    engine: str
    port: int

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def prepare(self, database: str, user: str, password: str) -> None: ...


def _root_runs_as(user: str) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the package's user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(user)
    except KeyError:
        pytest.skip(f"running as root and there is no {user} user to run the server as")
    return ["runuser", "-u", user, "--"]


@dataclass
class Postgres:
    bin: Path
    data: Path
    port: int
    as_user: list[str]
    engine: str = "postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.data / "server.log"), "-w"),
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self.ctl("start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")

    def prepare(self, database: str, user: str, password: str) -> None:
        with psycopg.connect(
            host=str(self.data), port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as admin:
            admin.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    psycopg.sql.Identifier(user), password
                )
            )
            admin.execute(
                psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    psycopg.sql.Identifier(database), psycopg.sql.Identifier(user)
                )
            )


def _postgres(data: Path, authority: Authority) -> Postgres:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    as_user = _root_runs_as("postgres")
    server = Postgres(Path(found[-1]).parent, data, _free_port(), as_user)
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [
            *as_user,
            str(server.bin / "initdb"),
            *("-D", str(data), "-U", "postgres", "--no-sync"),
            *("--auth-local=trust", "--auth-host=scram-sha-256"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cert, key = data / "server.crt", data / "server.key"
    shutil.copy(authority.cert, cert)
    shutil.copy(authority.key, key)
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '{LOOPBACK}'\nport = {server.port}\n"
            f"unix_socket_directories = '{data}'\nssl = on\n"
            f"ssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n"
        )
    # Only TLS connections from the network, as RDS with rds.force_ssl = 1.
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
    )
    if as_user:
        for path in (cert, key, data / "postgresql.conf", data / "pg_hba.conf"):
            shutil.chown(path, "postgres", "postgres")
    return server


@dataclass
class MariaDB:
    data: Path
    port: int
    authority: Authority
    engine: str = "mariadb"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.data / "mysqld.sock"

    def start(self) -> None:
        log = self.data.with_suffix(".log")
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [
                _mariadb_tool("mariadbd"),
                "--no-defaults",
                *as_root,
                f"--datadir={self.data}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                f"--bind-address={LOOPBACK}",
                f"--pid-file={self.data.with_suffix('.pid')}",
                f"--log-error={log}",
                "--skip-name-resolve",
                f"--ssl-ca={self.authority.ca}",
                f"--ssl-cert={self.authority.cert}",
                f"--ssl-key={self.authority.key}",
                # As RDS with require_secure_transport = 1.
                "--require-secure-transport=ON",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process, log)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def prepare(self, database: str, user: str, password: str) -> None:
        statements = (
            f"CREATE DATABASE `{database}`; "
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}' REQUIRE SSL; "
            f"GRANT ALL ON `{database}`.* TO '{user}'@'%';"
        )
        subprocess.run(
            [
                _mariadb_tool("mariadb"),
                "--no-defaults",
                f"--socket={self.socket}",
                *("-u", "root", "-e", statements),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )


def _mariadb_tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.skip(
            f"MariaDB's {name} is not installed (.ci/run installs Debian's mariadb-server-core)"
        )
    return found


def _mariadb(data: Path, authority: Authority) -> MariaDB:
    subprocess.run(
        [
            _mariadb_tool("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={data}",
            "--skip-test-db",
            "--auth-root-authentication-method=socket",
            *(["--user=root"] if os.geteuid() == 0 else []),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return MariaDB(data, _free_port(), authority)


@pytest.fixture(scope="module")
def server(engine: str, authority: Authority) -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix=f"webstack-{engine}-"))
    made: Server | None = None
    try:
        made = (_postgres if engine == "postgres" else _mariadb)(data, authority)
        made.start()
        yield made
    finally:
        if made is not None:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                made.stop()
        shutil.rmtree(data, ignore_errors=True)


# AWS stand-ins and the app ---------------------------------------------------------------------


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


def s3_client(endpoint: str, region: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def secrets_client(endpoint: str, region: str) -> SecretsManagerClient:
    return boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def stack_env(server: Server) -> dict[str, str]:
    """The app's environment exactly as the dev stack's Beanstalk environment declares it."""
    overrides = {"webstack:database": {"engine": server.engine}}
    return {
        name: str(value)
        for (namespace, name), value in option_settings(run("dev", overrides)).items()
        if namespace == ENV_NAMESPACE
    }


@pytest.fixture(scope="module")
def app_env(stack_env: dict[str, str], server: Server, aws_endpoint: str) -> dict[str, str]:
    """The stack's variables with the endpoints pointed at the stand-ins, the rest untouched."""
    region = stack_env["AWS_REGION"]
    password = "probe-" + os.urandom(8).hex()
    server.prepare(stack_env["DB_NAME"], "app_admin", password)
    # RDS names its managed secret rds!db-<id> and stores {"username": ..., "password": ...}.
    secret_name = stack_env["DB_SECRET_ARN"].split(":secret:", 1)[1].rsplit("-", 1)[0]
    secret = secrets_client(aws_endpoint, region).create_secret(
        Name=f"{secret_name}-{server.engine}",
        SecretString=json.dumps({"username": "app_admin", "password": password}),
    )
    s3 = s3_client(aws_endpoint, region)
    bucket = stack_env["BUCKET_NAME"]
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
        # Versioned, as the stack's bucket is: a check that wrote would leave versions behind.
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return {
        **stack_env,
        "DB_HOST": LOOPBACK,
        "DB_PORT": str(server.port),
        "DB_SECRET_ARN": secret["ARN"],
    }


def _start_app(
    app_env: dict[str, str], aws_endpoint: str, ca_bundle: Path
) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **app_env,
        **FAKE_CREDENTIALS,
        # boto3 sends every call to this endpoint, and the bundle stands in for the RDS one the
        # deploy hook fetches: the app has no other test-only input.
        "AWS_ENDPOINT_URL": aws_endpoint,
        "DB_CA_BUNDLE": str(ca_bundle),
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"{LOOPBACK}:{port}", "--workers", "1"),
            *("--chdir", str(PROJECT / "app"), "application:application"),
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{LOOPBACK}:{port}"
    _wait_for(url + "/health", process)
    return url, process


@pytest.fixture(scope="module")
def app_url(app_env: dict[str, str], aws_endpoint: str, authority: Authority) -> Iterator[str]:
    url, process = _start_app(app_env, aws_endpoint, authority.ca)
    try:
        yield url
    finally:
        _stop(process)


def get(url: str, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url + path, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# The contract ----------------------------------------------------------------------------------


def test_the_app_gets_the_stacks_variables_and_only_endpoints_change(
    stack_env: dict[str, str], app_env: dict[str, str], server: Server
) -> None:
    assert (
        set(app_env)
        == set(stack_env)
        == {
            "BUCKET_NAME",
            "DB_ENGINE",
            "DB_HOST",
            "DB_PORT",
            "DB_NAME",
            "DB_SECRET_ARN",
            "AWS_REGION",
        }
    )
    assert stack_env["DB_ENGINE"] == server.engine
    unchanged = {k for k in stack_env if stack_env[k] == app_env[k]}
    assert unchanged == {"BUCKET_NAME", "DB_ENGINE", "DB_NAME", "AWS_REGION"}


def test_all_up_the_deep_check_answers_200_over_verified_tls(
    app_url: str, app_env: dict[str, str], server: Server
) -> None:
    status, report = get(app_url, "/health/deep")
    assert status == 200, report
    assert report["status"] == "ok" and report["failing"] == []
    assert report["database"] == {
        "ok": True,
        "engine": server.engine,
        "database": app_env["DB_NAME"],
        "tls": True,
    }
    assert report["storage"] == {"ok": True, "bucket": app_env["BUCKET_NAME"]}
    assert get(app_url, "/health") == (200, {"status": "serving"})


def test_the_deep_check_leaves_no_object_versions_behind(
    app_url: str, app_env: dict[str, str], aws_endpoint: str
) -> None:
    for _ in range(3):
        assert get(app_url, "/health/deep")[0] == 200
    s3 = s3_client(aws_endpoint, app_env["AWS_REGION"])
    listing = s3.list_object_versions(Bucket=app_env["BUCKET_NAME"])
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_database_down_the_deep_check_names_it_and_the_shallow_one_still_serves(
    app_url: str, server: Server
) -> None:
    server.stop()
    try:
        deep = get(app_url, "/health/deep")
        shallow = get(app_url, "/health")
    finally:
        server.start()
    status, report = deep
    assert status == 503
    assert report["failing"] == ["database"]
    assert report["database"]["step"] == "connect"
    assert report["storage"]["ok"] is True
    assert shallow == (200, {"status": "serving"})


def test_bucket_missing_the_deep_check_names_storage(
    app_url: str, app_env: dict[str, str], aws_endpoint: str
) -> None:
    s3 = s3_client(aws_endpoint, app_env["AWS_REGION"])
    bucket = app_env["BUCKET_NAME"]
    s3.delete_bucket(Bucket=bucket)
    try:
        status, report = get(app_url, "/health/deep")
    finally:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert status == 503
    assert report["failing"] == ["storage"]
    assert "404" in report["storage"]["error"] or "NoSuchBucket" in report["storage"]["error"]
    assert report["database"]["ok"] is True


def test_a_server_certificate_from_an_unknown_authority_is_refused(
    app_env: dict[str, str],
    aws_endpoint: str,
    authority: Authority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The app's own check, in this process, given a bundle that does not hold the server's CA.
    for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": aws_endpoint}.items():
        monkeypatch.setenv(name, value)
    status, report = application.deep_health({**app_env, "DB_CA_BUNDLE": str(authority.unknown_ca)})
    assert status == 503
    assert report["failing"] == ["database"]
    assert report["database"]["step"] == "connect"
    assert "certificate verify failed" in report["database"]["error"].lower()


# The worker tier: the same app, as sqsd calls it -----------------------------------------------

SQSD_USER_AGENT = "aws-sqsd/2.4"


def sqs_client(endpoint: str, region: str) -> SQSClient:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def worker_env(server: Server, app_env: dict[str, str], aws_endpoint: str) -> dict[str, str]:
    """The worker environment's variables as the dev stack with the worker tier declares them,
    the endpoints pointed at the stand-ins: the database, and a queue in moto."""
    overrides = {
        "webstack:database": {"engine": server.engine},
        "webstack:worker": {"enabled": True},
    }
    declared = option_settings(run("dev", overrides), "worker-environment")
    stack = {name: str(value) for (ns, name), value in declared.items() if ns == ENV_NAMESPACE}
    queue = sqs_client(aws_endpoint, stack["AWS_REGION"]).create_queue(
        QueueName=f"jobs-{server.engine}"
    )
    return {
        **stack,
        **{key: app_env[key] for key in ("DB_HOST", "DB_PORT", "DB_SECRET_ARN")},
        "QUEUE_URL": queue["QueueUrl"],
    }


@pytest.fixture(scope="module")
def tier_url(worker_env: dict[str, str], aws_endpoint: str, authority: Authority) -> Iterator[str]:
    """The app with the worker tier's variables: the web tier's POST /jobs and the worker's
    POST /work (both tiers run this code)."""
    url, process = _start_app(worker_env, aws_endpoint, authority.ca)
    try:
        yield url
    finally:
        _stop(process)


def post(
    url: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + path,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def sqsd_headers(message_id: str, receive_count: int) -> dict[str, str]:
    """What sqsd sends with a message (EB developer guide, "Elastic Beanstalk worker
    environments")."""
    return {
        "User-Agent": SQSD_USER_AGENT,
        "X-Aws-Sqsd-Msgid": message_id,
        "X-Aws-Sqsd-Queue": "jobs",
        "X-Aws-Sqsd-First-Received-At": "2026-12-07T12:00:00Z",
        "X-Aws-Sqsd-Receive-Count": str(receive_count),
    }


def _recorded(env: dict[str, str], aws_endpoint: str, ca: Path, job_id: str) -> list[Any]:
    """The jobs table's rows for `job_id`, read as the app connects (TLS, the secret)."""
    with contextlib.ExitStack() as stack:
        for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": aws_endpoint}.items():
            stack.enter_context(_env_var(name, value))
        env = {**env, "DB_CA_BUNDLE": str(ca)}
        user, password = application.credentials(env)
        with application.connect(env, user, password) as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT words, receive_count FROM jobs WHERE id = %s", (job_id,))
            return [tuple(row) for row in cursor.fetchall()]


@contextlib.contextmanager
def _env_var(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def test_the_worker_gets_the_web_tiers_variables_and_the_queue(
    worker_env: dict[str, str], stack_env: dict[str, str]
) -> None:
    assert set(worker_env) == {*stack_env, "QUEUE_URL"}


def test_a_job_goes_from_post_jobs_through_the_queue_to_the_worker_once(
    tier_url: str, worker_env: dict[str, str], aws_endpoint: str, authority: Authority
) -> None:
    status, queued = post(tier_url, "/jobs", json.dumps({"id": "job-1", "text": "a b c"}).encode())
    assert (status, queued["id"]) == (202, "job-1")
    sqs = sqs_client(aws_endpoint, worker_env["AWS_REGION"])
    (message,) = sqs.receive_message(
        QueueUrl=worker_env["QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=1
    )["Messages"]
    assert json.loads(message["Body"]) == {"id": "job-1", "text": "a b c"}
    assert message["MessageId"] == queued["messageId"]
    # sqsd POSTs the body to the worker; 200 is its cue to delete the message.
    headers = sqsd_headers(message["MessageId"], 1)
    status, done = post(tier_url, "/work", message["Body"].encode(), headers)
    assert (status, done) == (200, {"status": "done", "id": "job-1", "words": 3, "first": True})
    # A redelivery (the answer was lost, say) is answered 200 again and does nothing twice.
    again = post(tier_url, "/work", message["Body"].encode(), sqsd_headers(message["MessageId"], 2))
    assert again == (200, {"status": "done", "id": "job-1", "words": 3, "first": False})
    assert _recorded(worker_env, aws_endpoint, authority.ca, "job-1") == [(3, 1)]


def test_a_message_that_is_no_job_is_refused_so_sqsd_retries_it(tier_url: str) -> None:
    for body in (b"not json", b"[]", b'{"text": "x"}', b'{"id": "a b", "text": "x"}'):
        status, _ = post(tier_url, "/work", body, sqsd_headers("m-bad", 1))
        assert status == 400, body
    assert post(tier_url, "/jobs", b'{"id": 7}')[0] == 400


def test_database_down_a_job_is_answered_503_and_so_retried(tier_url: str, server: Server) -> None:
    server.stop()
    try:
        status, report = post(
            tier_url, "/work", b'{"id": "job-2", "text": "x"}', sqsd_headers("m2", 1)
        )
    finally:
        server.start()
    assert status == 503 and report["status"] == "failing"
    assert post(tier_url, "/work", b'{"id": "job-2", "text": "x"}', sqsd_headers("m2", 2))[0] == 200


def test_without_the_worker_tier_post_jobs_says_what_is_missing(app_url: str) -> None:
    assert post(app_url, "/jobs", b'{"text": "x"}') == (
        503,
        {"status": "misconfigured", "missing": ["QUEUE_URL"]},
    )
    assert get(app_url, "/work") == (405, {"status": "POST only"})
