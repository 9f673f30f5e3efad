"""`webstack:hosting:AppHosting`: an Elastic Beanstalk environment that would pass a production review.

Application load balancer (or, for cheap stacks, a single instance on an Elastic IP), IMDSv2
only, enhanced health, managed platform updates, logs streamed to CloudWatch, rolling deploys,
Spot where asked, and IAM that grants the instances nothing but the web tier's managed policy
plus what `grant_*` helpers of other components add to `instance_role`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.edge import alias_record, validated_certificate, web_acl
from components.hosting.environment import (
    READY_TIMEOUT,
    application,
    application_version,
    service_role,
)
from components.hosting.options import (
    Setting,
    capacity_options,
    csv,
    deployment_options,
    health_and_log_options,
    instance_options,
    managed_update_options,
    spot_options,
    to_settings,
)
from components.hosting.settings import AppConnections, AppSettings
from components.instances import (
    ANYWHERE_IPV4,
    SSM_MANAGED_INSTANCE_POLICY,
    instance_role,
    outbound_anywhere,
)
from components.naming import environment_name, physical_prefix
from components.storage import AccessLogDestination, Storage, StorageArgs, StorageSettings

# The web tier's, and Systems Manager's core policy: operators open a shell or forward a port to
# the database through Session Manager, with no inbound port and no SSH key.
INSTANCE_ROLE_POLICIES = ("AWSElasticBeanstalkWebTier", SSM_MANAGED_INSTANCE_POLICY)

HTTP_PORT = 80
HTTPS_PORT = 443
APP_PORT = 80  # the platform's nginx proxy on each instance
ANYWHERE_IPV6 = "::/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
VERSIONS_EXPIRY_DAYS = 30  # superseded bundles in the app-versions bucket
REDIRECT_RULE_PRIORITY = 1


@dataclass(frozen=True)
class AppHostingArgs:
    """What `AppHosting` is built from: its settings, where it runs and what it connects to."""

    vpc_id: pulumi.Input[str]
    # The load balancer's subnets, and a single instance's (it takes an Elastic IP there).
    public_subnet_ids: pulumi.Input[list[str]]
    # Where load-balanced instances run: private subnets behind NAT, or public ones without.
    app_subnet_ids: pulumi.Input[list[str]]
    # Without NAT the instances sit in public subnets and need public IPs to reach AWS APIs.
    instances_in_public_subnets: bool
    connections: AppConnections
    # The newest solution stack of the configured branch (looked up from `platform`), or the
    # exact `solutionStackName`; the environment keeps the one it was first given (see _platform).
    solution_stack: pulumi.Input[str]
    settings: AppSettings = field(default_factory=AppSettings)
    # The stack's log bucket, for the versions bucket's access logs (with `storage.accessLogs`).
    access_logs: AccessLogDestination | None = None
    # Where the load balancer writes its access logs (with `app.accessLogs`).
    load_balancer_logs: AccessLogDestination | None = None
    # Elastic Beanstalk's hosted zone in the region: an alias to the environment's CNAME names it.
    environment_zone_id: str | None = None
    # The app subnets' way out (the network's `egress`): instances launched before it exists
    # cannot reach Beanstalk's service, and the environment's creation fails.
    egress: Sequence[pulumi.Resource] = ()


def _environment_waits_for(args: AppHostingArgs) -> list[pulumi.Resource]:
    """What must exist before the environment: the log bucket's policy, which ELB checks when
    access logs are turned on, and the app subnets' way out."""
    logs = args.load_balancer_logs.ready if args.load_balancer_logs else ()
    return [*logs, *args.egress]


@dataclass(frozen=True)
class Wiring:
    """The resources an environment's option settings name, created by `AppHosting` itself."""

    service_role_arn: pulumi.Input[str]
    instance_profile: pulumi.Input[str]
    instance_security_group_id: pulumi.Input[str]
    # None on a single instance: there is no load balancer.
    load_balancer_security_group_id: pulumi.Input[str] | None
    # The HTTPS listener's certificate: the stack's own, or the one made for its domain.
    certificate_arn: pulumi.Input[str] | None = None


def environment_settings(
    args: AppHostingArgs, wiring: Wiring
) -> list[aws.elasticbeanstalk.EnvironmentSettingArgs]:
    """Every option setting, sorted, each with resource="", only the options the environment's
    type reads: a single instance gets none of the load balancer's, scaling's or rolling's."""
    settings = args.settings
    rows = [
        *_placement_options(args, wiring),
        *spot_options(settings.spot),
        *deployment_options(settings.deployment_policy, settings.single),
        *health_and_log_options(
            settings.environment_type, wiring.service_role_arn, settings.log_retention_days
        ),
        *managed_update_options(settings.managed_updates, wiring.service_role_arn),
    ]
    if not settings.single:
        rows += [
            *capacity_options(settings.min_instances, settings.max_instances),
            *_balanced_health_options(settings),
            *_load_balancer_options(args, wiring),
        ]
    env_vars = "aws:elasticbeanstalk:application:environment"
    variables = {**settings.environment_variables, **args.connections.variables()}
    rows += [(env_vars, key, value) for key, value in variables.items()]
    return to_settings(rows)


def _placement_options(args: AppHostingArgs, wiring: Wiring) -> list[Setting]:
    """Where the load balancer and the instances run, and what the instances are. A single
    instance runs in a public subnet on its Elastic IP (AssociatePublicIpAddress does nothing
    there)."""
    vpc = "aws:ec2:vpc"
    rows: list[Setting] = [
        (vpc, "VPCId", args.vpc_id),
        # The instances' group admits the load balancer alone (or, on a single instance, the
        # app's ports).
        *instance_options(
            wiring.instance_profile,
            wiring.instance_security_group_id,
            args.settings.instance_types,
        ),
    ]
    if args.settings.single:
        return [*rows, (vpc, "Subnets", csv(args.public_subnet_ids))]
    return [
        *rows,
        (vpc, "Subnets", csv(args.app_subnet_ids)),
        (vpc, "ELBSubnets", csv(args.public_subnet_ids)),
        (vpc, "ELBScheme", "public"),
        (vpc, "AssociatePublicIpAddress", str(args.instances_in_public_subnets).lower()),
    ]


def _balanced_health_options(settings: AppSettings) -> list[Setting]:
    """Behind a load balancer, health is the app's health path (a single instance is judged by
    its EC2 status)."""
    process = "aws:elasticbeanstalk:environment:process:default"
    return [
        ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
        (process, "Port", str(APP_PORT)),
        (process, "Protocol", "HTTP"),
        (process, "HealthCheckPath", settings.health_check_path),
        (process, "MatcherHTTPCode", "200"),
    ]


def _load_balancer_options(args: AppHostingArgs, wiring: Wiring) -> list[Setting]:
    """The ALB's own security group, HTTP, HTTPS with a modern TLS policy when certified, and
    access logs when asked for."""
    group = wiring.load_balancer_security_group_id
    if group is None:
        raise ValueError("a load-balanced environment needs the load balancer's security group")
    balancer = "aws:elbv2:loadbalancer"
    rows: list[Setting] = [
        (balancer, "SecurityGroups", group),
        (balancer, "ManagedSecurityGroup", group),
        ("aws:elbv2:listener:default", "ListenerEnabled", "true"),
    ]
    if wiring.certificate_arn is not None:
        https = f"aws:elbv2:listener:{HTTPS_PORT}"
        rows += [
            (https, "ListenerEnabled", "true"),
            (https, "Protocol", "HTTPS"),
            (https, "SSLCertificateArns", wiring.certificate_arn),
            (https, "SSLPolicy", TLS_POLICY),
        ]
    if args.load_balancer_logs is not None:
        rows += [
            (balancer, "AccessLogsS3Enabled", "true"),
            (balancer, "AccessLogsS3Bucket", args.load_balancer_logs.bucket),
            (balancer, "AccessLogsS3Prefix", args.load_balancer_logs.prefix),
        ]
    return rows


class AppHosting(Component):
    """An Elastic Beanstalk application, its versions and one environment: load-balanced, or a
    single instance."""

    application_name: pulumi.Output[str]
    environment_name: pulumi.Output[str]
    url: pulumi.Output[str]
    cname: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    instance_role_arn: pulumi.Output[str]
    # The environment's application load balancer, for alarms on its metrics; None on a single
    # instance.
    load_balancer_arn: pulumi.Output[str] | None
    # Other components grant the app access through this role (`storage.grant_read_write(...)`).
    instance_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup
    # What the worker tier shares: the application, Beanstalk's service role, the pinned
    # platform, the versions bucket and the app's own version.
    application: aws.elasticbeanstalk.Application
    service_role: aws.iam.Role
    platform: pulumi.Output[str]
    versions: Storage
    version: aws.elasticbeanstalk.ApplicationVersion

    def __init__(
        self, name: str, args: AppHostingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:hosting:AppHosting", name, opts)
        settings = args.settings
        self.service_role = service_role(self)
        self.instance_role, profile = instance_role(self, INSTANCE_ROLE_POLICIES)
        load_balancer_sg, self.security_group = self._security_groups(settings, args.vpc_id)
        self.application = application(self, self.service_role)
        self.versions = self._versions_bucket(args)
        self.version = application_version(
            self, self.versions, self.application, settings.source_bundle
        )
        self.platform = self._platform(args)
        env = aws.elasticbeanstalk.Environment(
            f"{name}-environment",
            name=environment_name(physical_prefix()),
            application=self.application.name,
            solution_stack_name=self.platform,
            tier="WebServer",
            version=self.version.name,
            settings=environment_settings(
                args,
                Wiring(
                    service_role_arn=self.service_role.arn,
                    instance_profile=profile.name,
                    instance_security_group_id=self.security_group.id,
                    load_balancer_security_group_id=load_balancer_sg.id
                    if load_balancer_sg
                    else None,
                    certificate_arn=self._certificate(settings),
                ),
            ),
            wait_for_ready_timeout=READY_TIMEOUT,
            # A fixed name: a replacement must delete the old one first. A new environment type
            # replaces the environment: Beanstalk takes a load balancer's type only at creation.
            opts=self.child(
                depends_on=_environment_waits_for(args),
                delete_before_replace=True,
                replacement_trigger=settings.environment_type,
            ),
        )
        self._front(args, env)
        self.application_name = self.application.name
        self.environment_name = env.name
        self.cname = env.cname
        self.url = self._url(settings, env)
        self.security_group_id = self.security_group.id
        self.instance_role_arn = self.instance_role.arn
        self.load_balancer_arn = (
            None if settings.single else env.load_balancers.apply(lambda arns: arns[0])
        )
        self.register_outputs(
            {
                "application_name": self.application_name,
                "environment_name": self.environment_name,
                "url": self.url,
                "cname": self.cname,
                "security_group_id": self.security_group_id,
                "instance_role_arn": self.instance_role_arn,
                "load_balancer_arn": self.load_balancer_arn,
            }
        )

    def _certificate(self, settings: AppSettings) -> pulumi.Input[str] | None:
        """The load balancer's certificate: the one given, or one made for the domain."""
        domain = settings.domain
        if domain.name and domain.hosted_zone_id:
            return validated_certificate(self, domain.name, domain.hosted_zone_id)
        return settings.certificate_arn

    def _front(self, args: AppHostingArgs, env: aws.elasticbeanstalk.Environment) -> None:
        """The redirect to HTTPS, the domain's alias and the web ACL, each when configured."""
        settings = args.settings
        if settings.single:
            # The bundle's own nginx serves HTTPS on 443 where instanceHttps says so.
            if not settings.instance_https:
                pulumi.log.warn(
                    "webstack:app.environmentType is SingleInstance without instanceHttps: the "
                    "app is served over plain HTTP only, on the instance's Elastic IP. HTTPS on a "
                    "single instance means a certificate on the instance itself (instanceHttps, "
                    "with an nginx server on 443 in the bundle); ACM certificates need a load "
                    "balancer.",
                    resource=self,
                )
        elif settings.https:
            self._redirect_http_to_https(env)
        else:
            pulumi.log.warn(
                "webstack:app.domain and certificateArn are not set: the app is served over "
                "plain HTTP only. Set domain (or certificateArn) to serve HTTPS and redirect "
                "HTTP to it.",
                resource=self,
            )
        domain = settings.domain
        if domain.name and domain.hosted_zone_id:
            if args.environment_zone_id is None:
                raise ValueError("a domain needs the region's Elastic Beanstalk hosted zone id")
            alias_record(self, domain.name, domain.hosted_zone_id, env, args.environment_zone_id)
        if settings.waf:
            web_acl(
                self,
                env.load_balancers.apply(lambda arns: arns[0]),
                settings.waf_rate_limit,
                physical_prefix(),
                settings.log_retention_days,
            )

    @staticmethod
    def _url(settings: AppSettings, env: aws.elasticbeanstalk.Environment) -> pulumi.Output[str]:
        if settings.domain.name:
            return pulumi.Output.from_input(f"https://{settings.domain.name}")
        scheme = "https" if settings.https else "http"
        return env.cname.apply(lambda cname: f"{scheme}://{cname}")

    def _platform(self, args: AppHostingArgs) -> pulumi.Output[str]:
        """The solution stack, pinned: the newest of the configured branch when the branch was
        last set, kept in the stack's state (a Stash) until the branch in config changes.

        So a routine `pulumi up` never moves the platform; a new `platform` (or
        `solutionStackName`) replaces the pin and is applied; Beanstalk's managed updates move
        minor and patch versions inside their window."""
        configured = args.settings.solution_stack_name or args.settings.platform
        pin = pulumi.Stash(
            f"{self.prefix}-platform",
            input=args.solution_stack,
            opts=self.child(replacement_trigger=configured),
        )
        return pulumi.Output.from_input(pin.output).apply(str)

    def _security_groups(
        self, settings: AppSettings, vpc_id: pulumi.Input[str]
    ) -> tuple[aws.ec2.SecurityGroup | None, aws.ec2.SecurityGroup]:
        """The load balancer takes the web; the instances take only the load balancer. A single
        instance takes the web itself, on the app's HTTP(S) ports only."""
        name = self.prefix
        child = self.child()
        instances = aws.ec2.SecurityGroup(
            f"{name}-instance-sg",
            vpc_id=vpc_id,
            description="App instance: HTTP(S) from the internet"
            if settings.single
            else "App instances: app port from the load balancer",
            opts=child,
        )
        outbound_anywhere(
            self,
            f"{name}-instances-out",
            instances,
            "outbound to AWS APIs, package mirrors and the database",
        )
        ports = [HTTP_PORT] + ([HTTPS_PORT] if settings.https else [])
        if settings.single:
            self._open_to_the_internet(instances, "instance", ports)
            return None, instances
        load_balancer = aws.ec2.SecurityGroup(
            f"{name}-lb-sg",
            vpc_id=vpc_id,
            description="App load balancer: HTTP(S) from the internet",
            opts=child,
        )
        self._open_to_the_internet(load_balancer, "lb", ports)
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
        return load_balancer, instances

    def _open_to_the_internet(
        self, group: aws.ec2.SecurityGroup, label: str, ports: list[int]
    ) -> None:
        """Ingress on each port from every IPv4 and IPv6 address."""
        for port in ports:
            for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{self.prefix}-{label}-{port}-{family}",
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    description=f"port {port} from the internet",
                    opts=self.child(),
                )

    def _versions_bucket(self, args: AppHostingArgs) -> Storage:
        """A private bucket for the application's versions, both tiers': instances fetch their
        bundle on deploy, and the version lifecycle deletes superseded ones."""
        versions = Storage(
            f"{self.prefix}-versions",
            StorageArgs(
                StorageSettings(
                    force_destroy=True, noncurrent_version_expiration_days=VERSIONS_EXPIRY_DAYS
                ),
                protect=False,
                log_to=args.access_logs,
            ),
            opts=self.child(),
        )
        versions.grant_read(self.instance_role)
        versions.grant_delete(self.service_role)
        return versions

    def _redirect_http_to_https(self, env: aws.elasticbeanstalk.Environment) -> None:
        """Beanstalk has no option for the redirect: add a rule to its ALB's HTTP listener."""
        listener = aws.lb.get_listener_output(
            load_balancer_arn=env.load_balancers[0],
            port=HTTP_PORT,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        aws.lb.ListenerRule(
            f"{self.prefix}-https-redirect",
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
            opts=self.child(),
        )
