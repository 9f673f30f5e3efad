"""`webstack:network:Network`: a VPC fit for production, or an existing one passed through."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.fields import Check, Choice, Flag, Text, Texts, Whole, setting
from components.iam import account_id, policy_document, service_trust_policy
from components.logs import LOG_RETENTION_DAYS
from components.nat_instance import NatInstance, NatInstanceArgs

NatMode = Literal["none", "single", "perAz", "instance"]
NAT_MODES: tuple[NatMode, ...] = ("none", "single", "perAz", "instance")
# The AWS services an app's private subnets may reach through interface endpoints (AWS
# PrivateLink, "AWS services that integrate with AWS PrivateLink"): com.amazonaws.<region>.<name>.
ENDPOINT_SERVICES = (
    "ssm",
    "ssmmessages",
    "ec2messages",
    "secretsmanager",
    "logs",
    "monitoring",
    "sqs",
    "kms",
    "sts",
    "elasticbeanstalk",
    "elasticbeanstalk-health",
)
HTTPS_PORT = 443

ANYWHERE = "0.0.0.0/0"
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
# One minute keeps flow records close to real time (the other accepted value is 600 seconds).
FLOW_LOG_AGGREGATION_SECONDS = 60
# Subnets take a fixed 1/16 of the VPC each (public in slots 0-5, private in 8-13), so adding a
# zone later never moves an existing subnet.
SUBNET_EXTRA_BITS = 4
PRIVATE_SLOT_OFFSET = 8
SMALLEST_SUBNET_PREFIX = 28  # AWS's smallest subnet
LARGEST_VPC_PREFIX = 16  # AWS's largest VPC
# Blocks a VPC cannot use: link-local 169.254.0.0/16 is refused by AWS ("VPC CIDR blocks", Amazon
# VPC user guide); "this network" 0.0.0.0/8, loopback 127.0.0.0/8 and multicast 224.0.0.0/4 are
# special-purpose blocks (RFC 6890) that no subnet can route.
REFUSED_BLOCKS = tuple(
    ipaddress.IPv4Network(block)
    for block in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4")
)

_SUBNET_IDS = Texts(
    Text(r"subnet-[0-9a-f]{8,17}", "subnet ids (subnet-0123456789abcdef0) in different zones"),
    # Two of each: an RDS subnet group and an application load balancer both span two zones.
    min_items=2,
)


@dataclass(frozen=True)
class NetworkSettings:
    """`webstack:network`: a new VPC carved from `cidr_block`, or an existing one passed through."""

    cidr_block: str = setting(
        "10.0.0.0/16",
        Text(
            r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}",
            "an IPv4 CIDR block from /16 to /24, such as 10.0.0.0/16",
        ),
        "the VPC's address block; each subnet is a fixed 1/16 of it",
    )
    availability_zones: int = setting(
        2, Whole(2, 6), "zones the subnets, the database and the instances spread over"
    )
    nat_gateways: NatMode = setting(
        "single",
        Choice(NAT_MODES),
        "`none`: app instances in public subnets with public IPs, no NAT cost; `single`: one NAT "
        "gateway for every zone; `perAz`: one per zone; `instance`: one NAT instance (EC2) for "
        "every zone, the cheapest way out",
    )
    nat_instance_type: str = setting(
        "t4g.nano",
        Text(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type such as t4g.nano"),
        "with `natGateways: instance`: its EC2 type (Graviton t4g.nano: about $3 a month)",
    )
    endpoints: tuple[str, ...] = setting(
        (),
        Texts(Choice(ENDPOINT_SERVICES), max_items=len(ENDPOINT_SERVICES)),
        "AWS services reached from the VPC through interface endpoints (private DNS, HTTPS from "
        "the VPC only), each billed per zone-hour",
    )
    flow_logs: bool = setting(True, Flag(), "VPC flow logs (all traffic) to CloudWatch Logs")
    flow_log_retention_days: int = setting(
        30, Whole(choices=LOG_RETENTION_DAYS), "days CloudWatch keeps the flow logs"
    )
    vpc_id: str | None = setting(
        None,
        Text(r"vpc-[0-9a-f]{8,17}", "a VPC id such as vpc-0123456789abcdef0"),
        "bring your own network, with both subnet lists: nothing is created",
    )
    public_subnet_ids: tuple[str, ...] = setting(
        (), _SUBNET_IDS, "with `vpcId`: subnets for the load balancer"
    )
    private_subnet_ids: tuple[str, ...] = setting(
        (), _SUBNET_IDS, "with `vpcId`: subnets for the database and the instances"
    )

    @property
    def bring_your_own(self) -> bool:
        return self.vpc_id is not None

    def checked(self, check: Check) -> NetworkSettings:
        own = ("vpc_id", "public_subnet_ids", "private_subnet_ids")
        default_type = NetworkSettings.__dataclass_fields__["nat_instance_type"].default
        if self.nat_instance_type != default_type and self.nat_gateways != "instance":
            check.report(
                "nat_instance_type",
                f"has no effect with natGateways {self.nat_gateways!r} (only with 'instance'); "
                "remove it",
            )
        if not any(check.given(name) for name in own):
            self._check_cidr(check)
            return self
        if not all(check.given(name) for name in own):
            check.report(
                None,
                "bringing your own network needs vpcId, publicSubnetIds and privateSubnetIds "
                "together",
            )
        if set(self.public_subnet_ids) & set(self.private_subnet_ids):
            check.report(None, "a subnet cannot be both public and private")
        for name in (
            "cidr_block",
            "availability_zones",
            "nat_gateways",
            "nat_instance_type",
            "flow_logs",
            "endpoints",
        ):
            if check.given(name):
                check.report(
                    name, "has no effect with vpcId (the network is not created); remove it"
                )
        return self

    def _check_cidr(self, check: Check) -> None:
        try:
            network = ipaddress.IPv4Network(self.cidr_block, strict=True)
        except ValueError:
            check.fail(
                "cidr_block",
                self.cidr_block,
                "an IPv4 CIDR block with no host bits set, such as 10.0.0.0/16",
            )
            return
        refused = [str(b) for b in REFUSED_BLOCKS if network.overlaps(b)]
        if refused:
            check.fail(
                "cidr_block",
                self.cidr_block,
                f"a block outside {refused[0]}, which a VPC cannot use; a private range such "
                "as 10.0.0.0/16 or 172.16.0.0/16",
            )
        elif network.prefixlen < LARGEST_VPC_PREFIX:
            check.fail("cidr_block", self.cidr_block, "a block from /16 (AWS's largest VPC) to /24")
        elif network.prefixlen + SUBNET_EXTRA_BITS > SMALLEST_SUBNET_PREFIX:
            check.report(
                "cidr_block",
                f"{self.cidr_block!r} is too small for {self.availability_zones} zones: each zone "
                "needs a public and a private subnet of 1/16 of the block "
                f"(/{network.prefixlen + SUBNET_EXTRA_BITS}) and AWS's smallest subnet is "
                f"/{SMALLEST_SUBNET_PREFIX}; use a /24 or larger block",
            )


@dataclass(frozen=True)
class NetworkArgs:
    """What `Network` is built from: its settings and the zones the region offers (looked up)."""

    settings: NetworkSettings = field(default_factory=NetworkSettings)
    # Zone names in the region's order; the first `availability_zones` of them are used.
    zones: Sequence[str] = ()


def subnet_cidrs(cidr_block: str, zones: int) -> tuple[list[str], list[str]]:
    """Public and private CIDRs per zone: fixed 1/16 slots, so adding a zone moves nothing."""
    slots = list(ipaddress.IPv4Network(cidr_block).subnets(prefixlen_diff=SUBNET_EXTRA_BITS))
    public = [str(slots[i]) for i in range(zones)]
    private = [str(slots[PRIVATE_SLOT_OFFSET + i]) for i in range(zones)]
    return public, private


def subnets_offered(
    offered: Sequence[str], zone_names: Sequence[str], subnet_ids: Sequence[str]
) -> list[str]:
    """The subnets (one per zone, in `zone_names`' order) in the zones a service is offered in."""
    return [s for zone, s in zip(zone_names, subnet_ids, strict=True) if zone in offered]


@dataclass
class _Zone:
    """One zone's public subnet, private subnet and private route table."""

    public: aws.ec2.Subnet
    private: aws.ec2.Subnet
    private_table: aws.ec2.RouteTable


class Network(Component):
    """Public subnets for the load balancer (and, without NAT, the app), private ones for the rest."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    app_subnet_ids: pulumi.Output[list[str]]
    # True when app instances sit in public subnets (no NAT) and need public IPs to reach AWS APIs.
    app_in_public_subnets: bool
    # The private subnets' default routes (through NAT): what instances there need before they
    # launch. Empty without NAT (the app is in public subnets) or with your own network.
    egress: list[aws.ec2.Route]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:network:Network", name, opts)
        settings = args.settings
        self.egress = []
        if settings.bring_your_own:
            self.vpc_id = pulumi.Output.from_input(settings.vpc_id or "")
            self.public_subnet_ids = pulumi.Output.from_input(list(settings.public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(settings.private_subnet_ids))
            self.app_in_public_subnets = False
        else:
            self._build(settings, args.zones)
        self.app_subnet_ids = (
            self.public_subnet_ids if self.app_in_public_subnets else self.private_subnet_ids
        )
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "app_subnet_ids": self.app_subnet_ids,
            }
        )

    def _build(self, settings: NetworkSettings, zone_names: Sequence[str]) -> None:
        if len(zone_names) < settings.availability_zones:
            raise ValueError(
                f"{settings.availability_zones} zones asked for, {len(zone_names)} given"
            )
        name = self.prefix
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=self.child(),
        )
        self.vpc_id = vpc.id
        # Strip every rule from the default security group so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=self.child())
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=self.child()
        )
        public_table = self._public_route_table(vpc, gateway)
        public_cidrs, private_cidrs = subnet_cidrs(settings.cidr_block, settings.availability_zones)
        zones = [
            self._zone(vpc, public_table, index, zone_names[index], public_cidrs, private_cidrs)
            for index in range(settings.availability_zones)
        ]
        self._nat_routes(settings, vpc, gateway, zones)
        self.app_in_public_subnets = settings.nat_gateways == "none"
        self._s3_endpoint(vpc, [z.private_table for z in zones], public_table)
        if settings.endpoints:
            private = [z.private for z in zones]
            self._interface_endpoints(vpc, settings, private, zone_names[: len(zones)])
        if settings.flow_logs:
            self._flow_logs(vpc, settings.flow_log_retention_days)
        self.public_subnet_ids = pulumi.Output.all(*[z.public.id for z in zones])
        self.private_subnet_ids = pulumi.Output.all(*[z.private.id for z in zones])

    def _public_route_table(
        self, vpc: aws.ec2.Vpc, gateway: aws.ec2.InternetGateway
    ) -> aws.ec2.RouteTable:
        """One table for every public subnet, with the default route to the internet gateway."""
        table = aws.ec2.RouteTable(
            f"{self.prefix}-public-rt",
            vpc_id=vpc.id,
            tags={"Name": f"{self.prefix}-public"},
            opts=self.child(),
        )
        aws.ec2.Route(
            f"{self.prefix}-public-default-route",
            route_table_id=table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=gateway.id,
            opts=self.child(),
        )
        return table

    def _zone(
        self,
        vpc: aws.ec2.Vpc,
        public_table: aws.ec2.RouteTable,
        index: int,
        zone: str,
        public_cidrs: list[str],
        private_cidrs: list[str],
    ) -> _Zone:
        """A public and a private subnet in one zone; the private one gets its own route table."""
        letter = chr(ord("a") + index)
        public = self._subnet(vpc, f"public-{letter}", public_cidrs[index], zone, "public")
        aws.ec2.RouteTableAssociation(
            f"{self.prefix}-public-{letter}-rta",
            subnet_id=public.id,
            route_table_id=public_table.id,
            opts=self.child(),
        )
        private = self._subnet(vpc, f"private-{letter}", private_cidrs[index], zone, "private")
        table = aws.ec2.RouteTable(
            f"{self.prefix}-private-{letter}-rt",
            vpc_id=vpc.id,
            tags={"Name": f"{self.prefix}-private-{letter}"},
            opts=self.child(),
        )
        aws.ec2.RouteTableAssociation(
            f"{self.prefix}-private-{letter}-rta",
            subnet_id=private.id,
            route_table_id=table.id,
            opts=self.child(),
        )
        return _Zone(public, private, table)

    def _subnet(
        self, vpc: aws.ec2.Vpc, label: str, cidr: str, zone: str, tier: str
    ) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{self.prefix}-{label}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            # Instances that need a public IP ask for one explicitly (Beanstalk does, without NAT).
            map_public_ip_on_launch=False,
            tags={"Name": f"{self.prefix}-{label}", "tier": tier},
            opts=self.child(),
        )

    def _nat_routes(
        self,
        settings: NetworkSettings,
        vpc: aws.ec2.Vpc,
        gateway: aws.ec2.InternetGateway,
        zones: list[_Zone],
    ) -> None:
        """`single`: one NAT for every zone; `perAz`: each zone through its own; `instance`:
        every zone through one NAT instance; `none`: no route out. The routes keep their names
        across the modes, so switching between them updates each route's target in place."""
        if settings.nat_gateways == "none":
            return
        if settings.nat_gateways == "instance":
            nat = NatInstance(
                f"{self.prefix}-nat-instance",
                NatInstanceArgs(
                    instance_type=settings.nat_instance_type,
                    vpc_id=vpc.id,
                    vpc_cidr=settings.cidr_block,
                    subnet_id=zones[0].public.id,
                    internet_gateway=gateway,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for index, zone in enumerate(zones):
                self._default_route(index, zone, network_interface_id=nat.network_interface_id)
            return
        count = len(zones) if settings.nat_gateways == "perAz" else 1
        nats: list[aws.ec2.NatGateway] = []
        for index in range(count):
            letter = chr(ord("a") + index)
            eip = aws.ec2.Eip(
                f"{self.prefix}-nat-{letter}-eip",
                domain="vpc",
                tags={"Name": f"{self.prefix}-nat-{letter}"},
                opts=self.child(depends_on=[gateway]),
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{self.prefix}-nat-{letter}",
                    allocation_id=eip.id,
                    subnet_id=zones[index].public.id,
                    tags={"Name": f"{self.prefix}-nat-{letter}"},
                    opts=self.child(depends_on=[gateway]),
                )
            )
        for index, zone in enumerate(zones):
            self._default_route(index, zone, nat_gateway_id=nats[index % count].id)

    def _default_route(
        self,
        index: int,
        zone: _Zone,
        nat_gateway_id: pulumi.Input[str] | None = None,
        network_interface_id: pulumi.Input[str] | None = None,
    ) -> None:
        letter = chr(ord("a") + index)
        route = aws.ec2.Route(
            f"{self.prefix}-private-{letter}-default-route",
            route_table_id=zone.private_table.id,
            destination_cidr_block=ANYWHERE,
            nat_gateway_id=nat_gateway_id,
            network_interface_id=network_interface_id,
            opts=self.child(),
        )
        self.egress.append(route)

    def _interface_endpoints(
        self,
        vpc: aws.ec2.Vpc,
        settings: NetworkSettings,
        private: list[aws.ec2.Subnet],
        zone_names: Sequence[str],
    ) -> None:
        """Each service through an endpoint in every private subnet of a zone that offers it:
        its private DNS name resolves to the endpoint inside the VPC, so the traffic never needs
        NAT. The service's name and zones are AWS's answer (some are `cn.com.amazonaws.…` in
        China; Beanstalk's are not in every zone)."""
        group = aws.ec2.SecurityGroup(
            f"{self.prefix}-endpoints-sg",
            vpc_id=vpc.id,
            description=f"{self.prefix}: interface endpoints, HTTPS from the VPC only",
            opts=self.child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self.prefix}-endpoints-https",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            cidr_ipv4=settings.cidr_block,
            description="HTTPS from the VPC",
            opts=self.child(),
        )
        for service in settings.endpoints:
            found = aws.ec2.get_vpc_endpoint_service_output(
                service=service,
                service_type="Interface",
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            subnet_ids = pulumi.Output.all(
                found.availability_zones, *[s.id for s in private]
            ).apply(lambda values: subnets_offered(values[0], zone_names, values[1:]))
            aws.ec2.VpcEndpoint(
                f"{self.prefix}-{service}-endpoint",
                vpc_id=vpc.id,
                service_name=found.service_name,
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{self.prefix}-{service}"},
                opts=self.child(),
            )

    def _s3_endpoint(
        self,
        vpc: aws.ec2.Vpc,
        private_tables: list[aws.ec2.RouteTable],
        public_table: aws.ec2.RouteTable,
    ) -> None:
        """S3 traffic stays on AWS's network (and costs no NAT processing) from every app subnet."""
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        tables = private_tables + ([public_table] if self.app_in_public_subnets else [])
        aws.ec2.VpcEndpoint(
            f"{self.prefix}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in tables],
            tags={"Name": f"{self.prefix}-s3"},
            opts=self.child(),
        )

    def _flow_logs(self, vpc: aws.ec2.Vpc, retention_days: int) -> None:
        name = self.prefix
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=retention_days, opts=self.child()
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=service_trust_policy(
                FLOW_LOGS_SERVICE, {"StringEquals": {"aws:SourceAccount": account_id(self)}}
            ),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "WriteFlowLogs",
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [group.arn, pulumi.Output.concat(group.arn, ":*")],
                    },
                    {
                        # Flow-log delivery lists the account's log groups (VPC user guide,
                        # "IAM role for publishing flow logs to CloudWatch Logs"); the Service
                        # Authorization Reference gives the action no resource type: only "*".
                        "Sid": "FindLogGroup",
                        "Effect": "Allow",
                        "Action": "logs:DescribeLogGroups",
                        "Resource": "*",
                    },
                ]
            ),
            opts=self.child(),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            opts=self.child(),
        )
