"""`webstack:network:Network`: a VPC fit for production, or an existing one passed through."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from components.iam import account_id, policy_document, service_trust_policy
from components.settings import PRIVATE_SLOT_OFFSET, SUBNET_EXTRA_BITS, NetworkSettings

ANYWHERE = "0.0.0.0/0"
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
# One minute keeps flow records close to real time (the other accepted value is 600 seconds).
FLOW_LOG_AGGREGATION_SECONDS = 60


def subnet_cidrs(cidr_block: str, zones: int) -> tuple[list[str], list[str]]:
    """Public and private CIDRs per zone: fixed 1/16 slots, so adding a zone moves nothing."""
    slots = list(ipaddress.IPv4Network(cidr_block).subnets(prefixlen_diff=SUBNET_EXTRA_BITS))
    public = [str(slots[i]) for i in range(zones)]
    private = [str(slots[PRIVATE_SLOT_OFFSET + i]) for i in range(zones)]
    return public, private


class Network(pulumi.ComponentResource):
    """Public subnets for the load balancer (and, without NAT, the app), private ones for the rest."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    app_subnet_ids: pulumi.Output[list[str]]
    # True when app instances sit in public subnets (no NAT) and need public IPs to reach AWS APIs.
    app_in_public_subnets: bool

    def __init__(
        self, name: str, settings: NetworkSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:network:Network", name, None, opts)
        self._prefix = name
        if settings.bring_your_own:
            self.vpc_id = pulumi.Output.from_input(settings.vpc_id or "")
            self.public_subnet_ids = pulumi.Output.from_input(list(settings.public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(settings.private_subnet_ids))
            self.app_in_public_subnets = False
        else:
            self._build(settings)
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

    def _child(self, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on)

    def _build(self, settings: NetworkSettings) -> None:
        name = self._prefix
        invoke = pulumi.InvokeOutputOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available",
            # Local and Wavelength zones need an opt-in and lack most services.
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=invoke,
        ).names
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=self._child(),
        )
        self.vpc_id = vpc.id
        # Strip every rule from the default security group so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=self._child())
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=self._child()
        )

        public_cidrs, private_cidrs = subnet_cidrs(settings.cidr_block, settings.availability_zones)
        public_table = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=self._child()
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            route_table_id=public_table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=gateway.id,
            opts=self._child(),
        )
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        private_tables: list[aws.ec2.RouteTable] = []
        for index in range(settings.availability_zones):
            zone = zones[index]
            letter = chr(ord("a") + index)
            public = aws.ec2.Subnet(
                f"{name}-public-{letter}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                # Instances that need a public IP ask for one explicitly (Beanstalk does, without NAT).
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{letter}", "tier": "public"},
                opts=self._child(),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{letter}-rta",
                subnet_id=public.id,
                route_table_id=public_table.id,
                opts=self._child(),
            )
            private = aws.ec2.Subnet(
                f"{name}-private-{letter}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{letter}", "tier": "private"},
                opts=self._child(),
            )
            table = aws.ec2.RouteTable(
                f"{name}-private-{letter}-rt",
                vpc_id=vpc.id,
                tags={"Name": f"{name}-private-{letter}"},
                opts=self._child(),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{letter}-rta",
                subnet_id=private.id,
                route_table_id=table.id,
                opts=self._child(),
            )
            public_subnets.append(public)
            private_subnets.append(private)
            private_tables.append(table)

        self._nat_routes(settings, gateway, public_subnets, private_tables)
        self.app_in_public_subnets = settings.nat_gateways == "none"

        region = aws.get_region_output(opts=invoke).region
        endpoint_tables = private_tables + ([public_table] if self.app_in_public_subnets else [])
        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in endpoint_tables],
            tags={"Name": f"{name}-s3"},
            opts=self._child(),
        )
        if settings.flow_logs:
            self._flow_logs(vpc, settings.flow_log_retention_days)

        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])

    def _nat_routes(
        self,
        settings: NetworkSettings,
        gateway: aws.ec2.InternetGateway,
        public_subnets: list[aws.ec2.Subnet],
        private_tables: list[aws.ec2.RouteTable],
    ) -> None:
        """`single`: one NAT for every zone; `perAz`: each zone through its own; `none`: no route out."""
        if settings.nat_gateways == "none":
            return
        count = len(public_subnets) if settings.nat_gateways == "perAz" else 1
        nats: list[aws.ec2.NatGateway] = []
        for index in range(count):
            letter = chr(ord("a") + index)
            eip = aws.ec2.Eip(
                f"{self._prefix}-nat-{letter}-eip",
                domain="vpc",
                tags={"Name": f"{self._prefix}-nat-{letter}"},
                opts=self._child(depends_on=[gateway]),
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{self._prefix}-nat-{letter}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[index].id,
                    tags={"Name": f"{self._prefix}-nat-{letter}"},
                    opts=self._child(depends_on=[gateway]),
                )
            )
        for index, table in enumerate(private_tables):
            letter = chr(ord("a") + index)
            aws.ec2.Route(
                f"{self._prefix}-private-{letter}-default-route",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nats[index % count].id,
                opts=self._child(),
            )

    def _flow_logs(self, vpc: aws.ec2.Vpc, retention_days: int) -> None:
        name = self._prefix
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=retention_days, opts=self._child()
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=service_trust_policy(
                FLOW_LOGS_SERVICE, {"StringEquals": {"aws:SourceAccount": account_id(self)}}
            ),
            opts=self._child(),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [group.arn, pulumi.Output.concat(group.arn, ":*")],
                    }
                ]
            ),
            opts=self._child(),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            opts=self._child(),
        )
