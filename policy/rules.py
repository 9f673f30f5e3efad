"""The secure defaults every webstack stack keeps, as rules free of the policy SDK.

`policy/__main__.py` wraps them into a CrossGuard pack (`pulumi preview --policy-pack policy`);
the offline plan runs the same functions over its registrations. Each rule returns violation
messages that say what is wrong and how to fix it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The policy config value that turns the production-only rules on (not the stack's name).
PRODUCTION = "production"
DATABASE_PORTS = (5432, 3306, 1433, 1521)

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
DB_INSTANCE = "aws:rds/instance:Instance"
BACKUP_REPLICATION = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)
# A week of point-in-time recovery: a problem found after a weekend can still be undone.
PRODUCTION_BACKUP_DAYS = 7
EB_ENVIRONMENT = "aws:elasticbeanstalk/environment:Environment"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
EC2_INSTANCE = "aws:ec2/instance:Instance"
QUEUE = "aws:sqs/queue:Queue"
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
WEB_PORTS = (80, 443)  # what the load balancer serves to the internet
# A NAT instance forwards what the VPC sends to any port of the internet, so its group admits the
# VPC's own block on every port: that is no database port opened (it runs no database).
NAT_INSTANCE_COMPONENT = "webstack:network:NatInstance"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
# Resources whose `policy` input is an IAM policy document.
POLICY_DOCUMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


@dataclass(frozen=True)
class Resource:
    """What a rule sees of a resource, whether it comes from the policy SDK or the offline plan."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    # property name -> URNs of the resources its value came from
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def refs(self, prop: str) -> set[str]:
        """Everything that identifies what `prop` points at: its value and its source URNs."""
        value = self.props.get(prop)
        found = set(self.property_dependencies.get(prop, ()))
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found |= {v for v in value if isinstance(v, str)}
        return found


def _identities(resource: Resource) -> set[str]:
    """A resource is known by its URN and, once created, its id, name or ARN."""
    ids = {resource.urn}
    for key in ("id", "bucket", "arn", "name"):
        value = resource.props.get(key)
        if isinstance(value, str):
            ids.add(value)
    return ids


ResourceCheck = Callable[[Resource, Mapping[str, Any]], list[str]]
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], list[tuple[Resource | None, str]]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    types: frozenset[str]
    check: ResourceCheck
    production_only: bool = False


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck
    production_only: bool = False


def _env_settings(resource: Resource) -> dict[tuple[str, str], Any]:
    return {
        (str(s.get("namespace")), str(s.get("name"))): s.get("value")
        for s in resource.props.get("settings") or []
        if isinstance(s, Mapping)
    }


def _document(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# Resource rules ---------------------------------------------------------------------------------


def public_access_block(r: Resource, _: Mapping[str, Any]) -> list[str]:
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if r.props.get(flag) is not True]
    return (
        [f"{r.name}: public access block leaves {', '.join(off)} off; set all four flags to true"]
        if off
        else []
    )


def owner_enforced(r: Resource, _: Mapping[str, Any]) -> list[str]:
    rule = r.props.get("rule") or {}
    if rule.get("objectOwnership") != "BucketOwnerEnforced":
        return [
            f"{r.name}: object ownership is {rule.get('objectOwnership')!r}; set "
            "rule.object_ownership to BucketOwnerEnforced so ACLs are disabled"
        ]
    return []


def bucket_encryption(r: Resource, _: Mapping[str, Any]) -> list[str]:
    algorithms = [
        (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
        for rule in r.props.get("rules") or []
    ]
    if not any(a in ("aws:kms", "aws:kms:dsse", "AES256") for a in algorithms):
        return [
            f"{r.name}: no default encryption algorithm; set "
            "apply_server_side_encryption_by_default.sse_algorithm to aws:kms or AES256"
        ]
    return []


def tls_only_policy(r: Resource, _: Mapping[str, Any]) -> list[str]:
    for statement in _as_list(_document(r.props.get("policy")).get("Statement", [])):
        condition = (statement or {}).get("Condition", {})
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            resources = _as_list(statement.get("Resource"))
            if any(str(x).endswith("/*") for x in resources) and any(
                not str(x).endswith("/*") for x in resources
            ):
                return []
    return [
        f"{r.name}: the bucket policy does not deny requests without TLS; add a Deny statement on "
        "the bucket and bucket/* with Condition Bool aws:SecureTransport false"
    ]


def rds_encrypted(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if r.props.get("storageEncrypted") is not True:
        return [f"{r.name}: storage is not encrypted; set storage_encrypted=True"]
    return []


def rds_private(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if r.props.get("publiclyAccessible") is True:
        return [f"{r.name}: the database is publicly accessible; set publicly_accessible=False"]
    return []


def rds_managed_password(r: Resource, _: Mapping[str, Any]) -> list[str]:
    problems = []
    if r.props.get("password") or r.props.get("passwordWo"):
        problems.append(
            f"{r.name}: a master password is passed in; remove it and set "
            "manage_master_user_password=True so RDS keeps it in Secrets Manager"
        )
    elif r.props.get("manageMasterUserPassword") is not True:
        problems.append(
            f"{r.name}: the master password is not managed by RDS; set manage_master_user_password=True"
        )
    return problems


def rds_backups(r: Resource, _: Mapping[str, Any]) -> list[str]:
    days = r.props.get("backupRetentionPeriod")
    if not isinstance(days, int | float) or days < 1:
        return [
            f"{r.name}: automated backups are off (backup_retention_period={days!r}); set 1 to 35 days"
        ]
    return []


def eb_setting(namespace: str, option: str, expected: str, why: str) -> ResourceCheck:
    def check(r: Resource, _: Mapping[str, Any]) -> list[str]:
        value = _env_settings(r).get((namespace, option))
        if str(value).lower() != expected.lower():
            return [f"{r.name}: {namespace} {option} is {value!r}; set it to {expected!r} ({why})"]
        return []

    return check


def _worker(r: Resource) -> bool:
    """A worker-tier environment: no load balancer, nothing served to anyone (sqsd calls it)."""
    return r.props.get("tier") == "Worker"


def _single_instance(r: Resource) -> bool:
    return _env_settings(r).get(("aws:elasticbeanstalk:environment", "EnvironmentType")) == (
        "SingleInstance"
    )


def load_balanced(check: ResourceCheck) -> ResourceCheck:
    """A rule about the load balancer, for environments that have one."""

    def checked(r: Resource, config: Mapping[str, Any]) -> list[str]:
        return [] if _single_instance(r) or _worker(r) else check(r, config)

    return checked


def _covers_database_port(props: Mapping[str, Any]) -> bool:
    protocol = str(props.get("ipProtocol", props.get("protocol", "tcp")))
    if protocol in ("-1", "all"):
        return True
    low, high = props.get("fromPort"), props.get("toPort")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return any(low <= port <= high for port in DATABASE_PORTS)


def _ingress_from_cidrs(r: Resource) -> list[tuple[Mapping[str, Any], list[str]]]:
    """Each ingress rule of a security group (inline) or rule resource, with its address ranges."""
    candidates: list[Mapping[str, Any]] = []
    if r.type == SG:
        candidates = [i for i in r.props.get("ingress") or [] if isinstance(i, Mapping)]
    elif (r.type == SG_RULE and r.props.get("type") == "ingress") or r.type == SG_INGRESS:
        candidates = [r.props]
    found = []
    for rule in candidates:
        cidrs = [
            *_as_list(rule.get("cidrIpv4") or []),
            *_as_list(rule.get("cidrIpv6") or []),
            *(rule.get("cidrBlocks") or []),
            *(rule.get("ipv6CidrBlocks") or []),
        ]
        if cidrs:
            found.append((rule, [str(c) for c in cidrs]))
    return found


def only_web_ports_from_anywhere(r: Resource, _: Mapping[str, Any]) -> list[str]:
    for rule, cidrs in _ingress_from_cidrs(r):
        protocol = str(rule.get("ipProtocol", rule.get("protocol", "tcp")))
        ports = (rule.get("fromPort"), rule.get("toPort"))
        web = protocol in ("tcp", "6") and ports[0] == ports[1] and ports[0] in WEB_PORTS
        if ANYWHERE & set(cidrs) and not web:
            what = (
                "every port" if protocol in ("-1", "all") else f"{protocol} {ports[0]}-{ports[1]}"
            )
            return [
                f"{r.name}: opens {what} to the internet ({', '.join(sorted(ANYWHERE & set(cidrs)))});"
                " only the load balancer's 80 and 443 may be: admit the VPC's block or a security"
                " group instead"
            ]
    return []


def ec2_imdsv2(r: Resource, _: Mapping[str, Any]) -> list[str]:
    tokens = (r.props.get("metadataOptions") or {}).get("httpTokens")
    if tokens != "required":
        return [
            f"{r.name}: accepts IMDSv1 (metadata_options.http_tokens is {tokens!r}); set it to "
            "'required' (IMDSv1 lets SSRF read the instance credentials)"
        ]
    return []


def ec2_root_encrypted(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if (r.props.get("rootBlockDevice") or {}).get("encrypted") is not True:
        return [f"{r.name}: the root volume is not encrypted; set root_block_device.encrypted=True"]
    return []


def no_database_port_from_cidr(r: Resource, _: Mapping[str, Any]) -> list[str]:
    for rule, cidrs in _ingress_from_cidrs(r):
        forwarded = f"{NAT_INSTANCE_COMPONENT}$" in r.urn and not ANYWHERE & set(cidrs)
        if _covers_database_port(rule) and not forwarded:
            return [
                f"{r.name}: opens a database port to {', '.join(map(str, cidrs))}; admit the app's "
                "security group instead (database.allow_from(app.security_group))"
            ]
    return []


def _allowed(r: Resource) -> Iterable[Mapping[str, Any]]:
    """The Allow statements of a resource's policy documents, its role's inline ones too."""
    documents = [_document(r.props.get("policy"))]
    documents += [_document(p.get("policy")) for p in r.props.get("inlinePolicies") or []]
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
                yield statement


def no_sqs_star(r: Resource, _: Mapping[str, Any]) -> list[str]:
    for statement in _allowed(r):
        if "sqs:*" in {str(a) for a in _as_list(statement.get("Action", []))}:
            return [
                f"{r.name}: allows sqs:* (purging and deleting queues too); name the actions, as "
                "jobs.grant_send and jobs.grant_consume do"
            ]
    return []


def sqs_encrypted(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if r.props.get("sqsManagedSseEnabled") is not True and not r.props.get("kmsMasterKeyId"):
        return [f"{r.name}: the queue is not encrypted; set sqs_managed_sse_enabled=True"]
    return []


def no_star_on_star(r: Resource, _: Mapping[str, Any]) -> list[str]:
    for statement in _allowed(r):
        actions = {str(a) for a in _as_list(statement.get("Action", []))}
        resources = {str(x) for x in _as_list(statement.get("Resource", []))}
        if actions & {"*", "*:*"} and "*" in resources:
            return [
                f"{r.name}: allows every action on every resource; name the actions and "
                "the resources the role needs"
            ]
    return []


def https_served(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if _worker(r):
        return []
    if _single_instance(r):
        return [
            f"{r.name}: runs as a single instance, without the load balancer that serves HTTPS; "
            "set webstack:app.environmentType LoadBalanced and webstack:app.domain"
        ]
    settings = _env_settings(r)
    listener = "aws:elbv2:listener:443"
    enabled = str(settings.get((listener, "ListenerEnabled"))).lower() == "true"
    if not enabled or not settings.get((listener, "SSLCertificateArns")):
        return [
            f"{r.name}: the load balancer serves no HTTPS; set webstack:app.domain (or "
            "webstack:app.certificateArn)"
        ]
    return []


def load_balancer_logged(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if _worker(r):
        return []
    if _single_instance(r):
        return [
            f"{r.name}: runs as a single instance, without a load balancer to keep access logs; "
            "set webstack:app.environmentType LoadBalanced and webstack:app.accessLogs true"
        ]
    value = _env_settings(r).get(("aws:elbv2:loadbalancer", "AccessLogsS3Enabled"))
    if str(value).lower() != "true":
        return [
            f"{r.name}: the load balancer keeps no access logs; set webstack:app.accessLogs true"
        ]
    return []


def rds_deletion_protection(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if r.props.get("deletionProtection") is not True:
        return [
            f"{r.name}: deletion protection is off; set webstack:database.deletionProtection true"
        ]
    return []


def rds_multi_az(r: Resource, _: Mapping[str, Any]) -> list[str]:
    if r.props.get("multiAz") is not True:
        return [f"{r.name}: the database runs in one zone; set webstack:database.multiAz true"]
    return []


def rds_backups_retained(r: Resource, _: Mapping[str, Any]) -> list[str]:
    days = r.props.get("backupRetentionPeriod")
    # No backups at all is `rds-backups`'s finding, in every stack.
    if isinstance(days, int | float) and 1 <= days < PRODUCTION_BACKUP_DAYS:
        return [
            f"{r.name}: backups are kept {days!r} days; set webstack:database.backupRetentionDays "
            f"to at least {PRODUCTION_BACKUP_DAYS}"
        ]
    return []


# Stack rules ------------------------------------------------------------------------------------


def _of(resources: Iterable[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def _targets(resources: Sequence[Resource], type_: str, prop: str) -> set[str]:
    found: set[str] = set()
    for r in _of(resources, type_):
        found |= r.refs(prop)
    return found


def buckets_fully_configured(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    blocked = _targets(resources, PUBLIC_ACCESS_BLOCK, "bucket")
    encrypted = _targets(resources, ENCRYPTION, "bucket")
    violations: list[tuple[Resource | None, str]] = []
    for bucket in _of(resources, BUCKET):
        ids = _identities(bucket)
        missing = [
            kind
            for kind, targets in (
                ("a public access block", blocked),
                ("an encryption configuration", encrypted),
            )
            if not ids & targets
        ]
        if missing:
            violations.append(
                (
                    bucket,
                    f"{bucket.name}: has no {' and no '.join(missing)}; give every bucket both "
                    "(the Storage component does)",
                )
            )
    return violations


def queues_have_dead_letters(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    """Every queue sends what keeps failing to a dead-letter queue, or is one."""
    queues = _of(resources, QUEUE)
    dead_letters = set().union(*(q.refs("redrivePolicy") for q in queues))
    return [
        (
            queue,
            f"{queue.name}: has no redrive policy and is no queue's dead-letter queue; a job "
            "that keeps failing would be retried until it expires: give it a redrive policy",
        )
        for queue in queues
        if not queue.props.get("redrivePolicy") and not _identities(queue) & dead_letters
    ]


def database_only_from_app(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    app_groups: set[str] = set()
    for env in _of(resources, EB_ENVIRONMENT):
        value = _env_settings(env).get(("aws:autoscaling:launchconfiguration", "SecurityGroups"))
        app_groups |= {g.strip() for g in str(value or "").split(",") if g.strip()}
    fix = "the database may only admit the app's security group (database.allow_from(app.security_group))"
    violations: list[tuple[Resource | None, str]] = []
    for db in _of(resources, DB_INSTANCE):
        db_groups = db.refs("vpcSecurityGroupIds")
        for group in _of(resources, SG):
            if _identities(group) & db_groups and group.props.get("ingress"):
                violations.append((group, f"{group.name}: has inline ingress rules; {fix}"))
        for rule in _of(resources, SG_INGRESS):
            if not rule.refs("securityGroupId") & db_groups:
                continue
            source = rule.props.get("referencedSecurityGroupId")
            if source not in app_groups:
                what = (
                    source
                    or rule.props.get("cidrIpv4")
                    or rule.props.get("cidrIpv6")
                    or "a prefix list"
                )
                violations.append((rule, f"{rule.name}: admits {what} to {db.name}; {fix}"))
    return violations


def buckets_versioned(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    log_targets = _targets(resources, LOGGING, "targetBucket")
    enabled: set[str] = set()
    for v in _of(resources, VERSIONING):
        if (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled":
            enabled |= v.refs("bucket")
    return [
        (b, f"{b.name}: versioning is not enabled; set webstack:storage.versioning true")
        for b in _of(resources, BUCKET)
        if not _identities(b) & log_targets and not _identities(b) & enabled
    ]


def alarms_reach_a_person(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    subscribed = _targets(resources, TOPIC_SUBSCRIPTION, "topic")
    alarms = _of(resources, METRIC_ALARM)
    if alarms and any(alarm.refs("alarmActions") & subscribed for alarm in alarms):
        return []
    what = "no alarms" if not alarms else "alarms, but nobody subscribed to their topic"
    return [
        (
            None,
            f"the stack has {what}; set webstack:alarms.emails (alarms are on with "
            "webstack:protectData)",
        )
    ]


def backups_replicated(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    replicated = _targets(resources, BACKUP_REPLICATION, "sourceDbInstanceArn")
    return [
        (
            db,
            f"{db.name}: its backups stay in its own region; set "
            "webstack:database.backupReplicaRegion",
        )
        for db in _of(resources, DB_INSTANCE)
        if not _identities(db) & replicated
    ]


def data_protected(
    resources: Sequence[Resource], _: Mapping[str, Any]
) -> list[tuple[Resource | None, str]]:
    data = _of(resources, DB_INSTANCE) + [
        b for b in _of(resources, BUCKET) if b.props.get("forceDestroy") is not True
    ]
    return [
        (r, f"{r.name}: holds data but is not protected; set webstack:protectData true")
        for r in data
        if not r.protect
    ]


_EB = frozenset({EB_ENVIRONMENT})

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "s3-public-access-block",
        "Buckets block every form of public access.",
        frozenset({PUBLIC_ACCESS_BLOCK}),
        public_access_block,
    ),
    ResourceRule(
        "s3-owner-enforced",
        "Buckets disable ACLs (BucketOwnerEnforced).",
        frozenset({OWNERSHIP}),
        owner_enforced,
    ),
    ResourceRule(
        "s3-encryption",
        "Buckets encrypt at rest by default.",
        frozenset({ENCRYPTION}),
        bucket_encryption,
    ),
    ResourceRule(
        "s3-tls-only",
        "Bucket policies deny requests without TLS.",
        frozenset({BUCKET_POLICY}),
        tls_only_policy,
    ),
    ResourceRule(
        "rds-encrypted", "Databases encrypt their storage.", frozenset({DB_INSTANCE}), rds_encrypted
    ),
    ResourceRule(
        "rds-not-public",
        "Databases are not publicly accessible.",
        frozenset({DB_INSTANCE}),
        rds_private,
    ),
    ResourceRule(
        "rds-managed-password",
        "RDS keeps the master password in Secrets Manager; none is passed in.",
        frozenset({DB_INSTANCE}),
        rds_managed_password,
    ),
    ResourceRule(
        "rds-backups", "Databases keep automated backups.", frozenset({DB_INSTANCE}), rds_backups
    ),
    ResourceRule(
        "eb-application-load-balancer",
        "Load-balanced Beanstalk environments use an Application Load Balancer.",
        _EB,
        load_balanced(
            eb_setting(
                "aws:elasticbeanstalk:environment",
                "LoadBalancerType",
                "application",
                "the classic load balancer has no TLS policies or redirects",
            )
        ),
    ),
    ResourceRule(
        "eb-imdsv2",
        "Beanstalk instances accept only IMDSv2.",
        _EB,
        eb_setting(
            "aws:autoscaling:launchconfiguration",
            "DisableIMDSv1",
            "true",
            "IMDSv1 lets SSRF read the instance credentials",
        ),
    ),
    ResourceRule(
        "eb-enhanced-health",
        "Beanstalk environments report enhanced health.",
        _EB,
        eb_setting(
            "aws:elasticbeanstalk:healthreporting:system",
            "SystemType",
            "enhanced",
            "basic health misses failing instances behind the load balancer",
        ),
    ),
    ResourceRule(
        "sg-no-database-port-from-cidr",
        "No security group opens a database port to an address range.",
        frozenset({SG, SG_INGRESS, SG_RULE}),
        no_database_port_from_cidr,
    ),
    ResourceRule(
        "sg-only-web-ports-from-anywhere",
        "No security group opens anything but 80 and 443 to the internet.",
        frozenset({SG, SG_INGRESS, SG_RULE}),
        only_web_ports_from_anywhere,
    ),
    ResourceRule(
        "ec2-imdsv2",
        "EC2 instances (the NAT instance) accept only IMDSv2.",
        frozenset({EC2_INSTANCE}),
        ec2_imdsv2,
    ),
    ResourceRule(
        "ec2-root-encrypted",
        "EC2 instances encrypt their root volume.",
        frozenset({EC2_INSTANCE}),
        ec2_root_encrypted,
    ),
    ResourceRule(
        "sqs-encrypted", "Queues encrypt their messages at rest.", frozenset({QUEUE}), sqs_encrypted
    ),
    ResourceRule(
        "iam-no-sqs-star",
        "No IAM policy allows sqs:*.",
        frozenset({*POLICY_DOCUMENT_TYPES, "aws:iam/role:Role"}),
        no_sqs_star,
    ),
    ResourceRule(
        "iam-no-star-on-star",
        "No IAM policy allows every action on every resource.",
        frozenset({*POLICY_DOCUMENT_TYPES, "aws:iam/role:Role"}),
        no_star_on_star,
    ),
    ResourceRule(
        "https-required",
        "Production apps are served over HTTPS.",
        _EB,
        https_served,
        production_only=True,
    ),
    ResourceRule(
        "lb-access-logs",
        "Production load balancers keep access logs.",
        _EB,
        load_balancer_logged,
        production_only=True,
    ),
    ResourceRule(
        "rds-deletion-protection",
        "Production databases have deletion protection.",
        frozenset({DB_INSTANCE}),
        rds_deletion_protection,
        production_only=True,
    ),
    ResourceRule(
        "rds-backups-retained",
        f"Production databases keep at least {PRODUCTION_BACKUP_DAYS} days of backups.",
        frozenset({DB_INSTANCE}),
        rds_backups_retained,
        production_only=True,
    ),
    ResourceRule(
        "rds-multi-az",
        "Production databases run in two zones.",
        frozenset({DB_INSTANCE}),
        rds_multi_az,
        production_only=True,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "s3-bucket-fully-configured",
        "Every bucket has a public access block and encryption.",
        buckets_fully_configured,
    ),
    StackRule(
        "sqs-dead-letter",
        "Every queue has a dead-letter queue (or is one).",
        queues_have_dead_letters,
    ),
    StackRule(
        "rds-only-from-app",
        "The database's security group admits only the app's group.",
        database_only_from_app,
    ),
    StackRule(
        "s3-versioning",
        "Production buckets (but access-log targets) are versioned.",
        buckets_versioned,
        production_only=True,
    ),
    StackRule(
        "alarms-subscribed",
        "Production stacks have alarms that notify at least one subscriber.",
        alarms_reach_a_person,
        production_only=True,
    ),
    StackRule(
        "rds-backups-replicated",
        "Production databases copy their backups to a second region.",
        backups_replicated,
        production_only=True,
    ),
    StackRule(
        "data-protected",
        "Production data (databases, buckets that are not force-destroyable) is protected.",
        data_protected,
        production_only=True,
    ),
)


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str | None
    message: str


def applies(rule: ResourceRule | StackRule, config: Mapping[str, Any]) -> bool:
    """Production-only rules run only where the rule's config says `production: true`."""
    return not rule.production_only or bool(config.get(PRODUCTION, False))


def evaluate(
    resources: Sequence[Resource], config: Mapping[str, Mapping[str, Any]]
) -> list[Violation]:
    """Run every rule over `resources`. `config` is per rule, as in `--policy-pack-config`:
    `{"rds-multi-az": {"production": true}}` turns that production-only rule on."""
    found: list[Violation] = []
    for rule in RESOURCE_RULES:
        settings = config.get(rule.name, {})
        if not applies(rule, settings):
            continue
        for resource in resources:
            if resource.type in rule.types:
                found += [
                    Violation(rule.name, resource.urn, m) for m in rule.check(resource, settings)
                ]
    for stack_rule in STACK_RULES:
        settings = config.get(stack_rule.name, {})
        if not applies(stack_rule, settings):
            continue
        for culprit, message in stack_rule.check(resources, settings):
            found.append(Violation(stack_rule.name, culprit.urn if culprit else None, message))
    return found
