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

Beanstalk's Python platform serves `application` with gunicorn (see Procfile); the deploy hook
`.platform/hooks/prebuild/01_rds_ca_bundle.sh` fetches the RDS certificate bundle next to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
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
REQUIRED = ("AWS_REGION", "BUCKET_NAME", "DB_ENGINE", "DB_HOST", "DB_PORT", "DB_NAME")
MYSQL_FAMILY = ("mysql", "mariadb")


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


def ca_bundle(env: Mapping[str, str]) -> str:
    return env.get("DB_CA_BUNDLE") or str(CA_BUNDLE)


def _query(env: Mapping[str, str], user: str, password: str) -> tuple[str, bool]:
    """Connect with the server's certificate verified (chain and host name); return the
    current database's name and whether TLS is in use."""
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
        with connection, connection.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            cipher = cursor.fetchone()
            cursor.execute("SELECT DATABASE()")
            row = cursor.fetchone()
        return str(row[0] if row else ""), bool(cipher and cipher[1])
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
        found = pg.execute("SELECT current_database()").fetchone()
        return str(found[0] if found else ""), pg.pgconn.ssl_in_use


def check_database(env: Mapping[str, str]) -> Report:
    """Credentials from the RDS-managed secret, then a verified TLS round trip."""
    if env["DB_ENGINE"] not in ("postgres", *MYSQL_FAMILY):
        return {"ok": False, "step": "engine", "error": f"unknown DB_ENGINE {env['DB_ENGINE']!r}"}
    try:
        secrets = boto3.client("secretsmanager", region_name=env["AWS_REGION"])
        secret = json.loads(secrets.get_secret_value(SecretId=env["DB_SECRET_ARN"])["SecretString"])
    # Any failure is what the report is for: name it instead of crashing the check.
    except Exception as error:
        return {"ok": False, "step": "secret", "error": _error(error)}
    try:
        database, tls = _query(env, secret["username"], secret["password"])
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


def _json(start_response: StartResponse, code: int, body: Report) -> Iterable[bytes]:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[code]
    start_response(f"{code} {reason}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO")
    if path == SHALLOW_PATH:
        return _json(start_response, 200, {"status": "serving"})
    if path == DEEP_PATH:
        return _json(start_response, *deep_health(os.environ))
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"webstack sample app: see /health and /health/deep\n"]
    return _json(start_response, 404, {"status": "not found"})
