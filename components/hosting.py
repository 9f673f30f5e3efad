"""`webstack:hosting:AppHosting`: an Elastic Beanstalk environment that would pass a production review.

Application load balancer, IMDSv2 only, enhanced health, managed platform updates, logs streamed
to CloudWatch, rolling deploys, and IAM that grants the instances nothing but the web tier's
managed policy plus what `grant_*` helpers of other components add to `instance_role`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.iam import managed_policy_arn, service_trust_policy
from components.naming import physical_prefix
from components.settings import AppSettings, StorageSettings
from components.storage import Storage

EB_SERVICE = "elasticbeanstalk.amazonaws.com"
EC2_SERVICE = "ec2.amazonaws.com"
# AWS's documented trust condition for the Beanstalk service role.
EB_EXTERNAL_ID = "elasticbeanstalk"
SERVICE_ROLE_POLICIES = (
    "service-role/AWSElasticBeanstalkEnhancedHealth",
    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
)
INSTANCE_ROLE_POLICIES = ("AWSElasticBeanstalkWebTier",)

HTTP_PORT = 80
HTTPS_PORT = 443
APP_PORT = 80  # the platform's nginx proxy on each instance
ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ROOT_VOLUME_TYPE = "gp3"
PLATFORM_REGEX = r"^64bit Amazon Linux 2023 v\d+\.\d+\.\d+ running (?:{platform})$"
APP_VERSIONS_KEPT = 50
VERSIONS_EXPIRY_DAYS = 30  # superseded bundles in the app-versions bucket
ROLLING_BATCH_PERCENT = "30"
SCALE_OUT_CPU_PERCENT = "70"
SCALE_IN_CPU_PERCENT = "20"
REDIRECT_RULE_PRIORITY = 1
READY_TIMEOUT = "30m"

Setting = tuple[str, str, pulumi.Input[str]]


@dataclass(frozen=True)
class Placement:
    """Where the environment runs and what it is wired to (resolved by the caller)."""

    vpc_id: pulumi.Input[str]
    load_balancer_subnet_ids: pulumi.Input[list[str]]
    instance_subnet_ids: pulumi.Input[list[str]]
    instances_in_public_subnets: bool


def _csv(values: pulumi.Input[list[str]]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(values).apply(lambda v: ",".join(v))


def bundle_digest(folder: Path) -> str:
    """A digest of every file's path and bytes: the version label changes exactly when the app does."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def environment_settings(
    settings: AppSettings,
    placement: Placement,
    *,
    service_role_arn: pulumi.Input[str],
    instance_profile: pulumi.Input[str],
    instance_security_group_id: pulumi.Input[str],
    load_balancer_security_group_id: pulumi.Input[str],
    environment: Mapping[str, pulumi.Input[str]],
) -> list[aws.elasticbeanstalk.EnvironmentSettingArgs]:
    """Every option setting, sorted, each with resource="", only options an ALB environment reads."""
    updates = settings.managed_updates
    lb_vpc = "aws:ec2:vpc"
    launch = "aws:autoscaling:launchconfiguration"
    trigger = "aws:autoscaling:trigger"
    rolling = "aws:autoscaling:updatepolicy:rollingupdate"
    env_ns = "aws:elasticbeanstalk:environment"
    process = "aws:elasticbeanstalk:environment:process:default"
    logs = "aws:elasticbeanstalk:cloudwatch:logs"
    health_logs = "aws:elasticbeanstalk:cloudwatch:logs:health"
    managed = "aws:elasticbeanstalk:managedactions"
    retention = str(settings.log_retention_days)
    rows: list[Setting] = [
        (lb_vpc, "VPCId", placement.vpc_id),
        (lb_vpc, "Subnets", _csv(placement.instance_subnet_ids)),
        (lb_vpc, "ELBSubnets", _csv(placement.load_balancer_subnet_ids)),
        (lb_vpc, "ELBScheme", "public"),
        (lb_vpc, "AssociatePublicIpAddress", str(placement.instances_in_public_subnets).lower()),
        (launch, "IamInstanceProfile", instance_profile),
        (launch, "SecurityGroups", instance_security_group_id),
        (launch, "DisableIMDSv1", "true"),
        (launch, "RootVolumeType", ROOT_VOLUME_TYPE),
        ("aws:ec2:instances", "InstanceTypes", ",".join(settings.instance_types)),
        ("aws:autoscaling:asg", "MinSize", str(settings.min_instances)),
        ("aws:autoscaling:asg", "MaxSize", str(settings.max_instances)),
        (trigger, "MeasureName", "CPUUtilization"),
        (trigger, "Statistic", "Average"),
        (trigger, "Unit", "Percent"),
        (trigger, "UpperThreshold", SCALE_OUT_CPU_PERCENT),
        (trigger, "LowerThreshold", SCALE_IN_CPU_PERCENT),
        (rolling, "RollingUpdateEnabled", "true"),
        (rolling, "RollingUpdateType", "Health"),
        ("aws:elasticbeanstalk:command", "DeploymentPolicy", settings.deployment_policy),
        (env_ns, "EnvironmentType", "LoadBalanced"),
        (env_ns, "LoadBalancerType", "application"),
        (env_ns, "ServiceRole", service_role_arn),
        ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        (process, "Port", str(APP_PORT)),
        (process, "Protocol", "HTTP"),
        (process, "HealthCheckPath", settings.health_check_path),
        (process, "MatcherHTTPCode", "200"),
        (logs, "StreamLogs", "true"),
        (logs, "DeleteOnTerminate", "false"),
        (logs, "RetentionInDays", retention),
        (health_logs, "HealthStreamingEnabled", "true"),
        (health_logs, "DeleteOnTerminate", "false"),
        (health_logs, "RetentionInDays", retention),
        ("aws:elbv2:loadbalancer", "SecurityGroups", load_balancer_security_group_id),
        ("aws:elbv2:loadbalancer", "ManagedSecurityGroup", load_balancer_security_group_id),
        ("aws:elbv2:listener:default", "ListenerEnabled", "true"),
        (managed, "ManagedActionsEnabled", str(updates.enabled).lower()),
    ]
    if settings.deployment_policy in ("Rolling", "RollingWithAdditionalBatch"):
        rows += [
            ("aws:elasticbeanstalk:command", "BatchSizeType", "Percentage"),
            ("aws:elasticbeanstalk:command", "BatchSize", ROLLING_BATCH_PERCENT),
        ]
    if updates.enabled:
        rows += [
            (managed, "PreferredStartTime", updates.window),
            (managed, "ServiceRoleForManagedUpdates", service_role_arn),
            ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", updates.level),
        ]
    if settings.certificate_arn:
        https = f"aws:elbv2:listener:{HTTPS_PORT}"
        rows += [
            (https, "ListenerEnabled", "true"),
            (https, "Protocol", "HTTPS"),
            (https, "SSLCertificateArns", settings.certificate_arn),
            (https, "SSLPolicy", TLS_POLICY),
        ]
    env_vars = "aws:elasticbeanstalk:application:environment"
    rows += [(env_vars, key, value) for key, value in environment.items()]
    rows.sort(key=lambda row: (row[0], row[1]))
    return [
        aws.elasticbeanstalk.EnvironmentSettingArgs(
            namespace=namespace, name=name, value=value, resource=""
        )
        for namespace, name, value in rows
    ]


class AppHosting(pulumi.ComponentResource):
    """An Elastic Beanstalk application, its versions and one load-balanced environment."""

    application_name: pulumi.Output[str]
    environment_name: pulumi.Output[str]
    url: pulumi.Output[str]
    cname: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    instance_role_arn: pulumi.Output[str]
    # Other components grant the app access through this role (`storage.grant_read_write(...)`).
    instance_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup

    def __init__(
        self,
        name: str,
        settings: AppSettings,
        placement: Placement,
        environment: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("webstack:hosting:AppHosting", name, None, opts)
        self._prefix = name
        child = pulumi.ResourceOptions(parent=self)
        physical = physical_prefix()

        service_role = aws.iam.Role(
            f"{name}-service-role",
            assume_role_policy=service_trust_policy(
                EB_SERVICE, {"StringEquals": {"sts:ExternalId": EB_EXTERNAL_ID}}
            ),
            opts=child,
        )
        self._attach(service_role, "service", SERVICE_ROLE_POLICIES)
        self.instance_role = aws.iam.Role(
            f"{name}-instance-role",
            assume_role_policy=service_trust_policy(EC2_SERVICE),
            opts=child,
        )
        self._attach(self.instance_role, "instance", INSTANCE_ROLE_POLICIES)
        profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile", role=self.instance_role.name, opts=child
        )

        load_balancer_sg, self.security_group = self._security_groups(settings, placement.vpc_id)

        application = aws.elasticbeanstalk.Application(
            f"{name}-application",
            name=physical,
            description=f"{pulumi.get_project()} {pulumi.get_stack()}",
            appversion_lifecycle={
                "service_role": service_role.arn,
                "max_count": APP_VERSIONS_KEPT,
                "delete_source_from_s3": True,
            },
            opts=child,
        )
        version = self._application_version(settings, application)
        if settings.solution_stack_name:
            solution_stack: pulumi.Input[str] = settings.solution_stack_name
        else:
            solution_stack = aws.elasticbeanstalk.get_solution_stack_output(
                most_recent=True,
                name_regex=PLATFORM_REGEX.format(platform=settings.platform),
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).name
        env = aws.elasticbeanstalk.Environment(
            f"{name}-environment",
            name=physical if len(physical) >= 4 else f"{physical}-env",
            application=application.name,
            solution_stack_name=solution_stack,
            tier="WebServer",
            version=version.name,
            settings=environment_settings(
                settings,
                placement,
                service_role_arn=service_role.arn,
                instance_profile=profile.name,
                instance_security_group_id=self.security_group.id,
                load_balancer_security_group_id=load_balancer_sg.id,
                environment=environment,
            ),
            wait_for_ready_timeout=READY_TIMEOUT,
            opts=child,
        )
        if settings.certificate_arn:
            self._redirect_http_to_https(env)
        else:
            pulumi.log.warn(
                "webstack:app.certificateArn is not set: the app is served over plain HTTP only. "
                "Set it to an ACM certificate ARN to serve HTTPS and redirect HTTP to it.",
                resource=self,
            )

        scheme = "https" if settings.certificate_arn else "http"
        self.application_name = application.name
        self.environment_name = env.name
        self.cname = env.cname
        self.url = env.cname.apply(lambda cname: f"{scheme}://{cname}")
        self.security_group_id = self.security_group.id
        self.instance_role_arn = self.instance_role.arn
        self.register_outputs(
            {
                "application_name": self.application_name,
                "environment_name": self.environment_name,
                "url": self.url,
                "cname": self.cname,
                "security_group_id": self.security_group_id,
                "instance_role_arn": self.instance_role_arn,
            }
        )

    def _attach(self, role: aws.iam.Role, label: str, policies: tuple[str, ...]) -> None:
        for policy in policies:
            short = policy.rsplit("/", 1)[-1]
            aws.iam.RolePolicyAttachment(
                f"{self._prefix}-{label}-{short}",
                role=role.name,
                policy_arn=managed_policy_arn(policy, self),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _security_groups(
        self, settings: AppSettings, vpc_id: pulumi.Input[str]
    ) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        """The load balancer takes the web; the instances take only the load balancer."""
        name = self._prefix
        child = pulumi.ResourceOptions(parent=self)
        load_balancer = aws.ec2.SecurityGroup(
            f"{name}-lb-sg",
            vpc_id=vpc_id,
            description="App load balancer: HTTP(S) from the internet",
            opts=child,
        )
        instances = aws.ec2.SecurityGroup(
            f"{name}-instance-sg",
            vpc_id=vpc_id,
            description="App instances: app port from the load balancer",
            opts=child,
        )
        ports = [HTTP_PORT] + ([HTTPS_PORT] if settings.certificate_arn else [])
        for port in ports:
            for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-lb-{port}-{family}",
                    security_group_id=load_balancer.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    description=f"port {port} from the internet",
                    opts=child,
                )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-lb-to-instances",
            security_group_id=load_balancer.id,
            referenced_security_group_id=instances.id,
            ip_protocol="tcp",
            from_port=APP_PORT,
            to_port=APP_PORT,
            description="to the app instances",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-instances-from-lb",
            security_group_id=instances.id,
            referenced_security_group_id=load_balancer.id,
            ip_protocol="tcp",
            from_port=APP_PORT,
            to_port=APP_PORT,
            description="app port from the load balancer",
            opts=child,
        )
        # Instances call AWS APIs, package mirrors and the database.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-instances-out",
            security_group_id=instances.id,
            ip_protocol="-1",
            cidr_ipv4=ANYWHERE_IPV4,
            description="outbound to AWS APIs, package mirrors and the database",
            opts=child,
        )
        return load_balancer, instances

    def _application_version(
        self, settings: AppSettings, application: aws.elasticbeanstalk.Application
    ) -> aws.elasticbeanstalk.ApplicationVersion:
        """Zip `sourceBundle`, upload it to a private versions bucket, register it as a version."""
        name = self._prefix
        folder = Path(settings.source_bundle)
        versions = Storage(
            f"{name}-versions",
            StorageSettings(
                force_destroy=True, noncurrent_version_expiration_days=VERSIONS_EXPIRY_DAYS
            ),
            protect=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Instances fetch the bundle on deploy.
        versions.grant_read(self.instance_role)
        label = f"{physical_prefix()}-{bundle_digest(folder)}"
        bundle = aws.s3.BucketObjectv2(
            f"{name}-bundle",
            bucket=versions.bucket_name,
            key=f"{label}.zip",
            source=pulumi.FileArchive(str(folder)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.elasticbeanstalk.ApplicationVersion(
            f"{name}-version",
            name=label,
            application=application.name,
            bucket=versions.bucket_name,
            key=bundle.key,
            description=f"{settings.source_bundle} at {label}",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _redirect_http_to_https(self, env: aws.elasticbeanstalk.Environment) -> None:
        """Beanstalk has no option for the redirect: add a rule to its ALB's HTTP listener."""
        listener = aws.lb.get_listener_output(
            load_balancer_arn=env.load_balancers[0],
            port=HTTP_PORT,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        aws.lb.ListenerRule(
            f"{self._prefix}-https-redirect",
            listener_arn=listener.arn,
            priority=REDIRECT_RULE_PRIORITY,
            actions=[
                {
                    "type": "redirect",
                    "redirect": {
                        "port": str(HTTPS_PORT),
                        "protocol": "HTTPS",
                        "status_code": "HTTP_301",
                    },
                }
            ],
            conditions=[{"path_pattern": {"values": ["/*"]}}],
            opts=pulumi.ResourceOptions(parent=self),
        )
