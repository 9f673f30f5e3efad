"""webstack's sample app: proves the stack's hand-over (environment variables) is enough.

Two health endpoints, for two audiences:
- `/health`, the load balancer's check: 200 whenever the process serves requests. It touches
  neither the database, nor S3, nor Secrets Manager, so a short database outage does not take
  every instance out of the load balancer, and probes cost nothing.
- `/health/deep`, for people and monitors: reads the credentials from Secrets Manager
  (`DB_SECRET_ARN`), connects to `DB_HOST:DB_PORT/DB_NAME` with TLS verified against the RDS
  certificate authorities (PostgreSQL, MySQL or MariaDB, by `DB_ENGINE`), checks it can list the
  bucket (`BUCKET_NAME`) without writing to it, and answers 200 with a JSON report, or 503
  naming the part that failed.

Two job endpoints, for the worker tier (`webstack:worker`), which runs this same code:
- `POST /jobs` on the web tier: puts `{"id": ..., "text": ...}` on the queue (`QUEUE_URL`) and
  answers 202; the id is the caller's, or a new one.
- `POST /work` on the worker, as sqsd calls it with each message: counts the job's words and
  records the result in the `jobs` table, once per id (a redelivered job is done already, and
  answered 200 again). 200 deletes the message; 400 (not a job) and 503 (no database) have sqsd
  try again, and after `maxReceiveCount` tries move it to the dead-letter queue.

Beanstalk's Python platform serves `application` with gunicorn (see Procfile); the deploy hook
`.platform/hooks/prebuild/01_rds_ca_bundle.sh` fetches the RDS certificate bundle next to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pymysql

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Report = dict[str, Any]

CONNECT_TIMEOUT_SECONDS = 3
# The RDS certificate authorities, fetched at deploy time; DB_CA_BUNDLE may name another file.
CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")
SHALLOW_PATH = "/health"
DEEP_PATH = "/health/deep"
JOBS_PATH = "/jobs"
WORK_PATH = "/work"
REQUIRED = ("AWS_REGION", "BUCKET_NAME", "DB_ENGINE", "DB_HOST", "DB_PORT", "DB_NAME")
MYSQL_FAMILY = ("mysql", "mariadb")
MAX_JOB_BYTES = 256 * 1024  # SQS's largest message
MAX_ID = 64
JOBS_TABLE = (
    "CREATE TABLE IF NOT EXISTS jobs (id VARCHAR(64) PRIMARY KEY, words INTEGER NOT NULL, "
    "message_id VARCHAR(128) NOT NULL, receive_count INTEGER NOT NULL)"
)


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


def ca_bundle(env: Mapping[str, str]) -> str:
    return env.get("DB_CA_BUNDLE") or str(CA_BUNDLE)


def credentials(env: Mapping[str, str]) -> tuple[str, str]:
    """The user and password of the RDS-managed master secret (`DB_SECRET_ARN`)."""
    secrets = boto3.client("secretsmanager", region_name=env["AWS_REGION"])
    secret = json.loads(secrets.get_secret_value(SecretId=env["DB_SECRET_ARN"])["SecretString"])
    return secret["username"], secret["password"]


@contextlib.contextmanager
def connect(env: Mapping[str, str], user: str, password: str) -> Iterator[Any]:
    """A DB-API connection with the server's certificate verified (chain and host name)."""
    host, port, timeout = env["DB_HOST"], int(env["DB_PORT"]), CONNECT_TIMEOUT_SECONDS
    if env["DB_ENGINE"] in MYSQL_FAMILY:
        connection = pymysql.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=env["DB_NAME"],
            connect_timeout=timeout,
            ssl_ca=ca_bundle(env),
            ssl_verify_cert=True,
            ssl_verify_identity=True,
        )
        with connection:
            yield connection
        return
    # verify-full: the chain must lead to an RDS authority and the name must be DB_HOST.
    with psycopg.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        dbname=env["DB_NAME"],
        connect_timeout=timeout,
        sslmode="verify-full",
        sslrootcert=ca_bundle(env),
    ) as pg:
        yield pg


def _query(env: Mapping[str, str], user: str, password: str) -> tuple[str, bool]:
    """The current database's name, and whether TLS is in use."""
    with connect(env, user, password) as connection:
        if env["DB_ENGINE"] in MYSQL_FAMILY:
            with connection.cursor() as cursor:
                cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                cipher = cursor.fetchone()
                cursor.execute("SELECT DATABASE()")
                row = cursor.fetchone()
            return str(row[0] if row else ""), bool(cipher and cipher[1])
        found = connection.execute("SELECT current_database()").fetchone()
        return str(found[0] if found else ""), connection.pgconn.ssl_in_use


def check_database(env: Mapping[str, str]) -> Report:
    """Credentials from the RDS-managed secret, then a verified TLS round trip."""
    if env["DB_ENGINE"] not in ("postgres", *MYSQL_FAMILY):
        return {"ok": False, "step": "engine", "error": f"unknown DB_ENGINE {env['DB_ENGINE']!r}"}
    try:
        user, password = credentials(env)
    # Any failure is what the report is for: name it instead of crashing the check.
    except Exception as error:
        return {"ok": False, "step": "secret", "error": _error(error)}
    try:
        database, tls = _query(env, user, password)
    except Exception as error:
        return {"ok": False, "step": "connect", "error": _error(error)}
    return {"ok": True, "engine": env["DB_ENGINE"], "database": database, "tls": tls}


def check_storage(env: Mapping[str, str]) -> Report:
    """The bucket exists and can be listed: read-only, so no object version is left behind."""
    s3 = boto3.client("s3", region_name=env["AWS_REGION"])
    bucket = env["BUCKET_NAME"]
    try:
        s3.head_bucket(Bucket=bucket)
        s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except Exception as error:
        return {"ok": False, "bucket": bucket, "error": _error(error)}
    return {"ok": True, "bucket": bucket}


def deep_health(env: Mapping[str, str]) -> tuple[int, Report]:
    missing = [name for name in (*REQUIRED, "DB_SECRET_ARN") if not env.get(name)]
    if missing:
        return 503, {"status": "misconfigured", "failing": ["environment"], "missing": missing}
    report: Report = {"database": check_database(env), "storage": check_storage(env)}
    failing = [part for part in ("database", "storage") if not report[part]["ok"]]
    report["status"] = "ok" if not failing else "failing"
    report["failing"] = failing
    return (200 if not failing else 503), report


def _job(body: bytes) -> dict[str, Any] | None:
    """A job as the queue carries it, or None: a JSON object with a string `text` and an `id` of
    1 to 64 letters, digits, '-' or '_'."""
    try:
        job = json.loads(body)
    except ValueError:
        return None
    if not isinstance(job, dict) or not isinstance(job.get("text"), str):
        return None
    key = job.get("id")
    if not isinstance(key, str) or not 0 < len(key) <= MAX_ID:
        return None
    return job if all(c.isalnum() or c in "-_" for c in key) else None


def enqueue(env: Mapping[str, str], body: bytes) -> tuple[int, Report]:
    """`POST /jobs`: put the job on the worker's queue."""
    if not env.get("QUEUE_URL"):
        return 503, {"status": "misconfigured", "missing": ["QUEUE_URL"]}
    try:
        given = json.loads(body) if body else {}
    except ValueError:
        given = None
    # The caller's id, or a new one: the worker does each id once.
    job = (
        _job(json.dumps({"id": uuid.uuid4().hex, **given}).encode())
        if isinstance(given, dict)
        else None
    )
    if job is None:
        return 400, {"status": "not a job", "expected": '{"text": "...", "id": optional}'}
    sqs = boto3.client("sqs", region_name=env["AWS_REGION"])
    sent = sqs.send_message(QueueUrl=env["QUEUE_URL"], MessageBody=json.dumps(job))
    return 202, {"status": "queued", "id": job["id"], "messageId": sent["MessageId"]}


def work(env: Mapping[str, str], environ: Mapping[str, Any], body: bytes) -> tuple[int, Report]:
    """`POST /work`, as sqsd delivers a message: do the job once, whatever the redeliveries."""
    job = _job(body)
    if job is None:
        return 400, {"status": "not a job"}
    message = str(environ.get("HTTP_X_AWS_SQSD_MSGID", ""))
    count = str(environ.get("HTTP_X_AWS_SQSD_RECEIVE_COUNT", "1"))
    receives = int(count) if count.isdigit() else 1
    words = len(job["text"].split())
    insert = (
        "INSERT IGNORE INTO jobs VALUES (%s, %s, %s, %s)"
        if env["DB_ENGINE"] in MYSQL_FAMILY
        else "INSERT INTO jobs VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
    )
    try:
        user, password = credentials(env)
        with connect(env, user, password) as connection:
            cursor = connection.cursor()
            cursor.execute(JOBS_TABLE)
            cursor.execute(insert, (job["id"], words, message, receives))
            first = cursor.rowcount == 1
            connection.commit()
    except Exception as error:
        return 503, {"status": "failing", "error": _error(error)}
    return 200, {"status": "done", "id": job["id"], "words": words, "first": first}


def _body(environ: Mapping[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(min(length, MAX_JOB_BYTES))) if length else b""


def _json(start_response: StartResponse, code: int, body: Report) -> Iterable[bytes]:
    reason = {
        200: "OK",
        202: "Accepted",
        400: "Bad Request",
        404: "Not Found",
        405: "Method Not Allowed",
        503: "Service Unavailable",
    }[code]
    start_response(f"{code} {reason}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO")
    if path == SHALLOW_PATH:
        return _json(start_response, 200, {"status": "serving"})
    if path == DEEP_PATH:
        return _json(start_response, *deep_health(os.environ))
    if path in (JOBS_PATH, WORK_PATH) and environ.get("REQUEST_METHOD") != "POST":
        return _json(start_response, 405, {"status": "POST only"})
    if path == JOBS_PATH:
        return _json(start_response, *enqueue(os.environ, _body(environ)))
    if path == WORK_PATH:
        return _json(start_response, *work(os.environ, environ, _body(environ)))
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"webstack sample app: see /health, /health/deep, POST /jobs and POST /work\n"]
    return _json(start_response, 404, {"status": "not found"})
