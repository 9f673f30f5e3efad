"""webstack's sample app: proves the stack's hand-over (environment variables) is enough.

`/health` reads the database credentials from Secrets Manager (`DB_SECRET_ARN`), connects to
`DB_HOST:DB_PORT/DB_NAME` (TLS whenever the server offers it; RDS requires it), writes, reads and
deletes a probe object in `BUCKET_NAME`, and answers 200 with a JSON report, or 503 naming the
part that failed. Beanstalk's Python platform serves `application` with gunicorn (see Procfile).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3
import psycopg

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Report = dict[str, Any]

CONNECT_TIMEOUT_SECONDS = 3
# "prefer": TLS whenever the server offers it. RDS refuses anything else (rds.force_ssl=1).
SSL_MODE = "prefer"
PROBE_PREFIX = "webstack-health/"


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


def check_database(env: Mapping[str, str]) -> Report:
    """Credentials from the RDS-managed secret, then a round trip to the database."""
    try:
        secrets = boto3.client("secretsmanager", region_name=env["AWS_REGION"])
        secret = json.loads(secrets.get_secret_value(SecretId=env["DB_SECRET_ARN"])["SecretString"])
    # Any failure is what the report is for: name it instead of crashing the health check.
    except Exception as error:
        return {"ok": False, "step": "secret", "error": _error(error)}
    try:
        with psycopg.connect(
            host=env["DB_HOST"],
            port=int(env["DB_PORT"]),
            dbname=env["DB_NAME"],
            user=secret["username"],
            password=secret["password"],
            sslmode=SSL_MODE,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ) as connection:
            row = connection.execute("SELECT current_database(), version()").fetchone()
            tls = connection.pgconn.ssl_in_use
    except Exception as error:
        return {"ok": False, "step": "connect", "error": _error(error)}
    database, version = row if row else (None, None)
    return {"ok": True, "database": database, "tls": tls, "server": str(version).split(",")[0]}


def check_storage(env: Mapping[str, str]) -> Report:
    """Write, read back and delete a small object in the app's bucket."""
    s3 = boto3.client("s3", region_name=env["AWS_REGION"])
    bucket = env["BUCKET_NAME"]
    key = f"{PROBE_PREFIX}{uuid.uuid4()}"
    body = key.encode()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        read = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.delete_object(Bucket=bucket, Key=key)
    except Exception as error:
        return {"ok": False, "bucket": bucket, "error": _error(error)}
    if read != body:
        return {
            "ok": False,
            "bucket": bucket,
            "error": "the object read back differs from the one written",
        }
    return {"ok": True, "bucket": bucket}


def health(env: Mapping[str, str]) -> tuple[int, Report]:
    missing = [
        name
        for name in ("AWS_REGION", "BUCKET_NAME", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SECRET_ARN")
        if not env.get(name)
    ]
    if missing:
        return 503, {"status": "misconfigured", "failing": ["environment"], "missing": missing}
    report: Report = {"database": check_database(env), "storage": check_storage(env)}
    failing = [part for part in ("database", "storage") if not report[part]["ok"]]
    report["status"] = "ok" if not failing else "failing"
    report["failing"] = failing
    return (200 if not failing else 503), report


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/health":
        code, report = health(os.environ)
        reason = "OK" if code == 200 else "Service Unavailable"
        start_response(f"{code} {reason}", [("Content-Type", "application/json")])
        return [json.dumps(report).encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"webstack sample app: see /health\n"]
