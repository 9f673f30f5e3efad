"""Elastic Beanstalk hosting: the web tier (`AppHosting`) and what it shares with the worker
tier (`Worker`, fed by a `JobQueue`).

One concern per module: `settings` (what the stack file says), `bundle` (the app's files),
`options` (the option settings both tiers take), `environment` (the roles, application and
versions both build on), `web` and `worker` (the tiers), `queue` (the worker's queues)."""

from components.hosting.bundle import bundle_digest, version_label
from components.hosting.queue import JobQueue
from components.hosting.settings import (
    PLATFORM_REGEX,
    AppConnections,
    AppSettings,
    DomainSettings,
    ManagedUpdates,
    SpotSettings,
    WorkerSettings,
)
from components.hosting.web import AppHosting, AppHostingArgs
from components.hosting.worker import Worker, WorkerArgs

__all__ = [
    "PLATFORM_REGEX",
    "AppConnections",
    "AppHosting",
    "AppHostingArgs",
    "AppSettings",
    "DomainSettings",
    "JobQueue",
    "ManagedUpdates",
    "SpotSettings",
    "Worker",
    "WorkerArgs",
    "WorkerSettings",
    "bundle_digest",
    "version_label",
]
